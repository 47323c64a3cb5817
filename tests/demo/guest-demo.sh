#!/bin/bash
# The demo's guest half (see tests/demo/demo.sh). Narrates; exits non-zero if the demo did
# not show what it promises.
set -u
. "$MG_ROOT/tests/guest/libvirt-lib.sh"
say() { echo; echo "=== $*"; }
note() { echo "    $*"; }
bad=0
cleanup() { agent_stop; virsh -q destroy d1 >/dev/null 2>&1; lv_stop_daemon; kill "${SYSLOGD:-}" 2>/dev/null; }
trap cleanup EXIT

say "Setting up: a veth v0, libvirtd 9.0 (Debian 12's), two domains d1 and d2"
lv_setup
lv_start_daemon >/dev/null || { echo "libvirtd did not start"; exit 1; }
lv_define
note "both domains have <interface type='direct'><source dev='v0'/><target dev='guestnic0'/>"
note "(a user-chosen name: libvirt keeps it, so both ask for the same device)"

say "Part 1: WITHOUT macvguard"
virsh -q start d1 >/dev/null 2>&1; wait_for 10 qemu_holds_tap d1 guestnic0
note "virsh start d1   -> running; guestnic0 is ifindex $(link_index guestnic0), QEMU pid $(qemu_pid d1) holds /dev/tap$(link_index guestnic0)"
note "ip link: $(ip -o link show guestnic0 | cut -d' ' -f2-3)"
note "virsh start d2   -> $(virsh -q start d2 2>&1 | grep -o 'error creating macvtap.*' | head -n1)"
if link_index guestnic0 >/dev/null; then note "guestnic0 still exists (unexpected)"; bad=1
else note "guestnic0 is GONE: d2's failed start tore down a device it never created."; fi
note "d1 is '$(virsh -q domstate d1)' but its network device no longer exists."
note "libvirtd's own log: $(grep -m1 'delete device' "$OUT/libvirtd-debug.log" | sed 's/.*virNetDevMacVLanDelete/virNetDevMacVLanDelete/')"
virsh -q destroy d1 >/dev/null 2>&1
lv_stop_daemon

say "Part 2: WITH macvguard (installed as an operator would; no manual tagging)"
agent_start || { echo "agent did not start"; exit 1; }
note "macvguard run      -> $(grep -m1 'guard ' "$OUT/agent.log" | sed 's/^macvguard: //')"
note "macvguard hook install -> $("$MG" hook install --hooks-dir /etc/libvirt/hooks | head -n1)"
lv_start_daemon >/dev/null
note "libvirtd (re)started: it reads hooks only at start or reload"
virsh -q start d1 >/dev/null 2>&1; wait_for 10 qemu_holds_tap d1 guestnic0
IDX=$(link_index guestnic0)
note "virsh start d1   -> running; guestnic0 is ifindex $IDX, QEMU pid $(qemu_pid d1)"
sleep 1
echo "    macvguard links:"
"$MG" links | cut -c1-170 | sed 's/^/      /'
note "virsh start d2   -> $(virsh -q start d2 2>&1 | grep -o 'error creating macvtap.*' | head -n1)"
sleep 1
if [ "$(link_index guestnic0)" = "$IDX" ] && qemu_holds_tap d1 guestnic0; then
    note "guestnic0 is STILL THERE (ifindex $IDX) and d1's QEMU still holds /dev/tap$IDX."
else note "guestnic0 vanished (unexpected)"; bad=1; fi
echo "    the guard's event (macvguard monitor / the agent's output):"
ev=$(grep '"verdict":"deny"' "$EVENTS" | tail -n1)
echo "$ev" | python3 -c 'import json,sys
e=json.loads(sys.stdin.read())
print("      %s %s of %s refused: owner domain %s (QEMU pid %s, queue held), requested by %s[%s/%s]%s" % (
  e["time"], e["action"], e["ifname"], e["owner_domain"], e["owner_pid"], e["comm"], e["pid"], e["tid"],
  (" -- the teardown of domain " + e["teardown_domain"]) if e.get("teardown_domain") else ""))' 2>/dev/null || { echo "      (no deny event)"; bad=1; }
case "$ev" in *'"teardown_domain":"d2"'*) ;; *) bad=1 ;; esac

say "And ordinary teardowns still work: virsh destroy d1"
virsh -q destroy d1 >/dev/null 2>&1
wait_for 10 sh -c '! test -e /sys/class/net/guestnic0' && note "guestnic0 removed by libvirt as usual (QEMU gone, nothing to protect)" || { note "guestnic0 left behind"; bad=1; }
echo
[ "$bad" -eq 0 ] && echo "demo: done - macvguard stopped the foreign teardown and let the real one through." || echo "demo: something did not go as described (see $OUT)"
exit "$bad"
