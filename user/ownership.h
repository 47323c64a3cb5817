/* Ownership learnt from libvirt without its library: libvirt's per-domain status files
 * (/run/libvirt/qemu/NAME.xml, <domstatus>) and the domain XML its hooks get on stdin.
 *
 *   (parsing: domstatus.h)
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
#include "domstatus.h"

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
