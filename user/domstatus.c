/* Status-file and hook-XML parsing (see domstatus.h): a pure function over a buffer (no
 * netlink, no BPF), so the unit tests can feed it samples. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/tree.h>
#include "domstatus.h"
#include "libvirt_xml.h"
#include "util.h"

static bool is_el(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is_el(c, name))
			return c;
	return NULL;
}

/* Copies attribute or "" into out; returns true when present. */
static bool attr(const xmlNode *n, const char *name, char *out, size_t size)
{
	xmlChar *v;

	out[0] = 0;
	if (!n)
		return false;
	v = xmlGetNoNsProp(n, (const xmlChar *)name);
	if (!v)
		return false;
	mg_strlcpy(out, (const char *)v, size);
	xmlFree(v);
	return true;
}

static void text(const xmlNode *n, char *out, size_t size)
{
	xmlChar *v;

	out[0] = 0;
	if (!n)
		return;
	v = xmlNodeGetContent(n);
	if (!v)
		return;
	/* trim */
	const char *s = (const char *)v;
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	mg_strlcpy(out, s, size);
	for (size_t l = strlen(out); l && (out[l - 1] == ' ' || out[l - 1] == '\n' ||
					   out[l - 1] == '\t' || out[l - 1] == '\r'); l--)
		out[l - 1] = 0;
	xmlFree(v);
}

/* <privateData><created/></privateData> (newer libvirt): an element, optionally with
 * value='yes|no' or text yes/no; an empty element means yes. */
static int created_of(const xmlNode *iface)
{
	const xmlNode *pd = child(iface, "privateData"), *c;
	char v[16];

	if (!pd)
		return -1;
	c = child(pd, "created");
	if (!c)
		return -1;
	if (attr(c, "value", v, sizeof(v)))
		return mg_parse_bool(v);
	text(c, v, sizeof(v));
	return v[0] ? mg_parse_bool(v) : 1;
}

static void parse_iface(const xmlNode *n, struct mg_domstatus *ds)
{
	struct mg_own_iface *i;
	char dev[64];

	if (ds->niface >= MG_OWN_MAX_IFACES) {
		ds->ntruncated++;
		return;
	}
	i = &ds->iface[ds->niface];
	memset(i, 0, sizeof(*i));
	attr(n, "type", i->type, sizeof(i->type));
	attr(child(n, "actual"), "type", i->actual, sizeof(i->actual));
	attr(child(n, "target"), "dev", dev, sizeof(dev));
	if (strlen(dev) >= MG_IFNAMSIZ)
		dev[0] = 0;          /* not a valid link name: nothing to resolve */
	mg_strlcpy(i->dev, dev, sizeof(i->dev));
	i->created = created_of(n);
	ds->niface++;
}

int mg_status_parse(const char *buf, size_t len, struct mg_domstatus *ds, char *err,
		    size_t errsz)
{
	const xmlNode *root, *dom, *devs;
	static const struct mg_lvxml_limits limits = { .max_size = MG_STATUS_MAX_SIZE };
	struct mg_lvxml_err e;
	char tmp[64];
	xmlDoc *doc;
	int rc = -1;

	memset(ds, 0, sizeof(*ds));
	if (err && errsz)
		err[0] = 0;
	doc = mg_lvxml_read(buf, len, &limits, &e);
	if (!doc) {
		mg_seterr(err, errsz, "%s", e.msg);
		return -1;
	}
	root = xmlDocGetRootElement(doc);
	if (is_el(root, "domstatus")) {
		ds->is_status = true;
		attr(root, "state", ds->state, sizeof(ds->state));
		attr(root, "reason", ds->reason, sizeof(ds->reason));
		if (attr(root, "pid", tmp, sizeof(tmp)) && !mg_parse_u32(tmp, &ds->pid)) {
			mg_seterr(err, errsz, "<domstatus pid='%s'> is not a pid", tmp);
			goto out;
		}
		attr(child(root, "job"), "async", ds->job, sizeof(ds->job));
		dom = child(root, "domain");
		if (!dom) {
			mg_seterr(err, errsz, "<domstatus> without <domain>");
			goto out;
		}
	} else if (is_el(root, "domain")) {
		dom = root;
	} else {
		mg_seterr(err, errsz, "root element is <%s>, not <domstatus> or <domain>",
			root ? (const char *)root->name : "");
		goto out;
	}
	text(child(dom, "name"), ds->name, sizeof(ds->name));
	if (!ds->name[0]) {
		mg_seterr(err, errsz, "domain without a <name>");
		goto out;
	}
	text(child(dom, "uuid"), tmp, sizeof(tmp));
	if (tmp[0] && mg_uuid_parse(tmp, ds->uuid))
		memset(ds->uuid, 0, sizeof(ds->uuid));   /* informational: keep going */
	devs = child(dom, "devices");
	for (const xmlNode *c = devs ? devs->children : NULL; c; c = c->next)
		if (is_el(c, "interface"))
			parse_iface(c, ds);
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

bool mg_iface_guardable(const struct mg_own_iface *i)
{
	const char *t = i->actual[0] ? i->actual : i->type;

	if (!i->dev[0])
		return false;
	if (i->created == 0)
		return false;   /* libvirt says it did not create it (managed='no'): not its to delete */
	/* macvtap (direct), and the tap devices of ethernet/bridge/network interfaces. */
	return !strcmp(t, "direct") || !strcmp(t, "ethernet") || !strcmp(t, "bridge") ||
	       !strcmp(t, "network");
}

bool mg_status_live(const struct mg_domstatus *ds)
{
	if (!ds->is_status)
		return true;   /* a hook's <domain>: the op tells */
	return ds->pid && (!strcmp(ds->state, "running") || !strcmp(ds->state, "paused") ||
			   !strcmp(ds->state, "blocked") || !strcmp(ds->state, "pmsuspended"));
}
