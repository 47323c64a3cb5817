/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The batch loop of a request walk, for the programs that start one: lsm/netlink_send
 * (guard_request.bpf.c) and the fallback's tracepoints (fallback.bpf.c), and the inline
 * helpers guard_walk.bpf.c shares with them (the slot helper is in guard.bpf.h). A bpf_loop callback is a static function of
 * the file that uses it, so it lives here; what it calls (mg_check_msg) is in
 * guard_walk.bpf.c.
 */
#ifndef MG_WALK_BPF_H
#define MG_WALK_BPF_H

#include "guard.bpf.h"

/* Is any link tagged at all? (an unreadable request is refused only then). Inline, not a
 * global function: it is called at the deepest point of the walk, where one more frame
 * would pass the verifier's 8. */
static __attribute__((unused)) long mg_any_cb(struct bpf_map *map, const void *key, void *value,
					      void *ctx)
{
	*(int *)ctx = 1;
	return 1;
}

static __always_inline int mg_anything_guarded(void)
{
	int found = 0;

	bpf_for_each_map_elem(&mg_guarded, mg_any_cb, &found, 0);
	return found;
}

#define MG_NS_PER_TICK    10000000ULL  /* NSEC_PER_SEC / USER_HZ (100) */

/* enforce or audit, as the agent set it (enforce until it has). */
static __always_inline __u32 mg_mode(void)
{
	__u32 zero = 0;
	struct mg_config *c = bpf_map_lookup_elem(&mg_config, &zero);

	return c ? c->mode : MG_MODE_ENFORCE;
}

static __attribute__((unused)) long mg_msg_step(__u32 i, void *ctx)
{
	struct mg_walk *w = *(struct mg_walk **)ctx;
	struct mg_msghdr h = {};
	__u32 next = 0;
	int st;

	st = mg_msg_at(&w->src, w->msg_off, &h, &next);
	if (st == MG_MSG_END)
		return 1;
	if (st == MG_MSG_ERR) {
		w->unreadable = 1;
		return 1;
	}
	if (mg_is_link_request(&h)) {
		w->msg_index = (__u16)i;
		mg_check_msg(w, h.len, h.type);
		if (w->refused)
			return 1;
	}
	w->msg_off = next;
	return 0;
}

/* Walk every message of w->src from w->msg_off; sets w->unreadable when the batch could
 * not be read to its end. */
static __always_inline void mg_walk_batch(struct mg_walk *w, __u32 len)
{
	struct mg_walk *wp = w;
	__u32 iters = len / MG_NLMSG_HDRLEN + 1;
	long n;

	if (iters > MG_LOOP_MAX) {
		w->unreadable = 1;
	} else {
		n = bpf_loop(iters, mg_msg_step, &wp, 0);
		if (n >= iters && w->msg_off < len && !w->refused)
			w->unreadable = 1;
	}
}

#endif /* MG_WALK_BPF_H */
