/* The agent (`macvguard run`), one job per file:
 *   agent.c               lifecycle and the poll loop; every event goes out through
 *                         agent_emit (journal, stdout, clients)
 *   agent_clients.c       the event stream to `monitor` clients, with loss counts
 *   agent_fallback.c      flag-only join of RTM_DELLINK senders and rtnetlink notifications
 *   agent_newlinks.c      creation -> guarded latency of new links
 *   agent_status_watch.c  libvirt's status directory (inotify) -> ownership
 * Internal to those files; commands see only mg_agent_run. */
#ifndef MG_AGENT_H
#define MG_AGENT_H

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

#define MAX_CLIENTS  16
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
	/* agent_clients.c */
	int listen_fd;
	int clients[MAX_CLIENTS];
	unsigned long long client_lost[MAX_CLIENTS];
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

/* What `run` was asked for (cmd_run.c). */
struct mg_agent_opts {
	struct mg_conf conf;
	unsigned mode;
	bool mode_given;
	bool json;
};
int mg_agent_run(const struct mg_agent_opts *o);

/* agent.c */
void agent_log(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void agent_emit(struct agent *a, const struct mg_event *e);
void agent_emit_lost(struct agent *a, unsigned long long n, const char *where);

/* agent_clients.c */
int agent_clients_open(struct agent *a);
void agent_clients_accept(struct agent *a);
void agent_clients_flush(struct agent *a);
void agent_clients_forward(struct agent *a, const struct mg_wire *w);
void agent_clients_reap(struct agent *a, const struct pollfd *pfd);   /* MAX_CLIENTS */
void agent_clients_close(struct agent *a);

/* agent_newlinks.c */
void agent_newlinks_load(struct agent *a);
void agent_newlinks_note(struct agent *a, uint32_t ifindex, struct nlattr *name);
void agent_newlinks_forget(struct agent *a, uint32_t ifindex);
void agent_newlinks_check(struct agent *a);

/* agent_status_watch.c */
void agent_status_watch(struct agent *a);
void agent_status_on_inotify(struct agent *a);

/* agent_fallback.c */
void agent_fallback_start(struct agent *a, const char *kernel_why);
void agent_fallback_expire(struct agent *a, bool all);
void agent_fallback_check_lost(struct agent *a);
int agent_fallback_stats(struct agent *a, struct mg_stats *s);
void agent_fallback_stop(struct agent *a);
void agent_links_dump(struct agent *a);
int agent_links_subscribe(struct agent *a);

#endif
