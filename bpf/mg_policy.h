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

/* A link request (or a send) we could not read to its end, or whose target lives in a
 * netns we cannot resolve: refuse it while anything is guarded (fail closed), allow it
 * otherwise. Nothing earlier in the send, or on the CPU, changes this. */
MG_POLICY_INLINE __u8 mg_decide_unreadable(int anything_guarded, __u8 mode)
{
	return anything_guarded ? mg_refuse(mode) : MG_V_NONE;
}

#endif /* MG_POLICY_H */
