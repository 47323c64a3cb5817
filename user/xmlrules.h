/* libvirt's generated-interface-name rule, applied to a domain XML document.
 *
 * Pure library: no file or terminal I/O, no exit(), no logging. The caller hands in
 * bytes and gets back bytes (the input with the removed <target> elements cut out,
 * byte-for-byte identical elsewhere), a list of findings, or a one-line error with
 * its position. Used by `macvguard xml`, the libvirt hook, the unit tests and the
 * libFuzzer target. See docs/xml-rules.md. */
#ifndef MG_XMLRULES_H
#define MG_XMLRULES_H
#include <stddef.h>
#include "libvirt_xml.h"

enum mg_xml_mode {
	MG_XML_INACTIVE = 0, /* saved config / dumpxml --inactive: strip generated names */
	MG_XML_MIGRATABLE,   /* migration / save-image XML: strip generated names */
	MG_XML_LIVE,         /* running domain: keep everything */
};

#define MG_XML_DEFAULT_MAX_SIZE  MG_LVXML_DEFAULT_MAX_SIZE
#define MG_XML_DEFAULT_MAX_DEPTH MG_LVXML_DEFAULT_MAX_DEPTH
#define MG_XML_MAX_PREFIXES      16

struct mg_xml_opts {
	enum mg_xml_mode mode;
	/* Extra hypervisor-driver prefixes (libxl's "vif", ...), besides libvirt's fixed
	 * vnet/macvtap/macvlan. */
	const char *prefixes[MG_XML_MAX_PREFIXES];
	size_t nprefixes;
	size_t max_size;  /* 0: MG_XML_DEFAULT_MAX_SIZE */
	int max_depth;    /* 0: MG_XML_DEFAULT_MAX_DEPTH */
};

enum mg_xml_root { MG_XML_ROOT_DOMAIN = 1, MG_XML_ROOT_DOMSTATUS = 2 };

struct mg_xml_finding {
	long line;       /* line of the <target> element */
	char *domain;    /* <name> of the domain, "" if none */
	char *iftype;    /* <interface type=...>, "" if none */
	char *mac;       /* <mac address=...>, "" if none */
	char *dev;       /* the generated name */
	int removed;     /* 1 when cut from the output (mode != live) */
};

struct mg_xml_result {
	char *out;       /* the resulting document (NUL-terminated), NULL on error */
	size_t out_len;
	int changed;     /* out differs from the input */
	enum mg_xml_root root;
	struct mg_xml_finding *findings; /* every generated name the rule matched */
	size_t nfindings;
	/* on error (return -1): a one-line message and its position (0 when unknown) */
	char err[256];
	long err_line, err_col;
	int internal; /* error was ours (out of memory, inconsistency), not the input's */
};

void mg_xml_opts_init(struct mg_xml_opts *o);
int mg_xml_add_prefix(struct mg_xml_opts *o, const char *prefix); /* -1 when full/empty */
const char *mg_xml_mode_name(enum mg_xml_mode m);
int mg_xml_mode_parse(const char *s, enum mg_xml_mode *m);

/* libvirt's test: a plain, case-sensitive prefix match. */
int mg_xml_is_generated(const char *dev, const struct mg_xml_opts *o);

/* Returns 0 on success (res->out set), -1 on bad input or internal error (res->err set).
 * Always call mg_xml_result_free() afterwards. Thread-compatible, not reentrant
 * with respect to libxml2's global error handler. */
int mg_xml_sanitize(const char *buf, size_t len, const struct mg_xml_opts *o,
		    struct mg_xml_result *res);
void mg_xml_result_free(struct mg_xml_result *res);

#endif
