/* `config check [FILE]`: read the configuration as the agent would and report every
 * problem with FILE:LINE (like `sshd -t`); exit 0 when there is none. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cmds.h"
#include "config.h"
#include "output.h"

#define CONFIG_USAGE "usage: macvguard [-j] config check [FILE]\n"

const char mg_help_config[] =
	CONFIG_USAGE
	"\n"
	"Reads the configuration (FILE, else $MACVGUARD_CONF, else /etc/macvguard/macvguard.conf)\n"
	"as the agent would and reports every problem as FILE:LINE; exit 0 when there is none,\n"
	"1 when there are problems, 2 on a usage error. See macvguard.conf(5).\n";

struct problems {
	json_object *arr;
	int n;
};

static void report(void *ctx, const char *where, const char *msg)
{
	struct problems *p = ctx;

	p->n++;
	if (p->arr) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "where", json_object_new_string(where));
		json_object_object_add(o, "message", json_object_new_string(msg));
		json_object_array_add(p->arr, o);
	} else {
		mg_err_at(where, "%s", msg);
	}
}

int mg_cmd_config(int argc, char **argv)
{
	struct problems p = { NULL, 0 };
	struct mg_conf c;
	const char *path;
	bool explicit_;
	int rc, n = 0;

	if (argc < 2 || strcmp(argv[1], "check") || argc > 3) {
		fputs(CONFIG_USAGE, argc >= 2 && (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help"))
		      ? stdout : stderr);
		return argc >= 2 && (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) ? 0 : 2;
	}
	path = mg_conf_path(argc == 3 ? argv[2] : mg_conf_cli_path, &explicit_);
	if (mg_json)
		p.arr = json_object_new_array();
	mg_conf_defaults(&c);
	rc = mg_conf_read(path, true, &c, report, &p, &n);
	if (rc) {
		char msg[300];
		snprintf(msg, sizeof(msg), "cannot read: %s", rc == -EINVAL ? "not a regular file" :
			 rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
		report(&p, path, msg);
	}
	if (mg_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "file", json_object_new_string(path));
		json_object_object_add(o, "ok", json_object_new_boolean(p.n == 0));
		json_object_object_add(o, "errors", p.arr);
		mg_json_print(o);
	} else if (p.n) {
		fprintf(stderr, "macvguard: %s: %d error%s\n", path, p.n, p.n == 1 ? "" : "s");
	} else {
		printf("%s: OK\n", path);
	}
	if (rc)
		return 2;
	return p.n ? 1 : mg_stdout_status();
}
