/* The journal's concurrent appender: lock, active segment, torn-tail recovery, group
 * commit, rotation and retention. The format and readers are journal_read.c. See
 * journal.h and docs/journal.md. No global state: every function works on what it is
 * handed. */
#include "journal.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* A file of the journal directory, opened relative to the checked directory: never
 * through a symlink, never a FIFO or device (those would block the writer or redirect
 * root's writes elsewhere). -1 with errno (EINVAL: not a regular file). */
static int open_in_dir(int dirfd, const char *name, int flags, mode_t mode)
{
	int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
	struct stat sb;

	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* a regular file never blocks; clear the flag so writes behave as always */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static const char *open_error(int e)
{
	if (e == ELOOP)
		return "is a symbolic link (refused)";
	if (e == EINVAL)
		return "not a regular file (refused)";
	return strerror(e);
}

/* Only root (or the writer itself) may be able to change the journal directory: anyone
 * else who can write it can swap its files for links to other files. */
static int check_dir(int dirfd, const char *dir, char *err, size_t errsz)
{
	struct stat sb;

	if (fstat(dirfd, &sb)) {
		mg_seterr(err, errsz, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (sb.st_uid != 0 && sb.st_uid != geteuid()) {
		mg_seterr(err, errsz, "%s: refused: the journal directory is owned by uid %u, "
			  "not root (chown root %s)", dir, (unsigned)sb.st_uid, dir);
		return -1;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		mg_seterr(err, errsz, "%s: refused: the journal directory is writable by group "
			  "or others (mode %04o; chmod go-w %s)", dir,
			  (unsigned)(sb.st_mode & 07777), dir);
		return -1;
	}
	return 0;
}

static int lock(struct mg_journal *j, char *err, size_t errsz)
{
	while (flock(j->lockfd, LOCK_EX)) {
		if (errno != EINTR) {
			mg_seterr(err, errsz, "%s/lock: flock: %s", j->dir, strerror(errno));
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
	fd = open_in_dir(j->dirfd, name, O_RDWR | O_APPEND | (create ? O_CREAT : 0), 0640);
	if (fd < 0) {
		mg_seterr(err, errsz, "%s/%s: %s", j->dir, name, open_error(errno));
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
		mg_seterr(err, errsz, "%s: fstat: %s", j->dir, strerror(errno));
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
		mg_seterr(err, errsz, "out of memory");
		return -1;
	}
	if (pread(j->segfd, buf, size, (off_t)from) != (ssize_t)size) {
		mg_seterr(err, errsz, "%s: read: %s", j->dir, strerror(errno));
		free(buf);
		return -1;
	}
	mg_journal_scan_buf(buf, size, 0, NULL, NULL, NULL, &st);
	free(buf);
	j->last_seq = st.records ? st.last_seq : last_seq_before;
	j->end = from + st.end;
	if (st.torn_bytes) {
		if (ftruncate(j->segfd, (off_t)j->end)) {
			mg_seterr(err, errsz, "%s: cannot cut the torn tail: %s", j->dir, strerror(errno));
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
	struct mg_jseg *v;
	size_t n;
	uint64_t first = 1;

	if (mg_journal_list_segs(j->dir, &v, &n, err, errsz))
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
		fd = open_in_dir(j->dirfd, name, O_RDWR | O_APPEND, 0);
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

int mg_journal_open(struct mg_journal *j, const struct mg_journal_opts *o, char *err,
		    size_t errsz)
{
	const char *dir = o && o->dir && *o->dir ? o->dir : MG_J_DEFAULT_DIR;
	struct mg_jseg *v;
	size_t n;
	uint64_t newest = 0;
	struct jstate s;

	memset(j, 0, sizeof(*j));
	j->dirfd = j->lockfd = j->segfd = j->committerfd = -1;
	j->segment_bytes = o && o->segment_bytes ? o->segment_bytes : MG_J_DEFAULT_SEGMENT;
	j->retain_bytes = o && o->retain_bytes ? o->retain_bytes : MG_J_DEFAULT_RETAIN;
	if (strlen(dir) >= sizeof(j->dir)) {
		mg_seterr(err, errsz, "journal directory name too long");
		return -1;
	}
	strcpy(j->dir, dir);
	if (mg_mkdir_p(dir, 0750)) {
		mg_seterr(err, errsz, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0) {
		mg_seterr(err, errsz, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (check_dir(j->dirfd, dir, err, errsz))
		goto fail;
	j->lockfd = open_in_dir(j->dirfd, "lock", O_RDWR | O_CREAT, 0640);
	if (j->lockfd < 0) {
		mg_seterr(err, errsz, "%s/lock: %s", dir, open_error(errno));
		goto fail;
	}
	if (lock(j, err, errsz))
		goto fail;
	/* The newest segment on disk must be the one the state names (a power cut may have
	 * lost the state's update after a rotation). */
	if (mg_journal_list_segs(dir, &v, &n, err, errsz)) {
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
	struct mg_jseg *v;
	size_t n;
	uint64_t total = 0, *sizes;

	if (mg_journal_list_segs(j->dir, &v, &n, NULL, 0))
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
			if (unlinkat(j->dirfd, strrchr(v[i].path, '/') + 1, 0) == 0) {
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
		mg_seterr(err, errsz, "journal not open");
		return -1;
	}
	if (len > MG_J_MAX_PAYLOAD || type == 0 || type > 0xffff || verdict > 0xff) {
		mg_seterr(err, errsz, "record too large (%zu bytes) or bad type", len);
		return -1;
	}
	if (reclen > sizeof(stackbuf)) {
		rec = malloc(reclen);
		if (!rec) {
			mg_seterr(err, errsz, "out of memory");
			return -1;
		}
	}
	if (!j->held && lock(j, err, errsz))
		goto out;
	if (!j->held && sync_locked(j, err, errsz))
		goto unlock;
	h.seq = j->last_seq + 1;
	h.len = (uint32_t)len;
	h.crc = mg_jrec_crc(&h, payload);
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
		mg_seterr(err, errsz, "%s: write: %s", j->dir, strerror(e));
		goto unlock;
	}
	j->end += reclen;
	j->last_seq = h.seq;
	if (!j->held)
		state_write(j);   /* held: once, at release */
	if (flags & MG_JA_SYNC) {
		if (fdatasync(j->segfd)) {
			mg_seterr(err, errsz, "%s: fdatasync: %s", j->dir, strerror(errno));
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
	if (!j->held)
		unlock(j);
out:
	if (rec != stackbuf)
		free(rec);
	return rc;
}

int mg_journal_hold(struct mg_journal *j, char *err, size_t errsz)
{
	if (j->held)
		return 0;
	if (j->lockfd < 0) {
		mg_seterr(err, errsz, "journal not open");
		return -1;
	}
	if (lock(j, err, errsz))
		return -1;
	if (sync_locked(j, err, errsz)) {
		unlock(j);
		return -1;
	}
	j->held = true;
	return 0;
}

void mg_journal_release(struct mg_journal *j)
{
	if (!j->held)
		return;
	j->held = false;
	state_write(j);
	unlock(j);
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
	int fd = open_in_dir(j->dirfd, "committer", O_RDWR | O_CREAT, 0640);

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
	int fd = open_in_dir(j->dirfd, "committer", O_RDONLY, 0);
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
	mg_journal_release(j);
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
