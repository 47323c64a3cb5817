/* libFuzzer target for the configuration reader (user/config.c, mg_conf_parse). Besides
 * ASan/UBSan's "no crash, no leak, no UB": every string setting stays terminated and
 * within its buffer, paths stay absolute, the mode stays enforce or audit, and a parse
 * that reports no problem for an input whose every line is blank or a comment leaves the
 * defaults unchanged. Built by tests/tests.mk; 32-service.sh runs it short, `make fuzz`
 * long. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int problems;
static void count(void *ctx, const char *where, const char *msg)
{
	(void)ctx;
	if (!where[0] || !msg[0])
		abort();
	problems++;
}

#define TERMINATED(f) (memchr((f), 0, sizeof(f)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_conf c, d;
	int n;

	mg_conf_defaults(&c);
	d = c;
	problems = 0;
	n = mg_conf_parse((const char *)data, size, "fuzz.conf", &c, count, NULL);
	if (n != problems || n < 0)
		abort();
	if (!TERMINATED(c.status_dir) || !TERMINATED(c.mode) || !TERMINATED(c.journal_dir) ||
	    !TERMINATED(c.host) || !TERMINATED(c.prom_file) || !TERMINATED(c.hook_log) ||
	    !TERMINATED(c.xml_prefixes))
		abort();
	if (c.status_dir[0] != '/' || c.journal_dir[0] != '/')
		abort();
	if (strcmp(c.mode, "enforce") && strcmp(c.mode, "audit"))
		abort();
	if (c.hook_log[0] && c.hook_log[0] != '/')
		abort();
	if (c.prom_file[0] && c.prom_file[0] != '/' && strcmp(c.prom_file, "auto"))
		abort();
	/* a line with a NUL byte never sets anything */
	if (size && !memchr(data, '=', size) && memcmp(&c, &d, sizeof(c)))
		abort();
	return 0;
}
