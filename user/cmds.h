/* Every command of the macvguard binary, one file per family (cmd_*.c); argv[0] is the
 * command word, the return value is the exit code. main.c selects. */
#ifndef MG_CMDS_H
#define MG_CMDS_H

#include <stdio.h>

/* A command family's table: each entry a word and its entry point (argv[0] = the word). */
struct mg_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};
/* Runs the entry of cmds named by argv[0]; "help", "-h", "--help" call help(stdout) and
 * return 0; no word or an unknown one calls help(stderr) and returns 2. */
int mg_cmd_select(const struct mg_cmd *cmds, size_t n, int argc, char **argv,
		  void (*help)(FILE *out));

int mg_cmd_run(int argc, char **argv);        /* cmd_run.c */
int mg_cmd_stop(int argc, char **argv);
int mg_cmd_probes(int argc, char **argv);
int mg_cmd_config(int argc, char **argv);     /* cmd_config.c */
int mg_cmd_monitor(int argc, char **argv);    /* cmd_monitor.c */
int mg_cmd_status(int argc, char **argv);     /* cmd_status.c */
int mg_cmd_mode(int argc, char **argv);
int mg_cmd_tag(int argc, char **argv);        /* cmd_link.c */
int mg_cmd_untag(int argc, char **argv);
int mg_cmd_release(int argc, char **argv);
int mg_cmd_links(int argc, char **argv);
int mg_cmd_xml(int argc, char **argv);        /* cmd_xml.c */
int mg_cmd_hook(int argc, char **argv);       /* cmd_hook.c */
int mg_cmd_journal(int argc, char **argv);    /* cmd_journal.c */
int mg_cmd_postmortem(int argc, char **argv); /* cmd_postmortem.c */

#endif
