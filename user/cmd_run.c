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

#define RUN_USAGE "usage: macvguard run [--mode enforce|audit] [-j] [--config FILE] " \
		  "[--status-dir DIR]\n"

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
			if (mg_parse_mode(optarg, &a.mode)) {
				mg_err("--mode: enforce or audit");
				return 2;
			}
			a.mode_given = true;
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
	bool unpin = false;
	int c, i, rc = 0;
	uint64_t ticks;
	pid_t pid;

	optind = 1;
	while ((c = getopt_long(argc, argv, "u", opts, NULL)) != -1) {
		if (c == 'u')
			unpin = true;
		else {
			fprintf(stderr, "usage: macvguard stop [--unpin]\n");
			return 2;
		}
	}
	state = mg_pidfile_check(&pid, &ticks);
	if (state == MG_AGENT_RUNNING && kill(pid, SIGTERM) == 0) {
		/* wait for that process (pid and start time), not for whoever gets the pid */
		for (i = 0; i < 50 && mg_proc_alive((uint32_t)pid, ticks); i++)
			usleep(100000);
		if (mg_proc_alive((uint32_t)pid, ticks)) {
			mg_err("agent pid %d did not stop within 5 s", pid);
			rc = 1;
		} else if (!mg_json) {
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
		} else if (!mg_json) {
			printf("guard unpinned from %s: nothing enforces any more\n", MG_PIN_DIR);
		}
	}
	return rc;
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
