/* The one way the CLI and the agent speak: messages on stderr (prefixed "macvguard: "),
 * the global -j/-v switches, and one-line JSON on stdout. Uses only util.h and json-c. */
#ifndef MG_OUTPUT_H
#define MG_OUTPUT_H

#include <stdbool.h>
#include <json-c/json.h>

extern bool mg_json;      /* -j: JSON output */
extern bool mg_verbose;   /* -v */

void mg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error about a place in an input, compiler style: "macvguard: WHERE: error: MSG"
 * (WHERE is FILE, FILE:LINE or FILE:LINE:COL). */
void mg_err_at(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A plain line on stderr: "macvguard: TEXT". */
void mg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The agent's log line: "macvguard: TIME TEXT". */
void mg_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a JSON value on stdout (one line), and free it. */
void mg_json_print(json_object *obj);

#endif
