/* `macvguard hook install|uninstall`: the entry HOOKS_DIR/qemu.d/macvguard that libvirtd
 * runs for every qemu hook event; never replaces or removes what is not ours, and says
 * (or does, with --reload) what makes libvirtd read it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "hook.h"
#include "output.h"
#include "util.h"

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
	int c = 0;

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
	if (c == '?' || c == 'h')
		mg_bad_option(argc, argv, "+d:b:rh");
	else if (c == 'b')
		mg_usage_err("--binary is for install only");
	else
		mg_usage_err("unexpected argument '%s'", argv[optind]);
	return -1;
}

/* -j: what was done, one object (docs/json.md) */
static json_object *reloads;

static void print_json(const char *result, const char *path, const char *bin)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "result", json_object_new_string(result));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "binary", bin ? json_object_new_string(bin) : NULL);
	json_object_object_add(o, "reloaded", reloads ? reloads : NULL);
	reloads = NULL;
	mg_json_print(o);
}

static void reload_json(const char *comm, const char *pid, const char *err)
{
	json_object *o = json_object_new_object();

	if (!reloads)
		reloads = json_object_new_array();
	json_object_object_add(o, "comm", json_object_new_string(comm));
	json_object_object_add(o, "pid", json_object_new_int(atoi(pid)));
	json_object_object_add(o, "error", err ? json_object_new_string(err) : NULL);
	json_object_array_add(reloads, o);
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

static const char reload_note[] =
	"libvirtd reads hooks only when it starts or reloads: run "
	"'systemctl reload libvirtd' (or virtqemud) or restart it, or pass --reload.\n";

/* The proc root: /proc, or MACVGUARD_PROC (tests: a made-up process table). */
static const char *proc_root(void)
{
	const char *p = getenv("MACVGUARD_PROC");
	return p && *p ? p : "/proc";
}

/* Reads the first line of PROC/PID/NAME into buf ("" when unreadable). */
static void proc_line(const char *pid, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "%s/%s/%s", proc_root(), pid, name);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(buf, (int)size, f))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

/* systemd is the init system (sd_booted()'s test, or PID 1 is systemd). */
static int systemd_runs(void)
{
	char comm[64];
	struct stat st;

	if (!getenv("MACVGUARD_PROC") && !lstat("/run/systemd/system", &st) && S_ISDIR(st.st_mode))
		return 1;
	proc_line("1", "comm", comm, sizeof(comm));
	return !strcmp(comm, "systemd");
}

/* The daemon runs as its systemd unit COMM.service: a cgroup line ends in that name. */
static int in_unit(const char *pid, const char *unit)
{
	char path[PATH_MAX], line[1024];
	size_t ul = strlen(unit);
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/%s/cgroup", proc_root(), pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		size_t l = strcspn(line, "\n");
		line[l] = 0;
		found = l > ul && line[l - ul - 1] == '/' && !strcmp(line + l - ul, unit);
	}
	fclose(f);
	return found;
}

/* systemctl reload UNIT; 0 when it exited 0. */
static int systemctl_reload(const char *unit)
{
	const char *sc = getenv("MACVGUARD_SYSTEMCTL");
	int status;
	pid_t p;

	if (!sc || !*sc)
		sc = access("/usr/bin/systemctl", X_OK) ? "/bin/systemctl" : "/usr/bin/systemctl";
	fflush(stdout);
	p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execl(sc, "systemctl", "reload", unit, (char *)NULL);
		_exit(127);
	}
	if (waitpid(p, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* libvirt discovers hook scripts at daemon start and on reload: `systemctl reload` of the
 * daemon's unit where systemd runs it (so systemd knows, and ExecReload applies), else
 * SIGHUP. Whichever QEMU daemon runs: monolithic libvirtd or modular virtqemud. */
static void reload_or_say(void)
{
	DIR *d;
	struct dirent *e;
	int found = 0, sd;

	if (!want_reload) {
		if (!mg_json)
			fputs(reload_note, stdout);
		return;
	}
	sd = systemd_runs();
	d = opendir(proc_root());
	if (mg_json)
		reloads = json_object_new_array();
	while (d && (e = readdir(d))) {
		char comm[64], unit[80];
		pid_t pid;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		proc_line(e->d_name, "comm", comm, sizeof(comm));
		if (strcmp(comm, "libvirtd") && strcmp(comm, "virtqemud"))
			continue;
		found++;
		pid = (pid_t)atoi(e->d_name);
		snprintf(unit, sizeof(unit), "%s.service", comm);
		if (sd && in_unit(e->d_name, unit)) {
			if (!systemctl_reload(unit)) {
				if (mg_json)
					reload_json(comm, e->d_name, NULL);
				else
					printf("reloaded %s (pid %d, systemctl reload %s): it now runs the hook\n",
					       comm, (int)pid, unit);
				continue;
			}
			if (!mg_json)
				printf("systemctl reload %s failed: sending SIGHUP instead\n", unit);
		}
		if (kill(pid, SIGHUP)) {
			if (mg_json)
				reload_json(comm, e->d_name, strerror(errno));
			else
				printf("could not reload %s (pid %d): %s\n", comm, (int)pid, strerror(errno));
		} else if (mg_json) {
			reload_json(comm, e->d_name, NULL);
		} else {
			printf("reloaded %s (pid %d, SIGHUP): it now runs the hook\n", comm, (int)pid);
		}
	}
	if (d)
		closedir(d);
	if (!found && !mg_json)
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
			mg_err("hook install: cannot find my own binary: %s",
				strerror(errno));
			return 1;
		}
		self[l] = 0;
		bin = self;
	}
	if (bin[0] != '/' || strpbrk(bin, "'\n")) {
		mg_err("hook install: binary path must be absolute and "
			"contain no quote or newline: %s", bin);
		return 2;
	}
	{
		/* the entry would silently do nothing with a binary that is not there */
		struct stat bs;
		errno = 0;
		if (stat(bin, &bs) || !S_ISREG(bs.st_mode) || access(bin, X_OK)) {
			mg_err("hook install: --binary %s: %s", bin,
			       errno ? strerror(errno) : "not an executable file");
			return 2;
		}
	}
	{
		/* A --hooks-dir that is missing means a typo: never created silently. The
		 * default one is created when libvirt is installed (/etc/libvirt exists) and
		 * has none yet, as Debian 12's libvirt 9.0 ships it. */
		struct stat ds;
		errno = 0;
		if (!strcmp(dir, MG_HOOK_DEFAULT_DIR) && stat(dir, &ds) && errno == ENOENT &&
		    !stat("/etc/libvirt", &ds) && S_ISDIR(ds.st_mode) && mkdir(dir, 0755) == 0)
			mg_info("hook install: created %s (libvirt's hooks directory)", dir);
		errno = 0;
		if (stat(dir, &ds) || !S_ISDIR(ds.st_mode)) {
			mg_err("hook install: --hooks-dir %s: %s", dir,
			       errno ? strerror(errno) : "not a directory");
			return 2;
		}
	}
	if (snprintf(qdir, sizeof(qdir), "%s/qemu.d", dir) >= (int)sizeof(qdir) ||
	    snprintf(path, sizeof(path), "%s/%s", qdir, MG_HOOK_ENTRY) >= (int)sizeof(path)) {
		mg_err("hook install: path too long");
		return 2;
	}
	state = ours(path);
	if (state == 0) {
		mg_err("hook install: %s exists and was not written by "
			"macvguard; leaving it alone", path);
		return 1;
	}
	if (mkdir(qdir, 0755) && errno != EEXIST) {
		mg_err("hook install: cannot create %s: %s", qdir,
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
	if (fd < 0 || mg_write_all(fd, script, (size_t)n) || fchmod(fd, 0755) || close(fd)) {
		mg_err("hook install: cannot write %s: %s", tmp,
			strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return 1;
	}
	/* re-check right before the rename: never replace what is not ours */
	if (ours(path) == 0 || rename(tmp, path)) {
		mg_err("hook install: not replacing %s", path);
		unlink(tmp);
		return 1;
	}
	if (!mg_json)
		printf("%s %s (runs %s hook qemu ...)\n", state == 1 ? "updated" : "installed", path,
		       bin);
	reload_or_say();
	if (mg_json)
		print_json(state == 1 ? "updated" : "installed", path, bin);
	return mg_stdout_status();
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
		mg_err("hook uninstall: path too long");
		return 2;
	}
	state = ours(path);
	if (state < 0) {
		if (mg_json)
			print_json("absent", path, NULL);
		else
			printf("nothing to remove: %s does not exist\n", path);
		return mg_stdout_status();
	}
	if (state == 0) {
		mg_err("hook uninstall: %s was not written by macvguard; "
			"leaving it alone", path);
		return 1;
	}
	if (unlink(path)) {
		mg_err("hook uninstall: cannot remove %s: %s", path,
			strerror(errno));
		return 1;
	}
	if (!mg_json)
		printf("removed %s\n", path);
	reload_or_say();
	if (mg_json)
		print_json("removed", path, NULL);
	return mg_stdout_status();
}
