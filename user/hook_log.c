/* The hook's log: syslog (ident macvguard-hook) and, when set, the file named by
 * $MACVGUARD_HOOK_LOG. The hook prints nothing: libvirt reads its stdout. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>
#include "config.h"
#include "hook_log.h"
#include "output.h"

void hook_log(int prio, const char *fmt, ...)
{
	char raw[1024], msg[1024];
	const char *path = mg_conf()->hook_log;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* domain names and XML come from libvirt's callers: no raw control bytes in logs */
	mg_escape(raw, msg, sizeof(msg));
	openlog("macvguard-hook", LOG_PID, LOG_DAEMON);
	syslog(prio, "%s", msg);
	closelog();
	if (path && *path) {
		int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd >= 0) {
			char line[1100];
			int n = snprintf(line, sizeof(line), "macvguard-hook[%d]: %s\n",
					 (int)getpid(), msg);
			if (n > 0 && write(fd, line, (size_t)n) < 0) {
				/* nowhere left to report it */
			}
			close(fd);
		}
	}
}
