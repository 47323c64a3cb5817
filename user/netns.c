/* Network namespaces by name (/run/netns) and by cookie (SO_NETNS_COOKIE, the guard's key). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "mg_abi.h"
#include "names.h"
#include "output.h"
#include "paths.h"
#include "util.h"
#include "netns.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static int open_netns(const char *name)
{
	char path[512];

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

int mg_netns_enter(const char *name, int *saved)
{
	int fd;

	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return -errno;
	fd = open_netns(name);
	if (fd < 0) {
		int e = errno;
		close(*saved);
		*saved = -1;
		return -e;
	}
	if (setns(fd, CLONE_NEWNET)) {
		int e = errno;
		close(fd);
		close(*saved);
		*saved = -1;
		return -e;
	}
	close(fd);
	return 0;
}

int mg_netns_leave(int saved)
{
	int rc = 0;

	if (saved < 0)
		return 0;
	if (setns(saved, CLONE_NEWNET))
		rc = -errno;
	close(saved);
	return rc;
}

int mg_netns_cookie(uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		rc = -errno;
	close(fd);
	return rc;
}

int mg_netns_name_of(uint64_t cookie, char *name, size_t size)
{
	uint64_t own = 0, c;
	struct dirent *de;
	DIR *d;
	int saved, rc = -ENOENT;

	name[0] = 0;
	if (mg_netns_cookie(&own) == 0 && own == cookie)
		return 0;
	d = opendir("/run/netns");
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (mg_netns_enter(de->d_name, &saved))
			continue;
		c = 0;
		mg_netns_cookie(&c);
		mg_netns_leave(saved);
		if (c == cookie) {
			mg_strlcpy(name, de->d_name, size);
			rc = 0;
			break;
		}
	}
	closedir(d);
	return rc;
}

int mg_netns_fd_cookie(int nsfd, uint64_t *cookie)
{
	int saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), rc;

	if (saved < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET)) {
		rc = -errno;
		close(saved);
		return rc;
	}
	rc = mg_netns_cookie(cookie);
	if (setns(saved, CLONE_NEWNET) && !rc)
		rc = -errno;
	close(saved);
	return rc;
}
