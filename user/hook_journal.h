/* The journal record of one hook call (hook_journal.c). */
#ifndef MG_HOOK_JOURNAL_H
#define MG_HOOK_JOURNAL_H

#include <stddef.h>

struct mg_domstatus;
struct mg_xml_result;

/* One record: op, subop, domain, the hook's parent; uuid and interface targets from ds
 * when the caller parsed the XML already, else from xml (parsed here), else from stdin
 * read briefly (ops other than migrate/restore). r: the rule's result, for the names it
 * stripped. Never fails the hook: errors go to its log. */
void mg_hook_journal(const char *domain, const char *op, const char *subop, const char *extra,
		     const char *xml, size_t len, const struct mg_domstatus *ds,
		     const struct mg_xml_result *r);
/* The same, reading stdin, unless this process has written its hook record already. */
void mg_hook_journal_once(const char *domain, const char *op, const char *subop,
			  const char *extra);

#endif
