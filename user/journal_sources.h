/* What `journal` and `postmortem` share (journal_sources.c). */
#ifndef MG_JOURNAL_SOURCES_H
#define MG_JOURNAL_SOURCES_H

#include <stdio.h>
#include "jlog.h"

struct mg_sources {
	char **files;
	size_t n;
};

int mg_parse_time(const char *s, uint64_t *ns);
int mg_sources_expand(struct mg_sources *s, int argc, char **argv);
int mg_sources_scan(const struct mg_sources *s, mg_jscan_cb cb, void *ctx,
		    unsigned long long *nrecords);
void mg_sources_free(struct mg_sources *s);
json_object *mg_rec_parse(const struct mg_jrec *r);   /* payload + "seq" */
bool mg_rec_mentions_domain(json_object *o, const char *d);
/* The array o[key] holds the string want. */
bool mg_rec_array_has(json_object *o, const char *key, const char *want);
void mg_rec_print_text(FILE *out, json_object *o, uint64_t seq);
/* A --verdict argument: its enum mg_verdict, -1 when unknown. */
int mg_parse_verdict_arg(const char *s);

#endif
