/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the guard's files call across each other. guard_walk.bpf.c walks a request batch
 * and decides (for lsm/netlink_send in guard_request.bpf.c and for the fallback's
 * tracepoints in fallback.bpf.c); guard_resolve.bpf.c finds the devices a request
 * targets and hands each back to mg_check_guarded().
 *
 * These are global BPF functions: the verifier checks each once, on its own, with its
 * arguments as declared (so every pointer argument may be NULL and is checked). Do not
 * mark them static or __hidden: libbpf would turn them into static subprograms, verified
 * again at every call site, with each call's frames counted into the caller's 8.
 */
#ifndef MG_GUARD_BPF_H
#define MG_GUARD_BPF_H

#include "maps.bpf.h"

/* Bounds of the kernel list walks (bpf_loop iterations). */
#define MG_MAX_DEVS       (1u << 16)   /* devices in one netns we are willing to walk */
#define MG_MAX_UPPERS     (1u << 16)   /* upper-list steps in one deletion */
/* Work one send may cost the resolution (guard_resolve.bpf.c): a bucket entry, a device,
 * an upper adjacency, a queued device count one, a name lookup or a whole-name compare
 * four. Past it, requests that still need resolving fail closed. */
#define MG_SEND_BUDGET    16384

/* guard_walk.bpf.c */

/* One link request of the batch at w->msg_off: parse, resolve, decide. */
extern int mg_check_msg(struct mg_walk *w, __u32 len, __u32 type);
/* Is dev guarded? If so, decide, count and report; sets w->refused on a refusal in
 * enforce mode. */
extern int mg_check_guarded(struct mg_walk *w, __u64 dev, __u32 how);
/* A refusal that is not about one guarded link (unreadable or unresolvable request). */
extern int mg_report_unreadable(struct mg_walk *w, __u32 how);

/* guard_resolve.bpf.c */

/* A new send: the resolution budget is whole again (called once per send by the hook). */
extern int mg_resolve_begin(struct mg_walk *w);

/* The device with ifindex w->m.ifindex in the requester's netns, then its uppers. */
extern int mg_resolve_index(struct mg_walk *w);
/* The device named w->req (name or altname), or every device of group w->m.group. */
extern int mg_resolve_walk(struct mg_walk *w, __u32 by_group);

/* guard_request.bpf.c (guard-request): the per-run state of a walk, reset and filled
 * with the requester (netlink send or ioctl); path is MG_PATH_NETLINK or MG_PATH_IOCTL. */
extern int mg_walk_begin(struct mg_walk *w, __u64 net, __u32 path);
/* guard_resolve.bpf.c: every device stacked on dev goes to mg_check_guarded(), as for a
 * deletion of dev (used for identity changes of a device and by the ioctl side). */
extern int mg_check_uppers(struct mg_walk *w, __u64 dev);

/* A free per-CPU walk slot (mg_scratch), or -1: four preempted runs on this CPU. */
static __always_inline int mg_take_slot(struct mg_slots *s)
{
	int i;

#pragma unroll
	for (i = 0; i < MG_SLOTS; i++) {
		if (__sync_val_compare_and_swap(&s->busy[i], 0, 1) == 0)
			return i;
	}
	return -1;
}

#endif /* MG_GUARD_BPF_H */
