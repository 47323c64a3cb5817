/* What the kernel offers before anything is loaded, and the triggers that prove a loaded
 * program really runs: static feature probes (BTF, the LSM list, module BTF), bpffs and
 * tracefs mounted where libbpf expects them, a test netlink send and a test veth
 * deletion. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include "kernel_probe.h"
#include "mg_abi.h"
#include "output.h"

static bool access_ok(const char *p)
{
	return access(p, F_OK) == 0;
}

#define BPF_FS_MAGIC_NUMBER  0xcafe4a11
#define TRACEFS_MAGIC_NUMBER 0x74726163
void mg_features_probe_static(struct mg_features *f)
{
	struct utsname u;
	char buf[512] = "";
	FILE *fp;

	if (uname(&u) == 0)
		snprintf(f->kernel, sizeof(f->kernel), "%s", u.release);
	f->btf_vmlinux = access_ok("/sys/kernel/btf/vmlinux");
	/* securityfs may not be mounted (or not readable): then the list is unknown, never
	 * "bpf missing" */
	f->lsm_list_known = false;
	f->lsm_bpf_listed = false;
	f->lsm_list[0] = f->lockdown[0] = 0;
	fp = fopen("/sys/kernel/security/lsm", "re");
	if (fp) {
		if (fgets(buf, sizeof(buf), fp)) {
			char *tok, *save = NULL;
			buf[strcspn(buf, "\n")] = 0;
			snprintf(f->lsm_list, sizeof(f->lsm_list), "%s", buf);
			f->lsm_list_known = true;
			for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (!strcmp(tok, "bpf"))
					f->lsm_bpf_listed = true;
		}
		fclose(fp);
	}
	fp = fopen("/sys/kernel/security/lockdown", "re");
	if (fp) {
		if (fgets(buf, sizeof(buf), fp)) {
			char *a = strchr(buf, '['), *b = a ? strchr(a, ']') : NULL;
			if (a && b)
				snprintf(f->lockdown, sizeof(f->lockdown), "%.*s", (int)(b - a - 1), a + 1);
		}
		fclose(fp);
	}
	/* Module BTF is what CO-RE needs to read queue counts (built-in: vmlinux BTF). */
	f->btf_macvtap = access_ok("/sys/kernel/btf/macvtap");
	f->btf_tun = access_ok("/sys/kernel/btf/tun");
}

int mg_trigger_route_send(void)
{
	/* Two requests in one send: the guard's fast path only skips single requests, so
	 * this batch is always counted (route_sends) when the program runs. */
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req[2] = {};
	int fd, rc = 0, i;
	char buf[8192];

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	for (i = 0; i < 2; i++) {
		req[i].nh.nlmsg_len = sizeof(req[i]);
		req[i].nh.nlmsg_type = RTM_GETLINK;
		req[i].nh.nlmsg_flags = NLM_F_REQUEST;
		req[i].nh.nlmsg_seq = (unsigned)i + 1;
		req[i].ifi.ifi_family = AF_UNSPEC;
		req[i].ifi.ifi_index = 1;
	}
	if (send(fd, req, sizeof(req), 0) < 0)
		rc = -errno;
	else
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	close(fd);
	return rc;
}

/* Pins need bpffs on /sys/fs/bpf; mount it when the system did not (as bpftool does). */
int mg_ensure_bpffs(void)
{
	struct statfs sfs;

	if (statfs("/sys/fs/bpf", &sfs) || sfs.f_type != BPF_FS_MAGIC_NUMBER) {
		mkdir("/sys/fs/bpf", 0700);
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			mg_err("cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
			return -errno;
		}
		mg_info("mounted bpffs on /sys/fs/bpf");
	}
	if (mkdir(MG_PIN_DIR, 0700) && errno != EEXIST) {
		mg_err("cannot create %s: %s (is bpffs mounted on /sys/fs/bpf?)", MG_PIN_DIR,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

/* Tracepoint attach reads the event id from tracefs (libbpf: /sys/kernel/debug/tracing
 * when debugfs is there, else /sys/kernel/tracing); a fresh Debian 12 host may have
 * neither. Mount it where the system would, as bpffs is mounted above. */
int mg_ensure_tracefs(char *what, size_t len)
{
	struct statfs sfs;

	if (!statfs("/sys/kernel/tracing", &sfs) && sfs.f_type == TRACEFS_MAGIC_NUMBER) {
		snprintf(what, len, "tracefs on /sys/kernel/tracing");
		return 0;
	}
	/* statfs walks into debugfs's automount point, so this also mounts it there. */
	if (!statfs("/sys/kernel/debug/tracing", &sfs) && sfs.f_type == TRACEFS_MAGIC_NUMBER) {
		snprintf(what, len, "tracefs on /sys/kernel/debug/tracing");
		return 0;
	}
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL)) {
		int err = errno;

		snprintf(what, len, "tracefs not mounted and mounting it on /sys/kernel/tracing "
			 "failed: %s", strerror(err));
		return -err;
	}
	mg_info("mounted tracefs on /sys/kernel/tracing");
	snprintf(what, len, "tracefs mounted on /sys/kernel/tracing by the agent");
	return 1;
}

/* A veth pair made and deleted through rtnetlink: the deletion path's trigger. */
int mg_trigger_link_delete(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *l;
	char name[IFNAMSIZ], peer[IFNAMSIZ];
	int rc;

	if (!sk)
		return -ENOMEM;
	if (nl_connect(sk, NETLINK_ROUTE)) {
		nl_socket_free(sk);
		return -EIO;
	}
	snprintf(name, sizeof(name), "mgprobe%d", (int)getpid() % 100000);
	snprintf(peer, sizeof(peer), "mgprobp%d", (int)getpid() % 100000);
	rc = rtnl_link_veth_add(sk, name, peer, getpid());
	if (rc == 0) {
		l = rtnl_link_alloc();
		rtnl_link_set_name(l, name);
		rc = rtnl_link_delete(sk, l);
		rtnl_link_put(l);
	}
	nl_socket_free(sk);
	return rc ? -EIO : 0;
}
