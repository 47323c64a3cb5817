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
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
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
#include "kernel_probe.h"
#include "netns.h"
#include "pidfile.h"
#include "start_window.h"

static int on_ring_event(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;
	const struct mg_event *e = data;

	if (size < sizeof(struct mg_event))
		return 0;
	/* the fallback's delete requests wait for the deletion they lead to (one record) */
	if (a->fb && e->unenforced && e->record == MG_REC_REQUEST && e->action == MG_ACT_DELETE &&
	    e->how != MG_HOW_UNPARSED && e->how != MG_HOW_UNRESOLVED) {
		agent_fallback_request(a, e);
		return 0;
	}
	agent_emit(a, e);
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
	/* owners seen alive in this pass: a domain's links share one QEMU, so 1,000 tags
	 * cost a /proc read per owner, not per tag */
	struct { uint32_t pid; uint64_t start; } alive[64];
	unsigned nalive = 0, i;
	unsigned long long n = 0;

	while (bpf_map_get_next_key(a->st.guarded_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
		if (bpf_map_lookup_elem(a->st.guarded_fd, &key, &tag))
			continue;
		if (tag.flags & MG_TAG_OWNER_GONE)
			continue;
		for (i = 0; i < nalive; i++)
			if (alive[i].pid == tag.owner_pid && alive[i].start == tag.owner_start)
				break;
		if (i < nalive)
			continue;
		if (!mg_proc_alive(tag.owner_pid, tag.owner_start)) {
			tag.flags |= MG_TAG_OWNER_GONE;
			bpf_map_update_elem(a->st.guarded_fd, &key, &tag, BPF_EXIST);
		} else if (nalive < MG_ARRAY_SIZE(alive)) {
			alive[nalive].pid = tag.owner_pid;
			alive[nalive++].start = tag.owner_start;
		}
	}
	a->guarded = n;          /* the walk counted the tags: refresh_state need not again */
	a->guarded_fresh = true;
}

/* Tagged links in the guard's map. */
static unsigned long long count_guarded(int fd)
{
	struct mg_link_key key, next, *prev = NULL;
	unsigned long long n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/* The one line systemd shows (STATUS=), the status file's and the startup line's
 * "what state am I in": enforcing or NOT ENFORCING with the cause and the remedy. */
static bool state_line(struct agent *a, char *out, size_t size, char *cause, size_t csz,
		       char *remedy, size_t rsz)
{
	bool enf = mg_guard_explain(&a->st.feat, a->st.attach, a->mode, cause, csz, remedy, rsz);
	char links[64], conf[400] = "";

	snprintf(links, sizeof(links), "%llu guarded link%s", a->guarded, a->guarded == 1 ? "" : "s");
	if (a->conf_problem[0])
		snprintf(conf, sizeof(conf), "; configuration: %.340s", a->conf_problem);
	if (enf)
		snprintf(out, size, "enforcing via %s, mode %s: %s; %s%s",
			 mg_attach_text(a->st.attach), mg_mode_name(a->mode), cause, links, conf);
	else
		snprintf(out, size, "NOT ENFORCING (%s): %s; remedy: %s; %s%s",
			 a->st.enforcing ? "audit" : "flag-only", cause, remedy, links, conf);
	return enf;
}

static void write_status(struct agent *a)
{
	json_object *o = json_object_new_object();
	char tmp[] = MG_STATUSFILE ".tmp", line[1200], cause[400], remedy[400];
	bool enf = state_line(a, line, sizeof(line), cause, sizeof(cause), remedy, sizeof(remedy));

	json_object_object_add(o, "reason", json_object_new_string(a->st.feat.mode_reason));
	json_object_object_add(o, "enforcing", json_object_new_boolean(a->st.enforcing));
	json_object_object_add(o, "guard_enforcing", json_object_new_boolean(enf));
	json_object_object_add(o, "attachment", json_object_new_string(mg_attach_name(a->st.attach)));
	json_object_object_add(o, "mode", json_object_new_string(mg_mode_name(a->mode)));
	json_object_object_add(o, "mode_source", json_object_new_string(a->st.mode_source ?
									  a->st.mode_source : ""));
	json_object_object_add(o, "cause", json_object_new_string(cause));
	json_object_object_add(o, "remedy", json_object_new_string(remedy));
	json_object_object_add(o, "status_line", json_object_new_string(line));
	json_object_object_add(o, "guarded_links", json_object_new_uint64(a->guarded));
	json_object_object_add(o, "config", json_object_new_string(a->conf.path));
	json_object_object_add(o, "config_mode", json_object_new_string(a->conf.mode_set ?
									  a->conf.mode : ""));
	json_object_object_add(o, "config_problem", json_object_new_string(a->conf_problem));
	json_object_object_add(o, "adopted", json_object_new_boolean(a->st.adopted));
	json_object_object_add(o, "lsm_loaded", json_object_new_boolean(a->st.feat.lsm_loaded));
	json_object_object_add(o, "lsm_verified", json_object_new_boolean(a->st.feat.lsm_verified));
	json_object_object_add(o, "expiry_attached", json_object_new_boolean(a->st.feat.expiry_attached));
	json_object_object_add(o, "monitor", json_object_new_string(a->monitor_mode));
	json_object_object_add(o, "monitor_reason", json_object_new_string(a->monitor_reason));
	json_object_object_add(o, "monitor_remedy", json_object_new_string(a->monitor_remedy));
	json_object_object_add(o, "delete_verified", json_object_new_boolean(a->st.feat.delete_verified));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "journal", mg_aj_status_json(&a->aj));
	a->aj.status_changed = false;
	if (json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PRETTY) == 0)
		rename(tmp, MG_STATUSFILE);
	json_object_put(o);
}

/* Mode and tag count, read every second (`macvguard mode`, tags come and go): the
 * metrics' gauges, and STATUS= to systemd when the line changed. */
static void refresh_state(struct agent *a, bool force, bool ready)
{
	struct mg_config cfg = {};
	char line[1200], cause[400], remedy[400];
	bool enf;

	if (mg_config_get(a->st.config_fd, &cfg) == 0)
		a->mode = cfg.mode;
	if (!a->guarded_fresh)
		a->guarded = count_guarded(a->st.guarded_fd);
	a->guarded_fresh = false;
	enf = state_line(a, line, sizeof(line), cause, sizeof(cause), remedy, sizeof(remedy));
	a->aj.g.enforcing = enf;
	a->aj.g.lsm = a->st.enforcing;
	a->aj.g.attach = a->st.attach;
	a->aj.g.mode = a->mode;
	a->aj.g.guarded_links = a->guarded;
	if (force || ready || strcmp(line, a->sd_status)) {
		mg_strlcpy(a->sd_status, line, sizeof(a->sd_status));
		write_status(a);
		sd_notifyf(0, "%sSTATUS=%s", ready ? "READY=1\n" : "", line);
	}
}

static void watchdog_ping(struct agent *a)
{
	uint64_t now = mg_now_mono_ns();

	/* from the main loop only: a loop that blocks stops the pings and systemd restarts
	 * the agent; every quarter interval leaves room for a slow iteration */
	if (a->wd_usec && now - a->wd_last_ns >= a->wd_usec * 1000ull / 4) {
		sd_notify(0, "WATCHDOG=1");
		a->wd_last_ns = now;
	}
}

struct reload_problems {
	char *buf;
	size_t size;
	int n;
};

static void reload_report(void *ctx, const char *where, const char *msg)
{
	struct reload_problems *p = ctx;

	mg_warn("%s: %s", where, msg);
	if (p->n++ == 0)
		snprintf(p->buf, p->size, "%s: %s", where, msg);
}

/* SIGHUP: re-read the configuration. One with errors is not taken (the previous one
 * stays) and said in STATUS=; the agent never exits over it. What a running agent can
 * change: status_dir, watch_status, prometheus_file, systemd_journal. The journal's
 * settings apply at the next start; mode applies only to a fresh load (never to the
 * running guard: `macvguard mode` changes that). */
static void reload(struct agent *a)
{
	struct reload_problems p = { a->conf_problem, sizeof(a->conf_problem), 0 };
	const struct mg_conf *old = mg_conf();
	struct mg_conf c;
	const char *path;
	bool explicit_;
	int rc;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(mg_now_mono_ns() / 1000));
	path = mg_conf_path(a->conf_arg[0] ? a->conf_arg : NULL, &explicit_);
	a->conf_problem[0] = 0;
	mg_conf_defaults(&c);
	rc = mg_conf_read(path, explicit_, &c, reload_report, &p, NULL);
	if (rc) {
		snprintf(a->conf_problem, sizeof(a->conf_problem), "cannot read %s: %s: kept the "
			 "previous configuration", path, strerror(-rc));
		mg_warn("reload: %s", a->conf_problem);
	} else if (p.n) {
		size_t l = strlen(a->conf_problem);
		snprintf(a->conf_problem + l, sizeof(a->conf_problem) - l, "%s: kept the previous "
			 "configuration (macvguard config check %s)",
			 p.n > 1 ? " and more" : "", path);
		mg_warn("reload: %d problem%s in %s: kept the previous configuration", p.n,
			p.n > 1 ? "s" : "", path);
	} else {
		mg_conf_env(&c);
		if (a->status_dir_arg[0])
			mg_strlcpy(c.status_dir, a->status_dir_arg, sizeof(c.status_dir));
		if (strcmp(c.journal_dir, old->journal_dir) || c.journal != old->journal ||
		    c.journal_segment != old->journal_segment || c.journal_retain != old->journal_retain ||
		    strcmp(c.host, old->host))
			mg_warn("reload: journal settings changed: they apply when the agent restarts");
		if (c.mode_set && strcmp(c.mode, mg_mode_name(a->mode)))
			mg_info("reload: mode = %s in %s applies only when the guard is loaded fresh; "
				"the running guard stays in mode %s (`macvguard mode %s` changes it now)",
				c.mode, path, mg_mode_name(a->mode), c.mode);
		if (strcmp(c.status_dir, a->conf.status_dir) || c.watch_status != a->conf.watch_status) {
			if (a->ino_wd >= 0)
				inotify_rm_watch(a->ino_fd, a->ino_wd);
			a->ino_wd = -1;
			mg_conf_set(&c);
			a->conf = c;
			agent_status_watch(a);
			if (a->ino_wd < 0)
				mg_own_reconcile(&a->om, a->conf.status_dir, agent_log, a);
		}
		mg_conf_set(&c);
		a->conf = c;
		mg_aj_reconfigure(&a->aj);
		mg_info("reload: configuration %s read", path);
	}
	mg_aj_agent_event(&a->aj, "reload", a->conf_problem[0] ? a->conf_problem : "configuration read");
	refresh_state(a, true, true);
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

/* Which mode wins, said at start: --mode, else a pinned guard's mode (set by
 * `macvguard mode` or an earlier agent), else the configuration's for a fresh load. */
static const char *mode_source_text(struct agent *a, unsigned mode)
{
	static char buf[300];
	const char *src = a->st.mode_source ? a->st.mode_source : "";

	if (!strcmp(src, "pinned") && a->conf.mode_set && strcmp(a->conf.mode, mg_mode_name(mode)))
		snprintf(buf, sizeof(buf), "kept from the pinned guard; mode = %s in the "
			 "configuration applies only to a fresh load", a->conf.mode);
	else if (!strcmp(src, "pinned"))
		snprintf(buf, sizeof(buf), "kept from the pinned guard");
	else if (!strcmp(src, "command line"))
		snprintf(buf, sizeof(buf), "--mode on the command line");
	else
		snprintf(buf, sizeof(buf), "%s", a->conf.mode_set ? "from the configuration (fresh load)" :
			 "default (fresh load)");
	return buf;
}

int mg_agent_run(const struct mg_agent_opts *o)
{
	struct agent *a = calloc(1, sizeof(*a));   /* ~330 KB: not on the stack */
	struct pollfd pfd[5 + MAX_CLIENTS];
	struct timespec last = { 0 }, now;
	sigset_t mask;
	int i, pidfd, rc = 0, timeout_ms;

	if (!a) {
		mg_err("out of memory");
		return 1;
	}
	a->sigfd = a->listen_fd = a->td_fd = a->ino_fd = a->ino_wd = -1;
	a->start_fd = a->claims_fd = -1;
	a->json = o->json;
	a->conf = o->conf;
	mg_strlcpy(a->conf_arg, o->conf_arg, sizeof(a->conf_arg));
	mg_strlcpy(a->status_dir_arg, o->status_dir_arg, sizeof(a->status_dir_arg));
	if (sd_watchdog_enabled(0, &a->wd_usec) <= 0)
		a->wd_usec = 0;
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
	sigaddset(&mask, SIGHUP);   /* reload (ExecReload=kill -HUP) */
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
		char line[1200], cause[400], remedy[400];

		mg_config_get(a->st.config_fd, &cfg);
		a->mode = cfg.mode;
		a->guarded = count_guarded(a->st.guarded_fd);
		if (mg_stats_sum(a->st.stats_fd, &s) == 0)
			a->kernel_lost_seen = s.events_lost;
		state_line(a, line, sizeof(line), cause, sizeof(cause), remedy, sizeof(remedy));
		mg_info("%s", line);
		mg_info("guard %s, mode %s (%s): %s", a->st.attach == MG_ATTACH_LSM ? "lsm" :
			a->st.attach == MG_ATTACH_FMODRET ? "fmod_ret" : "flag-only",
			mg_mode_name(cfg.mode), mode_source_text(a, cfg.mode), a->st.feat.mode_reason);
		mg_aj_open(&a->aj, mg_mode_name(cfg.mode), a->st.enforcing,
			   mg_attach_name(a->st.attach), a->st.feat.mode_reason);
		mg_strlcpy(a->aj.g.kernel, a->st.feat.kernel, sizeof(a->aj.g.kernel));
	}
	a->om.guarded_fd = a->st.guarded_fd;
	a->om.counts_fd = a->st.counts_fd;
	a->td_fd = mg_teardown_open(true);
	if (a->td_fd < 0)
		mg_warn("cannot create %s: %s: events will not name the domain being torn down",
			MG_TEARDOWN_PIN, strerror(-a->td_fd));
	a->start_fd = mg_start_open(true);
	a->claims_fd = mg_claims_open(true);
	if (a->start_fd < 0 || a->claims_fd < 0)
		mg_warn("cannot create %s/%s: %s: links are not guarded during a domain's start",
			MG_START_PIN, MG_CLAIMS_PIN,
			strerror(-(a->start_fd < 0 ? a->start_fd : a->claims_fd)));
	else {
		/* reconcile: windows of a daemon that is gone (or too old), dead claims */
		int n = mg_start_prune(a->start_fd, a->claims_fd, mg_now_boot_ns(), NULL);
		if (n > 0)
			agent_log(a, "dropped %d stale start window(s)", n);
	}
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
	mg_info("deletion monitor: %s: %s%s%s", a->monitor_mode, a->monitor_reason,
		a->monitor_remedy[0] ? "; remedy: " : "", a->monitor_remedy);
	agent_links_dump(a);
	if (agent_links_subscribe(a))
		mg_warn("cannot subscribe to rtnetlink link notifications: deletions of guarded "
			"links are not flagged without the kernel guard");
	if (agent_clients_open(a))
		mg_warn("cannot open %s: `macvguard monitor` will not work", MG_EVENTS_SOCK);
	mg_info("agent running (pid %d); Ctrl-C stops the agent, the pinned guard stays "
		"(macvguard stop --unpin removes it)", getpid());
	/* systemd (Type=notify): ready once the guard is settled (attached and verified, or
	 * flag-only and said), the pidfile, events.sock and the journal are open and the
	 * first reconcile with libvirt's status files is done; libvirt is ordered after */
	refresh_state(a, true, true);
	watchdog_ping(a);

	/* the loop wakes at least every half watchdog interval (it is 100 ms anyway) */
	timeout_ms = MG_AJ_COMMIT_MS;
	if (a->wd_usec && a->wd_usec / 2000 < (uint64_t)timeout_ms)
		timeout_ms = (int)(a->wd_usec / 2000) > 0 ? (int)(a->wd_usec / 2000) : 1;
	for (;;) {
		int n = 0, r;

		pfd[n++] = (struct pollfd){ .fd = a->sigfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = ring_buffer__epoll_fd(a->rb), .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = a->nl ? nl_socket_get_fd(a->nl) : -1, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = a->listen_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = a->ino_wd >= 0 ? a->ino_fd : -1, .events = POLLIN };
		for (i = 0; i < MAX_CLIENTS; i++)
			pfd[n++] = (struct pollfd){ .fd = a->clients[i], .events = 0 };
		r = poll(pfd, (nfds_t)n, timeout_ms);
		if (r < 0 && errno != EINTR) {
			mg_err("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si = {};
			if (read(a->sigfd, &si, sizeof(si)) > 0 && si.ssi_signo == SIGHUP) {
				mg_info("SIGHUP: reloading the configuration");
				reload(a);
			} else if (si.ssi_signo) {
				sd_notify(0, "STOPPING=1");
				mg_info("%s: agent stopping", strsignal((int)si.ssi_signo));
				break;
			}
		}
		ring_buffer__consume(a->rb);
		agent_emit_flush(a);
		fflush(stdout);
		agent_clients_flush(a);
		if (pfd[2].revents & (POLLIN | POLLERR))
			agent_links_recv(a);
		if (pfd[3].revents & POLLIN)
			agent_clients_accept(a);
		if (pfd[4].revents & POLLIN)
			agent_status_on_inotify(a);
		agent_newlinks_check(a);
		agent_clients_reap(a, pfd + 5);
		check_kernel_lost(a);
		agent_emit_flush(a);   /* the journal lock is not held across the group commit */
		mg_aj_tick(&a->aj);
		watchdog_ping(a);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec != last.tv_sec) {
			check_owners(a);
			refresh_state(a, false, false);
			if (a->aj.status_changed)
				write_status(a);   /* the journal failed or works again */
			if (a->ino_wd < 0)
				agent_status_watch(a);
			mg_teardown_prune(a->td_fd, 60ull * 1000000000ull);
			mg_start_prune(a->start_fd, a->claims_fd, mg_now_boot_ns(), NULL);
			agent_fallback_tick(a);
			last = now;
		}
		agent_emit_flush(a);   /* what the rest of the pass emitted (fallback, lost) */
		fflush(stdout);
	}
	ring_buffer__consume(a->rb);
	check_kernel_lost(a);
	if (a->fb) {
		agent_fallback_expire(a, true);
		agent_fallback_flood(a, false);
	}
	agent_emit_flush(a);
	fflush(stdout);
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
	if (a->start_fd >= 0)
		close(a->start_fd);
	if (a->claims_fd >= 0)
		close(a->claims_fd);
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
