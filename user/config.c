/* The configuration file: KEY = VALUE lines, '#' comments (see config.h). The whole file
 * is read (bounded, regular file, no symlink) and split on '\n' itself: no line-length
 * limit can cut a comment into a directive, a NUL byte is an error, CRLF is accepted. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "output.h"
#include "paths.h"
#include "util.h"

#define LINE_MAX_VALUE 1024   /* longer values (not comments) are an error */

void mg_conf_defaults(struct mg_conf *c)
{
	memset(c, 0, sizeof(*c));
	mg_strlcpy(c->status_dir, MG_DEFAULT_STATUS_DIR, sizeof(c->status_dir));
	mg_strlcpy(c->mode, "enforce", sizeof(c->mode));
	c->watch_status = true;
	c->journal = true;
	mg_strlcpy(c->journal_dir, "/var/lib/macvguard/journal", sizeof(c->journal_dir));
	mg_strlcpy(c->prom_file, "auto", sizeof(c->prom_file));
}

static bool abs_path(const char *v, size_t size)
{
	return v[0] == '/' && strlen(v) < size;
}

static bool printable(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v <= ' ' || (unsigned char)*v == 0x7f)
			return false;
	return true;
}

static bool prefix_list_ok(const char *v)
{
	size_t n = 0;

	for (; *v; v++) {
		if (*v == ',') {
			if (n == 0 || n > 15)
				return false;
			n = 0;
		} else if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
			   (*v >= '0' && *v <= '9') || *v == '_' || *v == '-' || *v == '.') {
			n++;
		} else {
			return false;
		}
	}
	return n > 0 && n <= 15;
}

/* Sets one key; NULL or the error text. */
static const char *set_key(struct mg_conf *c, const char *k, const char *v, int *idx)
{
	static const char *const keys[] = {
		"status_dir", "watch_status", "mode", "journal", "journal_dir",
		"journal_segment_size", "journal_retain", "host", "systemd_journal",
		"prometheus_file", "hook_log", "xml_max_size", "xml_prefixes",
	};
	size_t i, sz;
	int b;

	*idx = -1;
	for (i = 0; i < MG_ARRAY_SIZE(keys); i++)
		if (!strcmp(k, keys[i]))
			*idx = (int)i;
	switch (*idx) {
	case 0:
		if (!abs_path(v, sizeof(c->status_dir)))
			return "status_dir must be an absolute path (under 256 bytes)";
		mg_strlcpy(c->status_dir, v, sizeof(c->status_dir));
		return NULL;
	case 1: case 3: case 8:
		if ((b = mg_parse_bool(v)) < 0)
			return *idx == 1 ? "watch_status must be yes or no" :
			       *idx == 3 ? "journal must be yes or no" : "systemd_journal must be yes or no";
		if (*idx == 1)
			c->watch_status = b;
		else if (*idx == 3)
			c->journal = b;
		else
			c->systemd_journal = b;
		return NULL;
	case 2:
		if (strcmp(v, "enforce") && strcmp(v, "audit"))
			return "mode must be enforce or audit";
		mg_strlcpy(c->mode, v, sizeof(c->mode));
		c->mode_set = true;
		return NULL;
	case 4:
		if (!abs_path(v, sizeof(c->journal_dir)))
			return "journal_dir must be an absolute path (under 256 bytes)";
		mg_strlcpy(c->journal_dir, v, sizeof(c->journal_dir));
		return NULL;
	case 5: case 6: case 11:
		if (mg_parse_size(v, &sz))
			return "expected a size (bytes, or with K, M, G: e.g. 16M), 1 byte .. 2 GiB";
		if (*idx == 5)
			c->journal_segment = sz;
		else if (*idx == 6)
			c->journal_retain = sz;
		else
			c->xml_max_size = sz;
		return NULL;
	case 7:
		if (!printable(v) || strlen(v) >= sizeof(c->host))
			return "host must be one word of printable characters (under 256 bytes)";
		mg_strlcpy(c->host, v, sizeof(c->host));
		return NULL;
	case 9:
		if (!strcmp(v, "no"))
			c->prom_file[0] = 0;
		else if (!strcmp(v, "auto") || abs_path(v, sizeof(c->prom_file)))
			mg_strlcpy(c->prom_file, v, sizeof(c->prom_file));
		else
			return "prometheus_file must be auto, no or an absolute path";
		return NULL;
	case 10:
		if (!strcmp(v, "no"))
			c->hook_log[0] = 0;
		else if (abs_path(v, sizeof(c->hook_log)))
			mg_strlcpy(c->hook_log, v, sizeof(c->hook_log));
		else
			return "hook_log must be no or an absolute path";
		return NULL;
	case 12:
		if (!prefix_list_ok(v) || strlen(v) >= sizeof(c->xml_prefixes))
			return "xml_prefixes must be a comma-separated list of interface name prefixes";
		mg_strlcpy(c->xml_prefixes, v, sizeof(c->xml_prefixes));
		return NULL;
	}
	return "unknown key";
}

static void problem(mg_conf_report_fn report, void *ctx, const char *name, int lineno,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void problem(mg_conf_report_fn report, void *ctx, const char *name, int lineno,
		    const char *fmt, ...)
{
	char where[600], msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lineno > 0)
		snprintf(where, sizeof(where), "%s:%d", name, lineno);
	else
		snprintf(where, sizeof(where), "%s", name);
	if (report)
		report(ctx, where, msg);
	else
		mg_warn("%s: %s", where, msg);
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

int mg_conf_parse(const char *buf, size_t len, const char *name, struct mg_conf *c,
		  mg_conf_report_fn report, void *ctx)
{
	const char *p = buf, *end = buf + len;
	unsigned seen = 0;
	int lineno = 0, n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *hash, *ks, *ke, *vs, *ve, *eq;
		char key[64], val[LINE_MAX_VALUE + 1], *shown;
		const char *err;
		int idx;

		lineno++;
		if (e > p && e[-1] == '\r')   /* CRLF */
			e--;
		if (memchr(p, 0, (size_t)(e - p))) {
			problem(report, ctx, name, lineno, "NUL byte in the line: ignored");
			n++;
			goto next;
		}
		hash = memchr(p, '#', (size_t)(e - p));
		if (hash)
			e = hash;
		ks = p;
		while (ks < e && blank(*ks))
			ks++;
		while (e > ks && (blank(e[-1]) || e[-1] == '\r'))
			e--;
		if (ks == e)
			goto next;
		eq = memchr(ks, '=', (size_t)(e - ks));
		if (!eq) {
			problem(report, ctx, name, lineno, "expected KEY = VALUE: ignored");
			n++;
			goto next;
		}
		ke = eq;
		while (ke > ks && blank(ke[-1]))
			ke--;
		vs = eq + 1;
		while (vs < e && blank(*vs))
			vs++;
		ve = e;
		if ((size_t)(ke - ks) >= sizeof(key) || ke == ks) {
			problem(report, ctx, name, lineno, ke == ks ? "no key before '=': ignored" :
				"unknown key (too long): ignored");
			n++;
			goto next;
		}
		if ((size_t)(ve - vs) > LINE_MAX_VALUE) {
			problem(report, ctx, name, lineno, "value longer than %d bytes: ignored",
				LINE_MAX_VALUE);
			n++;
			goto next;
		}
		memcpy(key, ks, (size_t)(ke - ks));
		key[ke - ks] = 0;
		memcpy(val, vs, (size_t)(ve - vs));
		val[ve - vs] = 0;
		if (!val[0]) {
			problem(report, ctx, name, lineno, "%s: no value: ignored", key);
			n++;
			goto next;
		}
		err = set_key(c, key, val, &idx);
		if (err) {
			char esc[200];
			shown = mg_escape(idx < 0 ? key : val, esc, sizeof(esc));
			if (idx < 0)
				problem(report, ctx, name, lineno, "unknown key '%s': ignored", shown);
			else
				problem(report, ctx, name, lineno, "'%s': %s: ignored", shown, err);
			n++;
		} else if (seen & (1u << idx)) {
			problem(report, ctx, name, lineno, "%s set a second time (the last one is used)",
				key);
			n++;
		}
		if (idx >= 0 && !err)
			seen |= 1u << idx;
next:
		p = nl ? nl + 1 : end;
	}
	return n;
}

int mg_conf_read(const char *path, bool must_exist, struct mg_conf *c, mg_conf_report_fn report,
		 void *ctx, int *nproblems)
{
	char *buf = NULL;
	size_t len = 0;
	int rc, n;

	if (nproblems)
		*nproblems = 0;
	rc = mg_read_file(path, MG_CONF_MAX_SIZE, &buf, &len);
	if (rc == 1)
		rc = -EFBIG;
	if (rc == -ENOENT && !must_exist)
		return 0;
	if (rc)
		return rc;
	n = mg_conf_parse(buf, len, path, c, report, ctx);
	mg_strlcpy(c->path, path, sizeof(c->path));
	free(buf);
	if (nproblems)
		*nproblems = n;
	return 0;
}

int mg_conf_load(const char *path, struct mg_conf *c)
{
	return mg_conf_read(path, false, c, NULL, NULL, NULL);
}

static void env_size(const char *name, size_t *out)
{
	const char *v = getenv(name);
	size_t s;

	if (!v || !*v)
		return;
	if (mg_parse_size(v, &s))
		mg_warn("ignoring bad %s '%s'", name, v);
	else
		*out = s;
}

static void env_str(const char *name, char *out, size_t size, bool need_abs)
{
	const char *v = getenv(name);

	if (v && *v && (!need_abs || v[0] == '/') && strlen(v) < size)
		mg_strlcpy(out, v, size);
}

void mg_conf_env(struct mg_conf *c)
{
	const char *v;

	env_str("MACVGUARD_STATUS_DIR", c->status_dir, sizeof(c->status_dir), true);
	if (getenv("MACVGUARD_NO_JOURNAL"))
		c->journal = false;
	env_str("MACVGUARD_JOURNAL_DIR", c->journal_dir, sizeof(c->journal_dir), false);
	env_size("MACVGUARD_JOURNAL_SEGMENT", &c->journal_segment);
	env_size("MACVGUARD_JOURNAL_RETAIN", &c->journal_retain);
	env_str("MACVGUARD_HOST", c->host, sizeof(c->host), false);
	if ((v = getenv("MACVGUARD_SYSTEMD_JOURNAL")))
		c->systemd_journal = !strcmp(v, "1") || mg_parse_bool(v) == 1;
	if ((v = getenv("MACVGUARD_PROM_FILE")))
		mg_strlcpy(c->prom_file, strcmp(v, "-") ? v : "", sizeof(c->prom_file));
	if ((v = getenv("MACVGUARD_HOOK_LOG")))
		mg_strlcpy(c->hook_log, v, sizeof(c->hook_log));
	env_size("MACVGUARD_XML_MAX_SIZE", &c->xml_max_size);
	env_str("MACVGUARD_XML_PREFIXES", c->xml_prefixes, sizeof(c->xml_prefixes), false);
}

const char *mg_conf_cli_path;
static struct mg_conf current;
static bool current_set;

const char *mg_conf_path(const char *path, bool *explicit_)
{
	const char *env = getenv("MACVGUARD_CONF");

	*explicit_ = true;
	if (path)
		return path;
	if (env && *env)
		return env;
	*explicit_ = false;
	return MG_DEFAULT_CONF;
}

int mg_conf_init(const char *path)
{
	struct mg_conf c;
	bool explicit_;
	const char *p = mg_conf_path(path, &explicit_);
	int rc;

	mg_conf_defaults(&c);
	rc = mg_conf_read(p, explicit_, &c, NULL, NULL, NULL);
	if (rc) {
		mg_err("configuration %s: %s", p, rc == -EINVAL ? "not a regular file" :
		       rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
		mg_conf_defaults(&c);
	}
	mg_conf_env(&c);
	current = c;
	current_set = true;
	return rc;
}

const struct mg_conf *mg_conf(void)
{
	if (!current_set) {
		mg_conf_defaults(&current);
		mg_conf_env(&current);
		current_set = true;
	}
	return &current;
}

void mg_conf_set(const struct mg_conf *c)
{
	current = *c;
	current_set = true;
}
