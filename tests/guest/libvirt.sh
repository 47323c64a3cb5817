#!/bin/bash
# macvguard with a real libvirt daemon + QEMU in a test guest (BPF LSM): Debian 12's
# libvirtd 9.0 (host root) or bookworm-backports' libvirt 11.3 (lv11 root); virtqemud where
# the root has one (tests/guest/libvirt-lib.sh). The agent runs, its hook is installed,
# nobody calls `macvguard tag`.
#  0. baseline without macvguard: does d2's failed start delete d1's guestnic0? (9.0: yes,
#     the bug; 11.3 remembers which devices it created: printed, not asserted)
#  1. with macvguard: d2's failed start is refused (9.0) or never attempted (11.3), d1 keeps
#     its link and QEMU fd, and a deny event names the owner (d1) and the domain being torn
#     down (d2) whenever a deletion was tried
#  2. virsh destroy, kill -9 of QEMU, virsh detach-interface still remove the link
#  3. daemon restart (reconnect), `hook install --reload` and agent restart keep tags
set -u
. "$MG_ROOT/tests/guest/lib.sh"
. "$MG_ROOT/tests/guest/libvirt-lib.sh"

cleanup() { agent_stop; virsh -q destroy d1 >/dev/null 2>&1; lv_stop_daemon; kill "${SYSLOGD:-}" 2>/dev/null; }
trap cleanup EXIT
# step NAME FUNC: like check, but in this shell (FUNC sets AGENT / LIBVIRTD)
step() { local name=$1; shift; if "$@" >>"$OUT/steps.log" 2>&1; then ok "$name"; else fail "$name" "$(tail -n 1 "$OUT/steps.log")"; fi; }

lv_setup
step "$LV_DAEMON starts" lv_start_daemon
check "define d1 and d2 (both ask for target dev guestnic0)" lv_define

# ---- 0. baseline: no macvguard -------------------------------------------------------
LV_VER=$(lv_version); LV_MAJOR=$(lv_major)
echo "# daemon: $LV_DAEMON (libvirt $LV_VER), QEMU $(qemu-system-x86_64 --version | head -n1 | awk '{print $4}')"
if virsh -q start d1 >"$OUT/start.log" 2>&1 && wait_for 10 qemu_holds_tap d1 guestnic0; then
    ok "baseline: d1 runs, its QEMU holds guestnic0's tap"
else fail "baseline: d1 runs" "$(tail -n 2 "$OUT/start.log")"; fi
cp "/run/libvirt/qemu/d1.xml" "$OUT/d1-status.xml" 2>/dev/null
if virsh -q start d2 >"$OUT/start-d2.log" 2>&1; then fail "baseline: d2 start fails" "it started"
else ok "baseline: d2 start fails ($(grep -o 'File exists' "$OUT/start-d2.log" | head -n1))"; fi
sleep 1
if ! link_index guestnic0 >/dev/null; then BASE_DELETED=yes; else BASE_DELETED=no; fi
echo "# baseline: libvirt $LV_VER without macvguard: d2's failed start deleted the running d1's guestnic0: $BASE_DELETED"
echo "$BASE_DELETED" >"$OUT/baseline-deleted"
if [ "$LV_MAJOR" -lt 11 ]; then
    # 9.0 deletes by name whatever it failed to create: the seed's bug.
    if [ "$BASE_DELETED" = yes ]; then ok "baseline (bug reproduced on $LV_VER): d1's guestnic0 was deleted by d2's teardown"
    else fail "baseline: bug reproduced on $LV_VER" "guestnic0 survived without macvguard"; fi
fi
virsh -q destroy d1 >/dev/null 2>&1
lv_stop_daemon

# ---- install macvguard as an operator would: agent, daemon, hook, --reload ------------
step "agent starts (enforcing)" agent_start
grep -q "^macvguard: enforcing via BPF LSM, mode enforce" "$OUT/agent.log" && ok "agent: BPF LSM guard enforcing" || fail "agent enforcing" "$(grep -m1 'enforc' "$OUT/agent.log")"
step "$LV_DAEMON starts" lv_start_daemon
"$MG" hook install --hooks-dir /etc/libvirt/hooks --reload >"$OUT/hook-install.log" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "reloaded $LV_DAEMON (pid $LIBVIRTD, SIGHUP)" "$OUT/hook-install.log"; then
    ok "macvguard hook install --reload: $(grep -m1 reloaded "$OUT/hook-install.log")"
else fail "hook install --reload reloads $LV_DAEMON" "exit $rc: $(tr '\n' ' ' <"$OUT/hook-install.log")"; fi
# The reload is asynchronous: wait until the daemon answers again.
sleep 1; wait_for 20 virsh -q version >/dev/null 2>&1

# ---- 1. the duplicate-name failure ---------------------------------------------------
virsh -q start d1 >"$OUT/start.log" 2>&1
if wait_for 10 qemu_holds_tap d1 guestnic0; then ok "d1 runs, QEMU holds guestnic0"; else fail "d1 runs" "$(tail -n 2 "$OUT/start.log")"; fi
IDX=$(link_index guestnic0); P1=$(qemu_pid d1)
t=$(tag_of guestnic0); read -r dom pid by use <<<"$t"
if [ "${dom:-}" = d1 ] && [ "${pid:-}" = "$P1" ]; then ok "guestnic0 tagged automatically: domain d1, QEMU pid $P1, by $by, in use $use"
else fail "automatic tag" "links says '${dom:-} ${pid:-} ${by:-}', QEMU pid $P1"; fi
if grep -q "d1 started: .*guestnic0 .*d1" "$OUT/syslog"; then ok "started hook claimed guestnic0 too ($(grep -o 'd1 started: .*' "$OUT/syslog" | head -n1 | cut -c1-90))"
else fail "started hook claimed guestnic0" "$(grep 'd1 started' "$OUT/syslog" | head -n1)"; fi
grep -m1 "guarded guestnic0" "$OUT/agent.log" | sed 's/^/# latency: /'

# did the daemon try to delete guestnic0 since debug-log line $1? (libvirt's own log)
lv_tried_delete() { tail -n +"$(( $1 + 1 ))" "$OUT/libvirtd-debug.log" 2>/dev/null | grep -q "delete device: 'guestnic0'"; }
lv_logpos() { wc -l <"$OUT/libvirtd-debug.log" 2>/dev/null || echo 0; }
# d2_refused LABEL: start d2 (fails: same target dev); d1's link must stay. libvirt < 11
# deletes it by name: a refusal naming d1 and d2 must be counted. libvirt 11 remembers what
# it created and may not try: then there is nothing to refuse, and no refusal may appear.
d2_refused() {
    local label=$1 deny0 pos n
    deny0=$(events_with '"verdict":"deny"' '"teardown_domain":"d2"'); pos=$(lv_logpos)
    virsh -q start d2 >/dev/null 2>&1; sleep 1
    n=$(events_with '"verdict":"deny"' '"teardown_domain":"d2"')
    if [ "$(link_index guestnic0)" != "$IDX" ]; then fail "$label: d1's guestnic0 kept" "gone"
    elif [ "$n" -gt "$deny0" ]; then ok "$label: d2's teardown refused, guestnic0 kept"
    elif [ "$LV_MAJOR" -ge 11 ] && ! lv_tried_delete "$pos"; then ok "$label: guestnic0 kept; libvirt $LV_VER did not try to delete it (nothing to refuse)"
    else fail "$label: d2's deletion refused" "no deny event (libvirt tried: $(lv_tried_delete "$pos" && echo yes || echo no))"; fi
}

pos=$(lv_logpos)
if virsh -q start d2 >"$OUT/start-d2.log" 2>&1; then fail "d2 start fails" "it started"; else ok "d2 start fails as before"; fi
sleep 1
if [ "$(link_index guestnic0)" = "$IDX" ]; then ok "d1's guestnic0 survived d2's teardown (ifindex $IDX)"; else fail "guestnic0 survived" "gone"; fi
if qemu_holds_tap d1 guestnic0 && [ "$(qemu_pid d1)" = "$P1" ]; then ok "d1's QEMU (pid $P1) still holds /dev/tap$IDX"; else fail "QEMU fd intact" "-"; fi
if [ "$(virsh -q domstate d1)" = running ]; then ok "d1 still running"; else fail "d1 running" "$(virsh -q domstate d1)"; fi
n=$(events_with '"verdict":"deny"' '"ifname":"guestnic0"' '"owner_domain":"d1"' '"teardown_domain":"d2"')
if [ "$n" -ge 1 ]; then ok "deny event names owner d1 and 'teardown of domain d2' ($LV_DAEMON's worker thread)"
elif [ "$LV_MAJOR" -ge 11 ] && ! lv_tried_delete "$pos"; then
    ok "no deny event: libvirt $LV_VER did not try to delete d1's guestnic0 (it records <created>), no false refusal"
else fail "deny event with both domains" "$(grep deny "$EVENTS" | tail -n1)"; fi
grep '"verdict":"deny"' "$EVENTS" | tail -n1 | sed 's/^/# event: /'
if lv_tried_delete "$pos"; then echo "# $LV_DAEMON did try: $(tail -n +"$((pos + 1))" "$OUT/libvirtd-debug.log" | grep -m1 "delete device: 'guestnic0'" | cut -c1-160)"
else echo "# $LV_DAEMON did not try to delete guestnic0 during d2's failed start"; fi

# ---- 3a. daemon restart: reconnect keeps the tag ----------------------------------------
lv_stop_daemon
step "$LV_DAEMON restarted with d1 running" lv_start_daemon
sleep 2
t=$(tag_of guestnic0); read -r dom pid by use <<<"$t"
if [ "${dom:-}" = d1 ] && [ "${pid:-}" = "$P1" ] && [ "$(link_index guestnic0)" = "$IDX" ]; then ok "after $LV_DAEMON restart: guestnic0 still there and tagged to d1 (pid $P1)"
else fail "tag kept over $LV_DAEMON restart" "'${dom:-} ${pid:-} ${by:-}'"; fi
grep -q "d1 reconnect: .*guestnic0" "$OUT/syslog" 2>/dev/null && ok "reconnect hook ran ($(grep -o 'd1 reconnect: .*' "$OUT/syslog" | head -n1 | cut -c1-90))" || fail "reconnect hook ran" "no 'd1 reconnect' in syslog"
d2_refused "after $LV_DAEMON restart"

# ---- 3b. agent restart: reconcile keeps the tag ------------------------------------------
agent_stop
step "agent restarted" agent_start
t=$(tag_of guestnic0); read -r dom pid by use <<<"$t"
if [ "${dom:-}" = d1 ] && [ "${pid:-}" = "$P1" ]; then ok "after agent restart: tag kept (d1, pid $P1, by $by)"; else fail "tag kept over agent restart" "'${dom:-} ${pid:-}'"; fi
d2_refused "after agent restart"

# ---- 2. ordinary teardowns still remove the link -----------------------------------------
deny_all() { events_with '"verdict":"deny"'; }
gone() { ! link_index guestnic0 >/dev/null; }
d0=$(deny_all); att0=$(grep '"record":"delete"' "$EVENTS" 2>/dev/null | grep '"ifname":"guestnic0"' | grep -c '"teardown_domain":"d1"')
virsh -q destroy d1 >/dev/null 2>&1
if wait_for 10 gone; then ok "virsh destroy d1: guestnic0 removed"; else fail "destroy removes the link" "still there"; fi
[ "$(deny_all)" = "$d0" ] && ok "virsh destroy: no refusal" || fail "destroy: no refusal" "$(grep deny "$EVENTS" | tail -n1)"
# Attribution: the deletion record names the domain whose teardown deleted the link, from the
# daemon's worker thread that ran the `stopped` hook.
att_count() { grep '"record":"delete"' "$EVENTS" 2>/dev/null | grep '"ifname":"guestnic0"' | grep -c '"teardown_domain":"d1"'; }
att_more() { [ "$(att_count)" -gt "$att0" ]; }
attributed() {  # LABEL COMM-REGEX (after att0=$(att_count) before the teardown)
    local line
    wait_for 5 att_more
    line=$(grep '"record":"delete"' "$EVENTS" | grep '"ifname":"guestnic0"' | grep '"teardown_domain":"d1"' | tail -n1)
    local tid
    tid=$(grep -o '"tid":[0-9]*' <<<"$line" | cut -d: -f2)
    if att_more && grep -Eq "\"comm\":\"$2\"" <<<"$line" &&
       grep -q "d1 stopped: teardown by $LV_DAEMON pid [0-9]* thread ${tid:-x}\$" "$OUT/syslog"; then
        ok "$1: deletion attributed to d1's teardown by $LV_DAEMON's $(grep -o '"comm":"[^"]*"' <<<"$line" | cut -d'"' -f4) thread $tid, the one that ran the stopped hook"
    else fail "$1: deletion attributed to d1's teardown" "$(grep '"record":"delete"' "$EVENTS" | tail -n1 | cut -c1-300)"; fi
}
attributed "virsh destroy" "rpc-(libvirtd|virtqemud)"
wait_for 5 sh -c "[ -z \"\$($MG -j links | tr -d '[] \n')\" ]" && ok "no tag left after destroy" || fail "no tag left" "$("$MG" links | tail -n +2)"

virsh -q start d1 >/dev/null 2>&1; wait_for 10 qemu_holds_tap d1 guestnic0
P1=$(qemu_pid d1); d0=$(deny_all)
att0=$(grep '"record":"delete"' "$EVENTS" | grep '"ifname":"guestnic0"' | grep -c '"teardown_domain":"d1"')
kill -9 "$P1"
if wait_for 15 gone; then ok "kill -9 QEMU: $LV_DAEMON's qemu-event thread removed guestnic0"; else fail "kill -9 removes the link" "still there"; fi
[ "$(deny_all)" = "$d0" ] && ok "kill -9: no refusal" || fail "kill -9: no refusal" "$(grep deny "$EVENTS" | tail -n1)"
attributed "kill -9 QEMU" "qemu-event"
wait_for 10 sh -c "[ \"\$(virsh -q domstate d1)\" = 'shut off' ]"

virsh -q start d1 >/dev/null 2>&1; wait_for 10 qemu_holds_tap d1 guestnic0
d0=$(deny_all)
virsh detach-interface d1 direct --mac 52:54:00:00:00:01 --live >"$OUT/detach.log" 2>&1
# No OS runs in the guest to acknowledge the ACPI unplug: eject the slot like a guest's
# ACPI _EJ0 would (PCI hotplug eject register 0xae08, bus select 0xae10 = 0).
if ! wait_for 2 gone; then
    slot=$(virsh dumpxml d1 | sed -n "/52:54:00:00:00:01/,/<\/interface>/s/.*slot='\(0x[0-9a-f]*\)'.*/\1/p" | head -n1)
    echo "# detach: no guest OS acks the unplug: ejecting slot $slot through the ACPI hotplug register"
    [ -n "$slot" ] && virsh -q qemu-monitor-command d1 --hmp "o /w 0xae10 0" >>"$OUT/detach.log" 2>&1
    [ -n "$slot" ] && virsh -q qemu-monitor-command d1 --hmp "o /w 0xae08 $((1 << slot))" >>"$OUT/detach.log" 2>&1
    virsh -q qemu-monitor-command d1 --hmp "info pci" >>"$OUT/detach.log" 2>&1
fi
if wait_for 15 gone; then ok "virsh detach-interface: guestnic0 removed"; else fail "detach removes the link" "$(tail -n1 "$OUT/detach.log")"; fi
[ "$(deny_all)" = "$d0" ] && ok "detach: no refusal" || fail "detach: no refusal" "$(grep deny "$EVENTS" | tail -n1)"
wait_for 5 sh -c "[ -z \"\$($MG -j links | tr -d '[] \n')\" ]" && ok "no tag left after detach" || fail "no tag left after detach" "$("$MG" links | tail -n +2)"
virsh -q destroy d1 >/dev/null 2>&1
ip -o link show | grep -c macvtap | sed 's/^/# macvtap links left: /'
[ "$(ip -o link show type macvtap | wc -l)" -eq 0 ] && ok "no leaked macvtap devices" || fail "no leaked devices" "$(ip -o link show type macvtap)"

grep -E "macvguard-hook" "$OUT/syslog" 2>/dev/null | tail -n 12 | sed 's/^/# hook: /'
summary
