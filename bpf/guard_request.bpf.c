// SPDX-License-Identifier: GPL-2.0
/*
 * The guard's request side: lsm/netlink_send.
 *
 * The hook sees every message a process sends on a NETLINK_ROUTE socket before the kernel
 * acts on it. For each link request in the batch (RTM_DELLINK, and RTM_NEWLINK/SETLINK
 * that rename or move a device) guard_resolve.bpf.c finds the target device the way
 * rtnetlink will, plus every device stacked on it, and hands each to mg_check_guarded()
 * here, which asks the policy (mg_policy.h) about a guarded link, counts and reports.
 * One refusal in enforce mode refuses the whole sendmsg with -EPERM.
 *
 * An allowed delete is not reported here: its verdict waits in mg_pending for the
 * deletion record monitor.bpf.c writes, so one act gives one record.
 *
 * Kernel reads are probe reads with CO-RE offsets; loops are bpf_loop with bounds, and
 * helpers with real work are global functions so the verifier checks each once.
 */
#include "guard.bpf.h"
#include <bpf/bpf_tracing.h>
#include "mg_policy.h"

char LICENSE[] SEC("license") = "GPL";

#define MG_NETLINK_ROUTE  0
#define MG_EPERM          1
#define MG_NS_PER_TICK    10000000ULL  /* NSEC_PER_SEC / USER_HZ (100) */

/* ---- verdicts: one guarded link at a time ---- */

/* enforce or audit, as the agent set it (enforce until it has). */
static __always_inline __u32 mg_mode(void)
{
	__u32 zero = 0;
	struct mg_config *c = bpf_map_lookup_elem(&mg_config, &zero);

	return c ? c->mode : MG_MODE_ENFORCE;
}

/* Is any link tagged at all? (an unreadable request is refused only then) */
static long mg_any_cb(struct bpf_map *map, const void *key, void *value, void *ctx)
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

/* Per-link verdict counters (mg_counts), created on first use. */
static __always_inline void mg_count(const struct mg_link_key *key, __u8 verdict)
{
	struct mg_counts *c = bpf_map_lookup_elem(&mg_counts, key);

	if (!c) {
		struct mg_counts zero = {};

		bpf_map_update_elem(&mg_counts, key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&mg_counts, key);
		if (!c)
			return;
	}
	if (verdict == MG_V_DENY)
		__sync_fetch_and_add(&c->deny, 1);
	else if (verdict == MG_V_AUDIT)
		__sync_fetch_and_add(&c->audit, 1);
	else if (verdict == MG_V_ALLOW)
		__sync_fetch_and_add(&c->allow, 1);
}

/* The request's part of an event: the requester as the hook saw it, and the message. */
static __always_inline void mg_event_requester(struct mg_event *e, struct mg_walk *w)
{
	e->ts_boot_ns = bpf_ktime_get_boot_ns();
	e->req_netns_cookie = w->req_cookie;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = w->tgid;
	e->tid = w->tid;
	e->ppid = (__u32)w->ppid_tgid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->msg_type = w->m.type;
	e->msg_index = w->msg_index;
	e->action = w->action;
	e->mode = (__u8)w->mode;
	__builtin_memcpy(e->req_name, w->req, sizeof(e->req_name));
}

/* Teardown attribution: the domain whose libvirt teardown this thread (or, thread
 * unknown, process) runs, from the windows `macvguard hook` opens in mg_teardown. */
static __always_inline void mg_teardown_attribute(struct mg_event *e, struct mg_walk *w)
{
	__u32 tkey = w->tid;
	struct mg_teardown *td = bpf_map_lookup_elem(&mg_teardown, &tkey);

	if (!td) {
		tkey = w->tgid;
		td = bpf_map_lookup_elem(&mg_teardown, &tkey);
	}
	if (td && td->tgid == w->tgid && (td->tid == 0 || td->tid == w->tid) &&
	    td->until_ns == 0)
		__builtin_memcpy(e->teardown, td->domain, sizeof(e->teardown));
}

/* The common head of a request record: who sent it, and the verdict on it. */
static __always_inline void mg_request_event(struct mg_event *e, struct mg_walk *w, __u8 verdict,
					     __u32 how)
{
	__builtin_memset(e, 0, sizeof(*e));
	mg_current_requester(e);
	mg_event_requester(e, w);
	e->record = MG_REC_REQUEST;
	e->path = MG_PATH_NETLINK;
	e->result = verdict == MG_V_DENY ? MG_RES_REFUSED : MG_RES_NONE;
	e->how = (__u8)how;
	e->verdict = verdict;
}

/*
 * Is dev guarded? If so, decide, count and report. Sets w->refused on a refusal in
 * enforce mode.
 */
__noinline int mg_check_guarded(struct mg_walk *w, __u64 dev, __u32 how)
{
	struct mg_policy_in in = {};
	struct mg_link_key key = {};
	struct mg_event *e, *pv;
	struct mg_tag *tag;
	__u32 zero = 0;
	__u32 queues = 0;
	__u8 verdict, reason = MG_R_NONE;

	if (!w || !dev)
		return 0;
	key.netns_cookie = mg_net_cookie(mg_dev_net(dev));
	key.ifindex = BPF_CORE_READ((struct net_device *)dev, ifindex);
	tag = bpf_map_lookup_elem(&mg_guarded, &key);
	if (!tag)
		return 0;
	in.tag_flags = tag->flags;
	in.queues_state = mg_queue_state(dev, &queues);
	in.requester_is_owner = tag->owner_pid == w->tgid && tag->owner_start == w->owner_ticks;
	in.mode = (__u8)w->mode;
	verdict = mg_decide(&in, &reason);
	mg_count(&key, verdict);
	if (verdict == MG_V_DENY)
		w->refused = 1;

	e = &w->ev;
	mg_request_event(e, w, verdict, how);
	e->link_netns_cookie = key.netns_cookie;
	e->ifindex = key.ifindex;
	e->target_ifindex = w->target_ifindex;
	e->owner_pid = tag->owner_pid;
	e->queues = queues;
	e->reason = reason;
	e->queues_state = in.queues_state;
	bpf_probe_read_kernel(e->ifname, sizeof(e->ifname), ((struct net_device *)dev)->name);
	{
		const struct rtnl_link_ops *ops = BPF_CORE_READ((struct net_device *)dev, rtnl_link_ops);

		if (ops)
			bpf_probe_read_kernel_str(e->kind, 8, BPF_CORE_READ(ops, kind));
	}
	__builtin_memcpy(e->domain, tag->domain, sizeof(e->domain));
	__builtin_memcpy(e->uuid, tag->uuid, sizeof(e->uuid));
	mg_teardown_attribute(e, w);
	if (w->action == MG_ACT_DELETE && verdict != MG_V_DENY) {
		/* Allowed: the deletion record it leads to carries this verdict (one record
		 * per act); fexit/rtnl_dellink reports it if no deletion follows. */
		struct mg_pend_key pk = {};

		pk.netns_cookie = key.netns_cookie;
		pk.ifindex = key.ifindex;
		pk.tid = w->tid;
		pv = bpf_map_lookup_elem(&mg_pendbuf, &zero);
		if (pv) {
			__builtin_memcpy(pv, e, sizeof(*pv));
			if (bpf_map_update_elem(&mg_pending, &pk, pv, BPF_ANY) == 0) {
				__u8 one = 1;

				bpf_map_update_elem(&mg_pending_tids, &pk.tid, &one, BPF_ANY);
				return 0;
			}
		}
	}
	mg_emit(e);
	return 0;
}

/* A refusal that is not about one guarded link (unreadable or unresolvable request). */
__noinline int mg_report_unreadable(struct mg_walk *w, __u32 how)
{
	struct mg_event *e;
	__u8 verdict;

	if (!w)
		return 0;
	verdict = mg_decide_unreadable(mg_anything_guarded(), (__u8)w->mode);
	if (verdict == MG_V_NONE)
		return 0;
	MG_STAT_INC(fail_closed);
	if (verdict == MG_V_DENY)
		w->refused = 1;
	e = bpf_ringbuf_reserve(&mg_events, sizeof(*e), 0);
	if (!e) {
		MG_STAT_INC(events_lost);
		return 0;
	}
	mg_request_event(e, w, verdict, how);
	e->reason = how == MG_HOW_UNRESOLVED ? MG_R_UNRESOLVED : MG_R_UNPARSED;
	e->target_ifindex = w->m.ifindex > 0 ? w->m.ifindex : 0;
	bpf_ringbuf_submit(e, 0);
	MG_STAT_INC(events);
	return 0;
}

/* ---- the batch walk ---- */

/* Parse the link request at w->msg_off into w->m (own frame: the walk state is big). */
__noinline int mg_parse_msg(struct mg_walk *w, __u32 len, __u32 type)
{
	struct mg_attr_walk aw = {};

	if (!w)
		return 0;
	aw.src = w->src;
	mg_parse_link(&aw, w->msg_off, len, (__u16)type);
	__builtin_memcpy(&w->m, &aw.m, sizeof(w->m));
	return 0;
}

/* One link request of the batch. */
__noinline int mg_check_msg(struct mg_walk *w, __u32 len, __u32 type)
{
	if (!w)
		return 0;
	MG_STAT_INC(link_msgs);
	mg_parse_msg(w, len, type);
	if (w->m.status == MG_PARSE_SHORT)
		return 0;                           /* the kernel rejects it: nothing happens */
	__builtin_memset(w->req, 0, sizeof(w->req));
	if (w->m.has_ifname)
		__builtin_memcpy(w->req, w->m.ifname, sizeof(w->m.ifname));
	else if (w->m.has_altname)
		__builtin_memcpy(w->req, w->m.altname, sizeof(w->req));
	w->target_ifindex = 0;

	if (w->m.type == MG_RTM_DELLINK) {
		w->action = MG_ACT_DELETE;
		if (w->m.status != MG_PARSE_OK) {
			w->unreadable = 1;
			mg_report_unreadable(w, MG_HOW_UNPARSED);
			return 0;
		}
		if (w->m.has_target_netnsid) {
			mg_report_unreadable(w, MG_HOW_UNRESOLVED);
			return 0;
		}
		if (w->m.ifindex > 0)
			mg_resolve_index(w);
		else if (w->m.has_ifname || w->m.has_altname)
			mg_resolve_walk(w, 0);
		else if (w->m.has_group)
			mg_resolve_walk(w, 1);
		return 0;
	}

	/* RTM_NEWLINK / RTM_SETLINK: only renames and netns moves matter. */
	if (w->m.status != MG_PARSE_OK) {
		/* Could hide a rename or move; refuse only while something is guarded. */
		w->action = MG_ACT_MOVE;
		mg_report_unreadable(w, MG_HOW_UNPARSED);
		return 0;
	}
	if (mg_link_moves_netns(&w->m))
		w->action = MG_ACT_MOVE;
	else if (mg_link_changes_name(&w->m))
		w->action = MG_ACT_RENAME;
	else
		return 0;
	if (w->m.ifindex > 0) {
		/* The new name is not a lookup key here: resolve by index only. */
		__builtin_memset(w->req, 0, sizeof(w->req));
		if (w->action == MG_ACT_RENAME)
			__builtin_memcpy(w->req, w->m.ifname, sizeof(w->m.ifname));
		mg_resolve_index(w);
	} else if (w->m.has_ifname || w->m.has_altname) {
		mg_resolve_walk(w, 0);
	} else if (w->m.has_group && w->action == MG_ACT_MOVE) {
		/* rtnl_group_changelink: every device of the group moves */
		mg_resolve_walk(w, 1);
	}
	return 0;
}

static long mg_msg_step(__u32 i, void *ctx)
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

SEC("lsm/netlink_send")
int BPF_PROG(mg_netlink_send, struct sock *sk, struct sk_buff *skb, int ret)
{
	struct task_struct *task;
	struct mg_slots *slots;
	struct mg_walk *w;
	__u32 zero = 0, slot_key;
	__u64 pid_tgid;
	int slot, verdict = 0;
	__u32 len;

	if (ret)
		return ret;
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

	w->src.base = (__u64)skb->data;
	w->src.len = len;
	w->msg_off = 0;
	w->refused = 0;
	w->unreadable = 0;
	mg_resolve_begin(w);
	w->mode = mg_mode();
	w->net = (__u64)BPF_CORE_READ(sk, __sk_common.skc_net.net);
	w->req_cookie = mg_net_cookie(w->net);
	pid_tgid = bpf_get_current_pid_tgid();
	w->tgid = pid_tgid >> 32;
	w->tid = (__u32)pid_tgid;
	task = (struct task_struct *)bpf_get_current_task();
	w->owner_ticks = BPF_CORE_READ(task, group_leader, start_boottime) / MG_NS_PER_TICK;
	w->ppid_tgid = BPF_CORE_READ(task, real_parent, tgid);

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
	if (w->unreadable && !w->refused && w->m.type == 0)
		mg_report_unreadable(w, MG_HOW_UNPARSED);
	if (w->refused)
		verdict = -MG_EPERM;
out:
	__sync_lock_test_and_set(&slots->busy[slot & (MG_SLOTS - 1)], 0);
	return verdict;
}
