/* See output.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"
#include "util.h"

bool mg_json;
bool mg_verbose;

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

void mg_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("error: ", fmt, ap);
	va_end(ap);
}

void mg_err_at(const char *where, const char *fmt, ...)
{
	char prefix[512];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "%s: error: ", where);
	va_start(ap, fmt);
	vmsg(prefix, fmt, ap);
	va_end(ap);
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
	size_t n, cap, k = 0;
	const unsigned char *s = (const unsigned char *)json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
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
	char *line = mg_json_line(o, &len);
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
