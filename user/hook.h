/* The libvirt hook (`macvguard hook qemu ...`) and its install/uninstall, plus the
 * input reading `macvguard xml` shares with it. */
#ifndef MG_HOOK_H
#define MG_HOOK_H
#include <stddef.h>

/* `macvguard hook qemu DOMAIN OP SUBOP EXTRA`: argv[0] is "qemu". Always returns 0. */
int mg_hook_qemu(int argc, char **argv);
int mg_hook_install(int argc, char **argv);   /* argv[0] = "install" */
int mg_hook_uninstall(int argc, char **argv); /* argv[0] = "uninstall" */

/* Name of the entry in HOOKS_DIR/qemu.d/ and the marker line that proves it is ours. */
#define MG_HOOK_ENTRY  "macvguard"
#define MG_HOOK_MARKER "# macvguard-hook: written by 'macvguard hook install'"
#define MG_HOOK_DEFAULT_DIR "/etc/libvirt/hooks"

/* Reads all of fd into *buf (NUL-terminated). More than max bytes: returns 1 with
 * *buf NULL and, when drain is set, goes on reading (and discarding) to EOF so the
 * writer never sees EPIPE. 0 on success, -1 on a read error (errno set). */
int mg_read_fd(int fd, size_t max, int drain, char **buf, size_t *len);

/* Parses "16M", "512K", "16MiB", "1048576" into bytes (1 .. 2 GiB); -1 otherwise. */
int mg_parse_size(const char *s, size_t *out);

/* The hook's log (syslog ident macvguard-hook, and $MACVGUARD_HOOK_LOG). */
void hook_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Journal record of one hook call (user/hook_journal.c); xml NULL: read stdin briefly
 * (ops other than migrate/restore); r: the rule's result, for the stripped names. */
struct mg_xml_result;
void mg_hook_journal(const char *domain, const char *op, const char *subop, const char *extra,
		     const char *xml, size_t len, const struct mg_xml_result *r);
/* The same, reading stdin, unless this process has written its hook record already. */
void mg_hook_journal_once(const char *domain, const char *op, const char *subop,
			  const char *extra);

#endif
