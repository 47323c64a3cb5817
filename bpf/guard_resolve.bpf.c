// SPDX-License-Identifier: GPL-2.0
/*
 * The guard's target resolution: which devices a link request acts on, found the way
 * rtnetlink finds them, in the requester's netns.
 *
 *  - by ifindex: the __dev_get_by_index() hash bucket;
 *  - by IFLA_IFNAME / IFLA_ALT_IFNAME: the netns device list, each device's name and then
 *    its altname list;
 *  - by IFLA_GROUP (group delete, group netns move): every device of the group;
 *  - for a delete, every device stacked on the target (deleting a lower device deletes
 *    its macvtaps, and those on a vlan of it).
 *
 * Each device found goes to mg_check_guarded() (guard_request.bpf.c). A list that cannot
 * be read to its end is reported through mg_report_unreadable() (fail closed).
 */
#include "guard.bpf.h"

char LICENSE[] SEC("license") = "GPL";

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
