/* The agent's pidfile (pidfile.c). */
#ifndef MG_PIDFILE_H
#define MG_PIDFILE_H

#include <stdint.h>
#include <sys/types.h>

/* Create and lock MG_PIDFILE, write "PID START_TICKS"; the fd keeps the lock. -1 when
 * another agent holds it or on error (said on stderr). */
int mg_pidfile_take(void);

enum mg_agent_state {
	MG_AGENT_NONE,      /* no pidfile, or its lock is free: no agent runs */
	MG_AGENT_RUNNING,   /* locked, and *pid is the process that took it */
	MG_AGENT_UNKNOWN,   /* locked, but the pid in it is not the process that wrote it
	                     * (or the file is unreadable): something holds it, never signal */
};
/* What the pidfile says, checked: its flock (a crashed agent's lock is free) and the
 * identity of the process (pid and start time, so a stranger that reused the pid is
 * never taken for the agent). *pid and *start_ticks get what the file names. */
enum mg_agent_state mg_pidfile_check(pid_t *pid, uint64_t *start_ticks);
/* The running agent's pid (MG_AGENT_RUNNING), 0 otherwise. */
pid_t mg_pidfile_read(void);

#endif
