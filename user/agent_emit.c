/* Where every event the agent sees goes, in this order: the journal (a deny is
 * fdatasync'd before it is reported), stdout, then each `monitor` client. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "agent_clients.h"
#include "agent_emit.h"

void agent_log(void *ctx, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mg_log("%s", msg);
}

void agent_emit(struct agent *a, const struct mg_event *e)
{
	struct mg_wire w = { .kind = MG_WIRE_EVENT };
	struct mg_teardown td;

	a->events_seen++;
	if (e->teardown[0])
		memcpy(w.teardown, e->teardown, sizeof(w.teardown));   /* named by the kernel */
	else if (e->verdict != MG_V_GONE &&
		 mg_teardown_find(a->td_fd, e->pid, e->tid, e->ts_boot_ns, &td))
		memcpy(w.teardown, td.domain, sizeof(w.teardown));
	mg_aj_event(&a->aj, e, w.teardown);   /* a deny is fdatasync'd before it is reported */
	mg_event_print_td(stdout, e, w.teardown, a->json);
	w.ev = *e;
	agent_clients_forward(a, &w);
}

void agent_emit_lost(struct agent *a, unsigned long long n, const char *where)
{
	struct mg_wire w = { .kind = MG_WIRE_LOST, .lost = n };

	mg_aj_lost(&a->aj, n, where);
	mg_print_lost(stdout, n, where, a->json);
	mg_strlcpy(w.where, where, sizeof(w.where));
	agent_clients_forward(a, &w);
}
