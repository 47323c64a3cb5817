/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the guard's two files call across each other. guard_request.bpf.c walks a
 * sendmsg batch and decides; guard_resolve.bpf.c finds the devices a request targets and
 * hands each back to mg_check_guarded().
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

/* guard_request.bpf.c */

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

#endif /* MG_GUARD_BPF_H */
