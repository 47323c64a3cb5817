/* run (the agent), stop, monitor. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <net/if.h>
#include <sys/inotify.h>
#include "agent_journal.h"
#include <netlink/attr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include "cmds.h"
#include "events.h"
#include "netns.h"
#include "ownership.h"
#include "state.h"
#include "teardown.h"

#define MAX_PENDING 256

/* Links created since the agent started that are not guarded yet: the tag latency
 * (creation notification -> tag written) is reported when their tag appears. */
struct pending_link {
	uint32_t ifindex;
	uint64_t created_real_ns;
	char name[MG_IFNAMSIZ];
};

#include "fallback.skel.h"

#define MAX_CLIENTS 16
#define FB_SENDERS  512          /* recent RTM_DELLINK senders kept for the join */
#define FB_WINDOW_NS 3000000000ull
#define NAME_CACHE  4096
#ifndef IFNAMSIZ
#define IFNAMSIZ 16
#endif

/* Fallback: an RTM_DELLINK seen leaving a process, waiting for the notification. */
struct fb_sender {
	struct mg_event ev;      /* requester fields, target_ifindex / req_name */
	uint32_t resolved;       /* ifindex it named (by index, or by name via the cache) */
	bool used;
	bool matched;
};

struct name_entry {
	int ifindex;
	char name[IFNAMSIZ];
};

struct agent {
	struct mg_state st;
	struct ring_buffer *rb;
	struct nl_sock *nl;
	int sigfd;
	int listen_fd;
	int clients[MAX_CLIENTS];
	unsigned long long client_lost[MAX_CLIENTS];
	uint64_t own_cookie;
	unsigned long long kernel_lost_seen;
	unsigned long long events_seen;
	bool json;
	struct mg_conf conf;
	struct mg_own_maps om;
	int td_fd;                      /* pinned mg_teardown */
	int ino_fd, ino_wd;             /* status directory watch */
	struct pending_link pending[MAX_PENDING];
	uint32_t *known;                /* ifindexes that existed or were seen */
	size_t nknown, capknown;
	struct mg_agent_journal aj;  /* flight recorder (user/agent_journal.c) */
	const char *monitor_mode;       /* kernel / fallback / rtnetlink */
	bool kernel_monitor;
	struct fallback_bpf *fb;
	bool fb_ignore;                 /* draining the self-test's record */
	unsigned long long fb_lost_seen;
	struct fb_sender senders[FB_SENDERS];
	unsigned next_sender;
	struct name_entry names[NAME_CACHE];
	struct fb_sender *last_veth;    /* sender of the last veth deletion seen, and when */
	uint64_t last_veth_ns;
	char monitor_reason[512];
};

static void agent_log(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void agent_log(void *ctx, const char *fmt, ...)
{
	char ts[64];
	va_list ap;

	(void)ctx;
	mg_format_time(mg_now_real_ns(), ts, sizeof(ts));
	fprintf(stderr, "macvguard: %s ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A client that cannot keep up loses records; the count goes to it as a LOST record
 * (itself retried until it fits) before anything else, so received + lost is exact. */
static bool flush_client_lost(struct agent *a, int i)
{
	struct mg_wire lost = { .kind = MG_WIRE_LOST };

	if (!a->client_lost[i])
		return true;
	lost.lost = a->client_lost[i];
	mg_strlcpy(lost.where, "monitor socket", sizeof(lost.where));
	if (send(a->clients[i], &lost, sizeof(lost), MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(lost)) {
		a->client_lost[i] = 0;
		return true;
	}
	return false;
}

static void flush_clients(struct agent *a)
{
	int i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (a->clients[i] >= 0)
			flush_client_lost(a, i);
}

static void forward(struct agent *a, const struct mg_wire *w)
{
	unsigned long long n = w->kind == MG_WIRE_LOST ? w->lost : 1;
	int i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		if (a->clients[i] < 0)
			continue;
		if (!flush_client_lost(a, i)) {
			a->client_lost[i] += n;
			continue;
		}
		if (send(a->clients[i], w, sizeof(*w), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno == EAGAIN || errno == ENOBUFS) {
				a->client_lost[i] += n;
			} else {
				close(a->clients[i]);
				a->clients[i] = -1;
			}
		}
	}
}

static void emit(struct agent *a, const struct mg_event *e)
{
	struct mg_wire w = { .kind = MG_WIRE_EVENT };
	struct mg_teardown td;

	a->events_seen++;
	if (e->teardown[0])
		memcpy(w.teardown, e->teardown, sizeof(w.teardown));   /* named by the kernel */
	else if (e->verdict != MG_V_GONE &&
		 mg_teardown_find(a->td_fd, e->pid, e->tid, e->ts_boot_ns, &td))
		memcpy(w.teardown, td.domain, sizeof(w.teardown));
	mg_aj_event(&a->aj, e, w.teardown);   /* a deny is fdatasync'd before it is reported */
	mg_event_print_td(stdout, e, w.teardown, a->json);
	w.ev = *e;
	forward(a, &w);
}

static void emit_lost(struct agent *a, unsigned long long n, const char *where)
{
	struct mg_wire w = { .kind = MG_WIRE_LOST, .lost = n };

	mg_aj_lost(&a->aj, n, where);
	mg_print_lost(stdout, n, where, a->json);
	mg_strlcpy(w.where, where, sizeof(w.where));
	forward(a, &w);
}

static int on_ring_event(void *ctx, void *data, size_t size)
{
	if (size < sizeof(struct mg_event))
		return 0;
	emit(ctx, data);
	return 0;
}

static int fb_stats_sum(struct agent *a, struct mg_stats *s);

static void check_kernel_lost(struct agent *a)
{
	struct mg_stats s;

	if (mg_stats_sum(a->st.stats_fd, &s))
		return;
	if (s.events_lost > a->kernel_lost_seen) {
		emit_lost(a, s.events_lost - a->kernel_lost_seen, "kernel ring buffer full");
		a->kernel_lost_seen = s.events_lost;
	}
	if (a->fb && fb_stats_sum(a, &s) == 0 && s.events_lost > a->fb_lost_seen) {
		emit_lost(a, s.events_lost - a->fb_lost_seen, "fallback ring buffer full");
		a->fb_lost_seen = s.events_lost;
	}
}

/* Owners that exited: mark their tags so the guard stops protecting a dead guest's link
 * (queue counts already drop when its fds close; this covers kinds without queues). */
static void check_owners(struct agent *a)
{
	struct mg_link_key key, next, *prev = NULL;
	struct mg_tag tag;

	while (bpf_map_get_next_key(a->st.guarded_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(a->st.guarded_fd, &key, &tag))
			continue;
		if (tag.flags & MG_TAG_OWNER_GONE)
			continue;
		if (!mg_proc_alive(tag.owner_pid, tag.owner_start)) {
			tag.flags |= MG_TAG_OWNER_GONE;
			bpf_map_update_elem(a->st.guarded_fd, &key, &tag, BPF_EXIST);
		}
	}
}

static bool is_known(struct agent *a, uint32_t ifindex)
{
	for (size_t i = 0; i < a->nknown; i++)
		if (a->known[i] == ifindex)
			return true;
	return false;
}

static void add_known(struct agent *a, uint32_t ifindex)
{
	if (a->nknown == a->capknown) {
		size_t cap = a->capknown ? a->capknown * 2 : 256;
		uint32_t *k = realloc(a->known, cap * sizeof(*k));
		if (!k)
			return;
		a->known = k;
		a->capknown = cap;
	}
	a->known[a->nknown++] = ifindex;
}

static void forget_known(struct agent *a, uint32_t ifindex)
{
	for (size_t i = 0; i < a->nknown; i++)
		if (a->known[i] == ifindex) {
			a->known[i] = a->known[--a->nknown];
			break;
		}
	for (int i = 0; i < MAX_PENDING; i++)
		if (a->pending[i].ifindex == ifindex)
			a->pending[i].ifindex = 0;
}

static void note_newlink(struct agent *a, uint32_t ifindex, struct nlattr *name)
{
	if (!ifindex || is_known(a, ifindex))
		return;
	add_known(a, ifindex);
	for (int i = 0; i < MAX_PENDING; i++) {
		if (a->pending[i].ifindex)
			continue;
		a->pending[i].ifindex = ifindex;
		a->pending[i].created_real_ns = mg_now_real_ns();
		a->pending[i].name[0] = 0;
		if (name)
			mg_strlcpy(a->pending[i].name, nla_data(name), sizeof(a->pending[i].name));
		return;
	}
}

/* New links whose tag appeared: report creation -> guarded latency. */
static void check_pending(struct agent *a)
{
	uint64_t now = mg_now_real_ns();

	for (int i = 0; i < MAX_PENDING; i++) {
		struct pending_link *p = &a->pending[i];
		struct mg_link_key key = { .netns_cookie = a->own_cookie };
		struct mg_tag tag;

		if (!p->ifindex)
			continue;
		key.ifindex = p->ifindex;
		if (bpf_map_lookup_elem(a->st.guarded_fd, &key, &tag) == 0) {
			char d[MG_DOMAIN_LEN + 1];
			mg_strlcpy(d, tag.domain, sizeof(d));
			agent_log(a, "guarded %s (ifindex %u, domain %s) %.1f ms after its creation "
				  "was notified (tagged by %s)", p->name, p->ifindex, d,
				  tag.tagged_at_ns > p->created_real_ns
					  ? (double)(tag.tagged_at_ns - p->created_real_ns) / 1e6 : 0.0,
				  mg_source_name(tag.tagged_by));
			p->ifindex = 0;
		} else if (now - p->created_real_ns > 300ull * 1000000000ull) {
			p->ifindex = 0;   /* never guarded: not a libvirt-owned link */
		}
	}
}

static void load_known(struct agent *a)
{
	struct if_nameindex *ni = if_nameindex(), *p;

	if (!ni)
		return;
	for (p = ni; p->if_index; p++)
		add_known(a, p->if_index);
	if_freenameindex(ni);
}

/* Status directory: watched with inotify; re-armed when it appears later. */
static void watch_status_dir(struct agent *a)
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

static void on_inotify(struct agent *a)
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

/* rtnetlink: a guarded link in the agent's netns disappeared. With the kernel guard the
 * fentry expiry already dropped the tag and reported; without it this is all we see. */
static uint64_t now_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ifindex -> name of the agent's netns, kept from RTM_NEWLINK (a lower device may be
 * gone by the time its dependents' notifications are read). */
static struct name_entry *name_slot(struct agent *a, int ifindex)
{
	return &a->names[(unsigned)ifindex % NAME_CACHE];
}

static void name_set(struct agent *a, int ifindex, const char *name)
{
	struct name_entry *n = name_slot(a, ifindex);

	n->ifindex = ifindex;
	mg_strlcpy(n->name, name, sizeof(n->name));
}

static const char *name_get(struct agent *a, int ifindex)
{
	struct name_entry *n = name_slot(a, ifindex);

	return n->ifindex == ifindex && n->name[0] ? n->name : NULL;
}

static int name_find(struct agent *a, const char *name)
{
	int i;

	for (i = 0; i < NAME_CACHE; i++)
		if (a->names[i].ifindex && !strncmp(a->names[i].name, name, IFNAMSIZ))
			return a->names[i].ifindex;
	return 0;
}

/* Fallback sender records: kept, joined with notifications, reported as "unseen" when
 * no deletion in the agent's netns matched them within the window. */
static void fb_expire(struct agent *a, bool all)
{
	uint64_t now = now_boot_ns();
	unsigned i;

	for (i = 0; i < FB_SENDERS; i++) {
		struct fb_sender *f = &a->senders[i];

		if (!f->used || (!all && now - f->ev.ts_boot_ns < FB_WINDOW_NS))
			continue;
		if (!f->matched) {
			f->ev.record = MG_REC_DELETE;
			f->ev.result = MG_RES_UNSEEN;
			if (!f->ev.ifindex)
				f->ev.ifindex = 0;
			emit(a, &f->ev);
		}
		f->used = false;
	}
}

static int on_fb_event(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;
	struct fb_sender *f;

	if (size < sizeof(struct mg_event) || a->fb_ignore)
		return 0;
	f = &a->senders[a->next_sender++ % FB_SENDERS];
	if (f->used && !f->matched) {   /* window full: report the oldest now */
		f->ev.record = MG_REC_DELETE;
		f->ev.result = MG_RES_UNSEEN;
		emit(a, &f->ev);
	}
	memset(f, 0, sizeof(*f));
	memcpy(&f->ev, data, sizeof(f->ev));
	f->used = true;
	if (f->ev.req_netns_cookie == a->own_cookie) {
		if (f->ev.target_ifindex)
			f->resolved = f->ev.target_ifindex;
		else if (f->ev.req_name[0])
			f->resolved = (uint32_t)name_find(a, f->ev.req_name);
	}
	return 0;
}

/* The newest unexpired sender in our netns that named ifindex (or, with by_lower, whose
 * target is this device's lower/peer). */
static struct fb_sender *fb_match(struct agent *a, uint32_t ifindex, const char *name)
{
	uint64_t now = now_boot_ns();
	struct fb_sender *best = NULL;
	unsigned i;

	if (!ifindex)
		return NULL;
	for (i = 0; i < FB_SENDERS; i++) {
		struct fb_sender *f = &a->senders[i];

		if (!f->used || f->ev.req_netns_cookie != a->own_cookie ||
		    now - f->ev.ts_boot_ns > FB_WINDOW_NS)
			continue;
		if (f->resolved != ifindex &&
		    !(name && !f->resolved && !strncmp(f->ev.req_name, name, IFNAMSIZ)))
			continue;
		if (!best || f->ev.ts_boot_ns > best->ev.ts_boot_ns)
			best = f;
	}
	return best;
}

static bool kind_watched(const char *k)
{
	return !strcmp(k, "macvtap") || !strcmp(k, "macvlan") || !strcmp(k, "veth") ||
	       !strcmp(k, "tun");
}

/* rtnetlink link notifications of the agent's netns. With the kernel deletion path this
 * only keeps the name cache (the fentry records and expires tags). Without it this is
 * where deletions are seen: joined with the fallback's sender records when there are
 * any, requester and path unknown otherwise. */
static int on_link_msg(struct nl_msg *msg, void *arg)
{
	struct agent *a = arg;
	struct nlmsghdr *nh = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	struct mg_link_key key = {};
	struct ifinfomsg *ifi;
	struct mg_tag tag;
	struct mg_event e = {};
	struct fb_sender *f = NULL;
	char kind[MG_IFNAMSIZ] = "";
	const char *lname;
	bool tagged;
	uint32_t link = 0;

	mg_aj_linkmsg(&a->aj, nh);
	if ((nh->nlmsg_type != RTM_DELLINK && nh->nlmsg_type != RTM_NEWLINK) ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return NL_OK;
	ifi = nlmsg_data(nh);
	if (nlmsg_parse(nh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return NL_OK;
	if (nh->nlmsg_type == RTM_NEWLINK) {
		if (tb[IFLA_IFNAME])
			name_set(a, ifi->ifi_index, nla_get_string(tb[IFLA_IFNAME]));
		note_newlink(a, (uint32_t)ifi->ifi_index, tb[IFLA_IFNAME]);
		return NL_OK;
	}
	forget_known(a, (uint32_t)ifi->ifi_index);
	if (a->kernel_monitor)
		return NL_OK;
	if (a->fb)
		ring_buffer__consume(a->rb);   /* senders are written before the notification */
	if (tb[IFLA_LINKINFO] &&
	    nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) == 0 && li[IFLA_INFO_KIND])
		mg_strlcpy(kind, nla_get_string(li[IFLA_INFO_KIND]), sizeof(kind));
	if (!strcmp(kind, "tun") && ifi->ifi_type == ARPHRD_ETHER)
		mg_strlcpy(kind, "tap", sizeof(kind));
	key.netns_cookie = a->own_cookie;
	key.ifindex = (uint32_t)ifi->ifi_index;
	tagged = bpf_map_lookup_elem(a->st.guarded_fd, &key, &tag) == 0;
	if (!tagged && !kind_watched(strcmp(kind, "tap") ? kind : "tun"))
		return NL_OK;
	if (tb[IFLA_LINK])
		link = nla_get_u32(tb[IFLA_LINK]);

	e.ts_boot_ns = now_boot_ns();
	e.record = MG_REC_DELETE;
	e.result = MG_RES_DELETED;
	e.action = MG_ACT_DELETE;
	e.path = MG_PATH_UNKNOWN;
	e.link_netns_cookie = key.netns_cookie;
	e.ifindex = key.ifindex;
	e.target_ifindex = key.ifindex;
	e.queues_state = MG_Q_UNKNOWN;
	memcpy(e.kind, kind, sizeof(e.kind));
	if (tb[IFLA_IFNAME])
		mg_strlcpy(e.ifname, nla_get_string(tb[IFLA_IFNAME]), sizeof(e.ifname));
	if (link && (!strcmp(kind, "macvtap") || !strcmp(kind, "macvlan"))) {
		e.lower_ifindex = link;
		lname = name_get(a, (int)link);
		if (lname)
			mg_strlcpy(e.lower_name, lname, sizeof(e.lower_name));
	}
	if (a->fb) {
		f = fb_match(a, key.ifindex, e.ifname);
		if (f) {
			e.path = MG_PATH_NETLINK;
		} else if (link && (f = fb_match(a, link, NULL))) {
			/* the request named its lower device (or, for a veth, its peer) */
			e.path = strcmp(kind, "veth") ? MG_PATH_CASCADE : MG_PATH_NETLINK;
		} else if (!strcmp(kind, "veth") && a->last_veth &&
			   e.ts_boot_ns - a->last_veth_ns < 200000000ull) {
			/* a veth's peer has no IFLA_LINK once unpaired: its notification comes
			 * right after the requested end's, from the same unregister batch */
			f = a->last_veth;
			e.path = MG_PATH_NETLINK;
		}
		if (f && !strcmp(kind, "veth")) {
			a->last_veth = e.path == MG_PATH_NETLINK && a->last_veth != f ? f : NULL;
			a->last_veth_ns = e.ts_boot_ns;
		}
	}
	if (f) {
		f->matched = true;
		e.req_known = 1;
		e.pid = f->ev.pid;
		e.tid = f->ev.tid;
		e.ppid = f->ev.ppid;
		e.cgroup_id = f->ev.cgroup_id;
		e.req_netns_cookie = f->ev.req_netns_cookie;
		e.msg_type = f->ev.msg_type;
		e.msg_index = f->ev.msg_index;
		memcpy(e.comm, f->ev.comm, sizeof(e.comm));
		memcpy(e.pcomm, f->ev.pcomm, sizeof(e.pcomm));
		memcpy(e.req_name, f->ev.req_name, sizeof(e.req_name));
	}
	if (tagged) {
		e.owner_pid = tag.owner_pid;
		e.verdict = MG_V_GONE;
		memcpy(e.domain, tag.domain, sizeof(e.domain));
		memcpy(e.uuid, tag.uuid, sizeof(e.uuid));
		bpf_map_delete_elem(a->st.guarded_fd, &key);
		bpf_map_delete_elem(a->st.counts_fd, &key);
	}
	emit(a, &e);
	return NL_OK;
}

/* The name cache starts from a dump of the links. */
static void names_dump(struct agent *a)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };

	if (!sk)
		return;
	if (nl_connect(sk, NETLINK_ROUTE) == 0) {
		nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_link_msg, a);
		if (nl_send_simple(sk, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi)) >= 0)
			nl_recvmsgs_default(sk);
	}
	nl_socket_free(sk);
}

static int open_link_monitor(struct agent *a)
{
	a->nl = nl_socket_alloc();
	if (!a->nl)
		return -ENOMEM;
	nl_socket_disable_seq_check(a->nl);
	nl_socket_modify_cb(a->nl, NL_CB_VALID, NL_CB_CUSTOM, on_link_msg, a);
	if (nl_connect(a->nl, NETLINK_ROUTE) || nl_socket_add_membership(a->nl, RTNLGRP_LINK)) {
		nl_socket_free(a->nl);
		a->nl = NULL;
		return -EIO;
	}
	nl_socket_set_nonblocking(a->nl);
	return 0;
}

static int fb_stats_sum(struct agent *a, struct mg_stats *s)
{
	return mg_stats_sum(bpf_map__fd(a->fb->maps.mg_fb_stats), s);
}

/* One RTM_DELLINK of an ifindex that cannot exist (ENODEV): the fallback's trigger. */
static void fb_trigger(void)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {};
	char buf[4096];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return;
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_DELLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = 0x7ffffff0;
	if (send(fd, &req, sizeof(req), 0) == (ssize_t)sizeof(req))
		(void)recv(fd, buf, sizeof(buf), 0);
	close(fd);
}

/* No deletion path in the kernel: syscall tracepoints joined with rtnetlink (load,
 * attach, trigger, verify), or rtnetlink alone. Needs a->rb. */
static void start_fallback(struct agent *a, const char *kernel_why)
{
	struct mg_stats before, after;
	const char *why = NULL;
	char buf[256], tfs[128];
	int err;

	a->fb = fallback_bpf__open();
	if (!a->fb) {
		why = "cannot open the fallback BPF object";
	} else if (getenv("MG_NO_FALLBACK")) {
		why = "fallback disabled by MG_NO_FALLBACK";
	} else if (fallback_bpf__load(a->fb)) {
		snprintf(buf, sizeof(buf), "the kernel refused the syscall tracepoint programs (%s)",
			 strerror(errno));
		why = buf;
	} else if ((err = mg_ensure_tracefs(tfs, sizeof(tfs))) < 0 ||
		   (err = fallback_bpf__attach(a->fb))) {
		snprintf(buf, sizeof(buf), "cannot attach to syscalls/sys_enter_sendmsg|sendto (%s; %.120s)",
			 strerror(-err), tfs);
		why = buf;
	} else if (ring_buffer__add(a->rb, bpf_map__fd(a->fb->maps.mg_fb_events), on_fb_event, a)) {
		why = "cannot read the fallback ring buffer";
	} else {
		fb_stats_sum(a, &before);
		fb_trigger();
		fb_stats_sum(a, &after);
		a->fb_ignore = true;
		ring_buffer__consume(a->rb);
		a->fb_ignore = false;
		if (after.link_msgs <= before.link_msgs)
			why = "the syscall tracepoints attached but did not see a test RTM_DELLINK";
		a->fb_lost_seen = after.events_lost;
	}
	if (!why) {
		a->monitor_mode = "fallback";
		snprintf(a->monitor_reason, sizeof(a->monitor_reason),
			 "syscall tracepoints sys_enter_sendmsg/sys_enter_sendto attached (%.60s), "
			 "NETLINK_ROUTE sends joined with rtnetlink notifications, seen reporting a "
			 "test RTM_DELLINK; flag-only, agent's netns only, no refusals; no kernel "
			 "deletion path: %.200s", tfs, kernel_why);
		return;
	}
	if (a->fb) {
		/* a ring buffer already added stays registered with a->rb: keep the object */
		if (strncmp(why, "the syscall", 11)) {
			fallback_bpf__destroy(a->fb);
		}
		a->fb = NULL;
	}
	a->monitor_mode = "rtnetlink";
	snprintf(a->monitor_reason, sizeof(a->monitor_reason),
		 "rtnetlink link notifications only (agent's netns), requester and path unknown: "
		 "%.150s; no kernel deletion path: %.200s", why, kernel_why);
}

static int open_listener(struct agent *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	mg_strlcpy(sa.sun_path, MG_EVENTS_SOCK, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(MG_EVENTS_SOCK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		int e = errno;
		close(fd);
		return -e;
	}
	chmod(MG_EVENTS_SOCK, 0600);
	a->listen_fd = fd;
	return 0;
}

static void accept_client(struct agent *a)
{
	int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), i;
	const char *knob = getenv("MG_CLIENT_SNDBUF");   /* tests: force client-side loss */
	int sndbuf = knob ? atoi(knob) : 16 << 20;

	if (fd < 0)
		return;
	/* root may exceed wmem_max: room for ~12,000 records per slow client */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	for (i = 0; i < MAX_CLIENTS; i++) {
		if (a->clients[i] < 0) {
			a->clients[i] = fd;
			a->client_lost[i] = 0;
			return;
		}
	}
	close(fd);   /* full */
}

static void write_status(struct agent *a)
{
	json_object *o = json_object_new_object();
	char tmp[] = MG_STATUSFILE ".tmp";

	json_object_object_add(o, "reason", json_object_new_string(a->st.feat.mode_reason));
	json_object_object_add(o, "enforcing", json_object_new_boolean(a->st.enforcing));
	json_object_object_add(o, "adopted", json_object_new_boolean(a->st.adopted));
	json_object_object_add(o, "lsm_loaded", json_object_new_boolean(a->st.feat.lsm_loaded));
	json_object_object_add(o, "lsm_verified", json_object_new_boolean(a->st.feat.lsm_verified));
	json_object_object_add(o, "expiry_attached", json_object_new_boolean(a->st.feat.expiry_attached));
	json_object_object_add(o, "monitor", json_object_new_string(a->monitor_mode));
	json_object_object_add(o, "monitor_reason", json_object_new_string(a->monitor_reason));
	json_object_object_add(o, "delete_verified", json_object_new_boolean(a->st.feat.delete_verified));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	if (json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PRETTY) == 0)
		rename(tmp, MG_STATUSFILE);
	json_object_put(o);
}

/* Queue counts come from module BTF: load the modules first so CO-RE finds their types. */
static void load_modules(void)
{
	const char *mods[] = { "macvtap", "tun" };
	size_t i;

	if (access("/sys/kernel/btf/vmlinux", F_OK))
		return;
	for (i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		char path[64];
		pid_t pid;

		snprintf(path, sizeof(path), "/sys/module/%s", mods[i]);
		if (access(path, F_OK) == 0)
			continue;
		pid = fork();
		if (pid == 0) {
			int devnull = open("/dev/null", O_WRONLY);
			if (devnull >= 0) {
				dup2(devnull, 1);
				dup2(devnull, 2);
			}
			execlp("modprobe", "modprobe", "-q", mods[i], (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
}

static int take_pidfile(void)
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

#define RUN_USAGE "usage: macvguard run [--mode enforce|audit] [-j] [--config FILE] " \
		  "[--status-dir DIR]\n"

int mg_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = { { "mode", required_argument, NULL, 'm' },
					      { "json", no_argument, NULL, 'j' },
					      { "config", required_argument, NULL, 'c' },
					      { "status-dir", required_argument, NULL, 's' },
					      { NULL, 0, NULL, 0 } };
	struct agent a = { .sigfd = -1, .listen_fd = -1, .json = mg_json, .td_fd = -1,
			   .ino_fd = -1, .ino_wd = -1 };
	const char *conf_path = MG_DEFAULT_CONF, *status_dir = NULL;
	struct pollfd pfd[5 + MAX_CLIENTS];
	unsigned mode = MG_MODE_ENFORCE;
	bool mode_given = false;
	struct timespec last = { 0 }, now;
	sigset_t mask;
	int c, i, pidfd, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:jc:s:", opts, NULL)) != -1) {
		if (c == 'c') {
			conf_path = optarg;
		} else if (c == 's') {
			status_dir = optarg;
		} else if (c == 'm') {
			if (mg_parse_mode(optarg, &mode)) {
				mg_err("--mode: enforce or audit");
				return 2;
			}
			mode_given = true;
		} else if (c == 'j') {
			a.json = true;
		} else {
			fprintf(stderr, RUN_USAGE);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, RUN_USAGE);
		return 2;
	}
	mg_conf_defaults(&a.conf);
	if (mg_conf_load(conf_path, &a.conf))
		mg_warn("cannot read %s: %s: using defaults", conf_path, strerror(errno));
	if (status_dir)
		mg_strlcpy(a.conf.status_dir, status_dir, sizeof(a.conf.status_dir));
	if (!mode_given && strcmp(a.conf.mode, "enforce"))
		mg_parse_mode(a.conf.mode, &mode), mode_given = true;
	if (geteuid() != 0) {
		mg_err("run needs root (BPF and netlink administration)");
		return 1;
	}
	for (i = 0; i < MAX_CLIENTS; i++)
		a.clients[i] = -1;
	pidfd = take_pidfile();
	if (pidfd < 0)
		return 1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	a.sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);

	mg_events_autoflush = false;   /* the loop flushes once per batch */
	load_modules();
	if (mg_state_start(&a.st, mode, mode_given)) {
		rc = 1;
		goto out;
	}
	mg_netns_cookie(&a.own_cookie);
	{
		struct mg_config cfg = {};
		struct mg_stats s;
		mg_config_get(a.st.config_fd, &cfg);
		if (mg_stats_sum(a.st.stats_fd, &s) == 0)
			a.kernel_lost_seen = s.events_lost;
		fprintf(stderr, "macvguard: guard %s, mode %s: %s\n",
			a.st.enforcing ? "enforcing" : "flag-only", mg_mode_name(cfg.mode),
			a.st.feat.mode_reason);
		mg_aj_open(&a.aj, mg_mode_name(cfg.mode), a.st.enforcing, a.st.feat.mode_reason);
	}
	a.om.guarded_fd = a.st.guarded_fd;
	a.om.counts_fd = a.st.counts_fd;
	a.td_fd = mg_teardown_open(true);
	if (a.td_fd < 0)
		mg_warn("cannot create %s: %s: events will not name the domain being torn down",
			MG_TEARDOWN_PIN, strerror(-a.td_fd));
	load_known(&a);
	watch_status_dir(&a);
	if (a.ino_wd < 0) {
		agent_log(&a, "status directory %s not there (yet): reconciling tags only, "
			  "watching for it every second", a.conf.status_dir);
		mg_own_reconcile(&a.om, a.conf.status_dir, agent_log, &a);
	}
	a.rb = ring_buffer__new(a.st.events_fd, on_ring_event, &a, NULL);
	if (!a.rb) {
		mg_err("cannot open the event ring buffer: %s", strerror(errno));
		rc = 1;
		goto out;
	}
	if (a.st.enforcing && a.st.feat.delete_verified) {
		a.monitor_mode = "kernel";
		a.kernel_monitor = true;
		mg_strlcpy(a.monitor_reason, a.st.feat.monitor_reason, sizeof(a.monitor_reason));
	} else {
		start_fallback(&a, a.st.feat.monitor_reason[0] ? a.st.feat.monitor_reason :
								    a.st.feat.mode_reason);
	}
	fprintf(stderr, "macvguard: deletion monitor: %s: %s\n", a.monitor_mode, a.monitor_reason);
	write_status(&a);
	names_dump(&a);
	if (open_link_monitor(&a))
		mg_warn("cannot subscribe to rtnetlink link notifications: deletions of guarded "
			"links are not flagged without the kernel guard");
	if (open_listener(&a))
		mg_warn("cannot open %s: `macvguard monitor` will not work", MG_EVENTS_SOCK);
	fprintf(stderr, "macvguard: agent running (pid %d); Ctrl-C stops the agent, the pinned "
			"guard stays (macvguard stop --unpin removes it)\n", getpid());

	for (;;) {
		int n = 0, r;

		pfd[n++] = (struct pollfd){ .fd = a.sigfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = ring_buffer__epoll_fd(a.rb), .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = a.nl ? nl_socket_get_fd(a.nl) : -1, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = a.listen_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = a.ino_wd >= 0 ? a.ino_fd : -1, .events = POLLIN };
		for (i = 0; i < MAX_CLIENTS; i++)
			pfd[n++] = (struct pollfd){ .fd = a.clients[i], .events = 0 };
		r = poll(pfd, (nfds_t)n, MG_AJ_COMMIT_MS);
		if (r < 0 && errno != EINTR) {
			mg_err("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(a.sigfd, &si, sizeof(si)) > 0) {
				fprintf(stderr, "macvguard: %s: agent stopping\n", strsignal((int)si.ssi_signo));
				break;
			}
		}
		ring_buffer__consume(a.rb);
		fflush(stdout);
		flush_clients(&a);
		if (pfd[2].revents & POLLIN)
			nl_recvmsgs_default(a.nl);
		if (pfd[3].revents & POLLIN)
			accept_client(&a);
		if (pfd[4].revents & POLLIN)
			on_inotify(&a);
		check_pending(&a);
		for (i = 0; i < MAX_CLIENTS; i++) {
			if (pfd[5 + i].fd >= 0 && (pfd[5 + i].revents & (POLLHUP | POLLERR))) {
				close(a.clients[i]);
				a.clients[i] = -1;
			}
		}
		check_kernel_lost(&a);
		mg_aj_tick(&a.aj);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec != last.tv_sec) {
			check_owners(&a);
			if (a.ino_wd < 0)
				watch_status_dir(&a);
			mg_teardown_prune(a.td_fd, 60ull * 1000000000ull);
			if (a.fb)
				fb_expire(&a, false);
			last = now;
		}
	}
	ring_buffer__consume(a.rb);
	check_kernel_lost(&a);
	if (a.fb)
		fb_expire(&a, true);
out:
	mg_aj_close(&a.aj, rc ? "error" : "stopped");
	if (a.rb)
		ring_buffer__free(a.rb);
	if (a.fb)
		fallback_bpf__destroy(a.fb);
	if (a.nl)
		nl_socket_free(a.nl);
	for (i = 0; i < MAX_CLIENTS; i++)
		if (a.clients[i] >= 0)
			close(a.clients[i]);
	if (a.ino_fd >= 0)
		close(a.ino_fd);
	if (a.td_fd >= 0)
		close(a.td_fd);
	free(a.known);
	if (a.listen_fd >= 0) {
		close(a.listen_fd);
		unlink(MG_EVENTS_SOCK);
	}
	if (a.st.enforcing)
		fprintf(stderr, "macvguard: the guard stays pinned under %s and keeps enforcing\n",
			MG_PIN_DIR);
	mg_state_close(&a.st);
	unlink(MG_PIDFILE);
	close(pidfd);
	if (a.sigfd >= 0)
		close(a.sigfd);
	return rc;
}

int mg_cmd_stop(int argc, char **argv)
{
	static const struct option opts[] = { { "unpin", no_argument, NULL, 'u' },
					      { NULL, 0, NULL, 0 } };
	bool unpin = false;
	FILE *f;
	int c, pid = 0, i, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "u", opts, NULL)) != -1) {
		if (c == 'u')
			unpin = true;
		else {
			fprintf(stderr, "usage: macvguard stop [--unpin]\n");
			return 2;
		}
	}
	f = fopen(MG_PIDFILE, "re");
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	if (pid > 0 && kill(pid, SIGTERM) == 0) {
		for (i = 0; i < 50 && kill(pid, 0) == 0; i++)
			usleep(100000);
		if (kill(pid, 0) == 0) {
			mg_err("agent pid %d did not stop within 5 s", pid);
			rc = 1;
		} else if (!mg_json) {
			printf("agent pid %d stopped\n", pid);
		}
	} else if (!mg_json) {
		printf("no agent running\n");
	}
	if (unpin) {
		if (mg_state_unpin())
			rc = 1;
		else if (!mg_json)
			printf("guard unpinned from %s: nothing enforces any more\n", MG_PIN_DIR);
	}
	return rc;
}

static volatile sig_atomic_t monitor_stop;
static void on_monitor_signal(int sig)
{
	(void)sig;
	monitor_stop = 1;
}

int mg_cmd_monitor(int argc, char **argv)
{
	static const struct option opts[] = { { "ifname", required_argument, NULL, 'i' },
					      { "domain", required_argument, NULL, 'd' },
					      { "verdict", required_argument, NULL, 'v' },
					      { "kind", required_argument, NULL, 'k' },
					      { "json", no_argument, NULL, 'j' },
					      { NULL, 0, NULL, 0 } };
	struct mg_event_filter filt = { .verdict = -1 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction sact = { .sa_handler = on_monitor_signal };
	bool json = mg_json;
	struct mg_wire w;
	int c, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:d:v:k:j", opts, NULL)) != -1) {
		switch (c) {
		case 'i': filt.ifname = optarg; break;
		case 'd': filt.domain = optarg; break;
		case 'j': json = true; break;
		case 'k': filt.kind = optarg; break;
		case 'v':
			for (filt.verdict = 0; filt.verdict <= MG_V_GONE; filt.verdict++)
				if (!strcmp(optarg, mg_verdict_name((unsigned)filt.verdict)))
					break;
			if (filt.verdict > MG_V_GONE) {
				mg_err("--verdict: none, allow, deny, audit or gone");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: macvguard monitor [-j] [--ifname N] [--domain D] "
					"[--verdict none|allow|deny|audit|gone] [--kind K]\n");
			return 2;
		}
	}
	sigaction(SIGINT, &sact, NULL);
	sigaction(SIGTERM, &sact, NULL);
	mg_strlcpy(sa.sun_path, MG_EVENTS_SOCK, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		mg_err("cannot connect to the agent at %s: %s (start it with `macvguard run`)",
		       MG_EVENTS_SOCK, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	mg_events_autoflush = false;   /* flushed whenever the stream pauses */
	while (!monitor_stop) {
		ssize_t n = recv(fd, &w, sizeof(w), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			/* idle: flush, then wait with a timeout so a signal that lands just
			 * before the wait still ends the loop */
			struct pollfd p = { .fd = fd, .events = POLLIN };

			fflush(stdout);
			poll(&p, 1, 200);
			continue;
		}
		if (n <= 0) {
			fflush(stdout);
			if (!monitor_stop)
				mg_err("the agent closed the event stream");
			close(fd);
			return monitor_stop ? 0 : 1;
		}
		if ((size_t)n != sizeof(w))
			continue;
		if (w.kind == MG_WIRE_LOST)
			mg_print_lost(stdout, w.lost, w.where, json);
		else if (mg_event_matches(&w.ev, &filt))
			mg_event_print_td(stdout, &w.ev, w.teardown, json);
	}
	fflush(stdout);
	close(fd);
	return 0;
}

int mg_cmd_probes(int argc, char **argv)
{
	int n;

	if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off"))) {
		fprintf(stderr, "usage: macvguard probes on|off\n");
		return 2;
	}
	n = mg_delete_probes(!strcmp(argv[1], "on"));
	if (n < 0) {
		mg_err("probes %s: %s", argv[1], strerror(-n));
		return 1;
	}
	if (!mg_json)
		printf("deletion-path probes %s (%d links)\n", !strcmp(argv[1], "on") ? "attached" : "detached", n);
	return 0;
}
