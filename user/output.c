/* See output.h. */
#include <stdarg.h>
#include <stdio.h>
#include "output.h"
#include "util.h"

bool mg_json;
bool mg_verbose;

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "macvguard: %s", prefix);
	vfprintf(stderr, fmt, ap);
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

void mg_json_print(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}
