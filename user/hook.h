/* The libvirt hook: `macvguard hook qemu DOMAIN OP SUBOP EXTRA` (hook.c) and the entry
 * that makes libvirtd run it (hook_install.c). */
#ifndef MG_HOOK_H
#define MG_HOOK_H

/* argv[0] is "qemu". Always returns 0: the hook never fails a libvirt operation. */
int mg_hook_qemu(int argc, char **argv);
int mg_hook_install(int argc, char **argv);   /* argv[0] = "install" */
int mg_hook_uninstall(int argc, char **argv); /* argv[0] = "uninstall" */

/* Name of the entry in HOOKS_DIR/qemu.d/ and the marker line that proves it is ours. */
#define MG_HOOK_ENTRY  "macvguard"
#define MG_HOOK_MARKER "# macvguard-hook: written by 'macvguard hook install'"
#define MG_HOOK_DEFAULT_DIR "/etc/libvirt/hooks"

#endif
