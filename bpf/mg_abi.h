/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel/user ABI of macvguard: every struct stored in a BPF map or sent through the
 * ring buffer. Plain C types with fixed sizes only, so the BPF object (clang -target bpf)
 * and the agent (gcc, x86_64) agree byte for byte; the _Static_asserts at the end pin it.
 * Bump MG_ABI_VERSION on any change: a restarted agent refuses to adopt pinned state
 * of another version and replaces it.
 */
#ifndef MG_ABI_H
#define MG_ABI_H

#ifdef __bpf__
/* vmlinux.h provides the __u* types */
#else
#include <linux/types.h>
#endif

#define MG_ABI_VERSION      6   /* 5: mg_event says when the guard was not enforcing, counts
                                 * summaries, names the uid (448 B); identity-change actions
                                 * (group, altname), reason unprivileged; mg_stats counts
                                 * unprivileged, unresolved and ioctl requests (80 B); mg_flood
                                 * 6: start windows (mg_start), creation claims (mg_claims),
                                 * reason starting */

#define MG_IFNAMSIZ         16   /* IFNAMSIZ */
#define MG_ALTIFNAMSIZ      128  /* ALTIFNAMSIZ */
#define MG_DOMAIN_LEN       64
#define MG_COMM_LEN         16
#define MG_MAX_GUARDED      4096

#define MG_PIN_DIR          "/sys/fs/bpf/macvguard"

/* Guard modes (mg_config.mode). */
enum mg_mode {
	MG_MODE_ENFORCE = 0,  /* refuse with -EPERM */
	MG_MODE_AUDIT   = 1,  /* allow, emit the would-be refusal */
};

/* mg_tag.flags */
#define MG_TAG_RELEASED    (1u << 0)  /* operator released the link: anyone may delete */
#define MG_TAG_OWNER_GONE  (1u << 1)  /* the agent saw the owner process exit */

/* Link kinds we know how to read queue state for (mg_tag.kind, informational). */
enum mg_kind {
	MG_KIND_OTHER   = 0,
	MG_KIND_MACVTAP = 1,
	MG_KIND_MACVLAN = 2,
	MG_KIND_TUN     = 3,
	MG_KIND_VETH    = 4,
};

/* Key of a guarded link. The netns cookie is a 64-bit counter the kernel never reuses;
 * the BPF side deletes the entry when the device is unregistered, so a later device that
 * gets the same ifindex in the same netns never inherits this tag. */
struct mg_link_key {
	__u64 netns_cookie;
	__u32 ifindex;
	__u32 pad;
};

struct mg_tag {
	char  domain[MG_DOMAIN_LEN];   /* owner domain name, NUL-terminated */
	__u8  uuid[16];                /* owner domain uuid (all zero: unknown) */
	__u64 owner_start;             /* owner start time in clock ticks since boot, as
	                                * /proc/PID/stat field 22 */
	__u64 tagged_at_ns;            /* CLOCK_REALTIME of the tag, for display */
	__u32 owner_pid;               /* owner process (QEMU) tgid, in the initial pid ns */
	__u32 flags;                   /* MG_TAG_* */
	__u32 kind;                    /* enum mg_kind, as seen at tag time */
	__u32 lower_ifindex;           /* lower device at tag time (0: none), informational */
	char  ifname[MG_IFNAMSIZ];     /* name at tag time, informational */
	__u32 tagged_by;               /* enum mg_tag_source */
	__u32 pad;
};

enum mg_tag_source {
	MG_SRC_MANUAL = 0,
	MG_SRC_HOOK   = 1,
	MG_SRC_STATUS = 2,
};

/* A libvirt teardown in progress (map mg_teardown, pinned; key: __u32 thread id of the
 * libvirtd worker that runs the teardown, or its tgid when the thread is unknown).
 * Written by the hook (`stopped` opens the window, `release` closes it); the guard copies
 * an open window's domain into its event (mg_event.teardown), so the kernel's own event
 * says "requested by the teardown of domain D" even while the agent is down. */
struct mg_teardown {
	char  domain[MG_DOMAIN_LEN];   /* domain being torn down */
	__u8  uuid[16];
	__u64 since_ns;                /* CLOCK_BOOTTIME at `stopped` */
	__u64 until_ns;                /* CLOCK_BOOTTIME at `release`; 0 while open */
	__u32 tgid;                    /* libvirtd */
	__u32 tid;                     /* the worker thread that forked the hook; 0: any */
};

/* A libvirt domain start in progress (map mg_start, pinned; key: __u32 thread id of the
 * libvirtd worker that runs the start). Written by the hook: `prepare begin` (and
 * `start begin`, as a backstop) opens it, `started` and `release` remove it; the agent
 * and the hook drop windows of a daemon that is gone. While it is open (and younger than
 * MG_START_WINDOW_MAX_NS), a link that thread creates is claimed for the domain. */
struct mg_start {
	char  domain[MG_DOMAIN_LEN];   /* domain being started */
	__u8  uuid[16];
	__u64 since_ns;                /* CLOCK_BOOTTIME when the window opened */
	__u32 tgid;                    /* libvirtd */
	__u32 tid;                     /* the worker thread that forked the hook */
};

/* A start window bounds itself: older than this it claims nothing and protects nothing,
 * even if no hook ever closed it (a daemon killed during a start). */
#define MG_START_WINDOW_MAX_NS (600ull * 1000000000ull)

/* A creation claim (LRU map mg_claims, pinned): an RTM_NEWLINK with NLM_F_CREATE and
 * IFLA_IFNAME sent by a thread with an open start window. Until that window closes, an
 * untagged device of that name in that netns, created after the request, belongs to the
 * window's domain. The guard writes it; the hook drops it at `started`/`release`. */
struct mg_claim_key {
	__u64 netns_cookie;            /* netns of the requesting socket (where it is created) */
	char  name[MG_IFNAMSIZ];       /* the requested IFLA_IFNAME */
};

struct mg_claim {
	char  domain[MG_DOMAIN_LEN];   /* the start window's domain */
	__u64 since_ns;                /* CLOCK_BOOTTIME of the creation request */
	__u64 window_ns;               /* the window's since_ns: the claim lives while it does */
	__u32 tgid;                    /* the window's daemon and thread (the mg_start key) */
	__u32 tid;
	__s32 ifindex_base;            /* the lowest index the netns could give the device at
	                                * the request: a device below it existed before */
	__u32 pad;
};

/* Per guarded link verdict counters (map mg_counts, same key as mg_guarded). */
struct mg_counts {
	__u64 deny;
	__u64 audit;
	__u64 allow;
};

/* Single-entry array map mg_config. */
struct mg_config {
	__u32 abi_version;
	__u32 mode;          /* enum mg_mode */
};

/* Per-CPU statistics (map mg_stats); the agent sums over CPUs. */
struct mg_stats {
	__u64 route_sends;     /* NETLINK_ROUTE sends past the single-request fast path */
	__u64 link_msgs;       /* DELLINK/NEWLINK/SETLINK messages inspected */
	__u64 events;          /* events written to the ring buffer */
	__u64 events_lost;     /* ring buffer full: events dropped (reserve failed) */
	__u64 fail_closed;     /* messages refused because they could not be fully read */
	__u64 tags_expired;    /* tags removed because their device was unregistered/moved */
	__u64 deletions;       /* deletion records written (device unregistered or delete failed) */
	__u64 unprivileged;    /* link requests of senders without CAP_NET_ADMIN in the target
	                        * netns: the kernel refuses them anyway, so no record (the
	                        * fallback summarises them, mg_flood) */
	__u64 unresolved;      /* fallback: deletes whose target did not exist (summarised) */
	__u64 ioctls;          /* device ioctls inspected (SIOCSIFNAME, SIOCSIFVLAN, ...) */
};

/* What a message asked for. */
enum mg_action {
	MG_ACT_DELETE = 1,
	MG_ACT_RENAME = 2,
	MG_ACT_MOVE   = 3,     /* to another netns */
	MG_ACT_GROUP  = 4,     /* IFLA_GROUP changes the device's group */
	MG_ACT_ALTNAME = 5,    /* RTM_NEWLINKPROP / RTM_DELLINKPROP: an altname added or removed */
};

/* How the message reached the guarded link. */
enum mg_how {
	MG_HOW_INDEX      = 1, /* ifi_index */
	MG_HOW_NAME       = 2, /* IFLA_IFNAME (libvirt's way) */
	MG_HOW_ALTNAME    = 3, /* IFLA_ALT_IFNAME, or IFLA_IFNAME naming an altname */
	MG_HOW_GROUP      = 4, /* IFLA_GROUP */
	MG_HOW_LOWER      = 5, /* the target is a lower device of the guarded link */
	MG_HOW_UNPARSED   = 6, /* the message could not be fully read: fail closed */
	MG_HOW_UNRESOLVED = 7, /* target in another netns by IFLA_TARGET_NETNSID */
	MG_HOW_KERNEL     = 8, /* the kernel unregistered or moved the device (tag expiry) */
	MG_HOW_FD         = 9, /* the tun/tap device attached to the ioctl's file */
};

enum mg_verdict {
	MG_V_NONE  = 0,        /* not guarded: no event */
	MG_V_ALLOW = 1,
	MG_V_DENY  = 2,
	MG_V_AUDIT = 3,        /* would deny; allowed because mode is audit */
	MG_V_GONE  = 4,        /* the device went away; its tag was removed */
};

enum mg_reason {
	MG_R_NONE       = 0,
	MG_R_IN_USE     = 1,   /* queues held open and owner alive */
	MG_R_NOT_IN_USE = 2,   /* no queue held open */
	MG_R_RELEASED   = 3,
	MG_R_OWNER      = 4,   /* requester is the owner process */
	MG_R_OWNER_GONE = 5,
	MG_R_UNPARSED   = 6,
	MG_R_UNRESOLVED = 7,
	MG_R_UNPRIVILEGED = 8, /* sender lacks CAP_NET_ADMIN there: the kernel refuses it too */
	MG_R_STARTING   = 9,   /* untagged, created by a domain's start still in progress */
};

/* Queue state as read from the kernel at decision time. */
enum mg_queues_state {
	MG_Q_NONE    = 0,      /* device has queues and none is held */
	MG_Q_HELD    = 1,      /* at least one queue held open */
	MG_Q_UNKNOWN = 2,      /* kind without queues, or its BTF is missing */
};

struct mg_event {
	__u64 ts_boot_ns;              /* bpf_ktime_get_boot_ns() */
	__u64 req_netns_cookie;        /* netns of the requesting socket */
	__u64 link_netns_cookie;       /* netns of the guarded link */
	__u64 cgroup_id;
	__u32 pid;                     /* requester tgid */
	__u32 tid;
	__u32 ppid;                    /* requester's parent tgid */
	__u32 ifindex;                 /* guarded link */
	__u32 target_ifindex;          /* device the message resolved to (lower, for HOW_LOWER) */
	__u32 owner_pid;
	__u32 queues;                  /* queues held, when known */
	__u16 msg_type;                /* RTM_* */
	__u16 msg_index;               /* position of the message in the sendmsg batch */
	__u8  action;                  /* enum mg_action */
	__u8  how;                     /* enum mg_how */
	__u8  verdict;                 /* enum mg_verdict */
	__u8  reason;                  /* enum mg_reason */
	__u8  mode;                    /* enum mg_mode at decision time */
	__u8  queues_state;            /* enum mg_queues_state */
	__u8  unenforced;              /* enum mg_unenforced: the guard could not refuse (the
	                                * fallback flagged this verdict), and why; 0: n/a */
	__u8  pad;
	char  comm[MG_COMM_LEN];
	char  ifname[MG_IFNAMSIZ];     /* guarded link's current name */
	char  req_name[MG_ALTIFNAMSIZ];/* name the message asked for, if any */
	char  domain[MG_DOMAIN_LEN];   /* owner domain */
	__u8  uuid[16];
	char  teardown[MG_DOMAIN_LEN]; /* domain whose libvirt teardown (open window in
	                                * mg_teardown) the requesting thread runs, or "" */
	/* deletion records (the kernel's unregister path) and their correlation. */
	__u8  record;                  /* enum mg_record */
	__u8  path;                    /* enum mg_path */
	__u8  result;                  /* enum mg_result */
	__u8  req_known;               /* 1: pid/tid/comm/cgroup/ppid are the requester's */
	__s32 err;                     /* MG_RES_FAILED: the kernel's -errno */
	__u32 lower_ifindex;           /* lower device (macvlan/macvtap), 0: none or unknown */
	__u32 pad2;
	char  kind[MG_IFNAMSIZ];       /* rtnl_link_ops->kind ("tap" for a tun in tap mode) */
	char  lower_name[MG_IFNAMSIZ];
	char  pcomm[MG_COMM_LEN];      /* requester's parent comm (a hook child's libvirtd) */
	__u32 count;                   /* MG_REC_SUMMARY: requests summarised (else 0 or 1) */
	__u32 uid;                     /* requester's uid (initial user namespace) */
};

/* Why the guard could not refuse (mg_event.unenforced): the fallback's verdicts are flags. */
enum mg_unenforced {
	MG_UE_NONE       = 0,
	MG_UE_REFUSED    = 1,          /* the kernel refused the BPF LSM/fentry programs */
	MG_UE_LSM_OFF    = 2,          /* LSM program loaded but never ran ("bpf" not in lsm=) */
	MG_UE_NO_BTF     = 3,          /* no kernel BTF: the guard cannot load */
};

/* Fallback: link requests that cannot have caused a deletion, summarised per sender
 * (map mg_flood, LRU; the agent reads and deletes each entry once a second and writes one
 * summary record per entry). A sender is a uid (and, for root, a comm): a flood from many
 * short-lived processes (a shell loop of `ip link del`) is still one record per interval. */
enum mg_flood_why {
	MG_FLOOD_NOT_PERMITTED = 1,    /* no CAP_NET_ADMIN in the target netns's user ns */
	MG_FLOOD_UNRESOLVED    = 2,    /* allowed, but the delete named no existing device */
};

struct mg_flood_key {
	__u32 uid;
	__u32 why;                     /* enum mg_flood_why */
	char  comm[MG_COMM_LEN];       /* uid 0 only (root's tools stay apart); "" otherwise,
	                                * so no other user can multiply its summaries */
};

struct mg_flood {
	__u64 count;
	__u64 first_ns;                /* CLOCK_BOOTTIME of the first and last request */
	__u64 last_ns;
	__u64 netns_cookie;            /* of the last request's socket */
	__u64 cgroup_id;
	__u32 pid;                     /* last request's sender */
	__u32 tid;
	__u32 ppid;
	__u32 target_ifindex;          /* what the last request named, if an index */
	__u16 msg_type;
	__u16 pad;
	__u32 pad2;
	char  comm[MG_COMM_LEN];
	char  req_name[MG_IFNAMSIZ];
};

/* What a record is. */
enum mg_record {
	MG_REC_REQUEST = 0,            /* the guard's verdict on a netlink request */
	MG_REC_DELETE  = 1,            /* a device was unregistered, or a delete failed */
	MG_REC_SUMMARY = 2,            /* fallback: `count` requests of one sender that could
	                                * not have deleted anything, in one interval */
};

/* How a device went away (deletion records), or came to be asked about (requests). */
enum mg_path {
	MG_PATH_UNKNOWN  = 0,          /* fallback: no sender seen */
	MG_PATH_NETLINK  = 1,          /* RTM_DELLINK (rtnl_dellink) */
	MG_PATH_CASCADE  = 2,          /* its lower device (or a device it hangs on) went */
	MG_PATH_NETNS    = 3,          /* its network namespace was torn down */
	MG_PATH_TAPCLOSE = 4,          /* last fd of a non-persistent tun/tap closed */
	MG_PATH_OTHER    = 5,          /* another kernel path (module unload, ...) */
	MG_PATH_IOCTL    = 6,          /* a device ioctl (SIOCSIFNAME, SIOCSIFVLAN, ...): msg_type
	                                * is 0 and err holds the ioctl command */
};

enum mg_result {
	MG_RES_NONE    = 0,            /* a request that deletes nothing (rename/move verdicts) */
	MG_RES_DELETED = 1,
	MG_RES_REFUSED = 2,            /* the guard refused the request */
	MG_RES_FAILED  = 3,            /* the kernel failed the request: err */
	MG_RES_UNSEEN  = 4,            /* fallback: a sent RTM_DELLINK no notification matched
	                                * (failed, or named no existing device) */
	MG_RES_NOT_PERMITTED = 5,      /* fallback: the sender lacks CAP_NET_ADMIN there */
};

_Static_assert(sizeof(struct mg_link_key) == 16, "mg_link_key ABI");
_Static_assert(sizeof(struct mg_tag) == 136, "mg_tag ABI");
_Static_assert(sizeof(struct mg_teardown) == 104, "mg_teardown ABI");
_Static_assert(sizeof(struct mg_start) == 96, "mg_start ABI");
_Static_assert(sizeof(struct mg_claim_key) == 24, "mg_claim_key ABI");
_Static_assert(sizeof(struct mg_claim) == 96, "mg_claim ABI");
_Static_assert(sizeof(struct mg_counts) == 24, "mg_counts ABI");
_Static_assert(sizeof(struct mg_config) == 8, "mg_config ABI");
_Static_assert(sizeof(struct mg_stats) == 80, "mg_stats ABI");
_Static_assert(sizeof(struct mg_event) == 448, "mg_event ABI");
_Static_assert(sizeof(struct mg_flood) == 96, "mg_flood ABI");
_Static_assert(sizeof(struct mg_flood_key) == 24, "mg_flood_key ABI");
_Static_assert(__builtin_offsetof(struct mg_event, comm) == 72, "mg_event layout");
_Static_assert(__builtin_offsetof(struct mg_tag, owner_start) == 80, "mg_tag layout");
_Static_assert(__builtin_offsetof(struct mg_event, record) == 376, "mg_event layout");
_Static_assert(__builtin_offsetof(struct mg_event, kind) == 392, "mg_event layout");

#endif /* MG_ABI_H */
