// SPDX-License-Identifier: GPL-2.0
/*
 * The guard's target resolution: which devices a link request acts on, found the way
 * rtnetlink finds them, in the requester's netns, and everything the kernel deletes with
 * them.
 *
 *  - by ifindex: the __dev_get_by_index() bucket, net->dev_index_head[ifindex & 255];
 *  - by IFLA_IFNAME / IFLA_ALT_IFNAME: the netdev_name_node_lookup() bucket,
 *    net->dev_name_head[hash_32(full_name_hash(net, name, strnlen(name, 16)), 8)], which
 *    holds names and altnames alike;
 *  - by IFLA_GROUP (group delete, group netns move): every device of the netns, as
 *    rtnl_group_dellink() walks them;
 *  - for a delete, the cascade: the target's veth or netkit peer (their dellink
 *    unregisters the peer), then, from the target and the peer, every non-master upper,
 *    recursively (macvlan, macvtap, ipvlan, vlan go with their lower on NETDEV_UNREGISTER).
 *    Masters (bridge, bond, team: adjacency marked `master`) lose a port and stay.
 *
 * Name resolution walks one kernel hash bucket, not the netns. Why this and not a map of
 * guarded names kept by fentry on rename/altname/netns paths: the bucket is the kernel's
 * own truth at the moment of the request, so nothing has to be kept in step (renames of
 * an untagged lower device, altnames added or removed, moves, creation of new stacked
 * devices), and it verifies as one small bpf_loop on 6.1 through 6.18. Its cost is the
 * bucket's length (names in the netns / 256 on average), as the kernel's own lookup.
 * full_name_hash() is the x86-64 word-at-a-time version of fs/namei.c (unchanged since
 * 4.8, and the same in 6.1, 6.12 and 6.18); once per load it is checked against the
 * kernel by finding the loopback device through its own name's bucket, and if that ever
 * fails, by-name requests fail closed (mg_resolve_stats.hash_bad) instead of missing.
 *
 * Every walk draws on one budget per send (MG_SEND_BUDGET units: a bucket entry, a device,
 * an upper adjacency or a queued device is one, a name lookup or a whole-name compare four). Past it, and past the
 * cascade queue, the request fails closed while anything is guarded (counted in
 * mg_resolve_stats and in fail_closed), reported once per send. So no send can keep the
 * hook busy for longer than the budget, whatever the netns holds.
 *
 * Each device found goes to mg_check_guarded() (guard_request.bpf.c). A list that cannot
 * be read to its end is reported through mg_report_unreadable() (fail closed).
 */
#include "guard.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define MG_NAME_HASHBITS   8                       /* NETDEV_HASHBITS */
#define MG_GOLDEN_RATIO_32 0x61C88647u
#define MG_GOLDEN_RATIO_64 0x61C8864680B583EBull
#define MG_COST_LOOKUP     4                       /* budget units of a hash computation */
#define MG_COST_LONGNAME   4                       /* ... of a whole-name compare */
#define MG_NODE_READ       48                      /* bytes of a netdev_name_node read at once */

/* ---- the budget of one send ---- */

/* Called by the hook for every send that reaches the batch walk. */
__noinline int mg_resolve_begin(struct mg_walk *w)
{
	if (!w)
		return 0;
	w->rs_budget = MG_SEND_BUDGET;
	w->rs_failed = 0;
	w->rs_over = 0;
	return 0;
}

static __always_inline void mg_rstat_add(__u32 field_off, __u64 n)
{
	__u32 zero = 0;
	__u64 *s = bpf_map_lookup_elem(&mg_resolve_stats, &zero);

	if (s && field_off < sizeof(struct mg_resolve_stats) / 8)
		s[field_off] += n;          /* per CPU: no atomic needed */
}

#define MG_RSTAT(field, n) \
	mg_rstat_add(__builtin_offsetof(struct mg_resolve_stats, field) / 8, (n))

/* The resolution of this request cannot be completed: fail closed (refused while anything
 * is guarded), reported once per send so a flood of such requests costs one report. */
static __always_inline void mg_resolve_fail(struct mg_walk *w)
{
	if (w->rs_failed)
		return;
	w->rs_failed = 1;
	mg_report_unreadable(w, MG_HOW_UNPARSED);
}

/* Take n units; 0 when the budget had them. */
static __always_inline int mg_budget_take(struct mg_walk *w, __u32 n)
{
	if (w->rs_budget < n) {
		if (!w->rs_over)
			MG_RSTAT(budget_over, 1);
		w->rs_over = 1;
		w->rs_budget = 0;
		return -1;
	}
	w->rs_budget -= n;
	return 0;
}

/* ---- the cascade: what a deletion of a device takes with it ---- */

struct veth_priv___mg {
	struct net_device *peer;
} __attribute__((preserve_access_index));

struct netkit___mg {
	struct net_device *peer;
} __attribute__((preserve_access_index));

/* The veth or netkit peer of dev (0: none, or dev is another kind); -1: unreadable.
 * Both drivers' dellink unregisters the peer with the device. */
static __always_inline int mg_peer_of(__u64 dev, __u64 *peer)
{
	const struct rtnl_link_ops *ops;
	char kind[8] = {};
	__u64 priv = mg_dev_priv(dev);

	*peer = 0;
	ops = BPF_CORE_READ((struct net_device *)dev, rtnl_link_ops);
	if (!ops)
		return 0;
	if (bpf_probe_read_kernel_str(kind, sizeof(kind), BPF_CORE_READ(ops, kind)) < 0)
		return -1;
	if (kind[0] == 'v' && kind[1] == 'e' && kind[2] == 't' && kind[3] == 'h' && !kind[4]) {
		struct veth_priv___mg *vp = (void *)priv;

		/* peer has been veth_priv's first member since veth exists: without the
		 * module's BTF, read it there */
		if (bpf_core_field_exists(vp->peer))
			return bpf_core_read(peer, sizeof(*peer), &vp->peer) ? -1 : 0;
		return bpf_probe_read_kernel(peer, sizeof(*peer), (void *)priv) ? -1 : 0;
	}
	if (kind[0] == 'n' && kind[1] == 'e' && kind[2] == 't' && kind[3] == 'k' &&
	    kind[4] == 'i' && kind[5] == 't' && !kind[6]) {
		struct netkit___mg *nk = (void *)priv;

		if (bpf_core_field_exists(nk->peer))
			return bpf_core_read(peer, sizeof(*peer), &nk->peer) ? -1 : 0;
		return -1;
	}
	return 0;
}

/*
 * One flat bpf_loop walks a queue of devices (the target, its peer, then every non-master
 * upper found) and, for each, its adj_list.upper list, so the BPF call chain stays within
 * the verifier's 8 frames and the depth is not bounded by the code: only by the queue
 * (MG_UPPER_QUEUE) and the send's budget, past which the deletion fails closed.
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
	if (mg_budget_take(w, 1)) {
		c->incomplete = 1;
		return -1;
	}
	nd = (void *)w->uq_dev[q & (MG_UPPER_QUEUE - 1)];
	c->head = (__u64)&nd->adj_list.upper;
	if (bpf_core_read(&c->cur, sizeof(c->cur), &nd->adj_list.upper.next)) {
		c->incomplete = 1;
		return -1;
	}
	return 0;
}

static __always_inline int mg_queue_push(struct mg_walk *w, __u64 dev)
{
	__u32 n = w->uq_n;

	if (n >= MG_UPPER_QUEUE)
		return -1;
	w->uq_dev[n & (MG_UPPER_QUEUE - 1)] = dev;
	w->uq_n = n + 1;
	return 0;
}

static long mg_upper_step(__u32 i, void *ctx)
{
	struct mg_upper_ctx *c = ctx;
	struct mg_walk *w = c->w;
	struct netdev_adjacent *adj;
	__u64 cur = c->cur, upper = 0, next = 0;
	bool master = false;

	if (cur == c->head || !cur) {
		/* this device's uppers are done: next queued device */
		w->uq_cur++;
		if (w->uq_cur >= w->uq_n)
			return 1;
		return mg_upper_start(c) ? 1 : 0;
	}
	if (mg_budget_take(w, 1)) {
		c->incomplete = 1;
		return 1;
	}
	adj = (void *)(cur - bpf_core_field_offset(struct netdev_adjacent, list));
	if (bpf_core_read(&upper, sizeof(upper), &adj->dev) ||
	    bpf_core_read(&master, sizeof(master), &adj->master) ||
	    bpf_core_read(&next, sizeof(next), &((struct list_head *)cur)->next)) {
		c->incomplete = 1;
		return 1;
	}
	c->cur = next;
	if (master)
		return 0;            /* a bridge, bond or team loses a port and stays */
	mg_check_guarded(w, upper, MG_HOW_LOWER);
	if (w->refused)
		return 1;
	if (mg_queue_push(w, upper)) {
		MG_RSTAT(cascade_over, 1);
		c->incomplete = 1;   /* more stacked devices than we track */
		return 1;
	}
	return 0;
}

/* Everything deleting dev takes with it (dev itself was checked by the caller). */
__noinline int mg_check_uppers(struct mg_walk *w, __u64 dev)
{
	struct mg_upper_ctx c = {};
	__u64 peer = 0;
	long n;

	if (!w || !dev)
		return 0;
	c.w = w;
	w->uq_dev[0] = dev;
	w->uq_cur = 0;
	w->uq_n = 1;
	if (mg_peer_of(dev, &peer)) {
		mg_resolve_fail(w);
		return 0;
	}
	if (peer && peer != dev) {
		mg_check_guarded(w, peer, MG_HOW_LOWER);
		if (w->refused)
			return 0;
		mg_queue_push(w, peer);
	}
	if (mg_upper_start(&c)) {
		mg_resolve_fail(w);
		return 0;
	}
	n = bpf_loop(MG_MAX_UPPERS, mg_upper_step, &c, 0);
	if (!w->refused && (c.incomplete || (n >= MG_MAX_UPPERS && w->uq_cur < w->uq_n)))
		mg_resolve_fail(w);
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

/* ---- resolving a name: the kernel's name hash bucket ---- */

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

static __always_inline __u64 mg_rol64(__u64 v, unsigned int s)
{
	return (v << s) | (v >> (64 - s));
}

/* HASH_MIX() of fs/namei.c, 64-bit */
#define MG_HASH_MIX(x, y, a)                                           \
	do {                                                           \
		x ^= (a);                                              \
		y ^= x;                                                \
		x = mg_rol64(x, 12);                                   \
		x += y;                                                \
		y = mg_rol64(y, 45);                                   \
		y *= 9;                                                \
	} while (0)

/* dev_name_hash(): the bucket index of the name whose first 16 bytes (zero-padded) are
 * word[0..1] and whose strnlen(name, 16) is len, in the netns at salt. */
static __always_inline __u32 mg_name_bucket(__u64 salt, __u64 w0, __u64 w1, __u32 len)
{
	__u64 x = 0, y = salt;
	__u32 h;

	/* full_name_hash(): whole words are mixed; a last partial word (1..7 bytes) is only
	 * xored in, masked to its bytes (bytemask_from_count, little-endian) */
	if (len >= 8) {
		MG_HASH_MIX(x, y, w0);
		if (len == 16)
			MG_HASH_MIX(x, y, w1);
		else if (len > 8)
			x ^= w1 & ~(~0ull << ((len - 8) * 8));
	} else if (len > 0) {
		x ^= w0 & ~(~0ull << (len * 8));
	}
	/* fold_hash() */
	y ^= x * MG_GOLDEN_RATIO_64;
	y *= MG_GOLDEN_RATIO_64;
	h = (__u32)(y >> 32);
	/* hash_32(h, NETDEV_HASHBITS) */
	return (__u32)(h * MG_GOLDEN_RATIO_32) >> (32 - MG_NAME_HASHBITS);
}

/* The first 16 bytes of a NUL-terminated name as two zero-padded words, and its strnlen. */
static __always_inline __u32 mg_name_words(const char *name, __u64 *w0, __u64 *w1)
{
	char b[16];
	__u32 len = 16;
	int i;

	__builtin_memcpy(b, name, 16);
#pragma unroll
	for (i = 15; i >= 0; i--)
		if (!b[i])
			len = i;
	/* zero what follows the first NUL, as the kernel's mask does */
#pragma unroll
	for (i = 0; i < 16; i++)
		if ((__u32)i >= len)
			b[i] = 0;
	__builtin_memcpy(w0, b, 8);
	__builtin_memcpy(w1, b + 8, 8);
	return len;
}

enum mg_bucket_status {
	MG_BK_END = 0,       /* walked to the end: not there */
	MG_BK_FOUND,
	MG_BK_UNREAD,        /* a read failed */
	MG_BK_BUDGET,        /* the send's budget ran out */
};

struct mg_bucket_ctx {
	struct mg_walk *w;
	__u64 cur;           /* struct hlist_node * in the bucket */
	__u64 found;         /* struct netdev_name_node * */
	__u64 want_dev;      /* self-check: the node of this device, compared by pointer */
	__u64 k0;            /* first 8 bytes of w->req, masked by mask0 */
	__u64 mask0;         /* its bytes up to and with its NUL (all 8 from length 7) */
	__u32 req_len;       /* strnlen(w->req, 16) */
	__u32 status;
};

static long mg_bucket_step(__u32 i, void *ctx)
{
	struct mg_bucket_ctx *c = ctx;
	struct mg_walk *w = c->w;
	__u64 node = c->cur, nb[MG_NODE_READ / 8], nn, name, head = 0;
	__u32 o_next = bpf_core_field_offset(struct netdev_name_node, hlist.next);
	__u32 o_dev = bpf_core_field_offset(struct netdev_name_node, dev);
	__u32 o_name = bpf_core_field_offset(struct netdev_name_node, name);

	if (!node)
		return 1;
	if (mg_budget_take(w, 1)) {
		c->status = MG_BK_BUDGET;
		return 1;
	}
	/* One read for the node's next, dev and name (two helper calls per entry, the cost
	 * that grows with the bucket): offsets are CO-RE constants. */
	nn = node - bpf_core_field_offset(struct netdev_name_node, hlist);
	if (o_next > MG_NODE_READ - 8 || o_dev > MG_NODE_READ - 8 || o_name > MG_NODE_READ - 8 ||
	    ((o_next | o_dev | o_name) & 7) ||
	    bpf_probe_read_kernel(nb, sizeof(nb), (void *)nn)) {
		c->status = MG_BK_UNREAD;
		return 1;
	}
	c->cur = nb[(o_next / 8) & (MG_NODE_READ / 8 - 1)];
	if (c->want_dev) {
		if (nb[(o_dev / 8) & (MG_NODE_READ / 8 - 1)] == c->want_dev) {
			c->found = nn;
			c->status = MG_BK_FOUND;
			return 1;
		}
		return 0;
	}
	/* The first 8 bytes (every kernel name is at least an 8-byte allocation or inside
	 * net_device), masked to the request's length and its NUL: most entries end here. */
	name = nb[(o_name / 8) & (MG_NODE_READ / 8 - 1)];
	if (bpf_probe_read_kernel(&head, sizeof(head), (void *)name)) {
		c->status = MG_BK_UNREAD;
		return 1;
	}
	if ((head & c->mask0) != c->k0)
		return 0;
	if (c->req_len < 8) {
		c->found = nn;                 /* the mask covered the name and its NUL */
		c->status = MG_BK_FOUND;
		return 1;
	}
	/* a whole-name read and compare costs more than an entry: charged as such, so a
	 * bucket of long names sharing their first 8 bytes cannot stretch the budget */
	if (mg_budget_take(w, MG_COST_LONGNAME)) {
		c->status = MG_BK_BUDGET;
		return 1;
	}
	if (bpf_probe_read_kernel_str(w->namebuf, sizeof(w->namebuf), (void *)name) >= 0 &&
	    mg_name_matches(w)) {
		c->found = nn;
		c->status = MG_BK_FOUND;
		return 1;
	}
	return 0;
}

/* netdev_name_node_lookup() in the requester's netns: the node of the name w->nk.w0/w1/len,
 * or of the device w->nk.want_dev (in map memory, not on the stack: see mg_resolve_name).
 * Returns MG_BK_*. */
__noinline int mg_bucket_lookup(struct mg_walk *w)
{
	struct mg_name_key *k;
	struct mg_bucket_ctx c = {};
	struct hlist_head *heads = NULL;
	struct net *net;
	__u64 w0, w1;
	__u32 b, len;

	if (!w || !w->net)
		return MG_BK_UNREAD;
	k = &w->nk;
	net = (struct net *)w->net;
	if (mg_budget_take(w, MG_COST_LOOKUP))
		return MG_BK_BUDGET;
	w0 = k->w0;
	w1 = k->w1;
	len = k->len & 31;
	b = mg_name_bucket(w->net, w0, w1, len);
	if (bpf_core_read(&heads, sizeof(heads), &net->dev_name_head) ||
	    !heads ||
	    bpf_core_read(&c.cur, sizeof(c.cur), &heads[b & ((1u << MG_NAME_HASHBITS) - 1)].first))
		return MG_BK_UNREAD;
	c.w = w;
	c.want_dev = k->want_dev;
	c.req_len = len;
	c.mask0 = len >= 7 ? ~0ull : ~(~0ull << ((len + 1) * 8));
	c.k0 = w0 & c.mask0;
	bpf_loop(MG_MAX_DEVS, mg_bucket_step, &c, 0);
	if (c.status == MG_BK_END && c.cur)
		c.status = MG_BK_BUDGET;       /* a bucket longer than bpf_loop goes */
	k->found = c.found;
	return c.status;
}

/* Is our full_name_hash() the kernel's? Find the loopback device through the bucket of its
 * own name, once per load (the algorithm does not change while the kernel runs). Own
 * frame: the combined stack of the deepest call chain must stay under 512 bytes. */
__noinline int mg_name_hash_ok(struct mg_walk *w)
{
	struct mg_resolve_state *st;
	struct net *net;
	__u32 zero = 0;
	__u64 lo;
	int r;

	if (!w || !w->net)
		return 0;
	st = bpf_map_lookup_elem(&mg_resolve_state, &zero);
	if (!st)
		return 0;
	if (st->hash_checked)
		return st->hash_checked == MG_HASH_GOOD;
	net = (struct net *)w->net;        /* a plain local: CO-RE must not relocate w->net */
	lo = (__u64)BPF_CORE_READ(net, loopback_dev);
	if (!lo || bpf_probe_read_kernel(w->namebuf, MG_IFNAMSIZ, ((struct net_device *)lo)->name))
		return 0;
	w->namebuf[MG_IFNAMSIZ - 1] = 0;
	w->nk.len = mg_name_words(w->namebuf, &w->nk.w0, &w->nk.w1);
	w->nk.want_dev = lo;
	w->nk.found = 0;
	r = mg_bucket_lookup(w);
	if (r == MG_BK_FOUND)
		st->hash_checked = MG_HASH_GOOD;
	else if (r == MG_BK_END)
		st->hash_checked = MG_HASH_BAD;
	return r == MG_BK_FOUND;
}

/* The device named w->req (a name or an altname), then its cascade. Own frame, as above;
 * the lookup key lives in w: the deepest chain (a name, its cascade, a guarded upper) has
 * no stack to spare. */
__noinline int mg_resolve_name(struct mg_walk *w)
{
	__u64 node, dev = 0, primary = 0;
	__u32 how;
	int r;

	if (!w)
		return 0;
	if (w->rs_failed && w->rs_over)
		return 0;                        /* this send already failed closed */
	MG_RSTAT(name_lookups, 1);
	w->nk.len = mg_name_words(w->req, &w->nk.w0, &w->nk.w1);
	w->nk.want_dev = 0;
	w->nk.found = 0;
	r = mg_bucket_lookup(w);
	node = w->nk.found;
	if (r == MG_BK_END)
		return 0;                        /* no such device: the kernel answers ENODEV */
	if (r != MG_BK_FOUND) {
		mg_resolve_fail(w);
		return 0;
	}
	if (bpf_core_read(&dev, sizeof(dev), &((struct netdev_name_node *)node)->dev) || !dev) {
		mg_resolve_fail(w);
		return 0;
	}
	primary = (__u64)BPF_CORE_READ((struct net_device *)dev, name_node);
	how = node == primary && w->m.has_ifname ? MG_HOW_NAME : MG_HOW_ALTNAME;
	mg_check_target(w, dev, how);
	return 0;
}

/* ---- resolving a group: every device of the netns (rtnl_group_dellink walks too) ---- */

struct mg_dev_ctx {
	struct mg_walk *w;
	__u64 head;
	__u64 cur;
	__u32 incomplete;
	__u32 pad;
};

static long mg_dev_step(__u32 i, void *ctx)
{
	struct mg_dev_ctx *c = ctx;
	struct mg_walk *w = c->w;
	__u64 dev, next = 0;
	__u64 cur = c->cur;

	if (cur == c->head || !cur)
		return 1;
	if (mg_budget_take(w, 1)) {
		c->incomplete = 1;
		return 1;
	}
	dev = cur - bpf_core_field_offset(struct net_device, dev_list);
	if (bpf_core_read(&next, sizeof(next), &((struct list_head *)cur)->next)) {
		c->incomplete = 1;
		return 1;
	}
	if (BPF_CORE_READ((struct net_device *)dev, group) == w->m.group)
		mg_check_target(w, dev, MG_HOW_GROUP);
	if (w->refused)
		return 1;
	c->cur = next;
	return 0;
}

/* The device named w->req (name or altname), or every device of group w->m.group. */
__noinline int mg_resolve_walk(struct mg_walk *w, __u32 by_group)
{
	struct mg_dev_ctx c = {};
	struct net *net;
	long n;

	if (!w || !w->net)
		return 0;
	if (!by_group) {
		/* (called from here, not from mg_resolve_name: the two frames' stacks would add up) */
		if (w->rs_failed && w->rs_over)
			return 0;                /* this send already failed closed */
		if (!mg_name_hash_ok(w)) {
			struct mg_resolve_state *st;
			__u32 zero = 0;

			st = bpf_map_lookup_elem(&mg_resolve_state, &zero);
			if (st && st->hash_checked == MG_HASH_BAD)
				MG_RSTAT(hash_bad, 1);
			mg_resolve_fail(w);
			return 0;
		}
		mg_resolve_name(w);
		return 0;
	}
	net = (void *)w->net;
	c.w = w;
	c.head = w->net + bpf_core_field_offset(struct net, dev_base_head);
	if (bpf_core_read(&c.cur, sizeof(c.cur), &net->dev_base_head.next)) {
		mg_resolve_fail(w);
		return 0;
	}
	n = bpf_loop(MG_MAX_DEVS, mg_dev_step, &c, 0);
	if (!w->refused && (c.incomplete || (n >= MG_MAX_DEVS && c.cur != c.head)))
		mg_resolve_fail(w);
	return 0;
}

/* ---- resolving an index ---- */

struct mg_idx_ctx {
	struct mg_walk *w;
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
	if (mg_budget_take(c->w, 1)) {
		c->incomplete = 1;
		return 1;
	}
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
	if (w->rs_failed && w->rs_over)
		return 0;                        /* this send already failed closed */
	{
		struct net *net = (void *)w->net;
		heads = BPF_CORE_READ(net, dev_index_head);
	}
	c.w = w;
	c.ifindex = w->m.ifindex;
	if (heads) {
		struct hlist_head *bucket = heads + (c.ifindex & 255);
		if (bpf_core_read(&c.cur, sizeof(c.cur), &bucket->first))
			heads = NULL;
	}
	if (!heads) {
		mg_resolve_fail(w);
		return 0;
	}
	n = bpf_loop(MG_MAX_DEVS, mg_idx_step, &c, 0);
	if (c.found)
		mg_check_target(w, c.found, MG_HOW_INDEX);
	else if (c.incomplete || (n >= MG_MAX_DEVS && c.cur))
		mg_resolve_fail(w);
	return 0;
}
