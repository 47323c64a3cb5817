/* Unit tests of user/ownparse.c: status-file and hook-XML parsing on samples written for
 * this project (tests/libvirt/), the configuration file, and malformed input (skipped
 * with an error message, never a crash). Prints "ok - ..." / "not ok - ...: why" and
 * "N passed, N failed". Run from the repo root (or pass the samples dir as argv[1]). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "domstatus.h"
#include "ownership.h"
#include "util.h"

static int pass, failed;
static const char *dir = "tests/libvirt";

#define CHECK(cond, name, ...) do { \
	if (cond) { printf("ok - %s\n", name); pass++; } \
	else { printf("not ok - %s: ", name); printf(__VA_ARGS__); printf("\n"); failed++; } \
} while (0)

static int load(const char *rel, struct mg_domstatus *ds, char *err, size_t errsz)
{
	char path[512], *buf;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	rc = mg_read_file(path, MG_STATUS_MAX_SIZE, &buf, &len);
	if (rc) {
		snprintf(err, errsz, "cannot read %.200s (%d)", path, rc);
		return -2;
	}
	rc = mg_status_parse(buf, len, ds, err, errsz);
	free(buf);
	return rc;
}

static size_t nguardable(const struct mg_domstatus *ds)
{
	size_t n = 0;
	for (size_t i = 0; i < ds->niface; i++)
		n += mg_iface_guardable(&ds->iface[i]);
	return n;
}

int main(int argc, char **argv)
{
	static struct mg_domstatus ds;
	char err[256], uuid[37];
	int rc;

	if (argc > 1)
		dir = argv[1];

	rc = load("status/running.xml", &ds, err, sizeof(err));
	mg_uuid_format(ds.uuid, uuid);
	CHECK(rc == 0 && ds.is_status && !strcmp(ds.state, "running") && !strcmp(ds.reason, "booted") &&
	      ds.pid == 235 && !strcmp(ds.name, "d1") &&
	      !strcmp(uuid, "0563e920-ad52-4fa5-9b85-e6266ff0db79") && !strcmp(ds.job, "none"),
	      "running: state, reason, pid, name, uuid, job", "rc %d %s state %s pid %u name %s", rc, err,
	      ds.state, ds.pid, ds.name);
	CHECK(ds.niface == 1 && !strcmp(ds.iface[0].type, "direct") && !ds.iface[0].actual[0] &&
	      !strcmp(ds.iface[0].dev, "guestnic0") && ds.iface[0].created == -1 &&
	      mg_iface_guardable(&ds.iface[0]) && mg_status_live(&ds),
	      "running: one direct interface guestnic0, guardable, live", "niface %zu", ds.niface);

	/* A real status file written by bookworm-backports' libvirt 11.3 (tests/guest/libvirt.sh,
	 * lv11 root): <privateData><created value='yes'/></privateData> per interface, and
	 * newer elements elsewhere (qemuCaps, <audio>, ...). */
	rc = load("status/libvirt-11.3-running.xml", &ds, err, sizeof(err));
	mg_uuid_format(ds.uuid, uuid);
	CHECK(rc == 0 && ds.is_status && !strcmp(ds.state, "running") && ds.pid == 225 &&
	      !strcmp(ds.name, "d1") && !strcmp(uuid, "1110c917-d01f-40e0-8dcf-00898024e555") &&
	      ds.niface == 1 && !strcmp(ds.iface[0].type, "direct") &&
	      !strcmp(ds.iface[0].dev, "guestnic0") && ds.iface[0].created == 1 &&
	      mg_iface_guardable(&ds.iface[0]) && mg_status_live(&ds),
	      "libvirt 11.3 status file: running d1, guestnic0 created='yes', guardable, live",
	      "rc %d %s state %s pid %u niface %zu created %d", rc, err, ds.state, ds.pid, ds.niface,
	      ds.niface ? ds.iface[0].created : -9);

	rc = load("status/paused.xml", &ds, err, sizeof(err));
	CHECK(rc == 0 && !strcmp(ds.state, "paused") && mg_status_live(&ds) && nguardable(&ds) == 1,
	      "paused: live (QEMU still holds the link)", "rc %d state %s", rc, ds.state);

	rc = load("status/migrating.xml", &ds, err, sizeof(err));
	CHECK(rc == 0 && !strcmp(ds.job, "migration out") && mg_status_live(&ds) && ds.pid == 235,
	      "migrating: async job 'migration out', still live", "rc %d job '%s'", rc, ds.job);

	rc = load("status/multi.xml", &ds, err, sizeof(err));
	CHECK(rc == 0 && ds.niface == 9 && ds.pid == 4242 && !strcmp(ds.name, "web-01"),
	      "multi: nine interfaces read", "rc %d %s niface %zu", rc, err, ds.niface);
	CHECK(rc == 0 && !strcmp(ds.iface[3].type, "network") && !strcmp(ds.iface[3].actual, "direct") &&
	      !strcmp(ds.iface[3].dev, "macvtap4"),
	      "multi: network interface with <actual type='direct'>", "type %s actual %s dev %s",
	      ds.iface[3].type, ds.iface[3].actual, ds.iface[3].dev);
	CHECK(rc == 0 && !mg_iface_guardable(&ds.iface[4]) && !mg_iface_guardable(&ds.iface[5]),
	      "multi: user interface and direct without target are not guardable", "-");
	CHECK(rc == 0 && ds.iface[6].created == 0 && !mg_iface_guardable(&ds.iface[6]) &&
	      ds.iface[7].created == 1 && mg_iface_guardable(&ds.iface[7]),
	      "multi: <privateData><created value='no'/> not guarded, 'yes' guarded", "created %d %d",
	      ds.iface[6].created, ds.iface[7].created);
	CHECK(rc == 0 && ds.iface[8].dev[0] == 0 && !mg_iface_guardable(&ds.iface[8]),
	      "multi: a target name longer than IFNAMSIZ is not resolved", "dev '%s'", ds.iface[8].dev);
	CHECK(rc == 0 && nguardable(&ds) == 5, "multi: five guardable (2 direct, bridge tap, network "
	      "direct, created=yes)", "%zu", nguardable(&ds));

	rc = load("status/network-direct.xml", &ds, err, sizeof(err));
	CHECK(rc == 0 && ds.niface == 1 && !strcmp(ds.iface[0].actual, "direct") &&
	      !strcmp(ds.iface[0].dev, "macvtap12") && mg_iface_guardable(&ds.iface[0]) &&
	      !strcmp(ds.reason, "restored"),
	      "network-backed macvtap", "rc %d %s", rc, err);

	rc = load("status/shutoff.xml", &ds, err, sizeof(err));
	CHECK(rc == 0 && !mg_status_live(&ds) && ds.pid == 0,
	      "shutoff, no pid: not live (nothing is claimed)", "rc %d live %d", rc, mg_status_live(&ds));

	rc = load("status/hook-domain.xml", &ds, err, sizeof(err));
	CHECK(rc == 0 && !ds.is_status && !strcmp(ds.name, "d1") && nguardable(&ds) == 1,
	      "hook XML (<domain> root) parses with its interfaces", "rc %d %s", rc, err);

	static const struct { const char *file, *want; } bad[] = {
		{ "bad/unclosed.xml", "not well-formed" },
		{ "bad/empty.xml", "empty" },
		{ "bad/wrong-root.xml", "root element is <network>" },
		{ "bad/no-name.xml", "without a <name>" },
		{ "bad/bad-pid.xml", "not a pid" },
		{ "bad/no-domain.xml", "without <domain>" },
		{ "bad/garbage.xml", "not well-formed" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[128];
		rc = load(bad[i].file, &ds, err, sizeof(err));
		snprintf(name, sizeof(name), "malformed %s: refused with a message", bad[i].file);
		CHECK(rc == -1 && strstr(err, bad[i].want), name, "rc %d err '%s'", rc, err);
	}
	rc = load("bad/xxe.xml", &ds, err, sizeof(err));
	CHECK(!strstr(ds.name, "root:"), "external entity is never loaded", "name '%s'", ds.name);
	{
		char nul[] = "<domstatus state='running' pid='1'>\0<domain/></domstatus>";
		rc = mg_status_parse(nul, sizeof(nul) - 1, &ds, err, sizeof(err));
		CHECK(rc == -1 && strstr(err, "NUL"), "NUL byte refused", "rc %d %s", rc, err);
		rc = mg_status_parse(NULL, 0, &ds, err, sizeof(err));
		CHECK(rc == -1, "NULL buffer refused", "rc %d", rc);
	}
	/* truncations at every length of a real sample never crash */
	{
		char path[512], *buf;
		size_t len, bad_ok = 0;
		snprintf(path, sizeof(path), "%s/status/multi.xml", dir);
		if (mg_read_file(path, MG_STATUS_MAX_SIZE, &buf, &len) == 0) {
			for (size_t l = 0; l < len; l++)
				if (mg_status_parse(buf, l, &ds, err, sizeof(err)) == -1 || ds.niface <= 9)
					bad_ok++;
			free(buf);
		}
		CHECK(bad_ok == len && len > 0, "every truncation of multi.xml parses or is refused",
		      "%zu of %zu", bad_ok, len);
	}
	/* many interfaces: kept up to the limit, the rest counted */
	{
		size_t cap = 200 * 100 + 200, off = 0;
		char *big = malloc(cap);
		off += (size_t)snprintf(big + off, cap - off, "<domstatus state='running' pid='7'><domain><name>big</name><devices>");
		for (int i = 0; i < 70; i++)
			off += (size_t)snprintf(big + off, cap - off, "<interface type='direct'><target dev='t%d'/></interface>", i);
		off += (size_t)snprintf(big + off, cap - off, "</devices></domain></domstatus>");
		rc = mg_status_parse(big, off, &ds, err, sizeof(err));
		CHECK(rc == 0 && ds.niface == MG_OWN_MAX_IFACES && ds.ntruncated == 70 - MG_OWN_MAX_IFACES,
		      "70 interfaces: 64 kept, 6 counted as truncated", "rc %d n %zu t %zu", rc, ds.niface,
		      ds.ntruncated);
		free(big);
	}
	/* configuration file */
	{
		struct mg_conf c;
		char path[] = "/tmp/mg-conf-test.XXXXXX";
		int fd = mkstemp(path);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (f) {
			fputs("# comment\n status_dir = /srv/libvirt/qemu  # trailing\nmode=audit\n"
			      "watch_status = no\nbogus = 1\nstatus_dir = relative\n", f);
			fclose(f);
		}
		mg_conf_defaults(&c);
		CHECK(!strcmp(c.status_dir, "/run/libvirt/qemu") && !strcmp(c.mode, "enforce") &&
		      c.watch_status, "config defaults", "%s %s", c.status_dir, c.mode);
		rc = mg_conf_load(path, &c);
		CHECK(rc == 0 && !strcmp(c.status_dir, "/srv/libvirt/qemu") && !strcmp(c.mode, "audit") &&
		      !c.watch_status, "config file read; unknown key and relative path ignored",
		      "%s %s %d", c.status_dir, c.mode, c.watch_status);
		unlink(path);
		mg_conf_defaults(&c);
		CHECK(mg_conf_load("/nonexistent/macvguard.conf", &c) == 0 &&
		      !strcmp(c.status_dir, "/run/libvirt/qemu"), "missing config file: defaults", "-");
	}
	printf("%d passed, %d failed\n", pass, failed);
	return failed != 0;
}
