/* The libvirt hook: `macvguard hook qemu DOMAIN OP SUBOP EXTRA`, run by libvirtd as
 * /etc/libvirt/hooks/qemu.d/macvguard with the domain XML on stdin, and
 * `macvguard hook install|uninstall` that manage that entry.
 *
 * The hook never fails a libvirt operation because of its own trouble: whatever goes
 * wrong is logged (syslog, ident macvguard-hook; and the file named by
 * $MACVGUARD_HOOK_LOG when set), nothing is printed and the exit code is 0. For
 * migrate and restore, libvirt takes non-empty stdout as the replacement XML (and
 * taints the domain), so the sanitized document is printed only when the rule
 * removed something. See docs/xml-rules.md. */
#include "hook.h"
#include "ownership.h"
#include "teardown.h"
#include "xml_cmd.h"
#include "xmlrules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <bpf/bpf.h>

/* ---- logging ------------------------------------------------------------------- */

void hook_log(int prio, const char *fmt, ...)
{
	char msg[1024];
	const char *path = getenv("MACVGUARD_HOOK_LOG");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	openlog("macvguard-hook", LOG_PID, LOG_DAEMON);
	syslog(prio, "%s", msg);
	closelog();
	if (path && *path) {
		int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd >= 0) {
			char line[1100];
			int n = snprintf(line, sizeof(line), "macvguard-hook[%d]: %s\n",
					 (int)getpid(), msg);
			if (n > 0 && write(fd, line, (size_t)n) < 0) {
				/* nowhere left to report it */
			}
			close(fd);
		}
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- qemu hook ------------------------------------------------------------------ */

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
	env = getenv("MACVGUARD_XML_MAX_SIZE");
	if (env && mg_parse_size(env, &o.max_size))
		hook_log(LOG_WARNING, "ignoring bad MACVGUARD_XML_MAX_SIZE '%s'", env);
	env = getenv("MACVGUARD_XML_PREFIXES"); /* comma separated, e.g. "vif" */
	if (env && *env && (prefixes = strdup(env))) {
		char *save = NULL;
		for (char *t = strtok_r(prefixes, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (*t && mg_xml_add_prefix(&o, t))
				hook_log(LOG_WARNING, "too many prefixes, ignoring '%s'", t);
	}

	rc = mg_read_fd(STDIN_FILENO, o.max_size, 1, &buf, &len);
	if (rc) {
		hook_log(LOG_ERR, "%s %s: left the XML unchanged: %s", h->domain, h->op,
			 rc > 0 ? "input larger than the size limit" : strerror(errno));
		mg_hook_journal(h->domain, h->op, h->subop, h->extra, NULL, 0, NULL);
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
		if (write_all(STDOUT_FILENO, r.out, r.out_len)) {
			hook_log(LOG_ERR, "%s %s: writing the XML failed: %s", h->domain, h->op,
				 strerror(errno));
		} else {
			for (size_t i = 0; i < r.nfindings; i++)
				hook_log(LOG_NOTICE,
					 "%s %s: removed generated target dev '%s' "
					 "(interface type '%s', mac '%s')",
					 h->domain, h->op, r.findings[i].dev, r.findings[i].iftype,
					 r.findings[i].mac);
		}
	}
	mg_hook_journal(h->domain, h->op, h->subop, h->extra, buf, len,
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
	static struct mg_conf conf;
	const char *env = getenv("MACVGUARD_STATUS_DIR");

	if (env && env[0] == '/')
		return env;
	mg_conf_defaults(&conf);
	mg_conf_load(getenv("MACVGUARD_CONF") ? getenv("MACVGUARD_CONF") : MG_DEFAULT_CONF, &conf);
	return conf.status_dir;
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

	rc = mg_read_fd(STDIN_FILENO, MG_STATUS_MAX_SIZE, 1, &buf, &len);
	if (rc) {
		hook_log(LOG_ERR, "%s %s: cannot read the domain XML: %s", h->domain, h->op,
			 rc > 0 ? "larger than the size limit" : strerror(errno));
		return 0;
	}
	if (open_maps(h, &m))
		goto out;
	ds = malloc(sizeof(*ds));
	if (!ds)
		goto out_maps;
	if (mg_status_parse(buf, len, ds, err, sizeof(err))) {
		hook_log(LOG_ERR, "%s %s: domain XML skipped: %s", h->domain, h->op, err);
		goto out_maps;
	}
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
	/* the journal record gets the XML we consumed from stdin (uuid, target names) */
	mg_hook_journal(h->domain, h->op, h->subop, h->extra, buf, len, NULL);
	free(ds);
	free(buf);
	return 0;
}

/* stopped: this libvirtd worker thread is about to tear the domain down (and send the
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
	else
		hook_log(LOG_INFO, "%s %s: teardown by libvirtd pid %u thread %u", h->domain,
			 h->op, tgid, tid);
	close(fd);
	return 0;
}

/* release: the teardown is over; the domain's links are no longer its. */
static int op_release(const struct hook_ctx *h)
{
	struct mg_own_maps m;
	int fd = mg_teardown_open(false);

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
	{ "prepare", NULL },
	{ "start", NULL },
	{ "started", op_claim },
	{ "stopped", op_stopped },
	{ "release", op_release },
	{ "migrate", op_filter_xml },
	{ "restore", op_filter_xml },
	{ "reconnect", op_claim },
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

/* ---- install / uninstall ---------------------------------------------------------- */

static const struct option inst_opts[] = {
	{ "hooks-dir", required_argument, NULL, 'd' },
	{ "binary", required_argument, NULL, 'b' },
	{ "reload", no_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int want_reload;

static int inst_args(int argc, char **argv, int install, const char **dir, const char **bin)
{
	int c;

	*dir = MG_HOOK_DEFAULT_DIR;
	*bin = NULL;
	want_reload = 0;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+d:b:rh", inst_opts, NULL)) != -1) {
		switch (c) {
		case 'd': *dir = optarg; break;
		case 'r': want_reload = 1; break;
		case 'b':
			if (!install)
				goto usage;
			*bin = optarg;
			break;
		case 'h':
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	return 0;
usage:
	fprintf(stderr, "usage: macvguard hook %s [--hooks-dir DIR]%s [--reload]\n",
		install ? "install" : "uninstall", install ? " [--binary PATH]" : "");
	return -1;
}

/* 1: the file at path is ours (carries the marker), 0: someone else's, -1: absent */
static int ours(const char *path)
{
	struct stat st;
	char buf[4096];
	ssize_t n;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? -1 : 0;
	if (!S_ISREG(st.st_mode))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, "\n" MG_HOOK_MARKER "\n") != NULL;
}

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static const char reload_note[] =
	"libvirtd reads hooks only when it starts or reloads: run "
	"'systemctl reload libvirtd' (or virtqemud) or restart it, or pass --reload.\n";

/* libvirt discovers hook scripts at daemon start and on SIGHUP (reload). */
static void reload_or_say(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	if (!want_reload) {
		fputs(reload_note, stdout);
		return;
	}
	while (d && (e = readdir(d))) {
		char path[300], comm[64] = "";
		FILE *f;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
		if (strcmp(comm, "libvirtd") && strcmp(comm, "virtqemud"))
			continue;
		found++;
		if (kill(atoi(e->d_name), SIGHUP))
			printf("could not reload %s (pid %s): %s\n", comm, e->d_name, strerror(errno));
		else
			printf("reloaded %s (pid %s, SIGHUP): it now runs the hook\n", comm, e->d_name);
	}
	if (d)
		closedir(d);
	if (!found)
		printf("no libvirtd or virtqemud running: it reads the hook when it starts\n");
}

int mg_hook_install(int argc, char **argv)
{
	const char *dir, *bin;
	char self[PATH_MAX], qdir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 16];
	char script[PATH_MAX * 2 + 1024];
	int n, fd, state;

	if (inst_args(argc, argv, 1, &dir, &bin))
		return 2;
	if (!bin) {
		ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (l <= 0) {
			fprintf(stderr, "macvguard: hook install: cannot find my own binary: %s\n",
				strerror(errno));
			return 1;
		}
		self[l] = 0;
		bin = self;
	}
	if (bin[0] != '/' || strpbrk(bin, "'\n")) {
		fprintf(stderr, "macvguard: hook install: binary path must be absolute and "
				"contain no quote or newline: %s\n", bin);
		return 2;
	}
	if (snprintf(qdir, sizeof(qdir), "%s/qemu.d", dir) >= (int)sizeof(qdir) ||
	    snprintf(path, sizeof(path), "%s/%s", qdir, MG_HOOK_ENTRY) >= (int)sizeof(path)) {
		fprintf(stderr, "macvguard: hook install: path too long\n");
		return 2;
	}
	state = ours(path);
	if (state == 0) {
		fprintf(stderr, "macvguard: hook install: %s exists and was not written by "
				"macvguard; leaving it alone\n", path);
		return 1;
	}
	if (mkdir_p(qdir)) {
		fprintf(stderr, "macvguard: hook install: cannot create %s: %s\n", qdir,
			strerror(errno));
		return 1;
	}
	n = snprintf(script, sizeof(script),
		     "#!/bin/sh\n"
		     MG_HOOK_MARKER "\n"
		     "# ('macvguard hook uninstall' removes it). libvirtd runs it for every qemu\n"
		     "# hook event with the domain XML on stdin; see docs/xml-rules.md.\n"
		     "# A missing binary must never fail a migration: swallow stdin, succeed.\n"
		     "bin='%s'\n"
		     "if [ -x \"$bin\" ]; then exec \"$bin\" hook qemu \"$@\"; fi\n"
		     "cat >/dev/null 2>&1\n"
		     "exit 0\n", bin);
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (fd < 0 || write_all(fd, script, (size_t)n) || fchmod(fd, 0755) || close(fd)) {
		fprintf(stderr, "macvguard: hook install: cannot write %s: %s\n", tmp,
			strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return 1;
	}
	/* re-check right before the rename: never replace what is not ours */
	if (ours(path) == 0 || rename(tmp, path)) {
		fprintf(stderr, "macvguard: hook install: not replacing %s\n", path);
		unlink(tmp);
		return 1;
	}
	printf("%s %s (runs %s hook qemu ...)\n", state == 1 ? "updated" : "installed", path,
	       bin);
	reload_or_say();
	return 0;
}

int mg_hook_uninstall(int argc, char **argv)
{
	const char *dir, *bin;
	char path[PATH_MAX];
	int state;

	if (inst_args(argc, argv, 0, &dir, &bin))
		return 2;
	if (snprintf(path, sizeof(path), "%s/qemu.d/%s", dir, MG_HOOK_ENTRY) >=
	    (int)sizeof(path)) {
		fprintf(stderr, "macvguard: hook uninstall: path too long\n");
		return 2;
	}
	state = ours(path);
	if (state < 0) {
		printf("nothing to remove: %s does not exist\n", path);
		return 0;
	}
	if (state == 0) {
		fprintf(stderr, "macvguard: hook uninstall: %s was not written by macvguard; "
				"leaving it alone\n", path);
		return 1;
	}
	if (unlink(path)) {
		fprintf(stderr, "macvguard: hook uninstall: cannot remove %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	printf("removed %s\n", path);
	reload_or_say();
	return 0;
}

int mg_cmd_hook(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "qemu"))
		return mg_hook_qemu(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "install"))
		return mg_hook_install(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "uninstall"))
		return mg_hook_uninstall(argc - 1, argv + 1);
	fprintf(stderr, "usage: macvguard hook qemu DOMAIN OP SUBOP EXTRA  (as libvirtd runs it)\n"
			"       macvguard hook install [--hooks-dir DIR] [--binary PATH]\n"
			"       macvguard hook uninstall [--hooks-dir DIR]\n");
	return 2;
}

/* ---- input reading, shared with `macvguard xml` ------------------------------------ */

int mg_read_fd(int fd, size_t max, int drain, char **buf, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *p = NULL, sink[65536];
	struct stat st;

	*buf = NULL;
	*len = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((unsigned long long)st.st_size > max)
			goto too_big;
		cap = (size_t)st.st_size + 1;
	}
	p = malloc(cap);
	if (!p)
		return -1;
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *q;
			if (cap > max + 1) {
				free(p);
				p = NULL;
				goto too_big;
			}
			cap *= 2;
			q = realloc(p, cap);
			if (!q) {
				free(p);
				return -1;
			}
			p = q;
		}
		r = read(fd, p + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(p);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(p);
			p = NULL;
			goto too_big;
		}
	}
	p[n] = 0;
	*buf = p;
	*len = n;
	return 0;
too_big:
	while (drain) {
		ssize_t r = read(fd, sink, sizeof(sink));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
	}
	return 1;
}

int mg_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	int unit = 0;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'K': case 'k': v <<= 10; unit = 1; end++; break;
	case 'M': case 'm': v <<= 20; unit = 1; end++; break;
	case 'G': case 'g': v <<= 30; unit = 1; end++; break;
	}
	if (unit && *end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end || v == 0 || v > (1ull << 31))
		return -1;
	*out = (size_t)v;
	return 0;
}
