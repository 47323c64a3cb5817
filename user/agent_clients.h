/* The event stream to `monitor` clients (agent_clients.c). */
#ifndef MG_AGENT_CLIENTS_H
#define MG_AGENT_CLIENTS_H

#include "agent_state.h"

int agent_clients_open(struct agent *a);
void agent_clients_accept(struct agent *a);
void agent_clients_flush(struct agent *a);
void agent_clients_forward(struct agent *a, const struct mg_wire *w);
void agent_clients_reap(struct agent *a, const struct pollfd *pfd);   /* MAX_CLIENTS */
void agent_clients_close(struct agent *a);

#endif
