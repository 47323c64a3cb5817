/* libFuzzer target for the journal reader on mutated segments (user/journal_read.c, and
 * the strict payload parse of user/journal_sources.c). Checks besides ASan/UBSan:
 *   - every record handed out is valid where it lies, records do not overlap and come
 *     in order; records + corrupt regions + torn tail account for every byte;
 *   - on inputs up to 64 KiB the indexed resync finds exactly the records a byte-by-byte
 *     check with the plain CRC finds;
 *   - a payload the strict parse accepts re-serialises to valid UTF-8.
 * Seeds: segments written by test_journal (tests/tests.mk). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "journal.h"
#include "journal_sources.h"
#include "output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	const uint8_t *buf;
	size_t size, next, n, bytes;
	uint64_t offs[4096];
};

static int on_rec(void *ctx, const struct mg_jrec *r)
{
	struct seen *s = ctx;
	json_object *o;

	if (r->off < s->next || !mg_jrec_valid(s->buf, s->size, r->off))
		abort();
	s->next = r->off + MG_J_HDR_SIZE + r->h.len;
	s->bytes += MG_J_HDR_SIZE + r->h.len;
	if (s->n < 4096)
		s->offs[s->n] = r->off;
	s->n++;
	o = mg_rec_parse(r);
	if (o) {
		size_t len;
		char *line = mg_json_line(o, &len);
		for (size_t i = 0; line && i < len;) {
			size_t u = mg_utf8_len((const unsigned char *)line + i, len - i);
			if (!u)
				abort();
			i += u;
		}
		free(line);
		json_object_put(o);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen *s = calloc(1, sizeof(*s));
	struct mg_jscan_stats st;

	s->buf = data;
	s->size = size;
	mg_journal_scan_buf(data, size, 0, "fuzz", on_rec, s, &st);
	if (st.records != s->n || s->bytes + st.corrupt_bytes + st.torn_bytes != size ||
	    st.end > size)
		abort();
	if (size <= 65536) {
		size_t off = 0, k = 0;
		while (off < size) {
			if (mg_jrec_valid(data, size, off)) {
				struct mg_jhdr h;
				memcpy(&h, data + off, sizeof(h));
				if (k >= s->n || (k < 4096 && s->offs[k] != off))
					abort();
				k++;
				off += MG_J_HDR_SIZE + h.len;
			} else {
				off++;
			}
		}
		if (k != s->n)
			abort();
	}
	free(s);
	return 0;
}
