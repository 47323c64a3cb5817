/* The guard's BPF state (see state.h): load with only the programs this kernel takes,
 * attach, verify by trigger, pin under MG_PIN_DIR, adopt an earlier agent's pins, unpin. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kernel_probe.h"
#include "state.h"
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include "guard.skel.h"

#define PIN_MAP(name)   MG_PIN_DIR "/" name
#define PIN_LINK_LSM    MG_PIN_DIR "/link_netlink_send"
#define PIN_LINK_FMODRET MG_PIN_DIR "/link_netlink_send_fmodret"
#define PIN_LINK_UNREG  MG_PIN_DIR "/link_unregister"
#define PIN_LINK_NETNS  MG_PIN_DIR "/link_netns_move"
#define PIN_LINK_NETNS_EXIT   MG_PIN_DIR "/link_netns_move_exit"
#define PIN_LINK_IOCTL        MG_PIN_DIR "/link_file_ioctl"
#define PIN_LINK_IOCTL_COMPAT MG_PIN_DIR "/link_file_ioctl_compat"

/* The BPF object's maps; the first five are opened by CLI commands (open_pinned_maps). */
static const char *const pinned_maps[] = { "mg_guarded", "mg_counts", "mg_config",
					   "mg_stats", "mg_events", "mg_teardown", "mg_start",
					   "mg_claims" };
#define PIN_LINK_DEL(n) MG_PIN_DIR "/link_del_" n
static const char *const pinned_links[] = { PIN_LINK_LSM, PIN_LINK_UNREG, PIN_LINK_NETNS,
					    PIN_LINK_DEL("unreg_exit"), PIN_LINK_DEL("dellink"),
					    PIN_LINK_DEL("dellink_exit"), PIN_LINK_DEL("netns"),
					    PIN_LINK_DEL("netns_exit"), PIN_LINK_DEL("tunclose"),
					    PIN_LINK_DEL("tunclose_exit"), PIN_LINK_NETNS_EXIT,
					    PIN_LINK_IOCTL, PIN_LINK_IOCTL_COMPAT, PIN_LINK_FMODRET };

/* Deletion-path programs, pinned so `probes off|on` can detach and re-attach them without
 * another load (benchmarks compare with and without in one boot). */
#define PIN_PROG(n) MG_PIN_DIR "/prog_" n
static const struct {
	const char *prog;
	const char *link;
	enum bpf_attach_type type;
} del_probes[] = {
	{ PIN_PROG("unreg"), PIN_LINK_UNREG, BPF_TRACE_FENTRY },
	{ PIN_PROG("unreg_exit"), PIN_LINK_DEL("unreg_exit"), BPF_TRACE_FEXIT },
	{ PIN_PROG("dellink"), PIN_LINK_DEL("dellink"), BPF_TRACE_FENTRY },
	{ PIN_PROG("dellink_exit"), PIN_LINK_DEL("dellink_exit"), BPF_TRACE_FEXIT },
	{ PIN_PROG("netns"), PIN_LINK_DEL("netns"), BPF_TRACE_FENTRY },
	{ PIN_PROG("netns_exit"), PIN_LINK_DEL("netns_exit"), BPF_TRACE_FEXIT },
	{ PIN_PROG("tunclose"), PIN_LINK_DEL("tunclose"), BPF_TRACE_FENTRY },
	{ PIN_PROG("tunclose_exit"), PIN_LINK_DEL("tunclose_exit"), BPF_TRACE_FEXIT },
};

static bool path_exists(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0;
}

bool mg_state_pinned(void)
{
	return path_exists(PIN_MAP("mg_guarded"));
}

unsigned mg_state_attach_pinned(void)
{
	return path_exists(PIN_LINK_LSM) ? MG_ATTACH_LSM :
	       path_exists(PIN_LINK_FMODRET) ? MG_ATTACH_FMODRET : MG_ATTACH_NONE;
}

bool mg_state_lsm_pinned(void)
{
	return mg_state_attach_pinned() != MG_ATTACH_NONE;
}

const char *mg_attach_name(unsigned attach)
{
	return attach == MG_ATTACH_LSM ? "bpf_lsm" : attach == MG_ATTACH_FMODRET ? "fmod_ret" : "none";
}

const char *mg_attach_text(unsigned attach)
{
	return attach == MG_ATTACH_LSM ? "BPF LSM" :
	       attach == MG_ATTACH_FMODRET ? "fmod_ret on security_netlink_send" : "none";
}

int mg_config_get(int config_fd, struct mg_config *cfg)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(config_fd, &zero, cfg) ? -errno : 0;
}

int mg_config_set_mode(int config_fd, unsigned mode)
{
	struct mg_config cfg = {};
	__u32 zero = 0;

	if (mg_config_get(config_fd, &cfg))
		return -errno;
	cfg.mode = mode;
	return bpf_map_update_elem(config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

int mg_stats_sum(int stats_fd, struct mg_stats *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct mg_stats *per;
	__u32 zero = 0;
	int i;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return -EINVAL;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(stats_fd, &zero, per)) {
		free(per);
		return -errno;
	}
	for (i = 0; i < ncpu; i++) {
		out->route_sends += per[i].route_sends;
		out->link_msgs += per[i].link_msgs;
		out->events += per[i].events;
		out->events_lost += per[i].events_lost;
		out->fail_closed += per[i].fail_closed;
		out->tags_expired += per[i].tags_expired;
		out->deletions += per[i].deletions;
		out->unprivileged += per[i].unprivileged;
		out->ioctls += per[i].ioctls;
	}
	free(per);
	return 0;
}

static int open_pinned_maps(struct mg_state *st)
{
	int *fds[] = { &st->guarded_fd, &st->counts_fd, &st->config_fd, &st->stats_fd,
		       &st->events_fd };
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", MG_PIN_DIR, pinned_maps[i]);
		*fds[i] = bpf_obj_get(path);
		if (*fds[i] < 0)
			return -errno;
	}
	return 0;
}

static void init_fds(struct mg_state *st)
{
	memset(st, 0, sizeof(*st));
	st->guarded_fd = st->counts_fd = st->config_fd = st->stats_fd = st->events_fd = -1;
}

int mg_state_open(struct mg_state *st)
{
	struct mg_config cfg;
	int rc;

	init_fds(st);
	if (!mg_state_pinned()) {
		struct stat sb;
		/* a pin directory we may not look into is not a missing one */
		if (stat(PIN_MAP("mg_guarded"), &sb) && (errno == EACCES || errno == EPERM)) {
			mg_err("permission denied: the guard's state under %s is root's (run this "
			       "as root)", MG_PIN_DIR);
			return -EACCES;
		}
		mg_err("no pinned state at %s: is the agent running? start it with `macvguard run`",
		       MG_PIN_DIR);
		return -ENOENT;
	}
	rc = open_pinned_maps(st);
	if (rc) {
		mg_err("cannot open pinned maps under %s: %s", MG_PIN_DIR, strerror(-rc));
		return rc;
	}
	if (mg_config_get(st->config_fd, &cfg) == 0 && cfg.abi_version != MG_ABI_VERSION) {
		mg_err("pinned state has ABI version %u, this binary speaks %u: restart the agent",
		       cfg.abi_version, MG_ABI_VERSION);
		return -EPROTO;
	}
	st->attach = mg_state_attach_pinned();
	st->enforcing = st->attach != MG_ATTACH_NONE;
	return 0;
}

void mg_state_close(struct mg_state *st)
{
	int fds[] = { st->guarded_fd, st->counts_fd, st->config_fd, st->stats_fd, st->events_fd };
	size_t i;

	if (st->skel) {
		guard_bpf__destroy(st->skel);   /* pinned links and maps outlive this */
		st->skel = NULL;
	} else {
		for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	init_fds(st);
}

/* The program behind a pinned link (0: none), to see it go. */
static __u32 pinned_link_prog(const char *pin)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(pin);

	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.prog_id = 0;
	close(fd);
	return info.prog_id;
}

int mg_state_unpin(void)
{
	/* The kernel drops a pin's link after an RCU grace period, from a work queue: until
	 * then the guard still refuses. Wait (bounded) until its programs are gone, so that
	 * "nothing enforces any more" is true when this returns. */
	const char *guard_links[] = { PIN_LINK_LSM, PIN_LINK_FMODRET, PIN_LINK_IOCTL,
				      PIN_LINK_IOCTL_COMPAT };
	__u32 progs[sizeof(guard_links) / sizeof(guard_links[0])];
	char path[256];
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(guard_links) / sizeof(guard_links[0]); i++)
		progs[i] = pinned_link_prog(guard_links[i]);
	for (i = 0; i < sizeof(pinned_links) / sizeof(pinned_links[0]); i++)
		if (unlink(pinned_links[i]) && errno != ENOENT) {
			mg_err("unpin %s: %s", pinned_links[i], strerror(errno));
			rc = -errno;
		}
	for (i = 0; i < sizeof(del_probes) / sizeof(del_probes[0]); i++)
		if (unlink(del_probes[i].prog) && errno != ENOENT)
			rc = -errno;
	for (i = 0; i < sizeof(pinned_maps) / sizeof(pinned_maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", MG_PIN_DIR, pinned_maps[i]);
		if (unlink(path) && errno != ENOENT) {
			mg_err("unpin %s: %s", path, strerror(errno));
			rc = -errno;
		}
	}
	if (rmdir(MG_PIN_DIR) && errno != ENOENT && errno != ENOTEMPTY)
		rc = -errno;
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		int fd = -1, tries;

		for (tries = 0; progs[i] && tries < 200; tries++) {   /* 20 s at most */
			fd = bpf_prog_get_fd_by_id(progs[i]);
			if (fd < 0)
				break;
			close(fd);
			usleep(100 * 1000);
		}
		if (fd >= 0)
			mg_warn("the kernel has not released the guard program %u yet (%s): it may "
				"refuse for a while longer", progs[i], guard_links[i]);
	}
	return rc;
}

static bool kernel_has_func(const struct btf *btf, const char *name)
{
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || (!mg_verbose && level == LIBBPF_INFO))
		return 0;
	if (!mg_verbose)
		return 0;     /* load failures are summarised by us; -v shows libbpf's log */
	return vfprintf(stderr, fmt, ap);
}

static void set_map_pins(struct guard_bpf *skel)
{
	struct bpf_map *maps[] = { skel->maps.mg_guarded, skel->maps.mg_counts,
				   skel->maps.mg_config, skel->maps.mg_stats, skel->maps.mg_events,
				   skel->maps.mg_teardown, skel->maps.mg_start,
				   skel->maps.mg_claims };
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", MG_PIN_DIR, bpf_map__name(maps[i]));
		bpf_map__set_pin_path(maps[i], path);
	}
}

static void take_skel_fds(struct mg_state *st)
{
	st->guarded_fd = bpf_map__fd(st->skel->maps.mg_guarded);
	st->counts_fd = bpf_map__fd(st->skel->maps.mg_counts);
	st->config_fd = bpf_map__fd(st->skel->maps.mg_config);
	st->stats_fd = bpf_map__fd(st->skel->maps.mg_stats);
	st->events_fd = bpf_map__fd(st->skel->maps.mg_events);
}

/* Open the skeleton with only the programs this kernel can take, and of the request
 * programs only one attachment's (MG_ATTACH_NONE: maps only). */
static struct guard_bpf *open_skel(const struct btf *vmlinux, unsigned attach)
{
	struct guard_bpf *skel = guard_bpf__open();
	bool want_lsm = attach != MG_ATTACH_NONE;   /* the monitor's fentry/fexit programs */
	bool lsm = attach == MG_ATTACH_LSM, fmodret = attach == MG_ATTACH_FMODRET;
	bool notify;

	if (!skel)
		return NULL;
	/* the event ring: a burst waits there while the agent drains it; 16 MiB holds
	 * ~36,000 records of 456 bytes, so a burst of 20,000 refusals loses nothing even
	 * while the agent is busy (the map's own 4 MiB held ~9,300). A pinned ring from an
	 * earlier agent keeps its size until the next fresh load. */
	bpf_map__set_max_entries(skel->maps.mg_events, MG_EVENTS_RING_BYTES);
	notify = kernel_has_func(vmlinux, "unregister_netdevice_many_notify");
	bpf_program__set_autoload(skel->progs.mg_netlink_send, lsm);
	bpf_program__set_autoload(skel->progs.mg_netlink_send_fmodret, fmodret);
	bpf_program__set_autoload(skel->progs.mg_unreg_notify, want_lsm && notify);
	bpf_program__set_autoload(skel->progs.mg_unreg_many,
				  want_lsm && !notify &&
					  kernel_has_func(vmlinux, "unregister_netdevice_many"));
	bpf_program__set_autoload(skel->progs.mg_unreg_notify_exit, want_lsm && notify);
	bpf_program__set_autoload(skel->progs.mg_unreg_many_exit,
				  bpf_program__autoload(skel->progs.mg_unreg_many));
	bpf_program__set_autoload(skel->progs.mg_dellink_enter,
				  want_lsm && kernel_has_func(vmlinux, "rtnl_dellink"));
	bpf_program__set_autoload(skel->progs.mg_dellink_exit,
				  bpf_program__autoload(skel->progs.mg_dellink_enter));
	bpf_program__set_autoload(skel->progs.mg_netns_exit_enter,
				  want_lsm && kernel_has_func(vmlinux, "default_device_exit_batch"));
	bpf_program__set_autoload(skel->progs.mg_netns_exit_exit,
				  bpf_program__autoload(skel->progs.mg_netns_exit_enter));
	/* tun is a module: its BTF is there once it is loaded (the agent modprobes it) */
	bpf_program__set_autoload(skel->progs.mg_tun_close_enter,
				  want_lsm && path_exists("/sys/kernel/btf/tun"));
	bpf_program__set_autoload(skel->progs.mg_tun_close_exit,
				  bpf_program__autoload(skel->progs.mg_tun_close_enter));
	bpf_program__set_autoload(skel->progs.mg_netns_move,
				  want_lsm && kernel_has_func(vmlinux, "__dev_change_net_namespace"));
	bpf_program__set_autoload(skel->progs.mg_netns_move_old,
				  want_lsm && !kernel_has_func(vmlinux, "__dev_change_net_namespace") &&
					  kernel_has_func(vmlinux, "dev_change_net_namespace"));
	bpf_program__set_autoload(skel->progs.mg_netns_move_exit,
				  bpf_program__autoload(skel->progs.mg_netns_move));
	bpf_program__set_autoload(skel->progs.mg_netns_move_old_exit,
				  bpf_program__autoload(skel->progs.mg_netns_move_old));
	/* device ioctls (SIOCSIFNAME, SIOCSIFVLAN, bridge deletion, TUNSETPERSIST) */
	bpf_program__set_autoload(skel->progs.mg_file_ioctl,
				  lsm && kernel_has_func(vmlinux, "bpf_lsm_file_ioctl"));
	bpf_program__set_autoload(skel->progs.mg_file_ioctl_compat,
				  lsm && kernel_has_func(vmlinux, "bpf_lsm_file_ioctl_compat"));
	bpf_program__set_autoload(skel->progs.mg_file_ioctl_fmodret,
				  fmodret && kernel_has_func(vmlinux, "security_file_ioctl"));
	bpf_program__set_autoload(skel->progs.mg_file_ioctl_compat_fmodret,
				  fmodret && kernel_has_func(vmlinux, "security_file_ioctl_compat"));
	set_map_pins(skel);
	return skel;
}

static int pin_link(struct bpf_link *link, const char *path)
{
	unlink(path);
	if (bpf_link__pin(link, path)) {
		mg_err("pin %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Load-attach-trigger-verify: does the guard see netlink sends (the route_sends counter
 * moves over `sends` test messages)? Does the deletion path report a test veth deletion? */
static bool guard_runs(struct mg_state *st, int sends)
{
	struct mg_stats before, after;

	mg_stats_sum(st->stats_fd, &before);
	for (int i = 0; i < sends; i++)
		mg_trigger_route_send();
	mg_stats_sum(st->stats_fd, &after);
	return after.route_sends > before.route_sends;
}

static bool delete_path_reports(struct mg_state *st)
{
	struct mg_stats before, after;

	mg_stats_sum(st->stats_fd, &before);
	mg_trigger_link_delete();
	mg_stats_sum(st->stats_fd, &after);
	return after.deletions > before.deletions;
}

/* Deletion path: fentry/fexit on the unregister function and on what tells the path
 * apart. Attached, pinned, then verified by deleting a veth pair (load-attach-trigger-
 * verify: the deletion counter must move). */
static void attach_delete_path(struct mg_state *st)
{
	struct guard_bpf *skel = st->skel;
	struct { struct bpf_program *p; const char *pin; } progs[] = {
		{ skel->progs.mg_unreg_notify_exit, PIN_LINK_DEL("unreg_exit") },
		{ skel->progs.mg_unreg_many_exit, PIN_LINK_DEL("unreg_exit") },
		{ skel->progs.mg_dellink_enter, PIN_LINK_DEL("dellink") },
		{ skel->progs.mg_dellink_exit, PIN_LINK_DEL("dellink_exit") },
		{ skel->progs.mg_netns_exit_enter, PIN_LINK_DEL("netns") },
		{ skel->progs.mg_netns_exit_exit, PIN_LINK_DEL("netns_exit") },
		{ skel->progs.mg_tun_close_enter, PIN_LINK_DEL("tunclose") },
		{ skel->progs.mg_tun_close_exit, PIN_LINK_DEL("tunclose_exit") },
	};
	char missing[160] = "";
	size_t i;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_link *l;

		if (!bpf_program__autoload(progs[i].p))
			continue;
		l = bpf_program__attach(progs[i].p);
		if (!l) {
			size_t n = strlen(missing);
			snprintf(missing + n, sizeof(missing) - n, " %s", bpf_program__name(progs[i].p));
			continue;
		}
		pin_link(l, progs[i].pin);
		bpf_link__destroy(l);   /* closes our fd; the pin keeps the link attached */
	}
	{
		struct bpf_program *unreg = bpf_program__autoload(skel->progs.mg_unreg_notify) ?
			skel->progs.mg_unreg_notify : skel->progs.mg_unreg_many;
		struct bpf_program *unreg_exit = bpf_program__autoload(skel->progs.mg_unreg_notify_exit) ?
			skel->progs.mg_unreg_notify_exit : skel->progs.mg_unreg_many_exit;
		struct bpf_program *pp[] = { unreg, unreg_exit, skel->progs.mg_dellink_enter,
					     skel->progs.mg_dellink_exit, skel->progs.mg_netns_exit_enter,
					     skel->progs.mg_netns_exit_exit, skel->progs.mg_tun_close_enter,
					     skel->progs.mg_tun_close_exit };
		for (i = 0; i < sizeof(pp) / sizeof(pp[0]); i++) {
			unlink(del_probes[i].prog);
			if (bpf_program__autoload(pp[i]) && bpf_program__fd(pp[i]) >= 0)
				bpf_obj_pin(bpf_program__fd(pp[i]), del_probes[i].prog);
		}
	}
	st->feat.delete_verified = delete_path_reports(st);
	snprintf(st->feat.monitor_reason, sizeof(st->feat.monitor_reason),
		 "%s%s%s", st->feat.delete_verified ?
		 "fentry on the unregister path, seen reporting a test veth deletion" :
		 "fentry on the unregister path did not report a test veth deletion",
		 missing[0] ? "; not attached:" : "", missing);
}

/* Attach what loaded; verify the request program really runs (an LSM program loads and
 * attaches even when "bpf" is missing from lsm=, and then never runs). Failures are told in
 * mode_reason (BPF LSM) or fmodret_reason. */
static int attach_and_verify(struct mg_state *st, unsigned attach)
{
	struct guard_bpf *skel = st->skel;
	bool fmodret = attach == MG_ATTACH_FMODRET;
	struct bpf_program *req = fmodret ? skel->progs.mg_netlink_send_fmodret :
					    skel->progs.mg_netlink_send;
	const char *sec = fmodret ? "fmod_ret/security_netlink_send" : "lsm/netlink_send";
	char *why = fmodret ? st->feat.fmodret_reason : st->feat.mode_reason;
	size_t whysz = fmodret ? sizeof(st->feat.fmodret_reason) : sizeof(st->feat.mode_reason);
	struct bpf_program *ioctl_p = fmodret ? skel->progs.mg_file_ioctl_fmodret :
						skel->progs.mg_file_ioctl;
	struct bpf_program *ioctl_compat_p = fmodret ? skel->progs.mg_file_ioctl_compat_fmodret :
						       skel->progs.mg_file_ioctl_compat;
	struct bpf_link *lsm;
	int i;

	/* test knobs: an attachment's probe fails (flag-only must be told honestly; the bench
	 * compares fmod_ret with BPF LSM in one boot) */
	if (getenv(fmodret ? "MG_TEST_NO_FMODRET" : "MG_TEST_NO_LSM")) {
		snprintf(why, whysz, "%s not attached: %s is set", sec,
			 fmodret ? "MG_TEST_NO_FMODRET" : "MG_TEST_NO_LSM");
		return -ENOTSUP;
	}
	lsm = bpf_program__attach(req);
	if (!lsm) {
		int e = errno ? errno : EPERM;

		if (!fmodret)
			st->feat.load_errno = e;
		snprintf(why, whysz, "%s attach failed: %s", sec, strerror(e));
		return -e;
	}
	if (fmodret)
		skel->links.mg_netlink_send_fmodret = lsm;
	else
		skel->links.mg_netlink_send = lsm;
	st->feat.lsm_loaded = true;
	if (!guard_runs(st, 3)) {
		if (fmodret)
			snprintf(why, whysz, "%s attached but never ran on a netlink message", sec);
		else
			snprintf(why, whysz, "%s attached but never ran on a netlink message%s", sec,
				 st->feat.lsm_bpf_listed ? "" : st->feat.lsm_list_known ?
				 " (\"bpf\" is not in the kernel's lsm= list)" :
				 " (the kernel's LSM list is unknown: securityfs not mounted)");
		bpf_link__destroy(lsm);
		skel->links.mg_netlink_send = NULL;
		skel->links.mg_netlink_send_fmodret = NULL;
		st->feat.lsm_loaded = false;
		return -ENOTSUP;
	}
	st->feat.lsm_verified = true;

	struct bpf_program *expiry[] = { skel->progs.mg_unreg_notify, skel->progs.mg_unreg_many };
	struct bpf_program *moves[] = { skel->progs.mg_netns_move, skel->progs.mg_netns_move_old };
	struct bpf_program *move_exits[] = { skel->progs.mg_netns_move_exit,
					     skel->progs.mg_netns_move_old_exit };
	struct bpf_link *unreg = NULL, *move = NULL, *move_exit = NULL, *ioctl = NULL,
			*ioctl_compat = NULL;
	for (i = 0; i < 2; i++) {
		if (!unreg && bpf_program__autoload(expiry[i]))
			unreg = bpf_program__attach(expiry[i]);
		if (!move && bpf_program__autoload(moves[i]))
			move = bpf_program__attach(moves[i]);
		if (!move_exit && bpf_program__autoload(move_exits[i]))
			move_exit = bpf_program__attach(move_exits[i]);
	}
	st->feat.expiry_attached = unreg && move && move_exit;
	if (bpf_program__autoload(ioctl_p)) {
		ioctl = bpf_program__attach(ioctl_p);
		if (!ioctl)
			mg_warn("%s attach failed: %s (device ioctls are not guarded)",
				bpf_program__section_name(ioctl_p), strerror(errno));
	}
	if (bpf_program__autoload(ioctl_compat_p)) {
		ioctl_compat = bpf_program__attach(ioctl_compat_p);
		if (!ioctl_compat)
			mg_warn("%s attach failed: %s (32-bit device ioctls are not guarded)",
				bpf_program__section_name(ioctl_compat_p), strerror(errno));
	}
	if (pin_link(lsm, fmodret ? PIN_LINK_FMODRET : PIN_LINK_LSM))
		return -EIO;
	if (unreg)
		pin_link(unreg, PIN_LINK_UNREG);
	if (move)
		pin_link(move, PIN_LINK_NETNS);
	if (move_exit)
		pin_link(move_exit, PIN_LINK_NETNS_EXIT);
	if (ioctl)
		pin_link(ioctl, PIN_LINK_IOCTL);
	if (ioctl_compat)
		pin_link(ioctl_compat, PIN_LINK_IOCTL_COMPAT);
	attach_delete_path(st);
	/* The skeleton destroys only the links it knows; these two are ours to drop. */
	/* destroy without disconnect closes our fd only: the pins keep the links attached
	 * (and `probes off` can detach the unregister probe by unpinning it) */
	if (unreg)
		bpf_link__destroy(unreg);
	if (move)
		bpf_link__destroy(move);
	if (move_exit)
		bpf_link__destroy(move_exit);
	if (ioctl)
		bpf_link__destroy(ioctl);
	if (ioctl_compat)
		bpf_link__destroy(ioctl_compat);
	bpf_link__disconnect(lsm);
	return 0;
}

static int init_config(struct mg_state *st, unsigned mode, bool mode_given)
{
	struct mg_config cfg = {};
	__u32 zero = 0;

	if (mg_config_get(st->config_fd, &cfg) == 0 && cfg.abi_version == MG_ABI_VERSION &&
	    !mode_given) {
		/* keep the mode an operator set on the pinned state (or that an earlier attempt
		 * of this start wrote: its source stays) */
		if (!st->mode_source)
			st->mode_source = "pinned";
		return 0;
	}
	st->mode_source = mode_given ? "command line" : "configuration";
	cfg.abi_version = MG_ABI_VERSION;
	cfg.mode = mode;
	return bpf_map_update_elem(st->config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

/* Pinned state of another ABI version cannot be adopted: drop it. */
static void drop_foreign_pins(void)
{
	struct mg_config cfg = {};
	__u32 zero = 0;
	int fd;

	if (!mg_state_pinned())
		return;
	fd = bpf_obj_get(PIN_MAP("mg_config"));
	if (fd >= 0) {
		if (bpf_map_lookup_elem(fd, &zero, &cfg) == 0 && cfg.abi_version == MG_ABI_VERSION) {
			close(fd);
			return;
		}
		close(fd);
	}
	mg_warn("pinned state under %s is from another macvguard version (ABI %u): replacing it; "
		"existing tags are dropped", MG_PIN_DIR, cfg.abi_version);
	mg_state_unpin();
}

/* One attachment: load with its programs, attach, verify. 0: enforcing (st->skel kept);
 * 1: this attachment does not work here (told in the features, the skeleton dropped);
 * < 0: fatal (the maps cannot be set up). */
static int try_attach(struct mg_state *st, const struct btf *vmlinux, unsigned attach,
		      unsigned mode, bool mode_given)
{
	int rc;

	st->skel = open_skel(vmlinux, attach);
	if (st->skel && guard_bpf__load(st->skel) == 0) {
		take_skel_fds(st);
		rc = init_config(st, mode, mode_given);
		if (rc)
			return rc;
		if (attach_and_verify(st, attach) == 0) {
			st->attach = attach;
			st->enforcing = true;
			return 0;
		}
	} else {
		int e = errno ? errno : EPERM;

		if (attach == MG_ATTACH_LSM) {
			st->feat.load_errno = e;
			snprintf(st->feat.mode_reason, sizeof(st->feat.mode_reason),
				 "the kernel refused the BPF LSM/fentry programs (%s)", strerror(e));
		} else {
			snprintf(st->feat.fmodret_reason, sizeof(st->feat.fmodret_reason),
				 "the kernel refused the fmod_ret/fentry programs (%s)", strerror(e));
		}
	}
	if (st->skel)
		guard_bpf__destroy(st->skel);   /* pinned maps stay for the next attempt */
	st->skel = NULL;
	st->guarded_fd = st->counts_fd = st->config_fd = st->stats_fd = st->events_fd = -1;
	return 1;
}

int mg_state_start(struct mg_state *st, unsigned mode, bool mode_given)
{
	struct btf *vmlinux;
	int rc;

	init_fds(st);
	mg_features_probe_static(&st->feat);
	libbpf_set_print(libbpf_quiet);
	rc = mg_ensure_bpffs();
	if (rc)
		return rc;
	drop_foreign_pins();

	/* Adopt: programs already attached and pinned by an earlier agent keep enforcing;
	 * take their maps instead of attaching a second copy. */
	if (mg_state_lsm_pinned() && mg_state_pinned()) {
		rc = open_pinned_maps(st);
		if (rc == 0) {
			st->adopted = true;
			st->enforcing = true;
			st->attach = mg_state_attach_pinned();
			st->feat.lsm_loaded = true;
			st->feat.expiry_attached = path_exists(PIN_LINK_UNREG) && path_exists(PIN_LINK_NETNS) &&
						   path_exists(PIN_LINK_NETNS_EXIT);
			st->feat.lsm_verified = guard_runs(st, 1);
			st->feat.delete_verified = delete_path_reports(st);
			snprintf(st->feat.monitor_reason, sizeof(st->feat.monitor_reason),
				 "adopted pinned deletion-path probes%s", st->feat.delete_verified ?
				 ", seen reporting a test veth deletion" : " (they did not report a test deletion)");
			snprintf(st->feat.mode_reason, sizeof(st->feat.mode_reason),
				 "adopted the guard pinned under %s (%s)%s", MG_PIN_DIR,
				 mg_attach_text(st->attach),
				 st->feat.lsm_verified ? "" : " (but it did not run on a test message)");
			return init_config(st, mode, mode_given);
		}
		mg_warn("pinned state is incomplete (%s): reloading", strerror(-rc));
		mg_state_close(st);
		init_fds(st);
	}

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		mg_warn("no kernel BTF (/sys/kernel/btf/vmlinux): the kernel guard cannot load");

	/* BPF LSM if it really runs, else fmod_ret on the security_* functions if it really
	 * runs, else flag-only. */
	if (vmlinux) {
		rc = try_attach(st, vmlinux, MG_ATTACH_LSM, mode, mode_given);
		if (rc == 1)
			rc = try_attach(st, vmlinux, MG_ATTACH_FMODRET, mode, mode_given);
		if (rc < 0)
			goto fail;
		if (rc == 0) {
			char lsm_why[256];

			mg_strlcpy(lsm_why, st->feat.mode_reason, sizeof(lsm_why));
			if (st->attach == MG_ATTACH_LSM)
				snprintf(st->feat.mode_reason, sizeof(st->feat.mode_reason),
					 "BPF LSM guard loaded, attached and seen running%s",
					 st->feat.expiry_attached ? "" : " (tag expiry probes missing)");
			else
				snprintf(st->feat.mode_reason, sizeof(st->feat.mode_reason),
					 "fmod_ret guard on security_netlink_send loaded, attached and "
					 "seen running (BPF LSM: %.120s)%s", lsm_why,
					 st->feat.expiry_attached ? "" : " (tag expiry probes missing)");
			btf__free(vmlinux);
			return 0;
		}
		{
			char lsm_why[256];

			mg_strlcpy(lsm_why, st->feat.mode_reason, sizeof(lsm_why));
			snprintf(st->feat.mode_reason, sizeof(st->feat.mode_reason),
				 "%.110s; %.110s; flag-only monitoring", lsm_why, st->feat.fmodret_reason);
		}
	}

	/* Flag-only: maps (tags survive agent restarts), no programs. */
	st->skel = open_skel(vmlinux, MG_ATTACH_NONE);
	btf__free(vmlinux);
	if (!st->skel || guard_bpf__load(st->skel)) {
		rc = -errno;
		mg_err("cannot create the BPF maps: %s", strerror(errno));
		goto fail;
	}
	take_skel_fds(st);
	rc = init_config(st, mode, mode_given);
	if (rc)
		goto fail;
	if (!st->feat.mode_reason[0])
		snprintf(st->feat.mode_reason, sizeof(st->feat.mode_reason),
			 "no kernel BTF: flag-only monitoring");
	return 0;
fail:
	mg_state_close(st);
	return rc ? rc : -EIO;
}

bool mg_guard_explain(const struct mg_features *f, unsigned attach, unsigned mode, char *cause,
		      size_t csz, char *remedy, size_t rsz)
{
	char refused[300] = "";

	remedy[0] = 0;
	if (attach != MG_ATTACH_NONE && mode == MG_MODE_ENFORCE) {
		snprintf(cause, csz, "%s guard attached", attach == MG_ATTACH_LSM ? "BPF LSM" :
			 "fmod_ret (security_netlink_send, security_file_ioctl)");
		return true;
	}
	if (attach != MG_ATTACH_NONE) {
		snprintf(cause, csz, "mode audit: deletions of in-use links are reported and let "
			 "through");
		snprintf(remedy, rsz, "macvguard mode enforce");
		return false;
	}
	if (f->load_errno)
		snprintf(refused, sizeof(refused), "the kernel refused the BPF LSM programs (%s)",
			 strerror(f->load_errno));
	else
		snprintf(refused, sizeof(refused), "the BPF LSM guard did not run on a test message");
	if (f->fmodret_reason[0]) {
		size_t n = strlen(refused);

		snprintf(refused + n, sizeof(refused) - n, ", and fmod_ret did not take over (%s)",
			 f->fmodret_reason);
	}
	if (!f->btf_vmlinux) {
		snprintf(cause, csz, "the kernel has no BTF (/sys/kernel/btf/vmlinux is missing)");
		snprintf(remedy, rsz, "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y and "
			 "CONFIG_BPF_LSM=y (Debian's 6.1 and later are), with bpf in lsm=");
	} else if (!strcmp(f->lockdown, "confidentiality")) {
		snprintf(cause, csz, "%s: kernel lockdown is 'confidentiality'", refused);
		snprintf(remedy, rsz, "boot with lockdown=integrity (or without lockdown); under "
			 "Secure Boot, confidentiality is set on the kernel command line or by policy");
	} else if (f->lsm_list_known && !f->lsm_bpf_listed) {
		snprintf(cause, csz, "%s: \"bpf\" is not in the kernel's active LSM list (%s)",
			 refused, f->lsm_list);
		snprintf(remedy, rsz, "add bpf to the lsm= kernel parameter (e.g. lsm=%s,bpf in "
			 "GRUB_CMDLINE_LINUX of /etc/default/grub, then update-grub) and reboot",
			 f->lsm_list);
	} else if (!f->lsm_list_known) {
		snprintf(cause, csz, "%s; whether \"bpf\" is in the kernel's LSM list is unknown "
			 "(securityfs is not mounted on /sys/kernel/security)", refused);
		snprintf(remedy, rsz, "mount securityfs (mount -t securityfs securityfs "
			 "/sys/kernel/security) and read /sys/kernel/security/lsm: if bpf is missing, "
			 "add it to the lsm= kernel parameter and reboot; then restart the agent");
	} else {
		snprintf(cause, csz, "%s although \"bpf\" is in the kernel's LSM list", refused);
		snprintf(remedy, rsz, "check that the agent has CAP_BPF, CAP_PERFMON and "
			 "CAP_SYS_ADMIN and that no seccomp filter or LSM policy denies bpf(); then "
			 "restart the agent");
	}
	return false;
}

int mg_delete_probes(bool on)
{
	size_t i;
	int n = 0;

	for (i = 0; i < sizeof(del_probes) / sizeof(del_probes[0]); i++) {
		int pfd, lfd;

		if (!on) {
			if (unlink(del_probes[i].link) == 0)
				n++;
			else if (errno != ENOENT)
				return -errno;
			continue;
		}
		if (path_exists(del_probes[i].link) || !path_exists(del_probes[i].prog))
			continue;
		pfd = bpf_obj_get(del_probes[i].prog);
		if (pfd < 0)
			return -errno;
		lfd = bpf_link_create(pfd, 0, del_probes[i].type, NULL);
		close(pfd);
		if (lfd < 0)
			return -errno;
		if (bpf_obj_pin(lfd, del_probes[i].link)) {
			close(lfd);
			return -errno;
		}
		close(lfd);
		n++;
	}
	return n;
}
