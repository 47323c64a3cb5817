/*
 * holdtap: a stand-in guest. Holds a macvtap queue (/dev/tapN) open, or creates and
 * holds a tun/tap device (--tun NAME, as libvirt does for vnetN), the way QEMU holds
 * its network fds.
 *
 *   holdtap /dev/tapN STATUSFILE
 *   holdtap --tun NAME STATUSFILE
 *
 * Signals: USR1 writes one Ethernet frame to the fd and appends "write ok" or
 * "write failed: ERR" to STATUSFILE; USR2 closes the fd (hot-unplug) and keeps running;
 * TERM/INT exit. STATUSFILE gets "ready PID" once the fd is open.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

static volatile sig_atomic_t want_write, want_close, want_exit;
static void on_sig(int sig)
{
	if (sig == SIGUSR1)
		want_write = 1;
	else if (sig == SIGUSR2)
		want_close = 1;
	else
		want_exit = 1;
}

static void status(const char *path, const char *line)
{
	FILE *f = fopen(path, "a");
	if (f) {
		fprintf(f, "%s\n", line);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	const char *statusfile;
	struct sigaction sa = { .sa_handler = on_sig };
	char line[128];
	bool vnet_hdr = false;
	int fd;

	if (argc == 3) {
		unsigned int flags = 0;
		fd = open(argv[1], O_RDWR);
		statusfile = argv[2];
		if (fd >= 0 && ioctl(fd, TUNGETFEATURES, &flags) == 0) {
			struct ifreq ifr = { 0 };
			if (ioctl(fd, TUNGETIFF, &ifr) == 0)
				vnet_hdr = ifr.ifr_flags & IFF_VNET_HDR;
		}
	} else if (argc == 4 && !strcmp(argv[1], "--tun")) {
		struct ifreq ifr = { 0 };
		fd = open("/dev/net/tun", O_RDWR);
		if (fd >= 0) {
			ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[2]);
			if (ioctl(fd, TUNSETIFF, &ifr)) {
				perror("holdtap: TUNSETIFF");
				return 1;
			}
		}
		statusfile = argv[3];
	} else {
		fprintf(stderr, "usage: holdtap /dev/tapN STATUSFILE | holdtap --tun NAME STATUSFILE\n");
		return 1;
	}
	if (fd < 0) {
		perror("holdtap: open");
		return 1;
	}
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	snprintf(line, sizeof(line), "ready %d", getpid());
	status(statusfile, line);
	while (!want_exit) {
		pause();
		if (want_write) {
			/* macvtap queues start with IFF_VNET_HDR: a 10-byte virtio_net_hdr
			 * (all zero: no offloads) precedes the frame. */
			unsigned char frame[10 + 60] = { [10] = 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
							 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x88, 0xb5 };
			size_t off = vnet_hdr ? 0 : 10;
			want_write = 0;
			if (fd >= 0 && write(fd, frame + off, sizeof(frame) - off) == (ssize_t)(sizeof(frame) - off))
				status(statusfile, "write ok");
			else {
				snprintf(line, sizeof(line), "write failed: %s", fd < 0 ? "closed" : strerror(errno));
				status(statusfile, line);
			}
		}
		if (want_close) {
			want_close = 0;
			if (fd >= 0)
				close(fd);
			fd = -1;
			status(statusfile, "closed");
		}
	}
	return 0;
}
