/* The agent's pidfile (MG_PIDFILE): held with flock while the agent runs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output.h"
#include "paths.h"
#include "pidfile.h"

int mg_pidfile_take(void)
{
	char buf[32];
	int fd;

	mkdir(MG_RUN_DIR, 0755);
	fd = open(MG_PIDFILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		mg_err("cannot open %s: %s", MG_PIDFILE, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		mg_err("another agent is running (%s is locked)", MG_PIDFILE);
		close(fd);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%d\n", getpid());
	if (ftruncate(fd, 0) || pwrite(fd, buf, strlen(buf), 0) < 0) {
		mg_err("cannot write %s: %s", MG_PIDFILE, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

pid_t mg_pidfile_read(void)
{
	FILE *f = fopen(MG_PIDFILE, "re");
	int pid = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid > 0 && kill(pid, 0) == 0)
		return pid;
	return 0;
}
