/* Guard events rendered one way for every consumer: the text line and the JSON object
 * (agent stdout, `monitor`), filters, and the synthetic "lost N" record. */
#include <errno.h>
#include <string.h>
#include "events.h"

static const char *rtm_name(unsigned t)
{
	switch (t) {
	case 16: return "RTM_NEWLINK";
	case 17: return "RTM_DELLINK";
	case 19: return "RTM_SETLINK";
	case 0: return NULL;
	default: return "RTM_?";
	}
}

bool mg_events_autoflush = true;

json_object *mg_event_json(const struct mg_event *e)
{
	json_object *o = json_object_new_object();
	char ts[64], uuid[37];
	char comm[MG_COMM_LEN + 1], ifname[MG_IFNAMSIZ + 1], req[MG_ALTIFNAMSIZ + 1],
		domain[MG_DOMAIN_LEN + 1];

	mg_strlcpy(comm, e->comm, sizeof(comm));
	mg_strlcpy(ifname, e->ifname, sizeof(ifname));
	mg_strlcpy(req, e->req_name, sizeof(req));
	mg_strlcpy(domain, e->domain, sizeof(domain));
	mg_format_time(mg_boot_to_real(e->ts_boot_ns), ts, sizeof(ts));
	mg_uuid_format(e->uuid, uuid);

	char kind[MG_IFNAMSIZ + 1], lower[MG_IFNAMSIZ + 1], pcomm[MG_COMM_LEN + 1];
	bool known = e->req_known;

	mg_strlcpy(kind, e->kind, sizeof(kind));
	mg_strlcpy(lower, e->lower_name, sizeof(lower));
	mg_strlcpy(pcomm, e->pcomm, sizeof(pcomm));
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "record", json_object_new_string(mg_record_name(e->record)));
	json_object_object_add(o, "path", json_object_new_string(mg_path_name(e->path)));
	json_object_object_add(o, "result", json_object_new_string(mg_result_name(e->result)));
	if (e->result == MG_RES_FAILED) {
		const char *en = e->err < 0 ? strerrorname_np(-e->err) : NULL;
		json_object_object_add(o, "errno", json_object_new_int(-e->err));
		json_object_object_add(o, "error", en ? json_object_new_string(en) : NULL);
	}
	json_object_object_add(o, "kind", kind[0] ? json_object_new_string(kind) : NULL);
	json_object_object_add(o, "lower_ifindex", e->lower_ifindex ? json_object_new_int64(e->lower_ifindex) : NULL);
	json_object_object_add(o, "lower", lower[0] ? json_object_new_string(lower) : NULL);
	json_object_object_add(o, "requester_known", json_object_new_boolean(known));
	json_object_object_add(o, "verdict", json_object_new_string(mg_verdict_name(e->verdict)));
	json_object_object_add(o, "action", json_object_new_string(mg_action_name(e->action)));
	json_object_object_add(o, "how", e->how ? json_object_new_string(mg_how_name(e->how)) : NULL);
	json_object_object_add(o, "reason", json_object_new_string(mg_reason_name(e->reason)));
	json_object_object_add(o, "mode", json_object_new_string(mg_mode_name(e->mode)));
	/* unknown is null (docs/json.md) */
	json_object_object_add(o, "ifname", ifname[0] ? json_object_new_string(ifname) : NULL);
	json_object_object_add(o, "ifindex", e->ifindex ? json_object_new_int64(e->ifindex) : NULL);
	json_object_object_add(o, "target_ifindex", e->target_ifindex ? json_object_new_int64(e->target_ifindex) : NULL);
	json_object_object_add(o, "link_netns_cookie", json_object_new_uint64(e->link_netns_cookie));
	json_object_object_add(o, "requested_name", req[0] ? json_object_new_string(req) : NULL);
	json_object_object_add(o, "owner_domain", domain[0] ? json_object_new_string(domain) : NULL);
	json_object_object_add(o, "owner_uuid", uuid[0] ? json_object_new_string(uuid) : NULL);
	json_object_object_add(o, "owner_pid", e->owner_pid ? json_object_new_int64(e->owner_pid) : NULL);
	json_object_object_add(o, "queues", json_object_new_string(mg_queues_name(e->queues_state)));
	json_object_object_add(o, "queues_held", json_object_new_int64(e->queues));
	json_object_object_add(o, "msg_type", rtm_name(e->msg_type) ? json_object_new_string(rtm_name(e->msg_type)) : NULL);
	json_object_object_add(o, "msg_index", json_object_new_int(e->msg_index));
	/* an unknown requester is null, never an invented pid */
	json_object_object_add(o, "pid", known ? json_object_new_int64(e->pid) : NULL);
	json_object_object_add(o, "tid", known ? json_object_new_int64(e->tid) : NULL);
	json_object_object_add(o, "ppid", known && e->ppid ? json_object_new_int64(e->ppid) : NULL);
	json_object_object_add(o, "comm", known ? json_object_new_string(comm) : NULL);
	json_object_object_add(o, "pcomm", known && pcomm[0] ? json_object_new_string(pcomm) : NULL);
	json_object_object_add(o, "cgroup_id", known && e->cgroup_id ? json_object_new_uint64(e->cgroup_id) : NULL);
	json_object_object_add(o, "uid", known ? json_object_new_int64(e->uid) : NULL);
	json_object_object_add(o, "req_netns_cookie", known ? json_object_new_uint64(e->req_netns_cookie) : NULL);
	if (e->record == MG_REC_SUMMARY || e->count > 1)
		json_object_object_add(o, "count", json_object_new_int64(e->count));
	if (e->unenforced) {
		/* the fallback's verdicts: what the guard would have done, not what it did */
		json_object_object_add(o, "enforcing", json_object_new_boolean(false));
		json_object_object_add(o, "not_enforcing",
				       json_object_new_string(mg_unenforced_name(e->unenforced)));
	}
	return o;
}

void mg_event_print(FILE *out, const struct mg_event *e, bool json)
{
	mg_event_print_td(out, e, NULL, json);
}

void mg_event_print_td(FILE *out, const struct mg_event *e, const char *teardown, bool json)
{
	char ts[64], comm[MG_COMM_LEN + 1], ifname[MG_IFNAMSIZ + 1], domain[MG_DOMAIN_LEN + 1];
	char who[96], link[48], kind[MG_IFNAMSIZ + 1], lowern[MG_IFNAMSIZ + 1], lower[40];
	char pcomm[MG_COMM_LEN + 1], res[32], guard[64], td[MG_DOMAIN_LEN + 64] = "", line[1024];
	char tdn[MG_DOMAIN_LEN + 1] = "";

	if (teardown && teardown[0]) {
		mg_strlcpy(tdn, teardown, sizeof(tdn));
		snprintf(td, sizeof(td), " requested by the teardown of domain %s", tdn);
	}
	if (json) {
		json_object *o = mg_event_json(e);
		if (td[0]) {
			char d[MG_DOMAIN_LEN + 1];
			mg_strlcpy(d, teardown, sizeof(d));
			json_object_object_add(o, "teardown_domain", json_object_new_string(d));
		}
		mg_json_fputs(out, o);
		json_object_put(o);
		if (mg_events_autoflush)
			fflush(out);
		return;
	}
	mg_strlcpy(comm, e->comm, sizeof(comm));
	mg_strlcpy(ifname, e->ifname, sizeof(ifname));
	mg_strlcpy(domain, e->domain, sizeof(domain));
	mg_strlcpy(kind, e->kind, sizeof(kind));
	mg_strlcpy(lowern, e->lower_name, sizeof(lowern));
	mg_strlcpy(pcomm, e->pcomm, sizeof(pcomm));
	mg_format_time(mg_boot_to_real(e->ts_boot_ns), ts, sizeof(ts));
	if (!e->req_known)
		snprintf(who, sizeof(who), "unknown");
	else if (mg_wide && e->ppid && pcomm[0])
		snprintf(who, sizeof(who), "%s[%u/%u]<%s[%u]", comm, e->pid, e->tid, pcomm, e->ppid);
	else if (mg_wide)
		snprintf(who, sizeof(who), "%s[%u/%u]", comm, e->pid, e->tid);
	else
		snprintf(who, sizeof(who), "%s[%u]", comm, e->pid);
	if (e->ifindex)
		snprintf(link, sizeof(link), "%s(%u)", ifname[0] ? ifname : "?", e->ifindex);
	else if (e->target_ifindex)
		snprintf(link, sizeof(link), "?(%u)", e->target_ifindex);
	else if (e->req_name[0])
		snprintf(link, sizeof(link), "%.24s", e->req_name);
	else
		snprintf(link, sizeof(link), "-");
	if (e->lower_ifindex)
		snprintf(lower, sizeof(lower), "%s(%u)", lowern[0] ? lowern : "?", e->lower_ifindex);
	else
		snprintf(lower, sizeof(lower), "-");
	if (e->record == MG_REC_SUMMARY) {
		snprintf(res, sizeof(res), "%s x%u", mg_result_name(e->result), e->count);
	} else if (e->result == MG_RES_FAILED) {
		const char *en = e->err < 0 ? strerrorname_np(-e->err) : NULL;
		snprintf(res, sizeof(res), "failed:%s", en ? en : "?");
	} else if (e->record == MG_REC_REQUEST && e->result == MG_RES_NONE) {
		snprintf(res, sizeof(res), "%s", mg_action_name(e->action));
	} else {
		snprintf(res, sizeof(res), "%s", mg_result_name(e->result));
	}
	if (e->verdict)
		snprintf(guard, sizeof(guard), "%s%s%s%s%s%s", mg_verdict_name(e->verdict),
			 e->how ? " via " : "", e->how ? mg_how_name(e->how) : "",
			 e->reason ? " " : "", mg_reason_name(e->reason),
			 e->unenforced ? " (not enforcing)" : "");
	else
		snprintf(guard, sizeof(guard), "-");
	if (mg_wide) {
		snprintf(line, sizeof(line),
			 "%s %-14s %-8s %-7s %-20s lower=%-14s owner=%-12s by %-34s guard=%s%s", ts,
			 res, mg_path_name(e->path), kind[0] ? kind : "-", link, lower,
			 domain[0] ? domain : "-", who, guard, td);
	} else {
		/* the columns of mg_event_header(): time of day, fitted names */
		char flink[64], fowner[64], fwho[64], tod[16];

		snprintf(tod, sizeof(tod), "%.12sZ", ts + 11);
		mg_fit(link, 17, flink, sizeof(flink));
		mg_fit(domain[0] ? domain : "-", 14, fowner, sizeof(fowner));
		mg_fit(who, 18, fwho, sizeof(fwho));
		snprintf(line, sizeof(line), "%s %-12s %-8s %-7s %s %s %s %s%s%s", tod, res,
			 mg_path_name(e->path), kind[0] ? kind : "-", flink, fowner, fwho, guard,
			 tdn[0] ? ", teardown of " : "", tdn);
	}
	/* names come from processes, links and libvirt: mg_print_line escapes */
	mg_print_line(out, line);
	if (mg_events_autoflush)
		fflush(out);
}

void mg_event_header(FILE *out)
{
	char line[200];

	if (mg_wide)
		return;   /* wide lines label their fields */
	snprintf(line, sizeof(line), "%-13s %-12s %-8s %-7s %-17s %-14s %-18s %s", "TIME", "RESULT",
		 "PATH", "KIND", "LINK", "OWNER", "BY", "GUARD");
	mg_print_line(out, line);
}

bool mg_event_matches(const struct mg_event *e, const struct mg_event_filter *f)
{
	if (f->ifname && strncmp(f->ifname, e->ifname, MG_IFNAMSIZ))
		return false;
	if (f->domain && strncmp(f->domain, e->domain, MG_DOMAIN_LEN))
		return false;
	if (f->verdict >= 0 && e->verdict != f->verdict)
		return false;
	if (f->kind && strncmp(f->kind, e->kind, MG_IFNAMSIZ))
		return false;
	return true;
}

void mg_print_lost(FILE *out, unsigned long long n, const char *where, bool json)
{
	char ts[64];

	mg_format_time(mg_now_real_ns(), ts, sizeof(ts));
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "record", json_object_new_string("lost"));
		json_object_object_add(o, "time", json_object_new_string(ts));
		json_object_object_add(o, "lost", json_object_new_uint64(n));
		json_object_object_add(o, "where", json_object_new_string(where));
		mg_json_fputs(out, o);
		json_object_put(o);
	} else {
		fprintf(out, "%s LOST  %llu events (", ts, n);
		mg_fputs_escaped(out, where);
		fputs(")\n", out);
	}
	fflush(out);
}
