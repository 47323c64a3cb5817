/* The flag-only join (agent_fallback.c). */
#ifndef MG_AGENT_FALLBACK_H
#define MG_AGENT_FALLBACK_H

#include "agent_state.h"

void agent_fallback_start(struct agent *a, const char *kernel_why);
void agent_fallback_expire(struct agent *a, bool all);
void agent_fallback_check_lost(struct agent *a);
int agent_fallback_stats(struct agent *a, struct mg_stats *s);
void agent_fallback_stop(struct agent *a);
void agent_links_dump(struct agent *a);
int agent_links_subscribe(struct agent *a);

#endif
