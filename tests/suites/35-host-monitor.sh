#!/bin/bash
# The deletion monitor's fallback on this machine's own kernel (no fentry/LSM here; syscall
# tracepoints load), in private namespaces and with tracefs unmounted as on a fresh host
# (the agent must mount it): an `ip link del` is reported with the requester's pid and comm, a
# netns teardown deletion with the requester marked unknown, and the status says which
# mode runs and why.
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private mount + network namespaces from here on
. tests/guest/lib.sh
MG=${BUILD:-build}/macvguard
OUT=$(mktemp -d /tmp/mg-hostmon.XXXXXX)
NS=mgm$$
EV="$OUT/events.jsonl"
cleanup() {
    [ -n "${MON:-}" ] && kill "$MON" 2>/dev/null && wait "$MON" 2>/dev/null
    [ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
    ip netns del $NS 2>/dev/null
    ip link del hm$$a 2>/dev/null
    ip link del hn$$a 2>/dev/null
    rm -rf "$OUT"
}
trap cleanup EXIT

make -s all test-tools >/dev/null || { fail "build"; summary; exit 1; }
if [ "$(id -u)" -ne 0 ]; then fail "host monitor suite needs root"; summary; exit 1; fi
if grep -qw bpf /sys/kernel/security/lsm 2>/dev/null; then
    fail "host kernel runs BPF LSM: the fallback is not what runs here" "$(cat /sys/kernel/security/lsm)"
fi

# A fresh Debian 12 host has no tracefs mounted: take it away here (this suite's private
# mount namespace only) so the fallback must attach without it, as it must on such a host.
if [ -z "${MG_ISOLATED:-}" ]; then
    fail "private mount namespace for the tracefs check" "not isolated (not root?)"
else
    tracefs_host=$(grep -c ' - tracefs ' /proc/1/mountinfo)
    for m in /sys/kernel/debug/tracing /sys/kernel/debug /sys/kernel/tracing; do
        while mountpoint -q $m 2>/dev/null; do umount $m 2>/dev/null || break; done
    done
    if grep -q ' - tracefs ' /proc/self/mountinfo; then
        fail "tracefs unmounted in the suite's namespace" "$(grep ' - tracefs ' /proc/self/mountinfo | head -n 1)"
    else ok "tracefs unmounted in the suite's namespace (as on a fresh Debian 12 host)"; fi
fi
"$MG" run >"$OUT/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 1 200); do grep -q "agent running" "$OUT/agent.log" && break; kill -0 $AGENT 2>/dev/null || break; sleep 0.1; done
if grep -q "agent running" "$OUT/agent.log" && kill -0 $AGENT 2>/dev/null; then ok "agent runs on kernel $(uname -r)"
else fail "agent runs on kernel $(uname -r)" "$(tr '\n' ' ' <"$OUT/agent.log")"; fi

st=$("$MG" status)
if echo "$st" | grep -q "^monitor: *fallback: syscall tracepoints .*seen reporting a test RTM_DELLINK.*no kernel deletion path: .*refused"; then
    ok "status: fallback monitor, verified by a test RTM_DELLINK, with the reason"
else fail "status: fallback monitor, verified, with the reason" "$(echo "$st" | grep monitor)"; fi
if "$MG" -j status | grep -q '"monitor":"fallback"'; then ok "status -j: monitor fallback"; else fail "status -j: monitor fallback"; fi
if [ -n "${MG_ISOLATED:-}" ]; then
    if echo "$st" | grep -q "^monitor: .*sys_enter_sendmsg/sys_enter_sendto attached (tracefs mounted on /sys/kernel/tracing by the agent)" &&
       grep -q ' /sys/kernel/tracing .* - tracefs ' /proc/self/mountinfo &&
       [ "$(grep -c ' - tracefs ' /proc/1/mountinfo)" = "$tracefs_host" ]; then
        ok "agent mounted tracefs itself and says so in status (host's mounts unchanged)"
    else fail "agent mounts tracefs itself and says so" "$(echo "$st" | grep monitor) / $(grep -c ' - tracefs ' /proc/self/mountinfo) here, host $(grep -c ' - tracefs ' /proc/1/mountinfo) (was $tracefs_host)"; fi
fi

"$MG" -j monitor >"$EV" 2>"$OUT/mon.err" &
MON=$!
sleep 0.5

# --- ip link del: requester's pid and comm ---
ip link add hm$$a type veth peer name hm$$b
ip link add link hm$$a name hm$$t type macvtap mode bridge
sleep 0.3
ip link del hm$$a &
DELPID=$!
wait $DELPID
sleep 1.5
rec=$(grep -F "\"ifname\":\"hm$$a\"" "$EV")
if [ "$(printf '%s\n' "$rec" | grep -c .)" -eq 1 ] && echo "$rec" | grep -q "\"pid\":$DELPID," &&
   echo "$rec" | grep -q '"comm":"ip"' && echo "$rec" | grep -q '"path":"netlink"' &&
   echo "$rec" | grep -q '"result":"deleted"' && echo "$rec" | grep -q '"kind":"veth"'; then
    ok "ip link del: one record, requester pid $DELPID and comm ip, path netlink"
else fail "ip link del: one record with the requester's pid and comm" "$rec"; fi
rec=$(grep -F "\"ifname\":\"hm$$t\"" "$EV")
if echo "$rec" | grep -q '"path":"cascade"' && echo "$rec" | grep -q "\"pid\":$DELPID," &&
   echo "$rec" | grep -q "\"lower\":\"hm$$a\""; then
    ok "its macvtap: cascade, same requester, lower named"
else fail "its macvtap: cascade, same requester, lower named" "$rec"; fi
rec=$(grep -F "\"ifname\":\"hm$$b\"" "$EV")
if echo "$rec" | grep -q "\"pid\":$DELPID,"; then ok "its veth peer: same requester"
else fail "its veth peer: same requester" "$rec"; fi
if grep -F "\"ifname\":\"hm$$a\"" "$EV" | grep -q '"cgroup_id":[1-9]' && grep -F "\"ifname\":\"hm$$a\"" "$EV" | grep -q '"ppid":[1-9]'; then
    ok "requester cgroup id and parent filled"
else fail "requester cgroup id and parent filled" "$(grep -F "hm$$a" "$EV" | head -c 300)"; fi

# --- netns teardown: the host-side veth peer goes, nobody sent a request ---
ip netns add $NS
ip link add hn$$a type veth peer name hn$$b netns $NS
sleep 0.3
ip netns del $NS
for _ in $(seq 1 50); do grep -qF "\"ifname\":\"hn$$a\"" "$EV" && break; sleep 0.1; done
rec=$(grep -F "\"ifname\":\"hn$$a\"" "$EV")
if [ "$(printf '%s\n' "$rec" | grep -c .)" -eq 1 ] && echo "$rec" | grep -q '"requester_known":false' &&
   echo "$rec" | grep -q '"pid":null' && echo "$rec" | grep -q '"comm":null' && echo "$rec" | grep -q '"path":"unknown"'; then
    ok "netns teardown: deletion reported, requester and path unknown (not invented)"
else fail "netns teardown: requester marked unknown" "$rec"; fi

# --- a delete that deletes nothing: unseen, with its sender ---
"${BUILD:-build}/tests/nlreq" del-index 2147483000 >/dev/null 2>&1
sleep 4.5
if grep '"result":"unseen"' "$EV" | grep -q '"comm":"nlreq"'; then ok "request with no deletion: reported unseen with its sender"
else fail "request with no deletion: reported unseen" "$(tail -n 2 "$EV")"; fi

# --- filters, text mode, SIGINT ---
"$MG" monitor --kind macvtap >"$OUT/text" 2>>"$OUT/mon.err" &
T=$!
sleep 0.4
ip link add hm$$a type veth peer name hm$$b
ip link add link hm$$a name hm$$t type macvtap mode bridge
ip link del hm$$a
sleep 1.5
kill -INT $T; wait $T; trc=$?
if [ $trc -eq 0 ] && grep -q "deleted  *cascade  *macvtap  *hm$$t(" "$OUT/text" && ! grep -q " veth " "$OUT/text"; then
    ok "text monitor --kind macvtap: one aligned line, SIGINT exits 0"
else fail "text monitor --kind macvtap" "rc=$trc $(cat "$OUT/text")"; fi

# --- one schema (docs/json.md): every event line; text fits 120 columns, --wide labels ---
if python3 tests/lib/json_schema.py event --lines "$EV" 2>"$OUT/schema.err"; then ok "schema: every monitor -j line ($(wc -l <"$EV") events) validates against docs/schema/event.json"
else fail "schema: monitor -j events" "$(cat "$OUT/schema.err")"; fi
if [ "$(head -n 1 "$OUT/text")" = "$(printf '%-13s %-12s %-8s %-7s %-17s %-14s %-18s %s' TIME RESULT PATH KIND LINK OWNER BY GUARD)" ] &&
   [ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$OUT/text")" -le 120 ]; then
    ok "text monitor: a header, every line within 120 columns"
else fail "text monitor width" "$(awk '{ print length($0) ": " $0 }' "$OUT/text" | head -n 3)"; fi
"$MG" monitor --wide --kind macvtap >"$OUT/wide" 2>>"$OUT/mon.err" &
T=$!
sleep 0.4
ip link add hm$$a type veth peer name hm$$b
ip link add link hm$$a name hm$$t type macvtap mode bridge
ip link del hm$$a
sleep 1.5
kill -INT $T; wait $T
if grep -q "^20[0-9-]*T[0-9:.]*Z deleted  *cascade  *macvtap  *hm$$t(.*lower=hm$$a(.*owner=- .*by ip\[[0-9]*/[0-9]*\]" "$OUT/wide"; then
    ok "monitor --wide: full time, lower=, owner=, by comm[pid/tid]"
else fail "monitor --wide" "$(cat "$OUT/wide")"; fi

# --- rtnetlink alone when the fallback is off, said as such ---
kill $MON; wait $MON 2>/dev/null; MON=""
kill $AGENT; wait $AGENT 2>/dev/null
MG_NO_FALLBACK=1 "$MG" run >"$OUT/agent2.log" 2>&1 &
AGENT=$!
for _ in $(seq 1 200); do grep -q "agent running" "$OUT/agent2.log" && break; kill -0 $AGENT 2>/dev/null || break; sleep 0.1; done
"$MG" -j monitor >"$EV.2" 2>/dev/null &
MON=$!
sleep 0.4
ip link add hm$$a type veth peer name hm$$b
ip link del hm$$a
sleep 1
if "$MG" status | grep -q "^monitor: *rtnetlink: rtnetlink link notifications only" &&
   grep -F "\"ifname\":\"hm$$a\"" "$EV.2" | grep -q '"requester_known":false'; then
    ok "without the fallback: rtnetlink only, said so; requester unknown"
else fail "without the fallback: rtnetlink only" "$("$MG" status | grep monitor) $(cat "$EV.2")"; fi
kill $MON; wait $MON 2>/dev/null; MON=""
kill $AGENT; wait $AGENT 2>/dev/null; AGENT=""
"$MG" stop --unpin >/dev/null 2>&1
summary
