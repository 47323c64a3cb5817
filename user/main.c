/* macvguard: one binary, bpftool/ip style commands; each family (cmd_*.c) owns its
 * words, options and help, and main only selects the family. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "config.h"
#include "output.h"
#include "util.h"

static const struct mg_cmd commands[] = {
	{ "run", mg_cmd_run },         { "stop", mg_cmd_stop },       { "status", mg_cmd_status },
	{ "tag", mg_cmd_tag },         { "untag", mg_cmd_untag },     { "release", mg_cmd_release },
	{ "links", mg_cmd_links },     { "mode", mg_cmd_mode },       { "monitor", mg_cmd_monitor },
	{ "probes", mg_cmd_probes },   { "xml", mg_cmd_xml },         { "journal", mg_cmd_journal },
	{ "postmortem", mg_cmd_postmortem }, { "hook", mg_cmd_hook },  { "config", mg_cmd_config },
};

static void usage(FILE *out)
{
	fputs("usage: macvguard [-j] [-v] COMMAND [ARGS]\n\n"
	      "  -j  JSON output    -v  verbose    --journal-dir DIR  (or $MACVGUARD_JOURNAL_DIR)\n"
	      "  --config FILE  the configuration (or $MACVGUARD_CONF; default /etc/macvguard/macvguard.conf)\n"
	      "\ncommands:\n"
	      "  run [--mode M] [--config F] [--status-dir D]  guard + libvirt ownership, live events\n"
	      "  stop [--unpin]               stop the agent; --unpin removes the guard\n"
	      "  status                       kernel features, guard mode and why (exit 0: enforcing)\n"
	      "  config check [FILE]          check the configuration (every error with FILE:LINE)\n"
	      "  tag IFNAME --domain D [--uuid U] --pid P [--netns N]\n"
	      "  untag IFNAME [--netns N]\n"
	      "  release IFNAME [--netns N]   allow its deletion\n"
	      "  links                        guarded links, owners, verdict counts\n"
	      "  mode [enforce|audit]\n"
	      "  monitor [-j] [--ifname N] [--domain D] [--verdict V] [--kind K]\n"
	      "  probes on|off                detach/re-attach the deletion-path probes\n"
	      "  xml sanitize|check ...       libvirt's generated-name rules\n"
	      "  journal [-f] [--domain D] [--ifname N] [--since T] [--until T] [--verdict V]\n"
	      "  postmortem [--domain D] [--since T] [--until T] [--html F] [JOURNAL...]\n"
	      "  hook qemu DOMAIN OP SUBOP EXTRA | hook install|uninstall [--reload]\n", out);
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			mg_json = true;
		else if (!strcmp(argv[i], "--journal-dir") && i + 1 < argc)
			setenv("MACVGUARD_JOURNAL_DIR", argv[++i], 1);
		else if (!strncmp(argv[i], "--journal-dir=", 14))
			setenv("MACVGUARD_JOURNAL_DIR", argv[i] + 14, 1);
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			mg_conf_cli_path = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			mg_conf_cli_path = argv[i] + 9;
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			mg_verbose = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			break;   /* mg_cmd_select prints the help */
		else {
			mg_err("unknown option %s", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	/* Every command reads the configuration (run and config check read their own); a
	 * file named explicitly (--config, $MACVGUARD_CONF) must exist. The hook never fails
	 * libvirt: it goes on with the defaults. */
	if (i < argc && strcmp(argv[i], "run") && strcmp(argv[i], "config") &&
	    strcmp(argv[i], "help") && strcmp(argv[i], "-h") && strcmp(argv[i], "--help") &&
	    mg_conf_init(mg_conf_cli_path) && strcmp(argv[i], "hook"))
		return 2;
	return mg_cmd_select(commands, MG_ARRAY_SIZE(commands), argc - i, argv + i, usage);
}
