/* Unit tests of user/journal.c (the library alone: no json-c, no BPF), plus helper modes
 * the suite and the bench use:
 *   test_journal                          run the tests ("ok - ..." lines, "N passed, N failed")
 *   test_journal writer DIR N TAG         append N records as one long-lived writer (the agent's way)
 *   test_journal bench DIR N sync|batch   append N records; prints "appends/s R"
 *   test_journal gen DIR N HOST           N noise records over ~12 days + one incident of domain
 *                                         "victim-B" in the middle, JSON like the real ones
 *   test_journal check DIR                every record intact, seq strictly increasing; prints counts */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "journal.h"

static int pass, failed;
#define CHECK(cond, ...)                                                                \
	do {                                                                            \
		if (cond) {                                                             \
			pass++;                                                         \
		} else {                                                                \
			failed++;                                                       \
			printf("not ok - %s:%d: ", __func__, __LINE__);                 \
			printf(__VA_ARGS__);                                            \
			printf("\n");                                                   \
		}                                                                       \
	} while (0)
static void okline(const char *name, int before_fail)
{
	if (failed == before_fail)
		printf("ok - %s\n", name);
}

static char tmpbase[] = "/tmp/mg-jtest.XXXXXX";

static void mkdir_fresh(char *out, size_t size, const char *name)
{
	char cmd[600];
	snprintf(out, size, "%s/%s", tmpbase, name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	if (system(cmd)) {
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int append_str(struct mg_journal *j, const char *s, unsigned flags, uint64_t *seq)
{
	char err[256];
	int rc = mg_journal_append(j, MG_JT_HOOK, 0, now_ns(), s, strlen(s), flags, seq, err,
				   sizeof(err));
	if (rc)
		fprintf(stderr, "append: %s\n", err);
	return rc;
}

struct collect {
	uint64_t seqs[20000];
	char payload[20000][64];
	size_t n;
};

static int collect_cb(void *ctx, const struct mg_jrec *r)
{
	struct collect *c = ctx;
	if (c->n < 20000) {
		c->seqs[c->n] = r->h.seq;
		snprintf(c->payload[c->n], sizeof(c->payload[0]), "%.*s",
			 (int)(r->h.len < 63 ? r->h.len : 63), r->payload);
	}
	c->n++;
	return 0;
}

static int scan_dir(const char *dir, struct collect *c, struct mg_jscan_stats *total)
{
	char **f, err[600];
	size_t n;

	memset(total, 0, sizeof(*total));
	c->n = 0;
	if (mg_journal_segments(dir, &f, &n, err, sizeof(err)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct mg_jscan_stats st;
		mg_journal_scan_file(f[i], collect_cb, c, &st, err, sizeof(err));
		total->records += st.records;
		total->corrupt += st.corrupt;
		total->torn_bytes += st.torn_bytes;
	}
	mg_journal_segments_free(f, n);
	return 0;
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat sb;
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &sb))
		return -1;
	*len = (size_t)sb.st_size;
	*buf = malloc(*len + 1);
	if (read(fd, *buf, *len) != (ssize_t)*len) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return -1;
	return close(fd);
}

static struct collect C;   /* big: static */

static void test_crc(void)
{
	int f = failed;
	/* RFC 3720 B.4 test vector: 32 bytes of zeros -> 0x8a9136aa */
	uint8_t z[32] = { 0 };
	CHECK(mg_crc32c(0, z, 32) == 0x8a9136aau, "crc32c(zeros) = %08x", mg_crc32c(0, z, 32));
	CHECK(mg_crc32c(0, "123456789", 9) == 0xe3069283u, "crc32c(123456789)");
	CHECK(mg_crc32c(mg_crc32c(0, "1234", 4), "56789", 5) == 0xe3069283u, "crc32c chained");
	okline("CRC32C test vectors (RFC 3720, 123456789), chaining", f);
}

static void test_basic(void)
{
	char dir[512], err[256];
	struct mg_journal j;
	struct mg_jscan_stats st;
	uint64_t seq = 0;
	int f = failed;

	mkdir_fresh(dir, sizeof(dir), "basic");
	struct mg_journal_opts o = { .dir = dir };
	CHECK(mg_journal_open(&j, &o, err, sizeof(err)) == 0, "open: %s", err);
	for (int i = 0; i < 10; i++) {
		char p[64];
		snprintf(p, sizeof(p), "{\"i\":%d}", i);
		CHECK(append_str(&j, p, i == 9 ? MG_JA_SYNC : 0, &seq) == 0, "append");
		CHECK(seq == (uint64_t)i + 1, "seq %" PRIu64, seq);
	}
	CHECK(mg_journal_append(&j, MG_JT_HOOK, 0, 1, "x", MG_J_MAX_PAYLOAD + 1, 0, NULL, err,
				sizeof(err)) == -1, "oversized record refused");
	mg_journal_close(&j);
	scan_dir(dir, &C, &st);
	CHECK(st.records == 10 && st.corrupt == 0 && st.torn_bytes == 0, "10 records, got %" PRIu64,
	      st.records);
	CHECK(!strcmp(C.payload[3], "{\"i\":3}"), "payload 3: %s", C.payload[3]);
	/* reopen continues the sequence */
	CHECK(mg_journal_open(&j, &o, err, sizeof(err)) == 0, "reopen: %s", err);
	CHECK(append_str(&j, "{}", 0, &seq) == 0 && seq == 11, "seq after reopen %" PRIu64, seq);
	mg_journal_close(&j);
	/* reopen without the lock file's state (deleted): recovered by scanning */
	char lk[600];
	snprintf(lk, sizeof(lk), "%s/lock", dir);
	unlink(lk);
	CHECK(mg_journal_open(&j, &o, err, sizeof(err)) == 0, "reopen: %s", err);
	CHECK(append_str(&j, "{}", 0, &seq) == 0 && seq == 12, "seq without state %" PRIu64, seq);
	mg_journal_close(&j);
	okline("append/read 10 records, sequence continues across reopen and without the state hint; oversized record refused", f);
}

/* A batch under one lock (the agent's bursts): other writers wait for the release and
 * continue the sequence; a holder that dies without releasing leaves its records to the
 * next writer's recovery. */
static void test_hold(void)
{
	char dir[512], err[256], lk[600];
	struct mg_journal j, k;
	struct mg_jscan_stats st;
	uint64_t seq = 0;
	int f = failed, fd;
	pid_t pid;

	mkdir_fresh(dir, sizeof(dir), "hold");
	struct mg_journal_opts o = { .dir = dir };
	snprintf(lk, sizeof(lk), "%s/lock", dir);
	CHECK(mg_journal_open(&j, &o, err, sizeof(err)) == 0, "open: %s", err);
	CHECK(append_str(&j, "{\"before\":1}", 0, &seq) == 0 && seq == 1, "first append");
	CHECK(mg_journal_hold(&j, err, sizeof(err)) == 0, "hold: %s", err);
	for (int i = 0; i < 5; i++)
		CHECK(append_str(&j, "{\"held\":1}", 0, &seq) == 0 && seq == (uint64_t)i + 2,
		      "held append seq %" PRIu64, seq);
	fd = open(lk, O_RDONLY);
	CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK,
	      "another writer waits while the batch holds the lock");
	mg_journal_release(&j);
	CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "the lock is free after release");
	if (fd >= 0)
		close(fd);
	CHECK(mg_journal_open(&k, &o, err, sizeof(err)) == 0, "second writer: %s", err);
	CHECK(append_str(&k, "{\"other\":1}", 0, &seq) == 0 && seq == 7,
	      "another writer continues the sequence after release: %" PRIu64, seq);
	mg_journal_close(&k);
	/* a holder that dies mid-batch (no release: state not written) */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct mg_journal c;
		uint64_t s2;
		if (mg_journal_open(&c, &o, err, sizeof(err)) || mg_journal_hold(&c, err, sizeof(err)))
			_exit(1);
		for (int i = 0; i < 3; i++)
			if (append_str(&c, "{\"dies\":1}", 0, &s2))
				_exit(1);
		_exit(0);
	}
	int wst = 0;
	waitpid(pid, &wst, 0);
	CHECK(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "child holder");
	CHECK(append_str(&j, "{\"after\":1}", 0, &seq) == 0 && seq == 11,
	      "after a holder died mid-batch the sequence goes on: %" PRIu64, seq);
	mg_journal_close(&j);
	scan_dir(dir, &C, &st);
	CHECK(st.records == 11 && st.corrupt == 0 && st.torn_bytes == 0, "11 records, got %" PRIu64,
	      st.records);
	okline("batch under one lock: others wait, the sequence continues after release and after a holder died mid-batch", f);
}

/* Cut the journal at every byte offset inside its last record. */
static void test_torn(void)
{
	char dir[512], seg[700], err[256], lk[600];
	struct mg_journal j;
	struct mg_jscan_stats st;
	uint8_t *buf;
	size_t len, last_off;
	uint64_t seq;
	int f = failed, cuts = 0;

	mkdir_fresh(dir, sizeof(dir), "torn");
	struct mg_journal_opts o = { .dir = dir };
	mg_journal_open(&j, &o, err, sizeof(err));
	for (int i = 0; i < 5; i++)
		append_str(&j, "{\"type\":\"hook\",\"domain\":\"B\",\"op\":\"migrate\",\"pad\":\"xxxxxxxxxxxx\"}", MG_JA_SYNC, NULL);
	mg_journal_close(&j);
	snprintf(seg, sizeof(seg), "%s/seg-0000000000000001.mgj", dir);
	snprintf(lk, sizeof(lk), "%s/lock", dir);
	read_file(seg, &buf, &len);
	mg_journal_scan_buf(buf, len, 0, NULL, NULL, NULL, &st);
	last_off = st.last_off;
	CHECK(st.records == 5, "5 records");
	uint8_t *lockcopy;
	size_t locklen;
	read_file(lk, &lockcopy, &locklen);
	for (size_t cut = last_off + 1; cut < len; cut++) {
		/* the reader sees the torn tail */
		write_file(seg, buf, cut);
		write_file(lk, lockcopy, locklen);  /* the state claims the full record */
		mg_journal_scan_file(seg, NULL, NULL, &st, err, sizeof(err));
		CHECK(st.records == 4 && st.torn_bytes == cut - last_off && st.torn_off == last_off,
		      "cut %zu: reader records %" PRIu64 " torn %" PRIu64, cut, st.records, st.torn_bytes);
		/* a writer's open cuts it and says so; the next append gets seq 5 */
		CHECK(mg_journal_open(&j, &o, err, sizeof(err)) == 0, "open: %s", err);
		CHECK(j.repair.torn_bytes == cut - last_off && j.repair.torn_off == last_off,
		      "cut %zu: repair reported %" PRIu64 " at %" PRIu64, cut, j.repair.torn_bytes,
		      j.repair.torn_off);
		CHECK(append_str(&j, "{\"after\":1}", 0, &seq) == 0 && seq == 5, "cut %zu: seq %" PRIu64, cut, seq);
		mg_journal_close(&j);
		scan_dir(dir, &C, &st);
		CHECK(st.records == 5 && st.torn_bytes == 0 && st.corrupt == 0 &&
		      !strcmp(C.payload[4], "{\"after\":1}"), "cut %zu: after repair %" PRIu64 " records", cut, st.records);
		cuts++;
	}
	/* a stale/absent state (power cut lost it) leads to the same repair */
	write_file(seg, buf, last_off + 7);
	unlink(lk);
	CHECK(mg_journal_open(&j, &o, err, sizeof(err)) == 0 && j.repair.torn_bytes == 7,
	      "no state: repair %" PRIu64, j.repair.torn_bytes);
	mg_journal_close(&j);
	/* a writer that died mid-record while others go on: the next appender cuts it */
	mg_journal_open(&j, &o, err, sizeof(err));
	{
		int fd = open(seg, O_WRONLY | O_APPEND);
		if (write(fd, buf + last_off, 20) != 20) {
		}
		close(fd);
	}
	CHECK(append_str(&j, "{\"x\":2}", 0, &seq) == 0 && seq == 5 && j.repair.torn_bytes == 20,
	      "live writer repairs a torn record: seq %" PRIu64 " torn %" PRIu64, seq, j.repair.torn_bytes);
	mg_journal_close(&j);
	scan_dir(dir, &C, &st);
	CHECK(st.records == 5 && st.torn_bytes == 0, "after live repair");
	free(buf);
	free(lockcopy);
	printf("# torn tail: %d cut positions inside the last record\n", cuts);
	okline("cut at every byte inside the last record: earlier records kept, torn tail reported by reader and cut by writer", f);
}

/* Flip each byte of a middle record: it is reported and skipped, the rest is read. */
static void test_flip(void)
{
	char dir[512], seg[700], err[256];
	struct mg_journal j;
	struct mg_jscan_stats st;
	uint8_t *buf;
	size_t len;
	size_t offs[5];
	int f = failed, n = 0;

	mkdir_fresh(dir, sizeof(dir), "flip");
	struct mg_journal_opts o = { .dir = dir };
	mg_journal_open(&j, &o, err, sizeof(err));
	for (int i = 0; i < 5; i++) {
		char p[64];
		snprintf(p, sizeof(p), "{\"i\":%d,\"pad\":\"abcdefgh\"}", i);
		append_str(&j, p, 0, NULL);
	}
	mg_journal_close(&j);
	snprintf(seg, sizeof(seg), "%s/seg-0000000000000001.mgj", dir);
	read_file(seg, &buf, &len);
	{
		size_t off = 0;
		for (int i = 0; i < 5; i++) {
			struct mg_jhdr h;
			memcpy(&h, buf + off, sizeof(h));
			offs[i] = off;
			off += MG_J_HDR_SIZE + h.len;
		}
	}
	for (size_t b = offs[2]; b < offs[3]; b++) {
		buf[b] ^= 0x5a;
		C.n = 0;
		mg_journal_scan_buf(buf, len, 0, NULL, collect_cb, &C, &st);
		CHECK(st.records == 4 && st.corrupt == 1 && st.first_corrupt_off == offs[2] &&
		      st.torn_bytes == 0 && C.seqs[2] == 4 && C.seqs[3] == 5,
		      "flip at %zu: %" PRIu64 " records, %" PRIu64 " corrupt", b, st.records, st.corrupt);
		buf[b] ^= 0x5a;
		n++;
	}
	/* the writer does not "repair" a corrupt middle: appends go on after it */
	buf[offs[2] + 40] ^= 1;
	write_file(seg, buf, len);
	uint64_t seq;
	mg_journal_open(&j, &o, err, sizeof(err));
	CHECK(j.repair.torn_bytes == 0, "middle corruption is not a torn tail");
	CHECK(append_str(&j, "{}", 0, &seq) == 0 && seq == 6, "seq after middle corruption %" PRIu64, seq);
	mg_journal_close(&j);
	scan_dir(dir, &C, &st);
	CHECK(st.records == 5 && st.corrupt == 1, "records %" PRIu64, st.records);
	/* garbage: random bytes, magics with absurd lengths; never a crash, never a record */
	{
		uint8_t g[65536];
		unsigned seed = 12345;
		for (size_t i = 0; i < sizeof(g); i++) {
			seed = seed * 1103515245u + 12345u;
			g[i] = (uint8_t)(seed >> 16);
			if (i % 997 == 0 && i + 8 < sizeof(g)) {
				memcpy(g + i, "\xffMGJ\xff\xff\xff\x7f", 8);
				i += 7;
			}
		}
		mg_journal_scan_buf(g, sizeof(g), 0, NULL, NULL, NULL, &st);
		CHECK(st.records == 0 && st.torn_bytes == sizeof(g), "garbage: %" PRIu64 " records", st.records);
	}
	free(buf);
	printf("# flipped each of %d bytes of the middle record\n", n);
	okline("flip a byte in a middle record: reported, skipped, the rest read; writer appends after it", f);
}

static int writer_loop(const char *dir, int n, const char *tag, bool reopen_each)
{
	struct mg_journal j;
	struct mg_journal_opts o = { .dir = dir };
	char err[256], p[128];

	if (!reopen_each && mg_journal_open(&j, &o, err, sizeof(err))) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (reopen_each && mg_journal_open(&j, &o, err, sizeof(err))) {
			fprintf(stderr, "open: %s\n", err);
			return 1;
		}
		snprintf(p, sizeof(p), "{\"w\":\"%s\",\"i\":%d,\"pad\":\"%0*d\"}", tag, i, i % 50, 0);
		if (mg_journal_append(&j, MG_JT_HOOK, 0, now_ns(), p, strlen(p),
				      (i % 16) == 0 ? MG_JA_SYNC : 0, NULL, err, sizeof(err))) {
			fprintf(stderr, "append: %s\n", err);
			return 1;
		}
		if (reopen_each)
			mg_journal_close(&j);
	}
	if (!reopen_each)
		mg_journal_close(&j);
	return 0;
}

/* Checks a journal written by writer_loop()s: seq strictly increasing by 1 from the first,
 * every record intact, per writer its i values 0..n-1 in order. */
static int check_writers(const char *dir, int nwriters, int n, uint64_t *records)
{
	struct mg_jscan_stats st;
	int next[64] = { 0 }, bad = 0;

	scan_dir(dir, &C, &st);
	*records = st.records;
	if (st.corrupt || st.torn_bytes)
		bad++;
	for (size_t k = 0; k < C.n && k < 20000; k++) {
		int w = -1, i = -1;
		if (k && C.seqs[k] != C.seqs[k - 1] + 1)
			bad++;
		if (sscanf(C.payload[k], "{\"w\":\"w%d\",\"i\":%d", &w, &i) == 2 && w >= 0 && w < 64) {
			if (i != next[w])
				bad++;
			next[w] = i + 1;
		}
	}
	for (int w = 0; w < nwriters; w++)
		if (next[w] != n)
			bad++;
	return bad;
}

static void test_concurrent(void)
{
	char dir[512];
	int f = failed, n = 300, status, bad;
	pid_t kids[8];
	uint64_t records;

	mkdir_fresh(dir, sizeof(dir), "conc");
	for (int k = 0; k < 8; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			char tag[8];
			snprintf(tag, sizeof(tag), "w%d", k + 1);
			_exit(writer_loop(dir, n, tag, true));   /* the hook's way */
		}
	}
	CHECK(writer_loop(dir, n, "w0", false) == 0, "agent-like writer");  /* the agent's way */
	for (int k = 0; k < 8; k++) {
		waitpid(kids[k], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d", k + 1);
	}
	bad = check_writers(dir, 9, n, &records);
	CHECK(records == 9u * (unsigned)n && bad == 0, "%" PRIu64 " records, %d problems", records, bad);
	okline("9 concurrent writers (1 long-lived + 8 reopening per record) x 300: every record intact, seq 1..2700 strictly increasing, each writer's records in order", f);
}

static void test_rotation(void)
{
	char dir[512], err[256], **segs;
	size_t nseg;
	struct mg_journal j;
	struct mg_jscan_stats st;
	uint64_t seq = 0;
	int f = failed;

	mkdir_fresh(dir, sizeof(dir), "rot");
	struct mg_journal_opts o = { .dir = dir, .segment_bytes = 4096, .retain_bytes = 16384 };
	CHECK(mg_journal_open(&j, &o, err, sizeof(err)) == 0, "open");
	for (int i = 0; i < 1000; i++) {
		char p[128];
		snprintf(p, sizeof(p), "{\"i\":%d,\"pad\":\"0123456789012345678901234567890123456789012345678901234567\"}", i);
		append_str(&j, p, 0, &seq);
	}
	CHECK(seq == 1000, "last seq");
	CHECK(j.rotations >= 20, "rotations %" PRIu64, j.rotations);
	mg_journal_close(&j);
	mg_journal_segments(dir, &segs, &nseg, err, sizeof(err));
	CHECK(nseg >= 2 && nseg <= 4, "%zu segments", nseg);
	uint64_t disk = mg_journal_disk_bytes(dir);
	CHECK(disk <= 16384 && disk > 16384 - 3 * 4096, "disk %" PRIu64, disk);
	for (size_t i = 0; i < nseg; i++) {
		struct stat sb;
		stat(segs[i], &sb);
		CHECK(sb.st_size <= 4096, "segment %s %lld bytes", segs[i], (long long)sb.st_size);
	}
	mg_journal_segments_free(segs, nseg);
	scan_dir(dir, &C, &st);
	CHECK(st.records > 0 && C.seqs[C.n - 1] == 1000 && C.seqs[0] == 1000 - C.n + 1 && C.seqs[0] > 1,
	      "retained seqs %" PRIu64 "..%" PRIu64, C.seqs[0], C.seqs[C.n - 1]);
	/* reopen picks the newest segment */
	mg_journal_open(&j, &o, err, sizeof(err));
	CHECK(append_str(&j, "{}", 0, &seq) == 0 && seq == 1001, "seq after reopen %" PRIu64, seq);
	mg_journal_close(&j);
	/* rotation under concurrent writers */
	mkdir_fresh(dir, sizeof(dir), "rotconc");
	pid_t kids[4];
	int status, bad;
	uint64_t records;
	for (int k = 0; k < 4; k++)
		if ((kids[k] = fork()) == 0) {
			char tag[8];
			setenv("X", "1", 1);
			snprintf(tag, sizeof(tag), "w%d", k);
			struct mg_journal jj;
			struct mg_journal_opts oo = { .dir = dir, .segment_bytes = 8192, .retain_bytes = 1 << 30 };
			char e2[256], p[128];
			if (mg_journal_open(&jj, &oo, e2, sizeof(e2)))
				_exit(1);
			for (int i = 0; i < 400; i++) {
				snprintf(p, sizeof(p), "{\"w\":\"%s\",\"i\":%d,\"pad\":\"%0*d\"}", tag, i, i % 50, 0);
				if (mg_journal_append(&jj, MG_JT_HOOK, 0, now_ns(), p, strlen(p), 0, NULL, e2, sizeof(e2)))
					_exit(1);
			}
			mg_journal_close(&jj);
			_exit(0);
		}
	for (int k = 0; k < 4; k++) {
		waitpid(kids[k], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rot writer %d", k);
	}
	bad = check_writers(dir, 4, 400, &records);
	mg_journal_segments(dir, &segs, &nseg, err, sizeof(err));
	CHECK(records == 1600 && bad == 0 && nseg > 5, "%" PRIu64 " records, %d problems, %zu segs", records, bad, nseg);
	for (size_t i = 0; i < nseg; i++) {
		struct stat sb;
		stat(segs[i], &sb);
		CHECK(sb.st_size <= 8192, "segment %s %lld bytes", segs[i], (long long)sb.st_size);
	}
	mg_journal_segments_free(segs, nseg);
	okline("rotation by size (4 KiB segments) and retention (16 KiB): oldest segments deleted, seq continuous; rotation under 4 concurrent writers", f);
}

static void test_committer(void)
{
	char dir[512], err[256];
	struct mg_journal a, b;
	int f = failed;

	mkdir_fresh(dir, sizeof(dir), "commit");
	struct mg_journal_opts o = { .dir = dir };
	mg_journal_open(&a, &o, err, sizeof(err));
	mg_journal_open(&b, &o, err, sizeof(err));
	CHECK(!mg_journal_has_committer(&b), "no committer yet");
	CHECK(mg_journal_become_committer(&a) == 0, "become committer");
	CHECK(mg_journal_has_committer(&b), "committer seen by another handle");
	CHECK(mg_journal_become_committer(&b) == -1, "only one committer");
	append_str(&b, "{\"one-shot\":1}", 0, NULL);        /* the hook's way with a committer */
	uint64_t before = a.syncs;
	CHECK(mg_journal_commit_shared(&a) == 0 && a.syncs == before + 1, "commit of another writer's record");
	CHECK(mg_journal_commit_shared(&a) == 0 && a.syncs == before + 1, "nothing new: no sync");
	append_str(&b, "{\"one-shot\":2}", 0, NULL);
	CHECK(mg_journal_commit_shared(&a) == 0 && a.syncs == before + 2, "new record: synced");
	mg_journal_close(&a);
	CHECK(!mg_journal_has_committer(&b), "committer gone after close");
	mg_journal_close(&b);
	okline("group commit across processes: one committer (flock), commits others' unsynced appends once", f);
}

/* ---- helper modes ---------------------------------------------------------------- */

static int mode_bench(const char *dir, long n, bool sync)
{
	struct mg_journal j;
	struct mg_journal_opts o = { .dir = dir, .segment_bytes = 64ull << 20, .retain_bytes = 1ull << 40 };
	char err[256], p[400];
	struct timespec a, b;

	if (mg_journal_open(&j, &o, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		int len = snprintf(p, sizeof(p), "{\"type\":\"verdict\",\"time\":\"2026-11-26T10:00:00.000000Z\",\"host\":\"bench\",\"boot_id\":\"97871148-a46b-4142-a407-040f66ff78e2\",\"verdict\":\"allow\",\"action\":\"delete\",\"ifname\":\"macvtap%ld\",\"owner_domain\":\"dom%ld\",\"pid\":%ld,\"comm\":\"libvirtd\"}", i % 100, i % 50, 1000 + i);
		if (mg_journal_append(&j, MG_JT_VERDICT, 1, now_ns(), p, (size_t)len,
				      sync ? MG_JA_SYNC : 0, NULL, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	}
	mg_journal_flush(&j);
	clock_gettime(CLOCK_MONOTONIC, &b);
	mg_journal_close(&j);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("appends/s %.0f (%ld records in %.3f s, %s)\n", (double)n / s, n, s,
	       sync ? "fdatasync per record" : "one fdatasync at the end");
	return 0;
}

static void iso(uint64_t ns, char *out, size_t size)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char b[32];
	gmtime_r(&t, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%06lluZ", b, (unsigned long long)(ns % 1000000000ull) / 1000);
}

/* n records over ~12 days, and in the middle the failed incoming migration of victim-B */
static int mode_gen(const char *dir, long n, const char *host)
{
	struct mg_journal j;
	struct mg_journal_opts o = { .dir = dir, .segment_bytes = 64ull << 20, .retain_bytes = 1ull << 40 };
	char err[256], p[1024], t[40];
	uint64_t t0 = 1790000000ull * 1000000000ull, step = 1000000000ull; /* 1 s apart */
	const char *boot = "97871148-a46b-4142-a407-040f66ff78e2";

	if (mg_journal_open(&j, &o, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (long i = 0; i < n; i++) {
		uint64_t ts = t0 + (uint64_t)i * step;
		unsigned type = MG_JT_VERDICT, verdict = 1;
		int len;
		iso(ts, t, sizeof(t));
		if (i == n / 2) {
			len = snprintf(p, sizeof(p), "{\"type\":\"hook\",\"time\":\"%s\",\"host\":\"%s\",\"boot_id\":\"%s\",\"writer_pid\":900,\"domain\":\"victim-B\",\"op\":\"migrate\",\"subop\":\"begin\",\"extra\":\"-\",\"targets\":[\"macvtap7\"],\"uuid\":\"\",\"stripped\":[\"macvtap7\"],\"hook_pid\":900,\"hook_ppid\":555,\"hook_parent\":\"libvirtd\"}", t, host, boot);
			type = MG_JT_HOOK;
		} else if (i == n / 2 + 1) {
			len = snprintf(p, sizeof(p), "{\"type\":\"hook\",\"time\":\"%s\",\"host\":\"%s\",\"boot_id\":\"%s\",\"writer_pid\":901,\"domain\":\"victim-B\",\"op\":\"stopped\",\"subop\":\"end\",\"extra\":\"-\",\"targets\":[\"macvtap7\"],\"uuid\":\"\",\"hook_pid\":901,\"hook_ppid\":555,\"hook_parent\":\"libvirtd\"}", t, host, boot);
			type = MG_JT_HOOK;
		} else if (i == n / 2 + 2) {
			len = snprintf(p, sizeof(p), "{\"type\":\"verdict\",\"time\":\"%s\",\"host\":\"%s\",\"boot_id\":\"%s\",\"writer_pid\":100,\"verdict\":\"deny\",\"action\":\"delete\",\"how\":\"name\",\"reason\":\"in-use\",\"mode\":\"enforce\",\"ifname\":\"macvtap7\",\"ifindex\":17,\"owner_domain\":\"A\",\"owner_pid\":4242,\"queues\":\"held\",\"pid\":555,\"tid\":556,\"ppid\":1,\"comm\":\"libvirtd\"}", t, host, boot);
			verdict = 2;
		} else if (i == n / 2 + 3) {
			len = snprintf(p, sizeof(p), "{\"type\":\"hook\",\"time\":\"%s\",\"host\":\"%s\",\"boot_id\":\"%s\",\"writer_pid\":902,\"domain\":\"victim-B\",\"op\":\"release\",\"subop\":\"end\",\"extra\":\"-\",\"targets\":[],\"uuid\":\"\",\"hook_pid\":902,\"hook_ppid\":555,\"hook_parent\":\"libvirtd\"}", t, host, boot);
			type = MG_JT_HOOK;
		} else {
			len = snprintf(p, sizeof(p), "{\"type\":\"verdict\",\"time\":\"%s\",\"host\":\"%s\",\"boot_id\":\"%s\",\"writer_pid\":100,\"verdict\":\"allow\",\"action\":\"delete\",\"how\":\"name\",\"reason\":\"not-in-use\",\"mode\":\"enforce\",\"ifname\":\"macvtap%ld\",\"ifindex\":%ld,\"owner_domain\":\"dom%ld\",\"owner_pid\":%ld,\"queues\":\"none\",\"pid\":%ld,\"tid\":%ld,\"ppid\":1,\"comm\":\"libvirtd\"}", t, host, boot, i % 100, 10 + i % 100, i % 97, 3000 + i % 97, 555 + i % 7, 555 + i % 7);
			type = MG_JT_VERDICT;
		}
		if (mg_journal_append(&j, type, verdict, ts, p, (size_t)len, 0, NULL, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	}
	mg_journal_close(&j);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "writer"))
		return writer_loop(argv[2], atoi(argv[3]), argv[4], false);
	if (argc == 5 && !strcmp(argv[1], "bench"))
		return mode_bench(argv[2], atol(argv[3]), !strcmp(argv[4], "sync"));
	if (argc == 5 && !strcmp(argv[1], "gen"))
		return mode_gen(argv[2], atol(argv[3]), argv[4]);
	if (argc == 5 && !strcmp(argv[1], "check")) {
		uint64_t records;
		int bad = check_writers(argv[2], atoi(argv[3]), atoi(argv[4]), &records);
		printf("records %" PRIu64 " problems %d\n", records, bad);
		return bad != 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: test_journal [writer DIR N TAG | bench DIR N sync|batch | "
				"gen DIR N HOST | check DIR NWRITERS N]\n");
		return 2;
	}
	if (!mkdtemp(tmpbase)) {
		perror("mkdtemp");
		return 1;
	}
	test_crc();
	test_basic();
	test_hold();
	test_torn();
	test_flip();
	test_concurrent();
	test_rotation();
	test_committer();
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpbase);
		if (system(cmd)) {
		}
	}
	printf("%d passed, %d failed\n", pass, failed);
	return failed != 0;
}
