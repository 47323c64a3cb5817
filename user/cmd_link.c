/* tag, untag, release, links: the operator's view of guarded links. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include "cmds.h"
#include "netns.h"
#include "state.h"
#include "jlog.h"

#define ALIAS_PREFIX "macvguard:"

struct nl_link_info {
	uint32_t ifindex;
	uint32_t lower;
	unsigned kind;
	char name[MG_IFNAMSIZ];
};

static struct nl_sock *route_socket(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk)
		return NULL;
	if (nl_connect(sk, NETLINK_ROUTE)) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

/* The ifalias is the operator's too ("uplink to rack 7"): macvguard writes its label
 * only into an empty alias or one it wrote itself (ALIAS_PREFIX), and clears only its
 * own. An operator's alias is never overwritten or erased; the tag itself lives in the
 * guard's map either way (`macvguard links`). */
static bool alias_is_ours(const char *a)
{
	return !a || !a[0] || !strncmp(a, ALIAS_PREFIX, strlen(ALIAS_PREFIX));
}

/* Look a link up by name in the current netns; alias: NULL leaves the ifalias alone, ""
 * clears macvguard's label, anything else is the label to set. */
static int link_lookup(const char *ifname, const char *alias, struct nl_link_info *info)
{
	struct nl_sock *sk = route_socket();
	struct rtnl_link *link = NULL, *change;
	const char *cur;
	int rc;

	if (!sk)
		return -ENOMEM;
	rc = rtnl_link_get_kernel(sk, 0, ifname, &link);
	if (rc < 0) {
		nl_socket_free(sk);
		return -ENODEV;
	}
	info->ifindex = (uint32_t)rtnl_link_get_ifindex(link);
	info->lower = (uint32_t)rtnl_link_get_link(link);
	info->kind = mg_kind_of(rtnl_link_get_type(link));
	mg_strlcpy(info->name, rtnl_link_get_name(link), sizeof(info->name));
	rc = 0;
	cur = rtnl_link_get_ifalias(link);
	if (alias && !alias_is_ours(cur)) {
		if (alias[0] && mg_verbose)
			mg_info("%s keeps its alias (not macvguard's): the tag is in the guard's map "
				"only", ifname);
	} else if (alias && (alias[0] || (cur && cur[0]))) {
		change = rtnl_link_alloc();
		rtnl_link_set_ifalias(change, alias);
		rc = rtnl_link_change(sk, link, change, 0);
		if (rc < 0) {
			mg_warn("cannot set ifalias of %s: %s", ifname, nl_geterror(rc));
			rc = 0;       /* the tag in the map is what guards; the alias is a label */
		}
		rtnl_link_put(change);
	}
	rtnl_link_put(link);
	nl_socket_free(sk);
	return rc;
}

/* Current name of ifindex in the netns with this cookie; "" when unknown. */
static void current_name(uint64_t cookie, uint32_t ifindex, char *out, char *netns, size_t nsz)
{
	int saved = -1;
	char buf[IF_NAMESIZE] = "";

	out[0] = 0;
	if (mg_netns_name_of(cookie, netns, nsz))
		return;
	if (netns[0] && mg_netns_enter(netns, &saved))
		return;
	if (if_indextoname(ifindex, buf))
		mg_strlcpy(out, buf, MG_IFNAMSIZ);
	mg_netns_leave(saved);
}

/* Processes holding a queue of the link open (/dev/tapN for macvtap, a tun fd with
 * iff: NAME for tun); informational, the guard reads the kernel's own count. */
static int queue_holders(const char *ifname, uint32_t ifindex, unsigned kind, char *pids,
			 size_t psz)
{
	char path[1024], buf[512];
	unsigned maj = 0, min = 0;
	bool want_dev = false;
	struct dirent *p, *fd;
	DIR *proc, *fds;
	int holders = 0;
	FILE *f;

	pids[0] = 0;
	if (kind == MG_KIND_MACVTAP) {
		/* devtmpfs is not per netns: /dev/tapIFINDEX names the queue device of a
		 * macvtap in any netns (sysfs would only show our own netns). */
		struct stat sb;

		snprintf(path, sizeof(path), "/dev/tap%u", ifindex);
		if (stat(path, &sb) || !S_ISCHR(sb.st_mode))
			return -1;
		maj = major(sb.st_rdev);
		min = minor(sb.st_rdev);
		want_dev = true;
	} else if (kind != MG_KIND_TUN) {
		return -1;
	}
	proc = opendir("/proc");
	if (!proc)
		return -1;
	while ((p = readdir(proc))) {
		bool holds = false;

		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!holds && (fd = readdir(fds))) {
			struct stat sb;

			if (fd->d_name[0] == '.')
				continue;
			if (want_dev) {
				snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, fd->d_name);
				if (stat(path, &sb) == 0 && S_ISCHR(sb.st_mode) &&
				    major(sb.st_rdev) == maj && minor(sb.st_rdev) == min)
					holds = true;
			} else {
				snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", p->d_name, fd->d_name);
				f = fopen(path, "re");
				if (!f)
					continue;
				while (fgets(buf, sizeof(buf), f)) {
					char name[64];
					if (sscanf(buf, "iff: %63s", name) == 1 && !strcmp(name, ifname))
						holds = true;
				}
				fclose(f);
			}
		}
		closedir(fds);
		if (holds) {
			size_t len = strlen(pids), add = strlen(p->d_name) + 1;
			holders++;
			if (len + add < psz) {
				if (len)
					pids[len++] = ',';
				memcpy(pids + len, p->d_name, add);
			}
		}
	}
	closedir(proc);
	return holders;
}

const char mg_help_tag[] =
	"usage: macvguard [-j] tag IFNAME --domain NAME --pid PID [--uuid UUID] [--netns NAME]\n"
	"                     [--source manual|hook|status-file]\n"
	"\n"
	"Guards the link IFNAME for a domain by hand (what the libvirt integration does by\n"
	"itself): its deletion, rename or netns move is refused while the owner process PID\n"
	"holds it open. The tag shows in `ip link` as the link's ifalias.\n"
	"\n"
	"  -d, --domain NAME   the owner domain (1..63 bytes)\n"
	"  -p, --pid PID       the owner process (QEMU); the tag ends when it exits\n"
	"  -u, --uuid UUID     the domain's uuid\n"
	"  -n, --netns NAME    the link is in this named network namespace\n"
	"  -s, --source SRC    what tagged it, for `links`: manual (default), hook, status-file\n";

const char mg_help_untag[] =
	"usage: macvguard [-j] untag IFNAME [--netns NAME]\n"
	"\n"
	"Stops guarding IFNAME (removes its tag and counts).\n"
	"\n"
	"  -n, --netns NAME    the link is in this named network namespace\n";

const char mg_help_release[] =
	"usage: macvguard [-j] release IFNAME [--netns NAME]\n"
	"\n"
	"Allows the deletion of a guarded link now, while its owner still holds it (the tag\n"
	"stays, marked released).\n"
	"\n"
	"  -n, --netns NAME    the link is in this named network namespace\n";

const char mg_help_links[] =
	"usage: macvguard [-j] [--wide] links [--wide]\n"
	"\n"
	"Every guarded link: name, index, netns, kind, owner domain and QEMU pid, whether the\n"
	"owner is alive and holds the link open (in use), verdict counts (deny, audit, allow)\n"
	"and flags. --wide (or the global -w) adds the lower device, uuid, since when and by\n"
	"what it is tagged; -j prints every field (docs/json.md).\n"
	"\n"
	"  -w, --wide          every column\n";

/* What tag/untag/release did, for -j. */
static void print_op_json(const char *result, const char *ifname, uint32_t ifindex,
			  const char *netns, const struct mg_tag *tag)
{
	json_object *o = json_object_new_object();
	char uuid[37], domain[MG_DOMAIN_LEN + 1];

	mg_strlcpy(domain, tag->domain, sizeof(domain));
	mg_uuid_format(tag->uuid, uuid);
	json_object_object_add(o, "result", json_object_new_string(result));
	json_object_object_add(o, "ifname", json_object_new_string(ifname));
	json_object_object_add(o, "ifindex", json_object_new_int64(ifindex));
	json_object_object_add(o, "netns", netns ? json_object_new_string(netns) : NULL);
	json_object_object_add(o, "owner_domain", domain[0] ? json_object_new_string(domain) : NULL);
	json_object_object_add(o, "owner_uuid", uuid[0] ? json_object_new_string(uuid) : NULL);
	json_object_object_add(o, "owner_pid", tag->owner_pid ? json_object_new_int64(tag->owner_pid) : NULL);
	mg_json_print(o);
}

/* tag/untag/release share the lookup of IFNAME (in --netns) to its key. */
struct link_target {
	const char *ifname;
	const char *netns;
	struct mg_link_key key;
	struct nl_link_info info;
};

static int resolve_target(struct link_target *t, const char *alias)
{
	int saved = -1, rc;

	if (t->netns && (rc = mg_netns_enter(t->netns, &saved))) {
		mg_err("cannot enter netns %s: %s", t->netns, strerror(-rc));
		return 2;
	}
	rc = link_lookup(t->ifname, alias, &t->info);
	if (rc == 0)
		{
		uint64_t cookie = 0;
		rc = mg_netns_cookie(&cookie);
		t->key.netns_cookie = cookie;
	}
	mg_netns_leave(saved);
	if (rc == -ENODEV) {
		mg_err("no link named %s%s%s", t->ifname, t->netns ? " in netns " : "",
		       t->netns ? t->netns : "");
		return 1;
	}
	if (rc) {
		mg_err("cannot look up %s: %s", t->ifname, strerror(-rc));
		return 2;
	}
	t->key.ifindex = t->info.ifindex;
	return 0;
}

int mg_cmd_tag(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' }, { "uuid", required_argument, NULL, 'u' },
		{ "pid", required_argument, NULL, 'p' },    { "netns", required_argument, NULL, 'n' },
		{ "source", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 }
	};
	struct link_target t = {};
	struct mg_tag tag = {};
	struct mg_state st;
	const char *domain = NULL, *uuid = NULL;
	char alias[256], uuidtxt[37];
	uint32_t pid = 0;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:u:p:n:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'd': domain = optarg; break;
		case 'u': uuid = optarg; break;
		case 'p':
			if (!mg_parse_u32(optarg, &pid) || pid == 0)
				return mg_usage_err("--pid: not a process id: %s", optarg);
			break;
		case 'n': t.netns = optarg; break;
		case 's':
			if (!strcmp(optarg, "manual")) tag.tagged_by = MG_SRC_MANUAL;
			else if (!strcmp(optarg, "hook")) tag.tagged_by = MG_SRC_HOOK;
			else if (!strcmp(optarg, "status-file")) tag.tagged_by = MG_SRC_STATUS;
			else return mg_usage_err("--source: manual, hook or status-file");
			break;
		default: return mg_bad_option(argc, argv, "d:u:p:n:s:");
		}
	}
	if (optind >= argc)
		return mg_usage_err("IFNAME is needed");
	if (optind < argc - 1)
		return mg_usage_err("unexpected argument '%s'", argv[optind + 1]);
	if (!domain)
		return mg_usage_err("--domain is needed");
	if (!pid)
		return mg_usage_err("--pid is needed");
	t.ifname = argv[optind];
	if (strlen(t.ifname) >= MG_IFNAMSIZ)
		return mg_usage_err("link name too long: %s", t.ifname);
	if (strlen(domain) >= MG_DOMAIN_LEN || !domain[0])
		return mg_usage_err("--domain must be 1..%d bytes", MG_DOMAIN_LEN - 1);
	if (uuid && mg_uuid_parse(uuid, tag.uuid))
		return mg_usage_err("--uuid: not a uuid: %s", uuid);
	tag.owner_start = mg_proc_start_ticks(pid);
	if (!tag.owner_start) {
		mg_err("--pid %u: no such process", pid);
		return 1;
	}
	if (mg_state_open(&st))
		return 1;
	mg_uuid_format(tag.uuid, uuidtxt);
	snprintf(alias, sizeof(alias), ALIAS_PREFIX " domain=%s%s%s pid=%u", domain,
		 uuidtxt[0] ? " uuid=" : "", uuidtxt, pid);
	rc = resolve_target(&t, alias);
	if (rc) {
		mg_state_close(&st);
		return rc;
	}
	mg_strlcpy(tag.domain, domain, sizeof(tag.domain));
	mg_strlcpy(tag.ifname, t.info.name, sizeof(tag.ifname));
	tag.owner_pid = pid;
	tag.kind = t.info.kind;
	tag.lower_ifindex = t.info.lower;
	tag.tagged_at_ns = mg_now_real_ns();
	if (bpf_map_update_elem(st.guarded_fd, &t.key, &tag, BPF_ANY)) {
		mg_err("cannot store the tag: %s", strerror(errno));
		mg_state_close(&st);
		return 1;
	}
	{
		struct mg_counts zero = {};
		bpf_map_update_elem(st.counts_fd, &t.key, &zero, BPF_ANY);
	}
	mg_jlog_link_op(MG_JT_TAG, t.info.name, t.info.ifindex, t.netns, &tag);
	if (mg_json) {
		print_op_json("tagged", t.info.name, t.info.ifindex, t.netns, &tag);
	} else {
		char line[600];
		snprintf(line, sizeof(line), "tagged %s (ifindex %u%s%s) to domain %s, owner pid %u",
			 t.info.name, t.info.ifindex, t.netns ? ", netns " : "", t.netns ? t.netns : "",
			 domain, pid);
		mg_fputs_escaped(stdout, line);
		putchar('\n');
	}
	mg_state_close(&st);
	return mg_stdout_status();
}

static int untag_or_release(int argc, char **argv, bool release)
{
	static const struct option opts[] = { { "netns", required_argument, NULL, 'n' },
					      { NULL, 0, NULL, 0 } };
	struct link_target t = {};
	struct mg_state st;
	struct mg_tag tag;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		if (c == 'n')
			t.netns = optarg;
		else
			return mg_bad_option(argc, argv, "n:");
	}
	if (optind >= argc)
		return mg_usage_err("IFNAME is needed");
	if (optind < argc - 1)
		return mg_usage_err("unexpected argument '%s'", argv[optind + 1]);
	t.ifname = argv[optind];
	if (mg_state_open(&st))
		return 1;
	rc = resolve_target(&t, release ? NULL : "");
	if (rc)
		goto out;
	if (bpf_map_lookup_elem(st.guarded_fd, &t.key, &tag)) {
		mg_err("%s is not guarded", t.ifname);
		rc = 1;
		goto out;
	}
	if (release) {
		tag.flags |= MG_TAG_RELEASED;
		rc = bpf_map_update_elem(st.guarded_fd, &t.key, &tag, BPF_EXIST) ? 1 : 0;
	} else {
		rc = bpf_map_delete_elem(st.guarded_fd, &t.key) ? 1 : 0;
		bpf_map_delete_elem(st.counts_fd, &t.key);
	}
	if (rc)
		mg_err("cannot update the tag of %s: %s", t.ifname, strerror(errno));
	else
		mg_jlog_link_op(release ? MG_JT_RELEASE : MG_JT_UNTAG, t.info.name,
				t.info.ifindex, t.netns, &tag);
	if (!rc && mg_json)
		print_op_json(release ? "released" : "untagged", t.info.name, t.info.ifindex,
			      t.netns, &tag);
	else if (!rc)
		printf("%s %s\n", release ? "released" : "untagged", t.ifname);
out:
	mg_state_close(&st);
	return rc ? rc : mg_stdout_status();
}

int mg_cmd_untag(int argc, char **argv)
{
	return untag_or_release(argc, argv, false);
}

int mg_cmd_release(int argc, char **argv)
{
	return untag_or_release(argc, argv, true);
}

/* One row of `links` text: the README's columns, or every column with --wide. */
static void links_header(bool wide)
{
	char line[400];

	if (wide)
		snprintf(line, sizeof(line),
			 "%-15s %7s %-10s %-8s %-10s %-20s %-36s %7s %-5s %-6s %-27s %-11s %5s %5s %5s %s",
			 "IFNAME", "IFINDEX", "NETNS", "KIND", "LOWER", "DOMAIN", "UUID", "PID",
			 "OWNER", "IN-USE", "TAGGED-SINCE", "TAGGED-BY", "DENY", "AUDIT", "ALLOW",
			 "FLAGS");
	else
		snprintf(line, sizeof(line), "%-15s %7s %-10s %-8s %-20s %7s %-5s %-6s %5s %5s %5s %s",
			 "IFNAME", "IFINDEX", "NETNS", "KIND", "DOMAIN", "PID", "OWNER", "IN-USE",
			 "DENY", "AUDIT", "ALLOW", "FLAGS");
	mg_print_line(stdout, line);
}

int mg_cmd_links(int argc, char **argv)
{
	static const struct option opts[] = { { "wide", no_argument, NULL, 'w' },
					      { NULL, 0, NULL, 0 } };
	struct mg_link_key key, next, *prev = NULL;
	struct mg_state st;
	json_object *arr = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "w", opts, NULL)) != -1) {
		if (c == 'w')
			mg_wide = true;
		else
			return mg_bad_option(argc, argv, "w");
	}
	if (optind != argc)
		return mg_usage_err("unexpected argument '%s'", argv[optind]);
	if (mg_state_open(&st))
		return 1;
	if (mg_json)
		arr = json_object_new_array();
	else
		links_header(mg_wide);
	while (bpf_map_get_next_key(st.guarded_fd, prev, &next) == 0) {
		struct mg_counts counts = {};
		struct mg_tag tag;
		char name[MG_IFNAMSIZ] = "", netns[256] = "", uuid[37], since[64], pids[256];
		char domain[MG_DOMAIN_LEN + 1], lower[MG_IFNAMSIZ + 8] = "";
		const char *inuse;
		bool alive;
		int holders;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(st.guarded_fd, &key, &tag))
			continue;
		bpf_map_lookup_elem(st.counts_fd, &key, &counts);
		current_name(key.netns_cookie, key.ifindex, name, netns, sizeof(netns));
		if (!name[0])
			mg_strlcpy(name, tag.ifname, sizeof(name));
		mg_strlcpy(domain, tag.domain, sizeof(domain));
		alive = mg_proc_alive(tag.owner_pid, tag.owner_start) && !(tag.flags & MG_TAG_OWNER_GONE);
		holders = queue_holders(name, key.ifindex, tag.kind, pids, sizeof(pids));
		inuse = holders < 0 ? "?" : (holders > 0 && alive ? "yes" : "no");
		mg_uuid_format(tag.uuid, uuid);
		mg_format_time(tag.tagged_at_ns, since, sizeof(since));
		{
			char ln[MG_IFNAMSIZ] = "", ns2[256];
			if (tag.lower_ifindex)
				current_name(key.netns_cookie, tag.lower_ifindex, ln, ns2, sizeof(ns2));
			if (ln[0])
				mg_strlcpy(lower, ln, sizeof(lower));
			else if (tag.lower_ifindex)
				snprintf(lower, sizeof(lower), "if%u", tag.lower_ifindex);
		}
		if (mg_json) {
			json_object *o = json_object_new_object(), *h = NULL;

			if (holders >= 0) {
				char *save = NULL, *tok;
				h = json_object_new_array();
				for (tok = strtok_r(pids, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
					json_object_array_add(h, json_object_new_int64(atoll(tok)));
			}
			json_object_object_add(o, "ifname", json_object_new_string(name));
			json_object_object_add(o, "ifindex", json_object_new_int64(key.ifindex));
			json_object_object_add(o, "netns", netns[0] ? json_object_new_string(netns) : NULL);
			json_object_object_add(o, "netns_cookie", json_object_new_uint64(key.netns_cookie));
			json_object_object_add(o, "kind", json_object_new_string(mg_kind_name(tag.kind)));
			json_object_object_add(o, "lower", lower[0] ? json_object_new_string(lower) : NULL);
			json_object_object_add(o, "lower_ifindex", tag.lower_ifindex ?
					       json_object_new_int64(tag.lower_ifindex) : NULL);
			json_object_object_add(o, "owner_domain", json_object_new_string(domain));
			json_object_object_add(o, "owner_uuid", uuid[0] ? json_object_new_string(uuid) : NULL);
			json_object_object_add(o, "owner_pid", json_object_new_int64(tag.owner_pid));
			json_object_object_add(o, "owner_alive", json_object_new_boolean(alive));
			json_object_object_add(o, "in_use", holders < 0 ? NULL :
					       json_object_new_boolean(holders > 0 && alive));
			json_object_object_add(o, "queue_holders", h);
			json_object_object_add(o, "released", json_object_new_boolean(tag.flags & MG_TAG_RELEASED));
			json_object_object_add(o, "tagged_since", json_object_new_string(since));
			json_object_object_add(o, "tagged_by", json_object_new_string(mg_source_name(tag.tagged_by)));
			json_object_object_add(o, "deny", json_object_new_uint64(counts.deny));
			json_object_object_add(o, "audit", json_object_new_uint64(counts.audit));
			json_object_object_add(o, "allow", json_object_new_uint64(counts.allow));
			json_object_array_add(arr, o);
		} else {
			char line[1024], fd[96], fn[64], fns[64];

			/* interface and domain names come from outside: mg_print_line escapes */
			mg_fit(domain, 20, fd, sizeof(fd));
			mg_fit(netns[0] ? netns : "-", 10, fns, sizeof(fns));
			mg_fit(name, 15, fn, sizeof(fn));
			if (mg_wide)
				snprintf(line, sizeof(line),
					 "%s %7u %s %-8s %-10s %s %-36s %7u %-5s %-6s %-27s %-11s %5llu %5llu %5llu %s",
					 fn, key.ifindex, fns, mg_kind_name(tag.kind),
					 lower[0] ? lower : "-", fd, uuid[0] ? uuid : "-", tag.owner_pid,
					 alive ? "alive" : "gone", inuse, since, mg_source_name(tag.tagged_by),
					 (unsigned long long)counts.deny, (unsigned long long)counts.audit,
					 (unsigned long long)counts.allow,
					 tag.flags & MG_TAG_RELEASED ? "released" : "-");
			else
				snprintf(line, sizeof(line),
					 "%s %7u %s %-8s %s %7u %-5s %-6s %5llu %5llu %5llu %s",
					 fn, key.ifindex, fns, mg_kind_name(tag.kind), fd, tag.owner_pid,
					 alive ? "alive" : "gone", inuse,
					 (unsigned long long)counts.deny, (unsigned long long)counts.audit,
					 (unsigned long long)counts.allow,
					 tag.flags & MG_TAG_RELEASED ? "released" : "-");
			mg_print_line(stdout, line);
		}
	}
	if (mg_json)
		mg_json_print(arr);
	mg_state_close(&st);
	return mg_stdout_status();
}
