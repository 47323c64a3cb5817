/* Ownership from libvirt's status files and hooks: tagging, untagging, reconciling
 * (see ownership.h, docs/libvirt.md; the teardown windows are teardown.c). */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include "netns.h"
#include "ownership.h"
#include "names.h"
#include "util.h"

#define LOG(...) do { if (log) log(ctx, __VA_ARGS__); } while (0)

uint32_t mg_own_pidfile(const char *dir, const char *domain)
{
	char path[512], *buf;
	size_t len;
	uint32_t pid = 0;

	if (snprintf(path, sizeof(path), "%s/%s.pid", dir, domain) >= (int)sizeof(path))
		return 0;
	if (mg_read_file(path, 64, &buf, &len))
		return 0;
	buf[strcspn(buf, " \n")] = 0;
	if (!mg_parse_u32(buf, &pid))
		pid = 0;
	free(buf);
	return pid;
}

/* The link named name in this netns, by one RTM_GETLINK for that name: the cost does not
 * grow with the netns's links (a dump of all of them per domain made a reconcile of 1,000
 * status files take 24 s). The kernel also resolves altnames: only a link whose own name
 * is name counts, as with a dump. NULL when there is none. */
static struct rtnl_link *link_by_name(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *link = NULL;
	const char *got;

	if (rtnl_link_get_kernel(sk, 0, name, &link) || !link)
		return NULL;
	got = rtnl_link_get_name(link);
	if (!got || strcmp(got, name)) {
		rtnl_link_put(link);
		return NULL;
	}
	return link;
}

int mg_own_claim(const struct mg_own_maps *m, const struct mg_domstatus *ds, uint32_t pid,
		 unsigned source, mg_own_log_fn log, void *ctx)
{
	struct nl_sock *sk = NULL;
	uint64_t start, cookie = 0;
	int n = 0;

	start = pid ? mg_proc_start_ticks(pid) : 0;
	if (!start) {
		LOG("domain %s: QEMU pid %u is not running: nothing tagged", ds->name, pid);
		return 0;
	}
	if (mg_netns_cookie(&cookie))
		return -EIO;
	for (size_t i = 0; i < ds->niface; i++) {
		const struct mg_own_iface *f = &ds->iface[i];
		struct mg_link_key key = { .netns_cookie = cookie };
		struct mg_tag tag = {}, old;
		struct rtnl_link *link;

		if (!mg_iface_guardable(f))
			continue;
		if (!sk && (!(sk = nl_socket_alloc()) || nl_connect(sk, NETLINK_ROUTE))) {
			LOG("domain %s: cannot list links: nothing tagged", ds->name);
			if (sk)
				nl_socket_free(sk);
			return -EIO;
		}
		link = link_by_name(sk, f->dev);
		if (!link) {
			LOG("domain %s: interface %s has no link in this netns: not tagged",
			    ds->name, f->dev);
			continue;
		}
		key.ifindex = (uint32_t)rtnl_link_get_ifindex(link);
		if (bpf_map_lookup_elem(m->guarded_fd, &key, &old) == 0) {
			if (!strncmp(old.domain, ds->name, MG_DOMAIN_LEN) && old.owner_pid == pid &&
			    old.owner_start == start && !(old.flags & MG_TAG_OWNER_GONE)) {
				LOG("%s (ifindex %u) already guarded for domain %s, QEMU pid %u (%s)",
				    f->dev, key.ifindex, ds->name, pid, mg_source_name(old.tagged_by));
				rtnl_link_put(link);
				n++;
				continue;       /* already ours: keep its "since" and source */
			}
			if (strncmp(old.domain, ds->name, MG_DOMAIN_LEN) &&
			    !(old.flags & (MG_TAG_OWNER_GONE | MG_TAG_RELEASED)) &&
			    mg_proc_alive(old.owner_pid, old.owner_start)) {
				char od[MG_DOMAIN_LEN + 1];
				mg_strlcpy(od, old.domain, sizeof(od));
				LOG("domain %s names %s, which is guarded for domain %s (QEMU pid %u, "
				    "alive): left with %s", ds->name, f->dev, od, old.owner_pid, od);
				rtnl_link_put(link);
				continue;
			}
		}
		mg_strlcpy(tag.domain, ds->name, sizeof(tag.domain));
		memcpy(tag.uuid, ds->uuid, sizeof(tag.uuid));
		tag.owner_pid = pid;
		tag.owner_start = start;
		tag.tagged_at_ns = mg_now_real_ns();
		tag.kind = mg_kind_of(rtnl_link_get_type(link));
		tag.lower_ifindex = (uint32_t)rtnl_link_get_link(link);
		mg_strlcpy(tag.ifname, f->dev, sizeof(tag.ifname));
		tag.tagged_by = source;
		if (bpf_map_update_elem(m->guarded_fd, &key, &tag, BPF_ANY)) {
			LOG("domain %s: cannot tag %s: %s", ds->name, f->dev, strerror(errno));
		} else {
			struct mg_counts zero = {};
			if (m->counts_fd >= 0)
				bpf_map_update_elem(m->counts_fd, &key, &zero, BPF_ANY);
			LOG("tagged %s (ifindex %u) to domain %s, QEMU pid %u (%s)", f->dev,
			    key.ifindex, ds->name, pid, mg_source_name(source));
			n++;
		}
		rtnl_link_put(link);
	}
	if (sk)
		nl_socket_free(sk);
	return n;
}

struct tag_entry {
	struct mg_link_key key;
	struct mg_tag tag;
};

/* Snapshot of the guarded map (deleting while walking get_next_key can skip entries). */
static size_t snapshot(int fd, struct tag_entry **out)
{
	struct mg_link_key key, next, *prev = NULL;
	struct tag_entry *v = NULL;
	size_t n = 0, cap = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (n == cap) {
			struct tag_entry *w = realloc(v, (cap ? cap * 2 : 64) * sizeof(*v));
			if (!w)
				break;
			v = w;
			cap = cap ? cap * 2 : 64;
		}
		if (bpf_map_lookup_elem(fd, &key, &v[n].tag))
			continue;
		v[n].key = key;
		n++;
	}
	*out = v;
	return n;
}

static void drop_one(const struct mg_own_maps *m, const struct tag_entry *e, const char *why,
		     mg_own_log_fn log, void *ctx)
{
	char d[MG_DOMAIN_LEN + 1], nm[MG_IFNAMSIZ + 1];

	mg_strlcpy(d, e->tag.domain, sizeof(d));
	mg_strlcpy(nm, e->tag.ifname, sizeof(nm));
	if (bpf_map_delete_elem(m->guarded_fd, &e->key) == 0) {
		if (m->counts_fd >= 0)
			bpf_map_delete_elem(m->counts_fd, &e->key);
		LOG("untagged %s (ifindex %u, domain %s, %s): %s", nm, e->key.ifindex, d,
		    mg_source_name(e->tag.tagged_by), why);
	}
}

static bool keep_has(const struct mg_domstatus *keep, const char *name)
{
	for (size_t i = 0; keep && i < keep->niface; i++)
		if (mg_iface_guardable(&keep->iface[i]) && !strcmp(keep->iface[i].dev, name))
			return true;
	return false;
}

int mg_own_drop(const struct mg_own_maps *m, const char *domain, const struct mg_domstatus *keep,
		const char *why, mg_own_log_fn log, void *ctx)
{
	struct tag_entry *v = NULL;
	uint64_t cookie = 0;
	size_t n = snapshot(m->guarded_fd, &v);
	int dropped = 0;

	mg_netns_cookie(&cookie);
	for (size_t i = 0; i < n; i++) {
		char cur[IF_NAMESIZE] = "";
		if (v[i].tag.tagged_by == MG_SRC_MANUAL ||
		    strncmp(v[i].tag.domain, domain, MG_DOMAIN_LEN))
			continue;
		if (keep) {
			const char *name = v[i].tag.ifname;
			if (v[i].key.netns_cookie == cookie && if_indextoname(v[i].key.ifindex, cur))
				name = cur;
			if (keep_has(keep, name))
				continue;
		}
		drop_one(m, &v[i], why, log, ctx);
		dropped++;
	}
	free(v);
	return dropped;
}

void mg_own_status_changed(const struct mg_own_maps *m, const char *dir, const char *name,
			   bool gone, mg_own_log_fn log, void *ctx)
{
	char domain[MG_DOMAIN_LEN + 8], path[600], err[256];
	struct mg_domstatus *ds;
	size_t l = strlen(name), len;
	char *buf;
	int rc;

	if (l < 5 || strcmp(name + l - 4, ".xml") || l - 4 >= MG_DOMAIN_LEN)
		return;
	memcpy(domain, name, l - 4);
	domain[l - 4] = 0;
	if (gone) {
		mg_own_drop(m, domain, NULL, "status file removed (domain stopped)", log, ctx);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = mg_read_file(path, MG_STATUS_MAX_SIZE, &buf, &len);
	if (rc) {
		if (rc != -ENOENT)
			LOG("warning: %s skipped: %s", path, rc > 0 ? "too large" : strerror(-rc));
		return;
	}
	ds = malloc(sizeof(*ds));
	if (!ds) {
		free(buf);
		return;
	}
	if (mg_status_parse(buf, len, ds, err, sizeof(err))) {
		LOG("warning: %s skipped: %s", path, err);
	} else if (!ds->is_status) {
		LOG("warning: %s skipped: not a <domstatus> file", path);
	} else if (strcmp(ds->name, domain)) {
		LOG("warning: %s skipped: it names domain '%s'", path, ds->name);
	} else if (!mg_status_live(ds)) {
		mg_own_drop(m, domain, NULL, "domain is not running", log, ctx);
	} else {
		mg_own_claim(m, ds, ds->pid, MG_SRC_STATUS, log, ctx);
		mg_own_drop(m, domain, ds, "no longer in the domain's status (detached)", log, ctx);
	}
	free(ds);
	free(buf);
}

struct names {
	char (*v)[MG_DOMAIN_LEN];
	size_t n, cap;
};

void mg_own_reconcile(const struct mg_own_maps *m, const char *dir, mg_own_log_fn log, void *ctx)
{
	struct tag_entry *v = NULL;
	struct names live = {};
	uint64_t cookie = 0;
	size_t n, i;
	struct dirent *d;
	DIR *dh;

	mg_netns_cookie(&cookie);
	/* 1. tags whose QEMU or link is gone, or whose ifindex now names another link */
	n = snapshot(m->guarded_fd, &v);
	for (i = 0; i < n; i++) {
		char cur[IF_NAMESIZE] = "", why[128];
		struct tag_entry *e = &v[i];

		if (e->key.netns_cookie == cookie) {
			if (!if_indextoname(e->key.ifindex, cur)) {
				drop_one(m, e, "stale: the link is gone", log, ctx);
				continue;
			}
			if (e->tag.ifname[0] && strncmp(cur, e->tag.ifname, MG_IFNAMSIZ)) {
				snprintf(why, sizeof(why), "stale: ifindex %u is now %s (reused)",
					 e->key.ifindex, cur);
				drop_one(m, e, why, log, ctx);
				continue;
			}
		}
		if (!mg_proc_alive(e->tag.owner_pid, e->tag.owner_start)) {
			snprintf(why, sizeof(why), "stale: QEMU pid %u is gone", e->tag.owner_pid);
			drop_one(m, e, why, log, ctx);
		}
	}
	free(v);
	/* 2. every status file: claim what live domains hold */
	dh = opendir(dir);
	if (!dh) {
		LOG("status directory %s: %s (nothing to learn yet)", dir, strerror(errno));
	} else {
		while ((d = readdir(dh))) {
			size_t l = strlen(d->d_name);
			if (l < 5 || strcmp(d->d_name + l - 4, ".xml") || l - 4 >= MG_DOMAIN_LEN)
				continue;
			mg_own_status_changed(m, dir, d->d_name, false, log, ctx);
			if (live.n == live.cap) {
				void *w = realloc(live.v, (live.cap ? live.cap * 2 : 16) * sizeof(*live.v));
				if (!w)
					continue;
				live.v = w;
				live.cap = live.cap ? live.cap * 2 : 16;
			}
			memcpy(live.v[live.n], d->d_name, l - 4);
			live.v[live.n++][l - 4] = 0;
		}
		closedir(dh);
	}
	/* 3. libvirt-learnt tags of domains with no status file */
	n = snapshot(m->guarded_fd, &v);
	for (i = 0; i < n; i++) {
		bool found = false;
		if (v[i].tag.tagged_by == MG_SRC_MANUAL)
			continue;
		for (size_t j = 0; j < live.n && !found; j++)
			found = !strncmp(live.v[j], v[i].tag.domain, MG_DOMAIN_LEN);
		if (!found)
			drop_one(m, &v[i], "stale: its domain has no status file", log, ctx);
	}
	free(v);
	free(live.v);
}
