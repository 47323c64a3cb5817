/* Journal records as JSON (json-c) on top of user/journal.[ch]: the common fields every
 * record carries (type, host, boot_id, time, writer pid), the writer used by the agent,
 * the hook and the CLI commands, the optional copy to the systemd journal, and the
 * one-line text rendering shared by `journal` and `postmortem`. See docs/journal.md. */
#ifndef MG_JLOG_H
#define MG_JLOG_H

#include <stdio.h>
#include "mg_abi.h"
#include "names.h"
#include "output.h"
#include "paths.h"
#include "util.h"
#include "journal.h"

struct mg_jlog {
	struct mg_journal j;
	char host[256];
	char boot_id[40];
	bool to_journald;   /* copy each record to the systemd journal (systemd_journal) */
	char err[256];      /* last error */
	unsigned long long errors;
	uint64_t new_ts;     /* time of the last mg_jlog_new() record */
};

/* Journal directory: the configuration's journal_dir ($MACVGUARD_JOURNAL_DIR). */
const char *mg_jlog_dir(void);
/* Opens the journal of this host (segment/retention sizes, host name and the copy to
 * the systemd journal from the configuration, config.h). */
int mg_jlog_open(struct mg_jlog *l);
void mg_jlog_close(struct mg_jlog *l);
/* A new record object with the common fields; ts_ns 0 means now. */
json_object *mg_jlog_new(struct mg_jlog *l, unsigned type, uint64_t ts_ns);
/* Appends o (and frees it). flags: MG_JA_SYNC. 0 or -1 (l->err set). */
int mg_jlog_put(struct mg_jlog *l, json_object *o, unsigned type, unsigned verdict,
		uint64_t ts_ns, unsigned flags);
/* For one-shot commands: open, append durably, close; a failure is a warning only. */
void mg_jlog_oneshot(unsigned type, json_object *(*build)(struct mg_jlog *l, void *arg),
		     void *arg);

/* tag/untag/release (type) and mode records of the CLI commands (durable, warn on error). */
void mg_jlog_link_op(unsigned type, const char *ifname, uint32_t ifindex, const char *netns,
		     const struct mg_tag *tag);
void mg_jlog_mode(unsigned mode);

/* journald MESSAGE_ID and syslog priority of a record (would_refuse: a flag-only
 * deletion of an in-use guarded link; event: an agent record's "event"). */
const char *mg_jlog_message_id(unsigned type, unsigned verdict, bool would_refuse);
int mg_jlog_priority(unsigned type, unsigned verdict, bool would_refuse, const char *event);

/* The record of a guard verdict event. */
json_object *mg_jlog_event(struct mg_jlog *l, const struct mg_event *e, uint64_t *ts_ns);

/* One line of text for a record (without the time/host/seq columns). */
void mg_jrec_text(json_object *rec, char *out, size_t size);
/* Helpers to read fields. */
const char *mg_jstr(json_object *o, const char *key);   /* "" when absent */
long long mg_jint(json_object *o, const char *key);     /* 0 when absent */

#endif
