#!/bin/bash
# The window at domain start (docs/libvirt.md), with a real libvirt daemon + QEMU in a test
# guest: Debian 12's libvirtd 9.0 (host root) or bookworm-backports' libvirt 11.3 (lv11).
# An operator's qemu.d hook sleeps 10 s at `d1 start begin`, when d1's macvtap guestnic0
# already exists and no QEMU holds it yet.
#  0. baseline without macvguard: `virsh start d2` (same <target dev>) fails; is d1's link
#     deleted, and does d1 still start? (9.0: deleted, d1 fails; printed either way)
#  1. with macvguard: during d1's start, guestnic0 is guarded for d1 (a shell's delete is
#     refused, reason starting); d2's failed start cannot delete it (a refusal naming d1 and
#     d2's teardown where libvirt tries); d1 comes up running with that link.
#  2. no false refusals: d3's own failed start (a QEMU that exits at once) removes its link;
#     a hot-plug into a running domain during d1's start; destroy and kill -9 after such a
#     start; a daemon restart in the middle of a start (the window does not outlive it).
#     No start window or claim is left behind.
set -u
. "$MG_ROOT/tests/guest/lib.sh"
. "$MG_ROOT/tests/guest/libvirt-lib.sh"

HOOKS=/etc/libvirt/hooks
SLOW=/run/mg-slow-d1
cleanup() {
    agent_stop
    for d in d1 d2 d3 d4; do virsh -q destroy "$d" >/dev/null 2>&1; done
    lv_stop_daemon; kill "${SYSLOGD:-}" 2>/dev/null
}
trap cleanup EXIT
step() { local name=$1; shift; if "$@" >>"$OUT/steps.log" 2>&1; then ok "$name"; else fail "$name" "$(tail -n 1 "$OUT/steps.log")"; fi; }

# The operator's own hook: 10 s at `d1 start begin` while $SLOW exists.
mkdir -p "$HOOKS/qemu.d"
cat >"$HOOKS/qemu.d/00-operator-slow" <<EOF
#!/bin/sh
cat >/dev/null
[ "\$1" = d1 ] && [ "\$2" = start ] && [ "\$3" = begin ] && [ -e $SLOW ] && sleep 10
exit 0
EOF
chmod 755 "$HOOKS/qemu.d/00-operator-slow"

# Count the entries of a pinned BPF map (bpf(2) through ctypes: the lv11 root has no bpftool).
map_count() {
    python3 - "$1" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
NR_BPF = 321
attr = ctypes.create_string_buffer(128)
path = ctypes.create_string_buffer(sys.argv[1].encode())
ctypes.memmove(attr, ctypes.byref(ctypes.c_uint64(ctypes.addressof(path))), 8)
fd = libc.syscall(NR_BPF, 7, attr, 128)                  # BPF_OBJ_GET
if fd < 0:
    print("missing"); sys.exit(0)
key = ctypes.create_string_buffer(64); nxt = ctypes.create_string_buffer(64)
n, first = 0, True
while n < 100000:
    a = ctypes.create_string_buffer(128)
    ctypes.memmove(a, ctypes.byref(ctypes.c_uint32(fd)), 4)
    ctypes.memmove(ctypes.addressof(a) + 8, ctypes.byref(ctypes.c_uint64(0 if first else ctypes.addressof(key))), 8)
    ctypes.memmove(ctypes.addressof(a) + 16, ctypes.byref(ctypes.c_uint64(ctypes.addressof(nxt))), 8)
    if libc.syscall(NR_BPF, 4, a, 128) != 0:             # BPF_MAP_GET_NEXT_KEY
        break
    ctypes.memmove(key, nxt, 64); first = False; n += 1
print(n)
PY
}
windows_left() { map_count /sys/fs/bpf/macvguard/mg_start; }
claims_left() { map_count /sys/fs/bpf/macvguard/mg_claims; }

lv_define_more() {
    lv_domain_xml d3 52:54:00:00:00:03 | sed -e "s/guestnic0/guestnic3/" \
        -e "s|<domain type='qemu'>|<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>|" \
        -e "s|</domain>|  <qemu:commandline><qemu:arg value='-mg-no-such-option'/></qemu:commandline>\n</domain>|" >"$OUT/d3.xml"
    lv_domain_xml d4 52:54:00:00:00:04 | sed -e "s/guestnic0/guestnic4/" >"$OUT/d4.xml"
    virsh -q define "$OUT/d3.xml" >/dev/null && virsh -q define "$OUT/d4.xml" >/dev/null
}

# d1_slow_start LOG: start d1 in the background with the operator's slow hook; returns once
# guestnic0 exists (d1 waits in its hook); D1START is the virsh pid.
d1_slow_start() {
    touch "$SLOW"
    virsh -q start d1 >"$1" 2>&1 &
    D1START=$!
    wait_for 60 link_index guestnic0 >/dev/null
}

lv_setup
step "$LV_DAEMON starts" lv_start_daemon
check "define d1 and d2 (both ask for target dev guestnic0)" lv_define
check "define d3 (QEMU exits at once) and d4" lv_define_more
LV_VER=$(lv_version); LV_MAJOR=$(lv_major)
echo "# daemon: $LV_DAEMON (libvirt $LV_VER)"

# ---- 0. baseline: no macvguard -------------------------------------------------------
if d1_slow_start "$OUT/base-d1.log"; then ok "baseline: d1's guestnic0 exists while d1 waits in its start hook"
else fail "baseline: guestnic0 created during d1's start" "$(cat "$OUT/base-d1.log")"; fi
virsh -q start d2 >"$OUT/base-d2.log" 2>&1 && fail "baseline: d2 start fails" "it started" || ok "baseline: d2 start fails"
sleep 1
if link_index guestnic0 >/dev/null; then BASE_DELETED=no; else BASE_DELETED=yes; fi
wait "$D1START"; rc=$?; rm -f "$SLOW"
if [ $rc -eq 0 ]; then BASE_D1="d1 started"; else BASE_D1="d1 failed: $(grep -o 'Link has been severed' "$OUT/base-d1.log" | head -n1)$(tail -n1 "$OUT/base-d1.log" | cut -c1-100)"; fi
echo "# baseline: libvirt $LV_VER without macvguard, d2's failed start during d1's start: d1's guestnic0 deleted: $BASE_DELETED; $BASE_D1"
echo "$BASE_DELETED; $BASE_D1" >"$OUT/baseline-start-window"
if [ "$LV_MAJOR" -lt 11 ]; then
    [ "$BASE_DELETED" = yes ] && ok "baseline (bug reproduced on $LV_VER): d2's teardown deleted d1's new guestnic0" ||
        fail "baseline: bug reproduced on $LV_VER" "guestnic0 survived without macvguard"
fi
virsh -q destroy d1 >/dev/null 2>&1
lv_stop_daemon
ip link del guestnic0 2>/dev/null

# ---- install macvguard --------------------------------------------------------------
step "agent starts (enforcing)" agent_start
"$MG" hook install --hooks-dir "$HOOKS" >"$OUT/hook-install.log" 2>&1 || fail "hook install" "$(cat "$OUT/hook-install.log")"
step "$LV_DAEMON starts (finds both hooks)" lv_start_daemon

deny_all() { events_with '"verdict":"deny"'; }
lv_logpos() { wc -l <"$OUT/libvirtd-debug.log" 2>/dev/null || echo 0; }
lv_tried_delete() { tail -n +"$(( $1 + 1 ))" "$OUT/libvirtd-debug.log" 2>/dev/null | grep -q "delete device: '$2'"; }

# ---- 1. d2's failed start during d1's start ------------------------------------------
if d1_slow_start "$OUT/d1.log"; then ok "guestnic0 exists while d1 waits in the operator's start hook"
else fail "guestnic0 created during d1's start" "$(cat "$OUT/d1.log")"; fi
IDX=$(link_index guestnic0)
grep -q "d1 prepare: start window opened: pid [0-9]* thread [0-9]*" "$OUT/syslog" &&
    ok "prepare hook opened d1's start window ($(grep -o 'd1 prepare: start window.*' "$OUT/syslog" | tail -n1))" ||
    fail "start window opened at prepare" "$(grep 'd1 prepare\|d1 start' "$OUT/syslog" | tail -n2)"
[ -z "$(tag_of guestnic0)" ] && echo "# guestnic0 has no tag yet (no QEMU): guarded by d1's creation claim"
d0=$(deny_all)
if ip link del guestnic0 2>"$OUT/ipdel.log"; then fail "a shell's delete of d1's starting link is refused" "deleted"
else ok "a shell's delete of guestnic0 during d1's start is refused ($(head -n1 "$OUT/ipdel.log"))"; fi
n=$(events_with '"verdict":"deny"' '"ifname":"guestnic0"' '"owner_domain":"d1"' '"reason":"starting"' '"comm":"ip"')
[ "$n" -ge 1 ] && ok "deny event: owner d1, reason starting" || fail "deny event for the shell's delete" "$(tail -n1 "$EVENTS" | cut -c1-300)"
pos=$(lv_logpos); dn=$(events_with '"verdict":"deny"' '"owner_domain":"d1"' '"teardown_domain":"d2"' '"reason":"starting"')
virsh -q start d2 >"$OUT/d2.log" 2>&1 && fail "d2 start fails" "it started" || ok "d2 start fails ($(grep -o 'File exists' "$OUT/d2.log" | head -n1))"
sleep 1
[ "$(link_index guestnic0)" = "$IDX" ] && ok "d1's guestnic0 survived d2's failed start (ifindex $IDX)" || fail "guestnic0 survived d2" "gone"
n=$(events_with '"verdict":"deny"' '"ifname":"guestnic0"' '"owner_domain":"d1"' '"teardown_domain":"d2"' '"reason":"starting"')
if [ "$n" -gt "$dn" ]; then ok "d2's teardown refused: the event names owner d1 and the teardown of d2"
    grep '"teardown_domain":"d2"' "$EVENTS" | tail -n1 | cut -c1-400 | sed 's/^/# event: /'
elif [ "$LV_MAJOR" -ge 11 ] && ! lv_tried_delete "$pos" guestnic0; then
    ok "libvirt $LV_VER did not try to delete d1's guestnic0 (it records what it created): nothing to refuse"
else fail "d2's deletion refused, naming d1 and d2" "tried: $(lv_tried_delete "$pos" guestnic0 && echo yes || echo no); $(grep deny "$EVENTS" | tail -n1 | cut -c1-300)"; fi
wait "$D1START"; rc=$?; rm -f "$SLOW"
if [ $rc -eq 0 ] && [ "$(virsh -q domstate d1)" = running ]; then ok "d1 came up running"; else fail "d1 came up running" "$(tail -n2 "$OUT/d1.log")"; fi
if wait_for 10 qemu_holds_tap d1 guestnic0 && [ "$(link_index guestnic0)" = "$IDX" ]; then ok "d1's QEMU holds the same guestnic0 (ifindex $IDX)"
else fail "d1's QEMU holds guestnic0" "ifindex now $(link_index guestnic0)"; fi
t=$(tag_of guestnic0); [ "${t%% *}" = d1 ] && ok "guestnic0 tagged to d1 after start ($t)" || fail "tag after start" "'$t'"
grep -q "d1 started: start window closed" "$OUT/syslog" && ok "started hook closed d1's start window" || fail "started closes the window" "$(grep 'd1 started' "$OUT/syslog" | tail -n1)"
[ "$(windows_left)" = 0 ] && [ "$(claims_left)" = 0 ] && ok "no start window or claim left after d1 started" ||
    fail "no window/claim left" "windows $(windows_left), claims $(claims_left)"

# ---- 2. no false refusals --------------------------------------------------------------
d0=$(deny_all)
virsh -q destroy d1 >/dev/null 2>&1
wait_for 10 sh -c '! [ -e /sys/class/net/guestnic0 ]' && ok "destroy of a domain started through the window removes guestnic0" || fail "destroy removes guestnic0" "still there"
[ "$(deny_all)" = "$d0" ] && ok "destroy: no refusal" || fail "destroy: no refusal" "$(grep deny "$EVENTS" | tail -n1 | cut -c1-300)"

# d3's own start fails (QEMU exits at once on an unknown option): its link must go.
d0=$(deny_all); pos=$(lv_logpos)
virsh -q start d3 >"$OUT/d3.log" 2>&1 && fail "d3 start fails" "it started" || ok "d3's start fails (QEMU exits at once)"
wait_for 5 sh -c '! [ -e /sys/class/net/guestnic3 ]' && ok "d3's own failed start removed its guestnic3" || fail "d3's failed start removes guestnic3" "still there"
[ "$(deny_all)" = "$d0" ] && ok "d3's failed start: no refusal" || fail "d3's failed start: no refusal" "$(grep deny "$EVENTS" | tail -n1 | cut -c1-300)"
n=$(events_with '"ifname":"guestnic3"' '"owner_domain":"d3"' '"reason":"owner"')
[ "$n" -ge 1 ] && echo "# d3's cleanup judged as its own: $(grep '"ifname":"guestnic3"' "$EVENTS" | tail -n1 | cut -c1-200)"
lv_tried_delete "$pos" guestnic3 || echo "# libvirt did not log deleting guestnic3"

# A hot-plug into running d4 while d1 waits in its start hook.
virsh -q start d4 >"$OUT/d4.log" 2>&1; wait_for 10 qemu_holds_tap d4 guestnic4
d0=$(deny_all)
d1_slow_start "$OUT/d1b.log"
if virsh attach-interface d4 direct v0 --target guestnic5 --model virtio --mac 52:54:00:00:00:05 --live >"$OUT/attach.log" 2>&1 &&
   link_index guestnic5 >/dev/null; then ok "hot-plug into running d4 during d1's start: guestnic5 created"
else fail "hot-plug during a start" "$(tail -n1 "$OUT/attach.log")"; fi
wait "$D1START"; rm -f "$SLOW"
[ "$(virsh -q domstate d1)" = running ] && ok "d1 running after the hot-plug during its start" || fail "d1 running" "$(tail -n1 "$OUT/d1b.log")"
wait_for 5 sh -c "$MG -j links | grep -q '\"ifname\":\"guestnic5\"'" && ok "guestnic5 tagged to d4 ($(tag_of guestnic5))" || fail "guestnic5 tagged" "$("$MG" links | tail -n +2)"
virsh -q destroy d4 >/dev/null 2>&1
wait_for 10 sh -c '! [ -e /sys/class/net/guestnic4 ] && ! [ -e /sys/class/net/guestnic5 ]' && ok "destroy d4 removes guestnic4 and the hot-plugged guestnic5" || fail "destroy d4 removes its links" "$(ip -o link show type macvtap)"
P1=$(qemu_pid d1); kill -9 "$P1"
wait_for 15 sh -c '! [ -e /sys/class/net/guestnic0 ]' && ok "kill -9 of d1's QEMU removes guestnic0" || fail "kill -9 removes guestnic0" "still there"
[ "$(deny_all)" = "$d0" ] && ok "hot-plug, destroy, kill -9: no refusal" || fail "hot-plug/destroy/kill -9: no refusal" "$(grep deny "$EVENTS" | tail -n1 | cut -c1-300)"
wait_for 10 sh -c "[ \"\$(virsh -q domstate d1)\" = 'shut off' ]"

# The daemon dies in the middle of d1's start: its window must not outlive it.
d1_slow_start "$OUT/d1c.log" && ok "d1 waits in its start hook again (guestnic0 $(link_index guestnic0))" || fail "third slow start" "$(cat "$OUT/d1c.log")"
[ "$(windows_left)" = 1 ] && ok "one start window open (d1's)" || fail "one window open" "$(windows_left)"
kill -9 "$LIBVIRTD"; wait "$LIBVIRTD" 2>/dev/null; LIBVIRTD=""; rm -f "$LV_SOCK"
wait "$D1START" 2>/dev/null; rm -f "$SLOW"
step "$LV_DAEMON restarted in the middle of d1's start" lv_start_daemon
windows_zero() { [ "$(windows_left)" = 0 ]; }
wait_for 5 windows_zero
[ "$(windows_left)" = 0 ] && ok "the dead daemon's start window was dropped" || fail "window of the dead daemon dropped" "$(windows_left) left"
[ "$(claims_left)" = 0 ] && ok "its claims went with it" || fail "claims of the dead daemon dropped" "$(claims_left) left"
d0=$(deny_all)
if link_index guestnic0 >/dev/null; then
    ip link del guestnic0 2>"$OUT/ipdel2.log" && ok "the abandoned start's leftover guestnic0 can be deleted" || fail "leftover deletable" "$(cat "$OUT/ipdel2.log")"
else echo "# $LV_DAEMON removed the abandoned start's guestnic0 itself"; fi
virsh -q domstate d1 >/dev/null 2>&1
if virsh -q start d1 >"$OUT/d1d.log" 2>&1 && wait_for 10 qemu_holds_tap d1 guestnic0; then ok "d1 starts again after the restart"
else fail "d1 starts again" "$(tail -n1 "$OUT/d1d.log")"; fi
virsh -q destroy d1 >/dev/null 2>&1
wait_for 10 sh -c '! [ -e /sys/class/net/guestnic0 ]'
[ "$(deny_all)" = "$d0" ] && ok "restart in the middle of a start: no refusal" || fail "restart: no refusal" "$(grep deny "$EVENTS" | tail -n1 | cut -c1-300)"
[ "$(windows_left)" = 0 ] && [ "$(claims_left)" = 0 ] && ok "no start window or claim left at the end" || fail "nothing left" "windows $(windows_left), claims $(claims_left)"
[ "$(ip -o link show type macvtap | wc -l)" -eq 0 ] && ok "no leaked macvtap devices" || fail "no leaked devices" "$(ip -o link show type macvtap)"

grep -E "macvguard-hook" "$OUT/syslog" 2>/dev/null | grep -E "window|teardown" | tail -n 14 | sed 's/^/# hook: /'
summary
