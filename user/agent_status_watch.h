/* libvirt's status directory, watched (agent_status_watch.c). */
#ifndef MG_AGENT_STATUS_WATCH_H
#define MG_AGENT_STATUS_WATCH_H

#include "agent_state.h"

void agent_status_watch(struct agent *a);
void agent_status_on_inotify(struct agent *a);

#endif
