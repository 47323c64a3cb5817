/* The agent's lifecycle commands: `run` (options and configuration; the agent itself is
 * agent.c), `stop [--unpin]`, `probes on|off`. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "agent.h"
#include "config.h"
#include "cmds.h"
#include "names.h"
#include "output.h"
#include "paths.h"
#include "state.h"
#include "util.h"
#include "pidfile.h"

const char mg_help_run[] =
	"usage: macvguard [-j] run [--mode enforce|audit] [--config FILE] [--status-dir DIR]\n"
	"\n"
	"The agent (as root; the systemd unit runs it): loads or adopts the pinned guard,\n"
	"reconciles tags with existing links and libvirt's status files, watches the status\n"
	"directory, writes the journal and prints every event (JSON Lines with -j).\n"
	"\n"
	"  -m, --mode enforce|audit  the guard's mode (default: the pinned one, else the config)\n"
	"  -c, --config FILE         configuration (default /etc/macvguard/macvguard.conf;\n"
	"                            see macvguard.conf(5))\n"
	"  -s, --status-dir DIR      libvirt's status directory (default /run/libvirt/qemu)\n"
	"  -j, --json                events as JSON Lines (as the global -j)\n";

const char mg_help_stop[] =
	"usage: macvguard [-j] stop [--unpin]\n"
	"\n"
	"Stops the running agent (SIGTERM, waits up to 5 s). The pinned guard stays and keeps\n"
	"enforcing until a new agent adopts it.\n"
	"\n"
	"  -u, --unpin   also remove the pinned guard (nothing enforces any more)\n";

const char mg_help_probes[] =
	"usage: macvguard [-j] probes on|off\n"
	"\n"
	"Detaches (off) or re-attaches (on) the deletion monitor's probes on the kernel's\n"
	"unregister path, e.g. to measure their cost; the guard itself stays attached.\n";

int mg_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = { { "mode", required_argument, NULL, 'm' },
					      { "json", no_argument, NULL, 'j' },
					      { "config", required_argument, NULL, 'c' },
					      { "status-dir", required_argument, NULL, 's' },
					      { NULL, 0, NULL, 0 } };
	struct mg_agent_opts a = { .mode = MG_MODE_ENFORCE, .json = mg_json };
	const char *conf_path = mg_conf_cli_path, *status_dir = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:jc:s:", opts, NULL)) != -1) {
		if (c == 'c') {
			conf_path = optarg;
		} else if (c == 's') {
			status_dir = optarg;
		} else if (c == 'm') {
			if (mg_parse_mode(optarg, &a.mode))
				return mg_usage_err("--mode: enforce or audit");
			a.mode_given = true;
		} else if (c == 'j') {
			a.json = mg_json = true;
		} else {
			return mg_bad_option(argc, argv, "m:jc:s:");
		}
	}
	if (optind != argc)
		return mg_usage_err("unexpected argument '%s'", argv[optind]);
	/* a configuration named on the command line (or by $MACVGUARD_CONF) must be read;
	 * only the default one may be absent. Bad lines are warnings here (`config check`
	 * makes them errors). */
	if (mg_conf_init(conf_path))
		return 2;
	a.conf = *mg_conf();
	mg_strlcpy(a.conf_arg, conf_path ? conf_path : "", sizeof(a.conf_arg));
	if (status_dir) {
		mg_strlcpy(a.conf.status_dir, status_dir, sizeof(a.conf.status_dir));
		mg_strlcpy(a.status_dir_arg, status_dir, sizeof(a.status_dir_arg));
	}
	/* The configuration's mode is the mode of a fresh load only: a guard that is already
	 * pinned keeps its mode (set by `macvguard mode` or an earlier agent). --mode on the
	 * command line is an explicit order and wins over both. */
	if (!a.mode_given)
		mg_parse_mode(a.conf.mode, &a.mode);
	if (geteuid() != 0) {
		mg_err("permission denied: run needs root (BPF and netlink administration)");
		return 1;
	}
	return mg_agent_run(&a);
}

int mg_cmd_stop(int argc, char **argv)
{
	static const struct option opts[] = { { "unpin", no_argument, NULL, 'u' },
					      { NULL, 0, NULL, 0 } };
	enum mg_agent_state state;
	bool unpin = false, stopped = false, unpinned = false;
	int c, i, rc = 0;
	uint64_t ticks;
	pid_t pid;

	optind = 1;
	while ((c = getopt_long(argc, argv, "u", opts, NULL)) != -1) {
		if (c == 'u')
			unpin = true;
		else
			return mg_bad_option(argc, argv, "u");
	}
	if (optind != argc)
		return mg_usage_err("unexpected argument '%s'", argv[optind]);
	state = mg_pidfile_check(&pid, &ticks);
	if (state == MG_AGENT_RUNNING && kill(pid, SIGTERM) == 0) {
		/* wait for that process (pid and start time), not for whoever gets the pid */
		for (i = 0; i < 50 && mg_proc_alive((uint32_t)pid, ticks); i++)
			usleep(100000);
		if (mg_proc_alive((uint32_t)pid, ticks)) {
			mg_err("agent pid %d did not stop within 5 s", pid);
			rc = 1;
		} else {
			stopped = true;
			if (!mg_json)
				printf("agent pid %d stopped\n", pid);
		}
	} else if (state == MG_AGENT_RUNNING) {
		int e = errno;
		mg_err("%scannot signal agent pid %d: %s%s", e == EPERM ? "permission denied: " : "",
		       pid, strerror(e), e == EPERM ? " (stop needs root)" : "");
		rc = e == EPERM ? 4 : 1;
	} else if (state == MG_AGENT_UNKNOWN) {
		/* locked, but pid is not the process that took the lock: never signal it */
		mg_err("%s is locked but pid %d is not the agent that wrote it: not signalled",
		       MG_PIDFILE, pid);
		rc = 1;
	} else if (!mg_json) {
		printf("no agent running\n");
	}
	if (unpin) {
		/* the pins are the running agent's state: only once nothing holds the lock */
		if (mg_pidfile_check(&pid, &ticks) != MG_AGENT_NONE) {
			mg_err("not unpinning: an agent (pid %d) still holds %s", pid, MG_PIDFILE);
			rc = 1;
		} else if (mg_state_unpin()) {
			rc = 1;
		} else {
			unpinned = true;
			if (!mg_json)
				printf("guard unpinned from %s: nothing enforces any more\n", MG_PIN_DIR);
		}
	}
	if (mg_json && !rc) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "agent_pid", stopped ? json_object_new_int(pid) : NULL);
		json_object_object_add(o, "stopped", json_object_new_boolean(stopped));
		json_object_object_add(o, "unpinned", json_object_new_boolean(unpinned));
		mg_json_print(o);
	}
	return rc ? rc : mg_stdout_status();
}

int mg_cmd_probes(int argc, char **argv)
{
	int n;

	if (mg_no_options(argc, argv))
		return 2;
	if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off")))
		return mg_usage_err("on or off");
	n = mg_delete_probes(!strcmp(argv[1], "on"));
	if (n < 0) {
		mg_err("probes %s: %s", argv[1], strerror(-n));
		return 1;
	}
	if (mg_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "probes", json_object_new_string(argv[1]));
		json_object_object_add(o, "links", json_object_new_int(n));
		mg_json_print(o);
	} else {
		printf("deletion-path probes %s (%d links)\n", !strcmp(argv[1], "on") ? "attached" : "detached", n);
	}
	return mg_stdout_status();
}
