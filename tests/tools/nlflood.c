/*
 * nlflood: one sendmsg carrying many rtnetlink link requests, to measure and bound what a
 * single send can cost the guard (tests/guest/guard_cascade.sh, tests/bench/).
 *
 *   nlflood del-name N NAME     N × RTM_DELLINK ifi_index 0 + IFLA_IFNAME NAME, one send
 *   nlflood del-altname N NAME  N × RTM_DELLINK ifi_index 0 + IFLA_ALT_IFNAME NAME, one send
 *   nlflood del-index N IFINDEX N × RTM_DELLINK by ifi_index, one send
 *   nlflood netkit NAME PEER    create a netkit pair in L2 mode (iproute2 6.1 cannot);
 *                               exits 0 when created, 2 when the kernel refused
 *
 * NAME may contain one "%d": it becomes the message's number (distinct names).
 * Prints "sent N: refused|ok|kernel-errors E" and exits 0 when the send was accepted,
 * 3 when the send was refused with EPERM (the guard), 1 on a local failure.
 * Acks are drained but not required (an unprivileged sender gets EPERM acks).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#ifndef IFLA_ALT_IFNAME
#define IFLA_ALT_IFNAME 53
#endif

#define MSG_ROOM 192   /* header + ifinfomsg + one name attribute of up to 128 bytes */

static size_t put_msg(char *p, unsigned seq, int ifindex, unsigned short attr_type, const char *name)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)p;
	struct ifinfomsg *ifi;

	memset(p, 0, MSG_ROOM);
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	nh->nlmsg_type = RTM_DELLINK;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nh->nlmsg_seq = seq;
	ifi = NLMSG_DATA(nh);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (name) {
		struct nlattr *a = (struct nlattr *)(p + NLMSG_ALIGN(nh->nlmsg_len));
		size_t len = strlen(name) + 1;

		a->nla_type = attr_type;
		a->nla_len = (unsigned short)(NLA_HDRLEN + len);
		memcpy((char *)a + NLA_HDRLEN, name, len);
		nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + NLA_ALIGN(a->nla_len);
	}
	return NLMSG_ALIGN(nh->nlmsg_len);
}

static struct nlattr *nest_begin(struct nlmsghdr *nh, unsigned short type)
{
	struct nlattr *a = (struct nlattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN;
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + NLA_HDRLEN;
	return a;
}

static void nest_end(struct nlmsghdr *nh, struct nlattr *a)
{
	a->nla_len = (unsigned short)((char *)nh + nh->nlmsg_len - (char *)a);
}

static void put_attr(struct nlmsghdr *nh, unsigned short type, const void *data, size_t len)
{
	struct nlattr *a = nest_begin(nh, type);

	memcpy((char *)a + NLA_HDRLEN, data, len);
	a->nla_len = (unsigned short)(NLA_HDRLEN + len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len - NLA_HDRLEN + NLA_ALIGN(a->nla_len));
}

/* RTM_NEWLINK kind netkit, mode L2 (so a macvtap can sit on it), peer named PEER. */
static int make_netkit(const char *name, const char *peer)
{
	enum { NK_PEER_INFO = 1, NK_MODE = 5 };          /* IFLA_NETKIT_* */
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static char m[1024], r[4096];
	struct nlmsghdr *nh = (struct nlmsghdr *)m;
	struct nlattr *li, *data, *pi;
	unsigned mode = 0;                               /* NETKIT_L2 */
	int fd;

	nh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	nh->nlmsg_type = RTM_NEWLINK;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	put_attr(nh, IFLA_IFNAME, name, strlen(name) + 1);
	li = nest_begin(nh, IFLA_LINKINFO);
	put_attr(nh, IFLA_INFO_KIND, "netkit", 7);
	data = nest_begin(nh, IFLA_INFO_DATA);
	put_attr(nh, NK_MODE, &mode, sizeof(mode));
	pi = nest_begin(nh, NK_PEER_INFO);
	nh->nlmsg_len += sizeof(struct ifinfomsg);       /* zeroed ifinfomsg of the peer */
	put_attr(nh, IFLA_IFNAME, peer, strlen(peer) + 1);
	nest_end(nh, pi);
	nest_end(nh, data);
	nest_end(nh, li);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0 || sendto(fd, m, nh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return perror("nlflood: netkit"), 1;
	if (recv(fd, r, sizeof(r), 0) > 0 && ((struct nlmsghdr *)r)->nlmsg_type == NLMSG_ERROR) {
		int err = ((struct nlmsgerr *)NLMSG_DATA((struct nlmsghdr *)r))->error;

		if (err) {
			printf("netkit: kernel: %s\n", strerror(-err));
			return 2;
		}
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int n, i, fd, rcvbuf = 1 << 24, errors = 0;
	unsigned short attr_type = IFLA_IFNAME;
	size_t used = 0;
	char *buf, rbuf[1 << 16];
	ssize_t r;

	if (argc == 4 && !strcmp(argv[1], "netkit"))
		return make_netkit(argv[2], argv[3]);
	if (argc != 4 || (n = atoi(argv[2])) <= 0 || n > 100000) {
		fprintf(stderr, "usage: nlflood del-name|del-altname|del-index N NAME|IFINDEX\n");
		return 1;
	}
	if (!strcmp(argv[1], "del-altname"))
		attr_type = IFLA_ALT_IFNAME;
	else if (strcmp(argv[1], "del-name") && strcmp(argv[1], "del-index"))
		return fprintf(stderr, "nlflood: unknown op %s\n", argv[1]), 1;
	buf = malloc((size_t)n * MSG_ROOM);
	if (!buf)
		return perror("nlflood: malloc"), 1;
	for (i = 0; i < n; i++) {
		char name[128];

		if (!strcmp(argv[1], "del-index")) {
			used += put_msg(buf + used, (unsigned)i + 1, atoi(argv[3]), 0, NULL);
			continue;
		}
		if (strstr(argv[3], "%d"))
			snprintf(name, sizeof(name), argv[3], i);
		else
			snprintf(name, sizeof(name), "%s", argv[3]);
		used += put_msg(buf + used, (unsigned)i + 1, 0, attr_type, name);
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return perror("nlflood: socket"), 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	{
		int big = (int)used + 4096;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	}
	if (sendto(fd, buf, used, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		printf("sent %d: refused (%s)\n", n, strerror(e));
		return e == EPERM ? 3 : 1;
	}
	/* Drain what acks arrive (the socket may overflow: not our question). */
	while ((r = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT)) > 0) {
		struct nlmsghdr *nh;
		int len = (int)r;

		for (nh = (struct nlmsghdr *)rbuf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len))
			if (nh->nlmsg_type == NLMSG_ERROR && ((struct nlmsgerr *)NLMSG_DATA(nh))->error)
				errors++;
	}
	printf("sent %d: ok, kernel-errors %d\n", n, errors);
	free(buf);
	close(fd);
	return 0;
}
