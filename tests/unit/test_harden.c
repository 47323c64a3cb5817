/* Unit tests of issue 12's hardening in the library (links libmg.a; uses only functions
 * that existed before the fixes, so the same file builds against an unfixed library and
 * fails there), plus helper modes for the host suites:
 *   test_harden                       run the tests ("ok - ..." lines, "N passed, N failed")
 *   test_harden segment FILE          write stdin's lines "TYPE VERDICT TS_NS PAYLOAD" as
 *                                     records with valid CRCs, seq 1..N (PAYLOAD: raw text
 *                                     where \n, \\ and \xNN stand for those bytes)
 *   test_harden crafted FILE MB       a segment of MB MiB that makes a CRC resync look at
 *                                     a record header every 36 bytes, each claiming the
 *                                     rest of the file; one valid record at the end */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "domstatus.h"
#include "events.h"
#include "journal.h"
#include "journal_sources.h"
#include "util.h"

static int pass, failed;
#define CHECK(cond, name, ...) do { \
	if (cond) { printf("ok - %s\n", name); pass++; } \
	else { printf("not ok - %s: ", name); printf(__VA_ARGS__); printf("\n"); failed++; } \
} while (0)

/* ---- record writing (helper modes and tests) ------------------------------------- */

static size_t put_record(uint8_t *out, unsigned type, unsigned verdict, uint64_t seq,
			 uint64_t ts, const void *payload, size_t len)
{
	struct mg_jhdr h = { .magic = MG_J_MAGIC, .len = (uint32_t)len, .type = (uint16_t)type,
			     .verdict = (uint8_t)verdict, .version = MG_J_VERSION, .seq = seq,
			     .ts_ns = ts };

	h.crc = mg_jrec_crc(&h, payload);
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), payload, len);
	return sizeof(h) + len;
}

static size_t unescape(const char *s, uint8_t *out)
{
	size_t n = 0;

	while (*s) {
		if (s[0] == '\\' && s[1] == 'n') {
			out[n++] = '\n';
			s += 2;
		} else if (s[0] == '\\' && s[1] == '\\') {
			out[n++] = '\\';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3]) {
			char hex[3] = { s[2], s[3], 0 };
			out[n++] = (uint8_t)strtoul(hex, NULL, 16);
			s += 4;
		} else {
			out[n++] = (uint8_t)*s++;
		}
	}
	return n;
}

static int mode_segment(const char *path)
{
	static char line[1 << 20];
	static uint8_t payload[1 << 20], rec[(1 << 20) + 64];
	FILE *out = fopen(path, "we");
	uint64_t seq = 0;

	if (!out)
		return 1;
	while (fgets(line, sizeof(line), stdin)) {
		unsigned type, verdict;
		unsigned long long ts;
		int off = 0;
		size_t len;

		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "%u %u %llu %n", &type, &verdict, &ts, &off) != 3)
			continue;
		len = unescape(line + off, payload);
		fwrite(rec, 1, put_record(rec, type, verdict, ++seq, ts, payload, len), out);
	}
	return fclose(out) ? 1 : 0;
}

/* Every 36 bytes a header claiming a payload up to the end (or 1 MiB), valid except for
 * its CRC; then one valid record. */
static uint8_t *crafted(size_t size, size_t *valid_off)
{
	static const char tail[] = "{\"type\":\"agent\",\"event\":\"found\"}";
	uint8_t *b = calloc(1, size);
	size_t off = 0, end = size - (MG_J_HDR_SIZE + sizeof(tail) - 1);

	if (!b)
		exit(2);
	b[0] = 'x';   /* the first record is corrupt: the scan starts resynchronising */
	for (off = 1; off + MG_J_HDR_SIZE <= end; off += 36) {
		struct mg_jhdr h = { .magic = MG_J_MAGIC, .version = MG_J_VERSION, .type = 1,
				     .crc = 0x12345678, .seq = off };
		size_t left = size - off - MG_J_HDR_SIZE;
		h.len = (uint32_t)(left < MG_J_MAX_PAYLOAD ? left : MG_J_MAX_PAYLOAD);
		memcpy(b + off, &h, sizeof(h));
	}
	*valid_off = end;
	put_record(b + end, MG_JT_AGENT, 0, 7, 1, tail, sizeof(tail) - 1);
	return b;
}

static int mode_crafted(const char *path, int mb)
{
	size_t size = (size_t)mb << 20, voff;
	uint8_t *b = crafted(size, &voff);
	FILE *out = fopen(path, "we");
	int rc = !out || fwrite(b, 1, size, out) != size;

	if (out && fclose(out))
		rc = 1;
	free(b);
	return rc;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_parse_size(void)
{
	size_t v = 0;

	CHECK(mg_parse_size("18014398509481985K", &v) != 0,
	      "mg_parse_size: 18014398509481985K (wraps to 1 KiB when shifted) refused",
	      "accepted as %zu", v);
	CHECK(mg_parse_size("17179869184G", &v) != 0, "mg_parse_size: 17179869184G refused",
	      "accepted as %zu", v);
	CHECK(mg_parse_size("2G", &v) == 0 && v == (1ull << 31) && mg_parse_size("3G", &v) != 0 &&
	      mg_parse_size("16MiB", &v) == 0 && v == 16u << 20,
	      "mg_parse_size: 2G is the limit, 3G refused, 16MiB read", "v=%zu", v);
}

static void test_parse_time(void)
{
	static const char *bad[] = { "@nan", "@inf", "@-inf", "@1e300", "@18446744073.8",
				     "-nan", "-infh", "-1e300d", "@0x1p80" };
	uint64_t ns;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[96];
		ns = 0;
		snprintf(name, sizeof(name), "mg_parse_time: %s refused (no float->integer UB)",
			 bad[i]);
		CHECK(mg_parse_time(bad[i], &ns) != 0, name, "accepted as %llu",
		      (unsigned long long)ns);
	}
	CHECK(mg_parse_time("@1.5", &ns) == 0 && ns == 1500000000ull,
	      "mg_parse_time: @1.5 still read", "%llu", (unsigned long long)ns);
}

static json_object *parse_payload(const char *s)
{
	struct mg_jrec r = { .payload = s, .h = { .len = (uint32_t)strlen(s), .seq = 9 } };
	return mg_rec_parse(&r);
}

static void test_rec_parse(void)
{
	static const struct { const char *payload, *name; } bad[] = {
		{ "{\"type\":\"hook\",\"domain\":\"a\"}\n{\"type\":\"verdict\",\"verdict\":\"deny\"}",
		  "a second object after a newline (a forged line)" },
		{ "{\"type\":\"hook\",\"domain\":\"a\",\"domain\":\"b\"}", "a repeated key" },
		{ "{\"type\":\"hook\",\"x\":{\"k\":1,\"k\":2}}", "a repeated key in a nested object" },
		{ "{\"type\":\"hook\",\"domain\":\"a\"", "a truncated object" },
		{ "{\"type\":\"hook\"} x", "trailing bytes" },
		{ "[1,2]", "an array" },
		{ "{\"type\":\"hook\",\"d\":\"a\"}\0{\"x\":1}", "bytes after a NUL" },
	};
	json_object *o;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[160];
		struct mg_jrec r = { .payload = bad[i].payload,
				     .h = { .len = (uint32_t)strlen(bad[i].payload) } };
		if (i == 6)
			r.h.len = 31;   /* the NUL and the object after it are in the payload */
		snprintf(name, sizeof(name), "journal payload refused: %s", bad[i].name);
		o = mg_rec_parse(&r);
		CHECK(!o, name, "parsed as %s", json_object_to_json_string(o));
		json_object_put(o);
	}
	o = parse_payload("{\"type\":\"hook\",\"domain\":\"a:b\",\"k\\\":\":\"v\",\"t\":[\"x\"]}");
	CHECK(o && !strcmp(mg_jstr(o, "domain"), "a:b") && mg_jint(o, "seq") == 9,
	      "journal payload: a well-formed record (colons inside strings) is read",
	      "%s", o ? json_object_to_json_string(o) : "NULL");
	json_object_put(o);
}

struct count {
	unsigned long long n;
	uint64_t last;
};

static int count_cb(void *ctx, const struct mg_jrec *r)
{
	struct count *c = ctx;
	c->n++;
	c->last = r->h.seq;
	return 0;
}

/* The reference: resync by checking each magic with the plain CRC. */
static void naive_scan(const uint8_t *b, size_t size, uint64_t *seqs, size_t *n)
{
	size_t off = 0;

	*n = 0;
	while (off < size) {
		if (mg_jrec_valid(b, size, off)) {
			struct mg_jhdr h;
			memcpy(&h, b + off, sizeof(h));
			seqs[(*n)++] = h.seq;
			off += MG_J_HDR_SIZE + h.len;
		} else {
			off++;
		}
	}
}

struct seqs {
	uint64_t v[4096];
	size_t n;
};

static int seqs_cb(void *ctx, const struct mg_jrec *r)
{
	struct seqs *s = ctx;
	if (s->n < 4096)
		s->v[s->n++] = r->h.seq;
	return 0;
}

static void test_resync(void)
{
	struct mg_jscan_stats st;
	struct count c = { 0 };
	size_t size = 6u << 20, voff, mismatches = 0;
	uint8_t *b = crafted(size, &voff);
	struct timespec t0, t1;

	/* linear resync: each candidate costs the same small amount, whatever it claims */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mg_journal_scan_buf(b, size, 0, "crafted", count_cb, &c, &st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(c.n == 1 && c.last == 7 && st.corrupt == 1 && st.corrupt_bytes == voff,
	      "crafted 6 MiB segment (a header claiming up to 1 MiB every 36 bytes): the one valid "
	      "record after it is found", "records %llu last %llu corrupt %llu bytes %llu",
	      c.n, (unsigned long long)c.last, (unsigned long long)st.corrupt,
	      (unsigned long long)st.corrupt_bytes);
	printf("# crafted 6 MiB resync: %.2f s\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(b);

	/* the resync finds exactly what checking every offset with the plain CRC finds */
	srand(12);
	for (int round = 0; round < 300; round++) {
		static uint8_t buf[1 << 16];
		static uint64_t want[4096];
		struct seqs got = { .n = 0 };
		size_t len = 0, nwant;
		uint64_t seq = 1;

		while (len + 600 < sizeof(buf)) {
			char p[512];
			int plen = snprintf(p, sizeof(p), "{\"n\":%d,\"pad\":\"%.*s\"}", rand(),
					    rand() % 300, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
			size_t at = len;
			len += put_record(buf + len, 2, 0, seq++, 1, p, (size_t)plen);
			switch (rand() % 6) {
			case 0: buf[at + (size_t)rand() % (len - at)] ^= 0x40; break;  /* flip */
			case 1: {   /* garbage with magics between records */
				size_t g = (size_t)rand() % 80;
				for (size_t k = 0; k < g; k++)
					buf[len + k] = (k % 9 == 0) ? 0xff : (uint8_t)rand();
				len += g;
				break;
			}
			default: break;
			}
		}
		naive_scan(buf, len, want, &nwant);
		mg_journal_scan_buf(buf, len, 0, NULL, seqs_cb, &got, &st);
		if (got.n != nwant || memcmp(got.v, want, nwant * sizeof(want[0])))
			mismatches++;
	}
	CHECK(mismatches == 0, "resync finds the same records as a byte-by-byte check (300 "
	      "random segments with flipped bytes and garbage)", "%zu segments differ", mismatches);
}

static void test_attributes(void)
{
	size_t n = 400000, cap = n * 12 + 256, len = 0;
	char *x = malloc(cap), err[256];
	struct mg_domstatus *ds = malloc(sizeof(*ds));
	int rc;

	len += (size_t)snprintf(x + len, cap - len,
				"<domain type='kvm'><name>big</name><devices><interface type='direct'>"
				"<target dev='vnet0'");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(x + len, cap - len, " a%zu='x'", i);
	len += (size_t)snprintf(x + len, cap - len, "/></interface></devices></domain>");
	rc = mg_status_parse(x, len, ds, err, sizeof(err));
	CHECK(rc != 0 && strstr(err, "attributes"),
	      "domain XML with 400,000 attributes on one element: refused (libxml2 checks them "
	      "pairwise) and said why", "rc %d: %s", rc, err);
	free(x);
	free(ds);
}

static void test_event_text(void)
{
	struct mg_event e;
	char out[4096];
	FILE *f = tmpfile();
	size_t n;

	memset(&e, 0, sizeof(e));
	e.verdict = MG_V_DENY;
	e.req_known = 1;
	e.pid = 42;
	e.ifindex = 7;
	memcpy(e.comm, "ev\x1b[2J\r", 7);
	memcpy(e.ifname, "mt\x1b]0;x\a", 8);
	memcpy(e.domain, "dom\nFAKE", 8);
	mg_event_print(f, &e, false);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	fclose(f);
	out[n] = 0;
	CHECK(!memchr(out, 0x1b, n) && !memchr(out, '\r', n) && !memchr(out, '\a', n) &&
	      strchr(out, '\n') == out + n - 1 && strstr(out, "\\x1b[2J"),
	      "event text (agent stdout and monitor): ESC, CR, BEL and newline in comm, ifname "
	      "and domain come out as \\xNN on one line", "%s", out);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "segment"))
		return mode_segment(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "crafted"))
		return mode_crafted(argv[2], atoi(argv[3]));
	if (argc != 1) {
		fprintf(stderr, "usage: test_harden [segment FILE | crafted FILE MB]\n");
		return 2;
	}
	test_parse_size();
	test_parse_time();
	test_rec_parse();
	test_resync();
	test_attributes();
	test_event_text();
	printf("%d passed, %d failed\n", pass, failed);
	return failed != 0;
}
