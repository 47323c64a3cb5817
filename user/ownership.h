/* Ownership learnt from libvirt without its library: libvirt's per-domain status files
 * (/run/libvirt/qemu/NAME.xml, <domstatus>) and the domain XML its hooks get on stdin.
 *
 *   mg_status_parse   pure function over a buffer (unit-tested on samples)
 *   mg_own_claim      tag the links a running domain holds (owner = its QEMU pid + start)
 *   mg_own_drop       untag a domain's links (all, or those it no longer lists)
 *   mg_own_scan_dir   read every status file of a directory and claim
 *   mg_own_reconcile  drop stale tags (dead QEMU, gone link, reused ifindex, no domain)
 * See docs/libvirt.md. */
#ifndef MG_OWNERSHIP_H
#define MG_OWNERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common.h"

#define MG_OWN_MAX_IFACES    64
#define MG_STATUS_MAX_SIZE   (8u << 20)
#define MG_DEFAULT_STATUS_DIR "/run/libvirt/qemu"
#define MG_DEFAULT_CONF      "/etc/macvguard/macvguard.conf"

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

/* Reads a whole small file (status file, pid file); 0 ok, -errno, 1 too big. */
int mg_read_file(const char *path, size_t max, char **buf, size_t *len);

/* Configuration (/etc/macvguard/macvguard.conf, KEY = VALUE lines, # comments). */
struct mg_conf {
	char status_dir[256];
	char mode[16];
	bool watch_status;
};
void mg_conf_defaults(struct mg_conf *c);
/* Missing file: defaults, 0. Unknown keys or bad values: warning, ignored. */
int mg_conf_load(const char *path, struct mg_conf *c);

/* Maps the ownership code works on. */
struct mg_own_maps {
	int guarded_fd;
	int counts_fd;
};

/* Why a claim/drop happened, printed by the agent (log may be NULL: quiet). */
typedef void (*mg_own_log_fn)(void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Tag each guardable interface of ds that exists as a link in the current netns to the
 * domain and owner pid (start time read now). A link tagged to another domain whose
 * owner is alive is left alone (logged). Returns the number of links tagged or kept. */
int mg_own_claim(const struct mg_own_maps *m, const struct mg_domstatus *ds, uint32_t pid,
		 unsigned source, mg_own_log_fn log, void *ctx);
/* Untag the links tagged (by hook or status file) to domain; with keep set, only those
 * whose current name is not one of keep's interfaces. Manual tags are never touched. */
int mg_own_drop(const struct mg_own_maps *m, const char *domain, const struct mg_domstatus *keep,
		const char *why, mg_own_log_fn log, void *ctx);
/* Agent start: drop stale tags, then claim from every live status file in dir.
 * Prints what it did through log. */
void mg_own_reconcile(const struct mg_own_maps *m, const char *dir, mg_own_log_fn log, void *ctx);
/* One status file changed (name = "NAME.xml" within dir) or went away. */
void mg_own_status_changed(const struct mg_own_maps *m, const char *dir, const char *name,
			   bool gone, mg_own_log_fn log, void *ctx);
/* QEMU pid of a running domain from DIR/NAME.pid; 0 when unknown. */
uint32_t mg_own_pidfile(const char *dir, const char *domain);

#endif
