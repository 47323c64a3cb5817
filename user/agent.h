/* The agent (`macvguard run`), one job per file:
 *   agent.c               lifecycle and the poll loop
 *   agent_emit.c          where every event goes: journal, stdout, monitor clients
 *   agent_clients.c       the event stream to `monitor` clients, with loss counts
 *   agent_fallback.c      flag-only join of RTM_DELLINK senders and rtnetlink notifications
 *   agent_newlinks.c      creation -> guarded latency of new links
 *   agent_status_watch.c  libvirt's status directory (inotify) -> ownership
 *   agent_state.h         the state they share
 * Commands see only this header. */
#ifndef MG_AGENT_H
#define MG_AGENT_H

#include <stdbool.h>
#include "config.h"

/* What `run` was asked for (cmd_run.c). */
struct mg_agent_opts {
	struct mg_conf conf;
	unsigned mode;
	bool mode_given;             /* --mode: wins over a pinned mode */
	bool json;
	char conf_arg[512];          /* --config as given ("" none: $MACVGUARD_CONF or default) */
	char status_dir_arg[256];    /* --status-dir ("" none): wins over the file at reloads */
};
int mg_agent_run(const struct mg_agent_opts *o);

#endif
