/* Teardown windows: `hook qemu D stopped` records which libvirtd worker thread tears
 * domain D down (pinned map mg_teardown, see mg_abi.h), `release` closes the window; the
 * agent names the domain on guard events that thread caused. No agent needed to record. */
#ifndef MG_TEARDOWN_H
#define MG_TEARDOWN_H
#include <stdbool.h>
#include <stdint.h>
#include "mg_abi.h"

#define MG_TEARDOWN_PIN MG_PIN_DIR "/mg_teardown"

/* fd of the pinned map; create (and pin) it when asked. Negative errno on failure. */
int mg_teardown_open(bool create);
uint32_t mg_forking_thread(uint32_t ppid, uint32_t self);
int mg_teardown_begin(int fd, const char *domain, const uint8_t uuid[16], uint32_t tgid,
		      uint32_t tid);
int mg_teardown_end(int fd, const char *domain);
/* The open (or recently closed) window an event of pid/tid at ts (CLOCK_BOOTTIME) fell in. */
bool mg_teardown_find(int fd, uint32_t pid, uint32_t tid, uint64_t ts, struct mg_teardown *out);
/* Forget windows closed more than max_age_ns ago. */
void mg_teardown_prune(int fd, uint64_t max_age_ns);
#endif
