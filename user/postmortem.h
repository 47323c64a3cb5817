/* What `postmortem` (cmd_postmortem.c) shares with its attribution sweep
 * (postmortem_attrib.c) and its HTML page (postmortem_html.c). */
#ifndef MG_POSTMORTEM_H
#define MG_POSTMORTEM_H

#include <stdbool.h>
#include <stdint.h>
#include "jlog.h"

struct prec {
	uint64_t ts, seq;      /* ts: wall time, made non-decreasing within a boot (below) */
	unsigned type, verdict;
	json_object *o;
	uint64_t boot;         /* CLOCK_BOOTTIME of the record ("boot_ns"), 0 when absent */
	size_t gpos;           /* position in (host, boot, boot time) order */
};

struct ppid_ent {
	char host[128];
	long long ppid;
};

/* How a host's guard ran: its agent's latest start record in (or before) the window. */
struct pm_guard {
	char host[128];
	char guard[32];        /* enforcing, flag-only */
	char mode[16];         /* enforce, audit */
	uint64_t ts;
};

struct pm {
	const char *domain;
	char domain_lc[128];
	uint64_t since, until, wmin, wmax;
	int pass;
	bool any;
	struct prec *v;
	size_t n, cap;
	char **names;
	size_t nnames;
	struct ppid_ent *pp;
	size_t npp;
	unsigned long long scanned;
	bool oom;
	struct pm_guard *guards;
	size_t nguards;
};

/* The guard of host h (NULL when no start record of its agent was seen). */
const struct pm_guard *mg_pm_guard_of(const struct pm *p, const char *h);

/* One verdict and the story around it. */
struct incident {
	struct prec *v;
	const char *teardown;      /* domain whose teardown made the request, or NULL */
	const char *attribution;   /* how we know */
	struct prec *migrate;      /* that domain's migrate hook on the same host, if any */
	bool carried, stripped;    /* the migrate XML carried / the hook stripped the name */
};

/* Order of two records' (host, boot): equal when both come from the same boot. */
int mg_pm_host_boot_cmp(json_object *a, json_object *b);
/* Attributes every verdict of p's timeline, in order; -1 when out of memory. */
int mg_pm_attribute(struct pm *p, struct incident **out, size_t *nout);

/* The self-contained page (inline CSS/SVG, a lane per host). 0 or -1 (said). */
int mg_pm_write_html(const char *path, struct pm *p, char **hosts, size_t nh,
		     const char *summary);
/* "" when every host's guard enforced; else one sentence for the page's banner. */
void mg_pm_guard_note(const struct pm *p, char **hosts, size_t nh, char *out, size_t size);

#endif
