/* `macvguard monitor`: the agent's live event stream (agent_clients.c), filtered and
 * printed with the same renderers as the agent's own output (events.c). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "cmds.h"
#include "events.h"
#include "output.h"
#include "paths.h"
#include "util.h"
#include "wire.h"

const char mg_help_monitor[] =
	"usage: macvguard [-j] [--wide] monitor [--ifname NAME] [--domain NAME]\n"
	"                         [--verdict none|allow|deny|audit|gone] [--kind KIND] [--wide]\n"
	"\n"
	"Live events from the running agent: every guard verdict and every link that went away\n"
	"(docs/monitor.md), until interrupted. Text: one line per event under a header, fitted\n"
	"to 120 columns; --wide: every field, labelled; -j: JSON Lines (docs/json.md).\n"
	"\n"
	"  -i, --ifname NAME    only events about this link\n"
	"  -d, --domain NAME    only events about links owned by this domain\n"
	"  -v, --verdict V      only this verdict: none, allow, deny, audit, gone\n"
	"  -k, --kind KIND      only this link kind: macvtap, macvlan, veth, tun, tap\n"
	"  -w, --wide           every field, lines not cut\n"
	"  -j, --json           JSON Lines (as the global -j)\n";

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
					      { "kind", required_argument, NULL, 'k' },
					      { "json", no_argument, NULL, 'j' },
					      { "wide", no_argument, NULL, 'w' },
					      { NULL, 0, NULL, 0 } };
	struct mg_event_filter filt = { .verdict = -1 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction sact = { .sa_handler = on_monitor_signal };
	bool json = mg_json;
	struct mg_wire w;
	int c, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:d:v:k:jw", opts, NULL)) != -1) {
		switch (c) {
		case 'i': filt.ifname = optarg; break;
		case 'd': filt.domain = optarg; break;
		case 'j': json = mg_json = true; break;
		case 'w': mg_wide = true; break;
		case 'k': filt.kind = optarg; break;
		case 'v':
			for (filt.verdict = 0; filt.verdict <= MG_V_GONE; filt.verdict++)
				if (!strcmp(optarg, mg_verdict_name((unsigned)filt.verdict)))
					break;
			if (filt.verdict > MG_V_GONE)
				return mg_usage_err("--verdict: none, allow, deny, audit or gone");
			break;
		default:
			return mg_bad_option(argc, argv, "i:d:v:k:jw");
		}
	}
	if (optind != argc)
		return mg_usage_err("unexpected argument '%s'", argv[optind]);
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
	mg_events_autoflush = false;   /* flushed whenever the stream pauses */
	if (!json)
		mg_event_header(stdout);
	while (!monitor_stop) {
		ssize_t n = recv(fd, &w, sizeof(w), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			/* idle: flush, then wait with a timeout so a signal that lands just
			 * before the wait still ends the loop */
			struct pollfd p = { .fd = fd, .events = POLLIN };

			fflush(stdout);
			poll(&p, 1, 200);
			continue;
		}
		if (n <= 0) {
			fflush(stdout);
			if (!monitor_stop)
				mg_err("the agent closed the event stream");
			close(fd);
			return monitor_stop ? 0 : 1;
		}
		if ((size_t)n != sizeof(w))
			continue;
		if (w.kind == MG_WIRE_BYE) {
			char why[sizeof(w.where) + 1];
			fflush(stdout);
			mg_strlcpy(why, w.where, sizeof(why));
			mg_err("the agent closed the event stream: %s", why);
			close(fd);
			return 1;
		}
		if (w.kind == MG_WIRE_LOST)
			mg_print_lost(stdout, w.lost, w.where, json);
		else if (mg_event_matches(&w.ev, &filt))
			mg_event_print_td(stdout, &w.ev, w.teardown, json);
	}
	fflush(stdout);
	close(fd);
	return 0;
}
