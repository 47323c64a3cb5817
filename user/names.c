/* See names.h. Tables are indexed by the enum itself, so reordering one cannot shift
 * the names; a value without a name reads "unknown". */
#include <string.h>
#include "names.h"
#include "util.h"

#define NAME_OF(table, v) ((v) < MG_ARRAY_SIZE(table) && table[v] ? table[v] : "unknown")

const char *mg_verdict_name(unsigned v)
{
	static const char *const n[] = {
		[MG_V_NONE] = "none", [MG_V_ALLOW] = "allow", [MG_V_DENY] = "deny",
		[MG_V_AUDIT] = "audit", [MG_V_GONE] = "gone",
	};
	return NAME_OF(n, v);
}

const char *mg_how_name(unsigned h)
{
	static const char *const n[] = {
		[MG_HOW_INDEX] = "index", [MG_HOW_NAME] = "name", [MG_HOW_ALTNAME] = "altname",
		[MG_HOW_GROUP] = "group", [MG_HOW_LOWER] = "lower", [MG_HOW_UNPARSED] = "unparsed",
		[MG_HOW_UNRESOLVED] = "unresolved", [MG_HOW_KERNEL] = "kernel", [MG_HOW_FD] = "fd",
	};
	return NAME_OF(n, h);
}

const char *mg_reason_name(unsigned r)
{
	static const char *const n[] = {
		[MG_R_NONE] = "", [MG_R_IN_USE] = "in-use", [MG_R_NOT_IN_USE] = "not-in-use",
		[MG_R_RELEASED] = "released", [MG_R_OWNER] = "owner",
		[MG_R_OWNER_GONE] = "owner-gone", [MG_R_UNPARSED] = "unparsed",
		[MG_R_UNRESOLVED] = "unresolved", [MG_R_UNPRIVILEGED] = "unprivileged",
		[MG_R_STARTING] = "starting",
	};
	return NAME_OF(n, r);
}

const char *mg_action_name(unsigned a)
{
	static const char *const n[] = {
		[0] = "none", [MG_ACT_DELETE] = "delete", [MG_ACT_RENAME] = "rename",
		[MG_ACT_MOVE] = "move", [MG_ACT_GROUP] = "group", [MG_ACT_ALTNAME] = "altname",
	};
	return NAME_OF(n, a);
}

const char *mg_record_name(unsigned r)
{
	static const char *const n[] = { [MG_REC_REQUEST] = "request", [MG_REC_DELETE] = "delete",
					 [MG_REC_SUMMARY] = "summary" };
	return NAME_OF(n, r);
}

const char *mg_path_name(unsigned p)
{
	static const char *const n[] = {
		[MG_PATH_UNKNOWN] = "unknown", [MG_PATH_NETLINK] = "netlink",
		[MG_PATH_CASCADE] = "cascade", [MG_PATH_NETNS] = "netns",
		[MG_PATH_TAPCLOSE] = "tapclose", [MG_PATH_OTHER] = "other", [MG_PATH_IOCTL] = "ioctl",
	};
	return NAME_OF(n, p);
}

const char *mg_result_name(unsigned r)
{
	static const char *const n[] = {
		[MG_RES_NONE] = "none", [MG_RES_DELETED] = "deleted", [MG_RES_REFUSED] = "refused",
		[MG_RES_FAILED] = "failed", [MG_RES_UNSEEN] = "unseen",
		[MG_RES_NOT_PERMITTED] = "not-permitted",
	};
	return NAME_OF(n, r);
}

const char *mg_mode_name(unsigned m)
{
	static const char *const n[] = { [MG_MODE_ENFORCE] = "enforce", [MG_MODE_AUDIT] = "audit" };
	return NAME_OF(n, m);
}

const char *mg_kind_name(unsigned k)
{
	static const char *const n[] = {
		[MG_KIND_OTHER] = "other", [MG_KIND_MACVTAP] = "macvtap",
		[MG_KIND_MACVLAN] = "macvlan", [MG_KIND_TUN] = "tun", [MG_KIND_VETH] = "veth",
	};
	return NAME_OF(n, k);
}

const char *mg_source_name(unsigned s)
{
	static const char *const n[] = {
		[MG_SRC_MANUAL] = "manual", [MG_SRC_HOOK] = "hook", [MG_SRC_STATUS] = "status-file",
	};
	return NAME_OF(n, s);
}

const char *mg_queues_name(unsigned q)
{
	static const char *const n[] = {
		[MG_Q_NONE] = "none", [MG_Q_HELD] = "held", [MG_Q_UNKNOWN] = "unknown",
	};
	return NAME_OF(n, q);
}

unsigned mg_kind_of(const char *type)
{
	static const char *const kinds[] = {
		[MG_KIND_MACVTAP] = "macvtap", [MG_KIND_MACVLAN] = "macvlan",
		[MG_KIND_TUN] = "tun", [MG_KIND_VETH] = "veth",
	};

	for (unsigned k = 0; type && k < MG_ARRAY_SIZE(kinds); k++)
		if (kinds[k] && !strcmp(type, kinds[k]))
			return k;
	return MG_KIND_OTHER;
}

int mg_parse_mode(const char *s, unsigned *mode)
{
	if (!strcmp(s, "enforce"))
		*mode = MG_MODE_ENFORCE;
	else if (!strcmp(s, "audit"))
		*mode = MG_MODE_AUDIT;
	else
		return -1;
	return 0;
}

const char *mg_unenforced_name(unsigned u)
{
	static const char *const n[] = {
		[MG_UE_NONE] = "",
		[MG_UE_REFUSED] = "the kernel refused the BPF LSM and fmod_ret guards (or they never "
				  "ran): the fallback flags what the guard would have refused",
		[MG_UE_LSM_OFF] = "the BPF LSM program never ran (\"bpf\" is not in the kernel's "
				  "lsm= list): the fallback flags what the guard would have refused",
		[MG_UE_NO_BTF] = "no kernel BTF: the guard cannot load; the fallback flags what it "
				 "would have refused",
	};
	return NAME_OF(n, u);
}
