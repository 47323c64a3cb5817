/* Unit tests of the pure sanitizer (user/xmlrules.c). Built plain and with
 * ASan/UBSan by xml/xml.mk; prints "ok - NAME" / "not ok - NAME: reason" lines and
 * exits non-zero when any failed. tests/suites/20-xml.sh runs it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "xmlrules.h"

static int failures;

static void check(int cond, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (cond) {
		printf("ok - %s\n", name);
		return;
	}
	failures++;
	printf("not ok - %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static int run(const char *in, size_t len, enum mg_xml_mode mode, const char *prefix,
	       struct mg_xml_result *r)
{
	struct mg_xml_opts o;

	mg_xml_opts_init(&o);
	o.mode = mode;
	if (prefix)
		mg_xml_add_prefix(&o, prefix);
	return mg_xml_sanitize(in, len, &o, r);
}

/* expect success and exactly `want` as output */
static void expect_out(const char *name, const char *in, enum mg_xml_mode mode,
		       const char *prefix, const char *want, size_t nfind)
{
	struct mg_xml_result r;
	int rc = run(in, strlen(in), mode, prefix, &r);

	if (rc)
		check(0, name, "failed: %s", r.err);
	else if (strcmp(r.out, want))
		check(0, name, "output\n%s\n--- wanted\n%s", r.out, want);
	else
		check(r.nfindings == nfind, name, "%zu findings, wanted %zu", r.nfindings, nfind);
	mg_xml_result_free(&r);
}

/* expect rejection with an error containing `needle` (and no output) */
static void expect_err(const char *name, const char *in, size_t len, const char *needle)
{
	struct mg_xml_result r;
	int rc = run(in, len, MG_XML_INACTIVE, NULL, &r);

	if (!rc)
		check(0, name, "accepted");
	else
		check(r.out == NULL && strstr(r.err, needle) && !r.internal, name,
		      "error '%s' (internal=%d), wanted '%s'", r.err, r.internal, needle);
	mg_xml_result_free(&r);
}

#define D(body) "<domain type='kvm'><name>t</name><devices>" body "</devices></domain>"

int main(void)
{
	/* --- the rule --- */
	static const struct { const char *dev; int gen; } names[] = {
		{ "vnet0", 1 }, { "vnet", 1 }, { "vnetwork0", 1 }, { "macvtap12", 1 },
		{ "macvlan0", 1 }, { "macvtap", 1 }, { "VNET0", 0 }, { "Macvtap0", 0 },
		{ "avnet0", 0 }, { "vne", 0 }, { "macv0", 0 }, { "tap0", 0 }, { "", 0 },
		{ "vif1.0", 0 },
	};
	int ok = 1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (mg_xml_is_generated(names[i].dev, NULL) != names[i].gen) {
			ok = 0;
			printf("# %s\n", names[i].dev);
		}
	check(ok, "rule: plain case-sensitive prefix match", "mismatch");
	{
		struct mg_xml_opts o;
		mg_xml_opts_init(&o);
		mg_xml_add_prefix(&o, "vif");
		check(mg_xml_is_generated("vif1.0", &o) && !mg_xml_is_generated("vi", &o),
		      "rule: driver prefix", "vif not matched");
	}

	expect_out("whitespace line removed with the element",
		   "<domain>\n  <devices>\n    <interface type='direct'>\n"
		   "      <mac address='52:54:00:00:00:01'/>\n      <target dev='macvtap0'/>\n"
		   "      <model type='virtio'/>\n    </interface>\n  </devices>\n</domain>\n",
		   MG_XML_INACTIVE, NULL,
		   "<domain>\n  <devices>\n    <interface type='direct'>\n"
		   "      <mac address='52:54:00:00:00:01'/>\n"
		   "      <model type='virtio'/>\n    </interface>\n  </devices>\n</domain>\n", 1);
	expect_out("first child target",
		   "<domain><devices><interface type='bridge'>\n  <target dev='vnet1'/>\n"
		   "  <mac address='x'/>\n</interface></devices></domain>",
		   MG_XML_INACTIVE, NULL,
		   "<domain><devices><interface type='bridge'>\n"
		   "  <mac address='x'/>\n</interface></devices></domain>", 1);
	expect_out("target with end tag", D("<interface type='network'><target dev='vnet0'></target></interface>"),
		   MG_XML_INACTIVE, NULL, D("<interface type='network'></interface>"), 1);
	expect_out("mixed text in front is kept",
		   D("<interface type='network'>x <target dev='vnet0'/></interface>"),
		   MG_XML_INACTIVE, NULL, D("<interface type='network'>x </interface>"), 1);
	expect_out("managed=no kept on ethernet",
		   D("<interface type='ethernet'><target dev='vnet0' managed='no'/></interface>"),
		   MG_XML_INACTIVE, NULL,
		   D("<interface type='ethernet'><target dev='vnet0' managed='no'/></interface>"), 0);
	expect_out("managed=no kept on bridge (libvirt refuses such a domain)",
		   D("<interface type='bridge'><target managed='no' dev='vnet0'/></interface>"),
		   MG_XML_INACTIVE, NULL,
		   D("<interface type='bridge'><target managed='no' dev='vnet0'/></interface>"), 0);
	expect_out("managed=yes removed whole",
		   D("<interface type='ethernet'><target dev='vnet0' managed='yes'/></interface>"),
		   MG_XML_INACTIVE, NULL, D("<interface type='ethernet'></interface>"), 1);
	expect_out("managed=No is not no",
		   D("<interface type='ethernet'><target dev='vnet0' managed='No'/></interface>"),
		   MG_XML_INACTIVE, NULL, D("<interface type='ethernet'></interface>"), 1);
	expect_out("every target of an interface (no promotion of a second one)",
		   D("<interface type='bridge'><target dev='vnet0'/><target dev='vnet1'/>"
		     "<target dev='tap1'/></interface>"),
		   MG_XML_INACTIVE, NULL,
		   D("<interface type='bridge'><target dev='tap1'/></interface>"), 2);
	expect_out("namespaced target ignored",
		   "<domain xmlns:x='urn:x'><devices><interface type='bridge'><x:target dev='vnet0'/>"
		   "</interface></devices></domain>", MG_XML_INACTIVE, NULL,
		   "<domain xmlns:x='urn:x'><devices><interface type='bridge'><x:target dev='vnet0'/>"
		   "</interface></devices></domain>", 0);
	expect_out("default-namespaced interface ignored",
		   "<domain><devices><interface xmlns='urn:y' type='bridge'><target dev='vnet0'/>"
		   "</interface></devices></domain>", MG_XML_INACTIVE, NULL,
		   "<domain><devices><interface xmlns='urn:y' type='bridge'><target dev='vnet0'/>"
		   "</interface></devices></domain>", 0);
	expect_out("target outside devices/interface untouched",
		   "<domain><metadata><target dev='vnet0'/></metadata><devices><disk><target dev='vnet0'/>"
		   "</disk><hostdev><target dev='macvtap0'/></hostdev></devices></domain>",
		   MG_XML_INACTIVE, NULL,
		   "<domain><metadata><target dev='vnet0'/></metadata><devices><disk><target dev='vnet0'/>"
		   "</disk><hostdev><target dev='macvtap0'/></hostdev></devices></domain>", 0);
	expect_out("target without dev untouched",
		   D("<interface type='ethernet'><target managed='yes'/></interface>"),
		   MG_XML_INACTIVE, NULL, D("<interface type='ethernet'><target managed='yes'/></interface>"), 0);
	expect_out("character reference in dev",
		   D("<interface type='bridge'><target dev='&#118;net0'/></interface>"),
		   MG_XML_INACTIVE, NULL, D("<interface type='bridge'></interface>"), 1);
	expect_out("two devices sections (libvirt reads ./devices/interface)",
		   "<domain><devices><interface><target dev='vnet0'/></interface></devices>"
		   "<devices><interface><target dev='vnet1'/></interface></devices></domain>",
		   MG_XML_INACTIVE, NULL,
		   "<domain><devices><interface></interface></devices>"
		   "<devices><interface></interface></devices></domain>", 2);
	expect_out("live keeps", D("<interface type='direct'><target dev='macvtap0'/></interface>"),
		   MG_XML_LIVE, NULL, D("<interface type='direct'><target dev='macvtap0'/></interface>"), 1);
	expect_out("migratable strips", D("<interface type='direct'><target dev='macvtap0'/></interface>"),
		   MG_XML_MIGRATABLE, NULL, D("<interface type='direct'></interface>"), 1);
	expect_out("prefix vif", D("<interface type='bridge'><target dev='vif2.0'/></interface>"),
		   MG_XML_INACTIVE, "vif", D("<interface type='bridge'></interface>"), 1);
	expect_out("xml declaration, comments, PI and CDATA kept",
		   "<?xml version='1.0'?>\n<!-- a -->\n<?pi x?>\n<domain><![CDATA[<target dev='vnet0'/>]]>"
		   "<devices><!-- <target dev='vnet0'/> --><interface type='bridge' b=\"1\" a='>'>"
		   "<target dev='vnet0'/></interface></devices></domain>\n<!-- z -->\n",
		   MG_XML_INACTIVE, NULL,
		   "<?xml version='1.0'?>\n<!-- a -->\n<?pi x?>\n<domain><![CDATA[<target dev='vnet0'/>]]>"
		   "<devices><!-- <target dev='vnet0'/> --><interface type='bridge' b=\"1\" a='>'>"
		   "</interface></devices></domain>\n<!-- z -->\n", 1);
	expect_out("domstatus live unchanged",
		   "<domstatus state='running'><domain><devices><interface><target dev='vnet0'/>"
		   "</interface></devices></domain></domstatus>", MG_XML_LIVE, NULL,
		   "<domstatus state='running'><domain><devices><interface><target dev='vnet0'/>"
		   "</interface></devices></domain></domstatus>", 1);
	expect_out("domstatus inactive gives the inner domain",
		   "<?xml version='1.0'?>\n<domstatus state='running'>\n  <domain id='1'>\n    <devices>"
		   "<interface><target dev='vnet0'/></interface></devices>\n  </domain>\n</domstatus>\n",
		   MG_XML_INACTIVE, NULL,
		   "<?xml version='1.0'?>\n<domain id='1'>\n    <devices>"
		   "<interface></interface></devices>\n  </domain>\n", 1);
	expect_out("domstatus namespace carried to the domain",
		   "<domstatus xmlns:q='urn:q'><domain><q:x/><devices/></domain></domstatus>",
		   MG_XML_INACTIVE, NULL, "<domain xmlns:q='urn:q'><q:x/><devices/></domain>\n", 0);

	/* --- idempotence and well-formed output on a busy document --- */
	{
		const char *in = "<domain><name>n</name><devices>\n"
				 "  <interface type='direct'>\n    <target dev='macvtap0'/>\n  </interface>\n"
				 "  <interface type='ethernet'>\n    <target dev='vnet3' managed='no'/>\n  </interface>\n"
				 "</devices></domain>\n";
		struct mg_xml_result a, b;
		int ra = run(in, strlen(in), MG_XML_INACTIVE, NULL, &a);
		int rb = ra ? -1 : run(a.out, a.out_len, MG_XML_INACTIVE, NULL, &b);
		check(!ra && !rb && !b.changed && b.nfindings == 0 && a.nfindings == 1 &&
		      !strcmp(a.out, b.out), "idempotent", "second pass changed or failed");
		mg_xml_result_free(&a);
		if (!ra)
			mg_xml_result_free(&b);
	}

	/* --- hostile and broken input --- */
	expect_err("empty", "", 0, "empty document");
	expect_err("whitespace only", "  \n", 3, "not well-formed");
	expect_err("non-domain root", "<network><name>x</name></network>", 33, "expected <domain>");
	expect_err("namespaced domain root", "<x:domain xmlns:x='urn:x'/>", 27, "expected <domain>");
	{
		const char *x = "<?xml version='1.0'?>\n<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
				"<domain>&x;</domain>";
		expect_err("XXE", x, strlen(x), "<!DOCTYPE>");
		x = "<!DOCTYPE domain SYSTEM 'http://127.0.0.1:9/evil.dtd'><domain/>";
		expect_err("external DTD", x, strlen(x), "<!DOCTYPE>");
		x = "<!DOCTYPE d [<!ENTITY % p SYSTEM 'file:///etc/passwd'> %p;]><domain/>";
		expect_err("parameter entity", x, strlen(x), "<!DOCTYPE>");
		x = "<!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;'>"
		    "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;'>]><domain>&lol3;</domain>";
		expect_err("billion laughs", x, strlen(x), "<!DOCTYPE>");
		x = "<domain>&undefined;</domain>";
		expect_err("undefined entity", x, strlen(x), "ntity");
		x = "<domain/><domain/>";
		expect_err("two roots", x, strlen(x), "not well-formed");
		x = "<?xml version='1.0' encoding='ISO-8859-1'?><domain/>";
		expect_err("latin-1 declaration", x, strlen(x), "UTF-8 only");
	}
	expect_err("NUL byte", "<domain>\0</domain>", 18, "NUL byte");
	expect_err("invalid byte", "<domain>\xff</domain>", 18, "invalid UTF-8");
	expect_err("overlong", "<domain>\xc0\xaf</domain>", 19, "invalid UTF-8");
	expect_err("surrogate", "<domain>\xed\xa0\x80</domain>", 20, "invalid UTF-8");
	expect_err("above U+10FFFF", "<domain>\xf4\x90\x80\x80</domain>", 21, "invalid UTF-8");
	expect_err("truncated sequence", "<domain>\xe2\x82", 10, "invalid UTF-8");
	expect_err("UTF-16 BOM", "\xff\xfe<domain/>", 11, "invalid UTF-8");
	{
		struct mg_xml_result r;
		int rc = run("<domain>\n\n  <a>\xff</a></domain>", 26, MG_XML_INACTIVE, NULL, &r);
		check(rc && r.err_line == 3 && r.err_col == 6, "error position",
		      "line %ld col %ld", r.err_line, r.err_col);
		mg_xml_result_free(&r);
	}
	{
		size_t depth = 10000, n = 0;
		char *x = malloc(depth * 7 + 32);
		n += (size_t)sprintf(x, "<domain>");
		for (size_t i = 0; i < depth; i++) n += (size_t)sprintf(x + n, "<a>");
		for (size_t i = 0; i < depth; i++) n += (size_t)sprintf(x + n, "</a>");
		n += (size_t)sprintf(x + n, "</domain>");
		expect_err("10000-deep nesting", x, n, "nested deeper");
		free(x);
	}
	{
		struct mg_xml_opts o;
		struct mg_xml_result r;
		const char *x = "<domain><a><b><c/></b></a></domain>";
		mg_xml_opts_init(&o);
		o.max_depth = 3;
		check(mg_xml_sanitize(x, strlen(x), &o, &r) && strstr(r.err, "deeper than 3"),
		      "max depth option", "accepted at depth 4");
		mg_xml_result_free(&r);
		o.max_depth = 4;
		check(!mg_xml_sanitize(x, strlen(x), &o, &r), "max depth option, at the limit",
		      "%s", r.err);
		mg_xml_result_free(&r);
		o.max_size = 10;
		check(mg_xml_sanitize(x, strlen(x), &o, &r) && strstr(r.err, "larger than"),
		      "max size option", "accepted");
		mg_xml_result_free(&r);
	}
	{
		size_t n = 100u << 20;
		char *x = malloc(n);
		memset(x, ' ', n);
		memcpy(x, "<domain>", 8);
		memcpy(x + n - 9, "</domain>", 9);
		expect_err("100 MiB input", x, n, "larger than the limit");
		free(x);
	}
	xmlCleanupParser();
	printf("# %d failed\n", failures);
	return failures ? 1 : 0;
}
