/* One way every command family picks its subcommand (see cmds.h). */
#include <string.h>
#include "cmds.h"
#include "output.h"

int mg_cmd_select(const struct mg_cmd *cmds, size_t n, int argc, char **argv,
		  void (*help)(FILE *out))
{
	if (argc < 1) {
		help(stderr);
		return 2;
	}
	if (!strcmp(argv[0], "help") || !strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
		help(stdout);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(argv[0], cmds[i].name))
			return cmds[i].fn(argc, argv);
	mg_err("unknown command '%s'", argv[0]);
	help(stderr);
	return 2;
}
