/* `macvguard xml sanitize|check`: libvirt's generated-name rule on files.
 * The rule itself lives in xmlrules.c; the hook in hook.c. See docs/xml-rules.md.
 *
 * Output discipline: everything meant for stdout is built in memory and written only
 * once all input was read and accepted, so bad input leaves stdout empty (exit 2). */
#include "cmds.h"
#include "output.h"
#include "util.h"
#include "xmlrules.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

enum { OPT_MAX_SIZE = 1000, OPT_MAX_DEPTH };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: macvguard xml sanitize [--mode inactive|migratable|live] [--prefix P]...\n"
		"                              [-v] [--max-size N] [--max-depth N] [FILE|-]\n"
		"       macvguard xml check [-j] [--prefix P]... [--max-size N] [--max-depth N] FILE...\n"
		"sanitize prints the document with libvirt's generated <target dev=...> names\n"
		"(vnet*, macvtap*, macvlan*, and each --prefix) removed, as libvirt >= 6.7 does\n"
		"for inactive and migratable XML; -v reports each removal on stderr.\n"
		"check reports saved configs that still carry such names (exit 1 if any).\n"
		"Bad input: one line on stderr, nothing on stdout, exit 2.\n");
}

static void report_error(const char *file, const struct mg_xml_result *r)
{
	char where[PATH_MAX + 48];

	if (r->err_line > 0 && r->err_col > 0)
		snprintf(where, sizeof(where), "%s:%ld:%ld", file, r->err_line, r->err_col);
	else if (r->err_line > 0)
		snprintf(where, sizeof(where), "%s:%ld", file, r->err_line);
	else
		snprintf(where, sizeof(where), "%s", file);
	mg_err_at(where, "%s", r->err);
}

/* Reads FILE (or stdin for "-") and runs the rule. 0 ok, 2 bad input (reported). */
static int load_and_sanitize(const char *file, const struct mg_xml_opts *o,
			     struct mg_xml_result *r)
{
	int fd = STDIN_FILENO, rc;
	char *buf = NULL;
	size_t len = 0;
	const char *name = strcmp(file, "-") ? file : "<stdin>";

	memset(r, 0, sizeof(*r));
	if (strcmp(file, "-")) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			mg_err_at(name, "%s", strerror(errno));
			return 2;
		}
	}
	rc = mg_read_fd(fd, o->max_size, -1, 0, &buf, &len);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc) {
		if (rc > 0)
			mg_err_at(name, "document larger than the limit of %zu bytes", o->max_size);
		else
			mg_err_at(name, "%s", strerror(-rc));
		return 2;
	}
	rc = mg_xml_sanitize(buf, len, o, r);
	free(buf);
	if (rc) {
		report_error(name, r);
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
	opterr = 1;
	while ((c = getopt_long(argc, argv, sanitize ? "m:p:vh" : "jp:h", xml_long, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!sanitize || mg_xml_mode_parse(optarg, &a->o.mode)) {
				mg_err("--mode must be inactive, migratable or "
					"live");
				return -1;
			}
			break;
		case 'p':
			if (mg_xml_add_prefix(&a->o, optarg)) {
				mg_err("--prefix: empty or more than %d",
					MG_XML_MAX_PREFIXES);
				return -1;
			}
			break;
		case 'v': a->verbose = 1; break;
		case 'j': a->json = 1; break;
		case OPT_MAX_SIZE:
			if (mg_parse_size(optarg, &a->o.max_size)) {
				mg_err("--max-size: bad size '%s'", optarg);
				return -1;
			}
			break;
		case OPT_MAX_DEPTH:
			errno = 0;
			depth = strtol(optarg, &end, 10);
			if (errno || *end || depth < 2 || depth > 256) {
				mg_err("--max-depth: 2..256");
				return -1;
			}
			a->o.max_depth = (int)depth;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	return optind;
}

static int cmd_sanitize(int argc, char **argv)
{
	struct xml_args a;
	struct mg_xml_result r;
	const char *file = "-";
	int i = parse_args(argc, argv, 1, &a), rc;

	if (i < 0)
		return 2;
	if (argc - i > 1) {
		usage(stderr);
		return 2;
	}
	if (argc - i == 1)
		file = argv[i];
	rc = load_and_sanitize(file, &a.o, &r);
	if (rc)
		return rc;
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
	rc = write_out(r.out, r.out_len);
	mg_xml_result_free(&r);
	return rc;
}

static int cmd_check(int argc, char **argv)
{
	struct xml_args a;
	int i = parse_args(argc, argv, 0, &a), errors = 0;
	size_t nfind = 0;
	json_object *jarr = NULL;
	char *text = NULL;
	size_t textlen = 0;
	FILE *tf;
	int rc;

	if (i < 0)
		return 2;
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	a.o.mode = MG_XML_INACTIVE;
	tf = open_memstream(&text, &textlen);
	jarr = json_object_new_array();
	if (!tf || !jarr) {
		mg_err("out of memory");
		return 2;
	}
	for (; i < argc; i++) {
		struct mg_xml_result r;
		const char *name = strcmp(argv[i], "-") ? argv[i] : "<stdin>";

		if (load_and_sanitize(argv[i], &a.o, &r)) {
			errors++;
			continue;
		}
		/* A <domstatus> is a running domain's state: its generated names are live and
		 * correct there, so it has nothing to report. */
		if (r.root == MG_XML_ROOT_DOMAIN) {
			for (size_t k = 0; k < r.nfindings; k++) {
				const struct mg_xml_finding *f = &r.findings[k];
				json_object *o = json_object_new_object();

				fprintf(tf, "%s:%ld: domain '%s': interface type '%s' mac '%s': "
					    "generated target dev '%s' (libvirt >= 6.7 drops it from "
					    "inactive XML)\n",
					name, f->line, f->domain, f->iftype, f->mac, f->dev);
				json_object_object_add(o, "file", json_object_new_string(name));
				json_object_object_add(o, "line", json_object_new_int64(f->line));
				json_object_object_add(o, "domain", json_object_new_string(f->domain));
				json_object_object_add(o, "type", json_object_new_string(f->iftype));
				json_object_object_add(o, "mac", json_object_new_string(f->mac));
				json_object_object_add(o, "dev", json_object_new_string(f->dev));
				json_object_array_add(jarr, o);
				nfind++;
			}
		}
		mg_xml_result_free(&r);
	}
	fclose(tf);
	if (errors) {
		rc = 2; /* nothing on stdout */
	} else if (a.json) {
		json_object *top = json_object_new_object();
		const char *s;

		json_object_object_add(top, "findings", json_object_get(jarr));
		json_object_object_add(top, "count", json_object_new_int64((int64_t)nfind));
		s = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
		rc = write_out(s, strlen(s));
		if (!rc)
			rc = write_out("\n", 1);
		json_object_put(top);
	} else {
		rc = write_out(text, textlen);
	}
	if (!rc)
		rc = nfind ? 1 : 0;
	json_object_put(jarr);
	free(text);
	return rc;
}

int mg_cmd_xml(int argc, char **argv)
{
	static const struct mg_cmd cmds[] = {
		{ "sanitize", cmd_sanitize },
		{ "check", cmd_check },
	};

	return mg_cmd_select(cmds, MG_ARRAY_SIZE(cmds), argc - 1, argv + 1, usage);
}
