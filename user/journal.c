/* The journal's on-disk format, scanning, and the concurrent appender. See journal.h
 * and docs/journal.md. No global state: every function works on what it is handed. */
#include "journal.h"

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

static void seterr(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
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

static uint32_t rec_crc(const struct mg_jhdr *h, const void *payload)
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
	return rec_crc(&h, buf + off + MG_J_HDR_SIZE) == h.crc;
}

int mg_journal_scan_buf(const uint8_t *buf, size_t size, size_t start, const char *file,
			mg_jscan_cb cb, void *ctx, struct mg_jscan_stats *st)
{
	static const uint8_t magic[4] = { 0xff, 'M', 'G', 'J' };
	size_t off = start;

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
			if (cb) {
				int rc = cb(ctx, &r);
				if (rc)
					return rc;
			}
			continue;
		}
		/* resynchronise on the next valid record */
		size_t n = off + 1;
		bool found = false;
		while (n < size) {
			const uint8_t *p = memmem(buf + n, size - n, magic, sizeof(magic));
			if (!p)
				break;
			n = (size_t)(p - buf);
			if (mg_jrec_valid(buf, size, n)) {
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
	return 0;
}

int mg_journal_scan_file(const char *path, mg_jscan_cb cb, void *ctx,
			 struct mg_jscan_stats *st, char *err, size_t errsz)
{
	struct stat sb;
	void *map;
	int fd, rc;

	memset(st, 0, sizeof(*st));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		seterr(err, errsz, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		seterr(err, errsz, "%s: not a regular file", path);
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
		seterr(err, errsz, "%s: mmap: %s", path, strerror(errno));
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

struct seg {
	uint64_t first;
	char *path;
};

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

static int list_segs(const char *dir, struct seg **out, size_t *n, char *err, size_t errsz)
{
	struct seg *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *d;
	DIR *dp = opendir(dir);

	*out = NULL;
	*n = 0;
	if (!dp) {
		seterr(err, errsz, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((d = readdir(dp))) {
		uint64_t first;

		if (!mg_journal_segname(d->d_name, &first))
			continue;
		if (cnt == cap) {
			struct seg *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
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
	seterr(err, errsz, "out of memory");
	return -1;
}

int mg_journal_segments(const char *dir, char ***paths, size_t *n, char *err, size_t errsz)
{
	struct seg *v;
	size_t cnt;

	*paths = NULL;
	*n = 0;
	if (list_segs(dir, &v, &cnt, err, errsz))
		return -1;
	if (cnt) {
		*paths = malloc(cnt * sizeof(char *));
		if (!*paths) {
			for (size_t i = 0; i < cnt; i++)
				free(v[i].path);
			free(v);
			seterr(err, errsz, "out of memory");
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
	struct seg *v;
	size_t n;
	uint64_t total = 0;

	if (list_segs(dir, &v, &n, NULL, 0))
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

/* ---- writing ---------------------------------------------------------------------- */

/* Lock file DIR/lock: flock'd by every appender; holds a hint of the active segment's
 * state, validated against the segment itself (never trusted beyond its size). */
struct jstate {
	uint32_t magic;
	uint32_t crc;
	uint64_t seg_first;
	uint64_t last_seq;
	uint64_t end;
};
#define JSTATE_MAGIC 0x534a474du

static void state_write(struct mg_journal *j)
{
	struct jstate s = { .magic = JSTATE_MAGIC, .seg_first = j->seg_first,
			    .last_seq = j->last_seq, .end = j->end };

	s.crc = mg_crc32c(0, &s, sizeof(s));
	if (pwrite(j->lockfd, &s, sizeof(s), 0) != (ssize_t)sizeof(s)) {
		/* a hint only: the next holder rescans */
	}
}

static bool state_read(struct mg_journal *j, struct jstate *s)
{
	uint32_t crc;

	if (pread(j->lockfd, s, sizeof(*s), 0) != (ssize_t)sizeof(*s) || s->magic != JSTATE_MAGIC)
		return false;
	crc = s->crc;
	s->crc = 0;
	return mg_crc32c(0, s, sizeof(*s)) == crc;
}

static int lock(struct mg_journal *j, char *err, size_t errsz)
{
	while (flock(j->lockfd, LOCK_EX)) {
		if (errno != EINTR) {
			seterr(err, errsz, "%s/lock: flock: %s", j->dir, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void unlock(struct mg_journal *j)
{
	flock(j->lockfd, LOCK_UN);
}

static int open_seg(struct mg_journal *j, uint64_t first, bool create, char *err, size_t errsz)
{
	char name[32];
	int fd;

	snprintf(name, sizeof(name), "seg-%016" PRIx64 ".mgj", first);
	fd = openat(j->dirfd, name, O_RDWR | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0), 0640);
	if (fd < 0) {
		seterr(err, errsz, "%s/%s: %s", j->dir, name, strerror(errno));
		return -1;
	}
	if (j->segfd >= 0)
		close(j->segfd);
	j->segfd = fd;
	j->seg_first = first;
	if (create && fsync(j->dirfd)) {
		/* the directory entry reaches the disk with the next successful fsync */
	}
	return 0;
}

/* Scans the active segment from `from` (a record boundary) to its end; cuts a torn tail. */
static int scan_active(struct mg_journal *j, uint64_t from, uint64_t last_seq_before,
		       char *err, size_t errsz)
{
	struct mg_jscan_stats st;
	struct stat sb;
	uint8_t *buf;
	size_t size;

	if (fstat(j->segfd, &sb)) {
		seterr(err, errsz, "%s: fstat: %s", j->dir, strerror(errno));
		return -1;
	}
	if ((uint64_t)sb.st_size <= from) {
		j->end = (uint64_t)sb.st_size;
		j->last_seq = last_seq_before;
		return 0;
	}
	size = (size_t)((uint64_t)sb.st_size - from);
	buf = malloc(size);
	if (!buf) {
		seterr(err, errsz, "out of memory");
		return -1;
	}
	if (pread(j->segfd, buf, size, (off_t)from) != (ssize_t)size) {
		seterr(err, errsz, "%s: read: %s", j->dir, strerror(errno));
		free(buf);
		return -1;
	}
	mg_journal_scan_buf(buf, size, 0, NULL, NULL, NULL, &st);
	free(buf);
	j->last_seq = st.records ? st.last_seq : last_seq_before;
	j->end = from + st.end;
	if (st.torn_bytes) {
		if (ftruncate(j->segfd, (off_t)j->end)) {
			seterr(err, errsz, "%s: cannot cut the torn tail: %s", j->dir, strerror(errno));
			return -1;
		}
		fdatasync(j->segfd);
		j->repair.torn_bytes = st.torn_bytes;
		j->repair.torn_off = j->end;
		snprintf(j->repair.torn_file, sizeof(j->repair.torn_file), "%s/seg-%016" PRIx64 ".mgj",
			 j->dir, j->seg_first);
		j->repairs++;
	}
	return 0;
}

/* Full recovery: the newest segment, scanned from its start. */
static int recover(struct mg_journal *j, char *err, size_t errsz)
{
	struct seg *v;
	size_t n;
	uint64_t first = 1;

	if (list_segs(j->dir, &v, &n, err, errsz))
		return -1;
	if (n)
		first = v[n - 1].first;
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
	if (first == 0)
		first = 1;
	if (open_seg(j, first, true, err, errsz))
		return -1;
	if (scan_active(j, 0, first - 1, err, errsz))
		return -1;
	state_write(j);
	return 0;
}

/* Under the lock: bring j->segfd/end/last_seq up to date with what other writers did. */
static int sync_locked(struct mg_journal *j, char *err, size_t errsz)
{
	struct jstate s;
	struct stat sb;

	if (!state_read(j, &s))
		return recover(j, err, errsz);
	if (j->segfd < 0 || j->seg_first != s.seg_first) {
		char name[32];
		int fd;

		snprintf(name, sizeof(name), "seg-%016" PRIx64 ".mgj", s.seg_first);
		fd = openat(j->dirfd, name, O_RDWR | O_APPEND | O_CLOEXEC);
		if (fd < 0)
			return recover(j, err, errsz);
		if (j->segfd >= 0)
			close(j->segfd);
		j->segfd = fd;
		j->seg_first = s.seg_first;
	}
	if (fstat(j->segfd, &sb) || sb.st_nlink == 0)
		return recover(j, err, errsz);
	if ((uint64_t)sb.st_size == s.end) {
		j->end = s.end;
		j->last_seq = s.last_seq;
		return 0;
	}
	if ((uint64_t)sb.st_size > s.end && (s.end == 0 || s.last_seq >= s.seg_first)) {
		/* a writer died between its write and the state update, or tore its record */
		if (scan_active(j, s.end, s.end ? s.last_seq : s.seg_first - 1, err, errsz))
			return -1;
		state_write(j);
		return 0;
	}
	return recover(j, err, errsz);
}

static int mkdir_p(const char *dir)
{
	char tmp[512];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int mg_journal_open(struct mg_journal *j, const struct mg_journal_opts *o, char *err,
		    size_t errsz)
{
	const char *dir = o && o->dir && *o->dir ? o->dir : MG_J_DEFAULT_DIR;
	struct seg *v;
	size_t n;
	uint64_t newest = 0;
	struct jstate s;

	memset(j, 0, sizeof(*j));
	j->dirfd = j->lockfd = j->segfd = j->committerfd = -1;
	j->segment_bytes = o && o->segment_bytes ? o->segment_bytes : MG_J_DEFAULT_SEGMENT;
	j->retain_bytes = o && o->retain_bytes ? o->retain_bytes : MG_J_DEFAULT_RETAIN;
	if (strlen(dir) >= sizeof(j->dir)) {
		seterr(err, errsz, "journal directory name too long");
		return -1;
	}
	strcpy(j->dir, dir);
	if (mkdir_p(dir)) {
		seterr(err, errsz, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0) {
		seterr(err, errsz, "%s: %s", dir, strerror(errno));
		return -1;
	}
	j->lockfd = openat(j->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (j->lockfd < 0) {
		seterr(err, errsz, "%s/lock: %s", dir, strerror(errno));
		goto fail;
	}
	if (lock(j, err, errsz))
		goto fail;
	/* The newest segment on disk must be the one the state names (a power cut may have
	 * lost the state's update after a rotation). */
	if (list_segs(dir, &v, &n, err, errsz)) {
		unlock(j);
		goto fail;
	}
	if (n)
		newest = v[n - 1].first;
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
	if (!state_read(j, &s) || s.seg_first != newest) {
		if (recover(j, err, errsz)) {
			unlock(j);
			goto fail;
		}
	} else if (sync_locked(j, err, errsz)) {
		unlock(j);
		goto fail;
	}
	unlock(j);
	return 0;
fail:
	mg_journal_close(j);
	return -1;
}

static void retention(struct mg_journal *j)
{
	struct seg *v;
	size_t n;
	uint64_t total = 0, *sizes;

	if (list_segs(j->dir, &v, &n, NULL, 0))
		return;
	sizes = calloc(n ? n : 1, sizeof(*sizes));
	if (sizes) {
		for (size_t i = 0; i < n; i++) {
			struct stat sb;
			if (stat(v[i].path, &sb) == 0)
				sizes[i] = (uint64_t)sb.st_size;
			total += sizes[i];
		}
		/* room for the (new, empty) active segment to fill up: the journal stays
		 * within retain_bytes */
		for (size_t i = 0; i < n && total + j->segment_bytes > j->retain_bytes; i++) {
			if (v[i].first >= j->seg_first)
				break;   /* never the active segment */
			if (unlink(v[i].path) == 0) {
				total -= sizes[i];
				j->deleted_segments++;
			}
		}
		free(sizes);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

int mg_journal_append(struct mg_journal *j, unsigned type, unsigned verdict, uint64_t ts_ns,
		      const void *payload, size_t len, unsigned flags, uint64_t *seq_out,
		      char *err, size_t errsz)
{
	uint8_t stackbuf[2048], *rec = stackbuf;
	struct mg_jhdr h = { .magic = MG_J_MAGIC, .type = (uint16_t)type,
			     .verdict = (uint8_t)verdict, .version = MG_J_VERSION,
			     .ts_ns = ts_ns };
	size_t reclen = MG_J_HDR_SIZE + len;
	ssize_t w;
	int rc = -1;

	if (j->lockfd < 0) {
		seterr(err, errsz, "journal not open");
		return -1;
	}
	if (len > MG_J_MAX_PAYLOAD || type == 0 || type > 0xffff || verdict > 0xff) {
		seterr(err, errsz, "record too large (%zu bytes) or bad type", len);
		return -1;
	}
	if (reclen > sizeof(stackbuf)) {
		rec = malloc(reclen);
		if (!rec) {
			seterr(err, errsz, "out of memory");
			return -1;
		}
	}
	if (lock(j, err, errsz))
		goto out;
	if (sync_locked(j, err, errsz))
		goto unlock;
	h.seq = j->last_seq + 1;
	h.len = (uint32_t)len;
	h.crc = rec_crc(&h, payload);
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + MG_J_HDR_SIZE, payload, len);
	if (j->end > 0 && j->end + reclen > j->segment_bytes) {
		/* whoever wrote the closing segment's tail (one-shot writers may not have
		 * synced, counting on a committer), it is on disk before we move on */
		fdatasync(j->segfd);
		j->dirty = false;
		if (open_seg(j, h.seq, true, err, errsz))
			goto unlock;
		j->end = 0;
		j->rotations++;
		state_write(j);
		retention(j);
	}
	do {
		w = write(j->segfd, rec, reclen);
	} while (w < 0 && errno == EINTR);
	if (w != (ssize_t)reclen) {
		int e = w < 0 ? errno : ENOSPC;
		if (ftruncate(j->segfd, (off_t)j->end)) {
			/* the next holder cuts it as a torn tail */
		}
		seterr(err, errsz, "%s: write: %s", j->dir, strerror(e));
		goto unlock;
	}
	j->end += reclen;
	j->last_seq = h.seq;
	state_write(j);
	if (flags & MG_JA_SYNC) {
		if (fdatasync(j->segfd)) {
			seterr(err, errsz, "%s: fdatasync: %s", j->dir, strerror(errno));
			goto unlock;
		}
		j->syncs++;
		j->dirty = false;
	} else {
		j->dirty = true;
	}
	j->appended++;
	j->bytes += reclen;
	if (seq_out)
		*seq_out = h.seq;
	rc = 0;
unlock:
	unlock(j);
out:
	if (rec != stackbuf)
		free(rec);
	return rc;
}

int mg_journal_flush(struct mg_journal *j)
{
	if (!j->dirty || j->segfd < 0)
		return 0;
	j->dirty = false;
	j->syncs++;
	return fdatasync(j->segfd);
}

int mg_journal_become_committer(struct mg_journal *j)
{
	int fd = openat(j->dirfd, "committer", O_RDWR | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return -1;
	}
	j->committerfd = fd;
	return 0;
}

bool mg_journal_has_committer(struct mg_journal *j)
{
	int fd = openat(j->dirfd, "committer", O_RDONLY | O_CLOEXEC);
	bool held;

	if (fd < 0)
		return false;
	held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

int mg_journal_commit_shared(struct mg_journal *j)
{
	struct jstate s;
	int rc;

	if (j->lockfd < 0 || !state_read(j, &s))   /* unlocked read: the CRC catches a race */
		return mg_journal_flush(j);
	if (s.seg_first == j->synced_seg && s.end == j->synced_end && !j->dirty)
		return 0;
	if (s.seg_first != j->seg_first || j->segfd < 0) {
		if (lock(j, NULL, 0))
			return -1;
		rc = sync_locked(j, NULL, 0);
		unlock(j);
		if (rc)
			return -1;
	}
	rc = fdatasync(j->segfd);
	if (rc == 0) {
		j->synced_seg = s.seg_first;
		j->synced_end = s.end;
		j->dirty = false;
		j->syncs++;
	}
	return rc;
}

void mg_journal_close(struct mg_journal *j)
{
	/* no flush here: a one-shot writer that appended without MG_JA_SYNC left the sync to
	 * the committer; long-lived writers flush (or append with MG_JA_SYNC) before */
	if (j->committerfd >= 0)
		close(j->committerfd);
	j->committerfd = -1;
	if (j->segfd >= 0)
		close(j->segfd);
	if (j->lockfd >= 0)
		close(j->lockfd);
	if (j->dirfd >= 0)
		close(j->dirfd);
	j->segfd = j->lockfd = j->dirfd = -1;
}
