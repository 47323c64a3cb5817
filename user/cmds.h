/* Subcommands of the macvguard binary; argv[0] is the subcommand word, the return value
 * is the exit code. */
#ifndef MG_CMDS_H
#define MG_CMDS_H

#include "common.h"

int mg_cmd_run(int argc, char **argv);
int mg_cmd_stop(int argc, char **argv);
int mg_cmd_monitor(int argc, char **argv);
int mg_cmd_tag(int argc, char **argv);
int mg_cmd_untag(int argc, char **argv);
int mg_cmd_release(int argc, char **argv);
int mg_cmd_links(int argc, char **argv);
int mg_cmd_mode(int argc, char **argv);
int mg_cmd_status(int argc, char **argv);
int mg_cmd_probes(int argc, char **argv);

/* Events the agent forwards to `monitor` clients over MG_EVENTS_SOCK. */
#define MG_EVENTS_SOCK MG_RUN_DIR "/events.sock"
enum { MG_WIRE_EVENT = 1, MG_WIRE_LOST = 2 };
struct mg_wire {
	__u32 kind;
	__u32 pad;
	__u64 lost;            /* MG_WIRE_LOST: how many */
	char  where[32];       /* MG_WIRE_LOST: "kernel ring buffer" / "monitor socket" */
	struct mg_event ev;    /* MG_WIRE_EVENT */
	char  teardown[MG_DOMAIN_LEN]; /* domain whose libvirt teardown sent it, or "" */
};

#endif
