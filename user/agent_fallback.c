/* The flag-only join, for kernels without the fentry deletion path.
 *
 * One job in one file (over the usual ~700 lines on purpose): the link table, the netns
 * ids, the notification handler, the resync after an overflow and the join all keep one
 * invariant — every (netns cookie, ifindex) the notifications name is in the table with
 * the name, kind and lower it had — and split apart each would need the others' insides.
 *
 * The fallback BPF object (syscall tracepoints, bpf/fallback.bpf.c) runs the guard's own
 * walk and policy at request time and writes, into the guard's ring buffer, a verdict per
 * guarded target (audit/allow, flagged as not enforced) and a sender record per resolved
 * unguarded delete target. rtnetlink notifications of every netns the agent knows report
 * the deletions. A request record whose target is the deleted device (same netns cookie,
 * same ifindex; or its lower device: cascade; or a veth's peer) within FB_WINDOW_NS is
 * joined with the deletion into one record, with the request's verdict. Unmatched request
 * records become "unseen" records, one per sender per second with a count; requests that
 * could not have deleted anything (no CAP_NET_ADMIN, no such device) are counted in the
 * kernel (mg_flood) and summarised once a second.
 *
 * Every netns: the notification socket listens with NETLINK_LISTEN_ALL_NSID, which
 * delivers the notifications of every netns that has an id in the agent's netns; the
 * agent gives one (RTM_NEWNSID) to every netns under /run/netns and to the netns of every
 * sender it sees, and maps ids to netns cookies (the tags' key). It holds no reference on
 * those netns (no socket in them), so their teardown is not delayed.
 *
 * No silent loss: the socket is read here (recvmsg, for the id in each message's control
 * data); an overflow (ENOBUFS) becomes a LOST record counting the deletions a resync
 * (dump of every known netns, diffed with the link table) finds missing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include "agent_emit.h"
#include "agent_fallback.h"
#include "agent_newlinks.h"
#include "kernel_probe.h"
#include "netns.h"
#include "fallback.skel.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define GONE_KEEP_NS 5000000000ull      /* a deleted link's name is kept this long */

/* ---- the link table: (netns cookie, ifindex) -> name, kind, lower ---- */

static uint64_t link_hash(uint64_t cookie, uint32_t ifindex)
{
	uint64_t h = cookie * 0x9e3779b97f4a7c15ull ^ ifindex * 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

static struct fb_link *link_find(struct agent *a, uint64_t cookie, uint32_t ifindex)
{
	uint64_t h = link_hash(cookie, ifindex);
	unsigned i;

	for (i = 0; i < FB_LINK_SLOTS; i++) {
		struct fb_link *l = &a->links[(h + i) % FB_LINK_SLOTS];

		if (l->state == FB_LINK_EMPTY)
			return NULL;
		if (l->state != FB_LINK_TOMB && l->cookie == cookie && l->ifindex == ifindex)
			return l;
	}
	return NULL;
}

static struct fb_link *link_put(struct agent *a, uint64_t cookie, uint32_t ifindex)
{
	uint64_t h = link_hash(cookie, ifindex);
	struct fb_link *l = link_find(a, cookie, ifindex);
	unsigned i;

	if (l)
		return l;
	for (i = 0; i < FB_LINK_SLOTS; i++) {
		l = &a->links[(h + i) % FB_LINK_SLOTS];
		if (l->state == FB_LINK_EMPTY || l->state == FB_LINK_TOMB) {
			memset(l, 0, sizeof(*l));
			l->state = FB_LINK_LIVE;
			l->cookie = cookie;
			l->ifindex = ifindex;
			return l;
		}
	}
	return NULL;   /* full: names of this link are not cached */
}

static const char *link_name(struct agent *a, uint64_t cookie, uint32_t ifindex)
{
	struct fb_link *l = link_find(a, cookie, ifindex);

	return l && l->name[0] ? l->name : NULL;
}

/* Deleted links keep their names a while (a lower device's notification may come first). */
static void links_purge(struct agent *a)
{
	uint64_t now = mg_now_boot_ns();
	unsigned i;

	for (i = 0; i < FB_LINK_SLOTS; i++) {
		struct fb_link *l = &a->links[i];

		if (l->state == FB_LINK_GONE && now - l->gone_ns > GONE_KEEP_NS)
			l->state = FB_LINK_TOMB;
	}
}

/* ---- network namespaces: ids in the agent's netns <-> cookies ---- */

static uint64_t nsid_cookie(struct agent *a, int nsid)
{
	int i;

	if (nsid < 0)
		return a->own_cookie;
	for (i = 0; i < FB_NETNS; i++)
		if (a->netns[i].used && a->netns[i].nsid == nsid)
			return a->netns[i].cookie;
	return 0;   /* an id someone else assigned to a netns we have not met */
}

static struct fb_netns *netns_by_cookie(struct agent *a, uint64_t cookie)
{
	int i;

	for (i = 0; i < FB_NETNS; i++)
		if (a->netns[i].used && a->netns[i].cookie == cookie)
			return &a->netns[i];
	return NULL;
}

static int on_nsid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NETNSA_MAX + 1];

	if (nlmsg_parse(nlmsg_hdr(msg), sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) == 0 &&
	    tb[NETNSA_NSID])
		*(int *)arg = (int)nla_get_s32(tb[NETNSA_NSID]);
	return NL_OK;
}

/* The id of the netns behind nsfd in the agent's netns; assigned when it has none. */
static int nsid_of_fd(struct agent *a, int nsfd)
{
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	struct nl_msg *m;
	int nsid = -1;

	if (!a->nlc)
		return -1;
	m = nlmsg_alloc_simple(RTM_NEWNSID, NLM_F_REQUEST | NLM_F_ACK);
	if (!m)
		return -1;
	if (nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO) == 0 &&
	    nla_put_u32(m, NETNSA_FD, (uint32_t)nsfd) == 0 && nla_put_s32(m, NETNSA_NSID, -1) == 0)
		nl_send_sync(a->nlc, m);   /* EEXIST when it has one already: fine */
	else
		nlmsg_free(m);
	m = nlmsg_alloc_simple(RTM_GETNSID, NLM_F_REQUEST);
	if (!m)
		return -1;
	if (nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO) == 0 &&
	    nla_put_u32(m, NETNSA_FD, (uint32_t)nsfd) == 0 && nl_send_auto(a->nlc, m) >= 0) {
		nl_socket_modify_cb(a->nlc, NL_CB_VALID, NL_CB_CUSTOM, on_nsid, &nsid);
		nl_recvmsgs_default(a->nlc);
	}
	nlmsg_free(m);
	return nsid;
}

static void links_dump_fd(struct agent *a, int nsfd, uint64_t cookie);

/* Meet the netns behind nsfd: its cookie, an id, its links. */
static void netns_meet(struct agent *a, int nsfd)
{
	struct stat sb;
	uint64_t cookie = 0;
	int i, nsid, free_slot = -1;

	if (fstat(nsfd, &sb))
		return;
	for (i = 0; i < FB_NETNS; i++) {
		if (!a->netns[i].used) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (a->netns[i].ino == sb.st_ino && a->netns[i].dev == sb.st_dev)
			return;
	}
	if (mg_netns_fd_cookie(nsfd, &cookie) || !cookie || cookie == a->own_cookie)
		return;
	if (free_slot < 0)
		return;   /* FB_NETNS known: more are not watched (docs/monitor.md) */
	nsid = nsid_of_fd(a, nsfd);
	if (nsid < 0)
		return;
	a->netns[free_slot] = (struct fb_netns){ .used = true, .nsid = nsid, .cookie = cookie,
						 .ino = sb.st_ino, .dev = sb.st_dev };
	links_dump_fd(a, nsfd, cookie);
}

static void netns_meet_path(struct agent *a, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		netns_meet(a, fd);
		close(fd);
	}
}

/* Named netns (ip netns) and forgotten ones (their cookie no longer resolves). */
static void netns_scan(struct agent *a)
{
	struct dirent *de;
	char path[300];
	DIR *d;
	d = opendir("/run/netns");
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		netns_meet_path(a, path);
	}
	closedir(d);
}

/* ---- request records from the fallback (via the guard's ring buffer) ---- */

static void emit_unseen(struct agent *a, struct fb_sender *f)
{
	f->ev.record = MG_REC_DELETE;
	f->ev.result = MG_RES_UNSEEN;
	if (f->ev.count == 0)
		f->ev.count = 1;
	agent_emit(a, &f->ev);
}

/* Unmatched request records older than the window (all: at exit): one "unseen" record
 * per sender (tgid) per pass, with a count, so a failing loop is one line a second. */
void agent_fallback_expire(struct agent *a, bool all)
{
	uint64_t now = mg_now_boot_ns();
	unsigned i, j;

	for (i = 0; i < FB_SENDERS; i++) {
		struct fb_sender *f = &a->senders[i];

		if (!f->used || f->matched || (!all && now - f->ev.ts_boot_ns < FB_WINDOW_NS))
			continue;
		f->ev.count = 1;
		for (j = i + 1; j < FB_SENDERS; j++) {
			struct fb_sender *g = &a->senders[j];

			if (g->used && !g->matched && g->ev.pid == f->ev.pid &&
			    g->ev.verdict == MG_V_NONE && f->ev.verdict == MG_V_NONE &&
			    (all || now - g->ev.ts_boot_ns >= FB_WINDOW_NS)) {
				f->ev.count++;
				g->used = false;
			}
		}
		emit_unseen(a, f);
		f->used = false;
	}
	for (i = 0; i < FB_SENDERS; i++) {
		struct fb_sender *f = &a->senders[i];

		if (f->used && f->matched && (all || now - f->ev.ts_boot_ns >= FB_WINDOW_NS))
			f->used = false;
	}
}

/* A request record of the fallback: a delete's target (verdict none) or a verdict on a
 * guarded target, waiting for the deletion it leads to. */
void agent_fallback_request(struct agent *a, const struct mg_event *e)
{
	struct fb_sender *f;

	if (a->fb_ignore)
		return;
	f = &a->senders[a->next_sender++ % FB_SENDERS];
	if (f->used && !f->matched)   /* window full: report the oldest now */
		emit_unseen(a, f);
	memset(f, 0, sizeof(*f));
	f->ev = *e;
	f->used = true;
	if (e->link_netns_cookie && e->link_netns_cookie != a->own_cookie &&
	    !netns_by_cookie(a, e->link_netns_cookie) && e->pid) {
		/* a netns we have not met: the sender is in it (or holds it) right now */
		char path[64];

		snprintf(path, sizeof(path), "/proc/%u/ns/net", e->pid);
		netns_meet_path(a, path);
	}
}

/* The newest unexpired request record that named ifindex in netns cookie. */
static struct fb_sender *fb_match(struct agent *a, uint64_t cookie, uint32_t ifindex,
				  bool verdicts_only)
{
	uint64_t now = mg_now_boot_ns();
	struct fb_sender *best = NULL;
	unsigned i;

	if (!ifindex)
		return NULL;
	for (i = 0; i < FB_SENDERS; i++) {
		struct fb_sender *f = &a->senders[i];

		if (!f->used || f->ev.link_netns_cookie != cookie || f->ev.ifindex != ifindex ||
		    now - f->ev.ts_boot_ns > FB_WINDOW_NS)
			continue;
		if (verdicts_only && f->ev.verdict == MG_V_NONE)
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

/* rtnetlink link notifications (a->cur_cookie: the netns they come from). With the
 * kernel deletion path this only keeps the link table (the fentry records and expires
 * tags). Without it this is where deletions are seen: joined with the fallback's request
 * records when there are any, requester and path unknown otherwise. */
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
	struct fb_link *l;
	char kind[MG_IFNAMSIZ] = "";
	const char *lname;
	uint64_t cookie = a->cur_cookie;
	bool tagged, own = cookie == a->own_cookie;
	uint32_t link = 0;

	if (!a->resyncing)
		mg_aj_linkmsg(&a->aj, nh);
	if ((nh->nlmsg_type != RTM_DELLINK && nh->nlmsg_type != RTM_NEWLINK) ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return NL_OK;
	ifi = nlmsg_data(nh);
	if (nlmsg_parse(nh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return NL_OK;
	if (tb[IFLA_LINKINFO] &&
	    nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) == 0 && li[IFLA_INFO_KIND])
		mg_strlcpy(kind, nla_get_string(li[IFLA_INFO_KIND]), sizeof(kind));
	if (!strcmp(kind, "tun") && ifi->ifi_type == ARPHRD_ETHER)
		mg_strlcpy(kind, "tap", sizeof(kind));
	if (tb[IFLA_LINK])
		link = nla_get_u32(tb[IFLA_LINK]);
	if (nh->nlmsg_type == RTM_NEWLINK) {
		if (cookie && a->links && (l = link_put(a, cookie, (uint32_t)ifi->ifi_index))) {
			l->state = FB_LINK_LIVE;
			l->lost = false;
			l->seen = a->resync_gen;
			l->link = link;
			memcpy(l->kind, kind, sizeof(l->kind));
			if (tb[IFLA_IFNAME])
				mg_strlcpy(l->name, nla_get_string(tb[IFLA_IFNAME]), sizeof(l->name));
		}
		if (own && !a->resyncing)
			agent_newlinks_note(a, (uint32_t)ifi->ifi_index, tb[IFLA_IFNAME]);
		return NL_OK;
	}
	if (own)
		agent_newlinks_forget(a, (uint32_t)ifi->ifi_index);
	if (cookie && a->links && (l = link_find(a, cookie, (uint32_t)ifi->ifi_index))) {
		if (l->state == FB_LINK_GONE && l->lost)
			return NL_OK;   /* already counted lost by a resync */
		if (l->state == FB_LINK_LIVE) {
			l->state = FB_LINK_GONE;
			l->gone_ns = mg_now_boot_ns();
		}
	}
	if (a->kernel_monitor)
		return NL_OK;
	if (a->fb)
		ring_buffer__consume(a->rb);   /* requests are written before the notification */
	key.netns_cookie = cookie;
	key.ifindex = (uint32_t)ifi->ifi_index;
	tagged = cookie && bpf_map_lookup_elem(a->st.guarded_fd, &key, &tag) == 0;
	if (!tagged && !kind_watched(strcmp(kind, "tap") ? kind : "tun"))
		return NL_OK;

	e.ts_boot_ns = mg_now_boot_ns();
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
		lname = a->links ? link_name(a, cookie, link) : NULL;
		if (lname)
			mg_strlcpy(e.lower_name, lname, sizeof(e.lower_name));
	}
	if (a->fb) {
		f = fb_match(a, cookie, key.ifindex, false);
		if (f) {
			e.path = f->ev.how == MG_HOW_LOWER ? MG_PATH_CASCADE : MG_PATH_NETLINK;
		} else if (link && (f = fb_match(a, cookie, link, false))) {
			/* the request named its lower device (or, for a veth, its peer) */
			e.path = strcmp(kind, "veth") ? MG_PATH_CASCADE : MG_PATH_NETLINK;
		} else if (!strcmp(kind, "veth") && a->last_veth && a->last_veth->used &&
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
		e.uid = f->ev.uid;
		e.cgroup_id = f->ev.cgroup_id;
		e.req_netns_cookie = f->ev.req_netns_cookie;
		e.msg_type = f->ev.msg_type;
		e.msg_index = f->ev.msg_index;
		memcpy(e.comm, f->ev.comm, sizeof(e.comm));
		memcpy(e.pcomm, f->ev.pcomm, sizeof(e.pcomm));
		memcpy(e.req_name, f->ev.req_name, sizeof(e.req_name));
		memcpy(e.teardown, f->ev.teardown, sizeof(e.teardown));
		if (f->ev.verdict != MG_V_NONE && f->ev.ifindex == key.ifindex) {
			/* the verdict at request time on this very device: one record per act,
			 * as the kernel guard writes it */
			e.verdict = f->ev.verdict;
			e.reason = f->ev.reason;
			e.how = f->ev.how;
			e.mode = f->ev.mode;
			e.unenforced = f->ev.unenforced;
			e.owner_pid = f->ev.owner_pid;
			e.queues = f->ev.queues;
			e.queues_state = f->ev.queues_state;
			memcpy(e.domain, f->ev.domain, sizeof(e.domain));
			memcpy(e.uuid, f->ev.uuid, sizeof(e.uuid));
		}
	}
	if (tagged) {
		if (e.verdict == MG_V_NONE) {
			/* no request verdict joined: what the enforcing guard would have decided
			 * (mg_policy.h; queues unknown here: in use while the owner lives) */
			if (!(tag.flags & (MG_TAG_RELEASED | MG_TAG_OWNER_GONE)) &&
			    mg_proc_alive(tag.owner_pid, tag.owner_start) &&
			    !(f && f->ev.pid == tag.owner_pid)) {
				e.reason = MG_R_IN_USE;
				mg_aj_would_refuse(&a->aj);
			}
			e.owner_pid = tag.owner_pid;
			e.verdict = MG_V_GONE;
			memcpy(e.domain, tag.domain, sizeof(e.domain));
			memcpy(e.uuid, tag.uuid, sizeof(e.uuid));
		}
		bpf_map_delete_elem(a->st.guarded_fd, &key);
		bpf_map_delete_elem(a->st.counts_fd, &key);
	}
	agent_emit(a, &e);
	return NL_OK;
}

/* Dump the links of the current netns into the table (netns cookie: a->cur_cookie). */
static void links_dump_here(struct agent *a)
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

/* Dump another netns's links: a short-lived socket created inside it (no lasting
 * reference on it). */
static void links_dump_fd(struct agent *a, int nsfd, uint64_t cookie)
{
	int saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	bool was = a->resyncing;

	if (saved < 0)
		return;
	if (setns(nsfd, CLONE_NEWNET) == 0) {
		a->cur_cookie = cookie;
		a->resyncing = true;
		links_dump_here(a);
		a->resyncing = was;
		if (setns(saved, CLONE_NEWNET))
			mg_warn("cannot return to the agent's netns: %s", strerror(errno));
	}
	a->cur_cookie = a->own_cookie;
	close(saved);
}

/* The link table starts from a dump of the agent's netns (and of named ones). */
void agent_links_dump(struct agent *a)
{
	if (!a->links)
		a->links = calloc(FB_LINK_SLOTS, sizeof(*a->links));
	if (!a->links)
		return;
	a->cur_cookie = a->own_cookie;
	a->resyncing = true;
	links_dump_here(a);
	a->resyncing = false;
}

/* ENOBUFS: the kernel dropped notifications. Dump every known netns again; a link in
 * the table that the dumps no longer show went unseen: counted in a LOST record (watched
 * kinds and tagged links, the ones that would have had a record), its tag dropped. */
static void fb_resync(struct agent *a)
{
	char where[600];
	size_t wl;
	unsigned i, n = 0;
	int k;

	a->resync_gen++;
	if (!a->resync_gen)
		a->resync_gen = 1;
	a->cur_cookie = a->own_cookie;
	a->resyncing = true;
	links_dump_here(a);
	a->resyncing = false;
	for (k = 0; k < FB_NETNS; k++) {
		if (!a->netns[k].used)
			continue;
		{
			/* a dump by id: no fd on the netns needed */
			struct nl_sock *sk = nl_socket_alloc();
			struct nl_msg *m;
			struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };

			if (!sk)
				continue;
			if (nl_connect(sk, NETLINK_ROUTE) == 0 &&
			    (m = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP | NLM_F_REQUEST))) {
				if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0 &&
				    nla_put_s32(m, IFLA_TARGET_NETNSID, a->netns[k].nsid) == 0 &&
				    nl_send_auto(sk, m) >= 0) {
					a->cur_cookie = a->netns[k].cookie;
					a->resyncing = true;
					nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_link_msg, a);
					if (nl_recvmsgs_default(sk) < 0)
						a->netns[k].stale = true;   /* the id no longer answers */
					a->resyncing = false;
				}
				nlmsg_free(m);
			}
			nl_socket_free(sk);
		}
	}
	a->cur_cookie = a->own_cookie;
	snprintf(where, sizeof(where), "rtnetlink overflow, resync:");
	wl = strlen(where);
	for (i = 0; i < FB_LINK_SLOTS; i++) {
		struct fb_link *l = &a->links[i];
		struct mg_link_key key = { .netns_cookie = l->cookie, .ifindex = l->ifindex };
		struct mg_tag tag;
		bool tagged;

		if (l->state != FB_LINK_LIVE || l->seen == a->resync_gen)
			continue;
		if (l->cookie != a->own_cookie) {
			struct fb_netns *ns = netns_by_cookie(a, l->cookie);
			if (!ns || ns->stale)
				continue;   /* not dumped: nothing known */
		}
		l->state = FB_LINK_GONE;
		l->gone_ns = mg_now_boot_ns();
		l->lost = true;
		tagged = bpf_map_lookup_elem(a->st.guarded_fd, &key, &tag) == 0;
		if (tagged) {
			bpf_map_delete_elem(a->st.guarded_fd, &key);
			bpf_map_delete_elem(a->st.counts_fd, &key);
		}
		if (!tagged && !kind_watched(strcmp(l->kind, "tap") ? l->kind : "tun"))
			continue;
		n++;
		if (wl + 40 < sizeof(where)) {
			int w = snprintf(where + wl, sizeof(where) - wl, " %s(%u)%s%.20s",
					 l->name, l->ifindex, tagged ? " owner=" : "",
					 tagged ? tag.domain : "");
			if (w > 0)
				wl += (size_t)w;
		}
	}
	if (!n)
		mg_strlcpy(where + wl, " none", sizeof(where) - wl);
	agent_emit_lost(a, n, where);
	a->overflows++;
}

/* A netns died (or its id was removed): the id may be given to another netns next. */
static void nsid_gone(struct agent *a, struct nlmsghdr *nh)
{
	struct nlattr *tb[NETNSA_MAX + 1];
	int i;

	if (nlmsg_parse(nh, sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) || !tb[NETNSA_NSID])
		return;
	for (i = 0; i < FB_NETNS; i++)
		if (a->netns[i].used && a->netns[i].nsid == (int)nla_get_s32(tb[NETNSA_NSID]))
			a->netns[i].used = false;
}

/* Read the notification socket: each message with the netns id it came from. */
void agent_links_recv(struct agent *a)
{
	static char buf[1 << 16];
	char cbuf[CMSG_SPACE(sizeof(int))];
	int fd = nl_socket_get_fd(a->nl), rounds;
	bool overflow = false;

	for (rounds = 0; rounds < 256; rounds++) {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		struct nlmsghdr *nh;
		int nsid = -1;
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == ENOBUFS) {
				overflow = true;
				continue;
			}
			break;
		}
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_NETLINK && c->cmsg_type == NETLINK_LISTEN_ALL_NSID)
				memcpy(&nsid, CMSG_DATA(c), sizeof(nsid));
		a->cur_cookie = nsid_cookie(a, nsid);
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			struct nl_msg *m;

			if (nh->nlmsg_type == RTM_DELNSID) {
				nsid_gone(a, nh);
				continue;
			}
			m = nlmsg_convert(nh);
			if (!m)
				continue;
			on_link_msg(m, a);
			nlmsg_free(m);
		}
		a->cur_cookie = a->own_cookie;
	}
	if (overflow && !a->kernel_monitor)
		fb_resync(a);
}

#define MG_NL_RCVBUF (32 << 20)

int agent_links_subscribe(struct agent *a)
{
	const char *rb = getenv("MG_TEST_NL_RCVBUF");   /* test knob: force overflows */
	int one = 1;

	a->nl = nl_socket_alloc();
	a->nlc = nl_socket_alloc();
	if (!a->nl || !a->nlc || nl_connect(a->nlc, NETLINK_ROUTE)) {
		if (a->nlc)
			nl_socket_free(a->nlc);
		a->nlc = NULL;
	}
	if (!a->nl)
		return -ENOMEM;
	nl_socket_disable_seq_check(a->nl);
	if (nl_connect(a->nl, NETLINK_ROUTE) ||
	    nl_socket_add_memberships(a->nl, RTNLGRP_LINK, RTNLGRP_NSID, 0)) {
		nl_socket_free(a->nl);
		a->nl = NULL;
		return -EIO;
	}
	if (setsockopt(nl_socket_get_fd(a->nl), SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, &one,
		       sizeof(one)))
		mg_warn("rtnetlink: NETLINK_LISTEN_ALL_NSID: %s: deletions in other netns are not "
			"seen", strerror(errno));
	{
		/* A burst of deletions (a netns or a group going away, a host stopping many
		 * guests) queues one notification of ~1.5 KB per link while the agent is busy:
		 * the default buffer (rmem_default, ~200 KB) overflowed at ~100, after which
		 * everything until the resync is only counted as lost. 32 MiB (the kernel
		 * doubles it) holds a burst of ~20,000; the memory is used only while a burst
		 * waits. The test knob forces overflows. */
		int v = rb && *rb ? atoi(rb) : MG_NL_RCVBUF;
		if (setsockopt(nl_socket_get_fd(a->nl), SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)))
			setsockopt(nl_socket_get_fd(a->nl), SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	}
	nl_socket_set_nonblocking(a->nl);
	if (!a->kernel_monitor && a->links)
		netns_scan(a);   /* named netns get ids now: their deletions are seen from here on */
	return 0;
}

int agent_fallback_stats(struct agent *a, struct mg_stats *s)
{
	return mg_stats_sum(a->st.stats_fd, s);
}

/* The kernel's per-uid counts of requests that could not have deleted anything: one
 * summary record per entry (sender and reason) per second. The keys are collected first
 * and each taken once: a flood going on re-creates its entry at once, and restarting the
 * iteration after each delete would summarise it again and again in one tick. */
#define FB_FLOOD_MAX 4096
void agent_fallback_flood(struct agent *a, bool discard)
{
	static struct mg_flood_key keys[FB_FLOOD_MAX];
	struct mg_flood_key *prev = NULL;
	struct mg_flood f;
	int fd, n = 0, i;

	if (!a->fb)
		return;
	fd = bpf_map__fd(a->fb->maps.mg_flood);
	while (n < FB_FLOOD_MAX && bpf_map_get_next_key(fd, prev, &keys[n]) == 0) {
		prev = &keys[n];
		n++;
	}
	for (i = 0; i < n; i++) {
		struct mg_event e = {};
		const struct mg_flood_key *key = &keys[i];

		if (bpf_map_lookup_and_delete_elem(fd, key, &f))
			continue;
		if (discard || !f.count || (f.pid == (uint32_t)getpid() && a->fb_ignore))
			continue;
		e.ts_boot_ns = f.last_ns;
		e.record = MG_REC_SUMMARY;
		e.result = key->why == MG_FLOOD_NOT_PERMITTED ? MG_RES_NOT_PERMITTED : MG_RES_UNSEEN;
		e.path = MG_PATH_NETLINK;
		e.action = f.msg_type == RTM_DELLINK ? MG_ACT_DELETE : 0;
		e.count = f.count > 0xffffffffull ? 0xffffffffu : (uint32_t)f.count;
		e.req_known = 1;
		e.pid = f.pid;
		e.tid = f.tid;
		e.ppid = f.ppid;
		e.uid = key->uid;
		e.cgroup_id = f.cgroup_id;
		e.req_netns_cookie = f.netns_cookie;
		e.msg_type = f.msg_type;
		e.target_ifindex = f.target_ifindex;
		e.unenforced = a->fb_why;
		memcpy(e.comm, f.comm, sizeof(e.comm));
		memcpy(e.req_name, f.req_name, sizeof(f.req_name));
		agent_emit(a, &e);
	}
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

/* Why the guard does not enforce, as the fallback's records say it. */
static unsigned unenforced_why(const struct agent *a)
{
	if (!a->st.feat.btf_vmlinux)
		return MG_UE_NO_BTF;
	if (a->st.feat.lsm_loaded && !a->st.feat.lsm_verified)
		return MG_UE_LSM_OFF;
	return MG_UE_REFUSED;
}

/* The fallback object shares the guard's maps: tags, counts, config, stats, ring buffer,
 * teardown windows. Maps only the LSM path uses are kept minimal. */
static int fb_share_maps(struct agent *a)
{
	struct fallback_bpf *fb = a->fb;
	struct bpf_map *m;
	int err = 0;

	if (!a->st.enforcing)   /* enforcing (no deletion path): the LSM judges requests */
		err = err ?: bpf_map__reuse_fd(fb->maps.mg_guarded, a->st.guarded_fd);
	err = err ?: bpf_map__reuse_fd(fb->maps.mg_counts, a->st.counts_fd);
	err = err ?: bpf_map__reuse_fd(fb->maps.mg_config, a->st.config_fd);
	err = err ?: bpf_map__reuse_fd(fb->maps.mg_stats, a->st.stats_fd);
	err = err ?: bpf_map__reuse_fd(fb->maps.mg_events, a->st.events_fd);
	if (a->td_fd >= 0)
		err = err ?: bpf_map__reuse_fd(fb->maps.mg_teardown, a->td_fd);
	if (a->start_fd >= 0 && a->claims_fd >= 0) {
		err = err ?: bpf_map__reuse_fd(fb->maps.mg_start, a->start_fd);
		err = err ?: bpf_map__reuse_fd(fb->maps.mg_claims, a->claims_fd);
	}
	if (err)
		return err;
	bpf_object__for_each_map(m, fb->obj) {
		const char *n = bpf_map__name(m);

		if (!strcmp(n, "mg_task") || !strcmp(n, "mg_delbuf"))
			bpf_map__set_autocreate(m, false);
		else if (!strcmp(n, "mg_pending") || !strcmp(n, "mg_pending_tids"))
			bpf_map__set_max_entries(m, 64);
	}
	return 0;
}

/* No deletion path in the kernel: syscall tracepoints running the guard's walk joined
 * with rtnetlink (load, attach, trigger, verify), or rtnetlink alone. */
void agent_fallback_start(struct agent *a, const char *kernel_why)
{
	struct mg_stats before, after;
	const char *why = NULL;
	char buf[256], tfs[128];
	int err;

	if (!a->links)
		a->links = calloc(FB_LINK_SLOTS, sizeof(*a->links));
	a->fb_why = (uint8_t)unenforced_why(a);
	a->fb = fallback_bpf__open();
	if (!a->links) {
		why = "out of memory";
	} else if (!a->fb) {
		why = "cannot open the fallback BPF object";
	} else if (getenv("MG_NO_FALLBACK")) {
		why = "fallback disabled by MG_NO_FALLBACK";
	} else if ((err = fb_share_maps(a))) {
		snprintf(buf, sizeof(buf), "cannot share the guard's maps with the fallback (%s)",
			 strerror(-err));
		why = buf;
	} else if ((a->fb->rodata->mg_fb_why = a->fb_why, fallback_bpf__load(a->fb))) {
		snprintf(buf, sizeof(buf), "the kernel refused the syscall tracepoint programs (%s)",
			 strerror(errno));
		why = buf;
	} else if ((err = mg_ensure_tracefs(tfs, sizeof(tfs))) < 0 ||
		   (err = fallback_bpf__attach(a->fb))) {
		if (!strncmp(tfs, "tracefs not mounted", 19))
			mg_strlcpy(a->monitor_remedy, "mount tracefs (mount -t tracefs tracefs "
				   "/sys/kernel/tracing) so that the requester of every deletion is "
				   "known; restart the agent", sizeof(a->monitor_remedy));
		snprintf(buf, sizeof(buf), "cannot attach to syscalls/sys_enter_sendmsg|sendto (%s; %.120s)",
			 strerror(-err), tfs);
		why = buf;
	} else {
		agent_fallback_stats(a, &before);
		fb_trigger();
		agent_fallback_stats(a, &after);
		a->fb_ignore = true;
		ring_buffer__consume(a->rb);
		agent_fallback_flood(a, false);
		a->fb_ignore = false;
		if (after.link_msgs <= before.link_msgs)
			why = "the syscall tracepoints attached but did not see a test RTM_DELLINK";
	}
	if (!why) {
		a->monitor_mode = "fallback";
		snprintf(a->monitor_reason, sizeof(a->monitor_reason),
			 "syscall tracepoints sys_enter_sendmsg/sys_enter_sendto attached (%.60s), "
			 "the guard's walk and policy at request time (flag-only: nothing refused), "
			 "joined with rtnetlink notifications of every netns, seen reporting a test "
			 "RTM_DELLINK; no kernel deletion path: %.140s",
			 tfs, kernel_why);
		return;
	}
	if (a->fb) {
		fallback_bpf__destroy(a->fb);
		a->fb = NULL;
	}
	a->monitor_mode = "rtnetlink";
	snprintf(a->monitor_reason, sizeof(a->monitor_reason),
		 "rtnetlink link notifications only (every netns with an id), requester and path "
		 "unknown: %.150s; no kernel deletion path: %.200s", why, kernel_why);
}

/* Once a second: unmatched requests, flood summaries, new netns, old names. */
void agent_fallback_tick(struct agent *a)
{
	if (a->fb) {
		agent_fallback_expire(a, false);
		agent_fallback_flood(a, false);
	}
	if (a->links && !a->kernel_monitor) {
		netns_scan(a);
		links_purge(a);
	}
}

void agent_fallback_stop(struct agent *a)
{
	if (a->fb)
		fallback_bpf__destroy(a->fb);
	a->fb = NULL;
	if (a->nl)
		nl_socket_free(a->nl);
	a->nl = NULL;
	if (a->nlc)
		nl_socket_free(a->nlc);
	a->nlc = NULL;
	free(a->links);
	a->links = NULL;
}
