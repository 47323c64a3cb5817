// SPDX-License-Identifier: GPL-2.0
/*
 * The guard's walk of one request batch, shared by the two programs that judge requests:
 * lsm/netlink_send (guard_request.bpf.c, in the guard object) and the fallback's syscall
 * tracepoints (fallback.bpf.c, in the fallback object); also the start of every walk
 * (mg_walk_begin, used by the ioctl side too). Both objects link this file,
 * guard_resolve.bpf.c and guard_verdict.bpf.c, so a request is parsed (mg_nlparse.h),
 * resolved and decided (mg_policy.h) the same way whether the guard can refuse it or only
 * flag it.
 *
 * For each link request in the batch (what it does: mg_request_action() in mg_policy.h —
 * deletions, renames, netns moves, group and altname changes) guard_resolve.bpf.c finds
 * the target device the way rtnetlink will, plus every device stacked on it, and hands
 * each to mg_check_guarded() (guard_verdict.bpf.c). The batch is judged against the state
 * before the send: that is why an identity change of a guarded link, or of a device it is
 * stacked on, is refused too.
 */
#include "guard_walk.bpf.h"
#include "mg_policy.h"

char LICENSE[] SEC("license") = "GPL";

/* ---- the start of a walk ---- */

/* CAP_NET_ADMIN of the current task in the user namespace owning net, as cap_capable()
 * decides it: 1 when the kernel will surely refuse (rtnetlink and the device ioctls check
 * it for the current task), 0 when it may not or a read failed. */
static __always_inline int mg_lacks_net_admin(__u64 net)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct cred *cred = BPF_CORE_READ(task, cred);
	struct user_namespace *cred_ns, *ns;
	__u32 caps = 0, euid, cred_level;
	int i;

	if (!cred || !net)
		return 0;
	cred_ns = BPF_CORE_READ(cred, user_ns);
	ns = BPF_CORE_READ((struct net *)net, user_ns);
	if (!cred_ns || !ns)
		return 0;
	/* kernel_cap_t is u32[2] before 6.3 and a u64 since: the low 32 bits come first
	 * either way (x86_64), and CAP_NET_ADMIN (12) is among them */
	if (bpf_core_read(&caps, sizeof(caps), &cred->cap_effective))
		return 0;
	euid = BPF_CORE_READ(cred, euid.val);
	cred_level = BPF_CORE_READ(cred_ns, level);
	for (i = 0; i < 34; i++) {      /* user namespaces nest 32 deep at most */
		struct user_namespace *parent;

		if (ns == cred_ns)
			return !(caps & (1u << 12));
		if (BPF_CORE_READ(ns, level) <= cred_level)
			return 1;
		parent = BPF_CORE_READ(ns, parent);
		/* the owner of a child namespace has every capability in it */
		if (parent == cred_ns && BPF_CORE_READ(ns, owner.val) == euid)
			return 0;
		if (!parent)
			return 0;
		ns = parent;
	}
	return 0;
}

/*
 * A fresh walk: nothing of an earlier run on this CPU survives into this one (the slot is
 * per-CPU map memory). Then the requester as the hook sees it.
 */
__noinline int mg_walk_begin(struct mg_walk *w, __u64 net, __u32 path)
{
	struct task_struct *task;
	__u64 pid_tgid;

	if (!w)
		return 0;
	__builtin_memset(&w->m, 0, sizeof(w->m));
	__builtin_memset(w->req, 0, sizeof(w->req));
	__builtin_memset(w->newname, 0, sizeof(w->newname));
	w->msg_off = 0;
	w->msg_index = 0;
	w->action = 0;
	w->refused = 0;
	w->unreadable = 0;
	w->how = 0;
	w->target_ifindex = 0;
	w->ident = 0;
	w->ident_action = 0;
	w->ident_dev = 0;
	w->ioctl_cmd = 0;
	w->path = (__u8)path;
	w->mode = mg_mode();
	w->net = net;
	w->req_cookie = mg_net_cookie(net);
	pid_tgid = bpf_get_current_pid_tgid();
	w->tgid = pid_tgid >> 32;
	w->tid = (__u32)pid_tgid;
	task = (struct task_struct *)bpf_get_current_task();
	w->owner_ticks = BPF_CORE_READ(task, group_leader, start_boottime) / MG_NS_PER_TICK;
	w->ppid_tgid = BPF_CORE_READ(task, real_parent, tgid);
	w->unpriv = (__u8)mg_lacks_net_admin(net);
	mg_resolve_begin(w);         /* the send's resolution budget is whole again */
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
	__u8 ident = 0;

	if (!w)
		return 0;
	MG_STAT_INC(link_msgs);
	mg_parse_msg(w, len, type);
	if (w->m.status == MG_PARSE_SHORT)
		return 0;                           /* the kernel rejects it: nothing happens */
	w->target_ifindex = 0;
	w->ident = 0;
	w->ident_dev = 0;
	w->ident_action = 0;
	__builtin_memset(w->req, 0, sizeof(w->req));
	w->action = mg_request_action(&w->m, &ident);
	if (w->m.status != MG_PARSE_OK) {
		/* Could hide any change: refuse while something is guarded. A bridge-family
		 * DELLINK/SETLINK (family read, action 0) changes no device. */
		if (!w->action && w->m.family == MG_AF_BRIDGE)
			return 0;
		if (!w->action || w->action == MG_ACT_RENAME || w->action == MG_ACT_GROUP)
			w->action = MG_ACT_MOVE;    /* the unread attributes may move it */
		mg_report_unreadable(w, MG_HOW_UNPARSED);
		return 0;
	}
	if (!w->action)
		return 0;
	/* requested_name: the name rtnetlink looks the target up by; none when by index. */
	if (w->m.ifindex <= 0) {
		if (w->m.has_ifname)
			__builtin_memcpy(w->req, w->m.ifname, sizeof(w->m.ifname));
		else if (w->m.has_altname)
			__builtin_memcpy(w->req, w->m.altname, sizeof(w->req));
	}
	if (ident) {
		/* An identity change is judged in mg_check_guarded() (mg_ident_change), and the
		 * resolver must not treat it as a plain rename: it runs as a group change. */
		w->ident = ident;
		__builtin_memcpy(w->newname, w->m.ifname, sizeof(w->newname));
		w->action = MG_ACT_GROUP;
	}

	if (w->action == MG_ACT_DELETE && !w->m.has_target_netnsid)
		w->dels++;                          /* fallback: readable deletes, for its summary */
	if (w->m.type == MG_RTM_DELLINK && w->m.has_target_netnsid) {
		mg_report_unreadable(w, MG_HOW_UNRESOLVED);
		return 0;
	}
	if (w->m.ifindex > 0)
		mg_resolve_index(w);
	else if (w->m.has_ifname || w->m.has_altname)
		mg_resolve_walk(w, 0);
	else if (w->m.has_group && (w->action == MG_ACT_DELETE || w->action == MG_ACT_MOVE))
		mg_resolve_walk(w, 1);              /* group delete, rtnl_group_changelink */
	/* A device whose identity changes could be deleted under the new one by a later
	 * message of this send: what it would take with it is judged now. */
	if (w->ident && w->ident_dev && !w->refused)
		mg_check_uppers(w, w->ident_dev);
	return 0;
}
