/* The one hardened reader of libvirt XML documents (see libvirt_xml.c). */
#ifndef MG_LIBVIRT_XML_H
#define MG_LIBVIRT_XML_H

#include <stddef.h>
#include <libxml/tree.h>

#define MG_LVXML_DEFAULT_MAX_SIZE  (16u << 20)   /* 16 MiB */
#define MG_LVXML_DEFAULT_MAX_DEPTH 256
/* libxml2 refuses deeper trees on its own (xmlParserMaxDepth) without XML_PARSE_HUGE,
 * which is never set; our limit sits at or below it. */
#define MG_LVXML_HARD_MAX_DEPTH    256
/* libvirt writes a handful of attributes per element; libxml2 2.9 is quadratic in them. */
#define MG_LVXML_MAX_ATTRS         256

struct mg_lvxml_limits {
	size_t max_size;   /* 0: MG_LVXML_DEFAULT_MAX_SIZE */
	int max_depth;     /* 0: MG_LVXML_DEFAULT_MAX_DEPTH; capped at the hard limit */
};

/* A one-line message and its position (0 when unknown); internal: ours, not the input's. */
struct mg_lvxml_err {
	char msg[256];
	long line, col;
	int internal;
};

/* Parses buf: refuses empty, oversized, NUL, invalid UTF-8, <!DOCTYPE>, entities, too
 * many attributes on an element, too deep, not well-formed and non-UTF-8 documents. NULL with *e set, or the tree (free
 * with xmlFreeDoc). */
xmlDocPtr mg_lvxml_read(const char *buf, size_t len, const struct mg_lvxml_limits *lim,
			struct mg_lvxml_err *e);

#endif
