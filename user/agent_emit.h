/* Where every event the agent sees goes (agent_emit.c). */
#ifndef MG_AGENT_EMIT_H
#define MG_AGENT_EMIT_H

#include "agent_state.h"

void agent_log(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void agent_emit(struct agent *a, const struct mg_event *e);
void agent_emit_lost(struct agent *a, unsigned long long n, const char *where);
/* Reports the batch (stdout, clients), after one fdatasync when it holds a deny. The poll
 * loop calls it once per pass and before the agent stops. */
void agent_emit_flush(struct agent *a);

#endif
