/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The guard's policy: the one place that turns facts about a guarded link and a request
 * into a verdict. Compiled into the BPF program and into the host unit tests.
 *
 * A guarded link (tagged by the agent) that is IN USE — a queue held open (read from the
 * kernel at decision time) and its owner process alive — may not be deleted, renamed or
 * moved to another netns by anyone but its owner, unless it was released. Nor may its
 * identity change (name, altnames, group), nor that of a device it is stacked on: the
 * guard judges a batch against the state before the send, so a later message of the same
 * send must not be able to find it under an identity the guard did not see.
 *
 * A link with no tag yet, created by a libvirt domain's start that is still in progress
 * (a creation claim of the domain's start window), belongs to that domain: only the
 * domain's own start or teardown (the daemon thread running it) may delete, rename or
 * move it; any other requester is refused whatever the queues say (libvirt holds them,
 * QEMU does not exist yet).
 */
#ifndef MG_POLICY_H
#define MG_POLICY_H

#include "mg_abi.h"
#include "mg_nlparse.h"

#ifdef __bpf__
#define MG_POLICY_INLINE static __always_inline
#else
#define MG_POLICY_INLINE static inline
#endif

struct mg_policy_in {
	__u32 tag_flags;          /* MG_TAG_* */
	__u8  queues_state;       /* enum mg_queues_state */
	__u8  requester_is_owner;
	__u8  mode;               /* enum mg_mode */
	__u8  unprivileged;       /* the sender lacks CAP_NET_ADMIN where the kernel checks it */
	__u8  starting;           /* no tag: a live creation claim of a starting domain names it */
	__u8  requester_in_window; /* (starting) the requesting thread runs that domain's start
	                           * window or teardown window */
};

/* Identity changes of one request (mg_request_action). */
#define MG_IDENT_NAME     (1u << 0)
#define MG_IDENT_GROUP    (1u << 1)
#define MG_IDENT_ALTNAME  (1u << 2)

/*
 * What a link request does to the device it targets, as rtnetlink dispatches it:
 * MG_ACT_* or 0 (nothing the guard judges). *ident gets the MG_IDENT_* it may change.
 *
 * rtnetlink picks a handler by (ifi_family, type) and falls back to PF_UNSPEC's when the
 * family has none. PF_BRIDGE has its own RTM_DELLINK and RTM_SETLINK (rtnl_bridge_dellink
 * and _setlink: a port's VLAN entries and flags), which never delete, rename or move a
 * device; every other family's RTM_DELLINK is rtnl_dellink. RTM_NEWLINK has no PF_BRIDGE
 * handler, and RTM_{NEW,DEL}LINKPROP exist for PF_UNSPEC only.
 */
MG_POLICY_INLINE __u8 mg_request_action(const struct mg_linkmsg *m, __u8 *ident)
{
	*ident = 0;
	switch (m->type) {
	case MG_RTM_DELLINK:
		return m->family == MG_AF_BRIDGE ? 0 : MG_ACT_DELETE;
	case MG_RTM_NEWLINKPROP:
	case MG_RTM_DELLINKPROP:
		*ident = MG_IDENT_ALTNAME;
		return MG_ACT_ALTNAME;
	case MG_RTM_SETLINK:
		if (m->family == MG_AF_BRIDGE)
			return 0;
		/* fall through */
	case MG_RTM_NEWLINK:
		if (mg_link_moves_netns(m))
			return MG_ACT_MOVE;
		if (mg_link_changes_name(m))
			*ident |= MG_IDENT_NAME;
		/* IFLA_GROUP sets the group of a device named by index or name; with neither,
		 * it selects the devices (rtnl_group_changelink) and changes no group. */
		if (m->has_group && (m->ifindex > 0 || m->has_ifname || m->has_altname))
			*ident |= MG_IDENT_GROUP;
		if (*ident & MG_IDENT_GROUP)
			return MG_ACT_GROUP;
		return *ident ? MG_ACT_RENAME : 0;
	default:
		return 0;
	}
}

/* A refusal in the current mode: deny when enforcing, flag when auditing. */
MG_POLICY_INLINE __u8 mg_refuse(__u8 mode)
{
	return mode == MG_MODE_AUDIT ? MG_V_AUDIT : MG_V_DENY;
}

MG_POLICY_INLINE __u8 mg_decide(const struct mg_policy_in *in, __u8 *reason)
{
	/* Without CAP_NET_ADMIN the kernel refuses the request itself: refused all the same,
	 * but the caller keeps no record (anyone could make them at will), only a count. */
	if (in->unprivileged) {
		*reason = MG_R_UNPRIVILEGED;
		return mg_refuse(in->mode);
	}
	if (in->starting) {
		/* owned by a domain whose start is in progress: its own start (failing or
		 * not) and its own teardown may remove it, nobody else */
		if (in->requester_in_window) {
			*reason = MG_R_OWNER;
			return MG_V_ALLOW;
		}
		*reason = MG_R_STARTING;
		return mg_refuse(in->mode);
	}
	if (in->tag_flags & MG_TAG_RELEASED) {
		*reason = MG_R_RELEASED;
		return MG_V_ALLOW;
	}
	if (in->requester_is_owner) {
		*reason = MG_R_OWNER;
		return MG_V_ALLOW;
	}
	if (in->tag_flags & MG_TAG_OWNER_GONE) {
		*reason = MG_R_OWNER_GONE;
		return MG_V_ALLOW;
	}
	if (in->queues_state == MG_Q_NONE) {
		*reason = MG_R_NOT_IN_USE;
		return MG_V_ALLOW;
	}
	/* Queues held, or a kind whose queues we cannot read (plain macvlan, or the module's
	 * BTF is missing): in use while the owner lives. */
	*reason = MG_R_IN_USE;
	return mg_refuse(in->mode);
}

/* ---- start windows and creation claims: the inputs `starting`/`requester_in_window` ---- */

/* Is win (the mg_start entry at c->tid, or NULL) still the window that made claim c, open
 * and younger than MG_START_WINDOW_MAX_NS at now (CLOCK_BOOTTIME)? A window that closed,
 * aged out or was replaced by a later start on the same thread takes its claims with it. */
MG_POLICY_INLINE int mg_claim_window_live(const struct mg_claim *c, const struct mg_start *win,
					  __u64 now)
{
	if (!c || !win)
		return 0;
	if (win->tgid != c->tgid || win->tid != c->tid || win->since_ns != c->window_ns)
		return 0;
	return now >= win->since_ns && now - win->since_ns < MG_START_WINDOW_MAX_NS;
}

/* Does live claim c name the device with this ifindex? Only a device created at or after
 * the request (its index at or above the index the netns would hand out next, recorded
 * with the claim): an older device of that name (the one the create collided with) is not
 * the claimer's. */
MG_POLICY_INLINE int mg_claim_covers(const struct mg_claim *c, const struct mg_start *win,
				     __u64 now, __s32 dev_ifindex)
{
	return mg_claim_window_live(c, win, now) && dev_ifindex >= c->ifindex_base;
}

MG_POLICY_INLINE int mg_same_domain(const char *a, const char *b)
{
	int i;

	for (i = 0; i < MG_DOMAIN_LEN; i++) {
		if (a[i] != b[i])
			return 0;
		if (!a[i])
			return 1;
	}
	return 1;
}

/* Does the requesting thread (tgid, tid) run claim c's domain: its start window (the
 * thread that made the claim), or an open teardown window of that domain (td: the
 * mg_teardown entry of the thread, or NULL)? libvirt cleans up a failed start on the
 * starting thread, after the `stopped` hook; `virsh destroy` tears down on another. */
MG_POLICY_INLINE int mg_claim_requester_in_window(const struct mg_claim *c, __u32 tgid, __u32 tid,
						  const struct mg_teardown *td)
{
	if (c->tgid == tgid && c->tid == tid)
		return 1;
	return td && td->until_ns == 0 && td->tgid == tgid && (td->tid == 0 || td->tid == tid) &&
	       mg_same_domain(td->domain, c->domain);
}

/* A link request (or a send) we could not read to its end, or whose target lives in a
 * netns we cannot resolve: refuse it while anything is guarded (fail closed), allow it
 * otherwise. Nothing earlier in the send, or on the CPU, changes this. */
MG_POLICY_INLINE __u8 mg_decide_unreadable(int anything_guarded, __u8 mode)
{
	return anything_guarded ? mg_refuse(mode) : MG_V_NONE;
}

#endif /* MG_POLICY_H */
