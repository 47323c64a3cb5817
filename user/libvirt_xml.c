/* The one reader of libvirt's XML documents (domain XML, <domstatus> status files, the
 * hooks' stdin): libxml2 with no network, no DTD, no entities, bounded size and depth,
 * UTF-8 only. Used by the XML rules (xmlrules.c) and the ownership parser (domstatus.c)
 * with the same limits. See docs/xml-rules.md. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "libvirt_xml.h"

static void set_err(struct mg_lvxml_err *e, long line, long col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_err(struct mg_lvxml_err *e, long line, long col, const char *fmt, ...)
{
	va_list ap;

	if (e->msg[0]) /* keep the first error */
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->line = line;
	e->col = col;
}

static void pos_of(const char *buf, size_t off, long *line, long *col)
{
	long l = 1;
	size_t i, bol = 0;

	for (i = 0; i < off; i++)
		if (buf[i] == '\n') {
			l++;
			bol = i + 1;
		}
	*line = l;
	*col = (long)(off - bol) + 1;
}

/* ---- byte checks -------------------------------------------------------------- */

/* Offset of the first byte that is not part of a valid UTF-8 sequence (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or len. */
static size_t utf8_bad(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
		else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
		else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
		else return i;
		if (len - i <= n)
			return i;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

/* Offset of the first start tag with more than max attributes (namespace declarations
 * count), or len. libxml2 2.9 checks an element's attributes for duplicates pairwise:
 * 400,000 attributes on one element take minutes; this byte scan is linear and runs
 * first. Comments, CDATA, processing instructions and declarations are skipped; quoted
 * values may hold '>' and '='. */
static size_t attrs_over(const char *buf, size_t len, size_t max)
{
	const char *s = buf, *end = buf + len;

	while (s < end) {
		const char *lt = memchr(s, '<', (size_t)(end - s)), *close = NULL;
		const char *skip_to = NULL;
		size_t nattr = 0;
		char quote = 0;

		if (!lt)
			break;
		s = lt + 1;
		if (end - s >= 3 && !memcmp(s, "!--", 3))
			skip_to = "-->";
		else if (end - s >= 8 && !memcmp(s, "![CDATA[", 8))
			skip_to = "]]>";
		else if (s < end && s[0] == '?')
			skip_to = "?>";
		if (skip_to) {
			close = memmem(s, (size_t)(end - s), skip_to, strlen(skip_to));
			if (!close)
				break;   /* not well-formed: the parser says so */
			s = close + strlen(skip_to);
			continue;
		}
		if (s < end && (s[0] == '/' || s[0] == '!'))
			continue;
		for (; s < end; s++) {
			if (quote) {
				if (*s == quote)
					quote = 0;
			} else if (*s == '"' || *s == '\'') {
				quote = *s;
			} else if (*s == '=') {
				if (++nattr > max)
					return (size_t)(lt - buf);
			} else if (*s == '>') {
				break;
			}
		}
	}
	return len;
}

/* ---- hardened parse ----------------------------------------------------------- */

struct pstate {
	struct mg_lvxml_err *err;
	int max_depth;
	int stopped;
	startElementNsSAX2Func start_ns;
};

static void stop_at(xmlParserCtxtPtr ctxt, const char *what)
{
	struct pstate *ps = ctxt->_private;
	long line = ctxt->input ? ctxt->input->line : 0;
	long col = ctxt->input ? ctxt->input->col : 0;

	if (!ps->stopped)
		set_err(ps->err, line, col, "%s", what);
	ps->stopped = 1;
	xmlStopParser(ctxt);
}

static void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *eid,
			       const xmlChar *sid)
{
	(void)name; (void)eid; (void)sid;
	stop_at(ctx, "document type declaration (<!DOCTYPE>) not allowed");
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pid,
			   const xmlChar *sid, xmlChar *content)
{
	(void)name; (void)type; (void)pid; (void)sid; (void)content;
	stop_at(ctx, "entity declaration not allowed");
}

static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name)
{
	/* Only the five predefined entities exist in a DTD-free document; libxml2 resolves
	 * those before asking. Anything else is refused here rather than looked up. */
	(void)name;
	stop_at(ctx, "entity reference not allowed");
	return NULL;
}

static void on_start_ns(void *ctx, const xmlChar *localname, const xmlChar *prefix,
			const xmlChar *URI, int nb_namespaces, const xmlChar **namespaces,
			int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct pstate *ps = ctxt->_private;

	if (ps->stopped)
		return;
	/* nameNr counts the open ancestors of this element */
	if (ctxt->nameNr + 1 > ps->max_depth) {
		char m[96];
		snprintf(m, sizeof(m), "elements nested deeper than %d", ps->max_depth);
		stop_at(ctxt, m);
		return;
	}
	ps->start_ns(ctx, localname, prefix, URI, nb_namespaces, namespaces, nb_attributes,
		     nb_defaulted, attributes);
}

static void on_serror(void *ud, xmlErrorPtr e)
{
	(void)ud; (void)e; /* collected through xmlCtxtGetLastError() */
}

static xmlDocPtr parse(const char *buf, size_t len, int max_depth, struct mg_lvxml_err *r)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	struct pstate ps = { .err = r };
	int opts = XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOERROR |
		   XML_PARSE_NOWARNING;

	ps.max_depth = max_depth > 0 ? max_depth : MG_LVXML_DEFAULT_MAX_DEPTH;
	if (ps.max_depth > MG_LVXML_HARD_MAX_DEPTH)
		ps.max_depth = MG_LVXML_HARD_MAX_DEPTH;

	ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		r->internal = 1;
		set_err(r, 0, 0, "internal error: out of memory");
		return NULL;
	}
	ctxt->_private = &ps;
	ctxt->sax->internalSubset = on_internal_subset;
	ctxt->sax->externalSubset = on_internal_subset;
	ctxt->sax->entityDecl = on_entity_decl;
	ctxt->sax->getEntity = on_get_entity;
	ctxt->sax->getParameterEntity = on_get_entity;
	ctxt->sax->resolveEntity = NULL;
	ps.start_ns = ctxt->sax->startElementNs ? ctxt->sax->startElementNs
						: xmlSAX2StartElementNs;
	ctxt->sax->startElementNs = on_start_ns;
	ctxt->sax->serror = on_serror;

	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, opts);
	if (ps.stopped || !doc) {
		if (!ps.stopped) {
			xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
			if (e && e->message) {
				char msg[200];
				size_t n;
				snprintf(msg, sizeof(msg), "%s", e->message);
				n = strlen(msg);
				while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
					msg[--n] = 0;
				set_err(r, e->line, e->int2, "not well-formed XML: %s", msg);
			} else {
				set_err(r, 0, 0, "not well-formed XML");
			}
		}
		if (doc)
			xmlFreeDoc(doc);
		doc = NULL;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc && (doc->intSubset || doc->extSubset)) { /* belt and braces */
		set_err(r, 1, 1, "document type declaration (<!DOCTYPE>) not allowed");
		xmlFreeDoc(doc);
		doc = NULL;
	}
	if (doc && doc->encoding && strcasecmp((const char *)doc->encoding, "UTF-8") &&
	    strcasecmp((const char *)doc->encoding, "UTF8")) {
		set_err(r, 1, 1, "encoding '%.40s' not supported (UTF-8 only)",
		     (const char *)doc->encoding);
		xmlFreeDoc(doc);
		doc = NULL;
	}
	return doc;
}

xmlDocPtr mg_lvxml_read(const char *buf, size_t len, const struct mg_lvxml_limits *lim,
			struct mg_lvxml_err *e)
{
	size_t max_size = lim && lim->max_size ? lim->max_size : MG_LVXML_DEFAULT_MAX_SIZE, bad;
	const char *nul;
	long line, col;

	memset(e, 0, sizeof(*e));
	if (!buf || len == 0) {
		set_err(e, 0, 0, "empty document");
		return NULL;
	}
	if (len > max_size || len > INT32_MAX) {
		set_err(e, 0, 0, "document larger than the limit of %zu bytes", max_size);
		return NULL;
	}
	nul = memchr(buf, 0, len);
	if (nul) {
		pos_of(buf, (size_t)(nul - buf), &line, &col);
		set_err(e, line, col, "NUL byte in document");
		return NULL;
	}
	bad = utf8_bad((const unsigned char *)buf, len);
	if (bad < len) {
		pos_of(buf, bad, &line, &col);
		set_err(e, line, col, "invalid UTF-8 (byte 0x%02x)", (unsigned char)buf[bad]);
		return NULL;
	}
	bad = attrs_over(buf, len, MG_LVXML_MAX_ATTRS);
	if (bad < len) {
		pos_of(buf, bad, &line, &col);
		set_err(e, line, col, "element with more than %d attributes", MG_LVXML_MAX_ATTRS);
		return NULL;
	}
	xmlInitParser();
	return parse(buf, len, lim ? lim->max_depth : 0, e);
}
