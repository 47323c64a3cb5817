/* libvirt's status directory (/run/libvirt/qemu), watched with inotify: each status
 * file written or removed claims or drops its domain's links (ownership.c); the watch
 * is re-armed when the directory appears later. */
#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include "agent_emit.h"
#include "agent_status_watch.h"

/* Status directory: watched with inotify; re-armed when it appears later. */
void agent_status_watch(struct agent *a)
{
	if (!a->conf.watch_status)
		return;
	if (a->ino_fd < 0) {
		a->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (a->ino_fd < 0) {
			mg_warn("inotify: %s: status files are read only at start", strerror(errno));
			return;
		}
	}
	if (a->ino_wd >= 0)
		return;
	a->ino_wd = inotify_add_watch(a->ino_fd, a->conf.status_dir,
				      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
					      IN_DELETE_SELF | IN_MOVE_SELF);
	if (a->ino_wd >= 0) {
		agent_log(a, "watching libvirt status files in %s", a->conf.status_dir);
		mg_own_reconcile(&a->om, a->conf.status_dir, agent_log, a);
	}
}

void agent_status_on_inotify(struct agent *a)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(a->ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
				if (a->ino_wd >= 0)
					inotify_rm_watch(a->ino_fd, a->ino_wd);
				a->ino_wd = -1;
			} else if (ev->len) {
				mg_own_status_changed(&a->om, a->conf.status_dir, ev->name,
						      (ev->mask & (IN_DELETE | IN_MOVED_FROM)) != 0,
						      agent_log, a);
			}
			p += sizeof(*ev) + ev->len;
		}
	}
}
