/* The flag-only join (agent_fallback.c). */
#ifndef MG_AGENT_FALLBACK_H
#define MG_AGENT_FALLBACK_H

#include "agent_state.h"

void agent_fallback_start(struct agent *a, const char *kernel_why);
/* A request record of the fallback (guard ring buffer, unenforced delete). */
void agent_fallback_request(struct agent *a, const struct mg_event *e);
void agent_fallback_expire(struct agent *a, bool all);
/* Per-uid summaries of requests that could not have deleted anything (discard: drop). */
void agent_fallback_flood(struct agent *a, bool discard);
/* Once a second. */
void agent_fallback_tick(struct agent *a);
int agent_fallback_stats(struct agent *a, struct mg_stats *s);
void agent_fallback_stop(struct agent *a);
void agent_links_dump(struct agent *a);
int agent_links_subscribe(struct agent *a);
/* Read the notification socket (netns ids, overflow and resync). */
void agent_links_recv(struct agent *a);

#endif
