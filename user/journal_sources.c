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
	if (o)
		json_object_object_add(o, "seq", json_object_new_uint64(r->h.seq));
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
	char text[1400];

	char head[400];

	/* every field comes from a journal, possibly another host's: one escaped line */
	mg_jrec_text(o, text, sizeof(text));
	snprintf(head, sizeof(head), "%s %-12s %6llu ", mg_jstr(o, "time"), mg_jstr(o, "host"),
		 (unsigned long long)seq);
	mg_fputs_escaped(out, head);
	mg_fputs_escaped(out, text);
	fputc('\n', out);
}

int mg_parse_verdict_arg(const char *s)
{
	for (int v = 1; v <= MG_V_GONE; v++)
		if (!strcmp(s, mg_verdict_name((unsigned)v)))
			return v;
	return -1;
}

