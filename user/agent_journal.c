/* See agent_journal.h and docs/journal.md. */
#include "agent_journal.h"
#include "config.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
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

#define RETRY_NS 1000000000ull

static void lost_record(struct mg_agent_journal *aj, const char *err)
{
	aj->write_errors++;
	aj->status_changed = true;
	if (err != aj->last_err)
		mg_strlcpy(aj->last_err, err, sizeof(aj->last_err));
	/* the first, then one per 100: a full disk must not flood the log */
	if (aj->write_errors - aj->errors_reported >= 100 || aj->errors_reported == 0) {
		mg_warn("journal: %s (%llu records lost so far; retrying every second)",
			aj->last_err, aj->write_errors);
		aj->errors_reported = aj->write_errors;
	}
}

/* Opens (creating the directory again when it was deleted); 0 or -1 (last_err set). */
static int journal_reopen(struct mg_agent_journal *aj)
{
	uint64_t now = mono_ns();

	if (aj->open)
		return 0;
	if (now < aj->next_retry_ns)
		return -1;
	aj->next_retry_ns = now + RETRY_NS;
	if (mg_jlog_open(&aj->l)) {
		mg_strlcpy(aj->last_err, aj->l.err, sizeof(aj->last_err));
		mg_jlog_close(&aj->l);
		return -1;
	}
	aj->open = true;
	aj->status_changed = true;
	if (mg_journal_become_committer(&aj->l.j))
		mg_warn("journal: another process commits %s/committer; hook records are synced by "
			"their writers", aj->l.j.dir);
	return 0;
}

static void journal_drop(struct mg_agent_journal *aj)
{
	if (!aj->open)
		return;
	mg_journal_flush(&aj->l.j);
	mg_jlog_close(&aj->l);
	aj->open = false;
	aj->status_changed = true;
}

static void put(struct mg_agent_journal *aj, json_object *o, unsigned type, unsigned verdict,
		uint64_t ts, unsigned flags)
{
	if (!aj->on) {
		json_object_put(o);
		return;
	}
	if (journal_reopen(aj)) {
		json_object_put(o);
		lost_record(aj, aj->last_err);
		return;
	}
	if (mg_jlog_put(&aj->l, o, type, verdict, ts, flags)) {
		/* the directory may be gone or broken: reopen (and recreate) on the next try */
		lost_record(aj, aj->l.err);
		journal_drop(aj);
		return;
	}
	if (aj->last_err[0]) {
		mg_info("journal %s: writing again (%llu records lost in all; last error: %s)",
			aj->l.j.dir, aj->write_errors, aj->last_err);
		aj->last_err[0] = 0;
		aj->errors_reported = 0;
		aj->status_changed = true;
	}
	if (type < MG_JT_MAX)
		aj->records[type]++;
	aj->last_write_real_ns = mg_now_real_ns();
	if (!(flags & MG_JA_SYNC) && !aj->dirty_since_ns)
		aj->dirty_since_ns = mono_ns();
	if (flags & MG_JA_SYNC)
		aj->dirty_since_ns = aj->l.j.dirty ? aj->dirty_since_ns : 0;
}

json_object *mg_aj_status_json(const struct mg_agent_journal *aj)
{
	json_object *o = json_object_new_object();
	const char *state = !aj->on ? "off" : (aj->open && !aj->last_err[0] ? "ok" : "failing");

	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "dir", json_object_new_string(mg_jlog_dir()));
	json_object_object_add(o, "write_errors", json_object_new_uint64(aj->write_errors));
	json_object_object_add(o, "last_error", json_object_new_string(aj->last_err));
	return o;
}

void mg_aj_open(struct mg_agent_journal *aj, const char *mode, bool enforcing,
		const char *attachment,
		const char *reason)
{
	json_object *o;

	memset(aj, 0, sizeof(*aj));
	aj->start_real_ns = mg_now_real_ns();
	mg_aj_reconfigure(aj);
	if (!mg_conf()->journal)
		return;
	aj->on = true;
	if (journal_reopen(aj))
		mg_warn("journal %s: %s: records are lost until it works; retrying every second",
			mg_jlog_dir(), aj->last_err);
	else
		mg_info("journal %s (host %s)", aj->l.j.dir, aj->l.host);
	o = mg_jlog_new(&aj->l, MG_JT_AGENT, 0);
	json_object_object_add(o, "event", json_object_new_string("start"));
	json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "guard", json_object_new_string(enforcing ? "enforcing" : "flag-only"));
	/* bpf_lsm, fmod_ret or none */
	json_object_object_add(o, "attachment", json_object_new_string(attachment));
	json_object_object_add(o, "detail", json_object_new_string(reason));
	put(aj, o, MG_JT_AGENT, 0, 0, MG_JA_SYNC);
	if (aj->open && aj->l.j.repair.torn_bytes) {
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

void mg_aj_reconfigure(struct mg_agent_journal *aj)
{
	const char *p = mg_conf()->prom_file;
	struct stat sb;
	char was[sizeof(aj->prom)];

	mg_strlcpy(was, aj->prom, sizeof(was));
	aj->prom[0] = 0;
	if (strcmp(p, "auto"))
		mg_strlcpy(aj->prom, p, sizeof(aj->prom));
	else if (stat("/var/lib/prometheus/node-exporter", &sb) == 0 && S_ISDIR(sb.st_mode))
		mg_strlcpy(aj->prom, MG_AJ_PROM_DEFAULT, sizeof(aj->prom));
	if (strcmp(was, aj->prom)) {
		aj->prom_failed = false;
		aj->last_prom_ns = 0;   /* write the new file on the next tick */
	}
	if (aj->open)
		aj->l.to_journald = mg_conf()->systemd_journal;
}

void mg_aj_agent_event(struct mg_agent_journal *aj, const char *event, const char *detail)
{
	json_object *o;

	if (!aj->on)
		return;
	journal_reopen(aj);
	o = mg_jlog_new(&aj->l, MG_JT_AGENT, 0);
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	put(aj, o, MG_JT_AGENT, 0, 0, MG_JA_SYNC);
}

void mg_aj_would_refuse(struct mg_agent_journal *aj)
{
	aj->would_refuse++;
}

/* teardown: the domain whose teardown made the request (kernel-named or from the hook's
 * window), or NULL/"" */
bool mg_aj_event(struct mg_agent_journal *aj, const struct mg_event *e, const char *teardown)
{
	uint64_t ts = 0;
	json_object *o;

	if (e->verdict < 5)
		aj->verdicts[e->verdict]++;
	if (e->verdict == MG_V_DENY)
		aj->refusals++;
	else if (e->verdict == MG_V_AUDIT)
		aj->would_refuse++;
	if (!aj->on)
		return false;
	journal_reopen(aj);   /* the record needs the host and boot id of an open journal */
	o = mg_jlog_event(&aj->l, e, &ts);
	if (teardown && teardown[0]) {
		char td[MG_DOMAIN_LEN + 1];
		mg_strlcpy(td, teardown, sizeof(td));
		json_object_object_add(o, "teardown_domain", json_object_new_string(td));
	}
	/* a deny is synced by mg_aj_commit before it is reported, with the rest of its batch */
	put(aj, o, MG_JT_VERDICT, e->verdict, ts, 0);
	return e->verdict == MG_V_DENY && aj->open;
}

void mg_aj_hold(struct mg_agent_journal *aj)
{
	/* a failure is harmless: each append then locks for itself */
	if (aj->on && journal_reopen(aj) == 0)
		mg_journal_hold(&aj->l.j, NULL, 0);
}

void mg_aj_release(struct mg_agent_journal *aj)
{
	if (aj->open)
		mg_journal_release(&aj->l.j);
}

int mg_aj_commit(struct mg_agent_journal *aj)
{
	if (!aj->open || !aj->l.j.dirty)
		return 0;
	if (mg_journal_flush(&aj->l.j)) {
		lost_record(aj, "fdatasync failed");
		return -1;
	}
	aj->dirty_since_ns = 0;
	return 0;
}

void mg_aj_lost(struct mg_agent_journal *aj, unsigned long long n, const char *where)
{
	json_object *o;

	aj->lost += n;
	if (!aj->on)
		return;
	journal_reopen(aj);
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
	journal_reopen(aj);
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

#include "version.h"   /* MG_VERSION, from debian/changelog (build/version.h) */
#ifndef MG_VERSION
#define MG_VERSION "unknown"
#endif

/* Label values: \ " and newline escaped (exposition format). */
static void prom_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

void mg_aj_prom_write(FILE *f, const struct mg_agent_journal *aj, uint64_t journal_bytes)
{
	const struct mg_aj_gauges *g = &aj->g;
	bool up = !aj->on || (aj->open && !aj->last_err[0]);

	fprintf(f, "# HELP macvguard_guard_enforcing 1 when the kernel guard is attached (BPF LSM "
		   "or fmod_ret) and the mode is enforce (in-use links are refused now), else 0.\n"
		   "# TYPE macvguard_guard_enforcing gauge\nmacvguard_guard_enforcing %d\n"
		   "# HELP macvguard_mode The guard's mode (1 for the current one).\n"
		   "# TYPE macvguard_mode gauge\n"
		   "macvguard_mode{mode=\"enforce\"} %d\nmacvguard_mode{mode=\"audit\"} %d\n"
		   "# HELP macvguard_guarded_links Links tagged in the guard's map.\n"
		   "# TYPE macvguard_guarded_links gauge\nmacvguard_guarded_links %llu\n"
		   "# HELP macvguard_build_info The agent's version, kernel and guard (lsm, fmod_ret or "
		   "flag-only).\n"
		   "# TYPE macvguard_build_info gauge\nmacvguard_build_info{version=\"",
		g->enforcing ? 1 : 0, g->mode == MG_MODE_ENFORCE, g->mode == MG_MODE_AUDIT,
		g->guarded_links);
	prom_label(f, MG_VERSION);
	fputs("\",kernel=\"", f);
	prom_label(f, g->kernel);
	fprintf(f, "\",guard=\"%s\"} 1\n", !g->lsm ? "flag-only" :
		g->attach == MG_ATTACH_FMODRET ? "fmod_ret" : "lsm");
	/* how the guard is attached, one series per way (1 for the current one) */
	fprintf(f, "# HELP macvguard_guard_attachment How the kernel guard is attached (1 for the "
		   "current one): bpf_lsm, fmod_ret (BPF LSM not active), none (flag-only).\n"
		   "# TYPE macvguard_guard_attachment gauge\n");
	for (unsigned at = MG_ATTACH_NONE; at <= MG_ATTACH_FMODRET; at++)
		fprintf(f, "macvguard_guard_attachment{attachment=\"%s\"} %d\n", mg_attach_name(at),
			(g->lsm ? g->attach : MG_ATTACH_NONE) == at);
	fprintf(f, "# HELP macvguard_refusals_total Requests the guard refused (EPERM).\n"
		   "# TYPE macvguard_refusals_total counter\nmacvguard_refusals_total %llu\n"
		   "# HELP macvguard_would_refuse_total Requests on an in-use guarded link that went "
		   "through because the guard is not enforcing (audit verdicts, flag-only deletions).\n"
		   "# TYPE macvguard_would_refuse_total counter\nmacvguard_would_refuse_total %llu\n",
		aj->refusals, aj->would_refuse);
	fprintf(f, "# HELP macvguard_verdicts_total Guard verdicts seen by the agent.\n"
		   "# TYPE macvguard_verdicts_total counter\n");
	for (unsigned v = 1; v < 5; v++)
		fprintf(f, "macvguard_verdicts_total{verdict=\"%s\"} %llu\n", mg_verdict_name(v),
			aj->verdicts[v]);
	fprintf(f, "# HELP macvguard_journal_records_total Records the agent appended, by type.\n"
		   "# TYPE macvguard_journal_records_total counter\n");
	for (unsigned t = 1; t < MG_JT_MAX; t++)
		fprintf(f, "macvguard_journal_records_total{type=\"%s\"} %llu\n", mg_jtype_name(t),
			aj->records[t]);
	fprintf(f, "# HELP macvguard_events_lost_total Events lost (ring buffer full, monitor sockets).\n"
		   "# TYPE macvguard_events_lost_total counter\nmacvguard_events_lost_total %llu\n"
		   "# HELP macvguard_journal_write_errors_total Journal appends that failed.\n"
		   "# TYPE macvguard_journal_write_errors_total counter\n"
		   "macvguard_journal_write_errors_total %llu\n"
		   "# HELP macvguard_journal_last_write_timestamp_seconds Unix time of the last "
		   "successful journal append (0: none since the agent started).\n"
		   "# TYPE macvguard_journal_last_write_timestamp_seconds gauge\n"
		   "macvguard_journal_last_write_timestamp_seconds %llu\n"
		   "# HELP macvguard_journal_disabled 1 when no journal is kept (journal = no, "
		   "MACVGUARD_NO_JOURNAL) or it cannot be opened now, else 0.\n"
		   "# TYPE macvguard_journal_disabled gauge\nmacvguard_journal_disabled %d\n"
		   "# HELP macvguard_journal_bytes Bytes of the journal's segments on disk.\n"
		   "# TYPE macvguard_journal_bytes gauge\nmacvguard_journal_bytes %llu\n"
		   "# HELP macvguard_agent_start_time_seconds When the agent started (unix time).\n"
		   "# TYPE macvguard_agent_start_time_seconds gauge\n"
		   "macvguard_agent_start_time_seconds %llu\n"
		   "# HELP macvguard_journal_up 1 when the last journal write worked, 0 when the "
		   "journal fails (records lost).\n"
		   "# TYPE macvguard_journal_up gauge\nmacvguard_journal_up %d\n",
		aj->lost, aj->write_errors,
		(unsigned long long)(aj->last_write_real_ns / 1000000000ull), aj->on && aj->open ? 0 : 1,
		(unsigned long long)journal_bytes,
		(unsigned long long)(aj->start_real_ns / 1000000000ull), up ? 1 : 0);
}

/* The textfile directory may belong to another account (node-exporter's): the file is
 * written relative to the checked directory fd, under a fresh random name created with
 * O_EXCL|O_NOFOLLOW (nothing planted there can redirect root's write), then renamed over
 * the final name (rename replaces a symlink, never follows it). A directory writable by
 * others is refused unless it is sticky and root's (like /tmp). */
static int prom_dir_open(const char *prom, char *name, size_t namesz, char *err, size_t errsz)
{
	char dir[600];
	const char *slash = strrchr(prom, '/');
	struct stat sb;
	int dfd;

	if (slash) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - prom), prom);
		if (!dir[0])
			strcpy(dir, "/");
		mg_strlcpy(name, slash + 1, namesz);
	} else {
		strcpy(dir, ".");
		mg_strlcpy(name, prom, namesz);
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		mg_seterr(err, errsz, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (fstat(dfd, &sb)) {
		mg_seterr(err, errsz, "%s: %s", dir, strerror(errno));
		close(dfd);
		return -1;
	}
	if ((sb.st_mode & (S_IWGRP | S_IWOTH)) && !((sb.st_mode & S_ISVTX) && sb.st_uid == 0)) {
		mg_seterr(err, errsz, "%s: refused: writable by group or others (mode %04o) and not "
			  "a sticky directory of root's", dir, (unsigned)(sb.st_mode & 07777));
		close(dfd);
		return -1;
	}
	return dfd;
}

static void prom_export(struct mg_agent_journal *aj)
{
	char name[256], tmp[300], err[700];
	unsigned rnd = 0;
	FILE *f = NULL;
	int dfd, fd = -1;

	if (!aj->prom[0])
		return;
	aj->last_prom_ns = mono_ns();
	dfd = prom_dir_open(aj->prom, name, sizeof(name), err, sizeof(err));
	if (dfd >= 0) {
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (unsigned)mono_ns();
		snprintf(tmp, sizeof(tmp), ".%s.%08x.tmp", name, rnd);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 || !(f = fdopen(fd, "w")))
			snprintf(err, sizeof(err), "%s: %s", tmp, strerror(errno));
	}
	if (!f) {
		if (fd >= 0) {
			close(fd);
			unlinkat(dfd, tmp, 0);
		}
		if (!aj->prom_failed)
			mg_warn("metrics not written to %s: %s", aj->prom, err);
		aj->prom_failed = true;
		if (dfd >= 0)
			close(dfd);
		return;
	}
	mg_aj_prom_write(f, aj, aj->open ? mg_journal_disk_bytes(aj->l.j.dir) : 0);
	if (fclose(f) == 0 && renameat(dfd, tmp, dfd, name) == 0) {
		aj->prom_failed = false;
	} else {
		if (!aj->prom_failed)
			mg_warn("metrics not written to %s: %s", aj->prom, strerror(errno));
		aj->prom_failed = true;
		unlinkat(dfd, tmp, 0);
	}
	close(dfd);
}

void mg_aj_tick(struct mg_agent_journal *aj)
{
	uint64_t now = mono_ns();

	/* group commit of our records and of those hook/CLI processes appended without a
	 * sync because we are the committer */
	if (aj->open && now - aj->last_commit_ns >= MG_AJ_COMMIT_MS * 1000000ull) {
		struct stat sb;

		mg_journal_commit_shared(&aj->l.j);
		aj->dirty_since_ns = 0;
		aj->last_commit_ns = now;
		/* a deleted journal directory: open (and create) it again */
		if (fstat(aj->l.j.dirfd, &sb) || sb.st_nlink == 0) {
			snprintf(aj->last_err, sizeof(aj->last_err), "%s was deleted: created again",
				 aj->l.j.dir);
			mg_warn("journal: %s", aj->last_err);
			journal_drop(aj);
		}
	}
	if (aj->on && !aj->open && now >= aj->next_retry_ns)
		journal_reopen(aj);
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
	if (aj->open) {
		mg_journal_commit_shared(&aj->l.j);
		mg_jlog_close(&aj->l);
	}
	aj->open = aj->on = false;
}
