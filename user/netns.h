/* Network namespaces by name (ip netns) and by cookie (the guard's key). */
#ifndef MG_NETNS_H
#define MG_NETNS_H

#include <stddef.h>
#include <stdint.h>

/* Enter netns NAME (/run/netns/NAME, or a path); *saved gets a handle on the current
 * one for mg_netns_leave. */
int mg_netns_enter(const char *name, int *saved);
int mg_netns_leave(int saved);
/* The cookie of the current netns (SO_NETNS_COOKIE, Linux 5.14+). */
int mg_netns_cookie(uint64_t *cookie);
/* The cookie of the netns behind nsfd (entered and left again). */
int mg_netns_fd_cookie(int nsfd, uint64_t *cookie);
/* Name under /run/netns of the netns with this cookie; "" for the agent's own netns;
 * -ENOENT when no named netns has it. */
int mg_netns_name_of(uint64_t cookie, char *name, size_t size);

#endif
