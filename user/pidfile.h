/* The agent's pidfile (pidfile.c). */
#ifndef MG_PIDFILE_H
#define MG_PIDFILE_H

#include <sys/types.h>

/* Create and lock MG_PIDFILE, write our pid; the fd keeps the lock. -1 when another
 * agent holds it or on error (said on stderr). */
int mg_pidfile_take(void);
/* The pid in MG_PIDFILE when that process exists; 0 otherwise. */
pid_t mg_pidfile_read(void);

#endif
