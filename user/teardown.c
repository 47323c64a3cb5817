/* Teardown windows (see teardown.h): the pinned mg_teardown map written by the hook's
 * `stopped`/`release` and read by the agent and the guard. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "teardown.h"
#include "util.h"
int mg_teardown_open(bool create)
{
	int fd = bpf_obj_get(MG_TEARDOWN_PIN);

	if (fd >= 0 || !create)
		return fd;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "mg_teardown", sizeof(__u32),
			    sizeof(struct mg_teardown), 1024, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, MG_TEARDOWN_PIN)) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* The libvirtd thread that forked us: the task whose children list holds our pid. */
uint32_t mg_forking_thread(uint32_t ppid, uint32_t self)
{
	char path[512], buf[4096];
	struct dirent *d;
	uint32_t found = 0;
	DIR *dh;

	snprintf(path, sizeof(path), "/proc/%u/task", ppid);
	dh = opendir(path);
	if (!dh)
		return 0;
	while (!found && (d = readdir(dh))) {
		FILE *f;
		size_t n;
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%u/task/%s/children", ppid, d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		for (char *p = buf, *e; *p; p = e) {
			unsigned long v = strtoul(p, &e, 10);
			if (e == p)
				break;
			if (v == self) {
				mg_parse_u32(d->d_name, &found);
				break;
			}
		}
	}
	closedir(dh);
	return found;
}

int mg_teardown_begin(int fd, const char *domain, const uint8_t uuid[16], uint32_t tgid,
		      uint32_t tid)
{
	struct mg_teardown t = {};
	__u32 key = tid ? tid : tgid;

	mg_strlcpy(t.domain, domain, sizeof(t.domain));
	if (uuid)
		memcpy(t.uuid, uuid, sizeof(t.uuid));
	t.since_ns = mg_now_boot_ns();
	t.tgid = tgid;
	t.tid = tid;
	return bpf_map_update_elem(fd, &key, &t, BPF_ANY) ? -errno : 0;
}

int mg_teardown_end(int fd, const char *domain)
{
	__u32 key, next, *prev = NULL;
	struct mg_teardown t;
	int n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &t) || t.until_ns ||
		    strncmp(t.domain, domain, MG_DOMAIN_LEN))
			continue;
		t.until_ns = mg_now_boot_ns();
		if (bpf_map_update_elem(fd, &key, &t, BPF_EXIST) == 0)
			n++;
	}
	return n;
}

bool mg_teardown_find(int fd, uint32_t pid, uint32_t tid, uint64_t ts, struct mg_teardown *out)
{
	__u32 keys[2] = { tid, pid };

	if (fd < 0)
		return false;
	for (int i = 0; i < 2; i++) {
		struct mg_teardown t;
		if (bpf_map_lookup_elem(fd, &keys[i], &t))
			continue;
		if (t.tgid != pid || (t.tid && t.tid != tid))
			continue;
		if (ts < t.since_ns || (t.until_ns && ts > t.until_ns))
			continue;
		*out = t;
		return true;
	}
	return false;
}

void mg_teardown_prune(int fd, uint64_t max_age_ns)
{
	__u32 key, next, *prev = NULL, dead[64];
	struct mg_teardown t;
	uint64_t now = mg_now_boot_ns();
	size_t nd = 0;

	if (fd < 0)
		return;
	while (nd < 64 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &t))
			continue;
		if ((t.until_ns && now - t.until_ns > max_age_ns) ||
		    (!t.until_ns && now - t.since_ns > 10 * max_age_ns))
			dead[nd++] = key;
	}
	for (size_t i = 0; i < nd; i++)
		bpf_map_delete_elem(fd, &dead[i]);
}
