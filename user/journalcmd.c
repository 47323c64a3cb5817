/* `macvguard journal` (print/follow records) and `macvguard postmortem` (the story of one
 * migration or incident, merged from the journals of several hosts). docs/journal.md. */
#include <ctype.h>
#include <errno.h>
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
#include "postmortem.h"

/* ---- time arguments ---------------------------------------------------------------- */

/* ISO-8601 UTC ("2026-11-26T09:43:42.5Z", "2026-11-26 09:43:42"), "@UNIXSECONDS",
 * "now", or relative to now: "-90s", "-10m", "-2h", "-1d". */
int mg_parse_time(const char *s, uint64_t *ns)
{
	uint64_t now = mg_now_real_ns();
	struct tm tm;
	char *end;

	if (!s || !*s)
		return -1;
	if (!strcmp(s, "now")) {
		*ns = now;
		return 0;
	}
	if (s[0] == '-' || s[0] == '@') {
		double v;
		errno = 0;
		v = strtod(s + 1, &end);
		if (errno || end == s + 1 || v < 0)
			return -1;
		if (s[0] == '@') {
			if (*end)
				return -1;
			*ns = (uint64_t)(v * 1e9);
			return 0;
		}
		switch (*end) {
		case 's': case 0: break;
		case 'm': v *= 60; break;
		case 'h': v *= 3600; break;
		case 'd': v *= 86400; break;
		default: return -1;
		}
		if (*end && end[1])
			return -1;
		if (v * 1e9 > (double)now)
			return -1;
		*ns = now - (uint64_t)(v * 1e9);
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (!end || *end)
			return -1;
	}
	{
		time_t t = timegm(&tm);
		uint64_t frac = 0, scale = 100000000ull;
		if (t < 0)
			return -1;
		if (*end == '.') {
			end++;
			while (*end >= '0' && *end <= '9') {
				frac += (uint64_t)(*end - '0') * scale;
				scale /= 10;
				end++;
			}
		}
		if (*end == 'Z')
			end++;
		if (*end)
			return -1;
		*ns = (uint64_t)t * 1000000000ull + frac;
	}
	return 0;
}

/* ---- sources ---------------------------------------------------------------------- */

void mg_sources_free(struct mg_sources *s)
{
	mg_journal_segments_free(s->files, s->n);
	memset(s, 0, sizeof(*s));
}

/* Each argument: a journal directory (all its segments) or one segment file. None: the
 * local journal. */
int mg_sources_expand(struct mg_sources *s, int argc, char **argv)
{
	const char *def = mg_jlog_dir();
	char err[600];
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < (argc ? argc : 1); i++) {
		const char *arg = argc ? argv[i] : def;
		struct stat sb;

		if (stat(arg, &sb)) {
			mg_err("%s: %s", arg, strerror(errno));
			goto fail;
		}
		if (S_ISDIR(sb.st_mode)) {
			char **p;
			size_t n;
			if (mg_journal_segments(arg, &p, &n, err, sizeof(err))) {
				mg_err("%s", err);
				goto fail;
			}
			if (n == 0)
				mg_warn("%s: no journal segments (seg-*.mgj)", arg);
			for (size_t k = 0; k < n; k++) {
				char **nf = realloc(s->files, (s->n + 1) * sizeof(char *));
				if (!nf) {
					mg_journal_segments_free(p + k, n - k);
					free(p);
					goto oom;
				}
				s->files = nf;
				s->files[s->n++] = p[k];
			}
			free(p);
		} else if (S_ISREG(sb.st_mode)) {
			char **nf = realloc(s->files, (s->n + 1) * sizeof(char *));
			if (!nf)
				goto oom;
			s->files = nf;
			if (!(s->files[s->n] = strdup(arg)))
				goto oom;
			s->n++;
		} else {
			mg_err("%s: not a journal directory or segment file", arg);
			goto fail;
		}
	}
	return 0;
oom:
	mg_err("out of memory");
fail:
	mg_sources_free(s);
	return -1;
}

/* Scan every source; corrupt regions and torn tails are reported on stderr. */
int mg_sources_scan(const struct mg_sources *s, mg_jscan_cb cb, void *ctx,
		    unsigned long long *nrecords)
{
	char err[700];
	int rc = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct mg_jscan_stats st;
		int r = mg_journal_scan_file(s->files[i], cb, ctx, &st, err, sizeof(err));
		if (r < 0) {
			mg_err("%s", err);
			rc = -1;
			continue;
		}
		if (nrecords)
			*nrecords += st.records;
		if (st.corrupt)
			mg_warn("%s: skipped %llu corrupt region(s), %llu bytes, first at offset %llu",
				s->files[i], (unsigned long long)st.corrupt,
				(unsigned long long)st.corrupt_bytes,
				(unsigned long long)st.first_corrupt_off);
		if (st.torn_bytes)
			mg_warn("%s: torn tail: %llu bytes at offset %llu hold no complete record",
				s->files[i], (unsigned long long)st.torn_bytes,
				(unsigned long long)st.torn_off);
		if (r > 0)
			return r;
	}
	return rc;
}

json_object *mg_rec_parse(const struct mg_jrec *r)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, r->payload, (int)r->h.len);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (o)
		json_object_object_add(o, "seq", json_object_new_uint64(r->h.seq));
	return o;
}

/* ---- journal ---------------------------------------------------------------------- */

struct jfilter {
	const char *domain, *ifname;
	char domain_lc[128];          /* lower-case domain when it differs, for the prefilter */
	int verdict, type;            /* -1: any */
	uint64_t since, until;        /* 0: open */
};

static bool str_in_array(json_object *o, const char *key, const char *want)
{
	json_object *a;

	if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(a, i)), want))
			return true;
	return false;
}

bool mg_rec_mentions_domain(json_object *o, const char *d)
{
	static const char *keys[] = { "domain", "uuid", "owner_domain", "owner_uuid",
				      "teardown_domain", "teardown_uuid" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = mg_jstr(o, keys[i]);
		if (*v && !strcasecmp(v, d))
			return true;
	}
	return false;
}

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
	    !str_in_array(o, "targets", f->ifname))
		return false;
	return true;
}

struct jprint {
	struct jfilter f;
	bool json;
	unsigned long long printed;
};

void mg_rec_print_text(FILE *out, json_object *o, uint64_t seq)
{
	char text[1400];

	mg_jrec_text(o, text, sizeof(text));
	fprintf(out, "%s %-12s %6llu %s\n", mg_jstr(o, "time"), mg_jstr(o, "host"),
		(unsigned long long)seq, text);
}

static int print_cb(void *ctx, const struct mg_jrec *r)
{
	struct jprint *p = ctx;
	json_object *o;

	if (!header_ok(&p->f, r))
		return 0;
	if (p->json && !p->f.domain && !p->f.ifname && r->h.len > 2 && r->payload[0] == '{' &&
	    r->payload[1] == '"') {
		/* splice the seq in front: no parse needed */
		printf("{\"seq\":%llu,%.*s\n", (unsigned long long)r->h.seq, (int)r->h.len - 1,
		       r->payload + 1);
		p->printed++;
		return 0;
	}
	o = mg_rec_parse(r);
	if (!o) {
		mg_warn("%s: record seq %llu at offset %llu: payload is not a JSON object",
			r->file ? r->file : "?", (unsigned long long)r->h.seq, (unsigned long long)r->off);
		return 0;
	}
	if (body_ok(&p->f, o)) {
		if (p->json)
			puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								JSON_C_TO_STRING_NOSLASHESCAPE));
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
			FILE *fp = fopen(cur, "re");
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

static void usage_journal(FILE *out)
{
	fprintf(out, "usage: macvguard journal [-f] [-j] [--domain NAME|UUID] [--ifname N] "
		     "[--since T] [--until T]\n"
		     "                        [--verdict allow|deny|audit|gone] [--type TYPE] "
		     "[--dir DIR | JOURNAL...]\n"
		     "       T: 2026-11-26T09:43:42Z, '2026-11-26 09:43', @UNIX, now, -10m, -2h\n"
		     "       JOURNAL: a journal directory or a segment file (default %s)\n",
		mg_jlog_dir());
}

int parse_verdict_arg(const char *s)
{
	for (int v = 1; v <= MG_V_GONE; v++)
		if (!strcmp(s, mg_verdict_name((unsigned)v)))
			return v;
	return -1;
}

int mg_cmd_journal(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },      { "json", no_argument, NULL, 'j' },
		{ "domain", required_argument, NULL, 'd' }, { "ifname", required_argument, NULL, 'i' },
		{ "since", required_argument, NULL, 's' },  { "until", required_argument, NULL, 'u' },
		{ "verdict", required_argument, NULL, 'v' }, { "type", required_argument, NULL, 't' },
		{ "dir", required_argument, NULL, 'D' },    { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct jprint p = { .f = { .verdict = -1, .type = -1 }, .json = mg_json };
	struct mg_sources src;
	bool follow_mode = false;
	const char *dir = NULL;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fjd:i:s:u:v:t:D:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': follow_mode = true; break;
		case 'j': p.json = true; break;
		case 'd':
			if (!*optarg || strlen(optarg) >= sizeof(p.f.domain_lc)) {
				mg_err("--domain: 1..%zu bytes", sizeof(p.f.domain_lc) - 1);
				return 2;
			}
			p.f.domain = optarg;
			for (size_t i = 0; optarg[i]; i++)
				p.f.domain_lc[i] = (char)tolower((unsigned char)optarg[i]);
			if (!strcmp(p.f.domain_lc, optarg))
				p.f.domain_lc[0] = 0;
			break;
		case 'i': p.f.ifname = optarg; break;
		case 'D': dir = optarg; break;
		case 's':
			if (mg_parse_time(optarg, &p.f.since)) {
				mg_err("--since: not a time: %s", optarg);
				return 2;
			}
			break;
		case 'u':
			if (mg_parse_time(optarg, &p.f.until)) {
				mg_err("--until: not a time: %s", optarg);
				return 2;
			}
			break;
		case 'v':
			if ((p.f.verdict = parse_verdict_arg(optarg)) < 0) {
				mg_err("--verdict: allow, deny, audit or gone");
				return 2;
			}
			break;
		case 't':
			if ((p.f.type = mg_jtype_parse(optarg)) < 0) {
				mg_err("--type: verdict, hook, tag, untag, release, agent, lost, link or mode");
				return 2;
			}
			break;
		case 'h': usage_journal(stdout); return 0;
		default: usage_journal(stderr); return 2;
		}
	}
	if (dir && optind < argc) {
		usage_journal(stderr);
		return 2;
	}
	if (follow_mode && optind + 1 < argc) {
		mg_err("-f follows one journal directory");
		return 2;
	}
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
		if (stat(fdir, &sb) || !S_ISDIR(sb.st_mode)) {
			mg_err("-f needs a journal directory: %s", fdir);
			return 2;
		}
		rc = follow(fdir, &p);
	}
	fflush(stdout);
	return rc;
}
