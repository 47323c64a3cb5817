// SPDX-License-Identifier: GPL-2.0
/*
 * The guard's verdict on one target: mg_check_guarded() asks the policy (mg_policy.h)
 * about a guarded link, counts, and reports; mg_report_unreadable() refuses what cannot be
 * read while anything is guarded. Called by the resolution (guard_resolve.bpf.c) for every
 * device a request reaches, and by the walk (guard_walk.bpf.c).
 *
 * LSM guard: an allowed delete is not reported here: its verdict waits in mg_pending for
 * the deletion record monitor.bpf.c writes, so one act gives one record. Fallback
 * (w->flag_only): every verdict goes to the ring buffer at once; the agent joins it with
 * the rtnetlink notification of the deletion (agent_fallback.c).
 */
#include "guard.bpf.h"
#include "mg_policy.h"
#include "start_claims.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* ---- verdicts: one guarded link at a time ---- */

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
	e->path = w->path ? w->path : MG_PATH_NETLINK;
	if (w->path == MG_PATH_IOCTL)
		e->err = (__s32)w->ioctl_cmd;
	e->result = verdict == MG_V_DENY ? MG_RES_REFUSED : MG_RES_NONE;
	e->how = (__u8)how;
	e->verdict = verdict;
	e->unenforced = w->flag_only;
}

/* The identity change w's request makes to dev, its direct target, as an MG_ACT_*; 0 when
 * it changes nothing (renaming to the current name and setting the current group are
 * no-ops in the kernel). */
static __always_inline __u8 mg_ident_change(struct mg_walk *w, __u64 dev)
{
	struct net_device *nd = (void *)dev;

	if (w->ident & MG_IDENT_NAME) {
		char cur[MG_IFNAMSIZ] = {};
		int i;

		if (bpf_probe_read_kernel(cur, sizeof(cur), nd->name))
			return MG_ACT_RENAME;    /* unreadable: judge it as a change */
		for (i = 0; i < MG_IFNAMSIZ; i++) {
			if (cur[i] != w->newname[i])
				return MG_ACT_RENAME;
			if (!cur[i])
				break;
		}
	}
	if ((w->ident & MG_IDENT_GROUP) && BPF_CORE_READ(nd, group) != w->m.group)
		return MG_ACT_GROUP;
	if (w->ident & MG_IDENT_ALTNAME)
		return MG_ACT_ALTNAME;
	return 0;
}

/* The device's part of an event: where it lives, its index, name and kind. */
static __always_inline void mg_event_target(struct mg_event *e, struct mg_walk *w, __u64 dev,
					    const struct mg_link_key *key)
{
	const struct rtnl_link_ops *ops = BPF_CORE_READ((struct net_device *)dev, rtnl_link_ops);

	e->link_netns_cookie = key->netns_cookie;
	e->ifindex = key->ifindex;
	e->target_ifindex = w->target_ifindex;
	bpf_probe_read_kernel(e->ifname, sizeof(e->ifname), ((struct net_device *)dev)->name);
	if (ops)
		bpf_probe_read_kernel_str(e->kind, 8, BPF_CORE_READ(ops, kind));
}

/*
 * Is dev guarded (tagged, or untagged but claimed by a domain's start in progress:
 * start_claims.bpf.h)? If so, decide, count and report. Sets w->refused on a refusal in
 * enforce mode. In the fallback (w->flag_only) the mode is audit (nothing can be
 * refused), the verdict goes straight to the ring buffer for the agent to join with the
 * deletion it led to, and a delete's unguarded target gets a sender record (verdict none)
 * for the same join.
 */
__noinline int mg_check_guarded(struct mg_walk *w, __u64 dev, __u32 how)
{
	struct mg_policy_in in = {};
	struct mg_link_key key = {};
	struct mg_event *e, *pv;
	struct mg_claim *claim = NULL;
	struct mg_tag *tag;
	__u32 zero = 0;
	__u32 queues = 0;
	__u8 verdict, reason = MG_R_NONE, action;

	if (!w || !dev)
		return 0;
	action = w->action;
	if (w->ident) {
		if (how != MG_HOW_LOWER) {
			/* the direct target: does its identity really change? */
			action = mg_ident_change(w, dev);
			if (!action)
				return 0;
			w->ident_dev = dev;
			w->ident_action = action;
		} else {
			action = w->ident_action;   /* stacked on a device whose identity changes */
		}
	}
	key.netns_cookie = mg_net_cookie(mg_dev_net(dev));
	key.ifindex = BPF_CORE_READ((struct net_device *)dev, ifindex);
	if (w->flag_only && how != MG_HOW_LOWER)
		w->found++;
	tag = bpf_map_lookup_elem(&mg_guarded, &key);
	if (!tag)
		claim = mg_claim_of(w, dev, (__s32)key.ifindex, key.netns_cookie, &in);
	if (!tag && !claim) {
		if (w->flag_only && how != MG_HOW_LOWER && w->action == MG_ACT_DELETE) {
			e = &w->ev;
			mg_request_event(e, w, MG_V_NONE, how);
			mg_event_target(e, w, dev, &key);
			mg_emit(e);
		}
		return 0;
	}
	in.queues_state = mg_queue_state(dev, &queues);
	if (tag) {
		in.tag_flags = tag->flags;
		in.requester_is_owner = tag->owner_pid == w->tgid &&
					tag->owner_start == w->owner_ticks;
	}
	in.mode = (__u8)w->mode;
	in.unprivileged = w->unpriv;
	verdict = mg_decide(&in, &reason);
	if (reason == MG_R_UNPRIVILEGED) {
		/* the kernel refuses it anyway: no record, no per-link count */
		MG_STAT_INC(unprivileged);
		if (verdict == MG_V_DENY)
			w->refused = 1;
		return 0;
	}
	mg_count(&key, verdict);
	if (verdict == MG_V_DENY)
		w->refused = 1;

	e = &w->ev;
	mg_request_event(e, w, verdict, how);
	e->action = action;
	mg_event_target(e, w, dev, &key);
	e->queues = queues;
	e->reason = reason;
	e->queues_state = in.queues_state;
	if (tag) {
		e->owner_pid = tag->owner_pid;
		__builtin_memcpy(e->domain, tag->domain, sizeof(e->domain));
		__builtin_memcpy(e->uuid, tag->uuid, sizeof(e->uuid));
	} else if (claim) {
		/* no process owns it yet: the domain does (owner pid 0) */
		__builtin_memcpy(e->domain, claim->domain, sizeof(e->domain));
	}
	mg_teardown_attribute(e, w);
	if (w->action == MG_ACT_DELETE && verdict != MG_V_DENY && !w->flag_only) {
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
	if (w->unpriv) {
		/* the kernel refuses this sender's link requests anyway: counted, no record */
		MG_STAT_INC(unprivileged);
		if (verdict == MG_V_DENY)
			w->refused = 1;
		return 0;
	}
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

