// SPDX-License-Identifier: GPL-2.0
/*
 * Creation claims: a link a libvirt domain's start creates is guarded from the request
 * that creates it (docs/libvirt.md). Called by lsm/netlink_send (guard_request.bpf.c)
 * after the walk allowed the send: when the sending thread has an open start window
 * (mg_start, written by `macvguard hook` at prepare/start begin), every RTM_NEWLINK with
 * NLM_F_CREATE and an IFLA_IFNAME among the first messages of the send claims that name in the sender's netns for
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

/* 6.6+ hands out indexes from an xarray and net->ifindex is the next one to try; before,
 * net->ifindex is the last one handed out. */
struct net___mg_xa {
	struct xarray dev_by_index;
} __attribute__((preserve_access_index));


/* Claim the name of the creation parsed into w->m (own frame, small: 6.1 counts 512
 * bytes of stack over the whole call chain). */
__noinline int mg_start_claim_msg(struct mg_walk *w)
{
	struct mg_claim_key ck = {};
	struct mg_start *win, *owin;
	struct mg_claim c = {}, *old;
	__u64 now, net;
	__u32 k;

	if (!w)
		return 0;
	/* by index it changes an existing device; into another netns it is not created here */
	if (w->m.status != MG_PARSE_OK || !w->m.has_ifname || !w->m.ifname[0] ||
	    w->m.ifindex > 0 || w->m.has_netns || w->m.has_target_netnsid)
		return 0;
	__builtin_memcpy(ck.name, w->m.ifname, sizeof(ck.name));
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
	__builtin_memcpy(c.domain, win->domain, sizeof(c.domain));
	c.since_ns = now;
	c.window_ns = win->since_ns;
	c.tgid = w->tgid;
	c.tid = w->tid;
	net = w->net;       /* a plain local first: BPF_CORE_READ would relocate w->net too */
	c.ifindex_base = BPF_CORE_READ((struct net *)net, ifindex);
	if (!bpf_core_field_exists(((struct net___mg_xa *)net)->dev_by_index))
		c.ifindex_base++;   /* 6.1: the next device gets a higher index than the last */
	bpf_map_update_elem(&mg_claims, &ck, &c, BPF_ANY);
	return 0;
}

/* The first MG_START_MSGS messages of the send (libvirt sends one RTM_NEWLINK per send; a
 * creation further into a batch is left unclaimed, i.e. as unguarded as before). An
 * unrolled loop, not bpf_loop: no callback for 6.1's verifier to get wrong. */
#define MG_START_MSGS 4

__noinline int mg_start_record(struct mg_walk *w, __u32 len)
{
	struct mg_msghdr h;
	__u32 k, off = 0, next;
	int i;

	if (!w)
		return 0;
	k = w->tid;
	if (!bpf_map_lookup_elem(&mg_start, &k))
		return 0;                   /* the common case: not a starting domain's thread */
#pragma unroll
	for (i = 0; i < MG_START_MSGS; i++) {
		__builtin_memset(&h, 0, sizeof(h));
		next = 0;
		if (mg_msg_at(&w->src, off, &h, &next) != MG_MSG_OK)
			break;
		if (h.type == MG_RTM_NEWLINK && (h.flags & MG_NLM_F_REQUEST) &&
		    (h.flags & MG_NLM_F_CREATE)) {
			/* parsed into w->m (map memory) by the walk's own parser: the walk
			 * is over, nothing reads w->m after this */
			w->msg_off = off;
			mg_parse_msg(w, h.len, h.type);
			mg_start_claim_msg(w);
		}
		off = next;
	}
	return 0;
}
