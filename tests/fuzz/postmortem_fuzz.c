/* libFuzzer target for `postmortem` on hostile input: each line "TV<payload>" of the input
 * becomes one record (T: type digit, V: verdict digit; times stepping by its length, now
 * and then back, so clock order and record order vary), written as a valid segment; then postmortem runs
 * on it as the CLI would (text and -j, with and without --domain), output discarded.
 * ASan/UBSan and the fuzzer's own timeout watch for crashes, leaks and slow paths
 * (run with -close_fd_mask=2: postmortem's warnings are not the fuzzer's reports). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmds.h"
#include "journal.h"
#include "output.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char seg[64], segdir[32];

static void cleanup(void)
{
	unlink(seg);
	rmdir(segdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/mg-pmfuzz.XXXXXX";
	int null = open("/dev/null", O_WRONLY);

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(seg, sizeof(seg), "%s/seg-0000000000000001.mgj", dir);
	snprintf(segdir, sizeof(segdir), "%s", dir);
	atexit(cleanup);
	dup2(null, STDOUT_FILENO);   /* the report itself is not what is tested */
	close(null);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(seg, "we");
	uint64_t seq = 0, ts = 1700000000000000000ull;
	size_t i = 0;

	if (!f)
		abort();
	while (i < size) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t line = nl ? (size_t)(nl - (data + i)) : size - i;
		size_t skip = line < 2 ? line : 2, len = line - skip;
		struct mg_jhdr h = { .magic = MG_J_MAGIC, .version = MG_J_VERSION,
				     .len = (uint32_t)len, .seq = ++seq };

		h.type = (uint16_t)(skip > 0 ? (data[i] - '0') % 10 : 1);
		h.verdict = (uint8_t)(skip > 1 ? (data[i + 1] - '0') % 6 : 0);
		/* a step back now and then: the wall clock is not trusted for order */
		ts = len % 7 == 3 ? ts - 1000000000ull * (len % 5) : ts + 1000000ull * len;
		h.ts_ns = ts;
		h.crc = mg_jrec_crc(&h, data + i + skip);
		fwrite(&h, 1, sizeof(h), f);
		fwrite(data + i + skip, 1, len, f);
		i += line + 1;
	}
	fclose(f);
	{
		char *a1[] = { "postmortem", seg, NULL };
		char *a2[] = { "postmortem", "-j", "--domain", "a", seg, NULL };
		mg_cmd_postmortem(2, a1);
		mg_cmd_postmortem(5, a2);
	}
	return 0;
}
