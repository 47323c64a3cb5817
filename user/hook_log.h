/* The hook's log (see hook_log.c). */
#ifndef MG_HOOK_LOG_H
#define MG_HOOK_LOG_H

#include <syslog.h>

void hook_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
