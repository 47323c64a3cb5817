/* One way every command family picks its subcommand and gives its help (see cmds.h). */
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "output.h"

static bool is_help(const char *s)
{
	return !strcmp(s, "-h") || !strcmp(s, "--help");
}

static char name_buf[64];

static void set_name(const char *family, const char *word)
{
	snprintf(name_buf, sizeof(name_buf), "%s%s%s", family, *family && word ? " " : "",
		 word ? word : "");
	mg_cmd_name = name_buf;
}

int mg_cmd_select(const struct mg_cmd *cmds, size_t n, int argc, char **argv,
		  const char *family, const char *help)
{
	const struct mg_cmd *c = NULL;

	set_name(family, NULL);
	if (argc < 1)
		return mg_usage_err("a command is needed");
	if (!strcmp(argv[0], "help") || is_help(argv[0])) {
		if (!strcmp(argv[0], "help") && argc > 1) {
			for (size_t i = 0; i < n; i++)
				if (!strcmp(argv[1], cmds[i].name)) {
					if (cmds[i].flags & MG_CMD_FAMILY) {
						char *hv[] = { argv[1], (char *)"--help", NULL };
						return cmds[i].fn(2, hv);
					}
					fputs(cmds[i].help, stdout);
					return mg_stdout_status();
				}
			return mg_usage_err("unknown command '%s'", argv[1]);
		}
		fputs(help, stdout);
		return mg_stdout_status();
	}
	for (size_t i = 0; i < n && !c; i++)
		if (!strcmp(argv[0], cmds[i].name))
			c = &cmds[i];
	if (!c && argv[0][0] == '-')
		return mg_usage_err("unknown option '%s'", argv[0]);
	if (!c)
		return mg_usage_err("unknown command '%s'", argv[0]);
	set_name(family, c->name);
	if (!(c->flags & MG_CMD_FAMILY)) {
		bool want = false;

		if (c->flags & MG_CMD_HELP_ALONE)
			want = argc == 2 && is_help(argv[1]);
		else
			for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
				if (is_help(argv[i]))
					want = true;
		if (want) {
			fputs(c->help, stdout);
			return mg_stdout_status();
		}
	}
	return c->fn(argc, argv);
}

int mg_no_options(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1])
			return mg_usage_err("unknown option '%s'", argv[i]);
	return 0;
}
