// SPDX-License-Identifier: GPL-2.0
/*
 * macvguard's kernel guard.
 *
 * lsm/netlink_send sees every message a process sends on a NETLINK_ROUTE socket before the
 * kernel acts on it. For each link request in the batch it resolves the target device the
 * way rtnetlink will (index, name or altname, group; plus every device stacked on the
 * target, which goes with it), and asks the policy (mg_policy.h) about each guarded link
 * involved. One refusal in enforce mode refuses the whole sendmsg with -EPERM.
 *
 * fentry programs on the unregister and netns-move paths drop the tag of a device that
 * goes away, so a later device reusing its ifindex never inherits it.
 *
 * Kernel reads are probe reads with CO-RE offsets; loops are bpf_loop with bounds, and
 * helpers with real work are global functions so the verifier checks each once.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "mg_abi.h"
#include "mg_nlparse.h"
#include "mg_policy.h"

char LICENSE[] SEC("license") = "GPL";

#define MG_NETLINK_ROUTE  0
#define MG_EPERM          1
#define MG_NETDEV_ALIGN   32
#define MG_MAX_DEVS       (1u << 16)   /* devices in one netns we are willing to walk */
#define MG_MAX_UPPERS     (1u << 16)   /* upper-list steps in one deletion */
#define MG_UPPER_QUEUE    512          /* devices whose uppers we walk (power of 2) */
#define MG_MAX_ALTNAMES   256
#define MG_SLOTS          4            /* nested (preempted) runs per CPU */
#define MG_NS_PER_TICK    10000000ULL  /* NSEC_PER_SEC / USER_HZ (100) */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_GUARDED);
	__type(key, struct mg_link_key);
	__type(value, struct mg_tag);
} mg_guarded SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_GUARDED);
	__type(key, struct mg_link_key);
	__type(value, struct mg_counts);
} mg_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_config);
} mg_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_stats);
} mg_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);   /* ~11,000 records of 376 bytes: absorbs bursts */
} mg_events SEC(".maps");

/* libvirt teardown windows, written by `macvguard hook qemu D stopped|release`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct mg_teardown);
} mg_teardown SEC(".maps");

/* Deletion path: what the current task is doing when a device goes (set by fentry on
 * rtnl_dellink / default_device_exit_batch / tun_chr_close, nesting counted on the
 * unregister function), keyed by thread id. */
struct mg_task_ctx {
	__u8  path;                  /* enum mg_path */
	__u8  depth;                 /* unregister_netdevice_many nesting */
	__u8  pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct mg_task_ctx);
} mg_task SEC(".maps");

/* A guard verdict (allow/audit) on a delete, waiting for the deletion it allowed so the
 * two become one record. Keyed by the requesting thread and the device. */
struct mg_pend_key {
	__u64 netns_cookie;
	__u32 ifindex;
	__u32 tid;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct mg_pend_key);
	__type(value, struct mg_event);
} mg_pending SEC(".maps");

/* Threads with entries in mg_pending: fexit/rtnl_dellink walks mg_pending (every bucket of
 * it) only for these, not on every delete. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} mg_pending_tids SEC(".maps");

/* One event being built on the deletion path (runs under RTNL: never nested per CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_event);
} mg_delbuf SEC(".maps");

/* Staging for a verdict into mg_pending (helpers take map values, not the scratch). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_event);
} mg_pendbuf SEC(".maps");

/* Per-request working state; too big for the 512-byte BPF stack. */
struct mg_walk {
	struct mg_src src;
	struct mg_linkmsg m;
	char  req[MG_ALTIFNAMSIZ];   /* name being resolved */
	char  namebuf[MG_ALTIFNAMSIZ];
	__u64 net;                   /* requester's struct net * */
	__u64 req_cookie;
	__u64 owner_ticks;           /* requester's start time, clock ticks */
	__u64 ppid_tgid;
	__u32 tgid;
	__u32 tid;
	__u32 msg_off;
	__u32 mode;
	__u16 msg_index;
	__u8  action;
	__u8  refused;               /* a refusal in enforce mode: stop and return -EPERM */
	__u8  unreadable;            /* a link request we could not read to the end */
	__u8  how;                   /* how the current target was found */
	__u8  pad[2];
	__u32 target_ifindex;
	/* Queue of devices whose uppers are walked. Its indexes live here, in map memory,
	 * not in the loop's stack context: the 6.8+ verifier re-verifies bpf_loop callbacks
	 * until their state converges, and exact stack counters never converge. */
	__u32 uq_cur;
	__u32 uq_n;
	__u64 uq_dev[MG_UPPER_QUEUE];
	__u8  uq_depth[MG_UPPER_QUEUE];
	struct mg_event ev;          /* the event being built */
};

struct mg_slots {
	__u32 busy[MG_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_slots);
} mg_slot_busy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MG_SLOTS);
	__type(key, __u32);
	__type(value, struct mg_walk);
} mg_scratch SEC(".maps");

/* Queue state lives in the private area of module devices; local CO-RE flavours match
 * the macvtap/tap/tun module BTF at load time. */
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

static __always_inline struct mg_stats *mg_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mg_stats, &zero);
}

#define MG_STAT_INC(field)                                   \
	do {                                                 \
		struct mg_stats *__s = mg_stats_get();       \
		if (__s)                                     \
			__sync_fetch_and_add(&__s->field, 1); \
	} while (0)

/* Copy an event into the ring buffer; a full ring buffer is counted per CPU. */
static __always_inline void mg_emit(struct mg_event *e)
{
	if (bpf_ringbuf_output(&mg_events, e, sizeof(*e), 0))
		MG_STAT_INC(events_lost);
	else
		MG_STAT_INC(events);
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
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (parent)
		bpf_probe_read_kernel_str(e->pcomm, sizeof(e->pcomm), parent->comm);
	e->req_known = 1;
}

static __always_inline __u32 mg_mode(void)
{
	__u32 zero = 0;
	struct mg_config *c = bpf_map_lookup_elem(&mg_config, &zero);

	return c ? c->mode : MG_MODE_ENFORCE;
}

static __always_inline __u64 mg_net_cookie(__u64 net)
{
	__u64 cookie = 0;

	bpf_core_read(&cookie, sizeof(cookie), &((struct net *)net)->net_cookie);
	return cookie;
}

static __always_inline __u64 mg_dev_net(__u64 dev)
{
	return (__u64)BPF_CORE_READ((struct net_device *)dev, nd_net.net);
}

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
	priv = dev + ((bpf_core_type_size(struct net_device) + MG_NETDEV_ALIGN - 1) &
		      ~(__u64)(MG_NETDEV_ALIGN - 1));
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

/* Fill the requester part of an event. */
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
	__builtin_memset(e, 0, sizeof(*e));
	mg_current_requester(e);
	mg_event_requester(e, w);
	e->record = MG_REC_REQUEST;
	e->path = MG_PATH_NETLINK;
	e->result = verdict == MG_V_DENY ? MG_RES_REFUSED : MG_RES_NONE;
	e->link_netns_cookie = key.netns_cookie;
	e->ifindex = key.ifindex;
	e->target_ifindex = w->target_ifindex;
	e->owner_pid = tag->owner_pid;
	e->queues = queues;
	e->how = (__u8)how;
	e->verdict = verdict;
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
	/* A libvirt teardown in progress on this thread (or, thread unknown, process)? */
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
	__builtin_memset(e, 0, sizeof(*e));
	mg_current_requester(e);
	mg_event_requester(e, w);
	e->record = MG_REC_REQUEST;
	e->path = MG_PATH_NETLINK;
	e->result = verdict == MG_V_DENY ? MG_RES_REFUSED : MG_RES_NONE;
	e->how = (__u8)how;
	e->verdict = verdict;
	e->reason = how == MG_HOW_UNRESOLVED ? MG_R_UNRESOLVED : MG_R_UNPARSED;
	e->target_ifindex = w->m.ifindex > 0 ? w->m.ifindex : 0;
	bpf_ringbuf_submit(e, 0);
	MG_STAT_INC(events);
	return 0;
}

/* ---- devices stacked on a target (deleting a lower device deletes them too) ---- */

/*
 * Devices stacked on a target go with it: a macvtap on the deleted NIC (depth 1), or on a
 * vlan of it (depth 2). One flat bpf_loop walks a queue of devices and, for each, its
 * adj_list.upper list, so the BPF call chain stays within the verifier's 8 frames.
 */
struct mg_upper_ctx {
	struct mg_walk *w;
	__u64 head;          /* &queue[cur_q]->adj_list.upper */
	__u64 cur;           /* list node in that list */
	__u32 incomplete;
	__u32 pad;
};

static __always_inline int mg_upper_start(struct mg_upper_ctx *c)
{
	struct mg_walk *w = c->w;
	struct net_device *nd;
	__u32 q = w->uq_cur;

	if (q >= w->uq_n || q >= MG_UPPER_QUEUE)
		return -1;
	nd = (void *)w->uq_dev[q & (MG_UPPER_QUEUE - 1)];
	c->head = (__u64)&nd->adj_list.upper;
	if (bpf_core_read(&c->cur, sizeof(c->cur), &nd->adj_list.upper.next)) {
		c->incomplete = 1;
		return -1;
	}
	return 0;
}

static long mg_upper_step(__u32 i, void *ctx)
{
	struct mg_upper_ctx *c = ctx;
	struct mg_walk *w = c->w;
	struct netdev_adjacent *adj;
	__u64 cur = c->cur, upper = 0, next = 0;
	__u32 q;

	if (cur == c->head || !cur) {
		/* this device's uppers are done: next queued device */
		w->uq_cur++;
		return mg_upper_start(c) ? 1 : 0;
	}
	adj = (void *)(cur - bpf_core_field_offset(struct netdev_adjacent, list));
	if (bpf_core_read(&upper, sizeof(upper), &adj->dev) ||
	    bpf_core_read(&next, sizeof(next), &((struct list_head *)cur)->next)) {
		c->incomplete = 1;
		return 1;
	}
	c->cur = next;
	mg_check_guarded(w, upper, MG_HOW_LOWER);
	if (w->refused)
		return 1;
	q = w->uq_cur & (MG_UPPER_QUEUE - 1);
	if (w->uq_depth[q] < 2) {
		__u32 n = w->uq_n;

		if (n >= MG_UPPER_QUEUE) {
			c->incomplete = 1;   /* more stacked devices than we track */
			return 1;
		}
		w->uq_dev[n & (MG_UPPER_QUEUE - 1)] = upper;
		w->uq_depth[n & (MG_UPPER_QUEUE - 1)] = w->uq_depth[q] + 1;
		w->uq_n = n + 1;
	}
	return 0;
}

__noinline int mg_check_uppers(struct mg_walk *w, __u64 dev)
{
	struct mg_upper_ctx c = {};
	long n;

	if (!w || !dev)
		return 0;
	c.w = w;
	w->uq_dev[0] = dev;
	w->uq_depth[0] = 0;
	w->uq_cur = 0;
	w->uq_n = 1;
	if (mg_upper_start(&c)) {
		mg_report_unreadable(w, MG_HOW_UNPARSED);
		return 0;
	}
	n = bpf_loop(MG_MAX_UPPERS, mg_upper_step, &c, 0);
	if (!w->refused && (c.incomplete || (n >= MG_MAX_UPPERS && w->uq_cur < w->uq_n)))
		mg_report_unreadable(w, MG_HOW_UNPARSED);
	return 0;
}

__noinline int mg_name_matches(struct mg_walk *w);

/* Everything a deletion of dev takes with it, or the device itself for rename/move. */
static __always_inline void mg_check_target(struct mg_walk *w, __u64 dev, __u32 how)
{
	if (w->action == MG_ACT_RENAME) {
		/* renaming to the current name is a no-op in dev_change_name() */
		if (bpf_probe_read_kernel(w->namebuf, MG_IFNAMSIZ, ((struct net_device *)dev)->name))
			return;
		w->namebuf[MG_IFNAMSIZ - 1] = 0;
		if (mg_name_matches(w))
			return;
	}
	w->target_ifindex = BPF_CORE_READ((struct net_device *)dev, ifindex);
	mg_check_guarded(w, dev, how);
	if (w->action == MG_ACT_DELETE && !w->refused)
		mg_check_uppers(w, dev);
}

/* ---- resolving the target ---- */

/* w->namebuf vs w->req, as strcmp would (both NUL-terminated within 128 bytes). */
__noinline int mg_name_matches(struct mg_walk *w)
{
	int i;

	if (!w)
		return 0;
	for (i = 0; i < MG_ALTIFNAMSIZ; i++) {
		if (w->namebuf[i] != w->req[i])
			return 0;
		if (!w->req[i])
			return 1;
	}
	return 1;
}

struct mg_alt_ctx {
	struct mg_walk *w;
	__u64 head;
	__u64 cur;
	__u32 found;
	__u32 incomplete;
};

static long mg_alt_step(__u32 i, void *ctx)
{
	struct mg_alt_ctx *c = ctx;
	struct netdev_name_node *nn;
	__u64 name = 0, next = 0;

	__u64 cur = c->cur;

	if (cur == c->head || !cur)
		return 1;
	nn = (void *)(cur - bpf_core_field_offset(struct netdev_name_node, list));
	if (bpf_core_read(&name, sizeof(name), &nn->name) ||
	    bpf_core_read(&next, sizeof(next), &((struct list_head *)cur)->next) ||
	    bpf_probe_read_kernel_str(c->w->namebuf, sizeof(c->w->namebuf), (void *)name) < 0) {
		c->incomplete = 1;
		return 1;
	}
	if (mg_name_matches(c->w)) {
		c->found = 1;
		return 1;
	}
	c->cur = next;
	return 0;
}

/* Is w->req the name or one of the altnames of dev? Returns MG_HOW_* or 0; sets
 * *incomplete when the altname list could not be read to its end. */
__noinline int mg_dev_has_name(struct mg_walk *w, __u64 dev)
{
	struct net_device *nd = (void *)dev;
	struct mg_alt_ctx c = {};
	__u64 node;
	long n;

	if (!w || !dev)
		return 0;
	if (bpf_probe_read_kernel(w->namebuf, MG_IFNAMSIZ, nd->name))
		return -1;
	w->namebuf[MG_IFNAMSIZ - 1] = 0;
	if (mg_name_matches(w))
		return w->m.has_ifname ? MG_HOW_NAME : MG_HOW_ALTNAME;
	node = (__u64)BPF_CORE_READ(nd, name_node);
	if (!node)
		return 0;
	c.w = w;
	c.head = node + bpf_core_field_offset(struct netdev_name_node, list);
	if (bpf_core_read(&c.cur, sizeof(c.cur), &((struct netdev_name_node *)node)->list.next))
		return -1;
	n = bpf_loop(MG_MAX_ALTNAMES, mg_alt_step, &c, 0);
	if (c.found)
		return MG_HOW_ALTNAME;
	if (c.incomplete || (n >= MG_MAX_ALTNAMES && c.cur != c.head))
		return -1;
	return 0;
}

struct mg_dev_ctx {
	struct mg_walk *w;
	__u64 head;
	__u64 cur;
	__u32 by_group;
	__u32 incomplete;
};

static long mg_dev_step(__u32 i, void *ctx)
{
	struct mg_dev_ctx *c = ctx;
	struct mg_walk *w = c->w;
	__u64 dev, next = 0;
	int how;

	__u64 cur = c->cur;

	if (cur == c->head || !cur)
		return 1;
	dev = cur - bpf_core_field_offset(struct net_device, dev_list);
	if (bpf_core_read(&next, sizeof(next), &((struct list_head *)cur)->next)) {
		c->incomplete = 1;
		return 1;
	}
	if (c->by_group) {
		if (BPF_CORE_READ((struct net_device *)dev, group) == w->m.group)
			mg_check_target(w, dev, MG_HOW_GROUP);
	} else {
		how = mg_dev_has_name(w, dev);
		if (how < 0) {
			c->incomplete = 1;
			return 1;
		}
		if (how > 0) {
			mg_check_target(w, dev, how);
			return 1;        /* names are unique in a netns */
		}
	}
	if (w->refused)
		return 1;
	c->cur = next;
	return 0;
}

/* Walk the requester's netns device list for a name or a group. */
__noinline int mg_resolve_walk(struct mg_walk *w, __u32 by_group)
{
	struct mg_dev_ctx c = {};
	struct net *net;
	long n;

	if (!w || !w->net)
		return 0;
	net = (void *)w->net;
	c.w = w;
	c.by_group = by_group;
	c.head = w->net + bpf_core_field_offset(struct net, dev_base_head);
	if (bpf_core_read(&c.cur, sizeof(c.cur), &net->dev_base_head.next)) {
		mg_report_unreadable(w, MG_HOW_UNPARSED);
		return 0;
	}
	n = bpf_loop(MG_MAX_DEVS, mg_dev_step, &c, 0);
	if (!w->refused && (c.incomplete || (n >= MG_MAX_DEVS && c.cur != c.head)))
		mg_report_unreadable(w, MG_HOW_UNPARSED);
	return 0;
}

struct mg_idx_ctx {
	__u64 cur;          /* struct hlist_node * */
	__u64 found;
	__s32 ifindex;
	__u32 incomplete;
};

static long mg_idx_step(__u32 i, void *ctx)
{
	struct mg_idx_ctx *c = ctx;
	struct net_device *dev;
	__u64 next = 0;

	__u64 cur = c->cur;

	if (!cur)
		return 1;
	dev = (void *)(cur - bpf_core_field_offset(struct net_device, index_hlist));
	if (BPF_CORE_READ(dev, ifindex) == c->ifindex) {
		c->found = (__u64)dev;
		return 1;
	}
	if (bpf_core_read(&next, sizeof(next), &((struct hlist_node *)cur)->next)) {
		c->incomplete = 1;
		return 1;
	}
	c->cur = next;
	return 0;
}

/* __dev_get_by_index(): the bucket net->dev_index_head[ifindex & 255]. */
__noinline int mg_resolve_index(struct mg_walk *w)
{
	struct mg_idx_ctx c = {};
	struct hlist_head *heads;
	long n;

	if (!w || !w->net)
		return 0;
	{
		struct net *net = (void *)w->net;
		heads = BPF_CORE_READ(net, dev_index_head);
	}
	c.ifindex = w->m.ifindex;
	if (heads) {
		struct hlist_head *bucket = heads + (c.ifindex & 255);
		if (bpf_core_read(&c.cur, sizeof(c.cur), &bucket->first))
			heads = NULL;
	}
	if (!heads) {
		mg_report_unreadable(w, MG_HOW_UNPARSED);
		return 0;
	}
	n = bpf_loop(MG_MAX_DEVS, mg_idx_step, &c, 0);
	if (c.found)
		mg_check_target(w, c.found, MG_HOW_INDEX);
	else if (c.incomplete || (n >= MG_MAX_DEVS && c.cur))
		mg_report_unreadable(w, MG_HOW_UNPARSED);
	return 0;
}

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
		if (w->refused)
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

/* ---- deletion path: every device that goes, and tag expiry ---- */

static __always_inline void mg_expire_dev(__u64 dev)
{
	struct mg_link_key key = {};
	struct mg_tag *tag;
	struct mg_event *e;

	key.netns_cookie = mg_net_cookie(mg_dev_net(dev));
	key.ifindex = BPF_CORE_READ((struct net_device *)dev, ifindex);
	tag = bpf_map_lookup_elem(&mg_guarded, &key);
	if (!tag)
		return;
	e = bpf_ringbuf_reserve(&mg_events, sizeof(*e), 0);
	if (e) {
		__builtin_memset(e, 0, sizeof(*e));
		e->ts_boot_ns = bpf_ktime_get_boot_ns();
		e->link_netns_cookie = key.netns_cookie;
		mg_current_requester(e);
		e->ifindex = key.ifindex;
		e->target_ifindex = key.ifindex;
		e->owner_pid = tag->owner_pid;
		e->how = MG_HOW_KERNEL;
		e->verdict = MG_V_GONE;
		e->action = MG_ACT_MOVE;
		e->record = MG_REC_REQUEST;
		e->path = MG_PATH_OTHER;
		bpf_probe_read_kernel(e->ifname, sizeof(e->ifname), ((struct net_device *)dev)->name);
		__builtin_memcpy(e->domain, tag->domain, sizeof(e->domain));
		__builtin_memcpy(e->uuid, tag->uuid, sizeof(e->uuid));
		bpf_ringbuf_submit(e, 0);
		MG_STAT_INC(events);
	} else {
		MG_STAT_INC(events_lost);
	}
	bpf_map_delete_elem(&mg_guarded, &key);
	bpf_map_delete_elem(&mg_counts, &key);
	MG_STAT_INC(tags_expired);
}

/* Kinds reported even when untagged (first 8 bytes of rtnl_link_ops->kind). */
static __always_inline int mg_kind_watched(const char *k)
{
	if (k[0] == 'm' && k[1] == 'a' && k[2] == 'c' && k[3] == 'v' && k[7] == 0 &&
	    ((k[4] == 't' && k[5] == 'a' && k[6] == 'p') || (k[4] == 'l' && k[5] == 'a' && k[6] == 'n')))
		return 2;       /* macvtap / macvlan: has a lower device */
	if (k[0] == 'v' && k[1] == 'e' && k[2] == 't' && k[3] == 'h' && k[4] == 0)
		return 1;
	if (k[0] == 't' && k[1] == 'u' && k[2] == 'n' && k[3] == 0)
		return 3;
	return 0;
}

/* One device being unregistered: a deletion record (watched kinds and tagged links),
 * joined with the guard verdict that allowed it, and tag expiry. */
__noinline int mg_report_dev(__u64 dev, __u32 path)
{
	struct net_device *nd = (void *)dev;
	struct mg_link_key key = {};
	struct mg_pend_key pk = {};
	const struct rtnl_link_ops *ops;
	struct mg_event *e, *p;
	struct mg_tag *tag;
	__u32 zero = 0;
	char k[8] = {};
	int watched = 0;

	if (!dev)
		return 0;
	key.netns_cookie = mg_net_cookie(mg_dev_net(dev));
	key.ifindex = BPF_CORE_READ(nd, ifindex);
	tag = bpf_map_lookup_elem(&mg_guarded, &key);
	ops = BPF_CORE_READ(nd, rtnl_link_ops);
	if (ops && bpf_probe_read_kernel_str(k, sizeof(k), BPF_CORE_READ(ops, kind)) > 0)
		watched = mg_kind_watched(k);
	if (!watched && !tag)
		return 0;
	e = bpf_map_lookup_elem(&mg_delbuf, &zero);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_boot_ns = bpf_ktime_get_boot_ns();
	e->record = MG_REC_DELETE;
	e->path = (__u8)path;
	e->result = MG_RES_DELETED;
	e->action = MG_ACT_DELETE;
	e->link_netns_cookie = key.netns_cookie;
	e->ifindex = key.ifindex;
	e->target_ifindex = key.ifindex;
	e->queues_state = mg_queue_state(dev, &e->queues);
	bpf_probe_read_kernel(e->ifname, sizeof(e->ifname), nd->name);
	__builtin_memcpy(e->kind, k, sizeof(k));
	if (watched == 3 && BPF_CORE_READ(nd, type) == 1 /* ARPHRD_ETHER */) {
		e->kind[0] = 't'; e->kind[1] = 'a'; e->kind[2] = 'p'; e->kind[3] = 0;
	}
	if (watched == 2) {
		__u64 priv = dev + ((bpf_core_type_size(struct net_device) + MG_NETDEV_ALIGN - 1) &
				    ~(__u64)(MG_NETDEV_ALIGN - 1));
		struct macvlan_dev___mgl *mv = (void *)priv;
		struct net_device *lower = NULL;

		if (bpf_core_field_exists(mv->lowerdev) &&
		    !bpf_core_read(&lower, sizeof(lower), &mv->lowerdev) && lower) {
			e->lower_ifindex = BPF_CORE_READ(lower, ifindex);
			bpf_probe_read_kernel(e->lower_name, sizeof(e->lower_name), lower->name);
		}
	}
	/* netns teardown and other kernel paths run in a kworker: nobody asked */
	if (path == MG_PATH_NETLINK || path == MG_PATH_CASCADE || path == MG_PATH_TAPCLOSE)
		mg_current_requester(e);
	if (tag) {
		e->owner_pid = tag->owner_pid;
		e->verdict = MG_V_GONE;
		__builtin_memcpy(e->domain, tag->domain, sizeof(e->domain));
		__builtin_memcpy(e->uuid, tag->uuid, sizeof(e->uuid));
	}
	pk.netns_cookie = key.netns_cookie;
	pk.ifindex = key.ifindex;
	pk.tid = (__u32)bpf_get_current_pid_tgid();
	p = bpf_map_lookup_elem(&mg_pending, &pk);
	if (p) {
		e->verdict = p->verdict;
		e->reason = p->reason;
		e->how = p->how;
		e->mode = p->mode;
		e->msg_type = p->msg_type;
		e->msg_index = p->msg_index;
		e->req_netns_cookie = p->req_netns_cookie;
		e->queues = p->queues;
		e->queues_state = p->queues_state;
		e->target_ifindex = p->target_ifindex;
		__builtin_memcpy(e->req_name, p->req_name, sizeof(e->req_name));
		bpf_map_delete_elem(&mg_pending, &pk);
	}
	mg_emit(e);
	MG_STAT_INC(deletions);
	if (tag) {
		bpf_map_delete_elem(&mg_guarded, &key);
		bpf_map_delete_elem(&mg_counts, &key);
		MG_STAT_INC(tags_expired);
	}
	return 0;
}

struct mg_unreg_ctx {
	__u64 head;
	__u64 cur;
	__u32 path;
	__u32 pad;
};

static long mg_unreg_step(__u32 i, void *ctx)
{
	struct mg_unreg_ctx *c = ctx;
	__u64 next = 0;

	__u64 cur = c->cur;

	if (cur == c->head || !cur)
		return 1;
	if (bpf_core_read(&next, sizeof(next), &((struct list_head *)cur)->next))
		return 1;
	mg_report_dev(cur - bpf_core_field_offset(struct net_device, unreg_list), c->path);
	c->cur = next;
	return 0;
}

static __always_inline int mg_expire_list(struct list_head *head, __u32 path)
{
	struct mg_unreg_ctx c = {};

	c.head = (__u64)head;
	c.path = path;
	if (bpf_core_read(&c.cur, sizeof(c.cur), &head->next))
		return 0;
	bpf_loop(MG_MAX_DEVS, mg_unreg_step, &c, 0);
	return 0;
}

static __always_inline void mg_task_set(__u32 path)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mg_task_ctx t = {};

	t.path = (__u8)path;
	bpf_map_update_elem(&mg_task, &tid, &t, BPF_ANY);
}

static __always_inline void mg_task_clear(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&mg_task, &tid);
}

/* Entering the unregister function: the path of the devices on its list. */
static __always_inline __u32 mg_unreg_enter(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mg_task_ctx *t = bpf_map_lookup_elem(&mg_task, &tid);

	if (!t) {
		struct mg_task_ctx n = {};

		n.path = MG_PATH_OTHER;
		bpf_map_update_elem(&mg_task, &tid, &n, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&mg_task, &tid);
		if (!t)
			return MG_PATH_OTHER;
	}
	t->depth++;
	/* nested: a notifier unregisters devices stacked on one going away */
	if (t->depth > 1 && t->path != MG_PATH_NETNS)
		return MG_PATH_CASCADE;
	return t->path;
}

static __always_inline void mg_unreg_leave(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mg_task_ctx *t = bpf_map_lookup_elem(&mg_task, &tid);

	if (!t)
		return;
	if (t->depth)
		t->depth--;
	if (!t->depth && t->path == MG_PATH_OTHER)
		bpf_map_delete_elem(&mg_task, &tid);
}

/* 6.2+ (and 6.1.y backports): every unregistration goes through
 * unregister_netdevice_many_notify(). */
SEC("fentry/unregister_netdevice_many_notify")
int BPF_PROG(mg_unreg_notify, struct list_head *head)
{
	return mg_expire_list(head, mg_unreg_enter());
}

SEC("fexit/unregister_netdevice_many_notify")
int BPF_PROG(mg_unreg_notify_exit)
{
	mg_unreg_leave();
	return 0;
}

/* Older kernels: unregister_netdevice_many() is the common path. */
SEC("fentry/unregister_netdevice_many")
int BPF_PROG(mg_unreg_many, struct list_head *head)
{
	return mg_expire_list(head, mg_unreg_enter());
}

SEC("fexit/unregister_netdevice_many")
int BPF_PROG(mg_unreg_many_exit)
{
	mg_unreg_leave();
	return 0;
}

SEC("fentry/rtnl_dellink")
int BPF_PROG(mg_dellink_enter)
{
	mg_task_set(MG_PATH_NETLINK);
	return 0;
}

struct mg_flush_ctx {
	__u32 tid;
	__s32 ret;
	__u32 found;
	__u32 pad;
};

/* Verdicts of this thread that no deletion consumed: the request failed (or deleted
 * something else); report them, as the failed deletion when ret < 0. */
static long mg_flush_cb(struct bpf_map *map, const void *key, void *value, void *ctx)
{
	const struct mg_pend_key *pk = key;
	struct mg_flush_ctx *c = ctx;
	struct mg_event *e = value;

	if (pk->tid != c->tid)
		return 0;
	c->found = 1;   /* a flag, not a count: 6.12 re-verifies callbacks until their state converges */
	if (c->ret < 0) {
		e->record = MG_REC_DELETE;
		e->result = MG_RES_FAILED;
		e->err = c->ret;
		MG_STAT_INC(deletions);
	}
	mg_emit(e);
	bpf_map_delete_elem(map, key);
	return 0;
}

SEC("fexit/rtnl_dellink")
int BPF_PROG(mg_dellink_exit, struct sk_buff *skb, struct nlmsghdr *nlh, void *extack, int ret)
{
	struct mg_flush_ctx c = {};
	struct mg_event *e;
	__u32 zero = 0;

	c.tid = (__u32)bpf_get_current_pid_tgid();
	c.ret = ret;
	if (bpf_map_lookup_elem(&mg_pending_tids, &c.tid)) {
		bpf_for_each_map_elem(&mg_pending, mg_flush_cb, &c, 0);
		bpf_map_delete_elem(&mg_pending_tids, &c.tid);
	}
	mg_task_clear();
	if (ret >= 0 || c.found)
		return 0;
	/* A failed RTM_DELLINK of an untagged target: what the message named. */
	e = bpf_map_lookup_elem(&mg_delbuf, &zero);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_boot_ns = bpf_ktime_get_boot_ns();
	e->record = MG_REC_DELETE;
	e->path = MG_PATH_NETLINK;
	e->result = MG_RES_FAILED;
	e->action = MG_ACT_DELETE;
	e->err = ret;
	e->msg_type = MG_RTM_DELLINK;
	e->queues_state = MG_Q_UNKNOWN;
	{
		__s32 idx = 0;

		bpf_probe_read_kernel(&idx, sizeof(idx), (void *)nlh + MG_NLMSG_HDRLEN + 4);
		e->target_ifindex = idx > 0 ? idx : 0;
	}
	mg_current_requester(e);
	mg_emit(e);
	MG_STAT_INC(deletions);
	return 0;
}

SEC("fentry/default_device_exit_batch")
int BPF_PROG(mg_netns_exit_enter)
{
	mg_task_set(MG_PATH_NETNS);
	return 0;
}

SEC("fexit/default_device_exit_batch")
int BPF_PROG(mg_netns_exit_exit)
{
	mg_task_clear();
	return 0;
}

SEC("fentry/tun_chr_close")
int BPF_PROG(mg_tun_close_enter)
{
	mg_task_set(MG_PATH_TAPCLOSE);
	return 0;
}

SEC("fexit/tun_chr_close")
int BPF_PROG(mg_tun_close_exit)
{
	mg_task_clear();
	return 0;
}

SEC("fentry/__dev_change_net_namespace")
int BPF_PROG(mg_netns_move, struct net_device *dev)
{
	mg_expire_dev((__u64)dev);
	return 0;
}

SEC("fentry/dev_change_net_namespace")
int BPF_PROG(mg_netns_move_old, struct net_device *dev)
{
	mg_expire_dev((__u64)dev);
	return 0;
}
