/* `macvguard hook`: qemu (as libvirtd runs it), install, uninstall. */
#include <stdio.h>
#include <string.h>
#include "cmds.h"
#include "hook.h"
#include "util.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: macvguard hook qemu DOMAIN OP SUBOP EXTRA  (as libvirtd runs it)\n"
		     "       macvguard hook install [--hooks-dir DIR] [--binary PATH] [--reload]\n"
		     "       macvguard hook uninstall [--hooks-dir DIR] [--reload]\n");
}

int mg_cmd_hook(int argc, char **argv)
{
	static const struct mg_cmd cmds[] = {
		{ "qemu", mg_hook_qemu },
		{ "install", mg_hook_install },
		{ "uninstall", mg_hook_uninstall },
	};

	return mg_cmd_select(cmds, MG_ARRAY_SIZE(cmds), argc - 1, argv + 1, usage);
}
