/* The hook's journal record: one per `macvguard hook qemu` call (op, subop, domain, uuid,
 * the interface target names the XML carried and, for migrate/restore, the ones the rule
 * stripped; the hook's parent = libvirtd). Never fails the hook: errors go to its log. */
#include "hook.h"
#include "jlog.h"
#include "xmlrules.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* <uuid>TEXT</uuid>: the first one is the domain's (it follows <name>). */
static void find_uuid(const char *x, char *out, size_t size)
{
	const char *p = strstr(x, "<uuid>"), *e;

	out[0] = 0;
	if (!p)
		return;
	p += 6;
	while (*p == ' ' || *p == '\n' || *p == '\t')
		p++;
	e = p;
	while ((size_t)(e - p) < size - 1 && *e && *e != '<' && *e != ' ' && *e != '\n')
		e++;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = 0;
}

/* A cheap scan (not a parse) for <target dev='X'> inside each <interface>...</interface>. */
static json_object *find_targets(const char *x)
{
	json_object *a = json_object_new_array();
	const char *p = x;

	while ((p = strstr(p, "<interface"))) {
		const char *end = strstr(p, "</interface>"), *t = p;
		if (!end)
			break;
		while ((t = strstr(t, "<target")) && t < end) {
			const char *close = strchr(t, '>'), *d = t + 7;
			t += 7;
			if (!close || close > end)
				break;
			while ((d = strstr(d, "dev")) && d < close) {
				const char *q = d + 3;
				if ((d[-1] == ' ' || d[-1] == '\t' || d[-1] == '\n')) {
					while (*q == ' ')
						q++;
					if (*q == '=') {
						q++;
						while (*q == ' ')
							q++;
						if (*q == '\'' || *q == '"') {
							const char *v = q + 1, *ve = strchr(v, *q);
							if (ve && ve < close && ve - v < 128) {
								char name[128];
								memcpy(name, v, (size_t)(ve - v));
								name[ve - v] = 0;
								json_object_array_add(a, json_object_new_string(name));
							}
						}
						break;
					}
				}
				d += 3;
			}
		}
		p = end;
	}
	return a;
}

/* stdin of ops that do not filter: the XML libvirt writes; never block for long. */
static char *read_stdin_briefly(size_t *len)
{
	size_t cap = 65536, n = 0, max = 16u << 20;
	char *buf;
	struct timespec t0, now;

	*len = 0;
	if (isatty(STDIN_FILENO))
		return NULL;
	buf = malloc(cap);
	if (!buf)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		ssize_t r;
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = 2000 - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (ms <= 0 || poll(&p, 1, (int)ms) <= 0)
			break;
		if (n + 1 >= cap) {
			char *q;
			if (cap >= max)
				break;
			q = realloc(buf, cap * 2);
			if (!q)
				break;
			buf = q;
			cap *= 2;
		}
		r = read(STDIN_FILENO, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

struct hj_arg {
	const char *domain, *op, *subop, *extra, *xml;
	const struct mg_xml_result *r;
};

static json_object *build(struct mg_jlog *l, void *p)
{
	struct hj_arg *a = p;
	json_object *o = mg_jlog_new(l, MG_JT_HOOK, 0);
	char uuid[64] = "", path[64], comm[64] = "";
	FILE *f;

	json_object_object_add(o, "domain", json_object_new_string(a->domain));
	json_object_object_add(o, "op", json_object_new_string(a->op));
	json_object_object_add(o, "subop", json_object_new_string(a->subop));
	json_object_object_add(o, "extra", json_object_new_string(a->extra));
	if (a->xml) {
		find_uuid(a->xml, uuid, sizeof(uuid));
		json_object_object_add(o, "targets", find_targets(a->xml));
	}
	json_object_object_add(o, "uuid", json_object_new_string(uuid));
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
	json_object_object_add(o, "hook_parent", json_object_new_string(comm));
	return o;
}

static bool hook_journal_written;   /* one record per hook process */

void mg_hook_journal_once(const char *domain, const char *op, const char *subop,
			  const char *extra)
{
	if (!hook_journal_written)
		mg_hook_journal(domain, op, subop, extra, NULL, 0, NULL);
}

void mg_hook_journal(const char *domain, const char *op, const char *subop, const char *extra,
		     const char *xml, size_t len, const struct mg_xml_result *r)
{
	struct hj_arg a = { domain, op, subop, extra, xml, r };
	struct mg_jlog l;
	char *own = NULL;
	json_object *o;

	(void)len;
	hook_journal_written = true;
	if (getenv("MACVGUARD_NO_JOURNAL"))
		return;
	if (!xml && strcmp(op, "migrate") && strcmp(op, "restore") && !r) {
		size_t n;
		own = read_stdin_briefly(&n);
		a.xml = own;
	}
	if (mg_jlog_open(&l)) {
		hook_log(LOG_ERR, "%s %s: journal: %s", domain, op, l.err);
		mg_jlog_close(&l);
		free(own);
		return;
	}
	o = build(&l, &a);
	/* the agent, when it runs, commits this within its group-commit bound */
	if (mg_jlog_put(&l, o, MG_JT_HOOK, 0, 0, mg_journal_has_committer(&l.j) ? 0 : MG_JA_SYNC))
		hook_log(LOG_ERR, "%s %s: journal: %s", domain, op, l.err);
	mg_jlog_close(&l);
	free(own);
}
