#!/bin/bash
# The guard's scenarios (guard.sh, then guard_model.sh) in one boot, each expecting the
# request guard attached as ATTACH: "lsm" (BPF LSM) or "fmod_ret" (fmod_ret on
# security_netlink_send, issue 17). For fmod_ret the boot's LSM list must leave bpf out
# (the suite passes lsm=), and first a start whose fmod_ret probe is forced to fail
# (MG_TEST_NO_FMODRET) must say flag-only, not enforcing. A lockdown= on the kernel command
# line must be the one in force. Usage: guard_attach.sh ATTACH [SCRIPT...] (default: guard
# guard_model).
set -u
ROOT=${MG_ROOT:?}
. "$ROOT/tests/guest/lib.sh"
MG="$ROOT/${BUILD:-build}/macvguard"
OUT=${MG_RESULTS:?}
ATTACH=${1:?lsm or fmod_ret}
shift
SCRIPTS=("$@")
[ ${#SCRIPTS[@]} -gt 0 ] || SCRIPTS=(guard guard_model)
case "$ATTACH" in
    lsm) export MG_EXPECT_ATTACH="BPF LSM" ;;
    fmod_ret) export MG_EXPECT_ATTACH="fmod_ret on security_netlink_send" ;;
    *) fail "usage" "ATTACH is lsm or fmod_ret, not '$ATTACH'"; summary; exit 1 ;;
esac

mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security
LSMS=$(cat /sys/kernel/security/lsm 2>/dev/null)
echo "# lsm list: $LSMS; lockdown: $(cat /sys/kernel/security/lockdown 2>/dev/null); cmdline: $(cat /proc/cmdline)"
case ",$LSMS," in
    *,bpf,*) [ "$ATTACH" = lsm ] && ok "bpf is in the active LSM list" ||
                 fail "bpf is not in the active LSM list" "$LSMS" ;;
    *) [ "$ATTACH" = fmod_ret ] && ok "bpf is not in the active LSM list ($LSMS)" ||
           fail "bpf is in the active LSM list" "$LSMS" ;;
esac

want_lockdown=$(sed -n 's/.*\blockdown=\([a-z]*\).*/\1/p' /proc/cmdline)
if [ -n "$want_lockdown" ]; then
    if grep -q "\[$want_lockdown\]" /sys/kernel/security/lockdown 2>/dev/null; then ok "lockdown is $want_lockdown"
    else fail "lockdown is $want_lockdown" "$(cat /sys/kernel/security/lockdown 2>&1)"; fi
fi

if [ "$ATTACH" = fmod_ret ]; then
    # Negative check: neither attachment can refuse (BPF LSM never runs, the fmod_ret probe
    # is made to fail): the agent must say flag-only with both reasons.
    mkdir -p "$OUT/noattach"
    MG_TEST_NO_FMODRET=1 "$MG" run >"$OUT/noattach/agent.log" 2>&1 &
    agent=$!
    for _ in $(seq 1 600); do
        grep -q "agent running (pid $agent)" "$OUT/noattach/agent.log" 2>/dev/null && break
        kill -0 "$agent" 2>/dev/null || break
        sleep 0.1
    done
    "$MG" status >"$OUT/noattach/status" 2>&1; src=$?
    "$MG" -j status >"$OUT/noattach/status.json" 2>&1
    if [ "$src" = 1 ] && grep -q "^guard: *NOT ENFORCING (flag-only)" "$OUT/noattach/status" &&
       grep -q "lsm/netlink_send attached but never ran" "$OUT/noattach/status" &&
       grep -q "MG_TEST_NO_FMODRET" "$OUT/noattach/status"; then
        ok "fmod_ret probe forced to fail: flag-only, both reasons told"
    else fail "fmod_ret probe forced to fail: flag-only, both reasons told" "exit $src: $(tr '\n' ' ' <"$OUT/noattach/status")"; fi
    if grep -q '"attachment":null' "$OUT/noattach/status.json" && grep -q '"enforcing":false' "$OUT/noattach/status.json" &&
       [ ! -e /sys/fs/bpf/macvguard/link_netlink_send_fmodret ] && [ ! -e /sys/fs/bpf/macvguard/link_netlink_send ]; then
        ok "flag-only: status -j has no attachment, nothing pinned"
    else fail "flag-only: status -j has no attachment, nothing pinned" "$(cat "$OUT/noattach/status.json")"; fi
    "$MG" stop --unpin >/dev/null 2>&1
    wait "$agent" 2>/dev/null
fi

for s in "${SCRIPTS[@]}"; do
    mkdir -p "$OUT/$s"
    echo "# $s.sh (expecting: enforcing via $MG_EXPECT_ATTACH)"
    MG_RESULTS="$OUT/$s" bash "$ROOT/tests/guest/$s.sh" >"$OUT/$s/output" 2>&1
    rc=$?
    got_summary=""
    while IFS= read -r line; do
        case "$line" in
            "ok - "*) ok "$s: ${line#ok - }" ;;
            "not ok - "*) l=${line#not ok - }; fail "$s: ${l%%: *}" "${l#*: }" ;;
            *" passed, "*" failed") got_summary=$line; echo "# $s.sh: $line" ;;
            *) echo "$line" ;;
        esac
    done <"$OUT/$s/output"
    # a script that died early, or failed without a failure line, is a failure
    [ -n "$got_summary" ] || fail "$s: ended without its summary" "exit $rc"
    [ "$rc" = 0 ] || case "$got_summary" in *" 0 failed") fail "$s: exit $rc with no failure counted" ;; esac
    grep -h "enforcing via\|guard .*mode" "$OUT/$s/agent.log" 2>/dev/null | head -n 2 | sed 's/^/# /'
done
summary
