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
#define MAX_PENDING  256
#define FB_SENDERS   512              /* recent RTM_DELLINK senders kept for the join */
#define FB_WINDOW_NS 3000000000ull
#define NAME_CACHE   4096

/* Links created since the agent started that are not guarded yet. */
struct pending_link {
	uint32_t ifindex;
	uint64_t created_real_ns;
	char name[MG_IFNAMSIZ];
};

/* Fallback: an RTM_DELLINK seen leaving a process, waiting for the notification. */
struct fb_sender {
	struct mg_event ev;      /* requester fields, target_ifindex / req_name */
	uint32_t resolved;       /* ifindex it named (by index, or by name via the cache) */
	bool used;
	bool matched;
};

struct name_entry {
	int ifindex;
	char name[MG_IFNAMSIZ];
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
	struct nl_sock *nl;             /* rtnetlink link notifications */
	struct fallback_bpf *fb;
	bool fb_ignore;                 /* draining the self-test's record */
	unsigned long long fb_lost_seen;
	struct fb_sender senders[FB_SENDERS];
	unsigned next_sender;
	struct name_entry names[NAME_CACHE];
	struct fb_sender *last_veth;    /* sender of the last veth deletion seen, and when */
	uint64_t last_veth_ns;
};

#endif
