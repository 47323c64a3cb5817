/* The journal's on-disk format and its readers: record names, CRC32C, record checks,
 * scanning segments, listing a journal directory. The appender is journal.c. See
 * journal.h and docs/journal.md. No global state. */
#include "journal.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const type_names[] = { NULL, "verdict", "hook", "tag", "untag", "release",
					  "agent", "lost", "link", "mode" };

const char *mg_jtype_name(unsigned t)
{
	return t < MG_JT_MAX && type_names[t] ? type_names[t] : "unknown";
}

int mg_jtype_parse(const char *s)
{
	for (unsigned t = 1; t < MG_JT_MAX; t++)
		if (!strcmp(s, type_names[t]))
			return (int)t;
	return -1;
}


/* ---- CRC32C (Castagnoli) ------------------------------------------------------------ */

static uint32_t crc_sw(uint32_t c, const uint8_t *p, size_t n)
{
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
	}
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c32, const uint8_t *p,
							  size_t n)
{
	uint64_t c = c32;

	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		n -= 8;
	}
	c32 = (uint32_t)c;
	while (n--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return c32;
}
#endif

uint32_t mg_crc32c(uint32_t crc, const void *buf, size_t len)
{
	uint32_t c = ~crc;
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return ~crc_hw(c, buf, len);
#endif
	return ~crc_sw(c, buf, len);
}

/* ---- CRC of any byte range in O(1) amortised (resynchronisation) -------------------
 * crc(A||B) = x^(8|B|)·crc(A) ⊕ crc(B) in GF(2)[x] mod P (zlib's crc32_combine with the
 * Castagnoli polynomial): with the CRC of every 64-byte prefix known, the CRC of a range
 * costs at most 128 bytes of CRC and a few multiplications, whatever its length. */
#define CRC_POLY 0x82f63b78u
#define CRC_STEP 64

static uint32_t multmodp(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;

	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = b & 1 ? (b >> 1) ^ CRC_POLY : b >> 1;
	}
	return p;
}

/* x^(8n) mod P */
static uint32_t x8nmodp(uint64_t n)
{
	static uint32_t x2n[64];
	static bool init;
	uint32_t p = 1u << 31;   /* x^0 */
	unsigned k = 3;

	if (!init) {
		uint32_t q = 1u << 30;   /* x^1 */
		x2n[0] = q;
		for (int i = 1; i < 64; i++)
			x2n[i] = q = multmodp(q, q);
		init = true;
	}
	while (n) {
		if (n & 1)
			p = multmodp(x2n[k & 63], p);
		n >>= 1;
		k++;
	}
	return p;
}

struct crc_index {
	const uint8_t *buf;
	size_t size;
	uint32_t *at;           /* at[i]: CRC of buf[0 .. i*CRC_STEP) */
};

static uint32_t prefix_crc(const struct crc_index *x, size_t end)
{
	size_t k = end / CRC_STEP;
	return mg_crc32c(x->at[k], x->buf + k * CRC_STEP, end - k * CRC_STEP);
}

static uint32_t range_crc(const struct crc_index *x, size_t start, size_t end)
{
	return prefix_crc(x, end) ^ multmodp(x8nmodp(end - start), prefix_crc(x, start));
}

static int crc_index_build(struct crc_index *x, const uint8_t *buf, size_t size)
{
	size_t n = size / CRC_STEP + 1;

	x->buf = buf;
	x->size = size;
	x->at = malloc(n * sizeof(*x->at));
	if (!x->at)
		return -1;
	x->at[0] = 0;
	for (size_t k = 1; k < n; k++)
		x->at[k] = mg_crc32c(x->at[k - 1], buf + (k - 1) * CRC_STEP, CRC_STEP);
	return 0;
}

/* mg_jrec_valid() through the index. */
static int jrec_valid_indexed(const struct crc_index *x, size_t off)
{
	struct mg_jhdr h, tmp;
	uint32_t hcrc;

	if (off > x->size || x->size - off < MG_J_HDR_SIZE)
		return 0;
	memcpy(&h, x->buf + off, sizeof(h));
	if (h.magic != MG_J_MAGIC || h.len > MG_J_MAX_PAYLOAD || h.version != MG_J_VERSION)
		return 0;
	if (x->size - off - MG_J_HDR_SIZE < h.len)
		return 0;
	tmp = h;
	tmp.crc = 0;
	hcrc = mg_crc32c(0, &tmp, sizeof(tmp));
	if (!h.len)
		return hcrc == h.crc;
	return (multmodp(x8nmodp(h.len), hcrc) ^
		range_crc(x, off + MG_J_HDR_SIZE, off + MG_J_HDR_SIZE + h.len)) == h.crc;
}

uint32_t mg_jrec_crc(const struct mg_jhdr *h, const void *payload)
{
	struct mg_jhdr tmp = *h;

	tmp.crc = 0;
	return mg_crc32c(mg_crc32c(0, &tmp, sizeof(tmp)), payload, h->len);
}

/* ---- reading ---------------------------------------------------------------------- */

int mg_jrec_valid(const uint8_t *buf, size_t size, size_t off)
{
	struct mg_jhdr h;

	if (off > size || size - off < MG_J_HDR_SIZE)
		return 0;
	memcpy(&h, buf + off, sizeof(h));
	if (h.magic != MG_J_MAGIC || h.len > MG_J_MAX_PAYLOAD || h.version != MG_J_VERSION)
		return 0;
	if (size - off - MG_J_HDR_SIZE < h.len)
		return 0;
	return mg_jrec_crc(&h, buf + off + MG_J_HDR_SIZE) == h.crc;
}

int mg_journal_scan_buf(const uint8_t *buf, size_t size, size_t start, const char *file,
			mg_jscan_cb cb, void *ctx, struct mg_jscan_stats *st)
{
	static const uint8_t magic[4] = { 0xff, 'M', 'G', 'J' };
	struct crc_index idx = { 0 };
	size_t off = start;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	st->end = start;
	while (off < size) {
		if (mg_jrec_valid(buf, size, off)) {
			struct mg_jrec r;

			memcpy(&r.h, buf + off, sizeof(r.h));
			r.payload = (const char *)buf + off + MG_J_HDR_SIZE;
			r.off = off;
			r.file = file;
			st->records++;
			st->last_seq = r.h.seq;
			st->last_off = off;
			off += MG_J_HDR_SIZE + r.h.len;
			st->end = off;
			if (cb && (rc = cb(ctx, &r)))
				break;
			continue;
		}
		/* resynchronise on the next valid record. Every magic is a candidate whose
		 * length field may claim up to 1 MiB: checking each with a plain CRC would
		 * cost candidates x length on a crafted segment; the prefix index makes each
		 * check cost the same small amount. */
		if (!idx.at && crc_index_build(&idx, buf, size)) {
			st->torn_off = off;
			st->torn_bytes = size - off;
			rc = -1;
			break;
		}
		size_t n = off + 1;
		bool found = false;
		while (n < size) {
			const uint8_t *p = memmem(buf + n, size - n, magic, sizeof(magic));
			if (!p)
				break;
			n = (size_t)(p - buf);
			if (jrec_valid_indexed(&idx, n)) {
				found = true;
				break;
			}
			n++;
		}
		if (!found) {
			st->torn_off = off;
			st->torn_bytes = size - off;
			break;
		}
		if (!st->corrupt)
			st->first_corrupt_off = off;
		st->corrupt++;
		st->corrupt_bytes += n - off;
		off = n;
	}
	free(idx.at);
	return rc;
}

int mg_journal_scan_file(const char *path, mg_jscan_cb cb, void *ctx,
			 struct mg_jscan_stats *st, char *err, size_t errsz)
{
	struct stat sb;
	void *map;
	int fd, rc;

	memset(st, 0, sizeof(*st));
	/* a FIFO or device named like a segment must not block the reader: O_NONBLOCK,
	 * then regular files only; never through a symlink planted in the directory */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0 || fstat(fd, &sb)) {
		mg_seterr(err, errsz, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		mg_seterr(err, errsz, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (sb.st_size == 0) {
		close(fd);
		return 0;
	}
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		mg_seterr(err, errsz, "%s: mmap: %s", path, strerror(errno));
		return -1;
	}
	madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
	rc = mg_journal_scan_buf(map, (size_t)sb.st_size, 0, path, cb, ctx, st);
	munmap(map, (size_t)sb.st_size);
	return rc;
}

bool mg_journal_segname(const char *name, uint64_t *first)
{
	unsigned long long v;
	int n = 0;

	if (strlen(name) != 4 + 16 + 4 || strncmp(name, "seg-", 4) ||
	    strcmp(name + 20, ".mgj"))
		return false;
	for (int i = 4; i < 20; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	if (sscanf(name + 4, "%16llx%n", &v, &n) != 1 || n != 16)
		return false;
	*first = v;
	return true;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct mg_jseg *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

int mg_journal_list_segs(const char *dir, struct mg_jseg **out, size_t *n, char *err, size_t errsz)
{
	struct mg_jseg *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *d;
	DIR *dp = opendir(dir);

	*out = NULL;
	*n = 0;
	if (!dp) {
		mg_seterr(err, errsz, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((d = readdir(dp))) {
		uint64_t first;

		if (!mg_journal_segname(d->d_name, &first))
			continue;
		if (cnt == cap) {
			struct mg_jseg *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv)
				goto oom;
			v = nv;
		}
		if (asprintf(&v[cnt].path, "%s/%s", dir, d->d_name) < 0)
			goto oom;
		v[cnt++].first = first;
	}
	closedir(dp);
	if (cnt)
		qsort(v, cnt, sizeof(*v), seg_cmp);
	*out = v;
	*n = cnt;
	return 0;
oom:
	closedir(dp);
	for (size_t i = 0; i < cnt; i++)
		free(v[i].path);
	free(v);
	mg_seterr(err, errsz, "out of memory");
	return -1;
}

int mg_journal_segments(const char *dir, char ***paths, size_t *n, char *err, size_t errsz)
{
	struct mg_jseg *v;
	size_t cnt;

	*paths = NULL;
	*n = 0;
	if (mg_journal_list_segs(dir, &v, &cnt, err, errsz))
		return -1;
	if (cnt) {
		*paths = malloc(cnt * sizeof(char *));
		if (!*paths) {
			for (size_t i = 0; i < cnt; i++)
				free(v[i].path);
			free(v);
			mg_seterr(err, errsz, "out of memory");
			return -1;
		}
		for (size_t i = 0; i < cnt; i++)
			(*paths)[i] = v[i].path;
	}
	free(v);
	*n = cnt;
	return 0;
}

void mg_journal_segments_free(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

uint64_t mg_journal_disk_bytes(const char *dir)
{
	struct mg_jseg *v;
	size_t n;
	uint64_t total = 0;

	if (mg_journal_list_segs(dir, &v, &n, NULL, 0))
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		if (stat(v[i].path, &sb) == 0)
			total += (uint64_t)sb.st_size;
		free(v[i].path);
	}
	free(v);
	return total;
}

