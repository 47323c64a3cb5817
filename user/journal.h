/* The flight recorder's on-disk journal: append-only segments of length-prefixed,
 * CRC32C-checked records, shared by concurrent writers (the agent, hook processes, CLI
 * commands) through an flock'd lock file. Pure library: no global state, no printing, no
 * json-c (the payload is opaque bytes; user/jlog.c builds the JSON). See docs/journal.md.
 *
 * Segment file DIR/seg-<16 hex digits>.mgj, the number being the sequence number of its
 * first record. Record: a 32-byte header (little endian, struct mg_jhdr) then `len` payload
 * bytes; crc = CRC32C over the header (crc field zero) and the payload. */
#ifndef MG_JOURNAL_H
#define MG_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MG_J_MAGIC        0x4a474dffu      /* bytes ff 'M' 'G' 'J': 0xff is never in UTF-8 */
#define MG_J_VERSION      1
#define MG_J_HDR_SIZE     32
#define MG_J_MAX_PAYLOAD  (1u << 20)
#define MG_J_DEFAULT_DIR  "/var/lib/macvguard/journal"
#define MG_J_DEFAULT_SEGMENT  (16ull << 20)
#define MG_J_DEFAULT_RETAIN   (256ull << 20)

struct mg_jhdr {
	uint32_t magic;
	uint32_t len;       /* payload bytes */
	uint32_t crc;       /* CRC32C of header (crc = 0) + payload */
	uint16_t type;      /* enum mg_jtype */
	uint8_t  verdict;   /* enum mg_verdict for MG_JT_VERDICT, else 0 */
	uint8_t  version;   /* MG_J_VERSION */
	uint64_t seq;       /* per journal (= per host), strictly increasing */
	uint64_t ts_ns;     /* CLOCK_REALTIME of the recorded event */
};
_Static_assert(sizeof(struct mg_jhdr) == MG_J_HDR_SIZE, "journal header");

enum mg_jtype {
	MG_JT_VERDICT = 1,  /* a guard verdict (struct mg_event) */
	MG_JT_HOOK    = 2,  /* a libvirt hook call */
	MG_JT_TAG     = 3,
	MG_JT_UNTAG   = 4,
	MG_JT_RELEASE = 5,
	MG_JT_AGENT   = 6,  /* agent start/stop, journal repair */
	MG_JT_LOST    = 7,  /* events lost */
	MG_JT_LINK    = 8,  /* a link created/deleted (rtnetlink notification) */
	MG_JT_MODE    = 9,  /* guard mode set */
	MG_JT_MAX
};
const char *mg_jtype_name(unsigned t);
int mg_jtype_parse(const char *s);        /* -1 when unknown */

uint32_t mg_crc32c(uint32_t crc, const void *buf, size_t len);

/* ---- reading ---------------------------------------------------------------------- */

struct mg_jrec {
	struct mg_jhdr h;
	const char *payload;   /* not NUL-terminated; valid during the callback only */
	uint64_t off;          /* offset of the header in its segment */
	const char *file;      /* segment path */
};

struct mg_jscan_stats {
	uint64_t records;
	uint64_t corrupt;        /* corrupt regions skipped (followed by a valid record) */
	uint64_t corrupt_bytes;
	uint64_t first_corrupt_off;
	uint64_t torn_bytes;     /* bytes after the last valid record with no valid record after */
	uint64_t torn_off;       /* where the torn tail starts (valid end) */
	uint64_t last_seq;       /* seq of the last valid record, 0 if none */
	uint64_t last_off;       /* header offset of the last valid record */
	uint64_t end;            /* end of the last valid record */
};

/* return non-zero from the callback to stop the scan (the scan returns that value) */
typedef int (*mg_jscan_cb)(void *ctx, const struct mg_jrec *r);

/* Checks one record at buf[off], size bytes available in all: 1 valid, 0 not. */
int mg_jrec_valid(const uint8_t *buf, size_t size, size_t off);
/* Scans buf from start: valid records go to cb (may be NULL); corrupt regions are skipped
 * by resynchronising on the next valid record; the trailing bytes that hold no valid
 * record are the torn tail. */
int mg_journal_scan_buf(const uint8_t *buf, size_t size, size_t start, const char *file,
			mg_jscan_cb cb, void *ctx, struct mg_jscan_stats *st);
/* mmap + scan of one segment file; -1 with err on an I/O error. */
int mg_journal_scan_file(const char *path, mg_jscan_cb cb, void *ctx,
			 struct mg_jscan_stats *st, char *err, size_t errsz);

/* Segment files of a journal directory, oldest first (malloc'd array of malloc'd
 * paths); 0 on success (possibly none), -1 with err. */
int mg_journal_segments(const char *dir, char ***paths, size_t *n, char *err, size_t errsz);
void mg_journal_segments_free(char **paths, size_t n);
/* First sequence number from a segment's file name; false if not a segment name. */
bool mg_journal_segname(const char *name, uint64_t *first);

/* ---- writing ---------------------------------------------------------------------- */

struct mg_journal_opts {
	const char *dir;             /* NULL: MG_J_DEFAULT_DIR */
	uint64_t segment_bytes;      /* 0: default; a segment is closed when the next record
	                              * would take it past this */
	uint64_t retain_bytes;       /* 0: default; oldest segments are deleted beyond this
	                              * (the active one never) */
};

/* What opening found and repaired. */
struct mg_journal_repair {
	uint64_t torn_bytes;         /* torn tail cut from the active segment */
	uint64_t torn_off;
	char     torn_file[600];
};

struct mg_journal {
	char dir[512];
	int dirfd, lockfd, segfd;
	uint64_t seg_first;          /* first seq of the segment segfd is open on */
	uint64_t last_seq;           /* as of the last time we held the lock */
	uint64_t end;                /* valid end of the active segment (as of the lock) */
	uint64_t segment_bytes, retain_bytes;
	bool dirty;                  /* written without fdatasync since the last flush */
	struct mg_journal_repair repair; /* set by open and by appends that repaired */
	uint64_t repairs;            /* torn tails cut so far by this handle */
	uint64_t appended, bytes, syncs, rotations, deleted_segments;
	int committerfd;             /* DIR/committer, flock'd by the committing writer */
	uint64_t synced_seg, synced_end;
	bool held;                   /* mg_journal_hold: the lock is ours across appends */
};

#define MG_JA_SYNC 1u            /* fdatasync before returning */

/* Opens (creating DIR and its first segment if needed) and repairs the active segment's
 * torn tail. 0 or -1 with err. */
int mg_journal_open(struct mg_journal *j, const struct mg_journal_opts *o, char *err,
		    size_t errsz);
/* Appends one record (one write(2) under the lock); *seq_out gets its seq. 0 or -1 with
 * err; on failure nothing of the record stays in the file. */
int mg_journal_append(struct mg_journal *j, unsigned type, unsigned verdict, uint64_t ts_ns,
		      const void *payload, size_t len, unsigned flags, uint64_t *seq_out,
		      char *err, size_t errsz);
/* A batch of appends under one lock (the agent's burst of events): hold takes the lock and
 * catches up with other writers once, each append is then one write(2), release writes
 * the shared state and unlocks. Other writers wait meanwhile; a holder that dies leaves
 * its records to the next holder's recovery (written, state not updated). 0 or -1. */
int mg_journal_hold(struct mg_journal *j, char *err, size_t errsz);
void mg_journal_release(struct mg_journal *j);
/* fdatasync when something was written without MG_JA_SYNC since the last flush. */
int mg_journal_flush(struct mg_journal *j);
void mg_journal_close(struct mg_journal *j);   /* does not sync: flush first if needed */

/* Group commit across processes. A long-lived writer (the agent) becomes the journal's
 * committer (flock on DIR/committer) and calls mg_journal_commit_shared() periodically:
 * it fdatasyncs the active segment whenever it grew since the last call, whoever wrote.
 * One-shot writers (hook, CLI) append without MG_JA_SYNC when a committer is alive,
 * and with it otherwise. */
int mg_journal_become_committer(struct mg_journal *j);
bool mg_journal_has_committer(struct mg_journal *j);
int mg_journal_commit_shared(struct mg_journal *j);
/* Total bytes of the journal's segments. */
uint64_t mg_journal_disk_bytes(const char *dir);

/* Internal to journal.c / journal_read.c: segment listing (sorted by first seq), the
 * record CRC. */
struct mg_jseg {
	uint64_t first;
	char *path;
};
int mg_journal_list_segs(const char *dir, struct mg_jseg **out, size_t *n, char *err,
			 size_t errsz);
uint32_t mg_jrec_crc(const struct mg_jhdr *h, const void *payload);

#endif
