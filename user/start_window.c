/* Start windows and creation claims (see start_window.h): the pinned maps mg_start and
 * mg_claims, written by the hook and the guard, pruned by the hook and the agent. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "mg_policy.h"
#include "start_window.h"
#include "util.h"

static int open_or_create(const char *pin, enum bpf_map_type type, const char *name,
			  uint32_t ksize, uint32_t vsize, bool create)
{
	int fd = bpf_obj_get(pin);

	if (fd >= 0 || !create)
		return fd >= 0 ? fd : -errno;
	/* the same definition as bpf/maps.bpf.h, so the guard's load reuses the pin */
	fd = bpf_map_create(type, name, ksize, vsize, 1024, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, pin)) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int mg_start_open(bool create)
{
	return open_or_create(MG_START_PIN, BPF_MAP_TYPE_HASH, "mg_start", sizeof(__u32),
			      sizeof(struct mg_start), create);
}

int mg_claims_open(bool create)
{
	return open_or_create(MG_CLAIMS_PIN, BPF_MAP_TYPE_LRU_HASH, "mg_claims",
			      sizeof(struct mg_claim_key), sizeof(struct mg_claim), create);
}

int mg_start_begin(int fd, const char *domain, uint32_t tgid, uint32_t tid, uint64_t now,
		   bool *kept)
{
	struct mg_start s = {}, old;
	__u32 key = tid;

	*kept = false;
	if (!tid)
		return -EINVAL;     /* a window must name the one thread: any other would pass */
	mg_strlcpy(s.domain, domain, sizeof(s.domain));
	if (bpf_map_lookup_elem(fd, &key, &old) == 0 && old.tgid == tgid && old.tid == tid &&
	    mg_same_domain(old.domain, s.domain) && now >= old.since_ns &&
	    now - old.since_ns < MG_START_WINDOW_MAX_NS) {
		*kept = true;
		return 0;
	}
	s.since_ns = now;
	s.tgid = tgid;
	s.tid = tid;
	return bpf_map_update_elem(fd, &key, &s, BPF_ANY) ? -errno : 0;
}

/* Claims whose window is not live any more, or (domain non-NULL) of that domain. */
static void drop_claims(int fd, int claims_fd, const char *domain, uint64_t now)
{
	struct mg_claim_key key, next, *prev = NULL, dead[64];
	size_t nd;

	if (claims_fd < 0)
		return;
	do {
		/* delete in rounds of 64: deleting while walking restarts a hash walk */
		nd = 0;
		prev = NULL;
		while (nd < 64 && bpf_map_get_next_key(claims_fd, prev, &next) == 0) {
			struct mg_claim c;
			struct mg_start win;
			__u32 k;
			bool live;

			key = next;
			prev = &key;
			if (bpf_map_lookup_elem(claims_fd, &key, &c))
				continue;
			k = c.tid;
			live = fd >= 0 && bpf_map_lookup_elem(fd, &k, &win) == 0 &&
			       mg_claim_window_live(&c, &win, now);
			if (!live || (domain && mg_same_domain(c.domain, domain)))
				dead[nd++] = key;
		}
		for (size_t i = 0; i < nd; i++)
			bpf_map_delete_elem(claims_fd, &dead[i]);
	} while (nd == 64);
}

int mg_start_end(int fd, int claims_fd, const char *domain)
{
	__u32 key, next, *prev = NULL, dead[64];
	char want[MG_DOMAIN_LEN] = "";
	struct mg_start s;
	size_t nd = 0;

	mg_strlcpy(want, domain, sizeof(want));
	while (fd >= 0 && nd < 64 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &s) == 0 && mg_same_domain(s.domain, want))
			dead[nd++] = key;
	}
	for (size_t i = 0; i < nd; i++)
		bpf_map_delete_elem(fd, &dead[i]);
	drop_claims(fd, claims_fd, want, mg_now_boot_ns());
	return (int)nd;
}

static bool proc_alive(uint32_t tgid)
{
	return mg_proc_alive(tgid, 0);
}

int mg_start_prune(int fd, int claims_fd, uint64_t now, bool (*alive)(uint32_t tgid))
{
	__u32 key, next, *prev = NULL, dead[64];
	struct mg_start s;
	size_t nd = 0;

	if (!alive)
		alive = proc_alive;
	while (fd >= 0 && nd < 64 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &s))
			continue;
		if (!alive(s.tgid) || now < s.since_ns ||
		    now - s.since_ns >= MG_START_WINDOW_MAX_NS)
			dead[nd++] = key;
	}
	for (size_t i = 0; i < nd; i++)
		bpf_map_delete_elem(fd, &dead[i]);
	drop_claims(fd, claims_fd, NULL, now);
	return (int)nd;
}
