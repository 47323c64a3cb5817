/* Start windows and creation claims (docs/libvirt.md, "The window at domain start"): the
 * hook's `prepare`/`start begin` records which libvirtd worker thread starts domain D
 * (pinned map mg_start, see mg_abi.h); the guard claims what that thread creates for D
 * (pinned LRU map mg_claims); `started`/`release` close the window and drop D's claims;
 * the hook and the agent drop windows of a daemon that is gone or too old. */
#ifndef MG_START_WINDOW_H
#define MG_START_WINDOW_H
#include <stdbool.h>
#include <stdint.h>
#include "mg_abi.h"

#define MG_START_PIN  MG_PIN_DIR "/mg_start"
#define MG_CLAIMS_PIN MG_PIN_DIR "/mg_claims"

/* fds of the pinned maps; create (and pin) them when asked. Negative errno on failure. */
int mg_start_open(bool create);
int mg_claims_open(bool create);
/* Open D's window for thread tid of tgid (at now, CLOCK_BOOTTIME). An open window of the
 * same domain on that thread is kept as it is (`start begin` after `prepare begin`: its
 * claims stay live): *kept says so. */
int mg_start_begin(int fd, const char *domain, uint32_t tgid, uint32_t tid, uint64_t now,
		   bool *kept);
/* Close every window of domain and drop its claims (claims_fd may be -1). Returns the
 * number of windows closed. */
int mg_start_end(int fd, int claims_fd, const char *domain);
/* Drop windows whose daemon is gone (alive(tgid) false) or older than
 * MG_START_WINDOW_MAX_NS at now, then claims whose window is not live. Returns the number
 * of windows dropped. alive NULL: /proc. */
int mg_start_prune(int fd, int claims_fd, uint64_t now, bool (*alive)(uint32_t tgid));

#endif
