/* Every command of the macvguard binary, one file per family (cmd_*.c); argv[0] is the
 * command word, the return value is the exit code. main.c selects. Each family owns its
 * words, options and help text; mg_cmd_select gives every command the same habits:
 * `COMMAND --help` prints that command's help (rc 0), a usage error is one line with
 * "see `macvguard COMMAND --help`" (rc 2). */
#ifndef MG_CMDS_H
#define MG_CMDS_H

#include <stdio.h>

#define MG_CMD_FAMILY     1u   /* has subcommands: its fn selects (and helps) again */
#define MG_CMD_HELP_ALONE 2u   /* only `CMD --help` alone is help (hook qemu: libvirt's args) */

/* A command family's table: each entry a word, its entry point (argv[0] = the word), its
 * help text (usage lines, what it does, every option) and flags. */
struct mg_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
	unsigned flags;
};
/* Runs the entry of cmds named by argv[0]. family is the words so far ("" at the top,
 * "xml", "hook"), help the family's own help. "help", "-h", "--help" print help on stdout
 * (rc 0); "help WORD" and "WORD ... --help" print WORD's help (rc 0); no word or an
 * unknown one is a usage error (rc 2). Sets mg_cmd_name. */
int mg_cmd_select(const struct mg_cmd *cmds, size_t n, int argc, char **argv,
		  const char *family, const char *help);

/* For commands without options: a usage error (2) for the first argument that looks like
 * one, else 0. */
int mg_no_options(int argc, char **argv);

int mg_cmd_run(int argc, char **argv);        /* cmd_run.c */
int mg_cmd_stop(int argc, char **argv);
int mg_cmd_probes(int argc, char **argv);
extern const char mg_help_run[], mg_help_stop[], mg_help_probes[];
int mg_cmd_config(int argc, char **argv);     /* cmd_config.c */
int mg_cmd_monitor(int argc, char **argv);    /* cmd_monitor.c */
extern const char mg_help_monitor[];
int mg_cmd_status(int argc, char **argv);     /* cmd_status.c */
int mg_cmd_mode(int argc, char **argv);
extern const char mg_help_status[], mg_help_mode[];
int mg_cmd_tag(int argc, char **argv);        /* cmd_link.c */
int mg_cmd_untag(int argc, char **argv);
int mg_cmd_release(int argc, char **argv);
int mg_cmd_links(int argc, char **argv);
extern const char mg_help_tag[], mg_help_untag[], mg_help_release[], mg_help_links[];
int mg_cmd_xml(int argc, char **argv);        /* cmd_xml.c */
extern const char mg_help_xml[];
extern const char mg_help_config[];
int mg_cmd_hook(int argc, char **argv);       /* cmd_hook.c */
extern const char mg_help_hook[];
int mg_cmd_journal(int argc, char **argv);    /* cmd_journal.c */
extern const char mg_help_journal[];
int mg_cmd_postmortem(int argc, char **argv); /* cmd_postmortem.c */
extern const char mg_help_postmortem[];
int mg_cmd_version(int argc, char **argv);    /* cmd_version.c */
extern const char mg_help_version[];

#endif
