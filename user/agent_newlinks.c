/* New-link latency: links created while the agent runs are remembered until their tag
 * appears, and the time from the creation notification to the tag is logged (the
 * window in which a new link is not guarded yet, docs/libvirt.md). */
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <netlink/attr.h>
#include "agent_emit.h"
#include "agent_newlinks.h"

static bool is_known(struct agent *a, uint32_t ifindex)
{
	for (size_t i = 0; i < a->nknown; i++)
		if (a->known[i] == ifindex)
			return true;
	return false;
}

static void add_known(struct agent *a, uint32_t ifindex)
{
	if (a->nknown == a->capknown) {
		size_t cap = a->capknown ? a->capknown * 2 : 256;
		uint32_t *k = realloc(a->known, cap * sizeof(*k));
		if (!k)
			return;
		a->known = k;
		a->capknown = cap;
	}
	a->known[a->nknown++] = ifindex;
}

void agent_newlinks_forget(struct agent *a, uint32_t ifindex)
{
	for (size_t i = 0; i < a->nknown; i++)
		if (a->known[i] == ifindex) {
			a->known[i] = a->known[--a->nknown];
			break;
		}
	for (int i = 0; i < MAX_PENDING; i++)
		if (a->pending[i].ifindex == ifindex)
			a->pending[i].ifindex = 0;
}

void agent_newlinks_note(struct agent *a, uint32_t ifindex, struct nlattr *name)
{
	if (!ifindex || is_known(a, ifindex))
		return;
	add_known(a, ifindex);
	for (int i = 0; i < MAX_PENDING; i++) {
		if (a->pending[i].ifindex)
			continue;
		a->pending[i].ifindex = ifindex;
		a->pending[i].created_real_ns = mg_now_real_ns();
		a->pending[i].name[0] = 0;
		if (name)
			mg_strlcpy(a->pending[i].name, nla_data(name), sizeof(a->pending[i].name));
		return;
	}
}

/* New links whose tag appeared: report creation -> guarded latency. */
void agent_newlinks_check(struct agent *a)
{
	uint64_t now = mg_now_real_ns();

	for (int i = 0; i < MAX_PENDING; i++) {
		struct pending_link *p = &a->pending[i];
		struct mg_link_key key = { .netns_cookie = a->own_cookie };
		struct mg_tag tag;

		if (!p->ifindex)
			continue;
		key.ifindex = p->ifindex;
		if (bpf_map_lookup_elem(a->st.guarded_fd, &key, &tag) == 0) {
			char d[MG_DOMAIN_LEN + 1];
			mg_strlcpy(d, tag.domain, sizeof(d));
			agent_log(a, "guarded %s (ifindex %u, domain %s) %.1f ms after its creation "
				  "was notified (tagged by %s)", p->name, p->ifindex, d,
				  tag.tagged_at_ns > p->created_real_ns
					  ? (double)(tag.tagged_at_ns - p->created_real_ns) / 1e6 : 0.0,
				  mg_source_name(tag.tagged_by));
			p->ifindex = 0;
		} else if (now - p->created_real_ns > 300ull * 1000000000ull) {
			p->ifindex = 0;   /* never guarded: not a libvirt-owned link */
		}
	}
}

void agent_newlinks_load(struct agent *a)
{
	struct if_nameindex *ni = if_nameindex(), *p;

	if (!ni)
		return;
	for (p = ni; p->if_index; p++)
		add_known(a, p->if_index);
	if_freenameindex(ni);
}
