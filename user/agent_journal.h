/* The agent's side of the flight recorder (user/agent_journal.c): every emitted verdict,
 * lost counts, link creations/deletions, agent start/stop into the journal; deny records
 * reach stable storage before the agent reports them, the rest is group-committed within
 * MG_AJ_COMMIT_MS; counters in Prometheus text format for node-exporter. */
#ifndef MG_AGENT_JOURNAL_H
#define MG_AGENT_JOURNAL_H

#include <linux/netlink.h>
#include "jlog.h"

#define MG_AJ_COMMIT_MS  100        /* dirty records older than this are fdatasync'd */
#define MG_AJ_PROM_EVERY_MS 10000
#define MG_AJ_PROM_DEFAULT "/var/lib/prometheus/node-exporter/macvguard.prom"

/* What the agent knows about the guard, for the metrics (agent.c keeps it current). */
struct mg_aj_gauges {
	bool enforcing;              /* LSM guard attached and mode enforce */
	bool lsm;                    /* a kernel guard is attached (else flag-only) */
	unsigned attach;             /* enum mg_attach (state.h): how */
	unsigned mode;               /* enum mg_mode */
	unsigned long long guarded_links;
	char kernel[128];
};

struct mg_agent_journal {
	struct mg_jlog l;
	bool on;                     /* journal wanted (not MACVGUARD_NO_JOURNAL) */
	bool open;                   /* l is open; when not, reopened at most once a second */
	uint64_t next_retry_ns;      /* CLOCK_MONOTONIC */
	unsigned long long write_errors;  /* records lost: failed appends and opens */
	char last_err[256];
	bool status_changed;         /* the agent rewrites its status file */
	bool prom_failed;
	uint64_t dirty_since_ns;     /* CLOCK_MONOTONIC of the first unsynced append */
	uint64_t last_prom_ns;
	uint64_t last_commit_ns;
	uint64_t start_real_ns;
	char prom[512];              /* "" : no textfile export */
	unsigned long long verdicts[5];
	unsigned long long records[MG_JT_MAX];
	unsigned long long lost;
	unsigned long long errors_reported;
	unsigned long long refusals;       /* deny verdicts: refused with EPERM */
	unsigned long long would_refuse;   /* audit verdicts + flag-only deletions of in-use links */
	uint64_t last_write_real_ns;       /* last successful append (0: none since start) */
	struct mg_aj_gauges g;             /* set by the agent every second */
};

void mg_aj_open(struct mg_agent_journal *aj, const char *mode, bool enforcing,
		const char *attachment,
		const char *reason);
/* An agent record (event "reload", …) with a detail. */
void mg_aj_agent_event(struct mg_agent_journal *aj, const char *event, const char *detail);
/* A flag-only deletion of an in-use guarded link (would have been refused). */
void mg_aj_would_refuse(struct mg_agent_journal *aj);
/* The configuration changed (reload): the Prometheus file and the journald copy. */
void mg_aj_reconfigure(struct mg_agent_journal *aj);
/* Appends the event's record. Returns true when it is a deny: it must reach stable
 * storage (mg_aj_commit) before it is reported; the agent commits a batch of them with one
 * fdatasync (agent_emit.c). */
bool mg_aj_event(struct mg_agent_journal *aj, const struct mg_event *e, const char *teardown);
/* fdatasync of everything appended so far (the batch's denies); 0 or -1 */
int mg_aj_commit(struct mg_agent_journal *aj);
/* A batch's records under one journal lock (mg_journal_hold): hold before the first,
 * release before the batch is committed and reported. */
void mg_aj_hold(struct mg_agent_journal *aj);
void mg_aj_release(struct mg_agent_journal *aj);
void mg_aj_lost(struct mg_agent_journal *aj, unsigned long long n, const char *where);
void mg_aj_linkmsg(struct mg_agent_journal *aj, const struct nlmsghdr *nh);
void mg_aj_tick(struct mg_agent_journal *aj);
void mg_aj_close(struct mg_agent_journal *aj, const char *why);
/* {"state": "ok"|"failing"|"off", "dir", "write_errors", "last_error"} for status. */
json_object *mg_aj_status_json(const struct mg_agent_journal *aj);
/* Prometheus text of the agent's counters and gauges (docs/journal.md). */
void mg_aj_prom_write(FILE *f, const struct mg_agent_journal *aj, uint64_t journal_bytes);

#endif
