#include <string.h>
#include "events.h"

static const char *rtm_name(unsigned t)
{
	switch (t) {
	case 16: return "RTM_NEWLINK";
	case 17: return "RTM_DELLINK";
	case 19: return "RTM_SETLINK";
	case 0: return "";
	default: return "RTM_?";
	}
}

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

	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "verdict", json_object_new_string(mg_verdict_name(e->verdict)));
	json_object_object_add(o, "action", json_object_new_string(mg_action_name(e->action)));
	json_object_object_add(o, "how", json_object_new_string(mg_how_name(e->how)));
	json_object_object_add(o, "reason", json_object_new_string(mg_reason_name(e->reason)));
	json_object_object_add(o, "mode", json_object_new_string(mg_mode_name(e->mode)));
	json_object_object_add(o, "ifname", json_object_new_string(ifname));
	json_object_object_add(o, "ifindex", json_object_new_int64(e->ifindex));
	json_object_object_add(o, "target_ifindex", json_object_new_int64(e->target_ifindex));
	json_object_object_add(o, "link_netns_cookie", json_object_new_uint64(e->link_netns_cookie));
	json_object_object_add(o, "requested_name", json_object_new_string(req));
	json_object_object_add(o, "owner_domain", json_object_new_string(domain));
	json_object_object_add(o, "owner_uuid", uuid[0] ? json_object_new_string(uuid) : NULL);
	json_object_object_add(o, "owner_pid", json_object_new_int64(e->owner_pid));
	json_object_object_add(o, "queues", json_object_new_string(mg_queues_name(e->queues_state)));
	json_object_object_add(o, "queues_held", json_object_new_int64(e->queues));
	json_object_object_add(o, "msg_type", json_object_new_string(rtm_name(e->msg_type)));
	json_object_object_add(o, "msg_index", json_object_new_int(e->msg_index));
	json_object_object_add(o, "pid", json_object_new_int64(e->pid));
	json_object_object_add(o, "tid", json_object_new_int64(e->tid));
	json_object_object_add(o, "ppid", json_object_new_int64(e->ppid));
	json_object_object_add(o, "comm", json_object_new_string(comm));
	json_object_object_add(o, "cgroup_id", json_object_new_uint64(e->cgroup_id));
	json_object_object_add(o, "req_netns_cookie", json_object_new_uint64(e->req_netns_cookie));
	return o;
}

void mg_event_print(FILE *out, const struct mg_event *e, bool json)
{
	mg_event_print_td(out, e, NULL, json);
}

void mg_event_print_td(FILE *out, const struct mg_event *e, const char *teardown, bool json)
{
	char ts[64], comm[MG_COMM_LEN + 1], ifname[MG_IFNAMSIZ + 1], domain[MG_DOMAIN_LEN + 1];
	char who[64], link[48], td[MG_DOMAIN_LEN + 64] = "";

	if (teardown && teardown[0]) {
		char d[MG_DOMAIN_LEN + 1];
		mg_strlcpy(d, teardown, sizeof(d));
		snprintf(td, sizeof(td), " requested by the teardown of domain %s", d);
	}
	if (json) {
		json_object *o = mg_event_json(e);
		if (td[0]) {
			char d[MG_DOMAIN_LEN + 1];
			mg_strlcpy(d, teardown, sizeof(d));
			json_object_object_add(o, "teardown_of", json_object_new_string(d));
		}
		fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		fflush(out);
		return;
	}
	mg_strlcpy(comm, e->comm, sizeof(comm));
	mg_strlcpy(ifname, e->ifname, sizeof(ifname));
	mg_strlcpy(domain, e->domain, sizeof(domain));
	mg_format_time(mg_boot_to_real(e->ts_boot_ns), ts, sizeof(ts));
	snprintf(who, sizeof(who), "%s[%u/%u]", comm, e->pid, e->tid);
	if (e->ifindex)
		snprintf(link, sizeof(link), "%s(%u)", ifname, e->ifindex);
	else
		snprintf(link, sizeof(link), "-");
	fprintf(out, "%s %-5s %-6s %-16s via %-10s owner=%s(pid %u) by %-24s %s%s\n", ts,
		mg_verdict_name(e->verdict), mg_action_name(e->action), link, mg_how_name(e->how),
		domain[0] ? domain : "-", e->owner_pid, who, mg_reason_name(e->reason), td);
	fflush(out);
}

bool mg_event_matches(const struct mg_event *e, const struct mg_event_filter *f)
{
	if (f->ifname && strncmp(f->ifname, e->ifname, MG_IFNAMSIZ))
		return false;
	if (f->domain && strncmp(f->domain, e->domain, MG_DOMAIN_LEN))
		return false;
	if (f->verdict >= 0 && e->verdict != f->verdict)
		return false;
	return true;
}

void mg_print_lost(FILE *out, unsigned long long n, const char *where, bool json)
{
	char ts[64];

	mg_format_time(mg_now_real_ns(), ts, sizeof(ts));
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "time", json_object_new_string(ts));
		json_object_object_add(o, "lost", json_object_new_uint64(n));
		json_object_object_add(o, "where", json_object_new_string(where));
		fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		fprintf(out, "%s LOST  %llu events (%s)\n", ts, n, where);
	}
	fflush(out);
}
