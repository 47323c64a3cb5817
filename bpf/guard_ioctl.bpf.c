// SPDX-License-Identifier: GPL-2.0
/*
 * The guard's ioctl side: lsm/file_ioctl (and file_ioctl_compat, 32-bit callers), or the
 * same check as fmod_ret on security_file_ioctl(_compat) where BPF LSM is not active.
 *
 * rtnetlink is not the only way to rename or delete a device. The ioctls that do it are
 * judged here with the same policy and the same resolution as a netlink request:
 *
 *  - SIOCSIFNAME (socket): rename the device named in the ifreq;
 *  - SIOCSIFVLAN DEL_VLAN_CMD (socket): delete a vlan device, and what is stacked on it;
 *  - SIOCBRDELBR, and SIOCSIFBR BRCTL_DEL_BRIDGE (socket): delete a bridge, likewise;
 *  - TUNSETPERSIST 0 (/dev/net/tun): a persistent tun/tap goes when its last queue closes.
 *
 * Names are looked up in the socket's netns by guard_resolve.bpf.c (name or altname, as
 * __dev_get_by_name does). The argument is user memory, read here with
 * bpf_probe_read_user: unreadable means refused while anything is guarded. The kernel
 * copies it again after this hook; see docs/policy.md (limits) for what that allows.
 * SIOCBRDELIF (and IFLA_MASTER 0 through rtnetlink) removes a port from its bridge and
 * deletes no device: not refused.
 */
#include "guard.bpf.h"
#include <bpf/bpf_tracing.h>
#include "mg_policy.h"

char LICENSE[] SEC("license") = "GPL";

#define MG_EPERM          1
#define MG_SIOCSIFNAME    0x8923
#define MG_SIOCSIFBR      0x8941
#define MG_SIOCSIFVLAN    0x8983
#define MG_SIOCBRDELBR    0x89a1
#define MG_TUNSETPERSIST  0x400454cb     /* _IOW('T', 203, int) */
#define MG_DEL_VLAN_CMD   1
#define MG_BRCTL_DEL_BRIDGE 3
#define MG_VLAN_NAME_LEN  24             /* vlan_ioctl_args.device1 */
#define MG_S_IFMT         0170000
#define MG_S_IFSOCK       0140000
#define MG_S_IFCHR        0020000
#define MG_TUN_RDEV       ((10u << 20) | 200u)  /* MKDEV(MISC_MAJOR, TUN_MINOR) */
#define MG_IFF_PERSIST    0x0800

/* tun module types, local flavours with only the fields read. */
struct tun_struct___mgi {
	unsigned int flags;
	struct net_device *dev;
} __attribute__((preserve_access_index));

struct tun_file___mgi {
	struct tun_struct___mgi *tun;
} __attribute__((preserve_access_index));

static long mg_any_tag_cb(struct bpf_map *map, const void *key, void *value, void *ctx)
{
	*(int *)ctx = 1;
	return 1;
}

static __always_inline int mg_ioctl_cmd_watched(unsigned int cmd)
{
	return cmd == MG_SIOCSIFNAME || cmd == MG_SIOCSIFVLAN || cmd == MG_SIOCBRDELBR ||
	       cmd == MG_SIOCSIFBR || cmd == MG_TUNSETPERSIST;
}

/* The name at user address uptr (n bytes, n <= MG_VLAN_NAME_LEN) into w->req, cut as the
 * kernel cuts it (last byte NUL). Returns -1 when unreadable. */
static __always_inline int mg_user_name(struct mg_walk *w, __u64 uptr, __u32 n)
{
	__builtin_memset(w->req, 0, sizeof(w->req));
	if (n > MG_VLAN_NAME_LEN)
		n = MG_VLAN_NAME_LEN;
	if (bpf_probe_read_user(w->req, n, (const void *)uptr))
		return -1;
	w->req[(n - 1) & (MG_ALTIFNAMSIZ - 1)] = 0;
	return 0;
}

/* A socket ioctl: the device is named in user memory, looked up in the socket's netns. */
static __always_inline void mg_ioctl_socket(struct mg_walk *w, unsigned int cmd, __u64 arg,
					    __u32 compat)
{
	w->m.has_ifname = 1;        /* how: "name" (or "altname" when it names an altname) */
	if (cmd == MG_SIOCSIFNAME) {
		/* struct ifreq: ifr_name[16], then ifr_newname[16] */
		if (mg_user_name(w, arg, MG_IFNAMSIZ) ||
		    bpf_probe_read_user(w->newname, MG_IFNAMSIZ, (const void *)(arg + MG_IFNAMSIZ))) {
			mg_report_unreadable(w, MG_HOW_UNPARSED);
			return;
		}
		w->newname[MG_IFNAMSIZ - 1] = 0;
		w->ident = MG_IDENT_NAME;
		w->action = MG_ACT_GROUP;   /* judged in mg_check_guarded, as a netlink rename */
	} else if (cmd == MG_SIOCSIFVLAN) {
		int vcmd = 0;

		/* struct vlan_ioctl_args: int cmd; char device1[24]; ... */
		if (bpf_probe_read_user(&vcmd, sizeof(vcmd), (const void *)arg)) {
			mg_report_unreadable(w, MG_HOW_UNPARSED);
			return;
		}
		if (vcmd != MG_DEL_VLAN_CMD)
			return;
		if (mg_user_name(w, arg + 4, MG_VLAN_NAME_LEN)) {
			mg_report_unreadable(w, MG_HOW_UNPARSED);
			return;
		}
		w->action = MG_ACT_DELETE;
	} else if (cmd == MG_SIOCBRDELBR) {
		if (mg_user_name(w, arg, MG_IFNAMSIZ)) {
			mg_report_unreadable(w, MG_HOW_UNPARSED);
			return;
		}
		w->action = MG_ACT_DELETE;
	} else {
		/* SIOCSIFBR: unsigned long args[3] (compat: u32); args[1] points to the name */
		__u64 a0 = 0, a1 = 0;
		int bad;

		if (compat) {
			__u32 a[2] = {};

			bad = bpf_probe_read_user(a, sizeof(a), (const void *)arg) != 0;
			a0 = a[0];
			a1 = a[1];
		} else {
			__u64 a[2] = {};

			bad = bpf_probe_read_user(a, sizeof(a), (const void *)arg) != 0;
			a0 = a[0];
			a1 = a[1];
		}
		if (bad) {
			mg_report_unreadable(w, MG_HOW_UNPARSED);
			return;
		}
		if (a0 != MG_BRCTL_DEL_BRIDGE)
			return;
		if (mg_user_name(w, a1, MG_IFNAMSIZ)) {
			mg_report_unreadable(w, MG_HOW_UNPARSED);
			return;
		}
		w->action = MG_ACT_DELETE;
	}
	if (!w->req[0])
		return;                     /* no such device: the kernel fails it */
	/* A rename by ioctl is judged on the device itself only: unlike a netlink send, one
	 * ioctl carries no later request that could find a lower device (or its veth peer)
	 * under its new name before the guard sees it; the next request is judged then. */
	mg_resolve_walk(w, 0);
}

/* TUNSETPERSIST 0 on a tun fd: its device (a persistent one) goes with its last queue. */
static __always_inline void mg_ioctl_tun(struct mg_walk *w, __u64 file)
{
	struct tun_file___mgi *tfile = BPF_CORE_READ((struct file *)file, private_data);
	struct tun_struct___mgi *tun = NULL;
	struct net_device *dev = NULL;
	unsigned int flags = 0;

	w->unpriv = 0;              /* the tun's owner may do it without CAP_NET_ADMIN */
	w->action = MG_ACT_DELETE;
	if (!bpf_core_field_exists(tfile->tun) || !bpf_core_field_exists(tun->flags) ||
	    !bpf_core_field_exists(tun->dev) || !tfile ||
	    bpf_core_read(&tun, sizeof(tun), &tfile->tun)) {
		mg_report_unreadable(w, MG_HOW_UNPARSED);   /* no tun BTF: fail closed */
		return;
	}
	if (!tun)
		return;                     /* not attached: the kernel fails it (EBADFD) */
	if (bpf_core_read(&flags, sizeof(flags), &tun->flags) ||
	    bpf_core_read(&dev, sizeof(dev), &tun->dev) || !dev) {
		mg_report_unreadable(w, MG_HOW_UNPARSED);
		return;
	}
	if (!(flags & MG_IFF_PERSIST))
		return;                     /* not persistent: nothing changes */
	w->target_ifindex = BPF_CORE_READ(dev, ifindex);
	mg_check_guarded(w, (__u64)dev, MG_HOW_FD);
	if (!w->refused)
		mg_check_uppers(w, (__u64)dev);
}

/* One watched ioctl: 0 or -EPERM. Inlined: a global function takes no BTF pointer. */
static __always_inline int mg_ioctl_check(__u64 file, __u32 cmd, __u64 arg, __u32 compat)
{
	struct inode *inode = BPF_CORE_READ((struct file *)file, f_inode);
	__u32 mode = BPF_CORE_READ(inode, i_mode) & MG_S_IFMT;
	struct mg_slots *slots;
	struct mg_walk *w;
	__u32 zero = 0, slot_key;
	__u64 net = 0;
	int slot, verdict = 0, is_tun = 0;

	if (cmd == MG_TUNSETPERSIST) {
		__u64 dev_net = 0;
		struct tun_file___mgi *tfile;
		struct tun_struct___mgi *tun = NULL;
		struct net_device *dev = NULL;

		if (arg != 0 || mode != MG_S_IFCHR || BPF_CORE_READ(inode, i_rdev) != MG_TUN_RDEV)
			return 0;
		is_tun = 1;
		/* the device's netns, for the event (the walk's "requester netns") */
		tfile = BPF_CORE_READ((struct file *)file, private_data);
		if (bpf_core_field_exists(tfile->tun) && bpf_core_field_exists(tun->dev) && tfile &&
		    !bpf_core_read(&tun, sizeof(tun), &tfile->tun) && tun &&
		    !bpf_core_read(&dev, sizeof(dev), &tun->dev) && dev)
			dev_net = mg_dev_net((__u64)dev);
		net = dev_net;
	} else {
		struct socket *sock;

		if (mode != MG_S_IFSOCK)
			return 0;
		sock = BPF_CORE_READ((struct file *)file, private_data);
		net = (__u64)BPF_CORE_READ(sock, sk, __sk_common.skc_net.net);
		if (!net)
			return 0;
	}
	MG_STAT_INC(ioctls);
	slots = bpf_map_lookup_elem(&mg_slot_busy, &zero);
	if (!slots)
		return 0;
	slot = mg_take_slot(slots);
	if (slot < 0) {
		/* four preempted runs on this CPU: nowhere to work; fail closed */
		int any = 0;

		MG_STAT_INC(fail_closed);
		bpf_for_each_map_elem(&mg_guarded, mg_any_tag_cb, &any, 0);
		return any ? -MG_EPERM : 0;
	}
	slot_key = (__u32)slot;
	w = bpf_map_lookup_elem(&mg_scratch, &slot_key);
	if (!w)
		goto out;
	mg_walk_begin(w, net, MG_PATH_IOCTL);
	w->ioctl_cmd = cmd;
	if (is_tun)
		mg_ioctl_tun(w, file);
	else
		mg_ioctl_socket(w, cmd, arg, compat);
	if (w->refused)
		verdict = -MG_EPERM;
out:
	__sync_lock_test_and_set(&slots->busy[slot & (MG_SLOTS - 1)], 0);
	return verdict;
}

/* Every ioctl on the host passes here: anything but the watched commands leaves at once. */
SEC("lsm/file_ioctl")
int BPF_PROG(mg_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	if (!mg_ioctl_cmd_watched(cmd))
		return 0;
	return mg_ioctl_check((__u64)file, cmd, arg, 0);
}

SEC("lsm/file_ioctl_compat")
int BPF_PROG(mg_file_ioctl_compat, struct file *file, unsigned int cmd, unsigned long arg,
	     int ret)
{
	if (ret)
		return ret;
	if (!mg_ioctl_cmd_watched(cmd))
		return 0;
	return mg_ioctl_check((__u64)file, cmd, arg, 1);
}

/* Where BPF LSM is not active: the same check on the entry of the security_ functions. */
SEC("fmod_ret/security_file_ioctl")
int BPF_PROG(mg_file_ioctl_fmodret, struct file *file, unsigned int cmd, unsigned long arg,
	     int ret)
{
	if (ret)
		return ret;
	if (!mg_ioctl_cmd_watched(cmd))
		return 0;
	return mg_ioctl_check((__u64)file, cmd, arg, 0);
}

SEC("fmod_ret/security_file_ioctl_compat")
int BPF_PROG(mg_file_ioctl_compat_fmodret, struct file *file, unsigned int cmd,
	     unsigned long arg, int ret)
{
	if (ret)
		return ret;
	if (!mg_ioctl_cmd_watched(cmd))
		return 0;
	return mg_ioctl_check((__u64)file, cmd, arg, 1);
}
