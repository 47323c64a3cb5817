/* The one way the CLI and the agent speak: messages on stderr (prefixed "macvguard: "),
 * errors as {"error": ...} on stdout in JSON mode, the global -j/-p/-v/--wide switches,
 * JSON on stdout (docs/json.md), text lines that fit MG_TEXT_COLUMNS. Uses only util.h
 * and json-c. */
#ifndef MG_OUTPUT_H
#define MG_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>

extern bool mg_json;      /* -j: JSON output */
extern bool mg_pretty;    /* -p: indented JSON on stdout (implies -j) */
extern bool mg_verbose;   /* -v */
extern bool mg_wide;      /* --wide: every column, lines not cut */
/* The command being run ("tag", "xml check"): named in usage errors. */
extern const char *mg_cmd_name;

#define MG_TEXT_COLUMNS 120   /* text output fits this without --wide */

/* An error: one line on stderr, or {"error": MSG} on stdout in JSON mode. */
void mg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error about a place in an input, compiler style: "macvguard: WHERE: error: MSG"
 * (WHERE is FILE, FILE:LINE or FILE:LINE:COL). */
void mg_err_at(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A usage error of mg_cmd_name: "macvguard: error: CMD: MSG (see `macvguard CMD --help`)"
 * on stderr, or {"error": "CMD: MSG", "help": "macvguard CMD --help"}. Returns 2. */
int mg_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* After getopt_long returned '?' (opterr = 0): says which option was wrong. Returns 2. */
int mg_bad_option(int argc, char **argv, const char *shortopts);
void mg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A plain line on stderr: "macvguard: TEXT". */
void mg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The agent's log line: "macvguard: TIME TEXT". */
void mg_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a JSON value on stdout (one line, mg_json_fputs), and free it. */
void mg_json_print(json_object *obj);

/* Untrusted strings (process, interface and domain names, foreign journals) reach every
 * text output through one of these: bytes a terminal acts on (C0 controls, DEL, the C1
 * controls U+0080..U+009F) and bytes that are not UTF-8 become \xNN, a backslash \\;
 * other UTF-8 passes, as with `ip` and journalctl. */
void mg_fputs_escaped(FILE *f, const char *s);
/* The same into out (always terminated; cut before an escape that does not fit). */
char *mg_escape(const char *s, char *out, size_t size);

/* o as one line of JSON that is valid UTF-8 whatever its strings hold: json-c escapes
 * control characters but copies bytes that are not UTF-8; those become the text \xNN
 * (DEL and C1 controls \u00NN, the same characters escaped). malloc'd (NULL: out of
 * memory), *len its length. */
char *mg_json_line(json_object *o, size_t *len);
/* The same, indented when pretty. */
char *mg_json_text(json_object *o, size_t *len, bool pretty);
/* mg_json_line(o) and a newline on f (indented on stdout with -p); 0 or EOF. */
int mg_json_fputs(FILE *f, json_object *o);

/* stdout failed (full disk, closed pipe, /dev/full): flush it and say so. 0 when all
 * output reached it, 1 (said on stderr) otherwise; commands return it. */
int mg_stdout_status(void);

/* A text line (a table row, an event, a record): escaped, trailing blanks dropped, newline
 * added; on a terminal, unless --wide, cut to MG_TEXT_COLUMNS columns with an ellipsis. */
void mg_print_line(FILE *out, const char *line);
/* s cut to width columns (the last one an ellipsis when it is longer) and padded with
 * blanks to width; into out. For table columns (escape the line afterwards). */
char *mg_fit(const char *s, size_t width, char *out, size_t size);
/* Prose (a summary): escaped and word-wrapped to MG_TEXT_COLUMNS, each line after indent. */
void mg_print_wrapped(FILE *out, const char *text, const char *indent);

#endif
