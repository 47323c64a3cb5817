/* JSON journal records: see jlog.h. */
#include "jlog.h"
#include "config.h"
#include "events.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

const char *mg_jlog_dir(void)
{
	const char *d = mg_conf()->journal_dir;
	return *d ? d : MG_J_DEFAULT_DIR;
}

static void read_boot_id(char *out, size_t size)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;

	out[0] = 0;
	if (fd >= 0) {
		n = read(fd, out, size - 1);
		close(fd);
	}
	if (n <= 0) {
		out[0] = 0;
		return;
	}
	out[n] = 0;
	out[strcspn(out, "\n")] = 0;
}

int mg_jlog_open(struct mg_jlog *l)
{
	const struct mg_conf *c = mg_conf();
	struct mg_journal_opts o = { .dir = mg_jlog_dir() };

	memset(l, 0, sizeof(*l));
	l->j.dirfd = l->j.lockfd = l->j.segfd = l->j.committerfd = -1;
	o.segment_bytes = c->journal_segment;
	o.retain_bytes = c->journal_retain;
	if (c->host[0])
		mg_strlcpy(l->host, c->host, sizeof(l->host));
	else if (gethostname(l->host, sizeof(l->host) - 1))
		strcpy(l->host, "localhost");
	read_boot_id(l->boot_id, sizeof(l->boot_id));
	l->to_journald = c->systemd_journal;
	if (mg_journal_open(&l->j, &o, l->err, sizeof(l->err)))
		return -1;
	return 0;
}

void mg_jlog_close(struct mg_jlog *l)
{
	mg_journal_close(&l->j);
}

json_object *mg_jlog_new(struct mg_jlog *l, unsigned type, uint64_t ts_ns)
{
	json_object *o = json_object_new_object();
	char ts[64];

	l->new_ts = ts_ns ? ts_ns : mg_now_real_ns();
	mg_format_time(l->new_ts, ts, sizeof(ts));
	json_object_object_add(o, "type", json_object_new_string(mg_jtype_name(type)));
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "host", json_object_new_string(l->host));
	json_object_object_add(o, "boot_id", json_object_new_string(l->boot_id));
	json_object_object_add(o, "writer_pid", json_object_new_int(getpid()));
	/* the boot clock never steps: postmortem orders a boot's records by it */
	json_object_object_add(o, "boot_ns", json_object_new_uint64(mg_now_boot_ns()));
	return o;
}

/* journald's MESSAGE_ID of a record: one fixed 128-bit id per record type, and per
 * verdict for verdict records (docs/journal.md lists them), for `journalctl MESSAGE_ID=`. */
const char *mg_jlog_message_id(unsigned type, unsigned verdict, bool would_refuse)
{
	static const char *const by_type[MG_JT_MAX] = {
		[MG_JT_HOOK] = "d55bcc62e1c6d77b4edac2b08b08ed65",
		[MG_JT_TAG] = "70a02a2fdc99cdf9f3cd4dffc7f87ecc",
		[MG_JT_UNTAG] = "10c4da6a5bfd7f498e5eebb8a826884b",
		[MG_JT_RELEASE] = "e5f32425324c8f6170e02214494ddbd0",
		[MG_JT_AGENT] = "48bd4960d938fcd2190cc8bf8351d82c",
		[MG_JT_LOST] = "d9375bfe3a04b21f946e8182b7ebe3a9",
		[MG_JT_LINK] = "8afb5a1d36bec6574e4cad9869b8ae3b",
		[MG_JT_MODE] = "38a4ed7711a55c3499c80456fa1ffc59",
	};
	static const char *const by_verdict[5] = {
		[MG_V_NONE] = "93a4be9673b44c1a375964ebe72d040d",
		[MG_V_ALLOW] = "55bc22737439abcd5d3365c2e2c6fac1",
		[MG_V_DENY] = "86fba9a9536c97403f9e4b26e1ee6f2c",
		[MG_V_AUDIT] = "b7b13e494f1480ed543588b1ada57718",
		[MG_V_GONE] = "402dba972ef208d62eb2eb07d576ae00",
	};

	if (type == MG_JT_VERDICT) {
		if (verdict == MG_V_GONE && would_refuse)
			return "b5e9070b240c4e83dbd5d4d73bf3b8ec";
		return verdict < 5 ? by_verdict[verdict] : by_verdict[MG_V_NONE];
	}
	return type < MG_JT_MAX && by_type[type] ? by_type[type] : "48bd4960d938fcd2190cc8bf8351d82c";
}

/* syslog priority by severity: a deletion of an in-use link that went through (audit, or
 * flag-only would-refuse) err, a refusal warning, lost events warning, agent and mode
 * changes notice, the rest info. */
int mg_jlog_priority(unsigned type, unsigned verdict, bool would_refuse, const char *event)
{
	switch (type) {
	case MG_JT_VERDICT:
		if (verdict == MG_V_AUDIT || (verdict == MG_V_GONE && would_refuse))
			return 3;
		return verdict == MG_V_DENY ? 4 : 6;
	case MG_JT_LOST:
		return 4;
	case MG_JT_AGENT:
		return event && (!strcmp(event, "repair") || !strcmp(event, "config")) ? 4 : 5;
	case MG_JT_MODE:
		return 5;
	default:
		return 6;
	}
}

/* The copy to the systemd journal (sd_journal_sendv: values may hold any byte): the
 * text line as MESSAGE, fields to filter on, and the whole record as MACVGUARD_RECORD. */
static void to_systemd(json_object *o, const char *json, unsigned type, unsigned verdict,
		       uint64_t seq, uint64_t ts_ns)
{
	char raw[1024], text[1024];
	char *f[16];
	struct iovec iov[16];
	int n = 0, i;
	bool wr = type == MG_JT_VERDICT && !strcmp(mg_jstr(o, "reason"), "in-use");
	/* verdicts and link records name the owner; hook records the domain */
	const char *domain = *mg_jstr(o, "owner_domain") ? mg_jstr(o, "owner_domain") : mg_jstr(o, "domain");

	mg_jrec_text(o, raw, sizeof(raw));
	mg_escape(raw, text, sizeof(text));
#define FIELD(...) do { if (n < 16 && asprintf(&f[n], __VA_ARGS__) >= 0) n++; } while (0)
	FIELD("MESSAGE=%s", text);
	FIELD("MESSAGE_ID=%s", mg_jlog_message_id(type, verdict, wr));
	FIELD("PRIORITY=%d", mg_jlog_priority(type, verdict, wr, mg_jstr(o, "event")));
	FIELD("SYSLOG_IDENTIFIER=macvguard");
	FIELD("MACVGUARD_TYPE=%s", mg_jstr(o, "type"));
	FIELD("MACVGUARD_SEQ=%llu", (unsigned long long)seq);
	FIELD("MACVGUARD_TS=%llu", (unsigned long long)ts_ns);   /* the record header's time */
	if (*domain)
		FIELD("MACVGUARD_DOMAIN=%s", domain);
	if (*mg_jstr(o, "ifname"))
		FIELD("MACVGUARD_IFNAME=%s", mg_jstr(o, "ifname"));
	if (type == MG_JT_VERDICT) {
		FIELD("MACVGUARD_VERDICT=%s", *mg_jstr(o, "verdict") ? mg_jstr(o, "verdict") : "none");
		if (*mg_jstr(o, "comm"))
			FIELD("MACVGUARD_REQUESTER_COMM=%s", mg_jstr(o, "comm"));
		if (*mg_jstr(o, "teardown_domain"))
			FIELD("MACVGUARD_TEARDOWN_DOMAIN=%s", mg_jstr(o, "teardown_domain"));
	}
	FIELD("MACVGUARD_HOST=%s", mg_jstr(o, "host"));
	FIELD("MACVGUARD_RECORD=%s", json);
#undef FIELD
	for (i = 0; i < n; i++)
		iov[i] = (struct iovec){ .iov_base = f[i], .iov_len = strlen(f[i]) };
	sd_journal_sendv(iov, n);
	for (i = 0; i < n; i++)
		free(f[i]);
}

int mg_jlog_put(struct mg_jlog *l, json_object *o, unsigned type, unsigned verdict,
		uint64_t ts_ns, unsigned flags)
{
	char *s;
	size_t len = 0;
	uint64_t seq = 0;
	int rc;

	if (!ts_ns)
		ts_ns = l->new_ts ? l->new_ts : mg_now_real_ns();
	/* valid UTF-8 on disk: names that are not UTF-8 are stored as \xNN text */
	s = mg_json_line(o, &len);
	if (!s) {
		mg_strlcpy(l->err, "out of memory", sizeof(l->err));
		rc = -1;
	} else {
		rc = mg_journal_append(&l->j, type, verdict, ts_ns, s, len, flags, &seq, l->err,
				       sizeof(l->err));
	}
	if (rc)
		l->errors++;
	else if (l->to_journald)
		to_systemd(o, s, type, verdict, seq, ts_ns);
	free(s);
	json_object_put(o);
	return rc;
}

void mg_jlog_oneshot(unsigned type, json_object *(*build)(struct mg_jlog *l, void *arg),
		     void *arg)
{
	struct mg_jlog l;
	json_object *o;

	if (!mg_conf()->journal)
		return;
	if (mg_jlog_open(&l)) {
		mg_warn("journal: %s (the operation itself succeeded)", l.err);
		mg_jlog_close(&l);
		return;
	}
	o = build(&l, arg);
	if (o && mg_jlog_put(&l, o, type, 0, 0, mg_journal_has_committer(&l.j) ? 0 : MG_JA_SYNC))
		mg_warn("journal: %s (the operation itself succeeded)", l.err);
	mg_jlog_close(&l);
}

json_object *mg_jlog_event(struct mg_jlog *l, const struct mg_event *e, uint64_t *ts_ns)
{
	json_object *ev = mg_event_json(e), *o;
	uint64_t ts = e->ts_boot_ns ? mg_boot_to_real(e->ts_boot_ns) : mg_now_real_ns();

	o = mg_jlog_new(l, MG_JT_VERDICT, ts);
	if (e->ts_boot_ns)
		json_object_object_add(o, "boot_ns", json_object_new_uint64(e->ts_boot_ns));
	json_object_object_foreach(ev, k, v) {
		if (!strcmp(k, "time"))
			continue;
		json_object_object_add(o, k, json_object_get(v));
	}
	json_object_put(ev);
	*ts_ns = ts;
	return o;
}

/* ---- reading helpers and text ---------------------------------------------------- */

const char *mg_jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return "";
	return json_object_get_string(v);
}

long long mg_jint(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	return (long long)json_object_get_int64(v);
}

static void join_array(json_object *o, const char *key, char *out, size_t size)
{
	json_object *a;
	size_t n, i, len = 0;

	out[0] = 0;
	if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
		return;
	n = json_object_array_length(a);
	for (i = 0; i < n && len + 2 < size; i++) {
		int w = snprintf(out + len, size - len, "%s%s", i ? "," : "",
				 json_object_get_string(json_object_array_get_idx(a, i)));
		if (w < 0)
			break;
		len += (size_t)w;
		if (len >= size)
			len = size - 1;
	}
}

void mg_jrec_text(json_object *r, char *out, size_t size)
{
	const char *type = mg_jstr(r, "type");
	char a[256], b[256];

	if (!strcmp(type, "verdict") && !strcmp(mg_jstr(r, "record"), "summary")) {
		/* a rate-limited summary of requests that could not have deleted anything */
		snprintf(out, size, "summary %lld %s %s requests by %s[%lld] uid %lld (%s)",
			 mg_jint(r, "count"), mg_jstr(r, "result"), mg_jstr(r, "msg_type"),
			 mg_jstr(r, "comm"), mg_jint(r, "pid"), mg_jint(r, "uid"),
			 !strcmp(mg_jstr(r, "result"), "not-permitted") ?
			 "no CAP_NET_ADMIN in the target netns" : "no such device");
	} else if (!strcmp(type, "verdict") && !strcmp(mg_jstr(r, "record"), "delete")) {
		/* a device went away (a deletion record), with the guard's verdict on
		 * the request that caused it when there was one */
		const char *v = mg_jstr(r, "verdict"), *reason = mg_jstr(r, "reason");
		bool guarded = *v && strcmp(v, "none");
		char who[160];

		if (*mg_jstr(r, "comm"))
			snprintf(who, sizeof(who), "%s[%lld] ppid %lld", mg_jstr(r, "comm"),
				 mg_jint(r, "pid"), mg_jint(r, "ppid"));
		else
			snprintf(who, sizeof(who), "unknown");   /* the kernel could not tell */
		snprintf(out, size,
			 "%s %s %s %s(%lld) owner=%s(pid %lld) by %s%s%s%s%s%s%s%s",
			 mg_jstr(r, "result"), mg_jstr(r, "path"),
			 *mg_jstr(r, "kind") ? mg_jstr(r, "kind") : "-", mg_jstr(r, "ifname"),
			 mg_jint(r, "ifindex"),
			 *mg_jstr(r, "owner_domain") ? mg_jstr(r, "owner_domain") : "-",
			 mg_jint(r, "owner_pid"), who, guarded ? " guard=" : "",
			 guarded ? v : "", guarded && *reason ? " " : "", guarded ? reason : "",
			 *mg_jstr(r, "not_enforcing") ? " (not enforcing)" : "",
			 *mg_jstr(r, "teardown_domain") ? " teardown=" : "",
			 mg_jstr(r, "teardown_domain"));
	} else if (!strcmp(type, "verdict")) {
		const char *reason = mg_jstr(r, "reason");
		char who[160];

		if (*mg_jstr(r, "comm"))
			snprintf(who, sizeof(who), "%s[%lld] ppid %lld", mg_jstr(r, "comm"),
				 mg_jint(r, "pid"), mg_jint(r, "ppid"));
		else
			snprintf(who, sizeof(who), "unknown");
		snprintf(out, size,
			 "%s %s %s(%lld) via %s owner=%s(pid %lld) by %s%s%s%s%s%s",
			 mg_jstr(r, "verdict"), mg_jstr(r, "action"), mg_jstr(r, "ifname"),
			 mg_jint(r, "ifindex"), mg_jstr(r, "how"),
			 *mg_jstr(r, "owner_domain") ? mg_jstr(r, "owner_domain") : "-",
			 mg_jint(r, "owner_pid"), who, *reason ? " " : "", reason,
			 *mg_jstr(r, "not_enforcing") ? " (not enforcing)" : "",
			 *mg_jstr(r, "teardown_domain") ? " teardown=" : "",
			 mg_jstr(r, "teardown_domain"));
	} else if (!strcmp(type, "hook")) {
		join_array(r, "targets", a, sizeof(a));
		join_array(r, "stripped", b, sizeof(b));
		snprintf(out, size, "hook %s %s %s%s%s%s%s%s%s by ppid %lld(%s)", mg_jstr(r, "domain"),
			 mg_jstr(r, "op"), mg_jstr(r, "subop"),
			 *mg_jstr(r, "uuid") ? " uuid=" : "", mg_jstr(r, "uuid"),
			 *a ? " targets=" : "", a, *b ? " stripped=" : "", b,
			 mg_jint(r, "hook_ppid"), mg_jstr(r, "hook_parent"));
	} else if (!strcmp(type, "tag")) {
		snprintf(out, size, "tag %s(%lld)%s%s domain=%s%s%s owner pid %lld", mg_jstr(r, "ifname"),
			 mg_jint(r, "ifindex"), *mg_jstr(r, "netns") ? " netns=" : "",
			 mg_jstr(r, "netns"), mg_jstr(r, "owner_domain"),
			 *mg_jstr(r, "owner_uuid") ? " uuid=" : "", mg_jstr(r, "owner_uuid"),
			 mg_jint(r, "owner_pid"));
	} else if (!strcmp(type, "untag") || !strcmp(type, "release")) {
		snprintf(out, size, "%s %s(%lld)%s%s domain=%s owner pid %lld", type,
			 mg_jstr(r, "ifname"), mg_jint(r, "ifindex"),
			 *mg_jstr(r, "netns") ? " netns=" : "", mg_jstr(r, "netns"),
			 mg_jstr(r, "owner_domain"), mg_jint(r, "owner_pid"));
	} else if (!strcmp(type, "agent")) {
		snprintf(out, size, "agent %s%s%s%s%s", mg_jstr(r, "event"),
			 *mg_jstr(r, "mode") ? " mode=" : "", mg_jstr(r, "mode"),
			 *mg_jstr(r, "detail") ? ": " : "", mg_jstr(r, "detail"));
	} else if (!strcmp(type, "lost")) {
		snprintf(out, size, "lost %lld events (%s)", mg_jint(r, "lost"), mg_jstr(r, "where"));
	} else if (!strcmp(type, "link")) {
		snprintf(out, size, "link %s %s(%lld) kind %s", mg_jstr(r, "event"),
			 mg_jstr(r, "ifname"), mg_jint(r, "ifindex"),
			 *mg_jstr(r, "kind") ? mg_jstr(r, "kind") : "?");
	} else if (!strcmp(type, "mode")) {
		snprintf(out, size, "mode set to %s", mg_jstr(r, "mode"));
	} else {
		snprintf(out, size, "%s", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	}
}

/* ---- records of the CLI commands -------------------------------------------------- */

struct linkop {
	const char *ifname, *netns;
	uint32_t ifindex;
	const struct mg_tag *tag;
	unsigned type, mode;
};

static json_object *build_linkop(struct mg_jlog *l, void *p)
{
	struct linkop *a = p;
	json_object *o = mg_jlog_new(l, a->type, 0);
	char uuid[37], domain[MG_DOMAIN_LEN + 1];

	json_object_object_add(o, "ifname", json_object_new_string(a->ifname));
	json_object_object_add(o, "ifindex", json_object_new_int64(a->ifindex));
	json_object_object_add(o, "netns", a->netns ? json_object_new_string(a->netns) : NULL);
	if (a->tag) {
		/* the link's owner: the same keys as links, monitor and verdict records */
		mg_strlcpy(domain, a->tag->domain, sizeof(domain));
		mg_uuid_format(a->tag->uuid, uuid);
		json_object_object_add(o, "owner_domain", json_object_new_string(domain));
		json_object_object_add(o, "owner_uuid", uuid[0] ? json_object_new_string(uuid) : NULL);
		json_object_object_add(o, "owner_pid", json_object_new_int64(a->tag->owner_pid));
		json_object_object_add(o, "source", json_object_new_string(mg_source_name(a->tag->tagged_by)));
	}
	json_object_object_add(o, "by_ppid", json_object_new_int(getppid()));
	return o;
}

void mg_jlog_link_op(unsigned type, const char *ifname, uint32_t ifindex, const char *netns,
		     const struct mg_tag *tag)
{
	struct linkop a = { .ifname = ifname, .netns = netns, .ifindex = ifindex, .tag = tag,
			    .type = type };
	mg_jlog_oneshot(type, build_linkop, &a);
}

static json_object *build_mode(struct mg_jlog *l, void *p)
{
	struct linkop *a = p;
	json_object *o = mg_jlog_new(l, MG_JT_MODE, 0);

	json_object_object_add(o, "mode", json_object_new_string(mg_mode_name(a->mode)));
	json_object_object_add(o, "by_ppid", json_object_new_int(getppid()));
	return o;
}

void mg_jlog_mode(unsigned mode)
{
	struct linkop a = { .mode = mode };
	mg_jlog_oneshot(MG_JT_MODE, build_mode, &a);
}
