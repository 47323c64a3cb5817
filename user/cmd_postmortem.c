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
#define PM_TEARDOWN_NS (60ull * 1000000000ull) /* stopped without release: window length */

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
	if (!in_range(p, r->h.ts_ns) || !(o = mg_rec_parse(r)))
		return 0;
	keep(p, r, o);
	return p->oom ? -1 : 0;
}

/* Order: within one boot of one host the boot clock decides (a wall-clock step must not
 * reorder a host's own records); across hosts and boots the wall clock. Each record's
 * wall time is raised to the largest one before it in its boot's order, which keeps the
 * two orders consistent, then everything is sorted by that time. */
static int host_boot_cmp(json_object *a, json_object *b)
{
	int c = strcmp(mg_jstr(a, "host"), mg_jstr(b, "host"));
	return c ? c : strcmp(mg_jstr(a, "boot_id"), mg_jstr(b, "boot_id"));
}

static int boot_order_cmp(const void *a, const void *b)
{
	const struct prec *x = a, *y = b;
	int c = host_boot_cmp(x->o, y->o);
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
		if (i && !host_boot_cmp(p->v[i - 1].o, p->v[i].o) && p->v[i].ts < p->v[i - 1].ts)
			p->v[i].ts = p->v[i - 1].ts;
	}
	qsort(p->v, p->n, sizeof(*p->v), prec_cmp);
}

/* ---- the story ------------------------------------------------------------------- */

struct incident {
	struct prec *v;
	const char *teardown;      /* domain whose teardown made the request, or NULL */
	const char *attribution;   /* how we know */
	struct prec *migrate;      /* that domain's migrate hook on the same host, if any */
	bool carried, stripped;    /* the migrate XML carried / the hook stripped the name */
};

/* ---- attribution: one sweep over the timeline, n log n --------------------------------
 * A verdict is attributed to the teardown of domain X when a "stopped" hook of X ran on
 * the same host (and boot) at or before it and X's teardown window (until its "release",
 * or PM_TEARDOWN_NS without one) still covers it: strongly when the hook's parent
 * (libvirtd) is the requester or its parent (the earliest such window wins), weakly when
 * all the windows open on that host belong to one domain. Windows are opened and expired
 * in time order; per (host, requester pid) a queue gives the earliest open window and per
 * host a count of open windows per domain gives "only one domain" in O(1). */
enum { OP_NONE, OP_STOPPED, OP_RELEASE, OP_MIGRATE };

struct window {
	size_t rec;              /* the "stopped" record (index in p->v) */
	uint64_t start, end;
	int hb, dom, pair;
	long long ppid;          /* the hook's parent, libvirtd */
	bool opened;
};

struct sweep {
	struct pm *p;
	int *hb, *dom, *op;      /* per record: host+boot id, domain id (-1), OP_* */
	const char **domains;    /* domain id -> name (sorted) */
	size_t ndomains;
	struct { int hb, dom; } *pairs;   /* (host+boot, domain) ids, sorted */
	size_t npairs, nhb;
	struct window *w;        /* by start (record order) */
	size_t nw;
	size_t *by_end;          /* window indices by end */
	size_t *by_key, nkeys;   /* window indices by (hb, ppid, start) */
	size_t *head;            /* per window in by_key: the queue head of its key group */
	int *open_per_pair;      /* open windows of each (host+boot, domain) */
	int *distinct;           /* per host+boot: domains with an open window */
	long long *dom_sum;      /* per host+boot: sum of those domains' ids */
	long *last_migrate;      /* per pair: last migrate/restore record so far, -1 */
	size_t next_add, next_open, next_expire;
};

static const char *op_of(const struct prec *r)
{
	return r->type == MG_JT_HOOK ? mg_jstr(r->o, "op") : "";
}

static struct pm *sort_pm;   /* qsort has no context argument */

static int idx_hb_cmp(const void *a, const void *b)
{
	const size_t *x = a, *y = b;
	int c = host_boot_cmp(sort_pm->v[*x].o, sort_pm->v[*y].o);
	return c ? c : (*x > *y) - (*x < *y);
}

static int idx_dom_cmp(const void *a, const void *b)
{
	const size_t *x = a, *y = b;
	int c = strcmp(mg_jstr(sort_pm->v[*x].o, "domain"), mg_jstr(sort_pm->v[*y].o, "domain"));
	return c ? c : (*x > *y) - (*x < *y);
}

static int pair_cmp(const void *a, const void *b)
{
	const int *x = a, *y = b;
	return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

static struct sweep *sort_sweep;

static int win_end_cmp(const void *a, const void *b)
{
	const struct window *x = &sort_sweep->w[*(const size_t *)a],
			    *y = &sort_sweep->w[*(const size_t *)b];
	return x->end != y->end ? (x->end > y->end) - (x->end < y->end)
				: (x->rec > y->rec) - (x->rec < y->rec);
}

static int win_key_cmp(const void *a, const void *b)
{
	const struct window *x = &sort_sweep->w[*(const size_t *)a],
			    *y = &sort_sweep->w[*(const size_t *)b];
	if (x->hb != y->hb)
		return (x->hb > y->hb) - (x->hb < y->hb);
	if (x->ppid != y->ppid)
		return (x->ppid > y->ppid) - (x->ppid < y->ppid);
	return (x->rec > y->rec) - (x->rec < y->rec);
}

static int find_pair(const struct sweep *s, int hb, int dom)
{
	size_t lo = 0, hi = s->npairs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = pair_cmp(&s->pairs[mid], (int[]){ hb, dom });
		if (!c)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int find_domain(const struct sweep *s, const char *name)
{
	size_t lo = 0, hi = s->ndomains;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->domains[mid], name);
		if (!c)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void sweep_free(struct sweep *s)
{
	free(s->hb); free(s->dom); free(s->op); free(s->domains); free(s->pairs); free(s->w);
	free(s->by_end); free(s->by_key); free(s->head); free(s->open_per_pair);
	free(s->distinct); free(s->dom_sum); free(s->last_migrate);
	free(s);
}

static struct sweep *sweep_new(struct pm *p)
{
	struct sweep *s = calloc(1, sizeof(*s));
	size_t n = p->n, *idx = NULL, nhook = 0;
	long *next_release = NULL;

	if (!s)
		return NULL;
	s->p = p;
	s->hb = calloc(n + 1, sizeof(int));
	s->dom = calloc(n + 1, sizeof(int));
	s->op = calloc(n + 1, sizeof(int));
	idx = calloc(n + 1, sizeof(size_t));
	s->domains = calloc(n + 1, sizeof(char *));
	s->pairs = calloc(n + 1, sizeof(*s->pairs));
	s->w = calloc(n + 1, sizeof(*s->w));
	next_release = calloc(n + 1, sizeof(long));
	if (!s->hb || !s->dom || !s->op || !idx || !s->domains || !s->pairs || !s->w ||
	    !next_release)
		goto fail;
	sort_pm = p;
	/* host+boot ids */
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort(idx, n, sizeof(*idx), idx_hb_cmp);
	for (size_t k = 0; k < n; k++) {
		if (k && host_boot_cmp(p->v[idx[k - 1]].o, p->v[idx[k]].o))
			s->nhb++;
		s->hb[idx[k]] = (int)s->nhb;
	}
	s->nhb++;
	/* hook records: op and domain ids */
	for (size_t i = 0; i < n; i++) {
		const char *op = op_of(&p->v[i]);
		s->dom[i] = -1;
		s->op[i] = !strcmp(op, "stopped") ? OP_STOPPED : !strcmp(op, "release") ? OP_RELEASE :
			   (!strcmp(op, "migrate") || !strcmp(op, "restore")) ? OP_MIGRATE : OP_NONE;
		if (s->op[i] != OP_NONE)
			idx[nhook++] = i;
	}
	qsort(idx, nhook, sizeof(*idx), idx_dom_cmp);
	for (size_t k = 0; k < nhook; k++) {
		const char *d = mg_jstr(p->v[idx[k]].o, "domain");
		if (!s->ndomains || strcmp(s->domains[s->ndomains - 1], d))
			s->domains[s->ndomains++] = d;
		s->dom[idx[k]] = (int)s->ndomains - 1;
		s->pairs[k].hb = s->hb[idx[k]];
		s->pairs[k].dom = s->dom[idx[k]];
	}
	qsort(s->pairs, nhook, sizeof(*s->pairs), pair_cmp);
	for (size_t k = 0; k < nhook; k++)
		if (!s->npairs || pair_cmp(&s->pairs[s->npairs - 1], &s->pairs[k]))
			s->pairs[s->npairs++] = s->pairs[k];
	/* each "stopped" window ends at its domain's next "release" on that host and boot */
	s->last_migrate = malloc((s->npairs + 1) * sizeof(long));
	s->open_per_pair = calloc(s->npairs + 1, sizeof(int));
	s->distinct = calloc(s->nhb + 1, sizeof(int));
	s->dom_sum = calloc(s->nhb + 1, sizeof(long long));
	if (!s->last_migrate || !s->open_per_pair || !s->distinct || !s->dom_sum)
		goto fail;
	for (size_t k = 0; k < s->npairs; k++)
		s->last_migrate[k] = -1;   /* used as "next release" first */
	for (size_t i = n; i-- > 0;) {
		int pr;
		if (s->op[i] != OP_STOPPED && s->op[i] != OP_RELEASE)
			continue;
		pr = find_pair(s, s->hb[i], s->dom[i]);
		if (s->op[i] == OP_STOPPED)
			next_release[i] = s->last_migrate[pr];
		else
			s->last_migrate[pr] = (long)i;
	}
	for (size_t i = 0; i < n; i++) {
		struct window *w;
		if (s->op[i] != OP_STOPPED)
			continue;
		w = &s->w[s->nw++];
		w->rec = i;
		w->start = p->v[i].ts;
		w->end = next_release[i] >= 0 ? p->v[next_release[i]].ts : p->v[i].ts + PM_TEARDOWN_NS;
		w->hb = s->hb[i];
		w->dom = s->dom[i];
		w->pair = find_pair(s, w->hb, w->dom);
		w->ppid = mg_jint(p->v[i].o, "hook_ppid");
	}
	for (size_t k = 0; k < s->npairs; k++)
		s->last_migrate[k] = -1;
	s->by_end = malloc((s->nw + 1) * sizeof(size_t));
	s->by_key = malloc((s->nw + 1) * sizeof(size_t));
	s->head = malloc((s->nw + 1) * sizeof(size_t));
	if (!s->by_end || !s->by_key || !s->head)
		goto fail;
	for (size_t k = 0; k < s->nw; k++)
		s->by_end[k] = s->by_key[k] = k;
	sort_sweep = s;
	qsort(s->by_end, s->nw, sizeof(size_t), win_end_cmp);
	/* only windows whose hook parent can be a requester take part in strong matches */
	for (size_t k = 0; k < s->nw; k++)
		if (s->w[k].ppid > 1)
			s->by_key[s->nkeys++] = k;
	qsort(s->by_key, s->nkeys, sizeof(size_t), win_key_cmp);
	for (size_t k = 0; k < s->nkeys; k++) {
		const struct window *a = k ? &s->w[s->by_key[k - 1]] : NULL, *b = &s->w[s->by_key[k]];
		s->head[k] = a && a->hb == b->hb && a->ppid == b->ppid ? s->head[k - 1] : k;
	}
	free(idx);
	free(next_release);
	return s;
fail:
	free(idx);
	free(next_release);
	sweep_free(s);
	return NULL;
}

/* The earliest open window of host+boot hb whose hook parent is pid; NULL when none. */
static const struct window *strong_window(struct sweep *s, int hb, long long pid, uint64_t t)
{
	size_t lo = 0, hi = s->nkeys, h;

	if (pid <= 1)
		return NULL;
	while (lo < hi) {   /* first window of the key (hb, pid) */
		size_t mid = (lo + hi) / 2;
		const struct window *w = &s->w[s->by_key[mid]];
		if (w->hb < hb || (w->hb == hb && w->ppid < pid))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == s->nkeys || s->w[s->by_key[lo]].hb != hb || s->w[s->by_key[lo]].ppid != pid)
		return NULL;
	/* the group's queue: expired windows leave it for good (t only grows) */
	for (h = s->head[lo]; h < s->nkeys; h++) {
		const struct window *w = &s->w[s->by_key[h]];
		if (w->hb != hb || w->ppid != pid || w->start > t) {
			s->head[lo] = h;
			return NULL;
		}
		if (w->end >= t) {
			s->head[lo] = h;
			return w;
		}
	}
	s->head[lo] = h;
	return NULL;
}

/* Bring the sweep to time t: records at or before t are in (migrate hooks noted,
 * "stopped" windows that still cover t opened), windows that ended before t expire. */
static void sweep_to(struct sweep *s, uint64_t t)
{
	struct pm *p = s->p;

	while (s->next_add < p->n && p->v[s->next_add].ts <= t) {
		size_t i = s->next_add++;
		if (s->op[i] == OP_MIGRATE)
			s->last_migrate[find_pair(s, s->hb[i], s->dom[i])] = (long)i;
	}
	for (; s->next_open < s->nw && s->w[s->next_open].rec < s->next_add; s->next_open++) {
		struct window *w = &s->w[s->next_open];
		if (w->end < t || w->pair < 0)
			continue;   /* over before anything asked: never counts */
		w->opened = true;
		if (s->open_per_pair[w->pair]++ == 0) {
			s->distinct[w->hb]++;
			s->dom_sum[w->hb] += w->dom;
		}
	}
	while (s->next_expire < s->nw && s->w[s->by_end[s->next_expire]].end < t) {
		struct window *w = &s->w[s->by_end[s->next_expire++]];
		if (!w->opened)
			continue;
		w->opened = false;
		if (--s->open_per_pair[w->pair] == 0) {
			s->distinct[w->hb]--;
			s->dom_sum[w->hb] -= w->dom;
		}
	}
}

static void attribute(struct sweep *s, struct incident *in, size_t vi)
{
	struct pm *p = s->p;
	struct prec *v = in->v;
	const char *k = mg_jstr(v->o, "teardown_domain");
	int hb = s->hb[vi];

	if (*k) {
		in->teardown = k;
		in->attribution = "the verdict carries it (kernel-side attribution)";
	} else {
		long long pid = mg_jint(v->o, "pid"), ppid = mg_jint(v->o, "ppid");
		const struct window *a = strong_window(s, hb, pid, v->ts);
		const struct window *b = strong_window(s, hb, ppid, v->ts);
		const struct window *w = a && (!b || a->rec <= b->rec) ? a : b;

		if (w) {
			in->teardown = mg_jstr(p->v[w->rec].o, "domain");
			in->attribution = w->ppid == pid
				? "the requester is the process that ran the domain's hooks (libvirtd)"
				: "the requester's parent ran the domain's hooks";
		} else if (s->distinct[hb] == 1) {
			in->teardown = s->domains[s->dom_sum[hb]];
			in->attribution = "it is the only teardown (stopped..release) in progress on that host";
		}
	}
	if (!in->teardown)
		return;
	{
		int d = find_domain(s, in->teardown), pr = d >= 0 ? find_pair(s, hb, d) : -1;
		if (pr >= 0 && s->last_migrate[pr] >= 0)
			in->migrate = &p->v[s->last_migrate[pr]];
	}
	if (in->migrate) {
		in->carried = mg_rec_array_has(in->migrate->o, "targets", mg_jstr(v->o, "ifname"));
		in->stripped = mg_rec_array_has(in->migrate->o, "stripped", mg_jstr(v->o, "ifname"));
	}
}

/* Attributes every verdict in timeline order; -1 when out of memory. */
static int attribute_all(struct pm *p, struct incident **out, size_t *nout)
{
	struct sweep *s = sweep_new(p);
	struct incident *inc = NULL;
	size_t ninc = 0, nv = 0;

	if (!s)
		return -1;
	for (size_t i = 0; i < p->n; i++)
		nv += p->v[i].type == MG_JT_VERDICT;
	inc = calloc(nv + 1, sizeof(*inc));
	if (!inc) {
		sweep_free(s);
		return -1;
	}
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].type != MG_JT_VERDICT)
			continue;
		sweep_to(s, p->v[i].ts);
		inc[ninc].v = &p->v[i];
		attribute(s, &inc[ninc], i);
		ninc++;
	}
	sweep_free(s);
	*out = inc;
	*nout = ninc;
	return 0;
}

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

static void describe(const struct incident *in, char *out, size_t size)
{
	json_object *o = in->v->o;
	const char *verdict = mg_jstr(o, "verdict"), *reason = mg_jstr(o, "reason");
	const char *owner = mg_jstr(o, "owner_domain");
	char actor[300], ownerd[300], outcome[160], more[600] = "";
	bool running = !strcmp(reason, "in-use") || !strcmp(mg_jstr(o, "queues"), "held");

	if (in->teardown)
		snprintf(actor, sizeof(actor), "teardown of %sdomain %s on host %s",
			 in->migrate ? "incoming " : "", in->teardown, mg_jstr(o, "host"));
	else
		snprintf(actor, sizeof(actor), "%s (pid %lld) on host %s", mg_jstr(o, "comm"),
			 mg_jint(o, "pid"), mg_jstr(o, "host"));
	if (*owner)
		snprintf(ownerd, sizeof(ownerd), ", owned by %sdomain %s (pid %lld)",
			 running ? "running " : "", owner, mg_jint(o, "owner_pid"));
	else
		ownerd[0] = 0;
	if (!strcmp(verdict, "deny"))
		snprintf(outcome, sizeof(outcome), "refused");
	else if (!strcmp(verdict, "audit"))
		snprintf(outcome, sizeof(outcome), "allowed in audit mode (enforce would have refused it)");
	else if (!strcmp(verdict, "gone"))
		snprintf(outcome, sizeof(outcome), "the device is gone");
	else
		snprintf(outcome, sizeof(outcome), "allowed (%s)", *reason ? reason : "not guarded");
	if (in->teardown) {
		snprintf(more, sizeof(more), " The request came from %s (pid %lld, parent %lld), "
			 "attributed because %s", mg_jstr(o, "comm"), mg_jint(o, "pid"),
			 mg_jint(o, "ppid"), in->attribution);
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
		snprintf(out, size, "%s of domain %s went away on host %s (%s).%s",
			 mg_jstr(o, "ifname"), *owner ? owner : "-", mg_jstr(o, "host"),
			 mg_jstr(o, "how"), more);
	else
		snprintf(out, size, "%s %s %s%s; %s.%s", actor,
			 verb(mg_jstr(o, "action"), !strcmp(verdict, "deny")), mg_jstr(o, "ifname"),
			 ownerd, outcome, more);
	if (out[0])
		out[0] = (char)toupper((unsigned char)out[0]);
}

static json_object *incident_json(const struct incident *in, const char *text)
{
	json_object *o = json_object_new_object(), *v = in->v->o, *x;

	json_object_object_add(o, "summary", json_object_new_string(text));
	json_object_object_add(o, "host", json_object_new_string(mg_jstr(v, "host")));
	json_object_object_add(o, "time", json_object_new_string(mg_jstr(v, "time")));
	json_object_object_add(o, "seq", json_object_new_uint64(in->v->seq));
	json_object_object_add(o, "verdict", json_object_new_string(mg_jstr(v, "verdict")));
	json_object_object_add(o, "action", json_object_new_string(mg_jstr(v, "action")));
	json_object_object_add(o, "reason", json_object_new_string(mg_jstr(v, "reason")));
	x = json_object_new_object();
	json_object_object_add(x, "ifname", json_object_new_string(mg_jstr(v, "ifname")));
	json_object_object_add(x, "ifindex", json_object_new_int64(mg_jint(v, "ifindex")));
	json_object_object_add(x, "owner_domain", json_object_new_string(mg_jstr(v, "owner_domain")));
	json_object_object_add(x, "owner_uuid", json_object_new_string(mg_jstr(v, "owner_uuid")));
	json_object_object_add(x, "owner_pid", json_object_new_int64(mg_jint(v, "owner_pid")));
	json_object_object_add(o, "victim", x);
	x = json_object_new_object();
	json_object_object_add(x, "comm", json_object_new_string(mg_jstr(v, "comm")));
	json_object_object_add(x, "pid", json_object_new_int64(mg_jint(v, "pid")));
	json_object_object_add(x, "tid", json_object_new_int64(mg_jint(v, "tid")));
	json_object_object_add(x, "ppid", json_object_new_int64(mg_jint(v, "ppid")));
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

static void usage_pm(FILE *out)
{
	fprintf(out, "usage: macvguard postmortem [-j] [--domain NAME|UUID] [--since T] [--until T] "
		     "[--html FILE] [JOURNAL...]\n"
		     "       JOURNAL: journal directories or segment files, one or more per host "
		     "(default %s)\n", mg_jlog_dir());
}

int mg_cmd_postmortem(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' }, { "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },  { "html", required_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },         { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pm p = { 0 };
	struct mg_sources src;
	const char *html = NULL;
	bool json = mg_json;
	struct incident *inc = NULL;
	size_t ninc = 0, best = 0, nh = 0;
	char **hosts = NULL, summary[2400], (*texts)[1200] = NULL;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:s:u:H:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg || strlen(optarg) >= sizeof(p.domain_lc)) {
				mg_err("--domain: 1..%zu bytes", sizeof(p.domain_lc) - 1);
				return 2;
			}
			p.domain = optarg;
			for (size_t i = 0; optarg[i]; i++)
				p.domain_lc[i] = (char)tolower((unsigned char)optarg[i]);
			if (!strcmp(p.domain_lc, optarg))
				p.domain_lc[0] = 0;
			break;
		case 's':
			if (mg_parse_time(optarg, &p.since)) {
				mg_err("--since: not a time: %s", optarg);
				return 2;
			}
			break;
		case 'u':
			if (mg_parse_time(optarg, &p.until)) {
				mg_err("--until: not a time: %s", optarg);
				return 2;
			}
			break;
		case 'H': html = optarg; break;
		case 'j': json = true; break;
		case 'h': usage_pm(stdout); return 0;
		default: usage_pm(stderr); return 2;
		}
	}
	if (mg_sources_expand(&src, argc - optind, argv + optind))
		return 1;
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
	if (attribute_all(&p, &inc, &ninc)) {
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
		char line[3000];

		/* names in the journals are strangers' text: every line goes out escaped */
		snprintf(line, sizeof(line), "postmortem%s%s: %zu records, %zu host(s), %s .. %s",
			 p.domain ? " of domain " : "", p.domain ? p.domain : "", p.n, nh, t0, t1);
		mg_fputs_escaped(stdout, line);
		fputs("\n\n", stdout);
		mg_fputs_escaped(stdout, summary);
		fputs("\n\n", stdout);
		for (size_t i = 0; i < ninc; i++)
			if (ninc > 1) {
				snprintf(line, sizeof(line), "  - [%s #%llu] %s",
					 mg_jstr(inc[i].v->o, "host"),
					 (unsigned long long)inc[i].v->seq, texts[i]);
				mg_fputs_escaped(stdout, line);
				putchar('\n');
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
	free(inc);
	free(texts);
	free(hosts);
	return rc;
}
