/*
 * nlreq: send one crafted rtnetlink link request (or a batch) and report what happened.
 * A test tool: it builds the exact bytes the guard has to judge, the way libvirt,
 * iproute2 or an attacker would.
 *
 *   nlreq del-name NAME            RTM_DELLINK, ifi_index 0 + IFLA_IFNAME (libvirt's way)
 *   nlreq del-index IFINDEX        RTM_DELLINK by ifi_index
 *   nlreq del-altname NAME         RTM_DELLINK, ifi_index 0 + IFLA_ALT_IFNAME
 *   nlreq del-group GROUP          RTM_DELLINK, ifi_index 0 + IFLA_GROUP
 *   nlreq batch-del-name N NAME    N-1 harmless requests, then the libvirt-style delete
 *   nlreq rename IFINDEX NEWNAME   RTM_NEWLINK ifi_index + IFLA_IFNAME
 *   nlreq move IFINDEX NETNS_PATH  RTM_NEWLINK ifi_index + IFLA_NET_NS_FD
 *   nlreq getlink-loop N           N RTM_GETLINK request/ack round trips; prints "rate R/s"
 *   nlreq udp-loop N               N UDP sendto()s of 64 bytes to 127.0.0.1:9 (not netlink:
 *                                  what every other sender pays for the fallback's
 *                                  tracepoints); prints "rate R/s"
 *   nlreq move-group GROUP NETNS_PATH  RTM_NEWLINK ifi_index 0 + IFLA_GROUP + IFLA_NET_NS_FD
 *   nlreq burst-del-name N NAME    N separate sendto()s of a libvirt-style delete, as fast as
 *                                  possible; prints "sent N refused R failed F" (exit 0)
 *   nlreq altname-add IDX NAME     RTM_NEWLINKPROP: add altname NAME to IDX
 *   nlreq batch-group-del IDX G    one send: [SETLINK IDX group G][DELLINK group G]
 *   nlreq batch-altname-del IDX N  one send: [NEWLINKPROP IDX altname N][DELLINK altname N]
 *   nlreq batch-altname-delname IDX N  same, the delete naming N by IFLA_IFNAME
 *   nlreq batch-altname-move IDX N NETNS  [NEWLINKPROP IDX altname N][NEWLINK altname N netns]
 *   nlreq batch-group-move IDX G NETNS    [SETLINK IDX group G][NEWLINK group G netns]
 *   nlreq del-name-family FAMILY NAME  RTM_DELLINK by name with ifi_family FAMILY
 *   nlreq del-index-altname IDX NAME   RTM_DELLINK by index carrying an unused IFLA_ALT_IFNAME
 *   nlreq big-del NAME MIB         one send of MIB MiB: [DELLINK NAME][NLMSG_NOOP padding]
 *                                  (SO_SNDBUFFORCE: root only)
 *   nlreq ioctl-rename NAME NEW    ioctl(SIOCSIFNAME)
 *   nlreq ioctl-vlan-del NAME      ioctl(SIOCSIFVLAN, DEL_VLAN_CMD)
 *   nlreq ioctl-delbr NAME         ioctl(SIOCBRDELBR)
 *   nlreq tun-unpersist NAME       attach to tun/tap NAME, ioctl(TUNSETPERSIST, 0)
 *
 * Exit: 0 every message acknowledged without error; 3 sendmsg refused with EPERM (the
 * guard); 2 the kernel answered an error; 1 usage or local failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/if_vlan.h>
#include <linux/sockios.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#ifndef IFLA_ALT_IFNAME
#define IFLA_ALT_IFNAME 53
#endif

#ifndef IFLA_PROP_LIST
#define IFLA_PROP_LIST 52
#endif
#ifndef RTM_NEWLINKPROP
#define RTM_NEWLINKPROP 108
#endif

static char sbuf[1 << 16];
static char *buf = sbuf;
static size_t used;
static unsigned nmsgs;

static struct nlmsghdr *msg_begin(unsigned short type, unsigned short flags, int ifindex)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)(buf + used);
	struct ifinfomsg *ifi;

	memset(nh, 0, NLMSG_SPACE(sizeof(*ifi)));
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nh->nlmsg_seq = ++nmsgs;
	ifi = NLMSG_DATA(nh);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nh;
}

static void attr(struct nlmsghdr *nh, unsigned short type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	a->nla_type = type;
	a->nla_len = (unsigned short)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void msg_end(struct nlmsghdr *nh)
{
	used += NLMSG_ALIGN(nh->nlmsg_len);
}

static struct nlattr *nest_begin(struct nlmsghdr *nh, unsigned short type)
{
	struct nlattr *a = (struct nlattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	a->nla_type = type | NLA_F_NESTED;
	a->nla_len = NLA_HDRLEN;
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + NLA_HDRLEN;
	return a;
}

static void nest_end(struct nlmsghdr *nh, struct nlattr *a)
{
	a->nla_len = (unsigned short)((char *)nh + nh->nlmsg_len - (char *)a);
}

/* RTM_NEWLINKPROP: add altname to the device with index idx */
static void msg_altname_add(int idx, const char *name)
{
	struct nlmsghdr *nh = msg_begin(RTM_NEWLINKPROP, 0, idx);
	struct nlattr *list = nest_begin(nh, IFLA_PROP_LIST);

	attr(nh, IFLA_ALT_IFNAME, name, strlen(name) + 1);
	nest_end(nh, list);
	msg_end(nh);
}

static int nsfd_of(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		perror("nlreq: netns");
	return fd;
}

static int sndbuf_force;

static int send_and_ack(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char rbuf[1 << 16];
	unsigned acked = 0;
	int worst = 0;

	if (fd < 0) {
		perror("nlreq: socket");
		return 1;
	}
	if (sndbuf_force &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf_force, sizeof(sndbuf_force))) {
		perror("nlreq: SO_SNDBUFFORCE");
		return 1;
	}
	if (sendto(fd, buf, used, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		printf("refused: %s\n", strerror(e));
		return e == EPERM ? 3 : 1;
	}
	while (acked < nmsgs) {
		ssize_t n = recv(fd, rbuf, sizeof(rbuf), 0);
		struct nlmsghdr *nh;

		if (n <= 0) {
			perror("nlreq: recv");
			return 1;
		}
		for (nh = (struct nlmsghdr *)rbuf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type != NLMSG_ERROR)
				continue;
			struct nlmsgerr *err = NLMSG_DATA(nh);
			acked++;
			if (err->error) {
				printf("msg %u: kernel: %s\n", nh->nlmsg_seq, strerror(-err->error));
				if (nh->nlmsg_seq == nmsgs)
					worst = 2;
			} else {
				printf("msg %u: ok\n", nh->nlmsg_seq);
			}
		}
	}
	close(fd);
	return worst;
}

static int usage(void)
{
	fprintf(stderr, "usage: nlreq del-name NAME | del-index IDX | del-altname NAME | "
			"del-group GROUP | batch-del-name N NAME | rename IDX NEWNAME | move IDX NETNS\n");
	return 1;
}

/* A non-deleting load: what every netlink user on the host pays for the guard. */
static int getlink_loop(long n)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct timespec t0, t1;
	char rbuf[1 << 15];
	long i;

	if (fd < 0)
		return 1;
	used = 0;
	struct nlmsghdr *nh = msg_begin(RTM_GETLINK, 0, 1);
	nh->nlmsg_flags &= (unsigned short)~NLM_F_ACK;   /* one reply per request */
	msg_end(nh);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		if (send(fd, buf, used, 0) < 0 || recv(fd, rbuf, sizeof(rbuf), 0) < 0) {
			perror("nlreq: getlink");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("rate %.1f/s\n", n / ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9));
	close(fd);
	return 0;
}

/* A non-netlink load: the fallback's syscall tracepoints run on every sendto of the host. */
static int udp_loop(long n)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timespec t0, t1;
	char pkt[64] = { 0 };
	long i;

	if (fd < 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		/* nothing listens on port 9: ECONNREFUSED from an earlier ICMP is fine */
		if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
		    errno != ECONNREFUSED) {
			perror("nlreq: udp sendto");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("rate %.1f/s\n", n / ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9));
	close(fd);
	return 0;
}

/* N deletion attempts, one sendto each, on one socket. */
static int burst(int n, const char *name)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char rbuf[8192];
	struct nlmsghdr *nh;
	int i, refused = 0, failed = 0;

	if (fd < 0) {
		perror("nlreq: socket");
		return 1;
	}
	nh = msg_begin(RTM_DELLINK, 0, 0);
	attr(nh, IFLA_IFNAME, name, strlen(name) + 1);
	msg_end(nh);
	for (i = 0; i < n; i++) {
		if (sendto(fd, buf, used, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			if (errno == EPERM)
				refused++;
			else
				failed++;
			continue;
		}
		/* the kernel acks: drain so the socket never overflows */
		while (recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT) > 0)
			;
	}
	close(fd);
	printf("sent %d refused %d failed %d\n", n, refused, failed);
	return 0;
}

/* ioctl result as an exit code: 0 ok, 3 EPERM, 2 other error */
static int ioctl_rc(int r, const char *what)
{
	if (r == 0) {
		printf("%s: ok\n", what);
		return 0;
	}
	printf("%s: %s\n", what, strerror(errno));
	return errno == EPERM ? 3 : 2;
}

static int ioctl_op(int argc, char **argv)
{
	const char *op = argv[1];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		perror("nlreq: socket");
		return 1;
	}
	if (!strcmp(op, "ioctl-rename") && argc == 4) {
		struct ifreq ifr = {};
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[2]);
		snprintf(ifr.ifr_newname, sizeof(ifr.ifr_newname), "%s", argv[3]);
		return ioctl_rc(ioctl(fd, SIOCSIFNAME, &ifr), "SIOCSIFNAME");
	}
	if (!strcmp(op, "ioctl-vlan-del") && argc == 3) {
		struct vlan_ioctl_args va = { .cmd = DEL_VLAN_CMD };
		snprintf(va.device1, sizeof(va.device1), "%s", argv[2]);
		return ioctl_rc(ioctl(fd, SIOCSIFVLAN, &va), "SIOCSIFVLAN DEL_VLAN_CMD");
	}
	if (!strcmp(op, "ioctl-delbr") && argc == 3) {
		char name[IFNAMSIZ] = {};
		snprintf(name, sizeof(name), "%s", argv[2]);
		return ioctl_rc(ioctl(fd, SIOCBRDELBR, name), "SIOCBRDELBR");
	}
	if (!strcmp(op, "tun-unpersist") && argc == 3) {
		struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
		int tfd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (tfd < 0) {
			perror("nlreq: /dev/net/tun");
			return 1;
		}
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[2]);
		if (ioctl(tfd, TUNSETIFF, &ifr))
			return ioctl_rc(-1, "TUNSETIFF");
		return ioctl_rc(ioctl(tfd, TUNSETPERSIST, 0), "TUNSETPERSIST 0");
	}
	return usage();
}

int main(int argc, char **argv)
{
	struct nlmsghdr *nh;

	if (argc < 3)
		return usage();
	const char *op = argv[1];
	if (!strcmp(op, "getlink-loop") && argc == 3)
		return getlink_loop(atol(argv[2]));
	if (!strcmp(op, "udp-loop") && argc == 3)
		return udp_loop(atol(argv[2]));
	if (!strcmp(op, "burst-del-name") && argc == 4)
		return burst(atoi(argv[2]), argv[3]);
	if (!strncmp(op, "ioctl-", 6) || !strcmp(op, "tun-unpersist"))
		return ioctl_op(argc, argv);
	if (!strcmp(op, "del-name") && argc == 3) {
		nh = msg_begin(RTM_DELLINK, 0, 0);
		attr(nh, IFLA_IFNAME, argv[2], strlen(argv[2]) + 1);
		msg_end(nh);
	} else if (!strcmp(op, "del-index") && argc == 3) {
		msg_end(msg_begin(RTM_DELLINK, 0, atoi(argv[2])));
	} else if (!strcmp(op, "del-altname") && argc == 3) {
		nh = msg_begin(RTM_DELLINK, 0, 0);
		attr(nh, IFLA_ALT_IFNAME, argv[2], strlen(argv[2]) + 1);
		msg_end(nh);
	} else if (!strcmp(op, "del-group") && argc == 3) {
		unsigned group = (unsigned)atoi(argv[2]);
		nh = msg_begin(RTM_DELLINK, 0, 0);
		attr(nh, IFLA_GROUP, &group, sizeof(group));
		msg_end(nh);
	} else if (!strcmp(op, "batch-del-name") && argc == 4) {
		int n = atoi(argv[2]), i;
		for (i = 0; i < n - 1; i++) {
			/* harmless: a lookup, and a delete of a name that does not exist */
			if (i % 2) {
				nh = msg_begin(RTM_GETLINK, 0, 1);
			} else {
				char name[24];
				snprintf(name, sizeof(name), "nosuch%d", i);
				nh = msg_begin(RTM_DELLINK, 0, 0);
				attr(nh, IFLA_IFNAME, name, strlen(name) + 1);
			}
			msg_end(nh);
		}
		nh = msg_begin(RTM_DELLINK, 0, 0);
		attr(nh, IFLA_IFNAME, argv[3], strlen(argv[3]) + 1);
		msg_end(nh);
	} else if (!strcmp(op, "rename") && argc == 4) {
		nh = msg_begin(RTM_NEWLINK, 0, atoi(argv[2]));
		attr(nh, IFLA_IFNAME, argv[3], strlen(argv[3]) + 1);
		msg_end(nh);
	} else if (!strcmp(op, "move-group") && argc == 4) {
		int nsfd = open(argv[3], O_RDONLY | O_CLOEXEC);
		unsigned group = (unsigned)atoi(argv[2]), fdv;
		if (nsfd < 0) {
			perror("nlreq: netns");
			return 1;
		}
		fdv = (unsigned)nsfd;
		nh = msg_begin(RTM_NEWLINK, 0, 0);
		attr(nh, IFLA_GROUP, &group, sizeof(group));
		attr(nh, IFLA_NET_NS_FD, &fdv, sizeof(fdv));
		msg_end(nh);
	} else if (!strcmp(op, "altname-add") && argc == 4) {
		msg_altname_add(atoi(argv[2]), argv[3]);
	} else if (!strcmp(op, "batch-group-del") && argc == 4) {
		unsigned group = (unsigned)atoi(argv[3]);
		nh = msg_begin(RTM_SETLINK, 0, atoi(argv[2]));
		attr(nh, IFLA_GROUP, &group, sizeof(group));
		msg_end(nh);
		nh = msg_begin(RTM_DELLINK, 0, 0);
		attr(nh, IFLA_GROUP, &group, sizeof(group));
		msg_end(nh);
	} else if ((!strcmp(op, "batch-altname-del") || !strcmp(op, "batch-altname-delname")) &&
		   argc == 4) {
		msg_altname_add(atoi(argv[2]), argv[3]);
		nh = msg_begin(RTM_DELLINK, 0, 0);
		attr(nh, !strcmp(op, "batch-altname-del") ? IFLA_ALT_IFNAME : IFLA_IFNAME, argv[3],
		     strlen(argv[3]) + 1);
		msg_end(nh);
	} else if (!strcmp(op, "batch-altname-move") && argc == 5) {
		int nsfd = nsfd_of(argv[4]);
		unsigned fdv;
		if (nsfd < 0)
			return 1;
		fdv = (unsigned)nsfd;
		msg_altname_add(atoi(argv[2]), argv[3]);
		nh = msg_begin(RTM_NEWLINK, 0, 0);
		attr(nh, IFLA_ALT_IFNAME, argv[3], strlen(argv[3]) + 1);
		attr(nh, IFLA_NET_NS_FD, &fdv, sizeof(fdv));
		msg_end(nh);
	} else if (!strcmp(op, "batch-group-move") && argc == 5) {
		int nsfd = nsfd_of(argv[4]);
		unsigned group = (unsigned)atoi(argv[3]), fdv;
		if (nsfd < 0)
			return 1;
		fdv = (unsigned)nsfd;
		nh = msg_begin(RTM_SETLINK, 0, atoi(argv[2]));
		attr(nh, IFLA_GROUP, &group, sizeof(group));
		msg_end(nh);
		nh = msg_begin(RTM_NEWLINK, 0, 0);
		attr(nh, IFLA_GROUP, &group, sizeof(group));
		attr(nh, IFLA_NET_NS_FD, &fdv, sizeof(fdv));
		msg_end(nh);
	} else if (!strcmp(op, "del-name-family") && argc == 4) {
		nh = msg_begin(RTM_DELLINK, 0, 0);
		((struct ifinfomsg *)NLMSG_DATA(nh))->ifi_family = (unsigned char)atoi(argv[2]);
		attr(nh, IFLA_IFNAME, argv[3], strlen(argv[3]) + 1);
		msg_end(nh);
	} else if (!strcmp(op, "del-index-altname") && argc == 4) {
		nh = msg_begin(RTM_DELLINK, 0, atoi(argv[2]));
		attr(nh, IFLA_ALT_IFNAME, argv[3], strlen(argv[3]) + 1);
		msg_end(nh);
	} else if (!strcmp(op, "big-del") && argc == 4) {
		size_t total = (size_t)atol(argv[3]) << 20;
		struct nlmsghdr *pad;
		if (total < 4096 || total > (1u << 30))
			return usage();
		buf = calloc(1, total);
		if (!buf) {
			perror("nlreq: calloc");
			return 1;
		}
		nh = msg_begin(RTM_DELLINK, 0, 0);
		attr(nh, IFLA_IFNAME, argv[2], strlen(argv[2]) + 1);
		msg_end(nh);
		/* the rest: one NLMSG_NOOP, no ack asked, that the kernel skips */
		pad = (struct nlmsghdr *)(buf + used);
		pad->nlmsg_len = (unsigned)(total - used);
		pad->nlmsg_type = NLMSG_NOOP;
		pad->nlmsg_flags = NLM_F_REQUEST;
		used = total;
		sndbuf_force = (int)(total + (1u << 20)) / 2 + 1;   /* the kernel doubles it */
	} else if (!strcmp(op, "move") && argc == 4) {
		int nsfd = open(argv[3], O_RDONLY | O_CLOEXEC);
		unsigned fdv;
		if (nsfd < 0) {
			perror("nlreq: netns");
			return 1;
		}
		fdv = (unsigned)nsfd;
		nh = msg_begin(RTM_NEWLINK, 0, atoi(argv[2]));
		attr(nh, IFLA_NET_NS_FD, &fdv, sizeof(fdv));
		msg_end(nh);
	} else {
		return usage();
	}
	return send_and_ack();
}
