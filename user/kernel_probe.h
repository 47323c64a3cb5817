/* What the kernel offers, and triggers that prove a program runs (kernel_probe.c). */
#ifndef MG_KERNEL_PROBE_H
#define MG_KERNEL_PROBE_H

#include <stddef.h>
#include "state.h"

/* BTF, "bpf" in the LSM list, module BTF for macvtap/tun: read, never loaded. */
void mg_features_probe_static(struct mg_features *f);
/* Pins need bpffs on /sys/fs/bpf: mount it when the system did not. 0 or -1 (said). */
int mg_ensure_bpffs(void);
/* Make tracefs reachable for tracepoint attach (mounting it on /sys/kernel/tracing when
 * the system did not); says what in WHAT. 1 = mounted now, 0 = was there, -errno. */
int mg_ensure_tracefs(char *what, size_t len);
/* Send one RTM_GETLINK batch on a NETLINK_ROUTE socket (the guard's liveness trigger). */
int mg_trigger_route_send(void);
/* Create and delete a veth pair (the deletion path's liveness trigger). */
int mg_trigger_link_delete(void);

#endif
