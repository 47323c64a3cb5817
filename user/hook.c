/* The libvirt hook: `macvguard hook qemu DOMAIN OP SUBOP EXTRA`, run by libvirtd as
 * /etc/libvirt/hooks/qemu.d/macvguard (hook_install.c writes it) with the domain XML on
 * stdin.
 *
 * The hook never fails a libvirt operation because of its own trouble: whatever goes
 * wrong is logged (syslog, ident macvguard-hook; and the file named by
 * $MACVGUARD_HOOK_LOG when set), nothing is printed and the exit code is 0. For
 * migrate and restore, libvirt takes non-empty stdout as the replacement XML (and
 * taints the domain), so the sanitized document is printed only when the rule
 * removed something. See docs/xml-rules.md. */
#include "config.h"
#include "hook.h"
#include "hook_journal.h"
#include "hook_log.h"
#include "ownership.h"
#include "paths.h"
#include "start_window.h"
#include "teardown.h"
#include "util.h"
#include "xmlrules.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

/* ---- qemu hook ------------------------------------------------------------------ */

/* libvirt must never wait on macvguard: every read of stdin gives up after this long
 * (libvirt writes the whole XML at once; a writer that never closes is not waited for). */
#define MG_HOOK_STDIN_MS 3000
#define MG_HOOK_LOG_FINDINGS 32

struct hook_ctx {
	const char *domain, *op, *subop, *extra;
};

/* migrate / restore: the XML arrives on stdin; print the sanitized XML only when the
 * rule removed something. */
static int op_filter_xml(const struct hook_ctx *h)
{
	struct mg_xml_opts o;
	struct mg_xml_result r;
	char *buf = NULL, *prefixes = NULL;
	size_t len = 0;
	const char *env;
	int rc;

	mg_xml_opts_init(&o);
	o.mode = MG_XML_MIGRATABLE;
	if (mg_conf()->xml_max_size)
		o.max_size = mg_conf()->xml_max_size;
	env = mg_conf()->xml_prefixes; /* comma separated, e.g. "vif" */
	if (*env && (prefixes = strdup(env))) {
		char *save = NULL;
		for (char *t = strtok_r(prefixes, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (*t && mg_xml_add_prefix(&o, t))
				hook_log(LOG_WARNING, "too many prefixes, ignoring '%s'", t);
	}

	rc = mg_read_fd(STDIN_FILENO, o.max_size, MG_HOOK_STDIN_MS, MG_READ_DRAIN, &buf, &len);
	if (rc) {
		hook_log(LOG_ERR, "%s %s: left the XML unchanged: %s", h->domain, h->op,
			 rc > 0 ? "input larger than the size limit" : strerror(-rc));
		mg_hook_journal(h->domain, h->op, h->subop, h->extra, NULL, 0, NULL, NULL);
		free(prefixes);
		return 0;
	}
	if (mg_xml_sanitize(buf, len, &o, &r)) {
		if (r.err_line)
			hook_log(LOG_ERR, "%s %s: left the XML unchanged: <stdin>:%ld:%ld: %s",
				 h->domain, h->op, r.err_line, r.err_col, r.err);
		else
			hook_log(LOG_ERR, "%s %s: left the XML unchanged: %s", h->domain,
				 h->op, r.err);
	} else if (r.root != MG_XML_ROOT_DOMAIN) {
		hook_log(LOG_WARNING, "%s %s: root is not <domain>; left unchanged",
			 h->domain, h->op);
	} else if (r.changed) {
		if (mg_write_all(STDOUT_FILENO, r.out, r.out_len)) {
			hook_log(LOG_ERR, "%s %s: writing the XML failed: %s", h->domain, h->op,
				 strerror(errno));
		} else {
			/* a line per finding, up to a bound: a crafted XML with thousands
			 * must not keep libvirt waiting on the log */
			for (size_t i = 0; i < r.nfindings && i < MG_HOOK_LOG_FINDINGS; i++)
				hook_log(LOG_NOTICE,
					 "%s %s: removed generated target dev '%s' "
					 "(interface type '%s', mac '%s')",
					 h->domain, h->op, r.findings[i].dev, r.findings[i].iftype,
					 r.findings[i].mac);
			if (r.nfindings > MG_HOOK_LOG_FINDINGS)
				hook_log(LOG_NOTICE, "%s %s: and %zu more generated target devs removed",
					 h->domain, h->op, r.nfindings - MG_HOOK_LOG_FINDINGS);
		}
	}
	mg_hook_journal(h->domain, h->op, h->subop, h->extra, buf, len, NULL,
			(r.out && r.root == MG_XML_ROOT_DOMAIN) ? &r : NULL);
	mg_xml_result_free(&r);
	free(buf);
	free(prefixes);
	return 0;
}

/* ---- ownership ops: they talk to the pinned maps directly (no agent needed) ------- */

static void own_log(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void own_log(void *ctx, const char *fmt, ...)
{
	const struct hook_ctx *h = ctx;
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hook_log(LOG_INFO, "%s %s: %s", h->domain, h->op, msg);
}

static const char *status_dir(void)
{
	return mg_conf()->status_dir;   /* read by main: file, then $MACVGUARD_STATUS_DIR */
}

/* The guarded/counts maps of a running (or earlier) agent of this ABI; -1 when absent. */
static int open_maps(const struct hook_ctx *h, struct mg_own_maps *m)
{
	struct mg_config cfg = {};
	__u32 zero = 0;
	int cfd;

	m->guarded_fd = m->counts_fd = -1;
	cfd = bpf_obj_get(MG_PIN_DIR "/mg_config");
	if (cfd < 0) {
		hook_log(LOG_NOTICE, "%s %s: no macvguard state under %s (agent never ran): "
			 "nothing recorded", h->domain, h->op, MG_PIN_DIR);
		return -1;
	}
	if (bpf_map_lookup_elem(cfd, &zero, &cfg) || cfg.abi_version != MG_ABI_VERSION) {
		hook_log(LOG_WARNING, "%s %s: pinned state has ABI %u, this hook speaks %u: "
			 "nothing recorded", h->domain, h->op, cfg.abi_version, MG_ABI_VERSION);
		close(cfd);
		return -1;
	}
	close(cfd);
	m->guarded_fd = bpf_obj_get(MG_PIN_DIR "/mg_guarded");
	m->counts_fd = bpf_obj_get(MG_PIN_DIR "/mg_counts");
	if (m->guarded_fd < 0) {
		hook_log(LOG_WARNING, "%s %s: cannot open %s/mg_guarded: %s", h->domain, h->op,
			 MG_PIN_DIR, strerror(errno));
		if (m->counts_fd >= 0)
			close(m->counts_fd);
		return -1;
	}
	return 0;
}

static void close_maps(struct mg_own_maps *m)
{
	if (m->guarded_fd >= 0)
		close(m->guarded_fd);
	if (m->counts_fd >= 0)
		close(m->counts_fd);
}

/* started / reconnect: the domain XML (with <target dev>) on stdin, QEMU's pid in the
 * pid file beside the status file: tag now, before the status-file watcher would. */
static int op_claim(const struct hook_ctx *h)
{
	struct mg_domstatus *ds = NULL;
	struct mg_own_maps m;
	char *buf = NULL, err[256];
	size_t len = 0;
	uint32_t pid;
	int rc;

	rc = mg_read_fd(STDIN_FILENO, MG_STATUS_MAX_SIZE, MG_HOOK_STDIN_MS, MG_READ_DRAIN, &buf,
			&len);
	if (rc) {
		hook_log(LOG_ERR, "%s %s: cannot read the domain XML: %s", h->domain, h->op,
			 rc > 0 ? "larger than the size limit" : strerror(-rc));
		return 0;
	}
	ds = malloc(sizeof(*ds));
	if (ds && mg_status_parse(buf, len, ds, err, sizeof(err))) {
		hook_log(LOG_ERR, "%s %s: domain XML skipped: %s", h->domain, h->op, err);
		free(ds);
		ds = NULL;
	}
	if (!ds || open_maps(h, &m))
		goto out;
	if (strcmp(ds->name, h->domain)) {
		hook_log(LOG_WARNING, "%s %s: XML names domain '%s': skipped", h->domain, h->op,
			 ds->name);
		goto out_maps;
	}
	pid = mg_own_pidfile(status_dir(), h->domain);
	if (!pid) {
		hook_log(LOG_WARNING, "%s %s: no QEMU pid in %s/%s.pid: the status-file watcher "
			 "will tag", h->domain, h->op, status_dir(), h->domain);
		goto out_maps;
	}
	mg_own_claim(&m, ds, pid, MG_SRC_HOOK, own_log, (void *)h);
out_maps:
	close_maps(&m);
out:
	/* the journal record gets what the XML we consumed from stdin names */
	mg_hook_journal(h->domain, h->op, h->subop, h->extra, buf, len, ds, NULL);
	free(ds);
	free(buf);
	return 0;
}

/* stopped: this libvirtd/virtqemud worker thread is about to tear the domain down (and send the
 * RTM_DELLINKs): record it so guard events name the domain being torn down. */
static int op_stopped(const struct hook_ctx *h)
{
	uint32_t tgid = (uint32_t)getppid(), tid;
	int fd = mg_teardown_open(false);

	if (fd < 0) {
		hook_log(LOG_NOTICE, "%s %s: no %s (agent never ran): teardown not recorded",
			 h->domain, h->op, MG_TEARDOWN_PIN);
		return 0;
	}
	tid = mg_forking_thread(tgid, (uint32_t)getpid());
	if (mg_teardown_begin(fd, h->domain, NULL, tgid, tid))
		hook_log(LOG_WARNING, "%s %s: cannot record the teardown: %s", h->domain, h->op,
			 strerror(errno));
	else {
		/* the daemon that runs hooks: libvirtd, or virtqemud with the modular daemons */
		char path[64], comm[32] = "";
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%u/comm", tgid);
		f = fopen(path, "re");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = 0;
			comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		hook_log(LOG_INFO, "%s %s: teardown by %s pid %u thread %u", h->domain,
			 h->op, comm[0] ? comm : "libvirtd", tgid, tid);
	}
	close(fd);
	return 0;
}

/* prepare begin / start begin: this worker thread starts the domain: open its start
 * window, so what the thread creates is claimed for the domain (start_window.h). `start
 * begin` keeps the window `prepare begin` opened (and opens one if it did not). */
static int op_start_window(const struct hook_ctx *h)
{
	uint32_t tgid = (uint32_t)getppid(), tid;
	uint64_t now = mg_now_boot_ns();
	int fd, cfd;
	bool kept;

	if (strcmp(h->subop, "begin"))
		return 0;
	fd = mg_start_open(false);
	if (fd < 0) {
		hook_log(LOG_NOTICE, "%s %s: no %s (agent never ran): start window not recorded",
			 h->domain, h->op, MG_START_PIN);
		return 0;
	}
	cfd = mg_claims_open(false);
	mg_start_prune(fd, cfd, now, NULL);      /* windows of a daemon that is gone */
	tid = mg_forking_thread(tgid, (uint32_t)getpid());
	if (!tid)
		hook_log(LOG_WARNING, "%s %s: the daemon thread that runs the hook was not found: "
			 "no start window", h->domain, h->op);
	else if (mg_start_begin(fd, h->domain, tgid, tid, now, &kept))
		hook_log(LOG_WARNING, "%s %s: cannot record the start window: %s", h->domain,
			 h->op, strerror(errno));
	else
		hook_log(LOG_INFO, "%s %s: start window %s: pid %u thread %u", h->domain, h->op,
			 kept ? "kept" : "opened", tgid, tid);
	if (cfd >= 0)
		close(cfd);
	close(fd);
	return 0;
}

/* The start is over (started) or abandoned (release): close the domain's start window
 * and drop its creation claims. */
static void close_start_window(const struct hook_ctx *h)
{
	int fd = mg_start_open(false), cfd = mg_claims_open(false);
	int n = fd >= 0 ? mg_start_end(fd, cfd, h->domain) : 0;

	if (n > 0)
		hook_log(LOG_INFO, "%s %s: start window closed", h->domain, h->op);
	if (fd >= 0)
		mg_start_prune(fd, cfd, mg_now_boot_ns(), NULL);
	if (cfd >= 0)
		close(cfd);
	if (fd >= 0)
		close(fd);
}

/* started: tag (op_claim), then the start window's claims are no longer needed. */
static int op_started(const struct hook_ctx *h)
{
	op_claim(h);
	close_start_window(h);
	return 0;
}

/* reconnect (the daemon restarted): windows of the old daemon go. */
static int op_reconnect(const struct hook_ctx *h)
{
	int fd = mg_start_open(false), cfd = mg_claims_open(false);

	if (fd >= 0)
		mg_start_prune(fd, cfd, mg_now_boot_ns(), NULL);
	if (cfd >= 0)
		close(cfd);
	if (fd >= 0)
		close(fd);
	return op_claim(h);
}

/* release: the teardown is over; the domain's links are no longer its. */
static int op_release(const struct hook_ctx *h)
{
	struct mg_own_maps m;
	int fd = mg_teardown_open(false);

	close_start_window(h);
	if (fd >= 0) {
		mg_teardown_end(fd, h->domain);
		close(fd);
	}
	if (open_maps(h, &m) == 0) {
		mg_own_drop(&m, h->domain, NULL, "domain released", own_log, (void *)h);
		close_maps(&m);
	}
	return 0;
}

/* One entry per qemu hook operation libvirt knows (docs/hooks.rst). NULL: nothing to
 * do. Unknown operations are ignored as well. */
static const struct {
	const char *op;
	int (*fn)(const struct hook_ctx *h);
} qemu_ops[] = {
	{ "prepare", op_start_window },
	{ "start", op_start_window },
	{ "started", op_started },
	{ "stopped", op_stopped },
	{ "release", op_release },
	{ "migrate", op_filter_xml },
	{ "restore", op_filter_xml },
	{ "reconnect", op_reconnect },
	{ "attach", op_claim },
};

/* Even a crash of ours must not fail the libvirt operation: nothing has been written
 * to stdout before the very end, so leaving with 0 means "XML unchanged". */
static void crash_exit(int sig)
{
	static const char m[] = "macvguard-hook: fatal signal, XML left unchanged\n";
	(void)sig;
	if (write(STDERR_FILENO, m, sizeof(m) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(0);
}

int mg_hook_qemu(int argc, char **argv)
{
	struct hook_ctx h = { "-", "-", "-", "-" };
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], crash_exit);

	if (argc < 3) {
		hook_log(LOG_WARNING, "called with %d argument(s), expected DOMAIN OP SUBOP EXTRA",
			 argc - 1);
		return 0;
	}
	h.domain = argv[1];
	h.op = argv[2];
	if (argc > 3) h.subop = argv[3];
	if (argc > 4) h.extra = argv[4];
	for (size_t i = 0; i < sizeof(qemu_ops) / sizeof(qemu_ops[0]); i++)
		if (!strcmp(h.op, qemu_ops[i].op) && qemu_ops[i].fn) {
			qemu_ops[i].fn(&h);
			break;
		}
	/* one journal record per call, whatever the op did (op_filter_xml writes its own,
	 * with the XML's names) */
	mg_hook_journal_once(h.domain, h.op, h.subop, h.extra);
	return 0;
}

