/* What `journal` and `postmortem` share: time arguments, the journal directories and
 * segment files named on the command line, and reading a record's JSON payload. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-journal.h>
#include "journal_sources.h"
#include "names.h"
#include "output.h"

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
		/* nan, inf and anything past 2^64 ns would be undefined as an integer */
		if (errno || end == s + 1 || !isfinite(v) || v < 0 || v >= 1.8e10 * 1000)
			return -1;
		if (s[0] == '@') {
			if (*end || v * 1e9 >= 18446744073709551615.0)
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
		if (!isfinite(v) || v * 1e9 > (double)now)
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
	for (size_t i = 0; i < s->nsd; i++)
		free(s->sd[i]);
	free(s->sd);
	memset(s, 0, sizeof(*s));
}

int mg_sources_add_sd(struct mg_sources *s, const char *dir)
{
	char **n = realloc(s->sd, (s->nsd + 1) * sizeof(char *));

	if (!n || !(n[s->nsd] = strdup(dir ? dir : ""))) {
		if (n)
			s->sd = n;
		mg_err("out of memory");
		return -1;
	}
	s->sd = n;
	s->nsd++;
	return 0;
}

/* A field's value (after "NAME=") of the current entry; NULL when absent. */
static const char *sd_field(sd_journal *j, const char *name, size_t *len)
{
	const void *d;
	size_t l, nl = strlen(name);

	if (sd_journal_get_data(j, name, &d, &l) < 0 || l <= nl || memcmp(d, name, nl) ||
	    ((const char *)d)[nl] != '=')
		return NULL;
	*len = l - nl - 1;
	return (const char *)d + nl + 1;
}

static bool sd_u64(sd_journal *j, const char *name, uint64_t *v)
{
	char buf[32], *end;
	size_t l;
	const char *p = sd_field(j, name, &l);

	if (!p || l == 0 || l >= sizeof(buf))
		return false;
	memcpy(buf, p, l);
	buf[l] = 0;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	return !errno && !*end;
}

/* The records macvguard copied to a systemd journal (jlog.c: MACVGUARD_RECORD with the
 * record header in MACVGUARD_TYPE/VERDICT/SEQ/TS) go to cb exactly as the records of a
 * segment file: the same header, the same payload. */
static int scan_sd(const char *dir, mg_jscan_cb cb, void *ctx, unsigned long long *nrecords)
{
	const char *name = *dir ? dir : "the systemd journal";
	unsigned long long skipped = 0;
	sd_journal *j = NULL;
	int r, rc = 0;

	r = *dir ? sd_journal_open_directory(&j, dir, 0) : sd_journal_open(&j, 0);
	if (r < 0) {
		mg_err("%s: cannot open: %s", name, strerror(-r));
		return -1;
	}
	r = sd_journal_add_match(j, "SYSLOG_IDENTIFIER=macvguard", 0);
	if (r < 0) {
		mg_err("%s: %s", name, strerror(-r));
		sd_journal_close(j);
		return -1;
	}
	/* big records: the payload may be up to MG_J_MAX_PAYLOAD */
	sd_journal_set_data_threshold(j, MG_J_MAX_PAYLOAD + 64);
	SD_JOURNAL_FOREACH(j) {
		struct mg_jrec rec = { 0 };
		uint64_t v;
		size_t len, tl;
		const char *payload = sd_field(j, "MACVGUARD_RECORD", &len);
		const char *type = sd_field(j, "MACVGUARD_TYPE", &tl);
		char tname[16];
		int t;

		if (!payload || !type || tl >= sizeof(tname) || len > MG_J_MAX_PAYLOAD) {
			skipped++;
			continue;
		}
		memcpy(tname, type, tl);
		tname[tl] = 0;
		if ((t = mg_jtype_parse(tname)) < 0) {
			skipped++;
			continue;
		}
		rec.h.type = (uint16_t)t;
		rec.h.len = (uint32_t)len;
		if (sd_u64(j, "MACVGUARD_SEQ", &v))
			rec.h.seq = v;
		/* copies of earlier versions lack the header's time and verdict: journald's
		 * own time, and the verdict named in the payload */
		if (sd_u64(j, "MACVGUARD_TS", &v))
			rec.h.ts_ns = v;
		else if (sd_journal_get_realtime_usec(j, &v) >= 0)
			rec.h.ts_ns = v * 1000;
		if (sd_u64(j, "MACVGUARD_VERDICT", &v) && v <= MG_V_GONE) {
			rec.h.verdict = (uint8_t)v;
		} else if (t == MG_JT_VERDICT) {
			for (unsigned k = 1; k <= MG_V_GONE; k++) {
				char pat[32];
				snprintf(pat, sizeof(pat), "\"verdict\":\"%s\"", mg_verdict_name(k));
				if (memmem(payload, len, pat, strlen(pat)))
					rec.h.verdict = (uint8_t)k;
			}
		}
		rec.payload = payload;
		rec.file = name;
		if (nrecords)
			(*nrecords)++;
		if ((r = cb(ctx, &rec))) {
			rc = r;
			break;
		}
	}
	if (skipped)
		mg_warn("%s: skipped %llu macvguard entries without a whole record "
			"(MACVGUARD_RECORD, MACVGUARD_TYPE)", name, skipped);
	sd_journal_close(j);
	return rc;
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
			/* named by the user: a symlink is theirs to follow (the reader opens
			 * with O_NOFOLLOW) */
			if (!(s->files[s->n] = realpath(arg, NULL)))
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
	for (size_t i = 0; i < s->nsd; i++) {
		int r = scan_sd(s->sd[i], cb, ctx, nrecords);
		if (r > 0)
			return r;
		if (r < 0)
			rc = -1;
	}
	return rc;
}

/* Keys written in a JSON text: its colons outside strings. */
static size_t keys_in_text(const char *s, size_t len)
{
	size_t n = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = false;
		} else if (s[i] == '"') {
			in_str = true;
		} else if (s[i] == ':') {
			n++;
		}
	}
	return n;
}

/* Members json-c kept (a repeated key keeps only its last value). json-c limits the
 * nesting depth, and with it this recursion. */
static size_t keys_kept(json_object *o)
{
	size_t n = 0;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			(void)k;
			n += 1 + keys_kept(v);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += keys_kept(json_object_array_get_idx(o, i));
	}
	return n;
}

/* Records written before the one JSON contract (docs/json.md, "Records written before"):
 * a tag/untag/release named the link's owner domain/uuid; "" and 0 stood for unknown.
 * Read as the contract says, so old and new records print, filter and merge alike. */
static void rename_key(json_object *o, const char *from, const char *to)
{
	json_object *v;

	if (json_object_object_get_ex(o, from, &v) && !json_object_object_get_ex(o, to, NULL)) {
		json_object_object_add(o, to, json_object_get(v));
		json_object_object_del(o, from);
	}
}

static void empty_is_null(json_object *o, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) && v &&
	    ((json_object_is_type(v, json_type_string) && !*json_object_get_string(v)) ||
	     (json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0)))
		json_object_object_add(o, key, NULL);
}

void mg_rec_upgrade(json_object *o)
{
	static const char *strs[] = { "owner_domain", "owner_uuid", "netns", "requested_name",
				      "msg_type", "uuid", "teardown_domain", "hook_parent",
				      "ifname", "kind", "lower" };
	static const char *nums[] = { "owner_pid", "ifindex", "target_ifindex", "lower_ifindex" };
	const char *type = mg_jstr(o, "type");
	json_object *k;

	if (!strcmp(type, "tag") || !strcmp(type, "untag") || !strcmp(type, "release")) {
		rename_key(o, "domain", "owner_domain");
		rename_key(o, "uuid", "owner_uuid");
	}
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strcmp(strs[i], "ifname") || !strcmp(type, "verdict"))
			empty_is_null(o, strs[i]);
	if (!strcmp(type, "verdict")) {
		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
			empty_is_null(o, nums[i]);
		/* an unknown requester is null, never pid 0 */
		if (json_object_object_get_ex(o, "requester_known", &k) && k &&
		    !json_object_get_boolean(k))
			json_object_object_add(o, "req_netns_cookie", NULL);
	}
}

json_object *mg_rec_parse(const struct mg_jrec *r)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	if (!tok)
		return NULL;
	/* exactly one strict JSON object filling the payload: no trailing bytes (a second,
	 * forged object), nothing truncated, no repeated key */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, r->payload, (int)r->h.len);
	if (o && (!json_object_is_type(o, json_type_object) ||
		  json_tokener_get_error(tok) != json_tokener_success ||
		  json_tokener_get_parse_end(tok) != r->h.len ||
		  keys_kept(o) != keys_in_text(r->payload, r->h.len))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (o) {
		mg_rec_upgrade(o);
		json_object_object_add(o, "seq", json_object_new_uint64(r->h.seq));
	}
	return o;
}

bool mg_rec_array_has(json_object *o, const char *key, const char *want)
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

void mg_rec_print_text(FILE *out, json_object *o, uint64_t seq)
{
	char text[1400], line[1600], host[64];

	/* every field comes from a journal, possibly another host's: mg_print_line escapes */
	mg_jrec_text(o, text, sizeof(text));
	mg_fit(mg_jstr(o, "host"), 12, host, sizeof(host));
	snprintf(line, sizeof(line), "%s %s %6llu %s", mg_jstr(o, "time"), host,
		 (unsigned long long)seq, text);
	mg_print_line(out, line);
}

int mg_parse_verdict_arg(const char *s)
{
	for (int v = 1; v <= MG_V_GONE; v++)
		if (!strcmp(s, mg_verdict_name((unsigned)v)))
			return v;
	return -1;
}

