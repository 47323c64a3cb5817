/* Creation -> guarded latency of new links (agent_newlinks.c). */
#ifndef MG_AGENT_NEWLINKS_H
#define MG_AGENT_NEWLINKS_H

#include "agent_state.h"

void agent_newlinks_load(struct agent *a);
void agent_newlinks_note(struct agent *a, uint32_t ifindex, struct nlattr *name);
void agent_newlinks_forget(struct agent *a, uint32_t ifindex);
void agent_newlinks_check(struct agent *a);

#endif
