/* See util.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "util.h"

void mg_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
}

size_t mg_utf8_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
	else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
	else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
	else return 0;
	if (len <= n)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

static int ms_left(const struct timespec *t0, int timeout_ms)
{
	struct timespec now;
	long long ms;

	if (timeout_ms < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = timeout_ms - ((now.tv_sec - t0->tv_sec) * 1000LL +
			   (now.tv_nsec - t0->tv_nsec) / 1000000);
	return ms > 0 ? (int)ms : 0;
}

static void drain(int fd, const struct timespec *t0, int timeout_ms)
{
	char sink[65536];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = ms_left(t0, timeout_ms);
		ssize_t r;

		if (left == 0 || (timeout_ms >= 0 && poll(&p, 1, left) <= 0))
			return;
		r = read(fd, sink, sizeof(sink));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
	}
}

int mg_read_fd(int fd, size_t max, int timeout_ms, unsigned flags, char **buf, size_t *len)
{
	size_t cap = 65536, n = 0;
	struct timespec t0;
	struct stat st;
	char *p;

	*buf = NULL;
	*len = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((unsigned long long)st.st_size > max)
			goto too_big;
		cap = (size_t)st.st_size + 1;
	}
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (timeout_ms >= 0) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			int left = ms_left(&t0, timeout_ms), pr;

			pr = left ? poll(&pf, 1, left) : 0;
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr <= 0) {
				free(p);
				return pr < 0 ? -errno : -ETIMEDOUT;
			}
		}
		if (n + 1 >= cap) {
			char *q;
			if (cap > max + 1) {
				free(p);
				goto too_big;
			}
			cap *= 2;
			q = realloc(p, cap);
			if (!q) {
				free(p);
				return -ENOMEM;
			}
			p = q;
		}
		r = read(fd, p + n, cap - 1 - n);
		if (r < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			free(p);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(p);
			goto too_big;
		}
	}
	p[n] = 0;
	*buf = p;
	*len = n;
	return 0;
too_big:
	if (flags & MG_READ_DRAIN)
		drain(fd, &t0, timeout_ms);
	return 1;
}

int mg_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY), rc;
	struct stat st;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	rc = mg_read_fd(fd, max, -1, 0, buf, len);
	close(fd);
	return rc;
}

int mg_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int mg_mkdir_p(const char *dir, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int mg_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	int unit = 0;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'K': case 'k': unit = 10; end++; break;
	case 'M': case 'm': unit = 20; end++; break;
	case 'G': case 'g': unit = 30; end++; break;
	}
	/* check before shifting: a shift past 64 bits would wrap to a small size */
	if (v > (1ull << 31) >> unit)
		return -1;
	v <<= unit;
	if (unit && *end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end || v == 0 || v > (1ull << 31))
		return -1;
	*out = (size_t)v;
	return 0;
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

int mg_parse_bool(const char *s)
{
	if (!strcmp(s, "yes") || !strcmp(s, "1") || !strcmp(s, "true"))
		return 1;
	if (!strcmp(s, "no") || !strcmp(s, "0") || !strcmp(s, "false"))
		return 0;
	return -1;
}

void mg_seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
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

uint64_t mg_now_boot_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

uint64_t mg_now_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t mg_boot_to_real(uint64_t boot_ns)
{
	/* read every time, never cached: after a clock step a cached offset would put
	 * verdicts and other records the step apart */
	int64_t offset = (int64_t)clock_ns(CLOCK_REALTIME) - (int64_t)clock_ns(CLOCK_BOOTTIME);

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
	for (field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &start) != 1)
		return 0;
	return start;
}

bool mg_proc_alive(uint32_t pid, uint64_t start_ticks)
{
	uint64_t now = mg_proc_start_ticks(pid);
	return now != 0 && (start_ticks == 0 || now == start_ticks);
}
