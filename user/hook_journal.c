/* The hook's journal record: one per `macvguard hook qemu` call (op, subop, domain, uuid,
 * the interface target names the XML carried and, for migrate/restore, the ones the rule
 * stripped; the hook's parent = libvirtd). Never fails the hook: errors go to its log. */
#include "config.h"
#include "domstatus.h"
#include "hook_journal.h"
#include "hook_log.h"
#include "jlog.h"
#include "util.h"
#include "xmlrules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

struct hj_arg {
	const char *domain, *op, *subop, *extra;
	const struct mg_domstatus *ds;   /* NULL: no (readable) XML */
	const struct mg_xml_result *r;
};

static json_object *build(struct mg_jlog *l, void *p)
{
	struct hj_arg *a = p;
	json_object *o = mg_jlog_new(l, MG_JT_HOOK, 0);
	char uuid[37] = "", path[64], comm[64] = "";
	FILE *f;

	json_object_object_add(o, "domain", json_object_new_string(a->domain));
	json_object_object_add(o, "op", json_object_new_string(a->op));
	json_object_object_add(o, "subop", json_object_new_string(a->subop));
	json_object_object_add(o, "extra", json_object_new_string(a->extra));
	if (a->ds) {
		json_object *t = json_object_new_array();
		mg_uuid_format(a->ds->uuid, uuid);
		for (size_t i = 0; i < a->ds->niface; i++)
			if (a->ds->iface[i].dev[0])
				json_object_array_add(t, json_object_new_string(a->ds->iface[i].dev));
		json_object_object_add(o, "targets", t);
	}
	json_object_object_add(o, "uuid", uuid[0] ? json_object_new_string(uuid) : NULL);
	if (a->r) {
		json_object *s = json_object_new_array();
		for (size_t i = 0; i < a->r->nfindings; i++)
			if (a->r->findings[i].removed && a->r->changed)
				json_object_array_add(s, json_object_new_string(a->r->findings[i].dev));
		json_object_object_add(o, "stripped", s);
	}
	json_object_object_add(o, "hook_pid", json_object_new_int(getpid()));
	json_object_object_add(o, "hook_ppid", json_object_new_int(getppid()));
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)getppid());
	if ((f = fopen(path, "re"))) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	json_object_object_add(o, "hook_parent", comm[0] ? json_object_new_string(comm) : NULL);
	return o;
}

static bool hook_journal_written;   /* one record per hook process */

void mg_hook_journal_once(const char *domain, const char *op, const char *subop,
			  const char *extra)
{
	if (!hook_journal_written)
		mg_hook_journal(domain, op, subop, extra, NULL, 0, NULL, NULL);
}

void mg_hook_journal(const char *domain, const char *op, const char *subop, const char *extra,
		     const char *xml, size_t len, const struct mg_domstatus *ds,
		     const struct mg_xml_result *r)
{
	struct hj_arg a = { domain, op, subop, extra, ds, r };
	struct mg_domstatus *own_ds = NULL;
	char *own = NULL, err[256];
	struct mg_jlog l;
	json_object *o;

	hook_journal_written = true;
	if (!mg_conf()->journal)
		return;
	/* stdin of ops that do not filter: the XML libvirt writes; never block for long */
	if (!ds && !xml && strcmp(op, "migrate") && strcmp(op, "restore") && !r &&
	    !isatty(STDIN_FILENO) &&
	    mg_read_fd(STDIN_FILENO, MG_STATUS_MAX_SIZE, 2000, MG_READ_DRAIN, &own, &len) == 0)
		xml = own;
	if (!ds && xml && (own_ds = malloc(sizeof(*own_ds))) &&
	    mg_status_parse(xml, len, own_ds, err, sizeof(err)) == 0)
		a.ds = own_ds;
	if (mg_jlog_open(&l)) {
		hook_log(LOG_ERR, "%s %s: journal: %s", domain, op, l.err);
	} else {
		o = build(&l, &a);
		/* the agent, when it runs, commits this within its group-commit bound */
		if (mg_jlog_put(&l, o, MG_JT_HOOK, 0, 0,
				mg_journal_has_committer(&l.j) ? 0 : MG_JA_SYNC))
			hook_log(LOG_ERR, "%s %s: journal: %s", domain, op, l.err);
	}
	mg_jlog_close(&l);
	free(own_ds);
	free(own);
}
