// SPDX-License-Identifier: GPL-2.0
/*
 * Creation claims: a link a libvirt domain's start creates is guarded from the request
 * that creates it (docs/libvirt.md). Called by lsm/netlink_send (guard_request.bpf.c)
 * after the walk allowed the send: when the sending thread has an open start window
 * (mg_start, written by `macvguard hook` at prepare/start begin), every RTM_NEWLINK with
 * NLM_F_CREATE and an IFLA_IFNAME in the batch claims that name in the sender's netns for
 * the window's domain (mg_claims). libvirt chooses macvtap/macvlan names itself and passes
 * them, so the name is known before the device exists.
 *
 * A live claim of another window is never replaced: the second domain whose create of the
 * same name fails with EEXIST must not take the first one's device over. A claim whose
 * window closed, aged out or was replaced is dead and may be.
 */
#include "start_claims.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define MG_NLM_F_CREATE 0x400


/* One RTM_NEWLINK|NLM_F_CREATE at w->msg_off: claim its name (own frame: the parse state
 * is big; the claim reuses its memory, as 6.1 counts 512 bytes of stack over the whole
 * chain lsm/netlink_send -> mg_start_record -> mg_start_step -> here -> mg_attr_step). */
__noinline int mg_start_claim_msg(struct mg_walk *w, __u32 len)
{
	union {
		struct mg_attr_walk aw;
		struct mg_claim c;
	} u = {};
	struct mg_claim_key ck = {};
	struct mg_start *win, *owin;
	struct mg_claim *old;
	__u64 now, net;
	__u32 k;

	if (!w)
		return 0;
	u.aw.src = w->src;
	mg_parse_link(&u.aw, w->msg_off, len, MG_RTM_NEWLINK);
	/* by index it changes an existing device; into another netns it is not created here */
	if (u.aw.m.status != MG_PARSE_OK || !u.aw.m.has_ifname || !u.aw.m.ifname[0] ||
	    u.aw.m.ifindex > 0 || u.aw.m.has_netns || u.aw.m.has_target_netnsid)
		return 0;
	__builtin_memcpy(ck.name, u.aw.m.ifname, sizeof(ck.name));
	k = w->tid;
	win = bpf_map_lookup_elem(&mg_start, &k);
	now = bpf_ktime_get_boot_ns();
	if (!win || win->tgid != w->tgid || win->tid != w->tid || now < win->since_ns ||
	    now - win->since_ns >= MG_START_WINDOW_MAX_NS)
		return 0;
	ck.netns_cookie = w->req_cookie;
	old = bpf_map_lookup_elem(&mg_claims, &ck);
	if (old) {
		k = old->tid;
		owin = bpf_map_lookup_elem(&mg_start, &k);
		if (mg_claim_window_live(old, owin, now))
			return 0;           /* live: its own (a retry) or another domain's */
	}
	__builtin_memset(&u.c, 0, sizeof(u.c));
	__builtin_memcpy(u.c.domain, win->domain, sizeof(u.c.domain));
	u.c.since_ns = now;
	u.c.window_ns = win->since_ns;
	u.c.tgid = w->tgid;
	u.c.tid = w->tid;
	net = w->net;       /* a plain local first: BPF_CORE_READ would relocate w->net too */
	u.c.ifindex_base = BPF_CORE_READ((struct net *)net, ifindex);
	bpf_map_update_elem(&mg_claims, &ck, &u.c, BPF_ANY);
	return 0;
}

static long mg_start_step(__u32 i, void *ctx)
{
	struct mg_walk *w = *(struct mg_walk **)ctx;
	struct mg_msghdr h = {};
	__u32 next = 0;

	if (mg_msg_at(&w->src, w->msg_off, &h, &next) != MG_MSG_OK)
		return 1;
	if (h.type == MG_RTM_NEWLINK && (h.flags & MG_NLM_F_REQUEST) &&
	    (h.flags & MG_NLM_F_CREATE))
		mg_start_claim_msg(w, h.len);
	w->msg_off = next;
	return 0;
}

__noinline int mg_start_record(struct mg_walk *w, __u32 len)
{
	struct mg_walk *wp = w;
	__u32 k, iters;

	if (!w)
		return 0;
	k = w->tid;
	if (!bpf_map_lookup_elem(&mg_start, &k))
		return 0;                   /* the common case: not a starting domain's thread */
	iters = len / MG_NLMSG_HDRLEN + 1;
	if (iters > MG_LOOP_MAX)
		return 0;
	w->msg_off = 0;
	bpf_loop(iters, mg_start_step, &wp, 0);
	return 0;
}
