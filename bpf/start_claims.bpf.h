/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Creation claims of starting libvirt domains, the kernel side (docs/libvirt.md, "The
 * window at domain start"). `macvguard hook` opens a start window (map mg_start) for the
 * daemon thread that runs a domain's start; guard_start.bpf.c records, for an
 * RTM_NEWLINK with NLM_F_CREATE that thread sends, a claim (map mg_claims: netns +
 * requested name -> the window's domain); here the verdict side (guard_verdict.bpf.c) finds
 * the live claim of an untagged device and fills the policy's inputs. What is live and who
 * may touch it is decided in mg_policy.h (mg_claim_covers, mg_claim_requester_in_window).
 */
#ifndef MG_START_CLAIMS_BPF_H
#define MG_START_CLAIMS_BPF_H

#include "guard.bpf.h"
#include "mg_policy.h"

/* guard_start.bpf.c: record the creation claims of w's batch (after the walk allowed it),
 * when the sending thread has an open start window. */
extern int mg_start_record(struct mg_walk *w, __u32 len);
/* guard_walk.bpf.c: parse the link request at w->msg_off into w->m. */
extern int mg_parse_msg(struct mg_walk *w, __u32 len, __u32 type);

/*
 * The live creation claim naming untagged dev (ifindex, netns cookie), or NULL; fills
 * in->starting and in->requester_in_window. Inline, not a global function: it runs at the
 * bottom of the walk, where the fallback's call chain is at the verifier's 8 frames.
 */
static __always_inline struct mg_claim *mg_claim_of(struct mg_walk *w, __u64 dev, __s32 ifindex,
						    __u64 netns_cookie, struct mg_policy_in *in)
{
	struct mg_claim_key ck = {};
	struct mg_teardown *td;
	struct mg_start *win;
	struct mg_claim *c;
	__u32 k;

	ck.netns_cookie = netns_cookie;
	if (bpf_probe_read_kernel(ck.name, sizeof(ck.name), ((struct net_device *)dev)->name))
		return NULL;
	c = bpf_map_lookup_elem(&mg_claims, &ck);
	if (!c)
		return NULL;
	k = c->tid;
	win = bpf_map_lookup_elem(&mg_start, &k);
	if (!mg_claim_covers(c, win, bpf_ktime_get_boot_ns(), ifindex))
		return NULL;
	k = w->tid;
	td = bpf_map_lookup_elem(&mg_teardown, &k);
	if (!td) {
		k = w->tgid;
		td = bpf_map_lookup_elem(&mg_teardown, &k);
	}
	in->starting = 1;
	in->requester_in_window = (__u8)mg_claim_requester_in_window(c, w->tgid, w->tid, td);
	return c;
}

#endif /* MG_START_CLAIMS_BPF_H */
