/* The agent's state, one struct shared by its rooms (see agent.h for the map). Each
 * group of fields belongs to the file named above it. */
#ifndef MG_AGENT_STATE_H
#define MG_AGENT_STATE_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include "agent_journal.h"
#include "config.h"
#include "events.h"
#include "names.h"
#include "output.h"
#include "ownership.h"
#include "paths.h"
#include "state.h"
#include "teardown.h"
#include "util.h"
#include "wire.h"

/* monitor clients at once; when full the idlest one is evicted (and told why) */
#define MAX_CLIENTS  128
/* Events reported per batch (agent_emit.c): one journal fdatasync for the batch's denies. */
#define MG_EMIT_BATCH 256
#define MAX_PENDING  256
#define FB_SENDERS   512              /* recent request records kept for the join */
#define FB_WINDOW_NS 3000000000ull
#define FB_LINK_SLOTS 16384           /* links known, all netns (open addressing) */
#define FB_NETNS     256              /* netns other than the agent's that are watched */

/* Links created since the agent started that are not guarded yet. */
struct pending_link {
	uint32_t ifindex;
	uint64_t created_real_ns;
	char name[MG_IFNAMSIZ];
};

/* Fallback: a request record (a delete's resolved target, or a verdict on a guarded
 * target) waiting for the notification of the deletion. */
struct fb_sender {
	struct mg_event ev;      /* link_netns_cookie + ifindex: the target, as the kernel
	                          * resolved it at request time */
	bool used;
	bool matched;
};

/* A link of any watched netns, kept from RTM_NEWLINK (names of lower devices that went
 * first, and the resync's diff). */
enum { FB_LINK_EMPTY = 0, FB_LINK_LIVE, FB_LINK_GONE, FB_LINK_TOMB };
struct fb_link {
	uint64_t cookie;         /* netns */
	uint64_t gone_ns;
	uint32_t ifindex;
	uint32_t link;           /* IFLA_LINK */
	uint32_t seen;           /* resync generation that last saw it */
	uint8_t state;
	bool lost;               /* counted in a resync's LOST record: its late notification
	                          * is not a second record */
	char name[MG_IFNAMSIZ];
	char kind[MG_IFNAMSIZ];
};

/* A netns other than the agent's: its id in the agent's netns and its cookie. */
struct fb_netns {
	bool used;
	bool stale;              /* its id stopped answering a dump */
	int nsid;
	uint64_t cookie;
	uint64_t ino, dev;       /* the nsfs inode: the same netns met again */
};

struct ring_buffer;
struct nl_sock;
struct fallback_bpf;

struct agent {
	/* agent.c */
	struct mg_state st;
	struct ring_buffer *rb;
	int sigfd;
	bool json;
	uint64_t own_cookie;
	unsigned long long kernel_lost_seen;
	unsigned long long events_seen;
	struct mg_conf conf;
	struct mg_own_maps om;
	int td_fd;                      /* pinned mg_teardown */
	int start_fd, claims_fd;        /* pinned mg_start, mg_claims (start_window.h) */
	struct mg_agent_journal aj;     /* flight recorder (agent_journal.c) */
	const char *monitor_mode;       /* kernel / fallback / rtnetlink */
	bool kernel_monitor;
	char monitor_reason[512];
	char monitor_remedy[200];       /* what would give a better monitor ("" nothing) */
	/* agent.c: systemd and what it was last told */
	uint64_t wd_usec;               /* sd_watchdog_enabled(); 0: no watchdog */
	uint64_t wd_last_ns;            /* CLOCK_MONOTONIC of the last WATCHDOG=1 */
	char sd_status[1200];           /* the last STATUS= sent */
	char conf_arg[512];             /* --config as given, for reloads */
	char status_dir_arg[256];       /* --status-dir as given */
	char conf_problem[300];         /* the last reload's problem ("" none) */
	unsigned mode;                  /* the guard's mode, read every second */
	unsigned long long guarded;     /* tagged links, counted every second */
	bool guarded_fresh;             /* check_owners just counted them */
	/* agent_emit.c: events reported after their batch's denies are synced */
	struct mg_wire batch[MG_EMIT_BATCH];
	unsigned nbatch;
	bool batch_sync;                /* a deny in the batch: one fdatasync first */
	unsigned long long batches, batch_syncs;
	uint32_t td_pid, td_tid;        /* the batch's last teardown lookup (keys tid, pid) */
	bool td_have[2];
	struct mg_teardown td_cached[2];
	/* agent_clients.c */
	int listen_fd;
	int clients[MAX_CLIENTS];
	unsigned long long client_lost[MAX_CLIENTS];
	uint64_t client_active_ns[MAX_CLIENTS];   /* accepted, or last record delivered */
	unsigned long long clients_evicted;
	/* agent_status_watch.c */
	int ino_fd, ino_wd;
	/* agent_newlinks.c */
	struct pending_link pending[MAX_PENDING];
	uint32_t *known;                /* ifindexes that existed or were seen */
	size_t nknown, capknown;
	/* agent_fallback.c */
	struct nl_sock *nl;             /* rtnetlink link notifications, every netns with an id */
	struct nl_sock *nlc;            /* requests: netns ids */
	struct fallback_bpf *fb;
	uint8_t fb_why;                 /* enum mg_unenforced */
	bool fb_ignore;                 /* draining the self-test's record */
	struct fb_sender senders[FB_SENDERS];
	unsigned next_sender;
	struct fb_link *links;          /* FB_LINK_SLOTS */
	struct fb_netns netns[FB_NETNS];
	uint64_t cur_cookie;            /* netns of the notification being handled */
	bool resyncing;                 /* a dump, not a notification */
	uint32_t resync_gen;
	unsigned long long overflows;   /* ENOBUFS seen on the notification socket */
	struct fb_sender *last_veth;    /* sender of the last veth deletion seen, and when */
	uint64_t last_veth_ns;
};

#endif
