/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The guard's policy: the one place that turns facts about a guarded link and a request
 * into a verdict. Compiled into the BPF program and into the host unit tests.
 *
 * A guarded link (tagged by the agent) that is IN USE — a queue held open (read from the
 * kernel at decision time) and its owner process alive — may not be deleted, renamed or
 * moved to another netns by anyone but its owner, unless it was released.
 */
#ifndef MG_POLICY_H
#define MG_POLICY_H

#include "mg_abi.h"

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
	__u8  pad;
};

/* A refusal in the current mode: deny when enforcing, flag when auditing. */
MG_POLICY_INLINE __u8 mg_refuse(__u8 mode)
{
	return mode == MG_MODE_AUDIT ? MG_V_AUDIT : MG_V_DENY;
}

MG_POLICY_INLINE __u8 mg_decide(const struct mg_policy_in *in, __u8 *reason)
{
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

/* A DELLINK we could not read to its end, or whose target lives in a netns we cannot
 * resolve: refuse it while anything is guarded (fail closed), allow it otherwise. */
MG_POLICY_INLINE __u8 mg_decide_unreadable(int anything_guarded, __u8 mode)
{
	return anything_guarded ? mg_refuse(mode) : MG_V_NONE;
}

#endif /* MG_POLICY_H */
