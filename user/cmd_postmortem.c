/* `macvguard postmortem`: the timeline of one migration or incident merged from the
 * journals of several hosts, a one/two-sentence summary on top; text, JSON or a
 * self-contained HTML page. See docs/journal.md ("postmortem"). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "journal_sources.h"
#include "postmortem.h"

#define PM_BEFORE_NS (2ull * 1000000000ull)    /* context kept before the first record */
#define PM_AFTER_NS  (10ull * 1000000000ull)   /* ... and after the last one */

static void add_name(struct pm *p, const char *name)
{
	char **nn;

	if (!*name)
		return;
	for (size_t i = 0; i < p->nnames; i++)
		if (!strcmp(p->names[i], name))
			return;
	nn = realloc(p->names, (p->nnames + 1) * sizeof(char *));
	if (!nn || !(nn[p->nnames] = strdup(name))) {
		if (nn)
			p->names = nn;
		p->oom = true;
		return;
	}
	p->names = nn;
	p->nnames++;
}

static bool has_name(const struct pm *p, const char *name)
{
	for (size_t i = 0; i < p->nnames; i++)
		if (!strcmp(p->names[i], name))
			return true;
	return false;
}

static void add_ppid(struct pm *p, const char *host, long long ppid)
{
	struct ppid_ent *n;

	if (ppid <= 1)
		return;
	for (size_t i = 0; i < p->npp; i++)
		if (p->pp[i].ppid == ppid && !strcmp(p->pp[i].host, host))
			return;
	n = realloc(p->pp, (p->npp + 1) * sizeof(*n));
	if (!n) {
		p->oom = true;
		return;
	}
	p->pp = n;
	mg_strlcpy(p->pp[p->npp].host, host, sizeof(p->pp[0].host));
	p->pp[p->npp++].ppid = ppid;
}

static bool has_ppid(const struct pm *p, const char *host, long long pid)
{
	for (size_t i = 0; i < p->npp; i++)
		if (p->pp[i].ppid == pid && !strcmp(p->pp[i].host, host))
			return true;
	return false;
}

static void keep(struct pm *p, const struct mg_jrec *r, json_object *o)
{
	if (p->n == p->cap) {
		struct prec *nv = realloc(p->v, (p->cap = p->cap ? p->cap * 2 : 256) * sizeof(*nv));
		if (!nv) {
			p->oom = true;
			json_object_put(o);
			return;
		}
		p->v = nv;
	}
	p->v[p->n++] = (struct prec){ r->h.ts_ns, r->h.seq, r->h.type, r->h.verdict, o,
				      (uint64_t)mg_jint(o, "boot_ns"), 0 };
}

static void note_names(struct pm *p, json_object *o)
{
	json_object *a;

	add_name(p, mg_jstr(o, "ifname"));
	if (json_object_object_get_ex(o, "targets", &a) && json_object_is_type(a, json_type_array))
		for (size_t i = 0; i < json_object_array_length(a); i++)
			add_name(p, json_object_get_string(json_object_array_get_idx(a, i)));
	if (!strcmp(mg_jstr(o, "type"), "hook"))
		add_ppid(p, mg_jstr(o, "host"), mg_jint(o, "hook_ppid"));
}


/* An agent start record: how its host's guard ran from then on (the latest one kept). */
static void note_guard(struct pm *p, const struct mg_jrec *r)
{
	struct pm_guard *g;
	json_object *o;

	if (r->h.type != MG_JT_AGENT || (p->until && r->h.ts_ns > p->until) ||
	    !memmem(r->payload, r->h.len, "\"start\"", 7) || !(o = mg_rec_parse(r)))
		return;
	if (strcmp(mg_jstr(o, "event"), "start")) {
		json_object_put(o);
		return;
	}
	g = (struct pm_guard *)mg_pm_guard_of(p, mg_jstr(o, "host"));
	if (!g) {
		struct pm_guard *n = realloc(p->guards, (p->nguards + 1) * sizeof(*n));
		if (!n) {
			p->oom = true;
			json_object_put(o);
			return;
		}
		p->guards = n;
		g = &p->guards[p->nguards++];
		memset(g, 0, sizeof(*g));
		mg_strlcpy(g->host, mg_jstr(o, "host"), sizeof(g->host));
	}
	if (r->h.ts_ns >= g->ts) {
		g->ts = r->h.ts_ns;
		mg_strlcpy(g->guard, mg_jstr(o, "guard"), sizeof(g->guard));
		mg_strlcpy(g->mode, mg_jstr(o, "mode"), sizeof(g->mode));
	}
	json_object_put(o);
}

static bool in_range(const struct pm *p, uint64_t ts)
{
	return (!p->since || ts >= p->since) && (!p->until || ts <= p->until);
}

static bool prefilter(const struct pm *p, const struct mg_jrec *r)
{
	if (memmem(r->payload, r->h.len, p->domain, strlen(p->domain)))
		return true;
	return p->domain_lc[0] && memmem(r->payload, r->h.len, p->domain_lc, strlen(p->domain_lc));
}

/* pass 1 (with --domain): the records that name the domain; they set the window */
static int pass1(void *ctx, const struct mg_jrec *r)
{
	struct pm *p = ctx;
	json_object *o;

	p->scanned++;
	if (!in_range(p, r->h.ts_ns))
		return 0;
	switch (r->h.type) {
	case MG_JT_HOOK: case MG_JT_TAG: case MG_JT_UNTAG: case MG_JT_RELEASE: case MG_JT_VERDICT:
		break;
	default:
		return 0;
	}
	if (!prefilter(p, r) || !(o = mg_rec_parse(r)))
		return 0;
	if (!mg_rec_mentions_domain(o, p->domain)) {
		json_object_put(o);
		return 0;
	}
	if (!p->any || r->h.ts_ns < p->wmin)
		p->wmin = r->h.ts_ns;
	if (!p->any || r->h.ts_ns > p->wmax)
		p->wmax = r->h.ts_ns;
	p->any = true;
	note_names(p, o);
	json_object_put(o);
	return p->oom ? -1 : 0;
}

/* pass 2 (with --domain): everything in the window that concerns the domain, the links
 * it named, or requests from its hooks' caller; plus agent/lost/mode context */
static int pass2(void *ctx, const struct mg_jrec *r)
{
	struct pm *p = ctx;
	uint64_t lo = p->wmin > PM_BEFORE_NS ? p->wmin - PM_BEFORE_NS : 0;
	json_object *o;
	bool k;

	if (r->h.ts_ns <= p->wmax + PM_AFTER_NS)
		note_guard(p, r);
	if (!in_range(p, r->h.ts_ns) || r->h.ts_ns < lo || r->h.ts_ns > p->wmax + PM_AFTER_NS)
		return 0;
	if (!(o = mg_rec_parse(r)))
		return 0;
	k = mg_rec_mentions_domain(o, p->domain);
	if (!k) {
		switch (r->h.type) {
		case MG_JT_AGENT: case MG_JT_LOST: case MG_JT_MODE:
			k = true;
			break;
		case MG_JT_VERDICT:
			k = has_name(p, mg_jstr(o, "ifname")) ||
			    has_ppid(p, mg_jstr(o, "host"), mg_jint(o, "pid")) ||
			    has_ppid(p, mg_jstr(o, "host"), mg_jint(o, "ppid"));
			break;
		case MG_JT_TAG: case MG_JT_UNTAG: case MG_JT_RELEASE: case MG_JT_LINK:
			k = has_name(p, mg_jstr(o, "ifname"));
			break;
		}
	}
	if (k)
		keep(p, r, o);
	else
		json_object_put(o);
	return p->oom ? -1 : 0;
}

/* without --domain: everything in [since, until] */
static int pass_all(void *ctx, const struct mg_jrec *r)
{
	struct pm *p = ctx;
	json_object *o;

	p->scanned++;
	note_guard(p, r);
	if (!in_range(p, r->h.ts_ns) || !(o = mg_rec_parse(r)))
		return 0;
	keep(p, r, o);
	return p->oom ? -1 : 0;
}

/* Order: within one boot of one host the boot clock decides (a wall-clock step must not
 * reorder a host's own records); across hosts and boots the wall clock. Each record's
 * wall time is raised to the largest one before it in its boot's order, which keeps the
 * two orders consistent, then everything is sorted by that time. */

static int boot_order_cmp(const void *a, const void *b)
{
	const struct prec *x = a, *y = b;
	int c = mg_pm_host_boot_cmp(x->o, y->o);
	uint64_t kx = x->boot ? x->boot : x->ts, ky = y->boot ? y->boot : y->ts;

	if (c)
		return c;
	if (kx != ky)
		return kx < ky ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int prec_cmp(const void *a, const void *b)
{
	const struct prec *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->gpos < y->gpos ? -1 : x->gpos > y->gpos;
}

static void order_records(struct pm *p)
{
	if (!p->n)
		return;
	qsort(p->v, p->n, sizeof(*p->v), boot_order_cmp);
	for (size_t i = 0; i < p->n; i++) {
		p->v[i].gpos = i;
		if (i && !mg_pm_host_boot_cmp(p->v[i - 1].o, p->v[i].o) && p->v[i].ts < p->v[i - 1].ts)
			p->v[i].ts = p->v[i - 1].ts;
	}
	qsort(p->v, p->n, sizeof(*p->v), prec_cmp);
}

/* ---- the story ------------------------------------------------------------------- */

static int severity(unsigned verdict)
{
	switch (verdict) {
	case MG_V_DENY: return 4;
	case MG_V_AUDIT: return 3;
	case MG_V_GONE: return 2;
	case MG_V_ALLOW: return 1;
	default: return 0;
	}
}

static const char *verb(const char *action, bool tried)
{
	if (!strcmp(action, "rename"))
		return tried ? "tried to rename" : "renamed";
	if (!strcmp(action, "move"))
		return tried ? "tried to move to another netns" : "moved to another netns";
	return tried ? "tried to delete" : "deleted";
}

/* The kernel could tell who sent the request (records before requester_known: a pid). */
static bool requester_known(json_object *o)
{
	json_object *k;

	if (json_object_object_get_ex(o, "requester_known", &k) && k)
		return json_object_get_boolean(k);
	return mg_jint(o, "pid") > 0;
}

/* One or two sentences; each starts with a word of ours ("Teardown", "Process", "Link",
 * "An"), never with a name from a journal, so nothing is capitalised that is not ours. */
static void describe(const struct incident *in, char *out, size_t size)
{
	json_object *o = in->v->o;
	const char *verdict = mg_jstr(o, "verdict"), *reason = mg_jstr(o, "reason");
	const char *owner = mg_jstr(o, "owner_domain"), *how = mg_jstr(o, "how");
	char actor[300], ownerd[300], outcome[160], more[600] = "", who[200];
	bool running = !strcmp(reason, "in-use") || !strcmp(mg_jstr(o, "queues"), "held");
	bool known = requester_known(o);

	if (known)
		snprintf(who, sizeof(who), "%s (pid %lld, parent %lld)", mg_jstr(o, "comm"),
			 mg_jint(o, "pid"), mg_jint(o, "ppid"));
	else
		snprintf(who, sizeof(who), "an unknown process");
	if (in->teardown)
		snprintf(actor, sizeof(actor), "Teardown of %sdomain %s on host %s",
			 in->migrate ? "incoming " : "", in->teardown, mg_jstr(o, "host"));
	else if (known)
		snprintf(actor, sizeof(actor), "Process %s (pid %lld) on host %s", mg_jstr(o, "comm"),
			 mg_jint(o, "pid"), mg_jstr(o, "host"));
	else
		snprintf(actor, sizeof(actor), "An unknown process on host %s", mg_jstr(o, "host"));
	if (*owner)
		snprintf(ownerd, sizeof(ownerd), ", owned by %sdomain %s (pid %lld)",
			 running ? "running " : "", owner, mg_jint(o, "owner_pid"));
	else
		ownerd[0] = 0;
	if (!strcmp(verdict, "deny"))
		snprintf(outcome, sizeof(outcome), "refused");
	else if (!strcmp(verdict, "audit") && *mg_jstr(o, "not_enforcing"))
		snprintf(outcome, sizeof(outcome), "flagged: the guard was not enforcing on this host "
			 "(enforce would have refused it)");
	else if (!strcmp(verdict, "audit"))
		snprintf(outcome, sizeof(outcome), "allowed in audit mode (enforce would have refused it)");
	else if (!strcmp(verdict, "gone"))
		snprintf(outcome, sizeof(outcome), "the device is gone");
	else
		snprintf(outcome, sizeof(outcome), "allowed (%s)", *reason ? reason : "not guarded");
	if (in->teardown) {
		snprintf(more, sizeof(more), " The request came from %s, attributed because %s", who,
			 in->attribution);
		if (in->migrate) {
			size_t l = strlen(more);
			snprintf(more + l, sizeof(more) - l, "; %s's %s XML %s %s%s", in->teardown,
				 mg_jstr(in->migrate->o, "op"),
				 in->carried ? "carried" : "did not carry", mg_jstr(o, "ifname"),
				 in->carried ? (in->stripped ? " and the hook stripped it"
							     : " and the hook did not strip it") : "");
		}
		strncat(more, ".", sizeof(more) - strlen(more) - 1);
	}
	if (!strcmp(verdict, "gone"))
		snprintf(out, size, "Link %s%s%s went away on host %s%s%s%s.%s", mg_jstr(o, "ifname"),
			 *owner ? " of domain " : "", owner, mg_jstr(o, "host"),
			 *how ? " (" : "", how, *how ? ")" : "", more);
	else
		snprintf(out, size, "%s %s %s%s; %s.%s", actor,
			 verb(mg_jstr(o, "action"), !strcmp(verdict, "deny")), mg_jstr(o, "ifname"),
			 ownerd, outcome, more);
}

static json_object *str_or_null(json_object *o, const char *key)
{
	const char *v = mg_jstr(o, key);
	return *v ? json_object_new_string(v) : NULL;
}

static json_object *int_or_null(json_object *o, const char *key)
{
	long long v = mg_jint(o, key);
	return v ? json_object_new_int64(v) : NULL;
}

static json_object *incident_json(const struct incident *in, const char *text)
{
	json_object *o = json_object_new_object(), *v = in->v->o, *x;

	json_object_object_add(o, "summary", json_object_new_string(text));
	json_object_object_add(o, "host", json_object_new_string(mg_jstr(v, "host")));
	json_object_object_add(o, "time", json_object_new_string(mg_jstr(v, "time")));
	json_object_object_add(o, "seq", json_object_new_uint64(in->v->seq));
	json_object_object_add(o, "verdict", json_object_new_string(mg_jstr(v, "verdict")));
	json_object_object_add(o, "action", str_or_null(v, "action"));
	json_object_object_add(o, "reason", str_or_null(v, "reason"));
	x = json_object_new_object();
	json_object_object_add(x, "ifname", str_or_null(v, "ifname"));
	json_object_object_add(x, "ifindex", int_or_null(v, "ifindex"));
	json_object_object_add(x, "owner_domain", str_or_null(v, "owner_domain"));
	json_object_object_add(x, "owner_uuid", str_or_null(v, "owner_uuid"));
	json_object_object_add(x, "owner_pid", int_or_null(v, "owner_pid"));
	json_object_object_add(o, "victim", x);
	/* an unknown requester is null, as in the verdict record */
	x = NULL;
	if (requester_known(v)) {
		x = json_object_new_object();
		json_object_object_add(x, "comm", str_or_null(v, "comm"));
		json_object_object_add(x, "pid", int_or_null(v, "pid"));
		json_object_object_add(x, "tid", int_or_null(v, "tid"));
		json_object_object_add(x, "ppid", int_or_null(v, "ppid"));
	}
	json_object_object_add(o, "requester", x);
	json_object_object_add(o, "teardown_domain",
			       in->teardown ? json_object_new_string(in->teardown) : NULL);
	json_object_object_add(o, "attribution",
			       in->attribution ? json_object_new_string(in->attribution) : NULL);
	json_object_object_add(o, "incoming", json_object_new_boolean(in->migrate != NULL));
	json_object_object_add(o, "xml_carried", json_object_new_boolean(in->carried));
	json_object_object_add(o, "xml_stripped", json_object_new_boolean(in->stripped));
	return o;
}

const char mg_help_postmortem[] =
	"usage: macvguard [-j] postmortem [--domain NAME|UUID] [--since T] [--until T] [--html FILE]\n"
	"                                 [--journal-dir DIR]... [--journald] [--wide] [JOURNAL...]\n"
	"\n"
	"Merges the journals of several hosts (e.g. a migration's source and destination) into\n"
	"one timeline and says in a sentence or two what happened: which link went away or was\n"
	"refused, whose it was, who asked (and for which domain's teardown), the verdict.\n"
	"JOURNAL: macvguard journal directories or segment files, one or more per host (default\n"
	"$MACVGUARD_JOURNAL_DIR, else /var/lib/macvguard/journal, unless --journal-dir or\n"
	"--journald name the sources). -j: one JSON object (docs/json.md).\n"
	"\n"
	"  -d, --domain D        the incident of domain D (name or uuid) and what surrounds it\n"
	"  -s, --since T         from T (as journal --since)\n"
	"  -u, --until T         up to T\n"
	"  -H, --html FILE       also write a self-contained page: a lane per host, a legend,\n"
	"                        the timeline table\n"
	"  -D, --journal-dir DIR read the records macvguard copied to a systemd journal\n"
	"                        directory (as journalctl -D), e.g. where systemd-journal-remote\n"
	"                        collects many hosts; repeatable\n"
	"  -J, --journald        read them from this host's systemd journal\n"
	"  -w, --wide            lines not cut at 120 columns on a terminal\n"
	"  -j, --json            JSON (as the global -j)\n";

int mg_cmd_postmortem(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' }, { "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },  { "html", required_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },         { "wide", no_argument, NULL, 'w' },
		{ "journal-dir", required_argument, NULL, 'D' },
		{ "journald", no_argument, NULL, 'J' },
		{ NULL, 0, NULL, 0 }
	};
	struct mg_sources sd = { 0 };
	struct pm p = { 0 };
	struct mg_sources src;
	const char *html = NULL;
	bool json = mg_json;
	struct incident *inc = NULL;
	size_t ninc = 0, best = 0, nh = 0;
	char **hosts = NULL, summary[2400], (*texts)[1200] = NULL;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:s:u:H:jwD:J", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg || strlen(optarg) >= sizeof(p.domain_lc)) {
				mg_sources_free(&sd);
				return mg_usage_err("--domain: 1..%zu bytes", sizeof(p.domain_lc) - 1);
			}
			p.domain = optarg;
			for (size_t i = 0; optarg[i]; i++)
				p.domain_lc[i] = (char)tolower((unsigned char)optarg[i]);
			if (!strcmp(p.domain_lc, optarg))
				p.domain_lc[0] = 0;
			break;
		case 's':
			if (mg_parse_time(optarg, &p.since)) {
				mg_sources_free(&sd);
				return mg_usage_err("--since: not a time: %s", optarg);
			}
			break;
		case 'u':
			if (mg_parse_time(optarg, &p.until)) {
				mg_sources_free(&sd);
				return mg_usage_err("--until: not a time: %s", optarg);
			}
			break;
		case 'H': html = optarg; break;
		case 'j': json = mg_json = true; break;
		case 'w': mg_wide = true; break;
		case 'D':
		case 'J':
			if (mg_sources_add_sd(&sd, c == 'D' ? optarg : NULL))
				return 1;
			break;
		default:
			mg_sources_free(&sd);
			return mg_bad_option(argc, argv, "d:s:u:H:jwD:J");
		}
	}
	/* segment files: those named, or the local journal when no source was named at all */
	if (sd.nsd && optind == argc)
		memset(&src, 0, sizeof(src));
	else if (mg_sources_expand(&src, argc - optind, argv + optind)) {
		mg_sources_free(&sd);
		return 1;
	}
	src.sd = sd.sd;
	src.nsd = sd.nsd;
	if (p.domain) {
		rc = mg_sources_scan(&src, pass1, &p, NULL);
		if (rc == 0 && p.any) {
			p.pass = 2;
			rc = mg_sources_scan(&src, pass2, &p, NULL);
		}
	} else {
		rc = mg_sources_scan(&src, pass_all, &p, NULL);
	}
	mg_sources_free(&src);
	if (p.oom) {
		mg_err("out of memory");
		rc = 1;
		goto out;
	}
	if (rc) {
		rc = 1;
		goto out;
	}
	order_records(&p);

	/* hosts in order of first appearance */
	for (size_t i = 0; i < p.n; i++) {
		const char *h = mg_jstr(p.v[i].o, "host");
		size_t k;
		for (k = 0; k < nh && strcmp(hosts[k], h); k++)
			;
		if (k == nh) {
			char **nhp = realloc(hosts, (nh + 1) * sizeof(char *));
			if (!nhp) {
				rc = 1;
				goto out;
			}
			hosts = nhp;
			hosts[nh++] = (char *)h;
		}
	}
	/* incidents: every verdict, attributed */
	if (mg_pm_attribute(&p, &inc, &ninc)) {
		mg_err("out of memory");
		rc = 1;
		goto out;
	}
	texts = calloc(ninc ? ninc : 1, sizeof(*texts));
	if (!texts) {
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < ninc; i++) {
		int s = severity(inc[i].v->verdict) * 2 +
			(p.domain && inc[i].teardown && !strcasecmp(inc[i].teardown, p.domain));
		int sb = severity(inc[best].v->verdict) * 2 +
			 (p.domain && inc[best].teardown && !strcasecmp(inc[best].teardown, p.domain));
		describe(&inc[i], texts[i], sizeof(texts[i]));
		if (s > sb)
			best = i;
	}
	if (ninc) {
		snprintf(summary, sizeof(summary), "%s", texts[best]);
		if (ninc > 1) {
			size_t l = strlen(summary);
			snprintf(summary + l, sizeof(summary) - l, " (%zu guard verdicts in this timeline.)",
				 ninc);
		}
	} else if (p.n) {
		size_t l = (size_t)snprintf(summary, sizeof(summary), "%s%s%s%zu records on host(s) ",
					    p.domain ? "Domain " : "", p.domain ? p.domain : "",
					    p.domain ? ": " : "", p.n);
		for (size_t h = 0; h < nh && l < sizeof(summary); h++)
			l += (size_t)snprintf(summary + l, sizeof(summary) - l, "%s%s", h ? ", " : "",
					      hosts[h]);
		if (l < sizeof(summary))
			snprintf(summary + l, sizeof(summary) - l, "; no guard verdict was recorded.");
	} else {
		snprintf(summary, sizeof(summary), "No records%s%s in the journal(s)%s.",
			 p.domain ? " of domain " : "", p.domain ? p.domain : "",
			 p.since || p.until ? " in that time range" : "");
	}

	if (html && mg_pm_write_html(html, &p, hosts, nh, summary))
		rc = 1;
	if (json) {
		json_object *o = json_object_new_object(), *a = json_object_new_array(), *t;
		json_object_object_add(o, "summary", json_object_new_string(summary));
		json_object_object_add(o, "domain", p.domain ? json_object_new_string(p.domain) : NULL);
		t = json_object_new_array();
		for (size_t h = 0; h < nh; h++)
			json_object_array_add(t, json_object_new_string(hosts[h]));
		json_object_object_add(o, "hosts", t);
		t = json_object_new_array();
		for (size_t h = 0; h < nh; h++) {
			const struct pm_guard *g = mg_pm_guard_of(&p, hosts[h]);
			json_object *x = json_object_new_object();
			json_object_object_add(x, "host", json_object_new_string(hosts[h]));
			json_object_object_add(x, "guard", g && g->guard[0] ? json_object_new_string(g->guard) : NULL);
			json_object_object_add(x, "mode", g && g->mode[0] ? json_object_new_string(g->mode) : NULL);
			json_object_array_add(t, x);
		}
		json_object_object_add(o, "guard", t);
		for (size_t i = 0; i < ninc; i++)
			json_object_array_add(a, incident_json(&inc[i], texts[i]));
		json_object_object_add(o, "incidents", a);
		t = json_object_new_array();
		for (size_t i = 0; i < p.n; i++)
			json_object_array_add(t, json_object_get(p.v[i].o));
		json_object_object_add(o, "timeline", t);
		mg_json_print(o);
	} else {
		char t0[64] = "-", t1[64] = "-";
		if (p.n) {
			mg_format_time(p.v[0].ts, t0, sizeof(t0));
			mg_format_time(p.v[p.n - 1].ts, t1, sizeof(t1));
		}
		char line[3000], note[600];

		/* names in the journals are strangers' text: every line goes out escaped */
		snprintf(line, sizeof(line), "postmortem%s%s: %zu records, %zu host(s), %s .. %s",
			 p.domain ? " of domain " : "", p.domain ? p.domain : "", p.n, nh, t0, t1);
		mg_print_line(stdout, line);
		putchar('\n');
		/* prose: wrapped at 120 columns, one paragraph */
		mg_print_wrapped(stdout, summary, "");
		mg_pm_guard_note(&p, hosts, nh, note, sizeof(note));
		if (note[0])
			mg_print_wrapped(stdout, note, "");
		putchar('\n');
		for (size_t i = 0; i < ninc; i++)
			if (ninc > 1) {
				snprintf(line, sizeof(line), "- [%s #%llu] %s",
					 mg_jstr(inc[i].v->o, "host"),
					 (unsigned long long)inc[i].v->seq, texts[i]);
				mg_print_wrapped(stdout, line, "  ");
			}
		if (ninc > 1)
			putchar('\n');
		printf("%-27s %-12s %6s %s\n", "TIME", "HOST", "SEQ", "EVENT");
		for (size_t i = 0; i < p.n; i++)
			mg_rec_print_text(stdout, p.v[i].o, p.v[i].seq);
	}
	if (html && !rc && !json)
		mg_info("wrote %s", html);
	if (mg_stdout_status())
		rc = 1;
out:
	for (size_t i = 0; i < p.n; i++)
		json_object_put(p.v[i].o);
	free(p.v);
	for (size_t i = 0; i < p.nnames; i++)
		free(p.names[i]);
	free(p.names);
	free(p.pp);
	free(p.guards);
	free(inc);
	free(texts);
	free(hosts);
	return rc;
}
