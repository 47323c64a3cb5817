/* See agent_journal.h and docs/journal.md. */
#include "agent_journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put(struct mg_agent_journal *aj, json_object *o, unsigned type, unsigned verdict,
		uint64_t ts, unsigned flags)
{
	if (!aj->on) {
		json_object_put(o);
		return;
	}
	if (mg_jlog_put(&aj->l, o, type, verdict, ts, flags)) {
		/* once per 100 errors: a full disk must not flood the log */
		if (aj->l.errors - aj->errors_reported >= 100 || aj->errors_reported == 0) {
			mg_warn("journal: %s (%llu write errors so far)", aj->l.err, aj->l.errors);
			aj->errors_reported = aj->l.errors;
		}
		return;
	}
	if (type < MG_JT_MAX)
		aj->records[type]++;
	if (!(flags & MG_JA_SYNC) && !aj->dirty_since_ns)
		aj->dirty_since_ns = mono_ns();
	if (flags & MG_JA_SYNC)
		aj->dirty_since_ns = aj->l.j.dirty ? aj->dirty_since_ns : 0;
}

void mg_aj_open(struct mg_agent_journal *aj, const char *mode, bool enforcing,
		const char *reason)
{
	const char *p = getenv("MACVGUARD_PROM_FILE");
	struct stat sb;
	json_object *o;

	memset(aj, 0, sizeof(*aj));
	aj->start_real_ns = mg_now_real_ns();
	if (p)
		mg_strlcpy(aj->prom, strcmp(p, "-") ? p : "", sizeof(aj->prom));
	else if (stat("/var/lib/prometheus/node-exporter", &sb) == 0 && S_ISDIR(sb.st_mode))
		mg_strlcpy(aj->prom, MG_AJ_PROM_DEFAULT, sizeof(aj->prom));
	if (getenv("MACVGUARD_NO_JOURNAL"))
		return;
	if (mg_jlog_open(&aj->l)) {
		mg_warn("journal disabled: %s", aj->l.err);
		mg_jlog_close(&aj->l);
		return;
	}
	aj->on = true;
	if (mg_journal_become_committer(&aj->l.j))
		mg_warn("journal: another process commits %s/committer; hook records are synced by "
			"their writers", aj->l.j.dir);
	mg_info("journal %s (host %s)", aj->l.j.dir, aj->l.host);
	o = mg_jlog_new(&aj->l, MG_JT_AGENT, 0);
	json_object_object_add(o, "event", json_object_new_string("start"));
	json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "guard", json_object_new_string(enforcing ? "enforcing" : "flag-only"));
	json_object_object_add(o, "detail", json_object_new_string(reason));
	put(aj, o, MG_JT_AGENT, 0, 0, MG_JA_SYNC);
	if (aj->l.j.repair.torn_bytes) {
		char d[700];
		snprintf(d, sizeof(d), "cut a torn tail of %llu bytes at offset %llu of %s",
			 (unsigned long long)aj->l.j.repair.torn_bytes,
			 (unsigned long long)aj->l.j.repair.torn_off, aj->l.j.repair.torn_file);
		mg_warn("journal: %s", d);
		o = mg_jlog_new(&aj->l, MG_JT_AGENT, 0);
		json_object_object_add(o, "event", json_object_new_string("repair"));
		json_object_object_add(o, "detail", json_object_new_string(d));
		json_object_object_add(o, "torn_bytes", json_object_new_uint64(aj->l.j.repair.torn_bytes));
		put(aj, o, MG_JT_AGENT, 0, 0, MG_JA_SYNC);
	}
}

/* teardown: the domain whose teardown made the request (kernel-named or from the hook's
 * window), or NULL/"" */
void mg_aj_event(struct mg_agent_journal *aj, const struct mg_event *e, const char *teardown)
{
	uint64_t ts = 0;
	json_object *o;

	if (e->verdict < 5)
		aj->verdicts[e->verdict]++;
	if (!aj->on)
		return;
	o = mg_jlog_event(&aj->l, e, &ts);
	if (teardown && teardown[0]) {
		char td[MG_DOMAIN_LEN + 1];
		mg_strlcpy(td, teardown, sizeof(td));
		json_object_object_add(o, "teardown_domain", json_object_new_string(td));
	}
	put(aj, o, MG_JT_VERDICT, e->verdict, ts,
	    e->verdict == MG_V_DENY ? MG_JA_SYNC : 0);
}

void mg_aj_lost(struct mg_agent_journal *aj, unsigned long long n, const char *where)
{
	json_object *o;

	aj->lost += n;
	if (!aj->on)
		return;
	o = mg_jlog_new(&aj->l, MG_JT_LOST, 0);
	json_object_object_add(o, "lost", json_object_new_uint64(n));
	json_object_object_add(o, "where", json_object_new_string(where));
	put(aj, o, MG_JT_LOST, 0, 0, 0);
}

void mg_aj_linkmsg(struct mg_agent_journal *aj, const struct nlmsghdr *nh)
{
	const struct ifinfomsg *ifi;
	struct nlattr *a, *li;
	const char *ev;
	json_object *o;
	char kind[32] = "";

	if (!aj->on || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	ifi = nlmsg_data(nh);
	if (nh->nlmsg_type == RTM_DELLINK)
		ev = "deleted";
	else if (nh->nlmsg_type == RTM_NEWLINK && ifi->ifi_change == 0xffffffffu)
		ev = "created";
	else
		return;
	o = mg_jlog_new(&aj->l, MG_JT_LINK, 0);
	json_object_object_add(o, "event", json_object_new_string(ev));
	json_object_object_add(o, "ifindex", json_object_new_int(ifi->ifi_index));
	a = nlmsg_find_attr((struct nlmsghdr *)nh, sizeof(*ifi), IFLA_IFNAME);
	json_object_object_add(o, "ifname", json_object_new_string(a ? (const char *)nla_data(a) : ""));
	li = nlmsg_find_attr((struct nlmsghdr *)nh, sizeof(*ifi), IFLA_LINKINFO);
	if (li && (a = nla_find(nla_data(li), nla_len(li), IFLA_INFO_KIND)))
		mg_strlcpy(kind, nla_data(a), (size_t)nla_len(a) + 1 < sizeof(kind) ? (size_t)nla_len(a) + 1 : sizeof(kind));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	put(aj, o, MG_JT_LINK, 0, 0, 0);
}

void mg_aj_prom_write(FILE *f, const unsigned long long verdicts[5],
		      const unsigned long long records[MG_JT_MAX], unsigned long long lost,
		      unsigned long long errors, uint64_t journal_bytes, uint64_t start_s)
{
	fprintf(f, "# HELP macvguard_verdicts_total Guard verdicts seen by the agent.\n"
		   "# TYPE macvguard_verdicts_total counter\n");
	for (unsigned v = 1; v < 5; v++)
		fprintf(f, "macvguard_verdicts_total{verdict=\"%s\"} %llu\n", mg_verdict_name(v),
			verdicts[v]);
	fprintf(f, "# HELP macvguard_journal_records_total Records the agent appended, by type.\n"
		   "# TYPE macvguard_journal_records_total counter\n");
	for (unsigned t = 1; t < MG_JT_MAX; t++)
		fprintf(f, "macvguard_journal_records_total{type=\"%s\"} %llu\n", mg_jtype_name(t),
			records[t]);
	fprintf(f, "# HELP macvguard_events_lost_total Events lost (ring buffer full, monitor sockets).\n"
		   "# TYPE macvguard_events_lost_total counter\nmacvguard_events_lost_total %llu\n"
		   "# HELP macvguard_journal_write_errors_total Journal appends that failed.\n"
		   "# TYPE macvguard_journal_write_errors_total counter\n"
		   "macvguard_journal_write_errors_total %llu\n"
		   "# HELP macvguard_journal_bytes Bytes of the journal's segments on disk.\n"
		   "# TYPE macvguard_journal_bytes gauge\nmacvguard_journal_bytes %llu\n"
		   "# HELP macvguard_agent_start_time_seconds When the agent started (unix time).\n"
		   "# TYPE macvguard_agent_start_time_seconds gauge\n"
		   "macvguard_agent_start_time_seconds %llu\n",
		lost, errors, (unsigned long long)journal_bytes, (unsigned long long)start_s);
}

static void prom_export(struct mg_agent_journal *aj)
{
	char tmp[600];
	FILE *f;

	if (!aj->prom[0])
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", aj->prom);
	f = fopen(tmp, "we");
	if (!f) {
		if (!aj->last_prom_ns)
			mg_warn("cannot write %s: %s", tmp, strerror(errno));
		aj->last_prom_ns = mono_ns();
		return;
	}
	mg_aj_prom_write(f, aj->verdicts, aj->records, aj->lost, aj->l.errors,
			 aj->on ? mg_journal_disk_bytes(aj->l.j.dir) : 0, aj->start_real_ns / 1000000000ull);
	if (fclose(f) == 0)
		rename(tmp, aj->prom);
	else
		unlink(tmp);
	aj->last_prom_ns = mono_ns();
}

void mg_aj_tick(struct mg_agent_journal *aj)
{
	uint64_t now = mono_ns();

	/* group commit of our records and of those hook/CLI processes appended without a
	 * sync because we are the committer */
	if (aj->on && now - aj->last_commit_ns >= MG_AJ_COMMIT_MS * 1000000ull) {
		mg_journal_commit_shared(&aj->l.j);
		aj->dirty_since_ns = 0;
		aj->last_commit_ns = now;
	}
	if (aj->prom[0] && now - aj->last_prom_ns >= MG_AJ_PROM_EVERY_MS * 1000000ull)
		prom_export(aj);
}

void mg_aj_close(struct mg_agent_journal *aj, const char *why)
{
	if (aj->on) {
		json_object *o = mg_jlog_new(&aj->l, MG_JT_AGENT, 0);
		json_object_object_add(o, "event", json_object_new_string("stop"));
		json_object_object_add(o, "detail", json_object_new_string(why));
		put(aj, o, MG_JT_AGENT, 0, 0, MG_JA_SYNC);
	}
	prom_export(aj);
	if (aj->on) {
		mg_journal_commit_shared(&aj->l.j);
		mg_jlog_close(&aj->l);
	}
	aj->on = false;
}
