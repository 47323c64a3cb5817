/* What `journal` and `postmortem` share (journal_sources.c). */
#ifndef MG_JOURNAL_SOURCES_H
#define MG_JOURNAL_SOURCES_H

#include <stdio.h>
#include "jlog.h"

struct mg_sources {
	char **files;
	size_t n;
	/* systemd journals to read through sd-journal: directories (as journalctl -D, e.g.
	 * where systemd-journal-remote collects hosts), "" for the local system journal */
	char **sd;
	size_t nsd;
};

/* Adds a systemd journal directory (NULL: the local journal) to s. 0 or -1 (said). */
int mg_sources_add_sd(struct mg_sources *s, const char *dir);

int mg_parse_time(const char *s, uint64_t *ns);
int mg_sources_expand(struct mg_sources *s, int argc, char **argv);
int mg_sources_scan(const struct mg_sources *s, mg_jscan_cb cb, void *ctx,
		    unsigned long long *nrecords);
void mg_sources_free(struct mg_sources *s);
/* The payload as one strict JSON object, read as the current contract (mg_rec_upgrade),
 * plus "seq"; NULL when it is not one well-formed object. */
json_object *mg_rec_parse(const struct mg_jrec *r);
/* Old key names and "" for unknown (records written before docs/json.md) read as today's. */
void mg_rec_upgrade(json_object *o);
bool mg_rec_mentions_domain(json_object *o, const char *d);
/* The array o[key] holds the string want. */
bool mg_rec_array_has(json_object *o, const char *key, const char *want);
void mg_rec_print_text(FILE *out, json_object *o, uint64_t seq);
/* A --verdict argument: its enum mg_verdict, -1 when unknown. */
int mg_parse_verdict_arg(const char *s);

#endif
