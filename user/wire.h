/* What the agent sends each `monitor` client over MG_EVENTS_SOCK (SOCK_SEQPACKET, one
 * struct per message; both ends are this binary). */
#ifndef MG_WIRE_H
#define MG_WIRE_H

#include "mg_abi.h"

/* MG_WIRE_BYE: the agent closes this client's stream; `where` says why */
enum { MG_WIRE_EVENT = 1, MG_WIRE_LOST = 2, MG_WIRE_BYE = 3 };
struct mg_wire {
	__u32 kind;
	__u32 pad;
	__u64 lost;            /* MG_WIRE_LOST: how many */
	char  where[32];       /* MG_WIRE_LOST: "kernel ring buffer" / "monitor socket" */
	struct mg_event ev;    /* MG_WIRE_EVENT */
	char  teardown[MG_DOMAIN_LEN]; /* domain whose libvirt teardown sent it, or "" */
};

#endif
