/* macvguard: one binary, bpftool/ip style commands; each family (cmd_*.c) owns its
 * words, options and help, and main only reads the global options and selects the family. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmds.h"
#include "config.h"
#include "output.h"
#include "util.h"

static const struct mg_cmd commands[] = {
	{ "run", mg_cmd_run, mg_help_run, 0 },
	{ "stop", mg_cmd_stop, mg_help_stop, 0 },
	{ "status", mg_cmd_status, mg_help_status, 0 },
	{ "mode", mg_cmd_mode, mg_help_mode, 0 },
	{ "tag", mg_cmd_tag, mg_help_tag, 0 },
	{ "untag", mg_cmd_untag, mg_help_untag, 0 },
	{ "release", mg_cmd_release, mg_help_release, 0 },
	{ "links", mg_cmd_links, mg_help_links, 0 },
	{ "monitor", mg_cmd_monitor, mg_help_monitor, 0 },
	{ "probes", mg_cmd_probes, mg_help_probes, 0 },
	{ "xml", mg_cmd_xml, mg_help_xml, MG_CMD_FAMILY },
	{ "journal", mg_cmd_journal, mg_help_journal, 0 },
	{ "postmortem", mg_cmd_postmortem, mg_help_postmortem, 0 },
	{ "hook", mg_cmd_hook, mg_help_hook, MG_CMD_FAMILY },
	{ "config", mg_cmd_config, mg_help_config, MG_CMD_FAMILY },
	{ "version", mg_cmd_version, mg_help_version, 0 },
};

static const char help[] =
	"usage: macvguard [OPTIONS] COMMAND [ARGS]\n"
	"       macvguard COMMAND --help | macvguard help COMMAND\n"
	"\n"
	"Guard libvirt/QEMU guest links (macvtap, macvlan, tap) against deletion by another\n"
	"domain's teardown; monitor every link deletion; keep a flight recorder per host.\n"
	"\n"
	"options (before the command):\n"
	"  -j, --json             JSON output (docs/json.md); errors as {\"error\": ...} on stdout\n"
	"  -p, --pretty           indented JSON (implies -j)\n"
	"  -v, --verbose          more detail on stderr\n"
	"  -w, --wide             text output with every column, lines not cut at 120 columns\n"
	"      --journal-dir DIR  the macvguard journal directory ($MACVGUARD_JOURNAL_DIR)\n"
	"      --config FILE      the configuration file ($MACVGUARD_CONF; default\n"
	"                         /etc/macvguard/macvguard.conf)\n"
	"  -V, --version          version, build and ABI (same as `macvguard version`)\n"
	"  -h, --help             this help\n"
	"\n"
	"commands:\n"
	"  run          the agent: guard, libvirt ownership, live events\n"
	"  stop         stop the agent (--unpin: remove the guard)\n"
	"  status       kernel features, how the guard runs and why, stats\n"
	"  mode         show or set the guard mode (enforce|audit)\n"
	"  links        guarded links, owners, verdict counts\n"
	"  tag          guard a link for a domain by hand\n"
	"  untag        stop guarding a link\n"
	"  release      allow a guarded link's deletion\n"
	"  monitor      live events from the agent, filtered\n"
	"  probes       detach/re-attach the deletion-path probes (on|off)\n"
	"  xml          libvirt's generated-name rule: sanitize, check\n"
	"  journal      print or follow the flight recorder\n"
	"  postmortem   one timeline and summary from several hosts' journals\n"
	"  hook         the libvirt hook: qemu (libvirt runs it), install, uninstall\n"
	"  config       check the configuration file (config check [FILE])\n"
	"  version      version, build and ABI\n"
	"\n"
	"See macvguard(8), macvguard.conf(5).\n";

int main(int argc, char **argv)
{
	int i = 1;

	opterr = 0;   /* every command reports a bad option itself (mg_bad_option) */
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			mg_json = true;
		} else if (!strcmp(a, "-p") || !strcmp(a, "--pretty")) {
			mg_json = mg_pretty = true;
		} else if (!strcmp(a, "-jp") || !strcmp(a, "-pj")) {
			mg_json = mg_pretty = true;
		} else if (!strcmp(a, "--journal-dir")) {
			if (i + 1 >= argc)
				return mg_usage_err("option '--journal-dir' needs a value");
			setenv("MACVGUARD_JOURNAL_DIR", argv[++i], 1);
		} else if (!strncmp(a, "--journal-dir=", 14)) {
			setenv("MACVGUARD_JOURNAL_DIR", a + 14, 1);
		} else if (!strcmp(a, "--config")) {
			if (i + 1 >= argc)
				return mg_usage_err("option '--config' needs a value");
			mg_conf_cli_path = argv[++i];
		} else if (!strncmp(a, "--config=", 9)) {
			mg_conf_cli_path = a + 9;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			mg_verbose = true;
		} else if (!strcmp(a, "-w") || !strcmp(a, "--wide")) {
			mg_wide = true;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			char *v[] = { (char *)"version", NULL };
			mg_cmd_name = "version";
			return mg_cmd_version(1, v);
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			break;   /* mg_cmd_select prints the help */
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else {
			return mg_usage_err("unknown option '%s'", a);
		}
	}
	/* Every command reads the configuration (run and config check read their own); a
	 * file named explicitly (--config, $MACVGUARD_CONF) must exist. The hook never fails
	 * libvirt: it goes on with the defaults. */
	if (i < argc && strcmp(argv[i], "run") && strcmp(argv[i], "config") &&
	    strcmp(argv[i], "help") && strcmp(argv[i], "version") && strcmp(argv[i], "-h") &&
	    strcmp(argv[i], "--help") && mg_conf_init(mg_conf_cli_path) && strcmp(argv[i], "hook"))
		return 2;
	return mg_cmd_select(commands, MG_ARRAY_SIZE(commands), argc - i, argv + i, "", help);
}
