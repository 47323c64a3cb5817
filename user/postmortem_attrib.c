/* `postmortem`'s attribution: which domain's libvirt teardown made each refused or
 * allowed request, in one n log n sweep over the merged timeline, and how each host's
 * guard ran (see postmortem.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "journal_sources.h"
#include "postmortem.h"

/* Records of the same host and boot compare equal (see postmortem.h). */
int mg_pm_host_boot_cmp(json_object *a, json_object *b)
{
	int c = strcmp(mg_jstr(a, "host"), mg_jstr(b, "host"));
	return c ? c : strcmp(mg_jstr(a, "boot_id"), mg_jstr(b, "boot_id"));
}

const struct pm_guard *mg_pm_guard_of(const struct pm *p, const char *h)
{
	for (size_t i = 0; i < p->nguards; i++)
		if (!strcmp(p->guards[i].host, h))
			return &p->guards[i];
	return NULL;
}

void mg_pm_guard_note(const struct pm *p, char **hosts, size_t nh, char *out, size_t size)
{
	size_t l = 0;

	out[0] = 0;
	for (size_t h = 0; h < nh; h++) {
		const struct pm_guard *g = mg_pm_guard_of(p, hosts[h]);
		bool audit_seen = false;
		const char *what = NULL;

		for (size_t i = 0; i < p->n && !audit_seen; i++)
			if (p->v[i].type == MG_JT_VERDICT && !strcmp(mg_jstr(p->v[i].o, "host"), hosts[h]) &&
			    (p->v[i].verdict == MG_V_AUDIT || !strcmp(mg_jstr(p->v[i].o, "mode"), "audit")))
				audit_seen = true;
		if (g && !strcmp(g->guard, "flag-only"))
			what = "flag-only (no BPF LSM guard: deletions were reported, not refused)";
		else if ((g && !strcmp(g->mode, "audit")) || audit_seen)
			what = "in audit mode (deletions were allowed and reported, not refused)";
		if (what && l < size)
			l += (size_t)snprintf(out + l, size - l, "%sHost %s: the guard ran %s.",
					      l ? " " : "", hosts[h], what);
	}
}

#define PM_TEARDOWN_NS (60ull * 1000000000ull) /* stopped without release: window length */

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
	int c = mg_pm_host_boot_cmp(sort_pm->v[*x].o, sort_pm->v[*y].o);
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
	int key[2] = { hb, dom };
	const void *hit = bsearch(key, s->pairs, s->npairs, sizeof(s->pairs[0]), pair_cmp);

	return hit ? (int)((const char *)hit - (const char *)s->pairs) / (int)sizeof(s->pairs[0]) : -1;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int find_domain(const struct sweep *s, const char *name)
{
	const char *const *hit = bsearch(&name, s->domains, s->ndomains, sizeof(s->domains[0]),
					 name_cmp);

	return hit ? (int)(hit - s->domains) : -1;
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
		if (k && mg_pm_host_boot_cmp(p->v[idx[k - 1]].o, p->v[idx[k]].o))
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

int mg_pm_attribute(struct pm *p, struct incident **out, size_t *nout)
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
