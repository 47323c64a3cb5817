/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The batch loop of a request walk (guard_walk.bpf.c), for the programs that start one:
 * lsm/netlink_send (guard_request.bpf.c) and the fallback's tracepoints (fallback.bpf.c).
 * A bpf_loop callback is a static function of the file that uses it, so it lives here;
 * what it calls (mg_check_msg) is in guard_walk.bpf.c. The slot helper is in guard.bpf.h.
 */
#ifndef MG_GUARD_WALK_BPF_H
#define MG_GUARD_WALK_BPF_H

#include "guard.bpf.h"

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
		/* refused, or the send's resolution budget is spent (already failed closed) */
		if (w->refused || w->rs_over)
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

/* After the walk: the rest of the send could not be read and may hold link requests.
 * Fail closed while anything is guarded, whatever came before in this send or on this CPU
 * (the report must not look like the last message read). */
static __always_inline void mg_walk_finish(struct mg_walk *w)
{
	if (!w->unreadable || w->refused)
		return;
	__builtin_memset(&w->m, 0, sizeof(w->m));
	__builtin_memset(w->req, 0, sizeof(w->req));
	w->action = 0;
	w->ident = 0;
	w->msg_index = 0;
	mg_report_unreadable(w, MG_HOW_UNPARSED);
}

#endif /* MG_GUARD_WALK_BPF_H */
