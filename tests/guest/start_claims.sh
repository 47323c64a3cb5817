#!/bin/bash
# Start windows and creation claims at the kernel guard, no libvirt needed (6.1, 6.12, 6.18):
# tests/guest/start_claims.py plays a libvirt daemon whose worker threads run the hook and
# create/delete macvtaps; this script adds what needs the daemon gone: a window of a dead
# daemon is dropped by the agent (no claim outlives it), and nothing is left.
set -u
ROOT=${MG_ROOT:?}
. "$ROOT/tests/guest/lib.sh"
MG="$ROOT/${BUILD:-build}/macvguard"
OUT=${MG_RESULTS:?}
EVENTS="$OUT/events.jsonl"
PIN=/sys/fs/bpf/macvguard

agent_start() {
    "$MG" run >>"$OUT/agent.log" 2>&1 &
    AGENT=$!
    for _ in $(seq 1 600); do
        grep -q "agent running (pid $AGENT)" "$OUT/agent.log" 2>/dev/null && break
        kill -0 "$AGENT" 2>/dev/null || break
        sleep 0.1
    done
    "$MG" -j monitor >>"$EVENTS" 2>>"$OUT/monitor.err" &
    MONITOR=$!
    sleep 0.3
}
cleanup() { kill "${MONITOR:-}" "${AGENT:-}" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
entries() { bpftool -j map dump pinned "$PIN/$1" 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo "?"; }

ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up
agent_start
grep -q "^macvguard: enforcing" "$OUT/agent.log" && ok "agent enforcing (guard with start claims verified and loaded)" ||
    fail "agent enforcing" "$(grep -m3 -i 'error\|enforc' "$OUT/agent.log" | tr '\n' ' ')"
python3 "$ROOT/tests/guest/start_claims.py" "$MG" "$EVENTS" >"$OUT/py.log" 2>&1
grep -E "^(ok|not ok) - |^# " "$OUT/py.log" | while IFS= read -r l; do echo "$l"; done
PASS=$(grep -c "^ok - " "$OUT/py.log"); FAILN=$(grep -c "^not ok - " "$OUT/py.log")
_mg_pass=$((_mg_pass + PASS)); _mg_fail=$((_mg_fail + FAILN))
grep -q "^PY .* passed" "$OUT/py.log" || fail "start_claims.py ran to its end" "$(tail -n 3 "$OUT/py.log" | tr '\n' ' ')"
echo "# maps after the run: mg_start $(entries mg_start), mg_claims $(entries mg_claims)"

# The daemon died with dF's window open and sF claimed: the agent drops the window (its
# process is gone) within a second or two; then sF is nobody's.
if grep -q "^PY left sF" "$OUT/py.log" && [ -e /sys/class/net/sF ]; then
    for _ in $(seq 1 25); do [ "$(entries mg_start)" = 0 ] && break; sleep 0.2; done
    [ "$(entries mg_start)" = 0 ] && ok "the dead daemon's start window was dropped by the agent" || fail "dead daemon's window dropped" "$(entries mg_start) left"
    [ "$(entries mg_claims)" = 0 ] && ok "no creation claim left" || fail "no claim left" "$(entries mg_claims) left"
    ip link del sF && ok "sF, created in the dead daemon's window, is unguarded" || fail "sF deletable" "refused"
else fail "the dead daemon left sF" "$(tail -n 2 "$OUT/py.log" | tr '\n' ' ')"; fi
[ "$(ip -o link show type macvtap | wc -l)" -eq 0 ] && ok "no macvtap left" || fail "no macvtap left" "$(ip -o link show type macvtap)"
summary
