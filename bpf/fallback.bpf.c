// SPDX-License-Identifier: GPL-2.0
/*
 * macvguard's fallback deletion monitor, for kernels that refuse fentry/LSM programs but
 * load tracepoint programs (the development host's 6.18 is one).
 *
 * sys_enter_sendmsg / sys_enter_sendto: when the fd is a NETLINK_ROUTE socket, read the
 * first messages of the buffer from user memory and report every RTM_DELLINK with its
 * sender (pid/tid/comm/cgroup, parent), the socket's netns and what it names (ifindex,
 * IFLA_IFNAME). Flag-only: nothing is refused. The agent joins these sender records with
 * the RTM_DELLINK notifications rtnetlink sends when a link actually goes.
 *
 * Kernel reads are CO-RE probe reads; user reads are bpf_probe_read_user (the buffer was
 * just written by the sender, so it is resident; a failed read is counted, not guessed).
 */
#include "helpers.bpf.h"
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define FB_AF_NETLINK      16
#define FB_NETLINK_ROUTE   0
#define FB_RTM_DELLINK     17
#define FB_IFLA_IFNAME     3
#define FB_MAX_MSGS        8      /* messages looked at per send */
#define FB_MAX_ATTRS       8      /* attributes looked at per message */
#define FB_HDR             16     /* nlmsghdr */
#define FB_IFI             16     /* ifinfomsg */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} mg_fb_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_stats);
} mg_fb_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_event);
} mg_fb_buf SEC(".maps");

#define FB_INC(field) MG_STAT_INC_IN(&mg_fb_stats, field)

/* The struct sock behind fd in the current task, if it is a NETLINK_ROUTE socket. */
static __always_inline struct sock *fb_route_sock(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	unsigned int max = BPF_CORE_READ(task, files, fdt, max_fds);
	struct file *file = NULL;
	struct socket *sock;
	struct sock *sk;

	if (fd < 0 || (unsigned int)fd >= max || !fds)
		return NULL;
	if (bpf_core_read(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, file) != file)   /* not a socket */
		return NULL;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != FB_AF_NETLINK ||
	    BPF_CORE_READ(sk, sk_protocol) != FB_NETLINK_ROUTE)
		return NULL;
	return sk;
}

static __always_inline void fb_report(struct sock *sk, const __u8 *ubuf, __u32 off,
				      __u32 mlen, __u16 index)
{
	struct net *net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	struct mg_event *e;
	__u32 zero = 0, aoff;
	__s32 ifindex = 0;
	int i;

	e = bpf_map_lookup_elem(&mg_fb_buf, &zero);
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_boot_ns = bpf_ktime_get_boot_ns();
	e->record = MG_REC_REQUEST;
	e->path = MG_PATH_NETLINK;
	e->action = MG_ACT_DELETE;
	e->msg_type = FB_RTM_DELLINK;
	e->msg_index = index;
	mg_current_requester(e);
	e->req_netns_cookie = mg_net_cookie((__u64)net);
	if (mlen >= FB_HDR + FB_IFI &&
	    bpf_probe_read_user(&ifindex, sizeof(ifindex), ubuf + off + FB_HDR + 4) == 0)
		e->target_ifindex = ifindex > 0 ? ifindex : 0;
	aoff = FB_HDR + FB_IFI;
	for (i = 0; i < FB_MAX_ATTRS; i++) {
		__u16 ah[2] = {};

		if (aoff + 4 > mlen || aoff > 4096)
			break;
		if (bpf_probe_read_user(ah, sizeof(ah), ubuf + off + aoff))
			break;
		if (ah[0] < 4)
			break;
		if ((ah[1] & 0x3fff) == FB_IFLA_IFNAME) {
			bpf_probe_read_user_str(e->req_name, MG_IFNAMSIZ, ubuf + off + aoff + 4);
			break;
		}
		aoff += (ah[0] + 3) & ~3u;
	}
	mg_emit_to(&mg_fb_events, &mg_fb_stats, e);
}

static __always_inline int fb_scan(int fd, const __u8 *ubuf, __u64 len)
{
	struct sock *sk;
	__u32 off = 0;
	int i;

	if (!ubuf || len < FB_HDR)
		return 0;
	sk = fb_route_sock(fd);
	if (!sk)
		return 0;
	FB_INC(route_sends);
	for (i = 0; i < FB_MAX_MSGS; i++) {
		struct nlmsghdr h = {};

		if (off + FB_HDR > len || off > 65536)
			break;
		if (bpf_probe_read_user(&h, sizeof(h), ubuf + off)) {
			FB_INC(fail_closed);   /* unreadable: counted, not guessed */
			break;
		}
		if (h.nlmsg_len < FB_HDR || off + h.nlmsg_len > len)
			break;
		if (h.nlmsg_type == FB_RTM_DELLINK) {
			FB_INC(link_msgs);
			fb_report(sk, ubuf, off, h.nlmsg_len, (__u16)i);
		}
		off += (h.nlmsg_len + 3) & ~3u;
	}
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
	if (bpf_probe_read_user(&iov, sizeof(iov), m.msg_iov))
		return 0;
	return fb_scan((int)ctx->args[0], iov.iov_base, iov.iov_len);
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int mg_fb_sendto(struct trace_event_raw_sys_enter *ctx)
{
	return fb_scan((int)ctx->args[0], (const __u8 *)ctx->args[1], ctx->args[2]);
}
