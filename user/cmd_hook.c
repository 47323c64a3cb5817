/* `macvguard hook`: qemu (as libvirtd runs it), install, uninstall. */
#include <stdio.h>
#include <string.h>
#include "cmds.h"
#include "hook.h"

int mg_cmd_hook(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "qemu"))
		return mg_hook_qemu(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "install"))
		return mg_hook_install(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "uninstall"))
		return mg_hook_uninstall(argc - 1, argv + 1);
	fprintf(stderr, "usage: macvguard hook qemu DOMAIN OP SUBOP EXTRA  (as libvirtd runs it)\n"
			"       macvguard hook install [--hooks-dir DIR] [--binary PATH]\n"
			"       macvguard hook uninstall [--hooks-dir DIR]\n");
	return 2;
}
