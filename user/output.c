/* See output.h. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "output.h"
#include "util.h"

bool mg_json;
bool mg_pretty;
bool mg_verbose;
bool mg_wide;
const char *mg_cmd_name = "";

/* The escaped form of the character at s (len bytes left) into tmp; *used gets its
 * length in s. Returns the length of tmp (the character itself when it is safe). */
static size_t escape_one(const unsigned char *s, size_t len, char tmp[9], size_t *used)
{
	size_t n = mg_utf8_len(s, len);

	if (n == 0 || s[0] < 0x20 || s[0] == 0x7f || (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)) {
		/* not UTF-8, C0, DEL, or C1 (each of its two bytes) */
		n = n == 2 ? 2 : 1;
		for (size_t k = 0; k < n; k++)
			snprintf(tmp + 4 * k, 5, "\\x%02x", s[k]);
		*used = n;
		return 4 * n;
	}
	if (s[0] == '\\') {
		memcpy(tmp, "\\\\", 2);
		*used = 1;
		return 2;
	}
	memcpy(tmp, s, n);
	*used = n;
	return n;
}

void mg_fputs_escaped(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str), i = 0;

	while (i < len) {
		size_t run = i, used, n;
		char tmp[9];

		/* plain printable ASCII goes out in runs */
		while (run < len && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '\\')
			run++;
		if (run > i) {
			fwrite(s + i, 1, run - i, f);
			i = run;
			continue;
		}
		n = escape_one(s + i, len - i, tmp, &used);
		fwrite(tmp, 1, n, f);
		i += used;
	}
}

char *mg_escape(const char *str, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str), i = 0, o = 0;

	if (!size)
		return out;
	while (i < len) {
		char tmp[9];
		size_t used, n = escape_one(s + i, len - i, tmp, &used);

		if (o + n >= size)
			break;
		memcpy(out + o, tmp, n);
		o += n;
		i += used;
	}
	out[o] = 0;
	return out;
}

/* In JSON mode an error is {"error": MSG[, "help": HELP]} on stdout (bpftool's way). */
static void json_error(const char *where, const char *msg, const char *help)
{
	json_object *o = json_object_new_object();
	char *full = NULL;

	if (where && *where && asprintf(&full, "%s: %s", where, msg) < 0)
		full = NULL;
	json_object_object_add(o, "error", json_object_new_string(full ? full : msg));
	if (help)
		json_object_object_add(o, "help", json_object_new_string(help));
	mg_json_fputs(stdout, o);
	fflush(stdout);
	json_object_put(o);
	free(full);
}

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	char msg[4096];

	/* messages carry names from the outside (files, libvirt, the kernel): escaped */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "macvguard: ");
	mg_fputs_escaped(stderr, prefix);
	mg_fputs_escaped(stderr, msg);
	fputc('\n', stderr);
}

/* The one error path: {"error": ...} on stdout in JSON mode, one line on stderr else. */
static void verr(const char *where, const char *fmt, va_list ap)
{
	char prefix[512];

	if (mg_json) {
		char msg[4096];
		vsnprintf(msg, sizeof(msg), fmt, ap);
		json_error(where, msg, NULL);
		return;
	}
	if (where)
		snprintf(prefix, sizeof(prefix), "%s: error: ", where);
	else
		snprintf(prefix, sizeof(prefix), "error: ");
	vmsg(prefix, fmt, ap);
}

void mg_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(NULL, fmt, ap);
	va_end(ap);
}

void mg_err_at(const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(where, fmt, ap);
	va_end(ap);
}

int mg_usage_err(const char *fmt, ...)
{
	char msg[2048], help[160], full[2400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(help, sizeof(help), "macvguard %s%s--help", mg_cmd_name, *mg_cmd_name ? " " : "");
	snprintf(full, sizeof(full), "%s%s%s", mg_cmd_name, *mg_cmd_name ? ": " : "", msg);
	if (mg_json) {
		json_error(NULL, full, help);
	} else {
		fputs("macvguard: error: ", stderr);
		mg_fputs_escaped(stderr, full);
		fputs(" (see `", stderr);
		mg_fputs_escaped(stderr, help);
		fputs("`)\n", stderr);
	}
	return 2;
}

int mg_bad_option(int argc, char **argv, const char *shortopts)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	char name[128];

	mg_strlcpy(name, arg, sizeof(name));
	name[strcspn(name, "=")] = 0;
	/* getopt sets optopt for a known option whose value is missing (and for an unknown
	 * short one) */
	if (optopt && (arg[0] == '-' && arg[1] == '-' ? true : strchr(shortopts, optopt) != NULL))
		return arg[1] == '-' ? mg_usage_err("option '%s' needs a value", name)
				     : mg_usage_err("option '-%c' needs a value", optopt);
	if (optopt)
		return mg_usage_err("unknown option '-%c'", optopt);
	return mg_usage_err("unknown option '%s'", name);
}

void mg_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void mg_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void mg_log(const char *fmt, ...)
{
	char ts[64], prefix[80];
	va_list ap;

	mg_format_time(mg_now_real_ns(), ts, sizeof(ts));
	snprintf(prefix, sizeof(prefix), "%s ", ts);
	va_start(ap, fmt);
	vmsg(prefix, fmt, ap);
	va_end(ap);
}

char *mg_json_line(json_object *o, size_t *len)
{
	return mg_json_text(o, len, false);
}

char *mg_json_text(json_object *o, size_t *len, bool pretty)
{
	size_t n, cap, k = 0;
	const unsigned char *s = (const unsigned char *)json_object_to_json_string_length(
		o, (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
			   : JSON_C_TO_STRING_PLAIN) | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	char *out;

	cap = n + 1;
	for (size_t i = 0; i < n; i++)   /* worst case: every byte grows to 6 */
		if (s[i] >= 0x7f)
			cap += 5;
	out = malloc(cap);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t u = s[i] < 0x7f ? 1 : mg_utf8_len(s + i, n - i);

		if (u == 0) {
			/* only inside a string: json-c writes its own syntax in ASCII */
			k += (size_t)snprintf(out + k, cap - k, "\\\\x%02x", s[i]);
			i++;
		} else if (s[i] == 0x7f || (u == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)) {
			k += (size_t)snprintf(out + k, cap - k, "\\u%04x",
					      s[i] == 0x7f ? 0x7f : s[i + 1]);
			i += u;
		} else {
			memcpy(out + k, s + i, u);
			k += u;
			i += u;
		}
	}
	out[k] = 0;
	*len = k;
	return out;
}

int mg_json_fputs(FILE *f, json_object *o)
{
	size_t len;
	/* -p: what the user reads (stdout) is indented; files and sockets never are */
	char *line = mg_json_text(o, &len, mg_pretty && f == stdout);
	int rc;

	if (!line)
		return EOF;
	rc = fwrite(line, 1, len, f) == len && fputc('\n', f) != EOF ? 0 : EOF;
	free(line);
	return rc;
}

void mg_json_print(json_object *obj)
{
	mg_json_fputs(stdout, obj);
	json_object_put(obj);
}

int mg_stdout_status(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	mg_err("cannot write the output: %s", strerror(errno ? errno : EIO));
	return 1;
}

/* Display columns of a valid-UTF-8 string: one per code point (no East Asian width). */
static size_t columns(const char *s, size_t n, size_t *cut, size_t maxcols)
{
	size_t cols = 0, i = 0;

	*cut = n;
	while (i < n) {
		size_t u = mg_utf8_len((const unsigned char *)s + i, n - i);
		if (!u)
			u = 1;
		if (cols == maxcols && *cut == n)
			*cut = i;
		cols++;
		i += u;
	}
	return cols;
}

void mg_print_line(FILE *out, const char *line)
{
	char esc[8192];
	size_t n, cut;

	/* escaped first (an escape takes 4 columns), then cut to the terminal's habit */
	mg_escape(line, esc, sizeof(esc));
	n = strlen(esc);
	while (n && esc[n - 1] == ' ')
		n--;
	esc[n] = 0;
	/* cut only for a terminal (as systemctl does): pipes and files get every byte */
	if (!mg_wide && isatty(fileno(out)) &&
	    columns(esc, n, &cut, MG_TEXT_COLUMNS - 1) > MG_TEXT_COLUMNS) {
		fwrite(esc, 1, cut, out);
		fputs("\xe2\x80\xa6\n", out);   /* U+2026 */
		return;
	}
	fputs(esc, out);
	fputc('\n', out);
}

void mg_print_wrapped(FILE *out, const char *text, const char *indent)
{
	char esc[8192];
	size_t width = MG_TEXT_COLUMNS - strlen(indent), i = 0, n;

	mg_escape(text, esc, sizeof(esc));
	n = strlen(esc);
	while (i < n) {
		size_t end = i, last_space = 0, cols = 0, cut;

		while (end < n && cols < width) {
			size_t u = mg_utf8_len((const unsigned char *)esc + end, n - end);
			if (!u)
				u = 1;
			if (esc[end] == ' ')
				last_space = end;
			end += u;
			cols++;
		}
		cut = end >= n || mg_wide ? n : (last_space > i ? last_space : end);
		fputs(indent, out);
		fwrite(esc + i, 1, cut - i, out);
		fputc('\n', out);
		i = cut;
		while (i < n && esc[i] == ' ')
			i++;
	}
}

char *mg_fit(const char *s, size_t width, char *out, size_t size)
{
	size_t n = strlen(s), i = 0, cols = 0, o = 0, total = 0;

	for (size_t k = 0; k < n; total++) {
		size_t u = mg_utf8_len((const unsigned char *)s + k, n - k);
		k += u ? u : 1;
	}
	while (i < n && o + 8 < size) {
		size_t u = mg_utf8_len((const unsigned char *)s + i, n - i);
		if (!u)
			u = 1;
		if (total > width && cols == width - 1) {
			memcpy(out + o, "\xe2\x80\xa6", 3);   /* U+2026 */
			o += 3;
			cols++;
			break;
		}
		memcpy(out + o, s + i, u);
		o += u;
		i += u;
		cols++;
	}
	while (cols < width && o + 1 < size) {
		out[o++] = ' ';
		cols++;
	}
	out[o] = 0;
	return out;
}
