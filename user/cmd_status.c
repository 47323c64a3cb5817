/* `status` (what the kernel can do, how the guard runs and why) and `mode`. */
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cmds.h"
#include "config.h"
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

/* Exit codes of `status` (man page EXIT STATUS, docs/systemd.md): what an alert or a
 * script can act on without parsing text. */
enum {
	ST_ENFORCING = 0,      /* the agent runs and the guard refuses (BPF LSM, mode enforce) */
	ST_NOT_ENFORCING = 1,  /* the agent runs; flag-only or mode audit */
	ST_USAGE = 2,
	ST_NOT_RUNNING = 3,    /* no agent (a pinned guard may still enforce: said) */
	ST_DENIED = 4,         /* permission denied, or the pidfile's holder is not the agent */
};

static json_object *jstr_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

int mg_cmd_status(int argc, char **argv)
{
	struct mg_features f = {};
	struct mg_config cfg = {};
	struct mg_stats stats = {};
	struct mg_state st;
	json_object *saved = NULL, *o, *r;
	const struct mg_conf *conf = mg_conf();
	const char *cm = conf->mode_set ? conf->mode : NULL, *cm_path = conf->path;
	const char *reason = "agent has not run since boot";
	const char *monitor = "none", *monitor_reason = "agent not running";
	const char *mode_source = "", *monitor_remedy = "";
	char cause[400] = "", remedy[400] = "", modetxt[600] = "";
	bool pinned, lsm_pinned, have_state = false, running, enforcing = false;
	unsigned attach;
	enum mg_agent_state agent;
	unsigned long long guarded = 0;
	uint64_t ticks;
	struct stat sb;
	pid_t pid;
	int rc;

	(void)argv;
	if (mg_no_options(argc, argv))
		return ST_USAGE;
	if (argc > 1) {
		mg_usage_err("unexpected argument '%s'", argv[1]);
		return ST_USAGE;
	}
	mg_features_probe_static(&f);
	/* the pins are root's: a user who cannot look is told so, never "not running" */
	if ((stat(MG_PIN_DIR, &sb) && (errno == EACCES || errno == EPERM)) ||
	    (stat(MG_PIN_DIR, &sb) == 0 && access(MG_PIN_DIR, R_OK | X_OK) &&
	     (errno == EACCES || errno == EPERM))) {
		mg_err("permission denied: the guard's state under %s is root's (status needs root)",
		       MG_PIN_DIR);
		return ST_DENIED;
	}
	pinned = mg_state_pinned();
	attach = mg_state_attach_pinned();
	lsm_pinned = attach != MG_ATTACH_NONE;
	agent = mg_pidfile_check(&pid, &ticks);
	running = agent == MG_AGENT_RUNNING;
	/* the status file is the running agent's only: a stopped (or crashed) agent's file
	 * is not current, whatever it says */
	if (running) {
		saved = json_object_from_file(MG_STATUSFILE);
		if (saved && mg_jint(saved, "pid") != pid) {
			json_object_put(saved);
			saved = NULL;
		}
	} else if (agent == MG_AGENT_NONE) {
		reason = "agent not running";
		monitor_reason = "agent not running";
	}
	if (saved) {
		if (json_object_object_get_ex(saved, "reason", &r))
			reason = json_object_get_string(r);
		monitor = mg_jstr(saved, "monitor");
		monitor_reason = mg_jstr(saved, "monitor_reason");
		monitor_remedy = mg_jstr(saved, "monitor_remedy");
		mode_source = mg_jstr(saved, "mode_source");
		guarded = (unsigned long long)mg_jint(saved, "guarded_links");
	}
	if (pinned) {
		rc = mg_state_open(&st);
		if (rc == -EACCES || rc == -EPERM)
			return ST_DENIED;
		if (rc == 0) {
			have_state = true;
			mg_config_get(st.config_fd, &cfg);
			mg_stats_sum(st.stats_fd, &stats);
			mg_state_close(&st);
		}
	}
	const char *guard = lsm_pinned ? "enforcing" : (pinned ? "flag-only" : "not running");
	if (lsm_pinned && have_state && cfg.mode == MG_MODE_AUDIT)
		guard = "audit";
	if (saved) {
		/* the agent's own view: cause and remedy from what it saw at start */
		mg_strlcpy(cause, mg_jstr(saved, "cause"), sizeof(cause));
		mg_strlcpy(remedy, mg_jstr(saved, "remedy"), sizeof(remedy));
		enforcing = lsm_pinned && have_state && cfg.mode == MG_MODE_ENFORCE;
		if (lsm_pinned && have_state && cfg.mode == MG_MODE_AUDIT)
			mg_guard_explain(&f, attach, cfg.mode, cause, sizeof(cause), remedy, sizeof(remedy));
	}
	/* no agent: no cause or remedy (they were the last run's); the guard line says what
	 * the pins do without it */
	if (saved) {   /* the running agent's configuration, not this command's */
		cm_path = mg_jstr(saved, "config");
		cm = *mg_jstr(saved, "config_mode") ? mg_jstr(saved, "config_mode") : NULL;
	}
	if (have_state) {
		bool differs = cm && strcmp(cm, mg_mode_name(cfg.mode));
		const char *src = !strcmp(mode_source, "command line") ? "set by run --mode" :
			!strcmp(mode_source, "configuration") ? "set from the configuration at a fresh load" :
			"the pinned guard's: `macvguard mode` changes it, restarts keep it";
		if (differs)
			snprintf(modetxt, sizeof(modetxt), "%s (%s; mode = %s in %.200s applies only "
				 "to a fresh load)", mg_mode_name(cfg.mode), src, cm, cm_path);
		else
			snprintf(modetxt, sizeof(modetxt), "%s (%s)", mg_mode_name(cfg.mode), src);
	}

	if (mg_json) {
		o = json_object_new_object();
		json_object_object_add(o, "kernel", json_object_new_string(f.kernel));
		json_object_object_add(o, "guard", json_object_new_string(guard));
		json_object_object_add(o, "enforcing", json_object_new_boolean(running && enforcing));
		/* how the pinned guard is attached: bpf_lsm, fmod_ret; null: none pinned */
		json_object_object_add(o, "attachment", lsm_pinned ?
				       json_object_new_string(mg_attach_name(attach)) : NULL);
		json_object_object_add(o, "mode", have_state ? json_object_new_string(mg_mode_name(cfg.mode)) : NULL);
		json_object_object_add(o, "mode_source", jstr_or_null(mode_source));
		json_object_object_add(o, "config_mode", jstr_or_null(cm));
		json_object_object_add(o, "reason", json_object_new_string(reason));
		json_object_object_add(o, "cause", jstr_or_null(cause));
		json_object_object_add(o, "remedy", jstr_or_null(remedy));
		json_object_object_add(o, "agent", json_object_new_string(
			running ? "running" : agent == MG_AGENT_NONE ? "not running" : "unknown"));
		json_object_object_add(o, "agent_pid", running && pid ? json_object_new_int(pid) : NULL);
		json_object_object_add(o, "guarded_links", saved ? json_object_new_uint64(guarded) : NULL);
		json_object_object_add(o, "monitor", json_object_new_string(monitor));
		json_object_object_add(o, "monitor_reason", json_object_new_string(monitor_reason));
		json_object_object_add(o, "monitor_remedy", jstr_or_null(monitor_remedy));
		json_object *feat = json_object_new_object();
		json_object_object_add(feat, "btf_vmlinux", json_object_new_boolean(f.btf_vmlinux));
		json_object_object_add(feat, "lsm_bpf_listed", f.lsm_list_known ?
				       json_object_new_boolean(f.lsm_bpf_listed) : NULL);
		json_object_object_add(feat, "lsm_list", jstr_or_null(f.lsm_list));
		json_object_object_add(feat, "lockdown", jstr_or_null(f.lockdown));
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
		if (!running || !strcmp(guard, "not running"))
			printf("guard:       %s%s%s%s%s\n", guard, lsm_pinned ? " via " : "",
			       lsm_pinned ? mg_attach_text(attach) : "", have_state ? ", mode " : "",
			       have_state ? mg_mode_name(cfg.mode) : "");
		else if (enforcing)
			printf("guard:       enforcing via %s, mode %s\n", mg_attach_text(attach),
			       mg_mode_name(cfg.mode));
		else if (lsm_pinned)
			printf("guard:       NOT ENFORCING (%s), mode %s; attached via %s\n", guard,
			       have_state ? mg_mode_name(cfg.mode) : "?", mg_attach_text(attach));
		else
			printf("guard:       NOT ENFORCING (%s), mode %s\n", guard,
			       have_state ? mg_mode_name(cfg.mode) : "?");
		if (modetxt[0])
			printf("mode:        %s\n", modetxt);
		printf("reason:      %s\n", running && cause[0] ? cause : reason);
		if (remedy[0])
			printf("remedy:      %s\n", remedy);
		printf("monitor:     %s: %s\n", monitor, monitor_reason);
		if (monitor_remedy[0])
			printf("             remedy: %s\n", monitor_remedy);
		if (running)
			printf("agent:       running, pid %d%s%llu guarded link%s\n", pid,
			       saved ? "; " : "", guarded, guarded == 1 ? "" : "s");
		else if (agent == MG_AGENT_UNKNOWN)
			printf("agent:       unknown: %s is locked by pid %d, which is not the agent that "
			       "wrote it\n", MG_PIDFILE, pid);
		else
			printf("agent:       not running%s\n", lsm_pinned ? " (pinned guard still enforces)" : "");
		if (saved) {
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
			if (*mg_jstr(saved, "config_problem")) {
				fputs("config:      ", stdout);
				mg_fputs_escaped(stdout, mg_jstr(saved, "config_problem"));
				putchar('\n');
			}
		}
		/* the same names as the JSON keys */
		printf("features:    btf_vmlinux=%s lsm_bpf_listed=%s lockdown=%s btf_macvtap=%s btf_tun=%s\n",
		       f.btf_vmlinux ? "yes" : "no",
		       !f.lsm_list_known ? "unknown (securityfs not mounted)" : f.lsm_bpf_listed ? "yes" : "no",
		       f.lockdown[0] ? f.lockdown : "unknown",
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
	if (mg_stdout_status())
		return 1;
	if (agent == MG_AGENT_UNKNOWN)
		return ST_DENIED;
	if (!running)
		return ST_NOT_RUNNING;
	return enforcing ? ST_ENFORCING : ST_NOT_ENFORCING;
}
