/* `macvguard journal`: print or follow records of one or more journals, filtered
 * (docs/journal.md). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cmds.h"
#include "jlog.h"
#include "journal_sources.h"

/* ---- journal ---------------------------------------------------------------------- */

struct jfilter {
	const char *domain, *ifname;
	char domain_lc[128];          /* lower-case domain when it differs, for the prefilter */
	int verdict, type;            /* -1: any */
	uint64_t since, until;        /* 0: open */
};

static bool header_ok(const struct jfilter *f, const struct mg_jrec *r)
{
	if (f->since && r->h.ts_ns < f->since)
		return false;
	if (f->until && r->h.ts_ns > f->until)
		return false;
	if (f->type >= 0 && r->h.type != f->type)
		return false;
	if (f->verdict >= 0 && (r->h.type != MG_JT_VERDICT || r->h.verdict != f->verdict))
		return false;
	/* cheap byte search before the JSON parse */
	if (f->domain && !memmem(r->payload, r->h.len, f->domain, strlen(f->domain)) &&
	    !(f->domain_lc[0] && memmem(r->payload, r->h.len, f->domain_lc, strlen(f->domain_lc))))
		return false;
	if (f->ifname && !memmem(r->payload, r->h.len, f->ifname, strlen(f->ifname)))
		return false;
	return true;
}

static bool body_ok(const struct jfilter *f, json_object *o)
{
	if (f->domain && !mg_rec_mentions_domain(o, f->domain))
		return false;
	if (f->ifname && strcmp(mg_jstr(o, "ifname"), f->ifname) &&
	    !mg_rec_array_has(o, "targets", f->ifname))
		return false;
	return true;
}

struct jprint {
	struct jfilter f;
	bool json;
	unsigned long long printed;
};

static int print_cb(void *ctx, const struct mg_jrec *r)
{
	struct jprint *p = ctx;
	json_object *o;

	if (!header_ok(&p->f, r))
		return 0;
	o = mg_rec_parse(r);
	if (!o) {
		/* every printed byte is one json-c wrote from what it parsed */
		mg_warn("%s: record seq %llu at offset %llu: skipped: the payload is not one "
			"well-formed JSON object (trailing bytes, truncated or repeated keys)",
			r->file ? r->file : "?", (unsigned long long)r->h.seq, (unsigned long long)r->off);
		return 0;
	}
	if (body_ok(&p->f, o)) {
		if (p->json)
			mg_json_fputs(stdout, o);
		else
			mg_rec_print_text(stdout, o, r->h.seq);
		p->printed++;
	}
	json_object_put(o);
	return 0;
}

static volatile sig_atomic_t follow_stop;
static void on_follow_signal(int sig)
{
	(void)sig;
	follow_stop = 1;
}

/* -f: new records of the directory as they are appended, across rotations. */
static int follow(const char *dir, struct jprint *p)
{
	struct sigaction sa = { .sa_handler = on_follow_signal };
	char err[600], cur[700] = "";
	uint64_t pos = 0, cur_first = 0;
	bool have = false;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* start at the end of what exists: the caller printed that already */
	{
		char **f;
		size_t n;
		struct stat sb;
		if (mg_journal_segments(dir, &f, &n, err, sizeof(err)) == 0) {
			if (n && stat(f[n - 1], &sb) == 0) {
				mg_strlcpy(cur, f[n - 1], sizeof(cur));
				mg_journal_segname(strrchr(cur, '/') + 1, &cur_first);
				struct mg_jscan_stats st;
				mg_journal_scan_file(cur, NULL, NULL, &st, err, sizeof(err));
				pos = st.end;
				have = true;
			}
			mg_journal_segments_free(f, n);
		}
	}
	fflush(stdout);
	while (!follow_stop) {
		struct timespec ts = { 0, 200 * 1000000L };
		char **f = NULL;
		size_t n = 0;
		bool progressed = false;

		if (have) {
			/* O_NONBLOCK|O_NOFOLLOW, regular files only: a FIFO must not hang -f */
			int fd = open(cur, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY);
			struct stat fsb;
			FILE *fp = NULL;

			if (fd >= 0 && (fstat(fd, &fsb) || !S_ISREG(fsb.st_mode) ||
					!(fp = fdopen(fd, "r"))))
				close(fd);
			if (fp) {
				struct stat sb;
				if (fstat(fileno(fp), &sb) == 0 && (uint64_t)sb.st_size > pos) {
					size_t len = (size_t)((uint64_t)sb.st_size - pos);
					uint8_t *buf = malloc(len);
					if (buf && pread(fileno(fp), buf, len, (off_t)pos) == (ssize_t)len) {
						struct mg_jscan_stats st;
						mg_journal_scan_buf(buf, len, 0, cur, print_cb, p, &st);
						if (st.records)
							progressed = true;
						pos += st.end;
					}
					free(buf);
				} else if (fstat(fileno(fp), &sb) == 0 && (uint64_t)sb.st_size < pos) {
					pos = (uint64_t)sb.st_size;  /* a writer cut a torn tail */
				}
				fclose(fp);
			}
			fflush(stdout);
		}
		if (!progressed && mg_journal_segments(dir, &f, &n, err, sizeof(err)) == 0) {
			for (size_t i = 0; i < n; i++) {
				uint64_t first;
				if (mg_journal_segname(strrchr(f[i], '/') + 1, &first) &&
				    (!have || first > cur_first)) {
					mg_strlcpy(cur, f[i], sizeof(cur));
					cur_first = first;
					pos = 0;
					have = true;
					progressed = true;
					break;
				}
			}
			mg_journal_segments_free(f, n);
		}
		if (!progressed)
			nanosleep(&ts, NULL);
	}
	return 0;
}

const char mg_help_journal[] =
	"usage: macvguard [-j] journal [-f] [--domain NAME|UUID] [--ifname NAME] [--since T]\n"
	"                              [--until T] [--verdict allow|deny|audit|gone] [--type TYPE]\n"
	"                              [--wide] [--dir DIR | JOURNAL...]\n"
	"\n"
	"Prints the flight recorder's records (docs/journal.md), oldest first, one line each\n"
	"(time, host, seq, what happened); -j: the records as JSON Lines (docs/json.md).\n"
	"JOURNAL: journal directories or segment files (default $MACVGUARD_JOURNAL_DIR, else\n"
	"/var/lib/macvguard/journal).\n"
	"\n"
	"  -f, --follow          then print new records as they are written (one directory)\n"
	"  -d, --domain D        records about domain D (name or uuid; owner, hook, teardown)\n"
	"  -i, --ifname NAME     records about this link\n"
	"  -s, --since T         from T: 2026-11-26T09:43:42Z, '2026-11-26 09:43', @UNIX, now,\n"
	"                        -10m, -2h, -1d\n"
	"  -u, --until T         up to T\n"
	"  -v, --verdict V       verdict records with this verdict: allow, deny, audit, gone\n"
	"  -t, --type TYPE       verdict, hook, tag, untag, release, agent, lost, link or mode\n"
	"  -D, --dir DIR         the journal directory (instead of JOURNAL...)\n"
	"  -w, --wide            lines not cut at 120 columns on a terminal\n"
	"  -j, --json            JSON Lines (as the global -j)\n";

int mg_cmd_journal(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },      { "json", no_argument, NULL, 'j' },
		{ "domain", required_argument, NULL, 'd' }, { "ifname", required_argument, NULL, 'i' },
		{ "since", required_argument, NULL, 's' },  { "until", required_argument, NULL, 'u' },
		{ "verdict", required_argument, NULL, 'v' }, { "type", required_argument, NULL, 't' },
		{ "dir", required_argument, NULL, 'D' },    { "wide", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 }
	};
	struct jprint p = { .f = { .verdict = -1, .type = -1 }, .json = mg_json };
	struct mg_sources src;
	bool follow_mode = false;
	const char *dir = NULL;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fjd:i:s:u:v:t:D:w", opts, NULL)) != -1) {
		switch (c) {
		case 'f': follow_mode = true; break;
		case 'j': p.json = mg_json = true; break;
		case 'w': mg_wide = true; break;
		case 'd':
			if (!*optarg || strlen(optarg) >= sizeof(p.f.domain_lc))
				return mg_usage_err("--domain: 1..%zu bytes", sizeof(p.f.domain_lc) - 1);
			p.f.domain = optarg;
			for (size_t i = 0; optarg[i]; i++)
				p.f.domain_lc[i] = (char)tolower((unsigned char)optarg[i]);
			if (!strcmp(p.f.domain_lc, optarg))
				p.f.domain_lc[0] = 0;
			break;
		case 'i': p.f.ifname = optarg; break;
		case 'D': dir = optarg; break;
		case 's':
			if (mg_parse_time(optarg, &p.f.since))
				return mg_usage_err("--since: not a time: %s", optarg);
			break;
		case 'u':
			if (mg_parse_time(optarg, &p.f.until))
				return mg_usage_err("--until: not a time: %s", optarg);
			break;
		case 'v':
			if ((p.f.verdict = mg_parse_verdict_arg(optarg)) < 0)
				return mg_usage_err("--verdict: allow, deny, audit or gone");
			break;
		case 't':
			if ((p.f.type = mg_jtype_parse(optarg)) < 0)
				return mg_usage_err("--type: verdict, hook, tag, untag, release, agent, lost, link or mode");
			break;
		default: return mg_bad_option(argc, argv, "fjd:i:s:u:v:t:D:w");
		}
	}
	if (dir && optind < argc)
		return mg_usage_err("--dir or JOURNAL..., not both");
	if (follow_mode && optind + 1 < argc)
		return mg_usage_err("-f follows one journal directory");
	if (dir)
		rc = mg_sources_expand(&src, 1, (char **)&dir);
	else
		rc = mg_sources_expand(&src, argc - optind, argv + optind);
	if (rc)
		return 1;
	rc = mg_sources_scan(&src, print_cb, &p, NULL) ? 1 : 0;
	mg_sources_free(&src);
	if (rc == 0 && follow_mode) {
		const char *fdir = dir ? dir : (optind < argc ? argv[optind] : mg_jlog_dir());
		struct stat sb;
		if (stat(fdir, &sb) || !S_ISDIR(sb.st_mode))
			return mg_usage_err("-f needs a journal directory: %s", fdir);
		rc = follow(fdir, &p);
	}
	if (mg_stdout_status())
		rc = 1;
	return rc;
}
