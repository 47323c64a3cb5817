// SPDX-License-Identifier: GPL-2.0
/*
 * The deletion monitor: every device that goes away, however it goes.
 *
 * fentry on the unregister function walks its list of devices; each watched kind
 * (macvtap, macvlan, veth, tun/tap) or tagged link becomes a deletion record. How it went
 * comes from what the thread is doing (fentry/fexit pairs on rtnl_dellink,
 * default_device_exit_batch, tun_chr_close set mg_task): an RTM_DELLINK, a cascade from
 * its lower device, a netns teardown, the last close of a tap. An RTM_DELLINK's record
 * carries the guard verdict that allowed it (mg_pending, written by guard_request.bpf.c);
 * fexit/rtnl_dellink reports verdicts no deletion consumed and failed deletions.
 *
 * Tag expiry: a tagged device that is unregistered loses its tag here, so a later device
 * reusing its ifindex never inherits it. A tagged device moved to another netns keeps it:
 * fexit on the move re-keys the tag when the move succeeded (and only then).
 */
#include "maps.bpf.h"
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define MG_MAX_UNREG      (1u << 16)   /* devices on one unregister list we walk */

/* ---- one device ---- */

/* A tagged device entering a netns move: remember its key until the move returns. */
static __always_inline void mg_move_enter(__u64 dev)
{
	struct mg_move mv = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	mv.from.netns_cookie = mg_net_cookie(mg_dev_net(dev));
	mv.from.ifindex = BPF_CORE_READ((struct net_device *)dev, ifindex);
	if (!bpf_map_lookup_elem(&mg_guarded, &mv.from))
		return;
	mv.dev = dev;
	bpf_map_update_elem(&mg_moving, &tid, &mv, BPF_ANY);
}

/*
 * The move returned. On failure (NETNS_LOCAL, a name or index taken there, ...) or a
 * move into the netns it is already in, nothing changed: the tag stays. On success the
 * tag follows the device to its new key (netns cookie, and ifindex if it changed), with
 * its counters, and a record says so.
 */
static __always_inline void mg_move_exit(__u64 dev, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mg_link_key from, to = {};
	struct mg_move *mv = bpf_map_lookup_elem(&mg_moving, &tid);
	struct mg_counts *cnt;
	struct mg_tag *tag, copy;
	struct mg_event *e;

	if (!mv)
		return;
	from = mv->from;
	if (mv->dev != dev) {
		bpf_map_delete_elem(&mg_moving, &tid);
		return;
	}
	bpf_map_delete_elem(&mg_moving, &tid);
	if (ret != 0)
		return;
	to.netns_cookie = mg_net_cookie(mg_dev_net(dev));
	to.ifindex = BPF_CORE_READ((struct net_device *)dev, ifindex);
	if (to.netns_cookie == from.netns_cookie && to.ifindex == from.ifindex)
		return;
	tag = bpf_map_lookup_elem(&mg_guarded, &from);
	if (!tag)
		return;
	__builtin_memcpy(&copy, tag, sizeof(copy));
	if (bpf_map_update_elem(&mg_guarded, &to, &copy, BPF_ANY) == 0) {
		cnt = bpf_map_lookup_elem(&mg_counts, &from);
		if (cnt) {
			struct mg_counts c = *cnt;

			bpf_map_update_elem(&mg_counts, &to, &c, BPF_ANY);
		}
	}
	bpf_map_delete_elem(&mg_guarded, &from);
	bpf_map_delete_elem(&mg_counts, &from);
	e = bpf_ringbuf_reserve(&mg_events, sizeof(*e), 0);
	if (!e) {
		MG_STAT_INC(events_lost);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_boot_ns = bpf_ktime_get_boot_ns();
	mg_current_requester(e);
	e->req_netns_cookie = from.netns_cookie;      /* where it came from */
	e->link_netns_cookie = to.netns_cookie;
	e->ifindex = to.ifindex;
	e->target_ifindex = from.ifindex;
	e->owner_pid = copy.owner_pid;
	e->how = MG_HOW_KERNEL;
	e->verdict = MG_V_NONE;
	e->action = MG_ACT_MOVE;
	e->record = MG_REC_REQUEST;
	e->path = MG_PATH_OTHER;
	bpf_probe_read_kernel(e->ifname, sizeof(e->ifname), ((struct net_device *)dev)->name);
	__builtin_memcpy(e->domain, copy.domain, sizeof(e->domain));
	__builtin_memcpy(e->uuid, copy.uuid, sizeof(e->uuid));
	bpf_ringbuf_submit(e, 0);
	MG_STAT_INC(events);
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
		struct macvlan_dev___mgl *mv = (void *)mg_dev_priv(dev);
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

/* ---- the unregister list, and what the thread is doing ---- */

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
	bpf_loop(MG_MAX_UNREG, mg_unreg_step, &c, 0);
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

/* The netns move (6.1: 4 arguments; 6.12: 5): fexit reads the result with
 * bpf_get_func_ret, whatever the argument count. */
SEC("fentry/__dev_change_net_namespace")
int BPF_PROG(mg_netns_move, struct net_device *dev)
{
	mg_move_enter((__u64)dev);
	return 0;
}

SEC("fexit/__dev_change_net_namespace")
int BPF_PROG(mg_netns_move_exit, struct net_device *dev)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	mg_move_exit((__u64)dev, (long)(int)ret);
	return 0;
}

SEC("fentry/dev_change_net_namespace")
int BPF_PROG(mg_netns_move_old, struct net_device *dev)
{
	mg_move_enter((__u64)dev);
	return 0;
}

SEC("fexit/dev_change_net_namespace")
int BPF_PROG(mg_netns_move_old_exit, struct net_device *dev)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	mg_move_exit((__u64)dev, (long)(int)ret);
	return 0;
}
