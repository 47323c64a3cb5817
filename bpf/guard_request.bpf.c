// SPDX-License-Identifier: GPL-2.0
/*
 * The guard's request side: lsm/netlink_send, or fmod_ret/security_netlink_send where BPF
 * LSM is not active ("bpf" not in lsm=). Both programs are thin wrappers around one inlined
 * check; user space loads only one of them (user/state.c).
 *
 * The hook sees every message a process sends on a NETLINK_ROUTE socket before the kernel
 * acts on it. The batch walk, target resolution and verdicts are shared with the fallback
 * (guard_walk.bpf.c, guard_resolve.bpf.c); this file is the hook: the fast path, a
 * per-CPU slot for the walk state, and -EPERM when any verdict in enforce mode refused
 * (one refusal refuses the whole sendmsg).
 *
 * Kernel reads are probe reads with CO-RE offsets; loops are bpf_loop with bounds, and
 * helpers with real work are global functions so the verifier checks each once.
 */
#include "guard_walk.bpf.h"
#include "start_claims.bpf.h"
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define MG_NETLINK_ROUTE  0
#define MG_EPERM          1

/* One send: 0 or -EPERM. Inlined: a global function takes no BTF pointer (6.1). */
static __always_inline int mg_netlink_send_check(struct sock *sk, struct sk_buff *skb)
{
	struct mg_slots *slots;
	struct mg_walk *w;
	__u32 zero = 0, slot_key;
	int slot, verdict = 0;
	__u32 len;

	/* BTF-typed arguments: direct (inlined, CO-RE relocated) loads, no helper calls on
	 * the path every netlink sender pays for. */
	if (sk->sk_protocol != MG_NETLINK_ROUTE)
		return 0;
	/* Fast path: most sends are one request that is not a link change (dumps, address
	 * and route updates). Decide those from the first header alone. */
	len = skb->len;
	{
		struct mg_src src = { .base = (__u64)skb->data, .len = len };
		struct mg_msghdr h = {};
		__u32 next = 0;
		int st = mg_msg_at(&src, 0, &h, &next);

		if (st == MG_MSG_END)
			return 0;
		if (st == MG_MSG_OK && next >= len && !mg_is_link_request(&h))
			return 0;
	}
	/* Past the fast path: counted (the agent's liveness probe sends a two-message batch
	 * to land here). */
	{
		struct mg_stats *st = mg_stats_get();
		if (st)
			st->route_sends++;   /* per-CPU: no atomic needed */
	}

	slots = bpf_map_lookup_elem(&mg_slot_busy, &zero);
	if (!slots)
		return 0;
	slot = mg_take_slot(slots);
	if (slot < 0) {
		/* Four preempted runs on this CPU: nowhere to work. Treat as unreadable. */
		MG_STAT_INC(fail_closed);
		return mg_anything_guarded() && mg_mode() == MG_MODE_ENFORCE ? -MG_EPERM : 0;
	}
	slot_key = (__u32)slot;
	w = bpf_map_lookup_elem(&mg_scratch, &slot_key);
	if (!w)
		goto out;

	mg_walk_begin(w, (__u64)BPF_CORE_READ(sk, __sk_common.skc_net.net), MG_PATH_NETLINK);
	w->src.base = (__u64)skb->data;
	w->src.len = len;
	mg_walk_batch(w, len);       /* >= 128 MiB: more messages than bpf_loop walks: unreadable */
	mg_walk_finish(w);
	if (w->refused)
		verdict = -MG_EPERM;
	else if (!w->unreadable)
		mg_start_record(w, len);     /* a starting domain's creations: claimed */
out:
	__sync_lock_test_and_set(&slots->busy[slot & (MG_SLOTS - 1)], 0);
	return verdict;
}

SEC("lsm/netlink_send")
int BPF_PROG(mg_netlink_send, struct sock *sk, struct sk_buff *skb, int ret)
{
	if (ret)
		return ret;
	return mg_netlink_send_check(sk, skb);
}

/* The same check on the entry of security_netlink_send: the verifier takes modify-return
 * on any security_* function, whatever lsm= says; a non-zero return skips the function
 * (and the LSMs it would call). ret is what an earlier fmod_ret program returned. */
SEC("fmod_ret/security_netlink_send")
int BPF_PROG(mg_netlink_send_fmodret, struct sock *sk, struct sk_buff *skb, int ret)
{
	if (ret)
		return ret;
	return mg_netlink_send_check(sk, skb);
}
