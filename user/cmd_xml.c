/* `macvguard xml sanitize|check`: libvirt's generated-name rule on files.
 * The rule itself lives in xmlrules.c; the hook in hook.c. See docs/xml-rules.md.
 *
 * sanitize: everything meant for stdout is built in memory and written only once the
 * input was read and accepted, so bad input leaves stdout empty (exit 2).
 * check: a lint that keeps going: each file (directories are walked for *.xml) gives its
 * findings or one error line, and the exit code says whether any finding (1) or any
 * error (2) was seen. */
#include "cmds.h"
#include "output.h"
#include "util.h"
#include "xmlrules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

enum { OPT_MAX_SIZE = 1000, OPT_MAX_DEPTH };

const char mg_help_xml[] =
	"usage: macvguard xml sanitize [--mode inactive|migratable|live] [--prefix P]... [-v]\n"
	"                              [--max-size N] [--max-depth N] [FILE|-]\n"
	"       macvguard [-j] xml check [--prefix P]... [--max-size N] [--max-depth N] PATH...\n"
	"\n"
	"libvirt's generated-name rule (docs/xml-rules.md). `macvguard xml sanitize --help` and\n"
	"`macvguard xml check --help` tell more.\n";

static const char help_sanitize[] =
	"usage: macvguard [-j] xml sanitize [--mode inactive|migratable|live] [--prefix P]... [-v]\n"
	"                                   [--max-size N] [--max-depth N] [FILE|-]\n"
	"\n"
	"Prints the domain XML (FILE, or stdin) with libvirt's generated <target dev=...> names\n"
	"(vnet*, macvtap*, macvlan* and each --prefix) removed, as libvirt >= 6.7 does for\n"
	"inactive and migratable XML. Bad input: one error line, nothing on stdout, exit 2.\n"
	"-j prints {\"file\", \"xml\", \"removed\": [...]} instead of the document.\n"
	"\n"
	"  -m, --mode M        inactive (default), migratable, or live (keeps the names)\n"
	"  -p, --prefix P      also treat names starting with P as generated (repeatable)\n"
	"  -v, --verbose       report each removal on stderr\n"
	"      --max-size N    refuse documents larger than N bytes (K, M suffixes; default 16M)\n"
	"      --max-depth N   refuse elements nested deeper than N (2..256)\n";

static const char help_check[] =
	"usage: macvguard [-j] xml check [--prefix P]... [--max-size N] [--max-depth N] PATH...\n"
	"\n"
	"Reports saved domain configs that still carry generated target names (a migration or\n"
	"restore could hand them to a running guest's link). Each PATH is a file, `-` (stdin),\n"
	"or a directory, walked for *.xml files (symlinks inside it are not followed). Every\n"
	"file gets its findings on stdout or one error line on stderr, and the check goes on.\n"
	"Exit 0: nothing found; 1: findings; 2: a file could not be read or parsed.\n"
	"\n"
	"  -p, --prefix P      also treat names starting with P as generated (repeatable)\n"
	"      --max-size N    refuse documents larger than N bytes (K, M suffixes; default 16M)\n"
	"      --max-depth N   refuse elements nested deeper than N (2..256)\n"
	"  -j, --json          one JSON object: files, count, findings, errors (docs/json.md)\n";

struct xml_err {
	char where[PATH_MAX + 48];
	char msg[512];
};

static void set_err(struct xml_err *e, const char *file, long line, long col, const char *msg)
{
	if (line > 0 && col > 0)
		snprintf(e->where, sizeof(e->where), "%s:%ld:%ld", file, line, col);
	else if (line > 0)
		snprintf(e->where, sizeof(e->where), "%s:%ld", file, line);
	else
		snprintf(e->where, sizeof(e->where), "%s", file);
	mg_strlcpy(e->msg, msg, sizeof(e->msg));
}

/* Reads FILE (or stdin for "-") and runs the rule. 0 ok, 2 bad input (in *e). */
static int load_and_sanitize(const char *file, const struct mg_xml_opts *o,
			     struct mg_xml_result *r, struct xml_err *e)
{
	int fd = STDIN_FILENO, rc;
	char *buf = NULL, tmp[128];
	size_t len = 0;
	const char *name = strcmp(file, "-") ? file : "<stdin>";

	memset(r, 0, sizeof(*r));
	if (strcmp(file, "-")) {
		fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			set_err(e, name, 0, 0, strerror(errno));
			return 2;
		}
	}
	rc = mg_read_fd(fd, o->max_size, -1, 0, &buf, &len);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc) {
		if (rc > 0) {
			snprintf(tmp, sizeof(tmp), "document larger than the limit of %zu bytes", o->max_size);
			set_err(e, name, 0, 0, tmp);
		} else {
			set_err(e, name, 0, 0, strerror(-rc));
		}
		return 2;
	}
	rc = mg_xml_sanitize(buf, len, o, r);
	free(buf);
	if (rc) {
		set_err(e, name, r->err_line, r->err_col, r->err);
		mg_xml_result_free(r);
		return 2;
	}
	return 0;
}

static int write_out(const char *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n || fflush(stdout)) {
		mg_err("writing output: %s", strerror(errno));
		return 2;
	}
	return 0;
}

static const struct option xml_long[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "prefix", required_argument, NULL, 'p' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "json", no_argument, NULL, 'j' },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "max-depth", required_argument, NULL, OPT_MAX_DEPTH },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct xml_args {
	struct mg_xml_opts o;
	int verbose, json;
};

/* argv[0] is the subcommand. Returns optind, or -1 on a usage error (reported). */
static int parse_args(int argc, char **argv, int sanitize, struct xml_args *a)
{
	int c;
	long depth;
	char *end;

	memset(a, 0, sizeof(*a));
	mg_xml_opts_init(&a->o);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, sanitize ? "m:p:vh" : "jp:h", xml_long, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!sanitize || mg_xml_mode_parse(optarg, &a->o.mode)) {
				mg_usage_err("--mode must be inactive, migratable or live");
				return -1;
			}
			break;
		case 'p':
			if (mg_xml_add_prefix(&a->o, optarg)) {
				mg_usage_err("--prefix: empty or more than %d", MG_XML_MAX_PREFIXES);
				return -1;
			}
			break;
		case 'v': a->verbose = 1; break;
		case 'j': a->json = 1; mg_json = true; break;
		case OPT_MAX_SIZE:
			if (mg_parse_size(optarg, &a->o.max_size)) {
				mg_usage_err("--max-size: bad size '%s'", optarg);
				return -1;
			}
			break;
		case OPT_MAX_DEPTH:
			errno = 0;
			depth = strtol(optarg, &end, 10);
			if (errno || *end || depth < 2 || depth > 256) {
				mg_usage_err("--max-depth: 2..256");
				return -1;
			}
			a->o.max_depth = (int)depth;
			break;
		default:
			mg_bad_option(argc, argv, sanitize ? "m:p:vh" : "jp:h");
			return -1;
		}
	}
	if (mg_json)
		a->json = 1;
	return optind;
}

static json_object *finding_json(const char *file, const struct mg_xml_finding *f)
{
	json_object *o = json_object_new_object();

	if (file)
		json_object_object_add(o, "file", json_object_new_string(file));
	json_object_object_add(o, "line", json_object_new_int64(f->line));
	json_object_object_add(o, "domain", f->domain[0] ? json_object_new_string(f->domain) : NULL);
	json_object_object_add(o, "interface_type", json_object_new_string(f->iftype));
	json_object_object_add(o, "mac", f->mac[0] ? json_object_new_string(f->mac) : NULL);
	json_object_object_add(o, "ifname", json_object_new_string(f->dev));
	return o;
}

static int cmd_sanitize(int argc, char **argv)
{
	struct xml_args a;
	struct mg_xml_result r;
	struct xml_err e;
	const char *file = "-";
	int i = parse_args(argc, argv, 1, &a), rc;

	if (i < 0)
		return 2;
	if (argc - i > 1)
		return mg_usage_err("one FILE at most");
	if (argc - i == 1)
		file = argv[i];
	rc = load_and_sanitize(file, &a.o, &r, &e);
	if (rc) {
		mg_err_at(e.where, "%s", e.msg);
		return rc;
	}
	if (a.verbose) {
		const char *name = strcmp(file, "-") ? file : "<stdin>";
		for (size_t k = 0; k < r.nfindings; k++) {
			const struct mg_xml_finding *f = &r.findings[k];
			mg_info("%s:%ld: %s generated target dev '%s' "
				"(domain '%s', interface type '%s', mac '%s')",
				name, f->line, f->removed ? "removed" : "kept (live)", f->dev,
				f->domain, f->iftype, f->mac);
		}
		if (r.root == MG_XML_ROOT_DOMSTATUS && a.o.mode != MG_XML_LIVE)
			mg_info("%s: <domstatus>: printed the <domain> inside it (%s mode)", name,
				mg_xml_mode_name(a.o.mode));
		if (!r.nfindings)
			mg_info("%s: nothing to remove", name);
	}
	if (a.json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();

		json_object_object_add(o, "file", json_object_new_string(strcmp(file, "-") ? file : "<stdin>"));
		json_object_object_add(o, "mode", json_object_new_string(mg_xml_mode_name(a.o.mode)));
		for (size_t k = 0; k < r.nfindings; k++) {
			json_object *f = finding_json(NULL, &r.findings[k]);
			json_object_object_add(f, "removed", json_object_new_boolean(r.findings[k].removed));
			json_object_array_add(arr, f);
		}
		json_object_object_add(o, "removed", arr);
		json_object_object_add(o, "xml", json_object_new_string_len(r.out, (int)r.out_len));
		mg_json_print(o);
		mg_xml_result_free(&r);
		return mg_stdout_status() ? 2 : 0;
	}
	rc = write_out(r.out, r.out_len);
	mg_xml_result_free(&r);
	return rc;
}

struct check {
	struct xml_args a;
	size_t files, nfind, nerr;
	json_object *findings, *errors;
};

/* One file (or directory) that could not be read or parsed: counted, and said in the
 * JSON document or as one error line; the check goes on. */
static void check_error(struct check *c, const char *name, const struct xml_err *e)
{
	c->nerr++;
	if (c->a.json) {
		json_object *o = json_object_new_object();
		char full[sizeof(e->where) + sizeof(e->msg) + 4];
		snprintf(full, sizeof(full), "%s: %s", e->where, e->msg);
		json_object_object_add(o, "file", json_object_new_string(name));
		json_object_object_add(o, "error", json_object_new_string(full));
		json_object_array_add(c->errors, o);
	} else {
		fflush(stdout);   /* this file's line comes after the previous files' */
		mg_err_at(e->where, "%s", e->msg);
	}
}

static void check_one(struct check *c, const char *path)
{
	struct mg_xml_result r;
	struct xml_err e;
	const char *name = strcmp(path, "-") ? path : "<stdin>";

	c->files++;
	if (load_and_sanitize(path, &c->a.o, &r, &e)) {
		check_error(c, name, &e);
		return;
	}
	/* A <domstatus> is a running domain's state: its generated names are live and
	 * correct there, so it has nothing to report. */
	if (r.root == MG_XML_ROOT_DOMAIN) {
		for (size_t k = 0; k < r.nfindings; k++) {
			const struct mg_xml_finding *f = &r.findings[k];
			char line[PATH_MAX + 1024];

			c->nfind++;
			if (c->a.json) {
				json_object_array_add(c->findings, finding_json(name, f));
				continue;
			}
			snprintf(line, sizeof(line), "%s:%ld: domain '%s': interface type '%s' mac '%s': "
				 "generated target dev '%s' (libvirt >= 6.7 drops it from inactive XML)",
				 name, f->line, f->domain, f->iftype, f->mac, f->dev);
			mg_fputs_escaped(stdout, line);   /* names from the file: escaped */
			putchar('\n');
		}
	}
	mg_xml_result_free(&r);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.xml regular file under dir, in name order; symlinks are not followed. */
static void check_dir(struct check *c, const char *dir, int depth)
{
	struct xml_err e;
	struct dirent *d;
	char **names = NULL;
	size_t n = 0;
	DIR *dp = depth > 16 ? NULL : opendir(dir);

	if (!dp) {
		set_err(&e, dir, 0, 0, depth > 16 ? "directories nested too deep" : strerror(errno));
		check_error(c, dir, &e);
		return;
	}
	while ((d = readdir(dp))) {
		char **nn;
		if (d->d_name[0] == '.')
			continue;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn)
			break;
		names = nn;
		if (asprintf(&names[n], "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			     d->d_name) < 0)
			break;
		n++;
	}
	closedir(dp);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		size_t l = strlen(names[i]);

		if (lstat(names[i], &sb) == 0) {
			if (S_ISDIR(sb.st_mode))
				check_dir(c, names[i], depth + 1);
			else if (S_ISREG(sb.st_mode) && l > 4 && !strcmp(names[i] + l - 4, ".xml"))
				check_one(c, names[i]);
		}
		free(names[i]);
	}
	free(names);
}

static int cmd_check(int argc, char **argv)
{
	struct check c = { 0 };
	int i = parse_args(argc, argv, 0, &c.a);

	if (i < 0)
		return 2;
	if (i >= argc)
		return mg_usage_err("a FILE or DIRECTORY is needed");
	c.a.o.mode = MG_XML_INACTIVE;
	c.findings = json_object_new_array();
	c.errors = json_object_new_array();
	for (; i < argc; i++) {
		struct stat sb;

		if (strcmp(argv[i], "-") && stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			check_dir(&c, argv[i], 0);
		else
			check_one(&c, argv[i]);
	}
	if (c.a.json) {
		json_object *top = json_object_new_object();

		json_object_object_add(top, "files", json_object_new_int64((int64_t)c.files));
		json_object_object_add(top, "count", json_object_new_int64((int64_t)c.nfind));
		json_object_object_add(top, "findings", json_object_get(c.findings));
		json_object_object_add(top, "errors", json_object_get(c.errors));
		mg_json_print(top);
	}
	json_object_put(c.findings);
	json_object_put(c.errors);
	if (mg_stdout_status())
		return 2;
	return c.nerr ? 2 : c.nfind ? 1 : 0;
}

int mg_cmd_xml(int argc, char **argv)
{
	static const struct mg_cmd cmds[] = {
		{ "sanitize", cmd_sanitize, help_sanitize, 0 },
		{ "check", cmd_check, help_check, 0 },
	};

	return mg_cmd_select(cmds, MG_ARRAY_SIZE(cmds), argc - 1, argv + 1, "xml", mg_help_xml);
}
