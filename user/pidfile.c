/* The agent's pidfile (MG_PIDFILE): held with flock while the agent runs; it names the
 * agent by pid and start time. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output.h"
#include "paths.h"
#include "pidfile.h"
#include "util.h"

int mg_pidfile_take(void)
{
	char buf[64];
	struct stat sb;
	int fd;

	mkdir(MG_RUN_DIR, 0755);
	fd = open(MG_PIDFILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (fd < 0) {
		mg_err("cannot open %s: %s", MG_PIDFILE, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		mg_err("%s is not a regular file", MG_PIDFILE);
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		mg_err("another agent is running (%s is locked)", MG_PIDFILE);
		close(fd);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%d %" PRIu64 "\n", getpid(),
		 mg_proc_start_ticks((uint32_t)getpid()));
	if (ftruncate(fd, 0) || pwrite(fd, buf, strlen(buf), 0) < 0) {
		mg_err("cannot write %s: %s", MG_PIDFILE, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

enum mg_agent_state mg_pidfile_check(pid_t *pid, uint64_t *start_ticks)
{
	int fd = open(MG_PIDFILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	unsigned long long ticks = 0;
	char buf[64];
	struct stat sb;
	ssize_t n;
	int p = 0, fields;

	*pid = 0;
	*start_ticks = 0;
	if (fd < 0)
		return errno == ENOENT ? MG_AGENT_NONE : MG_AGENT_UNKNOWN;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return MG_AGENT_UNKNOWN;
	}
	/* a running agent holds LOCK_EX: a free lock means it is gone, whatever the file
	 * says (it may name a pid that a stranger has since been given) */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return MG_AGENT_NONE;
	}
	n = errno == EWOULDBLOCK ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
	close(fd);
	if (n <= 0)
		return MG_AGENT_UNKNOWN;   /* locked but empty: an agent is starting */
	buf[n] = 0;
	fields = sscanf(buf, "%d %llu", &p, &ticks);
	if (fields < 1 || p <= 0)
		return MG_AGENT_UNKNOWN;
	*pid = p;
	*start_ticks = ticks;
	/* an agent of an earlier version wrote the pid alone: the held lock vouches for it */
	if (fields == 1)
		return kill(p, 0) == 0 || errno == EPERM ? MG_AGENT_RUNNING : MG_AGENT_UNKNOWN;
	return mg_proc_alive((uint32_t)p, ticks) ? MG_AGENT_RUNNING : MG_AGENT_UNKNOWN;
}

pid_t mg_pidfile_read(void)
{
	uint64_t ticks;
	pid_t pid;

	return mg_pidfile_check(&pid, &ticks) == MG_AGENT_RUNNING ? pid : 0;
}
