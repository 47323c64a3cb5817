/* Where every event the agent sees goes, in this order: the journal, then (once the
 * records of the batch are on stable storage when it holds a deny) stdout and each
 * `monitor` client. Events are reported in batches (up to MG_EMIT_BATCH, and whatever
 * one pass of the poll loop brought): a burst of refusals costs one fdatasync per batch,
 * not one per refusal, and a deny is still never reported before it is synced. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
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

void agent_emit_flush(struct agent *a)
{
	if (!a->nbatch)
		return;
	a->batches++;
	mg_aj_release(&a->aj);
	if (a->batch_sync) {
		mg_aj_commit(&a->aj);   /* a failure is counted and said by the journal */
		a->batch_syncs++;
	}
	for (unsigned i = 0; i < a->nbatch; i++) {
		mg_event_print_td(stdout, &a->batch[i].ev, a->batch[i].teardown, a->json);
		agent_clients_forward(a, &a->batch[i]);
	}
	a->nbatch = 0;
	a->batch_sync = false;
}

/* mg_teardown_find with the map read once per thread and batch: a burst comes from one
 * thread, and each event is still checked against the windows as they were read. */
static bool teardown_of(struct agent *a, const struct mg_event *e, struct mg_teardown *td)
{
	if (a->td_fd < 0)
		return false;
	if (a->nbatch == 1 || a->td_pid != e->pid || a->td_tid != e->tid) {
		__u32 keys[2] = { e->tid, e->pid };

		a->td_pid = e->pid;
		a->td_tid = e->tid;
		for (int i = 0; i < 2; i++)
			a->td_have[i] = bpf_map_lookup_elem(a->td_fd, &keys[i], &a->td_cached[i]) == 0;
	}
	for (int i = 0; i < 2; i++) {
		const struct mg_teardown *t = &a->td_cached[i];

		if (!a->td_have[i] || t->tgid != e->pid || (t->tid && t->tid != e->tid))
			continue;
		if (e->ts_boot_ns < t->since_ns || (t->until_ns && e->ts_boot_ns > t->until_ns))
			continue;
		*td = *t;
		return true;
	}
	return false;
}

static struct mg_wire *batch_slot(struct agent *a)
{
	if (a->nbatch == MG_EMIT_BATCH)
		agent_emit_flush(a);
	return memset(&a->batch[a->nbatch++], 0, sizeof(a->batch[0]));
}

void agent_emit(struct agent *a, const struct mg_event *e)
{
	struct mg_wire *w = batch_slot(a);
	struct mg_teardown td;

	w->kind = MG_WIRE_EVENT;
	if (a->nbatch == 1)
		mg_aj_hold(&a->aj);   /* the batch's records: one lock, one state update */
	a->events_seen++;
	if (e->teardown[0])
		memcpy(w->teardown, e->teardown, sizeof(w->teardown));   /* named by the kernel */
	else if (e->verdict != MG_V_GONE && teardown_of(a, e, &td))
		memcpy(w->teardown, td.domain, sizeof(w->teardown));
	if (mg_aj_event(&a->aj, e, w->teardown))
		a->batch_sync = true;   /* a deny: synced before the batch is reported */
	w->ev = *e;
}

/* Rare: reported at once, after the events before it (its text can be longer than the
 * wire's `where`, which clients get cut). */
void agent_emit_lost(struct agent *a, unsigned long long n, const char *where)
{
	struct mg_wire w = { .kind = MG_WIRE_LOST, .lost = n };

	agent_emit_flush(a);
	mg_aj_lost(&a->aj, n, where);
	mg_print_lost(stdout, n, where, a->json);
	mg_strlcpy(w.where, where, sizeof(w.where));
	agent_clients_forward(a, &w);
}
