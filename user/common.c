#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common.h"

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

#define NAME_OF(table, v) ((v) < sizeof(table) / sizeof(table[0]) && table[v] ? table[v] : "unknown")

const char *mg_verdict_name(unsigned v)
{
	static const char *n[] = { "none", "allow", "deny", "audit", "gone" };
	return NAME_OF(n, v);
}

const char *mg_how_name(unsigned h)
{
	static const char *n[] = { NULL, "index", "name", "altname", "group", "lower",
				   "unparsed", "unresolved", "kernel" };
	return NAME_OF(n, h);
}

const char *mg_reason_name(unsigned r)
{
	static const char *n[] = { "", "in-use", "not-in-use", "released", "owner",
				   "owner-gone", "unparsed", "unresolved" };
	return NAME_OF(n, r);
}

const char *mg_action_name(unsigned a)
{
	static const char *n[] = { "none", "delete", "rename", "move" };
	return NAME_OF(n, a);
}

const char *mg_record_name(unsigned r)
{
	static const char *n[] = { "request", "delete" };
	return NAME_OF(n, r);
}

const char *mg_path_name(unsigned p)
{
	static const char *n[] = { "unknown", "netlink", "cascade", "netns", "tapclose", "other" };
	return NAME_OF(n, p);
}

const char *mg_result_name(unsigned r)
{
	static const char *n[] = { "none", "deleted", "refused", "failed", "unseen" };
	return NAME_OF(n, r);
}

const char *mg_mode_name(unsigned m)
{
	static const char *n[] = { "enforce", "audit" };
	return NAME_OF(n, m);
}

const char *mg_kind_name(unsigned k)
{
	static const char *n[] = { "other", "macvtap", "macvlan", "tun", "veth" };
	return NAME_OF(n, k);
}

const char *mg_source_name(unsigned s)
{
	static const char *n[] = { "manual", "hook", "status-file" };
	return NAME_OF(n, s);
}

const char *mg_queues_name(unsigned q)
{
	static const char *n[] = { "none", "held", "unknown" };
	return NAME_OF(n, q);
}

unsigned mg_kind_of(const char *type)
{
	if (!type)
		return MG_KIND_OTHER;
	if (!strcmp(type, "macvtap"))
		return MG_KIND_MACVTAP;
	if (!strcmp(type, "macvlan"))
		return MG_KIND_MACVLAN;
	if (!strcmp(type, "tun"))
		return MG_KIND_TUN;
	if (!strcmp(type, "veth"))
		return MG_KIND_VETH;
	return MG_KIND_OTHER;
}

int mg_parse_mode(const char *s, unsigned *mode)
{
	if (!strcmp(s, "enforce"))
		*mode = MG_MODE_ENFORCE;
	else if (!strcmp(s, "audit"))
		*mode = MG_MODE_AUDIT;
	else
		return -1;
	return 0;
}

void mg_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
}

int mg_uuid_parse(const char *s, uint8_t out[16])
{
	int i = 0;

	for (; *s && i < 32; s++) {
		if (*s == '-')
			continue;
		if (!isxdigit((unsigned char)*s))
			return -1;
		int v = isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
		i++;
	}
	return (i == 32 && *s == 0) ? 0 : -1;
}

void mg_uuid_format(const uint8_t in[16], char out[37])
{
	static const uint8_t zero[16];

	if (!memcmp(in, zero, 16)) {
		out[0] = 0;
		return;
	}
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8], in[9], in[10],
		 in[11], in[12], in[13], in[14], in[15]);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t mg_now_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

uint64_t mg_boot_to_real(uint64_t boot_ns)
{
	static int64_t offset;
	static bool have;

	if (!have) {
		offset = (int64_t)clock_ns(CLOCK_REALTIME) - (int64_t)clock_ns(CLOCK_BOOTTIME);
		have = true;
	}
	return (uint64_t)((int64_t)boot_ns + offset);
}

void mg_format_time(uint64_t real_ns, char *out, size_t size)
{
	time_t sec = (time_t)(real_ns / 1000000000ull);
	struct tm tm;
	char base[32];

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%06lluZ", base, (unsigned long long)(real_ns % 1000000000ull) / 1000);
}

uint64_t mg_proc_start_ticks(uint32_t pid)
{
	char path[64], buf[1024];
	FILE *f;
	size_t n;
	char *p;
	unsigned long long start = 0;
	int field;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* comm may hold spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (field = 3; field < 22 && p; field++) {
		p = strchr(p + 1, ' ');
	}
	if (!p || sscanf(p, " %llu", &start) != 1)
		return 0;
	return start;
}

bool mg_proc_alive(uint32_t pid, uint64_t start_ticks)
{
	uint64_t now = mg_proc_start_ticks(pid);
	return now != 0 && (start_ticks == 0 || now == start_ticks);
}

void mg_json_print(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

bool mg_parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}
