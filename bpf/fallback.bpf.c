// SPDX-License-Identifier: GPL-2.0
/*
 * macvguard's fallback, for kernels that refuse fentry/LSM programs but load tracepoint
 * programs (the development host's 6.18 is one): the guard's own walk and policy, run at
 * syscall entry, flagging what the guard would have refused.
 *
 * sys_enter_sendmsg / sys_enter_sendto: when the fd is a NETLINK_ROUTE socket, the user
 * buffer is walked exactly as lsm/netlink_send walks the skb (guard_walk.bpf.c,
 * guard_resolve.bpf.c, mg_nlparse.h reading user memory): every link request's target is
 * resolved in the socket's netns through CO-RE reads, with the devices stacked on it, and
 * a guarded target is decided by mg_policy.h with its queues read now, at the time of the
 * request. The mode is audit (nothing can be refused here) and every record says the guard
 * was not enforcing, and why (mg_fb_why, set by the agent). Verdicts and one sender
 * record per resolved delete target go to the guard's ring buffer (the agent reuses the
 * guard's mg_events, mg_guarded, mg_counts, mg_config, mg_stats and mg_teardown maps);
 * the agent joins them with the rtnetlink notification of the deletion.
 *
 * Requests that cannot have deleted anything never reach the ring buffer: a sender without
 * CAP_NET_ADMIN in the user namespace of the socket's netns (rtnetlink refuses it), or a
 * delete that named no existing device, is counted in mg_flood per uid (root: per uid and
 * comm), which the agent
 * reads once a second as one summary record per sender. An unprivileged flood costs the
 * real events neither ring space nor journal space.
 *
 * Limits: only the first iovec of a sendmsg is read (a longer one is reported as
 * unreadable); sendmmsg and io_uring sends are not seen; the buffer is read at syscall
 * entry, so a sender that rewrites it before the kernel copies it can mislead a flag.
 */
#include "guard_walk.bpf.h"
#include "start_claims.bpf.h"
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define FB_AF_NETLINK      16
#define FB_NETLINK_ROUTE   0
#define FB_CAP_NET_ADMIN   12
#define FB_MAX_USERNS      33      /* user namespaces nest at most 32 deep */
#define FB_NS_PER_TICK     10000000ULL

/* Why the guard is not enforcing (enum mg_unenforced), set by the agent before load. */
const volatile __u8 mg_fb_why = MG_UE_REFUSED;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct mg_flood_key);
	__type(value, struct mg_flood);
} mg_flood SEC(".maps");

/* The socket's struct sock and file behind fd, if it is a NETLINK_ROUTE socket. Ordered
 * so that a send on any other socket costs as few reads as possible. */
static __always_inline struct sock *fb_route_sock(int fd, struct file **filep)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = NULL;
	struct file *file = NULL;
	unsigned int max = 0;
	struct socket *sock;
	struct sock *sk;

	if (fd < 0 || !fdt || bpf_core_read(&max, sizeof(max), &fdt->max_fds) ||
	    (unsigned int)fd >= max || bpf_core_read(&fds, sizeof(fds), &fdt->fd) || !fds)
		return NULL;
	if (bpf_core_read(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock)
		return NULL;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != FB_AF_NETLINK ||
	    BPF_CORE_READ(sk, sk_protocol) != FB_NETLINK_ROUTE)
		return NULL;
	if (BPF_CORE_READ(sock, file) != file)   /* private_data was not a socket */
		return NULL;
	*filep = file;
	return sk;
}

/* cap_capable(): does cred hold CAP_NET_ADMIN in user namespace target? */
static __always_inline int fb_cred_capable(const struct cred *cred, struct user_namespace *target)
{
	struct user_namespace *cns, *ns = target, *parent;
	__u32 euid = 0, owner = 0;
	__u64 caps = 0;
	int clevel = 0, level = 0, i;

	if (!cred || !target)
		return 0;
	cns = BPF_CORE_READ(cred, user_ns);
	if (bpf_core_read(&clevel, sizeof(clevel), &cns->level) ||
	    bpf_core_read(&euid, sizeof(euid), &cred->euid))
		return 0;
	for (i = 0; i < FB_MAX_USERNS; i++) {
		if (ns == cns) {
			/* kernel_cap_t is 64 bits in every layout (u64 val, or u32 cap[2]) */
			if (bpf_core_read(&caps, sizeof(caps), &cred->cap_effective))
				return 0;
			return (caps >> FB_CAP_NET_ADMIN) & 1;
		}
		if (bpf_core_read(&level, sizeof(level), &ns->level) || level <= clevel)
			return 0;
		parent = BPF_CORE_READ(ns, parent);
		if (parent == cns && bpf_core_read(&owner, sizeof(owner), &ns->owner) == 0 &&
		    owner == euid)
			return 1;   /* the owner of a child namespace has every capability in it */
		ns = parent;
		if (!ns)
			return 0;
	}
	return 0;
}

/* netlink_net_capable(): the socket's opener and the sender both need the capability. */
static __always_inline int fb_capable(struct sock *sk, struct file *file)
{
	struct user_namespace *uns = BPF_CORE_READ(sk, __sk_common.skc_net.net, user_ns);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct cred *tc = BPF_CORE_READ(task, cred);
	const struct cred *fc = BPF_CORE_READ(file, f_cred);

	if (!fb_cred_capable(tc, uns))
		return 0;
	return fc == tc || fb_cred_capable(fc, uns);
}

/* Count n requests of this sender that could not have deleted anything. */
static __always_inline void fb_flood(struct mg_walk *w, __u32 why, __u64 n)
{
	struct mg_flood_key k = { .uid = (__u32)bpf_get_current_uid_gid(), .why = why };
	struct mg_flood *f;
	__u64 now = bpf_ktime_get_boot_ns();

	if (k.uid == 0)
		bpf_get_current_comm(k.comm, sizeof(k.comm));
	f = bpf_map_lookup_elem(&mg_flood, &k);

	if (!f) {
		struct mg_flood z = {};

		z.first_ns = now;
		bpf_map_update_elem(&mg_flood, &k, &z, BPF_NOEXIST);
		f = bpf_map_lookup_elem(&mg_flood, &k);
		if (!f)
			return;
	}
	__sync_fetch_and_add(&f->count, n);
	f->last_ns = now;
	f->netns_cookie = w->req_cookie;
	f->cgroup_id = bpf_get_current_cgroup_id();
	f->pid = w->tgid;
	f->tid = w->tid;
	f->ppid = (__u32)w->ppid_tgid;
	f->msg_type = w->m.type;
	f->target_ifindex = w->m.ifindex > 0 ? w->m.ifindex : 0;
	__builtin_memcpy(f->req_name, w->m.ifname, sizeof(f->req_name));
	bpf_get_current_comm(f->comm, sizeof(f->comm));
	if (why == MG_FLOOD_NOT_PERMITTED)
		MG_STAT_INC(unprivileged);
	else
		MG_STAT_INC(unresolved);
}

/* Unprivileged sender: count its link requests, parse nothing else. */
static long fb_count_step(__u32 i, void *ctx)
{
	struct mg_walk *w = *(struct mg_walk **)ctx;
	struct mg_msghdr h = {};
	__u32 next = 0;

	if (mg_msg_at(&w->src, w->msg_off, &h, &next) != MG_MSG_OK)
		return 1;
	if (mg_is_link_request(&h)) {
		w->dels++;
		w->m.type = h.type;
	}
	w->msg_off = next;
	return 0;
}

static __always_inline int fb_scan(int fd, __u64 ubuf, __u64 ulen)
{
	struct task_struct *task;
	struct mg_slots *slots;
	struct file *file = NULL;
	struct mg_walk *w;
	struct sock *sk;
	__u32 zero = 0, slot_key, len;
	__u64 pid_tgid;
	int slot;

	if (!ubuf || ulen < MG_NLMSG_HDRLEN)
		return 0;
	sk = fb_route_sock(fd, &file);
	if (!sk)
		return 0;
	len = ulen > 0x7fffffff ? 0x7fffffff : (__u32)ulen;
	/* Fast path, as the LSM's: one message that is not a link request. */
	{
		struct mg_src src = { .base = ubuf, .len = len, .user = 1 };
		struct mg_msghdr h = {};
		__u32 next = 0;
		int st = mg_msg_at(&src, 0, &h, &next);

		if (st == MG_MSG_END)
			return 0;
		if (st == MG_MSG_OK && next >= len && !mg_is_link_request(&h))
			return 0;
	}
	{
		struct mg_stats *st = mg_stats_get();
		if (st)
			__sync_fetch_and_add(&st->route_sends, 1);
	}
	slots = bpf_map_lookup_elem(&mg_slot_busy, &zero);
	if (!slots)
		return 0;
	slot = mg_take_slot(slots);
	if (slot < 0) {
		MG_STAT_INC(fail_closed);   /* four nested runs on this CPU: counted, not read */
		return 0;
	}
	slot_key = (__u32)slot;
	w = bpf_map_lookup_elem(&mg_scratch, &slot_key);
	if (!w)
		goto out;
	w->src.base = ubuf;
	w->src.len = len;
	w->src.user = 1;
	w->msg_off = 0;
	w->refused = 0;
	w->unreadable = 0;
	w->found = 0;
	w->dels = 0;
	w->m.type = 0;
	w->m.ifindex = 0;
	w->m.ifname[0] = 0;
	w->flag_only = mg_fb_why ? mg_fb_why : MG_UE_REFUSED;
	w->path = MG_PATH_NETLINK;
	w->unpriv = 0;          /* unprivileged senders are summarised before the walk */
	w->ident = 0;
	w->mode = MG_MODE_AUDIT;    /* nothing can be refused: the policy's refusals are flags */
	w->net = (__u64)BPF_CORE_READ(sk, __sk_common.skc_net.net);
	w->req_cookie = mg_net_cookie(w->net);
	pid_tgid = bpf_get_current_pid_tgid();
	w->tgid = pid_tgid >> 32;
	w->tid = (__u32)pid_tgid;
	task = (struct task_struct *)bpf_get_current_task();
	w->owner_ticks = BPF_CORE_READ(task, group_leader, start_boottime) / FB_NS_PER_TICK;
	w->ppid_tgid = BPF_CORE_READ(task, real_parent, tgid);
	mg_resolve_begin(w);

	if (!fb_capable(sk, file)) {
		/* rtnetlink refuses every link change of this sender: nothing to flag, nobody
		 * to blame; counted per uid, summarised by the agent */
		struct mg_walk *wp = w;

		bpf_loop(64, fb_count_step, &wp, 0);
		if (w->dels)
			fb_flood(w, MG_FLOOD_NOT_PERMITTED, w->dels);
		goto out;
	}
	mg_walk_batch(w, len);
	mg_walk_finish(w);          /* an unreadable rest is flagged whatever was read before */
	if (!w->unreadable)
		mg_start_record(w, len);    /* a starting domain's creations: claimed */
	if (w->dels > w->found)
		fb_flood(w, MG_FLOOD_UNRESOLVED, w->dels - w->found);
out:
	__sync_lock_test_and_set(&slots->busy[slot & (MG_SLOTS - 1)], 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int mg_fb_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	struct user_msghdr *umsg = (void *)ctx->args[1];
	struct user_msghdr m = {};
	struct iovec iov = {};

	if (!umsg || bpf_probe_read_user(&m, sizeof(m), umsg) || !m.msg_iov || !m.msg_iovlen)
		return 0;
	if (m.msg_name && m.msg_namelen) {
		/* netlink_sendmsg refuses any address that is not AF_NETLINK: one user read
		 * instead of the socket walk for every addressed non-netlink send */
		__u16 family = 0;

		if (bpf_probe_read_user(&family, sizeof(family), m.msg_name) == 0 &&
		    family != FB_AF_NETLINK)
			return 0;
	}
	if (bpf_probe_read_user(&iov, sizeof(iov), m.msg_iov))
		return 0;
	if (m.msg_iovlen > 1) {
		/* the kernel joins every iovec into one skb; only the first is read here */
		struct file *file = NULL;

		if (fb_route_sock((int)ctx->args[0], &file)) {
			MG_STAT_INC(fail_closed);
			return 0;
		}
	}
	return fb_scan((int)ctx->args[0], (__u64)iov.iov_base, iov.iov_len);
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int mg_fb_sendto(struct trace_event_raw_sys_enter *ctx)
{
	const void *addr = (const void *)ctx->args[4];

	if (addr && ctx->args[5]) {
		__u16 family = 0;

		if (bpf_probe_read_user(&family, sizeof(family), addr) == 0 &&
		    family != FB_AF_NETLINK)
			return 0;
	}
	return fb_scan((int)ctx->args[0], ctx->args[1], ctx->args[2]);
}
