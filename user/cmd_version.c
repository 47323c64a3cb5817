/* `macvguard version` (and -V/--version): the version (debian/changelog, the one source),
 * the git commit it was built from, the kernel/user ABI and the libraries it runs with. */
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <stdio.h>
#include "cmds.h"
#include "mg_abi.h"
#include "output.h"
#include "version.h"

const char mg_help_version[] =
	"usage: macvguard [-j] version\n"
	"       macvguard -V | --version\n"
	"\n"
	"Prints the version, the git commit of the build (when built from git), the ABI of the\n"
	"pinned BPF state (an agent adopts a pinned guard only of its own ABI), and the versions\n"
	"of libbpf and json-c it runs with.\n";

int mg_cmd_version(int argc, char **argv)
{
	char bpfv[32];

	(void)argv;
	if (mg_no_options(argc, argv))
		return 2;
	if (argc > 1)
		return mg_usage_err("no arguments expected");
	snprintf(bpfv, sizeof(bpfv), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	if (mg_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "version", json_object_new_string(MG_VERSION));
		json_object_object_add(o, "git", *MG_GIT ? json_object_new_string(MG_GIT) : NULL);
		json_object_object_add(o, "abi", json_object_new_int(MG_ABI_VERSION));
		json_object_object_add(o, "libbpf", json_object_new_string(bpfv));
		json_object_object_add(o, "json_c", json_object_new_string(json_c_version()));
		mg_json_print(o);
	} else {
		printf("macvguard %s%s%s%s\nabi %d, libbpf %s, json-c %s\n", MG_VERSION,
		       *MG_GIT ? " (git " : "", MG_GIT, *MG_GIT ? ")" : "", MG_ABI_VERSION, bpfv,
		       json_c_version());
	}
	return mg_stdout_status();
}
