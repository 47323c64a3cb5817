/* libvirt's per-domain status file (/run/libvirt/qemu/NAME.xml, <domstatus>) and the
 * domain XML its hooks get on stdin, read through the one hardened libvirt-XML reader
 * (libvirt_xml.h): a pure function over a buffer, unit-tested on samples. */
#ifndef MG_DOMSTATUS_H
#define MG_DOMSTATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mg_abi.h"
#include "libvirt_xml.h"

#define MG_OWN_MAX_IFACES    64
#define MG_STATUS_MAX_SIZE   MG_LVXML_DEFAULT_MAX_SIZE

struct mg_own_iface {
	char type[16];              /* <interface type=...> */
	char actual[16];            /* <actual type=...> (network-backed), "" when absent */
	char dev[MG_IFNAMSIZ];      /* <target dev=...> */
	int  created;               /* <privateData><created>: 1 yes, 0 no, -1 not written */
};

struct mg_domstatus {
	bool is_status;             /* root was <domstatus> (false: a bare <domain>) */
	char state[24];             /* running, paused, shutoff, ... ("" for <domain>) */
	char reason[32];
	char job[32];               /* async job ("" or "none": no job) */
	uint32_t pid;               /* QEMU pid from <domstatus pid=...>, 0 unknown */
	char name[MG_DOMAIN_LEN];
	uint8_t uuid[16];
	size_t niface;
	size_t ntruncated;          /* interfaces beyond MG_OWN_MAX_IFACES (not kept) */
	struct mg_own_iface iface[MG_OWN_MAX_IFACES];
};

/* Parses a status file or a domain XML. 0 on success; -1 with a message in err
 * (malformed, not libvirt's, no name). Never reads outside buf, never aborts. */
int mg_status_parse(const char *buf, size_t len, struct mg_domstatus *ds, char *err,
		    size_t errsz);
/* Does this interface put a link on the host that a teardown could delete by name? */
bool mg_iface_guardable(const struct mg_own_iface *i);
/* running or paused (a live QEMU); migrating domains are running with an async job. */
bool mg_status_live(const struct mg_domstatus *ds);

#endif
