/* `macvguard hook`: qemu (as libvirtd runs it), install, uninstall. */
#include <stdio.h>
#include <string.h>
#include "cmds.h"
#include "hook.h"
#include "output.h"
#include "util.h"

const char mg_help_hook[] =
	"usage: macvguard hook qemu DOMAIN OP SUBOP EXTRA   (libvirtd runs it)\n"
	"       macvguard [-j] hook install [--hooks-dir DIR] [--binary PATH] [--reload]\n"
	"       macvguard [-j] hook uninstall [--hooks-dir DIR] [--reload]\n"
	"\n"
	"The libvirt hook (docs/libvirt.md). `macvguard hook SUBCOMMAND --help` tells more.\n";

static const char help_qemu[] =
	"usage: macvguard hook qemu DOMAIN OP SUBOP EXTRA   (libvirtd runs it, XML on stdin)\n"
	"\n"
	"What libvirt runs for every qemu hook event (through HOOKS_DIR/qemu.d/macvguard).\n"
	"migrate and restore: prints the domain XML with generated target names removed\n"
	"(xml sanitize --mode migratable); started and reconnect: tags the domain's links\n"
	"(owner = QEMU pid from STATUS_DIR/DOMAIN.pid); stopped: records which libvirtd thread\n"
	"tears the domain down; release: closes that window and untags. Every call is a\n"
	"journal record. It always exits 0: it never fails a libvirt operation. Logs go to\n"
	"syslog (and $MACVGUARD_HOOK_LOG).\n";

static const char help_install[] =
	"usage: macvguard [-j] hook install [--hooks-dir DIR] [--binary PATH] [--reload]\n"
	"\n"
	"Installs DIR/qemu.d/macvguard, which runs PATH hook qemu ... (never replaces a file it\n"
	"did not write). libvirtd reads hooks only when it starts or reloads.\n"
	"\n"
	"  -d, --hooks-dir DIR   libvirt's hooks directory (default /etc/libvirt/hooks)\n"
	"  -b, --binary PATH     the macvguard binary the hook runs (default: this one)\n"
	"  -r, --reload          SIGHUP a running libvirtd or virtqemud so it reads the hook\n";

static const char help_uninstall[] =
	"usage: macvguard [-j] hook uninstall [--hooks-dir DIR] [--reload]\n"
	"\n"
	"Removes DIR/qemu.d/macvguard if macvguard wrote it.\n"
	"\n"
	"  -d, --hooks-dir DIR   libvirt's hooks directory (default /etc/libvirt/hooks)\n"
	"  -r, --reload          SIGHUP a running libvirtd or virtqemud\n";

/* libvirt reads the hook's stdout (the filtered XML): never JSON there, whatever -j said */
static int hook_qemu(int argc, char **argv)
{
	mg_json = mg_pretty = false;
	return mg_hook_qemu(argc, argv);
}

int mg_cmd_hook(int argc, char **argv)
{
	static const struct mg_cmd cmds[] = {
		{ "qemu", hook_qemu, help_qemu, MG_CMD_HELP_ALONE },
		{ "install", mg_hook_install, help_install, 0 },
		{ "uninstall", mg_hook_uninstall, help_uninstall, 0 },
	};

	return mg_cmd_select(cmds, MG_ARRAY_SIZE(cmds), argc - 1, argv + 1, "hook", mg_help_hook);
}
