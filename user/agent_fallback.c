/* The flag-only join, for kernels without the fentry deletion path: the fallback BPF
 * object (syscall tracepoints, bpf/fallback.bpf.c) reports RTM_DELLINK senders; the
 * agent's rtnetlink link notifications report deletions; a sender that named the link
 * (by index, by name through the name cache, its lower device, or a veth's peer) within
 * FB_WINDOW_NS is its requester. Unmatched senders become "unseen" records. The same
 * notifications keep the name cache and feed new-link latency (agent_newlinks.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
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
#include "fallback.skel.h"

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
void agent_fallback_expire(struct agent *a, bool all)
{
	uint64_t now = mg_now_boot_ns();
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
			agent_emit(a, &f->ev);
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
		agent_emit(a, &f->ev);
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
	uint64_t now = mg_now_boot_ns();
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
		agent_newlinks_note(a, (uint32_t)ifi->ifi_index, tb[IFLA_IFNAME]);
		return NL_OK;
	}
	agent_newlinks_forget(a, (uint32_t)ifi->ifi_index);
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
		/* what the enforcing guard would have decided (mg_policy.h; queues unknown
		 * here: in use while the owner lives): a would-refuse that went through */
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
		bpf_map_delete_elem(a->st.guarded_fd, &key);
		bpf_map_delete_elem(a->st.counts_fd, &key);
	}
	agent_emit(a, &e);
	return NL_OK;
}

/* The name cache starts from a dump of the links. */
void agent_links_dump(struct agent *a)
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

int agent_links_subscribe(struct agent *a)
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

int agent_fallback_stats(struct agent *a, struct mg_stats *s)
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
void agent_fallback_start(struct agent *a, const char *kernel_why)
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
		if (!strncmp(tfs, "tracefs not mounted", 19))
			mg_strlcpy(a->monitor_remedy, "mount tracefs (mount -t tracefs tracefs "
				   "/sys/kernel/tracing) so that the requester of every deletion is "
				   "known; restart the agent", sizeof(a->monitor_remedy));
		snprintf(buf, sizeof(buf), "cannot attach to syscalls/sys_enter_sendmsg|sendto (%s; %.120s)",
			 strerror(-err), tfs);
		why = buf;
	} else if (ring_buffer__add(a->rb, bpf_map__fd(a->fb->maps.mg_fb_events), on_fb_event, a)) {
		why = "cannot read the fallback ring buffer";
	} else {
		agent_fallback_stats(a, &before);
		fb_trigger();
		agent_fallback_stats(a, &after);
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

/* Losses counted by the fallback's own ring buffer. */
void agent_fallback_check_lost(struct agent *a)
{
	struct mg_stats s;

	if (a->fb && agent_fallback_stats(a, &s) == 0 && s.events_lost > a->fb_lost_seen) {
		agent_emit_lost(a, s.events_lost - a->fb_lost_seen, "fallback ring buffer full");
		a->fb_lost_seen = s.events_lost;
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
}
