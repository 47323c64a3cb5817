/* libvirt's generated-interface-name rule (see xmlrules.h, docs/xml-rules.md).
 *
 * How it works:
 *   1. byte-level checks libxml2 would not make for us: size, NUL bytes, strict UTF-8;
 *   2. a hardened libxml2 parse (no network, no DTD at all - so no external or internal
 *      entities -, a depth limit) that builds the tree we read names and values from;
 *   3. the rule, applied on the tree, yields the <target> elements to remove;
 *   4. the output is the *input bytes* with those elements (and the whitespace-only
 *      text in front of each) cut out. A small scanner, run on the now known
 *      well-formed and DTD-free input, finds the byte range of the n-th element in
 *      document order, which is the same n-th element the tree walk counted. So
 *      everything outside the removed elements survives byte for byte: comments,
 *      attribute quoting and order, foreign namespaces, the XML declaration. */
#include "xmlrules.h"
#include "libvirt_xml.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

/* libvirt's fixed prefixes (VIR_NET_GENERATED_{VNET,MACVTAP,MACVLAN}_PREFIX). */
static const char *const builtin_prefixes[] = { "vnet", "macvtap", "macvlan" };


void mg_xml_opts_init(struct mg_xml_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = MG_XML_INACTIVE;
	o->max_size = MG_XML_DEFAULT_MAX_SIZE;
	o->max_depth = MG_XML_DEFAULT_MAX_DEPTH;
}

int mg_xml_add_prefix(struct mg_xml_opts *o, const char *prefix)
{
	if (!prefix || !*prefix || o->nprefixes >= MG_XML_MAX_PREFIXES)
		return -1;
	o->prefixes[o->nprefixes++] = prefix;
	return 0;
}

const char *mg_xml_mode_name(enum mg_xml_mode m)
{
	switch (m) {
	case MG_XML_INACTIVE: return "inactive";
	case MG_XML_MIGRATABLE: return "migratable";
	case MG_XML_LIVE: return "live";
	}
	return "?";
}

int mg_xml_mode_parse(const char *s, enum mg_xml_mode *m)
{
	if (!strcmp(s, "inactive")) *m = MG_XML_INACTIVE;
	else if (!strcmp(s, "migratable")) *m = MG_XML_MIGRATABLE;
	else if (!strcmp(s, "live")) *m = MG_XML_LIVE;
	else return -1;
	return 0;
}

int mg_xml_is_generated(const char *dev, const struct mg_xml_opts *o)
{
	size_t i;

	for (i = 0; i < sizeof(builtin_prefixes) / sizeof(builtin_prefixes[0]); i++)
		if (!strncmp(dev, builtin_prefixes[i], strlen(builtin_prefixes[i])))
			return 1;
	for (i = 0; o && i < o->nprefixes; i++)
		if (o->prefixes[i] && *o->prefixes[i] &&
		    !strncmp(dev, o->prefixes[i], strlen(o->prefixes[i])))
			return 1;
	return 0;
}

/* ---- errors ------------------------------------------------------------------- */

static int fail(struct mg_xml_result *r, long line, long col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct mg_xml_result *r, long line, long col, const char *fmt, ...)
{
	va_list ap;

	if (r->err[0]) /* keep the first error */
		return -1;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->err_line = line;
	r->err_col = col;
	return -1;
}

static int fail_internal(struct mg_xml_result *r, const char *what)
{
	r->internal = 1;
	return fail(r, 0, 0, "internal error: %s", what);
}

static int ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ---- tree helpers --------------------------------------------------------------- */

static int is_el(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !n->ns &&
	       !strcmp((const char *)n->name, name);
}

static xmlNodePtr first_child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		if (is_el(c, name))
			return c;
	return NULL;
}

static char *dupstr(const xmlChar *s)
{
	return strdup(s ? (const char *)s : "");
}

static int blank_before(xmlNodePtr n)
{
	xmlNodePtr t = n->prev;

	if (!t || t->type != XML_TEXT_NODE)
		return 0;
	for (const xmlChar *c = t->content; c && *c; c++)
		if (!ws((char)*c))
			return 0;
	return 1;
}

/* A removal: the n-th element in document order (0-based). */
struct cut {
	size_t index;
	size_t start, end; /* byte range, filled by the scanner */
	int found;
	int strip_ws;      /* the text node in front is whitespace only: cut it too */
};

struct plan {
	struct cut *cuts;
	size_t ncuts, cap;
	struct cut keep; /* the <domain> inside a <domstatus>, when extracting */
	int extract;
};

static int plan_add(struct plan *p, size_t index, int strip_ws)
{
	if (p->ncuts == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct cut *c = realloc(p->cuts, cap * sizeof(*c));
		if (!c)
			return -1;
		p->cuts = c;
		p->cap = cap;
	}
	memset(&p->cuts[p->ncuts], 0, sizeof(p->cuts[0]));
	p->cuts[p->ncuts].strip_ws = strip_ws;
	p->cuts[p->ncuts++].index = index;
	return 0;
}

/* Document-order index of every element node: the tree walk counts them the same way
 * the byte scanner does. Iterative, so depth costs no stack. */
struct walk {
	xmlNodePtr domain;  /* the <domain> the rule applies to */
	size_t domain_index;
	size_t count;
	xmlNodePtr *targets; /* first <target> of each interface, in document order */
	size_t ntargets, cap;
	size_t *target_index;
};

static int walk_tree(xmlNodePtr root, struct walk *w)
{
	xmlNodePtr n = root;

	while (n) {
		if (n->type == XML_ELEMENT_NODE) {
			size_t idx = w->count++;

			if (n == w->domain)
				w->domain_index = idx;
			if (n->_private) /* marked by the rule: 1 + its slot in targets */
				w->target_index[(uintptr_t)n->_private - 1] = idx;
			if (n->children) {
				n = n->children;
				continue;
			}
		}
		while (n && n != root && !n->next)
			n = n->parent;
		if (!n || n == root)
			break;
		n = n->next;
	}
	return 0;
}

/* ---- byte scanner ------------------------------------------------------------------ */

static const char *find(const char *p, const char *end, const char *pat)
{
	size_t m = strlen(pat);

	while (p + m <= end) {
		const char *q = memchr(p, pat[0], (size_t)(end - p));
		if (!q || q + m > end)
			return NULL;
		if (!memcmp(q, pat, m))
			return q;
		p = q + 1;
	}
	return NULL;
}

/* Fills the byte range of each wanted element (cuts sorted by index, plus keep).
 * Only ever run on input libxml2 accepted as well-formed and DTD-free. */
static int scan(const char *buf, size_t len, struct plan *p)
{
	const char *s = buf, *end = buf + len;
	size_t idx = 0, next_cut = 0;
	struct { size_t idx; struct cut *c; } stack[MG_LVXML_HARD_MAX_DEPTH + 2];
	int depth = 0;

	while (s < end) {
		const char *lt = memchr(s, '<', (size_t)(end - s));
		if (!lt)
			break;
		s = lt;
		if (end - s >= 4 && !memcmp(s, "<!--", 4)) {
			const char *q = find(s + 4, end, "-->");
			if (!q) return -1;
			s = q + 3;
		} else if (end - s >= 9 && !memcmp(s, "<![CDATA[", 9)) {
			const char *q = find(s + 9, end, "]]>");
			if (!q) return -1;
			s = q + 3;
		} else if (end - s >= 2 && s[1] == '?') {
			const char *q = find(s + 2, end, "?>");
			if (!q) return -1;
			s = q + 2;
		} else if (end - s >= 2 && s[1] == '!') {
			return -1; /* DOCTYPE: refused earlier */
		} else if (end - s >= 2 && s[1] == '/') {
			const char *q = memchr(s, '>', (size_t)(end - s));
			if (!q || depth == 0) return -1;
			s = q + 1;
			depth--;
			if (stack[depth].c)
				stack[depth].c->end = (size_t)(s - buf);
		} else {
			const char *start = s;
			char quote = 0;
			struct cut *c = NULL;
			int empty;

			s++;
			while (s < end) {
				if (quote) {
					if (*s == quote) quote = 0;
				} else if (*s == '"' || *s == '\'') {
					quote = *s;
				} else if (*s == '>') {
					break;
				}
				s++;
			}
			if (s >= end) return -1;
			empty = s[-1] == '/';
			s++;
			if (next_cut < p->ncuts && p->cuts[next_cut].index == idx)
				c = &p->cuts[next_cut++];
			else if (p->extract && p->keep.index == idx)
				c = &p->keep;
			if (c) {
				c->start = (size_t)(start - buf);
				c->found = 1;
				if (empty)
					c->end = (size_t)(s - buf);
			}
			idx++;
			if (!empty) {
				if (depth >= MG_LVXML_HARD_MAX_DEPTH + 1)
					return -1;
				stack[depth].idx = idx - 1;
				stack[depth].c = c;
				depth++;
			}
		}
	}
	if (depth != 0)
		return -1;
	for (size_t i = 0; i < p->ncuts; i++)
		if (!p->cuts[i].found || p->cuts[i].end <= p->cuts[i].start)
			return -1;
	if (p->extract && (!p->keep.found || p->keep.end <= p->keep.start))
		return -1;
	return 0;
}

/* ---- output ------------------------------------------------------------------------ */

struct obuf {
	char *p;
	size_t len, cap;
};

static int put(struct obuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *q;
		while (cap < b->len + n + 1)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

/* Copies buf[from, to) leaving out the cuts that lie inside it. A cut takes the
 * whitespace-only text right in front of its element along with it, so the line the
 * element stood on disappears and the indentation of the rest stays as it was. */
static int emit_range(struct obuf *b, const char *buf, size_t from, size_t to,
		      const struct plan *p)
{
	size_t at = from;

	for (size_t i = 0; i < p->ncuts; i++) {
		size_t s = p->cuts[i].start, e = p->cuts[i].end;
		size_t k = s;

		if (s < from || e > to)
			continue;
		while (k > at && ws(buf[k - 1]))
			k--;
		if (!p->cuts[i].strip_ws || !(k > 0 && buf[k - 1] == '>'))
			k = s; /* not a whitespace-only text node: keep the text */
		if (put(b, buf + at, k - at))
			return -1;
		at = e;
	}
	return put(b, buf + at, to - at);
}

static int cmp_cut(const void *a, const void *b)
{
	const struct cut *x = a, *y = b;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Namespace declarations in scope on <domstatus> that the extracted <domain> needs. */
static int emit_extracted(struct obuf *b, const char *buf, size_t len, xmlNodePtr root,
			  xmlNodePtr domain, const struct plan *p)
{
	const char *dstart = buf + p->keep.start;
	size_t name_end = p->keep.start + 1 + strlen("domain");

	(void)len;
	/* keep the input's XML declaration, if any */
	if (len >= 5 && !memcmp(buf, "<?xml", 5)) {
		const char *q = find(buf, buf + len, "?>");
		if (q && (put(b, buf, (size_t)(q + 2 - buf)) || put(b, "\n", 1)))
			return -1;
	}
	if (memcmp(dstart, "<domain", 7))
		return -1;
	if (put(b, dstart, name_end - p->keep.start))
		return -1;
	for (xmlNsPtr ns = root->nsDef; ns; ns = ns->next) {
		int shadowed = 0;
		for (xmlNsPtr d = domain->nsDef; d; d = d->next)
			if ((!d->prefix && !ns->prefix) ||
			    (d->prefix && ns->prefix && !strcmp((const char *)d->prefix,
								(const char *)ns->prefix)))
				shadowed = 1;
		if (shadowed)
			continue;
		/* namespace URIs in libvirt documents are plain; refuse anything needing
		 * escaping rather than re-escape it */
		if (strpbrk((const char *)ns->href, "'<&"))
			return -1;
		if (put(b, " xmlns", 6) ||
		    (ns->prefix && (put(b, ":", 1) ||
				    put(b, (const char *)ns->prefix,
					strlen((const char *)ns->prefix)))) ||
		    put(b, "='", 2) ||
		    put(b, (const char *)ns->href, strlen((const char *)ns->href)) ||
		    put(b, "'", 1))
			return -1;
	}
	if (emit_range(b, buf, name_end, p->keep.end, p))
		return -1;
	return put(b, "\n", 1);
}

/* ---- the rule ----------------------------------------------------------------------- */

static int add_finding(struct mg_xml_result *r, xmlNodePtr domain, xmlNodePtr iface,
		       xmlNodePtr target, const xmlChar *dev, int removed)
{
	struct mg_xml_finding *f;
	xmlNodePtr name = first_child(domain, "name"), mac = first_child(iface, "mac");
	xmlChar *dname = name ? xmlNodeGetContent(name) : NULL;
	xmlChar *type = xmlGetNoNsProp(iface, BAD_CAST "type");
	xmlChar *addr = mac ? xmlGetNoNsProp(mac, BAD_CAST "address") : NULL;
	int rc = -1;

	f = realloc(r->findings, (r->nfindings + 1) * sizeof(*f));
	if (f) {
		r->findings = f;
		f = &f[r->nfindings];
		f->line = xmlGetLineNo(target);
		f->domain = dupstr(dname);
		f->iftype = dupstr(type);
		f->mac = dupstr(addr);
		f->dev = dupstr(dev);
		f->removed = removed;
		r->nfindings++;
		rc = (f->domain && f->iftype && f->mac && f->dev) ? 0 : -1;
	}
	xmlFree(dname);
	xmlFree(type);
	xmlFree(addr);
	return rc;
}

/* The rule for one <target>: a finding when its dev is generated and it is not
 * managed='no'; marked for removal unless live. -1: out of memory. */
static int rule_target(struct mg_xml_result *r, const struct mg_xml_opts *o,
		       xmlNodePtr domain, xmlNodePtr ifc, xmlNodePtr t, struct walk *w)
{
	xmlChar *name = xmlGetNoNsProp(t, BAD_CAST "dev");
	xmlChar *managed = xmlGetNoNsProp(t, BAD_CAST "managed");
	int generated, removed, rc = 0;

	generated = name && !(managed && !strcmp((char *)managed, "no")) &&
		    mg_xml_is_generated((const char *)name, o);
	removed = generated && o->mode != MG_XML_LIVE;
	if (generated && add_finding(r, domain, ifc, t, name, removed))
		rc = -1;
	if (!rc && removed) {
		xmlNodePtr *nt = realloc(w->targets, (w->ntargets + 1) * sizeof(*nt));
		size_t *ni;

		if (nt)
			w->targets = nt;
		ni = nt ? realloc(w->target_index, (w->ntargets + 1) * sizeof(*ni)) : NULL;
		if (ni)
			w->target_index = ni;
		if (!nt || !ni) {
			rc = -1;
		} else {
			w->targets[w->ntargets++] = t;
			t->_private = (void *)(uintptr_t)w->ntargets; /* see walk_tree() */
		}
	}
	xmlFree(name);
	xmlFree(managed);
	return rc;
}

void mg_xml_result_free(struct mg_xml_result *r)
{
	if (!r)
		return;
	free(r->out);
	for (size_t i = 0; i < r->nfindings; i++) {
		free(r->findings[i].domain);
		free(r->findings[i].iftype);
		free(r->findings[i].mac);
		free(r->findings[i].dev);
	}
	free(r->findings);
	r->out = NULL;
	r->findings = NULL;
	r->nfindings = 0;
}

int mg_xml_sanitize(const char *buf, size_t len, const struct mg_xml_opts *o,
		    struct mg_xml_result *r)
{
	struct mg_xml_opts defaults;
	struct mg_lvxml_limits lim;
	struct mg_lvxml_err e;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, domain;
	struct walk w = { 0 };
	struct plan p = { 0 };
	struct obuf out = { 0 };
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!o) {
		mg_xml_opts_init(&defaults);
		o = &defaults;
	}
	lim.max_size = o->max_size ? o->max_size : MG_XML_DEFAULT_MAX_SIZE;
	lim.max_depth = o->max_depth;
	doc = mg_lvxml_read(buf, len, &lim, &e);
	if (!doc) {
		r->internal = e.internal;
		return fail(r, e.line, e.col, "%s", e.msg);
	}
	root = xmlDocGetRootElement(doc);
	if (!root) {
		fail(r, 0, 0, "no root element");
		goto out;
	}
	if (is_el(root, "domain")) {
		r->root = MG_XML_ROOT_DOMAIN;
		domain = root;
	} else if (is_el(root, "domstatus")) {
		r->root = MG_XML_ROOT_DOMSTATUS;
		domain = first_child(root, "domain");
		if (!domain) {
			fail(r, xmlGetLineNo(root), 0, "<domstatus> without a <domain>");
			goto out;
		}
	} else {
		fail(r, xmlGetLineNo(root), 0,
		     "root element is <%.60s%s%.60s>, expected <domain> or <domstatus>",
		     root->ns && root->ns->prefix ? (const char *)root->ns->prefix : "",
		     root->ns && root->ns->prefix ? ":" : "", (const char *)root->name);
		goto out;
	}

	/* The rule, on ./devices/interface/target. libvirt reads only the first <target> of
	 * an interface (and formats only that one); a second one is schema-invalid. We
	 * treat each alike, so that removing the first never promotes a generated second
	 * one into its place and a second pass finds nothing (see docs/xml-rules.md). */
	for (xmlNodePtr dev = domain->children; dev; dev = dev->next) {
		if (!is_el(dev, "devices"))
			continue;
		for (xmlNodePtr ifc = dev->children; ifc; ifc = ifc->next) {
			if (!is_el(ifc, "interface"))
				continue;
			for (xmlNodePtr t = ifc->children; t; t = t->next)
				if (is_el(t, "target") && rule_target(r, o, domain, ifc, t, &w)) {
					fail_internal(r, "out of memory");
					goto out;
				}
		}
	}

	p.extract = r->root == MG_XML_ROOT_DOMSTATUS && o->mode != MG_XML_LIVE;
	if (w.ntargets || p.extract) {
		w.domain = domain;
		walk_tree(root, &w);
		for (size_t i = 0; i < w.ntargets; i++)
			if (plan_add(&p, w.target_index[i], blank_before(w.targets[i]))) {
				fail_internal(r, "out of memory");
				goto out;
			}
		if (p.ncuts > 1)
			qsort(p.cuts, p.ncuts, sizeof(p.cuts[0]), cmp_cut);
		p.keep.index = w.domain_index;
		if (scan(buf, len, &p)) {
			fail_internal(r, "byte scanner disagrees with the parser");
			goto out;
		}
	}
	if (p.extract) {
		if (emit_extracted(&out, buf, len, root, domain, &p)) {
			fail_internal(r, "cannot extract <domain> from <domstatus>");
			goto out;
		}
	} else if (emit_range(&out, buf, 0, len, &p)) {
		fail_internal(r, "out of memory");
		goto out;
	}
	r->out = out.p;
	r->out_len = out.len;
	out.p = NULL;
	r->changed = r->out_len != len || memcmp(r->out, buf, len) != 0;
	rc = 0;
out:
	free(out.p);
	free(p.cuts);
	free(w.targets);
	free(w.target_index);
	if (doc)
		xmlFreeDoc(doc);
	if (rc) {
		free(r->out);
		r->out = NULL;
		r->out_len = 0;
	}
	return rc;
}
