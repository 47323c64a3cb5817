/* The configuration file (/etc/macvguard/macvguard.conf): every setting of the agent, the
 * hook and the CLI, with environment variables as documented overrides (config.c,
 * dist/macvguard.conf, docs/systemd.md "Configuration"). */
#ifndef MG_CONFIG_H
#define MG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MG_CONF_MAX_SIZE (1u << 20)   /* a larger file is an error, not read */

/* KEY = VALUE lines; '#' starts a comment; blank lines; CRLF or LF line ends. */
struct mg_conf {
	char status_dir[256];      /* status_dir          $MACVGUARD_STATUS_DIR */
	bool watch_status;         /* watch_status */
	char mode[16];             /* mode: the mode of a fresh load (never overrides a pinned one) */
	bool mode_set;             /* mode came from the file */
	bool journal;              /* journal = yes|no   $MACVGUARD_NO_JOURNAL (set: no) */
	char journal_dir[256];     /* journal_dir        $MACVGUARD_JOURNAL_DIR */
	size_t journal_segment;    /* journal_segment_size  $MACVGUARD_JOURNAL_SEGMENT; 0 default */
	size_t journal_retain;     /* journal_retain     $MACVGUARD_JOURNAL_RETAIN; 0 default */
	char host[256];            /* host               $MACVGUARD_HOST; "" = hostname */
	bool systemd_journal;      /* systemd_journal    $MACVGUARD_SYSTEMD_JOURNAL (1/0) */
	char prom_file[512];       /* prometheus_file    $MACVGUARD_PROM_FILE ("-": off);
	                            * "" off, "auto" the node-exporter file when its dir exists */
	char hook_log[512];        /* hook_log           $MACVGUARD_HOOK_LOG; "" syslog only */
	size_t xml_max_size;       /* xml_max_size       $MACVGUARD_XML_MAX_SIZE; 0 default */
	char xml_prefixes[256];    /* xml_prefixes       $MACVGUARD_XML_PREFIXES (comma list) */
	char path[512];            /* the file read ("" none) */
};

/* One problem found in a file: where (FILE:LINE, or FILE) and what. */
typedef void (*mg_conf_report_fn)(void *ctx, const char *where, const char *msg);

void mg_conf_defaults(struct mg_conf *c);
/* Parses a whole file's bytes (name only for messages): every problem (unknown key, bad
 * value, no '=', NUL byte, duplicate key) is reported with NAME:LINE and counted; a line
 * with a problem changes nothing. Returns the number of problems. */
int mg_conf_parse(const char *buf, size_t len, const char *name, struct mg_conf *c,
		  mg_conf_report_fn report, void *ctx);
/* Reads PATH (regular file, no symlink, bounded size) into c. A missing file: 0 with
 * c unchanged when !must_exist, -ENOENT otherwise; other read errors -errno. Problems
 * go to report (NULL: warnings on stderr) and are counted in *nproblems (may be NULL). */
int mg_conf_read(const char *path, bool must_exist, struct mg_conf *c, mg_conf_report_fn report,
		 void *ctx, int *nproblems);
/* Old entry point: mg_conf_read(path, false, c, NULL, NULL, NULL). */
int mg_conf_load(const char *path, struct mg_conf *c);
/* The environment's overrides (the MACVGUARD_* variables listed above). */
void mg_conf_env(struct mg_conf *c);

/* --config FILE given before the command word (main.c); NULL when not. */
extern const char *mg_conf_cli_path;

/* The process's configuration: defaults + file + environment. mg_conf_init reads
 * PATH (NULL: $MACVGUARD_CONF, else the default file); a file named explicitly (PATH or
 * $MACVGUARD_CONF) must exist. 0, or -errno (said on stderr). */
int mg_conf_init(const char *path);
/* The current configuration (defaults + environment when mg_conf_init never ran). */
const struct mg_conf *mg_conf(void);
/* Replace it (the agent's reload). */
void mg_conf_set(const struct mg_conf *c);
/* The file mg_conf_init would read: PATH, $MACVGUARD_CONF or the default; *explicit. */
const char *mg_conf_path(const char *path, bool *explicit_);

#endif
