/* The agent's lifecycle (`macvguard run`, see agent.h): pidfile, modules, the guard's
 * state, then one poll loop over signals, the kernel ring buffer, rtnetlink, monitor
 * clients and the status directory, with once-a-second housekeeping. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include "agent.h"
#include "agent_clients.h"
#include "agent_emit.h"
#include "agent_fallback.h"
#include "agent_newlinks.h"
#include "agent_status_watch.h"
#include "netns.h"
#include "pidfile.h"




static int on_ring_event(void *ctx, void *data, size_t size)
{
	if (size < sizeof(struct mg_event))
		return 0;
	agent_emit(ctx, data);
	return 0;
}

static void check_kernel_lost(struct agent *a)
{
	struct mg_stats s;

	if (mg_stats_sum(a->st.stats_fd, &s) == 0 && s.events_lost > a->kernel_lost_seen) {
		agent_emit_lost(a, s.events_lost - a->kernel_lost_seen, "kernel ring buffer full");
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

/* Queue counts and veth peers come from module BTF: load the modules first so CO-RE finds
 * their types (without veth's, the guard reads the peer at its historical offset 0). */
static void load_modules(void)
{
	const char *mods[] = { "macvtap", "tun", "veth" };
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

int mg_agent_run(const struct mg_agent_opts *o)
{
	struct agent *a = calloc(1, sizeof(*a));   /* ~330 KB: not on the stack */
	struct pollfd pfd[5 + MAX_CLIENTS];
	struct timespec last = { 0 }, now;
	sigset_t mask;
	int i, pidfd, rc = 0;

	if (!a) {
		mg_err("out of memory");
		return 1;
	}
	a->sigfd = a->listen_fd = a->td_fd = a->ino_fd = a->ino_wd = -1;
	a->json = o->json;
	a->conf = o->conf;
	for (i = 0; i < MAX_CLIENTS; i++)
		a->clients[i] = -1;
	pidfd = mg_pidfile_take();
	if (pidfd < 0) {
		free(a);
		return 1;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	a->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);

	mg_events_autoflush = false;   /* the loop flushes once per batch */
	load_modules();
	if (mg_state_start(&a->st, o->mode, o->mode_given)) {
		rc = 1;
		goto out;
	}
	mg_netns_cookie(&a->own_cookie);
	{
		struct mg_config cfg = {};
		struct mg_stats s;
		mg_config_get(a->st.config_fd, &cfg);
		if (mg_stats_sum(a->st.stats_fd, &s) == 0)
			a->kernel_lost_seen = s.events_lost;
		mg_info("guard %s, mode %s: %s",
			a->st.enforcing ? "enforcing" : "flag-only", mg_mode_name(cfg.mode),
			a->st.feat.mode_reason);
		mg_aj_open(&a->aj, mg_mode_name(cfg.mode), a->st.enforcing, a->st.feat.mode_reason);
	}
	a->om.guarded_fd = a->st.guarded_fd;
	a->om.counts_fd = a->st.counts_fd;
	a->td_fd = mg_teardown_open(true);
	if (a->td_fd < 0)
		mg_warn("cannot create %s: %s: events will not name the domain being torn down",
			MG_TEARDOWN_PIN, strerror(-a->td_fd));
	agent_newlinks_load(a);
	agent_status_watch(a);
	if (a->ino_wd < 0) {
		agent_log(a, "status directory %s not there (yet): reconciling tags only, "
			  "watching for it every second", a->conf.status_dir);
		mg_own_reconcile(&a->om, a->conf.status_dir, agent_log, a);
	}
	a->rb = ring_buffer__new(a->st.events_fd, on_ring_event, a, NULL);
	if (!a->rb) {
		mg_err("cannot open the event ring buffer: %s", strerror(errno));
		rc = 1;
		goto out;
	}
	if (a->st.enforcing && a->st.feat.delete_verified) {
		a->monitor_mode = "kernel";
		a->kernel_monitor = true;
		mg_strlcpy(a->monitor_reason, a->st.feat.monitor_reason, sizeof(a->monitor_reason));
	} else {
		agent_fallback_start(a, a->st.feat.monitor_reason[0] ? a->st.feat.monitor_reason :
								    a->st.feat.mode_reason);
	}
	mg_info("deletion monitor: %s: %s", a->monitor_mode, a->monitor_reason);
	write_status(a);
	agent_links_dump(a);
	if (agent_links_subscribe(a))
		mg_warn("cannot subscribe to rtnetlink link notifications: deletions of guarded "
			"links are not flagged without the kernel guard");
	if (agent_clients_open(a))
		mg_warn("cannot open %s: `macvguard monitor` will not work", MG_EVENTS_SOCK);
	mg_info("agent running (pid %d); Ctrl-C stops the agent, the pinned guard stays "
		"(macvguard stop --unpin removes it)", getpid());

	for (;;) {
		int n = 0, r;

		pfd[n++] = (struct pollfd){ .fd = a->sigfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = ring_buffer__epoll_fd(a->rb), .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = a->nl ? nl_socket_get_fd(a->nl) : -1, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = a->listen_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = a->ino_wd >= 0 ? a->ino_fd : -1, .events = POLLIN };
		for (i = 0; i < MAX_CLIENTS; i++)
			pfd[n++] = (struct pollfd){ .fd = a->clients[i], .events = 0 };
		r = poll(pfd, (nfds_t)n, MG_AJ_COMMIT_MS);
		if (r < 0 && errno != EINTR) {
			mg_err("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(a->sigfd, &si, sizeof(si)) > 0) {
				mg_info("%s: agent stopping", strsignal((int)si.ssi_signo));
				break;
			}
		}
		ring_buffer__consume(a->rb);
		fflush(stdout);
		agent_clients_flush(a);
		if (pfd[2].revents & POLLIN)
			nl_recvmsgs_default(a->nl);
		if (pfd[3].revents & POLLIN)
			agent_clients_accept(a);
		if (pfd[4].revents & POLLIN)
			agent_status_on_inotify(a);
		agent_newlinks_check(a);
		agent_clients_reap(a, pfd + 5);
		check_kernel_lost(a);
		agent_fallback_check_lost(a);
		mg_aj_tick(&a->aj);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec != last.tv_sec) {
			check_owners(a);
			if (a->ino_wd < 0)
				agent_status_watch(a);
			mg_teardown_prune(a->td_fd, 60ull * 1000000000ull);
			if (a->fb)
				agent_fallback_expire(a, false);
			last = now;
		}
	}
	ring_buffer__consume(a->rb);
	check_kernel_lost(a);
	agent_fallback_check_lost(a);
	if (a->fb)
		agent_fallback_expire(a, true);
out:
	mg_aj_close(&a->aj, rc ? "error" : "stopped");
	if (a->rb)
		ring_buffer__free(a->rb);
	agent_fallback_stop(a);
	agent_clients_close(a);
	if (a->ino_fd >= 0)
		close(a->ino_fd);
	if (a->td_fd >= 0)
		close(a->td_fd);
	free(a->known);
	if (a->st.enforcing)
		mg_info("the guard stays pinned under %s and keeps enforcing", MG_PIN_DIR);
	mg_state_close(&a->st);
	unlink(MG_PIDFILE);
	close(pidfd);
	if (a->sigfd >= 0)
		close(a->sigfd);
	free(a);
	return rc;
}
