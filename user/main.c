/* macvguard: one binary, bpftool/ip style subcommands. */
#include <stdio.h>
#include <string.h>
#include "cmds.h"
#include "output.h"

struct command {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
};

static const struct command commands[] = {
	{ "run", mg_cmd_run, "run [--mode M] [--config F] [--status-dir D]  guard + libvirt ownership, live events" },
	{ "stop", mg_cmd_stop, "stop [--unpin]               stop the agent; --unpin removes the guard" },
	{ "status", mg_cmd_status, "status                       kernel features, guard mode and why" },
	{ "tag", mg_cmd_tag, "tag IFNAME --domain D [--uuid U] --pid P [--netns N]" },
	{ "untag", mg_cmd_untag, "untag IFNAME [--netns N]" },
	{ "release", mg_cmd_release, "release IFNAME [--netns N]   allow its deletion" },
	{ "links", mg_cmd_links, "links                        guarded links, owners, verdict counts" },
	{ "mode", mg_cmd_mode, "mode [enforce|audit]" },
	{ "monitor", mg_cmd_monitor, "monitor [-j] [--ifname N] [--domain D] [--verdict V] [--kind K]" },
	{ "probes", mg_cmd_probes, "probes on|off                detach/re-attach the deletion-path probes" },
	{ "xml", mg_cmd_xml, "xml sanitize|check ...       libvirt's generated-name rules" },
	{ "journal", mg_cmd_journal, "journal [-f] [--domain D] [--ifname N] [--since T] [--until T] [--verdict V]" },
	{ "postmortem", mg_cmd_postmortem, "postmortem [--domain D] [--since T] [--until T] [--html F] [JOURNAL...]" },
	{ "hook", mg_cmd_hook, "hook qemu DOMAIN OP SUBOP EXTRA | hook install|uninstall [--reload]" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: macvguard [-j] [-v] COMMAND [ARGS]\n\n"
		     "  -j  JSON output    -v  verbose    --journal-dir DIR  (or $MACVGUARD_JOURNAL_DIR)\n"
		     "\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s\n", commands[i].help);
}

int main(int argc, char **argv)
{
	int i = 1;
	size_t c;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			mg_json = true;
		else if (!strcmp(argv[i], "--journal-dir") && i + 1 < argc)
			setenv("MACVGUARD_JOURNAL_DIR", argv[++i], 1);
		else if (!strncmp(argv[i], "--journal-dir=", 14))
			setenv("MACVGUARD_JOURNAL_DIR", argv[i] + 14, 1);
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			mg_verbose = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			mg_err("unknown option %s", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(argc - i, argv + i);
	mg_err("unknown command '%s'", argv[i]);
	usage(stderr);
	return 2;
}
