/* `status` (what the kernel can do, how the guard runs and why) and `mode`. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cmds.h"
#include "jlog.h"
#include "names.h"
#include "output.h"
#include "paths.h"
#include "pidfile.h"
#include "kernel_probe.h"
#include "state.h"

const char mg_help_status[] =
	"usage: macvguard [-j] status\n"
	"\n"
	"What the kernel can do (BTF, BPF LSM, module BTF), how the guard runs (enforcing,\n"
	"audit, flag-only, not running) and why, the deletion monitor's mode, the agent and\n"
	"its journal, and the guard's stats (route_sends, link_msgs, events, events_lost,\n"
	"fail_closed, tags_expired, deletions).\n";

const char mg_help_mode[] =
	"usage: macvguard [-j] mode [enforce|audit]\n"
	"\n"
	"Without an argument prints the pinned guard's mode; with one sets it (kept across\n"
	"agent restarts; recorded in the journal). enforce refuses a guarded link's deletion,\n"
	"audit allows it and reports it.\n";

int mg_cmd_mode(int argc, char **argv)
{
	struct mg_config cfg;
	struct mg_state st;
	unsigned mode;

	if (mg_no_options(argc, argv))
		return 2;
	if (argc > 2)
		return mg_usage_err("unexpected argument '%s'", argv[2]);
	if (argc == 2 && mg_parse_mode(argv[1], &mode))
		return mg_usage_err("enforce or audit, not '%s'", argv[1]);
	if (mg_state_open(&st))
		return 1;
	if (argc == 2 && mg_config_set_mode(st.config_fd, mode)) {
		mg_err("cannot set the mode: %s", strerror(errno));
		mg_state_close(&st);
		return 1;
	}
	if (argc == 2)
		mg_jlog_mode(mode);
	if (mg_config_get(st.config_fd, &cfg)) {
		mg_err("cannot read the mode: %s", strerror(errno));
		mg_state_close(&st);
		return 1;
	}
	if (mg_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "mode", json_object_new_string(mg_mode_name(cfg.mode)));
		json_object_object_add(o, "enforcing", json_object_new_boolean(st.enforcing));
		mg_json_print(o);
	} else {
		printf("mode %s%s\n", mg_mode_name(cfg.mode),
		       st.enforcing ? "" : " (no kernel guard attached: flag-only)");
	}
	mg_state_close(&st);
	return mg_stdout_status();
}

int mg_cmd_status(int argc, char **argv)
{
	struct mg_features f = {};
	struct mg_config cfg = {};
	struct mg_stats stats = {};
	struct mg_state st;
	json_object *saved = NULL, *o;
	const char *reason = "agent has not run since boot";
	const char *monitor = "none", *monitor_reason = "agent has not run since boot";
	bool pinned, lsm_pinned, have_state = false;
	pid_t pid;

	(void)argv;
	if (mg_no_options(argc, argv))
		return 2;
	if (argc > 1)
		return mg_usage_err("unexpected argument '%s'", argv[1]);
	mg_features_probe_static(&f);
	pinned = mg_state_pinned();
	lsm_pinned = mg_state_lsm_pinned();
	pid = mg_pidfile_read();
	saved = json_object_from_file(MG_STATUSFILE);
	if (saved) {
		json_object *r;
		if (json_object_object_get_ex(saved, "reason", &r))
			reason = json_object_get_string(r);
		if (json_object_object_get_ex(saved, "monitor", &r))
			monitor = json_object_get_string(r);
		if (json_object_object_get_ex(saved, "monitor_reason", &r))
			monitor_reason = json_object_get_string(r);
	}
	if (pinned) {
		int e = mg_state_open(&st);
		if (e == 0) {
			have_state = true;
			mg_config_get(st.config_fd, &cfg);
			mg_stats_sum(st.stats_fd, &stats);
			mg_state_close(&st);
		}
	}
	const char *guard = lsm_pinned ? "enforcing" : (pinned ? "flag-only" : "not running");
	if (lsm_pinned && have_state && cfg.mode == MG_MODE_AUDIT)
		guard = "audit";

	if (mg_json) {
		o = json_object_new_object();
		json_object_object_add(o, "kernel", json_object_new_string(f.kernel));
		json_object_object_add(o, "guard", json_object_new_string(guard));
		json_object_object_add(o, "mode", have_state ? json_object_new_string(mg_mode_name(cfg.mode)) : NULL);
		json_object_object_add(o, "reason", json_object_new_string(reason));
		json_object_object_add(o, "agent_pid", pid ? json_object_new_int(pid) : NULL);
		json_object_object_add(o, "monitor", json_object_new_string(monitor));
		json_object_object_add(o, "monitor_reason", json_object_new_string(monitor_reason));
		json_object *feat = json_object_new_object();
		json_object_object_add(feat, "btf_vmlinux", json_object_new_boolean(f.btf_vmlinux));
		json_object_object_add(feat, "lsm_bpf_listed", json_object_new_boolean(f.lsm_bpf_listed));
		json_object_object_add(feat, "lsm_guard_pinned", json_object_new_boolean(lsm_pinned));
		json_object_object_add(feat, "btf_macvtap", json_object_new_boolean(f.btf_macvtap));
		json_object_object_add(feat, "btf_tun", json_object_new_boolean(f.btf_tun));
		if (saved) {
			json_object *v;
			if (json_object_object_get_ex(saved, "lsm_verified", &v))
				json_object_object_add(feat, "lsm_verified", json_object_get(v));
			if (json_object_object_get_ex(saved, "expiry_attached", &v))
				json_object_object_add(feat, "expiry_attached", json_object_get(v));
		}
		json_object_object_add(o, "features", feat);
		{
			json_object *jv = NULL, *j = NULL;
			if (saved && pid && json_object_object_get_ex(saved, "journal", &jv) && jv) {
				j = json_object_new_object();
				json_object_object_add(j, "state", json_object_new_string(mg_jstr(jv, "state")));
				json_object_object_add(j, "dir", json_object_new_string(mg_jstr(jv, "dir")));
				json_object_object_add(j, "write_errors", json_object_new_int64(mg_jint(jv, "write_errors")));
				json_object_object_add(j, "last_error", *mg_jstr(jv, "last_error") ?
						       json_object_new_string(mg_jstr(jv, "last_error")) : NULL);
			}
			json_object_object_add(o, "journal", j);
		}
		if (!have_state)
			json_object_object_add(o, "stats", NULL);
		if (have_state) {
			json_object *s = json_object_new_object();
			json_object_object_add(s, "route_sends", json_object_new_uint64(stats.route_sends));
			json_object_object_add(s, "link_msgs", json_object_new_uint64(stats.link_msgs));
			json_object_object_add(s, "events", json_object_new_uint64(stats.events));
			json_object_object_add(s, "events_lost", json_object_new_uint64(stats.events_lost));
			json_object_object_add(s, "fail_closed", json_object_new_uint64(stats.fail_closed));
			json_object_object_add(s, "tags_expired", json_object_new_uint64(stats.tags_expired));
			json_object_object_add(s, "deletions", json_object_new_uint64(stats.deletions));
			json_object_object_add(s, "unprivileged", json_object_new_uint64(stats.unprivileged));
			json_object_object_add(s, "ioctls", json_object_new_uint64(stats.ioctls));
			json_object_object_add(o, "stats", s);
		}
		mg_json_print(o);
	} else {
		printf("kernel:      %s\n", f.kernel);
		printf("guard:       %s%s%s\n", guard, have_state ? ", mode " : "",
		       have_state ? mg_mode_name(cfg.mode) : "");
		printf("reason:      %s\n", reason);
		printf("monitor:     %s: %s\n", monitor, monitor_reason);
		if (pid)
			printf("agent:       running, pid %d\n", pid);
		else
			printf("agent:       not running%s\n", lsm_pinned ? " (pinned guard still enforces)" : "");
		if (saved && pid) {
			json_object *jv;
			if (json_object_object_get_ex(saved, "journal", &jv)) {
				const char *state = mg_jstr(jv, "state");
				printf("journal:     %s, %s", state, mg_jstr(jv, "dir"));
				if (mg_jint(jv, "write_errors"))
					printf(", %lld records lost", mg_jint(jv, "write_errors"));
				if (*mg_jstr(jv, "last_error")) {
					fputs(": ", stdout);
					mg_fputs_escaped(stdout, mg_jstr(jv, "last_error"));
				}
				putchar('\n');
			}
		}
		/* the same names as the JSON keys */
		printf("features:    btf_vmlinux=%s lsm_bpf_listed=%s btf_macvtap=%s btf_tun=%s\n",
		       f.btf_vmlinux ? "yes" : "no", f.lsm_bpf_listed ? "yes" : "no",
		       f.btf_macvtap ? "yes" : "no", f.btf_tun ? "yes" : "no");
		if (have_state)
			printf("stats:       route_sends=%llu link_msgs=%llu events=%llu events_lost=%llu "
			       "fail_closed=%llu tags_expired=%llu deletions=%llu unprivileged=%llu "
			       "ioctls=%llu\n",
			       (unsigned long long)stats.route_sends, (unsigned long long)stats.link_msgs,
			       (unsigned long long)stats.events, (unsigned long long)stats.events_lost,
			       (unsigned long long)stats.fail_closed, (unsigned long long)stats.tags_expired,
			       (unsigned long long)stats.deletions, (unsigned long long)stats.unprivileged,
			       (unsigned long long)stats.ioctls);
	}
	json_object_put(saved);
	return 0;
}
