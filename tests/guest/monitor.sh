#!/bin/bash
# Deletion monitor scenarios, run as root inside a test guest (Debian 6.1 / 6.12 with BPF LSM
# and fentry): every way a link goes away gives exactly the expected deletion records, with
# the right path, requester and result; a 10,000-attempt burst loses nothing unaccounted.
set -u
ROOT=${MG_ROOT:?}
. "$ROOT/tests/guest/lib.sh"
MG="$ROOT/${BUILD:-build}/macvguard"
TOOLS="$ROOT/${BUILD:-build}/tests"
NLREQ="$TOOLS/nlreq"
HOLD="$TOOLS/holdtap"
OUT=${MG_RESULTS:?}
EVENTS="$OUT/monitor.jsonl"
TEXT="$OUT/monitor.txt"
HOLDER=""
BURST=${MG_BURST:-10000}

# reap NAME PID...: signal already sent; wait up to 10 s, then report and SIGKILL
reap() {
    local name=$1 p i; shift
    for p in "$@"; do
        for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$p" 2>/dev/null; then
            fail "$name exits on its signal" "pid $p still running after 10 s: $(cat /proc/$p/wchan 2>/dev/null) $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)"
            kill -9 "$p" 2>/dev/null
        fi
    done
}

agent_start() {
    "$MG" run >>"$OUT/agent.log" 2>&1 &
    AGENT=$!
    for _ in $(seq 1 900); do   # BPF verification under TCG can take tens of seconds
        grep -q "agent running (pid $AGENT)" "$OUT/agent.log" 2>/dev/null && break
        kill -0 "$AGENT" 2>/dev/null || break
        sleep 0.1
    done
    "$MG" -j monitor >>"$EVENTS" 2>>"$OUT/monitor.err" &
    MONITOR=$!
    "$MG" monitor >>"$TEXT" 2>>"$OUT/monitor.err" &
    MONITOR_TEXT=$!
    sleep 0.5
}

# records NAME: the JSON records naming ifname NAME (deletion and request records)
records() { grep -F "\"ifname\":\"$1\"" "$EVENTS" 2>/dev/null; }
# settle: wait until the stream has been quiet for 1 s (max 20 s)
settle() {
    local n m i
    n=$(wc -l <"$EVENTS")
    for i in $(seq 1 40); do
        sleep 0.5
        m=$(wc -l <"$EVENTS")
        if [ "$m" -eq "$n" ] && [ $((i % 2)) -eq 0 ]; then return 0; fi
        n=$m
    done
}
mark() { MARK=$(wc -l <"$EVENTS"); }
since() { tail -n +"$((MARK + 1))" "$EVENTS"; }
# expect_one NAME PATTERN... : exactly one record since the mark for NAME, matching all patterns
expect_one() {
    local name=$1 ifn=$2 p lines n; shift 2
    lines=$(since | grep -F "\"ifname\":\"$ifn\"")
    n=$(printf '%s' "$lines" | grep -c . || true)
    if [ "$n" -ne 1 ]; then fail "$name" "$n records for $ifn: $(printf '%s' "$lines" | head -c 600)"; return; fi
    for p in "$@"; do
        case "$lines" in *"$p"*) ;; *) fail "$name" "record lacks $p: $(printf '%s' "$lines" | head -c 600)"; return ;; esac
    done
    ok "$name"
}

: >"$EVENTS"; : >"$TEXT"; : >"$OUT/agent.log"
agent_start
st=$("$MG" status)
if echo "$st" | grep -q "^monitor: *kernel: fentry on the unregister path, seen reporting"; then ok "status: kernel deletion monitor, verified by a test deletion"
else fail "status: kernel deletion monitor, verified by a test deletion" "$(echo "$st" | tr '\n' ' ')"; fi

# --- ip link del ---
ip netns add m1
ip -n m1 link add va type veth peer name vb
ip -n m1 link add link va name mt0 type macvtap mode bridge
settle; mark
ip -n m1 link del mt0
settle
expect_one "ip link del: one record, netlink, deleted, by ip" mt0 '"record":"delete"' '"path":"netlink"' \
    '"result":"deleted"' '"kind":"macvtap"' '"lower":"va"' '"comm":"ip"' '"requester_known":true'

# --- cascade: deleting the lower veth takes 3 macvtaps ---
for i in 1 2 3; do ip -n m1 link add link va name mc$i type macvtap mode bridge; done
settle; mark
ip -n m1 link del va
settle
for i in 1 2 3; do
    expect_one "lower veth deleted: mc$i reported once as cascade, by ip" mc$i '"path":"cascade"' \
        '"result":"deleted"' '"kind":"macvtap"' '"lower":"va"' '"comm":"ip"'
done
expect_one "lower veth deleted: va itself reported via netlink" va '"path":"netlink"' '"kind":"veth"'
expect_one "lower veth deleted: its peer vb reported via netlink" vb '"path":"netlink"' '"kind":"veth"'
n=$(since | grep -c '"path":"cascade"' || true)
if [ "$n" -eq 3 ]; then ok "cascade: exactly 3 cascade records"; else fail "cascade: exactly 3 cascade records" "$n"; fi
ip netns del m1

# --- ip netns del ---
ip netns add m2
ip -n m2 link add wa type veth peer name wb
ip -n m2 link add link wa name mn0 type macvtap mode bridge
settle; mark
ip netns del m2
settle
expect_one "netns torn down: macvtap reported as netns, requester unknown" mn0 '"path":"netns"' \
    '"result":"deleted"' '"requester_known":false' '"pid":null' '"comm":null'
expect_one "netns torn down: veth reported as netns" wa '"path":"netns"' '"requester_known":false'

# --- refused deletion of a guarded, in-use macvtap ---
ip netns add m3
ip -n m3 link add xa type veth peer name xb
ip -n m3 link set xa up
ip -n m3 link add link xa name mg0 type macvtap mode bridge
ip -n m3 link set mg0 up
IDX=$(ip netns exec m3 cat /sys/class/net/mg0/ifindex)
rm -f "$OUT/hold.status"
ip netns exec m3 "$HOLD" "/dev/tap$IDX" "$OUT/hold.status" &
HOLDER=$!
for _ in $(seq 1 50); do grep -q ready "$OUT/hold.status" 2>/dev/null && break; sleep 0.1; done
"$MG" tag mg0 --netns m3 --domain guestA --pid "$HOLDER" >/dev/null
settle; mark
ip -n m3 link del mg0 2>/dev/null; rc=$?
settle
if [ "$rc" -ne 0 ] && ip -n m3 link show mg0 >/dev/null 2>&1; then ok "refused: ip link del fails, link stays"
else fail "refused: ip link del fails, link stays" "rc=$rc"; fi
expect_one "refused: one record, refused, deny, owner guestA, by ip" mg0 '"result":"refused"' \
    '"verdict":"deny"' '"owner_domain":"guestA"' '"comm":"ip"' '"path":"netlink"'

# --- allowed deletion of a guarded link: request and deletion are one record ---
"$MG" release mg0 --netns m3 >/dev/null
settle; mark
ip -n m3 link del mg0; rc=$?
settle
expect_one "released link deleted: one record joining verdict and deletion" mg0 '"record":"delete"' \
    '"result":"deleted"' '"verdict":"allow"' '"reason":"released"' '"owner_domain":"guestA"' '"comm":"ip"'
kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null; HOLDER=""

# --- a failed deletion ---
settle; mark
"$NLREQ" del-index 987654 >/dev/null 2>&1
settle
if since | grep '"result":"failed"' | grep -q '"error":"ENODEV"'; then ok "failed delete: result failed, ENODEV"
else fail "failed delete: result failed, ENODEV" "$(since | head -c 400)"; fi

# --- tap fd close (non-persistent tap) ---
rm -f "$OUT/hold.status"
ip netns exec m3 "$HOLD" --tun vt0 "$OUT/hold.status" &
HOLDER=$!
for _ in $(seq 1 50); do grep -q ready "$OUT/hold.status" 2>/dev/null && break; sleep 0.1; done
settle; mark
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null; HOLDER=""
settle
expect_one "tap closed: reported as tapclose, kind tap, by holdtap" vt0 '"path":"tapclose"' '"kind":"tap"' '"comm":"holdtap"'

# --- text mode: one aligned line per record ---
# (the BY column says "unknown" when the kernel could not tell; lines fit 120 columns)
if grep -q "deleted *cascade *macvtap *mc1(" "$TEXT" && grep -q "refused *netlink *macvtap *mg0(" "$TEXT" &&
   grep -qE "^[0-9:.]+Z +[a-z:A-Z]+ +[a-z]+ +[a-z-]+ +[^ ]+ +[^ ]+ +unknown " "$TEXT" && head -n 1 "$TEXT" | grep -q "^TIME  *RESULT  *PATH" &&
   [ "$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$TEXT")" -le 120 ]; then
    ok "text monitor: a header, aligned lines within 120 columns for cascade, refusal and unknown requester"
else fail "text monitor: aligned lines" "$(head -n 5 "$TEXT" | tr '\n' '|')"; fi

# --- filters ---
"$MG" -j monitor --kind veth --verdict none >"$OUT/filt.jsonl" 2>>"$OUT/monitor.err" &
F=$!
sleep 0.5
ip -n m3 link add fa type veth peer name fb
ip -n m3 link add link fa name fm0 type macvtap
ip -n m3 link del fa
settle
kill -INT "$F"; wait "$F"; frc=$?
if [ "$frc" -eq 0 ] && grep -q '"ifname":"fa"' "$OUT/filt.jsonl" && ! grep -q '"kind":"macvtap"' "$OUT/filt.jsonl"; then
    ok "monitor --kind veth: veth only; SIGINT exits 0"
else fail "monitor --kind veth: veth only; SIGINT exits 0" "rc=$frc $(head -c 300 "$OUT/filt.jsonl")"; fi

# --- burst: N refused deletions in a tight loop; received + lost == produced ---
ip -n m3 link add link xa name mb0 type macvtap mode bridge
ip -n m3 link set mb0 up
BIDX=$(ip netns exec m3 cat /sys/class/net/mb0/ifindex)
rm -f "$OUT/hold.status"
ip netns exec m3 "$HOLD" "/dev/tap$BIDX" "$OUT/hold.status" &
HOLDER=$!
for _ in $(seq 1 50); do grep -q ready "$OUT/hold.status" 2>/dev/null && break; sleep 0.1; done
"$MG" tag mb0 --netns m3 --domain burst --pid "$HOLDER" >/dev/null
settle; mark
lost_before=$(awk -F'"lost":' '/"record":"lost"/ {split($2,a,","); s+=a[1]} END {print s+0}' "$EVENTS")
res=$(ip netns exec m3 "$NLREQ" burst-del-name "$BURST" mb0)
settle; sleep 2; settle
got=$(since | grep -F '"ifname":"mb0"' | grep -c '"result":"refused"' || true)
lost=$(since | awk -F'"lost":' '/"record":"lost"/ {split($2,a,","); s+=a[1]} END {print s+0}')
refused=$(echo "$res" | awk '{print $4}')
echo "# burst: $res; received $got, lost $lost"
if [ "$refused" = "$BURST" ] && [ $((got + lost)) -eq "$BURST" ]; then
    ok "burst of $BURST refused deletions: received $got + lost $lost = $BURST"
else fail "burst: received + lost = produced" "$res; received $got lost $lost"; fi
kstat=$("$MG" -j status | grep -o '"events_lost":[0-9]*')
echo "# kernel $kstat"

# --- the same burst into a client that cannot keep up: loss is counted, exactly ---
kill -INT "$MONITOR" "$MONITOR_TEXT" 2>/dev/null; wait "$MONITOR" "$MONITOR_TEXT" 2>/dev/null
kill "$AGENT"; wait "$AGENT" 2>/dev/null
MG_CLIENT_SNDBUF=65536 "$MG" run >>"$OUT/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 1 300); do [ "$(grep -c "agent running" "$OUT/agent.log")" -ge 2 ] && break; sleep 0.1; done
"$MG" -j monitor >"$OUT/slow.jsonl" 2>>"$OUT/monitor.err" &
SLOW=$!
sleep 0.5
kill -STOP "$SLOW"
res=$(ip netns exec m3 "$NLREQ" burst-del-name "$BURST" mb0)
sleep 1
kill -CONT "$SLOW"
sleep 3
for _ in $(seq 1 100); do
    got=$(grep -F '"ifname":"mb0"' "$OUT/slow.jsonl" | grep -c '"result":"refused"' || true)
    lost=$(awk -F'"lost":' '/"record":"lost"/ {split($2,a,","); s+=a[1]} END {print s+0}' "$OUT/slow.jsonl")
    [ $((got + lost)) -ge "$BURST" ] && break
    sleep 0.2
done
echo "# slow client burst: $res; received $got, lost $lost"
if [ "$lost" -gt 0 ] && [ $((got + lost)) -eq "$BURST" ]; then
    ok "burst into a stalled client: received $got + lost $lost = $BURST (loss reported in-stream)"
else fail "burst into a stalled client: received + lost = produced, with loss" "received $got lost $lost"; fi
kill -INT "$SLOW"; reap "stalled monitor" "$SLOW"
kill "$HOLDER" 2>/dev/null; reap holdtap "$HOLDER"; HOLDER=""
echo "# cleanup"
"$MG" stop --unpin >/dev/null
reap agent "$AGENT"
ip netns del m3 2>/dev/null
summary
exit $?
