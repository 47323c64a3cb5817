/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by every BPF object of macvguard: the guard (guard_request.bpf.c,
 * guard_resolve.bpf.c), the deletion monitor (monitor.bpf.c) and the fallback
 * (fallback.bpf.c). Statistics and ring-buffer output take their maps as arguments, so
 * the fallback, which has maps of its own, uses the same code as the guard (maps.bpf.h
 * binds them to the guard's maps).
 *
 * Everything here is static __always_inline: a map argument becomes a constant at each
 * call site, and no helper becomes a BPF function (or verifier frame) of its own.
 */
#ifndef MG_HELPERS_BPF_H
#define MG_HELPERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "mg_abi.h"

#define MG_NETDEV_ALIGN   32   /* NETDEV_ALIGN: private data follows struct net_device */

/* The per-CPU struct mg_stats of a one-entry PERCPU_ARRAY. */
static __always_inline struct mg_stats *mg_stats_in(void *stats_map)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(stats_map, &zero);
}

/* Atomic: a program preempted on its CPU may count into the same slot. */
#define MG_STAT_INC_IN(stats_map, field)                             \
	do {                                                         \
		struct mg_stats *__s = mg_stats_in(stats_map);       \
		if (__s)                                             \
			__sync_fetch_and_add(&__s->field, 1);        \
	} while (0)

/* Copy an event into a ring buffer; a full ring buffer is counted per CPU. */
static __always_inline void mg_emit_to(void *ringbuf, void *stats_map, struct mg_event *e)
{
	if (bpf_ringbuf_output(ringbuf, e, sizeof(*e), 0))
		MG_STAT_INC_IN(stats_map, events_lost);
	else
		MG_STAT_INC_IN(stats_map, events);
}

/* The current task as requester: ids, comm, cgroup, parent (a hook child's parent). */
static __always_inline void mg_current_requester(struct mg_event *e)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->ppid = BPF_CORE_READ(parent, tgid);
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (parent)
		bpf_probe_read_kernel_str(e->pcomm, sizeof(e->pcomm), parent->comm);
	e->req_known = 1;
}

/* A netns's cookie: a 64-bit id the kernel never reuses (the key of every tag). */
static __always_inline __u64 mg_net_cookie(__u64 net)
{
	__u64 cookie = 0;

	bpf_core_read(&cookie, sizeof(cookie), &((struct net *)net)->net_cookie);
	return cookie;
}

/* The struct net * a device lives in. */
static __always_inline __u64 mg_dev_net(__u64 dev)
{
	return (__u64)BPF_CORE_READ((struct net_device *)dev, nd_net.net);
}

/* netdev_priv(): where a driver's private struct starts. */
static __always_inline __u64 mg_dev_priv(__u64 dev)
{
	return dev + ((bpf_core_type_size(struct net_device) + MG_NETDEV_ALIGN - 1) &
		      ~(__u64)(MG_NETDEV_ALIGN - 1));
}

/* Queue state lives in the private area of module devices; local CO-RE flavours with
 * only the fields read match the macvtap/tap/tun module BTF at load time. */
struct macvlan_dev___mg {
	int dummy;
} __attribute__((preserve_access_index));

struct tap_dev___mg {
	int numvtaps;
} __attribute__((preserve_access_index));

struct macvtap_dev___mg {
	struct macvlan_dev___mg vlan;
	struct tap_dev___mg tap;
} __attribute__((preserve_access_index));

/* macvlan and macvtap private data start with struct macvlan_dev. */
struct macvlan_dev___mgl {
	struct net_device *lowerdev;
} __attribute__((preserve_access_index));

struct tun_struct___mg {
	unsigned int numqueues;
	unsigned int numdisabled;
} __attribute__((preserve_access_index));

/* Queues held open on a macvtap or tun device, read from the kernel right now. */
static __always_inline __u8 mg_queue_state(__u64 dev, __u32 *queues)
{
	const struct rtnl_link_ops *ops;
	char kind[8] = {};
	__u64 priv;

	*queues = 0;
	ops = BPF_CORE_READ((struct net_device *)dev, rtnl_link_ops);
	if (!ops)
		return MG_Q_UNKNOWN;
	if (bpf_probe_read_kernel_str(kind, sizeof(kind), BPF_CORE_READ(ops, kind)) < 0)
		return MG_Q_UNKNOWN;
	priv = mg_dev_priv(dev);
	if (kind[0] == 'm' && kind[1] == 'a' && kind[2] == 'c' && kind[3] == 'v' &&
	    kind[4] == 't' && kind[5] == 'a' && kind[6] == 'p' && kind[7] == 0) {
		struct macvtap_dev___mg *mt = (void *)priv;
		int n = 0;

		if (!bpf_core_field_exists(mt->tap.numvtaps))
			return MG_Q_UNKNOWN;
		if (bpf_core_read(&n, sizeof(n), &mt->tap.numvtaps))
			return MG_Q_UNKNOWN;
		*queues = n > 0 ? n : 0;
		return n > 0 ? MG_Q_HELD : MG_Q_NONE;
	}
	if (kind[0] == 't' && kind[1] == 'u' && kind[2] == 'n' && kind[3] == 0) {
		struct tun_struct___mg *tun = (void *)priv;
		unsigned int q = 0, d = 0;

		if (!bpf_core_field_exists(tun->numqueues) ||
		    !bpf_core_field_exists(tun->numdisabled))
			return MG_Q_UNKNOWN;
		if (bpf_core_read(&q, sizeof(q), &tun->numqueues) ||
		    bpf_core_read(&d, sizeof(d), &tun->numdisabled))
			return MG_Q_UNKNOWN;
		*queues = q + d;
		return q + d ? MG_Q_HELD : MG_Q_NONE;
	}
	return MG_Q_UNKNOWN;
}

#endif /* MG_HELPERS_BPF_H */
