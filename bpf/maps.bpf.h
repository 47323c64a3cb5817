/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every map of the guard object (build/guard.bpf.o, skeleton guard_bpf), defined once,
 * with the BPF-private types stored in them. guard_request.bpf.c, guard_resolve.bpf.c and
 * monitor.bpf.c each include this file and are linked into one object (Makefile,
 * `bpftool gen object`).
 *
 * The definitions are __weak: each compiled file carries an identical copy and the static
 * linker keeps one, so all files share one map. They must stay identical across files,
 * which including this one header guarantees.
 *
 * Maps shared with user space (the agent pins them) hold only mg_abi.h types: mg_guarded,
 * mg_counts, mg_config, mg_stats, mg_events, mg_teardown. The others are the kernel side's
 * own working state.
 */
#ifndef MG_MAPS_BPF_H
#define MG_MAPS_BPF_H

#include "helpers.bpf.h"
#include "mg_nlparse.h"

#define MG_SLOTS          4      /* nested (preempted) guard runs per CPU */
#define MG_UPPER_QUEUE    2048   /* devices whose uppers one deletion walks (power of 2) */

/* ---- shared with user space ---- */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_GUARDED);
	__type(key, struct mg_link_key);
	__type(value, struct mg_tag);
} mg_guarded __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_GUARDED);
	__type(key, struct mg_link_key);
	__type(value, struct mg_counts);
} mg_counts __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_config);
} mg_config __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_stats);
} mg_stats __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);   /* 4 MiB: ~9,300 records of 448 (+8) bytes, for bursts */
} mg_events __weak SEC(".maps");

/* libvirt teardown windows, written by `macvguard hook qemu D stopped|release`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct mg_teardown);
} mg_teardown __weak SEC(".maps");

/* ---- deletion monitor state ---- */

/* What the current task is doing when a device goes (set by fentry on rtnl_dellink /
 * default_device_exit_batch / tun_chr_close, nesting counted on the unregister
 * function), keyed by thread id. */
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
} mg_task __weak SEC(".maps");

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
} mg_pending __weak SEC(".maps");

/* Threads with entries in mg_pending: fexit/rtnl_dellink walks mg_pending (every bucket of
 * it) only for these, not on every delete. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} mg_pending_tids __weak SEC(".maps");

/* One event being built on the deletion path (runs under RTNL: never nested per CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_event);
} mg_delbuf __weak SEC(".maps");

/* ---- guard (request) state ---- */

/* Staging for a verdict into mg_pending (helpers take map values, not the scratch). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_event);
} mg_pendbuf __weak SEC(".maps");

/* A name being looked up in the kernel's name hash (guard_resolve.bpf.c). */
struct mg_name_key {
	__u64 w0, w1;                /* first 16 bytes of the name, zero-padded */
	__u64 want_dev;              /* or: the node of this device (self-check) */
	__u64 found;                 /* out: struct netdev_name_node * */
	__u32 len;                   /* strnlen(name, 16) */
	__u32 pad;
};

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
	__u8  flag_only;             /* enum mg_unenforced: the fallback (verdicts are flags, no
	                              * pending map, a sender record for unguarded targets);
	                              * 0: the LSM guard */
	__u8  pad;
	__u32 target_ifindex;
	__u32 found;                 /* fallback: targets resolved (not counting uppers) */
	__u32 dels;                  /* fallback: readable RTM_DELLINKs in the batch */
	/* Queue of devices whose uppers are walked. Its indexes live here, in map memory,
	 * not in the loop's stack context: the 6.8+ verifier re-verifies bpf_loop callbacks
	 * until their state converges, and exact stack counters never converge. */
	__u32 uq_cur;
	__u32 uq_n;
	__u64 uq_dev[MG_UPPER_QUEUE];
	/* Resolution budget of this send (guard_resolve.bpf.c, reset by mg_resolve_begin). */
	__u32 rs_budget;             /* units left */
	__u8  rs_over;               /* the budget ran out in this send */
	__u8  rs_failed;             /* this send has failed closed once (reported once) */
	__u8  rs_pad[2];
	struct mg_name_key nk;
	struct mg_event ev;          /* the event being built */
	/* guard-request: identity changes (mg_request_action) and the sender's rights */
	__u64 ident_dev;             /* the direct target whose identity really changes */
	char  newname[MG_IFNAMSIZ];  /* rename (netlink or SIOCSIFNAME): the new name */
	__u8  ident;                 /* MG_IDENT_* the current request may change */
	__u8  ident_action;          /* what the direct target's change is reported as */
	__u8  unpriv;                /* sender lacks CAP_NET_ADMIN in the socket's netns */
	__u8  path;                  /* enum mg_path: netlink or ioctl */
	__u32 ioctl_cmd;             /* path ioctl: the command */
};

struct mg_slots {
	__u32 busy[MG_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_slots);
} mg_slot_busy __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MG_SLOTS);
	__type(key, __u32);
	__type(value, struct mg_walk);
} mg_scratch __weak SEC(".maps");

/* guard-request: a tagged device in a netns move, from fentry to fexit, keyed by thread
 * id: the tag follows the device when the move succeeds and stays when it fails. */
struct mg_move {
	__u64 dev;
	struct mg_link_key from;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct mg_move);
} mg_moving __weak SEC(".maps");

/* ---- target resolution (guard_resolve.bpf.c; branch guard-resolve) ---- */

/* Per-CPU counters of the resolution, read with `bpftool map dump name mg_resolve_stat`. */
struct mg_resolve_stats {
	__u64 name_lookups;     /* names resolved through the kernel's name hash */
	__u64 budget_over;      /* sends whose resolution ran past MG_SEND_BUDGET (fail closed) */
	__u64 cascade_over;     /* deletions with more stacked devices than MG_UPPER_QUEUE */
	__u64 hash_bad;         /* by-name requests failed closed: our name hash is not the kernel's */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_resolve_stats);
} mg_resolve_stats __weak SEC(".maps");

#define MG_HASH_GOOD 1
#define MG_HASH_BAD  2

/* Whether full_name_hash() as we compute it finds the kernel's names (checked once). */
struct mg_resolve_state {
	__u32 hash_checked;     /* 0: not yet, MG_HASH_GOOD, MG_HASH_BAD */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_resolve_state);
} mg_resolve_state __weak SEC(".maps");

/* ---- the shared helpers, bound to these maps ---- */

static __always_inline struct mg_stats *mg_stats_get(void)
{
	return mg_stats_in(&mg_stats);
}

#define MG_STAT_INC(field) MG_STAT_INC_IN(&mg_stats, field)

static __always_inline void mg_emit(struct mg_event *e)
{
	mg_emit_to(&mg_events, &mg_stats, e);
}

/* ---- helpers bound to these maps ---- */

/* Is any link tagged at all? (an unreadable request is refused only then). Inline, not a
 * global function: it is called at the deepest point of the walk, where one more frame
 * would pass the verifier's 8. */
static __attribute__((unused)) long mg_any_cb(struct bpf_map *map, const void *key, void *value,
					      void *ctx)
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

#define MG_NS_PER_TICK    10000000ULL  /* NSEC_PER_SEC / USER_HZ (100) */

/* enforce or audit, as the agent set it (enforce until it has). */
static __always_inline __u32 mg_mode(void)
{
	__u32 zero = 0;
	struct mg_config *c = bpf_map_lookup_elem(&mg_config, &zero);

	return c ? c->mode : MG_MODE_ENFORCE;
}

/* ---- start windows and creation claims (guard_start.bpf.c, start_claims.bpf.h) ---- */

/* Open start windows, written by `macvguard hook` (prepare/start begin), keyed by the
 * libvirtd worker thread id. Pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct mg_start);
} mg_start __weak SEC(".maps");

/* Creation claims of starting domains, keyed by (netns, requested name). LRU: bounded
 * whatever happens; the hook drops a domain's claims at `started`/`release`. Pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct mg_claim_key);
	__type(value, struct mg_claim);
} mg_claims __weak SEC(".maps");

#endif /* MG_MAPS_BPF_H */
