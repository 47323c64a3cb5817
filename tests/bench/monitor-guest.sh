#!/bin/bash
# Inside a test guest (see tests/bench/monitor.sh). Environment: MON_BENCH_EVENTS (burst
# size, default 10000), MON_BENCH_ROUNDS (churn rounds per side, default 10),
# MON_BENCH_PAIRS (veth pairs created+deleted per round, default 60).
set -u
ROOT=${MG_ROOT:?}
MG="$ROOT/${BUILD:-build}/macvguard"
NLREQ="$ROOT/${BUILD:-build}/tests/nlreq"
HOLD="$ROOT/${BUILD:-build}/tests/holdtap"
OUT=${MG_RESULTS:?}
N=${1:-${MON_BENCH_EVENTS:-10000}}   # arguments: the guest gets no environment (vm.sh run K SCRIPT N ROUNDS PAIRS)
ROUNDS=${2:-${MON_BENCH_ROUNDS:-10}}
PAIRS=${3:-${MON_BENCH_PAIRS:-60}}

# Agent output and the client's records go to tmpfs (the results share is 9p: slow under
# TCG, it would measure the file system); copied to the results at the end.
TMPO=/tmp/mon-bench; mkdir -p $TMPO
"$MG" run >"$TMPO/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 1 900); do grep -q "agent running" "$TMPO/agent.log" && break; sleep 0.1; done
grep "deletion monitor" "$TMPO/agent.log"
"$MG" -j monitor >"$TMPO/events.jsonl" 2>/dev/null &
MON=$!
sleep 0.5

# --- events/s: N refused deletions of a guarded in-use macvtap, one sendto each ---
ip netns add b1
ip -n b1 link add xa type veth peer name xb
ip -n b1 link set xa up
ip -n b1 link add link xa name mb0 type macvtap mode bridge
ip -n b1 link set mb0 up
IDX=$(ip netns exec b1 cat /sys/class/net/mb0/ifindex)
ip netns exec b1 "$HOLD" "/dev/tap$IDX" "$OUT/hold" &
HOLDER=$!
for _ in $(seq 1 50); do grep -q ready "$OUT/hold" 2>/dev/null && break; sleep 0.1; done
"$MG" tag mb0 --netns b1 --domain bench --pid $HOLDER >/dev/null
before=$(grep -c '"result":"refused"' "$TMPO/events.jsonl")
t0=$(date +%s.%N)
res=$(ip netns exec b1 "$NLREQ" burst-del-name "$N" mb0)
t1=$(date +%s.%N)
# Wait until the client's file stops growing (a cheap stat, not a count over the whole file
# every 50 ms: that competed with the agent and client for the guest's one CPU), then count
# once; the time all were received is the file's last modification.
prev=-1
for _ in $(seq 1 1200); do
    sleep 0.5
    size=$(stat -c %s "$TMPO/events.jsonl")
    [ "$size" = "$prev" ] && break
    prev=$size
done
got=$(( $(grep -c '"result":"refused"' "$TMPO/events.jsonl") - before ))
lost=$(awk -F'"lost":' '/"record":"lost"/ {split($2,a,","); s+=a[1]} END {print s+0}' "$TMPO/events.jsonl")
t2=$(stat -c %.9Y "$TMPO/events.jsonl")
echo "bench: burst $res; received $got lost $lost; send $(echo "$t1 - $t0" | bc) s; all received after $(echo "$t2 - $t0" | bc) s"
echo "bench: events_per_s $(echo "scale=0; $got / ($t2 - $t0)" | bc) (received $got, lost $lost, produced $N)"
kill $HOLDER; wait $HOLDER 2>/dev/null

# --- churn: veth pairs created and deleted through one `ip -batch`, probes on vs off ---
: >"$OUT/churn.batch"
for i in $(seq 1 "$PAIRS"); do
    echo "link add cz$i type veth peer name cy$i" >>"$OUT/churn.batch"
    echo "link del cz$i" >>"$OUT/churn.batch"
done
round() {   # prints pairs per second; adds the round's seconds to $OUT/secs.$1
    local a b
    a=$(date +%s.%N)
    ip -batch "$OUT/churn.batch" >/dev/null 2>&1
    b=$(date +%s.%N)
    echo "$b - $a" | bc >>"$OUT/secs.$1"
    echo "scale=2; $PAIRS / ($b - $a)" | bc
}
# run time the kernel measured in the deletion-path programs (kernel.bpf_stats_enabled)
probe_ns() {
    bpftool prog show -j 2>/dev/null | python3 -c '
import json, sys
t = c = 0
for p in json.load(sys.stdin):
    if p.get("name", "").startswith(("mg_unreg", "mg_dellink", "mg_netns_exit", "mg_tun_close")):
        t += p.get("run_time_ns", 0); c += p.get("run_cnt", 0)
print(t, c)'
}
sysctl -q kernel.bpf_stats_enabled=1 2>/dev/null
round warm >/dev/null    # warm-up
set -- $(probe_ns); ns0=${1:-0}; cnt0=${2:-0}
on=(); off=()
for r in $(seq 1 "$ROUNDS"); do
    "$MG" probes off >/dev/null; off+=("$(round off)")
    "$MG" probes on >/dev/null;  on+=("$(round on)")
done
set -- $(probe_ns); ns1=${1:-0}; cnt1=${2:-0}
on_s=$(paste -sd+ "$OUT/secs.on" | bc)
echo "bench: probe programs during the with-probe rounds: $((cnt1 - cnt0)) runs, $((ns1 - ns0)) ns ($(echo "scale=0; ($ns1 - $ns0) / ($cnt1 - $cnt0 + 1)" | bc) ns per run); churn time with probes ${on_s} s; probe share $(echo "scale=5; ($ns1 - $ns0) / ($on_s * 1000000000)" | bc)"
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mon=$(median "${on[@]}"); moff=$(median "${off[@]}")
echo "bench: churn pairs/s with probes: ${on[*]}"
echo "bench: churn pairs/s without:     ${off[*]}"
echo "bench: churn median with $mon without $moff ratio $(echo "scale=3; $mon / $moff" | bc)"
dels=$(grep -c '"record":"delete"' "$TMPO/events.jsonl")
echo "bench: deletion records received $dels (expected $((ROUNDS * PAIRS * 2 + PAIRS * 2)): both ends of each pair in the with-probe rounds and the warm-up, none in the without rounds)"
echo "bench: $("$MG" status | grep stats:)"
kill -INT $MON; wait $MON
"$MG" stop --unpin >/dev/null
wait $AGENT
ip netns del b1
cp "$TMPO/agent.log" "$TMPO/events.jsonl" "$OUT/" 2>/dev/null
