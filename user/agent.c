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
#include "cmds.h"
#include "events.h"
#include "netns.h"
#include "ownership.h"
#include "state.h"
#include "teardown.h"

#define MAX_CLIENTS 16
#define MAX_PENDING 256

/* Links created since the agent started that are not guarded yet: the tag latency
 * (creation notification -> tag written) is reported when their tag appears. */
struct pending_link {
	uint32_t ifindex;
	uint64_t created_real_ns;
	char name[MG_IFNAMSIZ];
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

static void forward(struct agent *a, const struct mg_wire *w)
{
	int i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		if (a->clients[i] < 0)
			continue;
		if (a->client_lost[i] && w->kind == MG_WIRE_EVENT) {
			struct mg_wire lost = { .kind = MG_WIRE_LOST, .lost = a->client_lost[i] };
			mg_strlcpy(lost.where, "monitor socket", sizeof(lost.where));
			if (send(a->clients[i], &lost, sizeof(lost), MSG_DONTWAIT | MSG_NOSIGNAL) ==
			    (ssize_t)sizeof(lost))
				a->client_lost[i] = 0;
		}
		if (send(a->clients[i], w, sizeof(*w), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno == EAGAIN || errno == ENOBUFS) {
				a->client_lost[i]++;
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

static void check_kernel_lost(struct agent *a)
{
	struct mg_stats s;

	if (mg_stats_sum(a->st.stats_fd, &s))
		return;
	if (s.events_lost > a->kernel_lost_seen) {
		emit_lost(a, s.events_lost - a->kernel_lost_seen, "kernel ring buffer full");
		a->kernel_lost_seen = s.events_lost;
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
static int on_link_msg(struct nl_msg *msg, void *arg)
{
	struct agent *a = arg;
	struct nlmsghdr *nh = nlmsg_hdr(msg);
	struct mg_link_key key = {};
	struct ifinfomsg *ifi;
	struct nlattr *name;
	struct mg_tag tag;
	struct mg_event e = {};
	struct timespec ts;

	mg_aj_linkmsg(&a->aj, nh);
	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return NL_OK;
	ifi = nlmsg_data(nh);
	if (nh->nlmsg_type == RTM_NEWLINK) {
		note_newlink(a, (uint32_t)ifi->ifi_index, nlmsg_find_attr(nh, sizeof(*ifi), IFLA_IFNAME));
		return NL_OK;
	}
	if (nh->nlmsg_type != RTM_DELLINK)
		return NL_OK;
	forget_known(a, (uint32_t)ifi->ifi_index);
	key.netns_cookie = a->own_cookie;
	key.ifindex = (uint32_t)ifi->ifi_index;
	if (bpf_map_lookup_elem(a->st.guarded_fd, &key, &tag))
		return NL_OK;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	e.ts_boot_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	e.link_netns_cookie = key.netns_cookie;
	e.ifindex = key.ifindex;
	e.target_ifindex = key.ifindex;
	e.owner_pid = tag.owner_pid;
	e.verdict = MG_V_GONE;
	e.how = MG_HOW_KERNEL;
	e.action = MG_ACT_DELETE;
	e.queues_state = MG_Q_UNKNOWN;
	mg_strlcpy(e.comm, "?", sizeof(e.comm));   /* requester unknown without the guard */
	memcpy(e.domain, tag.domain, sizeof(e.domain));
	memcpy(e.uuid, tag.uuid, sizeof(e.uuid));
	name = nlmsg_find_attr(nh, sizeof(*ifi), IFLA_IFNAME);
	if (name)
		mg_strlcpy(e.ifname, nla_data(name), sizeof(e.ifname));
	bpf_map_delete_elem(a->st.guarded_fd, &key);
	bpf_map_delete_elem(a->st.counts_fd, &key);
	emit(a, &e);
	return NL_OK;
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
	int sndbuf = 4 << 20;

	if (fd < 0)
		return;
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
	write_status(&a);
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
			last = now;
		}
	}
	ring_buffer__consume(a.rb);
	check_kernel_lost(&a);
out:
	mg_aj_close(&a.aj, rc ? "error" : "stopped");
	if (a.rb)
		ring_buffer__free(a.rb);
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
					      { "json", no_argument, NULL, 'j' },
					      { NULL, 0, NULL, 0 } };
	struct mg_event_filter filt = { .verdict = -1 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction sact = { .sa_handler = on_monitor_signal };
	bool json = mg_json;
	struct mg_wire w;
	int c, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:d:v:j", opts, NULL)) != -1) {
		switch (c) {
		case 'i': filt.ifname = optarg; break;
		case 'd': filt.domain = optarg; break;
		case 'j': json = true; break;
		case 'v':
			for (filt.verdict = 1; filt.verdict <= MG_V_GONE; filt.verdict++)
				if (!strcmp(optarg, mg_verdict_name((unsigned)filt.verdict)))
					break;
			if (filt.verdict > MG_V_GONE) {
				mg_err("--verdict: allow, deny, audit or gone");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: macvguard monitor [-j] [--ifname N] [--domain D] "
					"[--verdict allow|deny|audit|gone]\n");
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
	while (!monitor_stop) {
		ssize_t n = recv(fd, &w, sizeof(w), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
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
	close(fd);
	return 0;
}
