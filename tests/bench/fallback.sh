#!/bin/bash
# Fallback bench (part of `make bench`; docs/performance.md "## Fallback"), on this host's
# own kernel: the fallback's syscall tracepoints run on every sendmsg/sendto of every
# process. A UDP sendto loop and an RTM_GETLINK loop, with and without the fallback agent,
# interleaved in one run (ROUNDS pairs; the median of each), and the kernel's bpf_stats
# (run_time_ns / run_cnt) per tracepoint program while the loops ran.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private namespaces: never the host's agent
MG=${BUILD:-build}/macvguard
NLREQ=${BUILD:-build}/tests/nlreq
ROUNDS=${FB_BENCH_ROUNDS:-5}
UDP_N=${FB_BENCH_UDP:-300000}
GL_N=${FB_BENCH_GETLINK:-100000}
OUT=$(mktemp -d /tmp/mg-fbbench.XXXXXX)
AGENT=""
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
    [ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
    sysctl -q kernel.bpf_stats_enabled="$stats_was"
    "$MG" stop --unpin >/dev/null 2>&1
    rm -rf "$OUT"
}
trap cleanup EXIT
make -s all test-tools >/dev/null || exit 1
[ "$(id -u)" -eq 0 ] || { echo "fallback bench needs root"; exit 1; }

start_agent() {
    MACVGUARD_NO_JOURNAL=1 "$MG" run >"$OUT/agent.log" 2>&1 &
    AGENT=$!
    for _ in $(seq 1 200); do grep -q "agent running" "$OUT/agent.log" && break; sleep 0.05; done
    grep -q "monitor: fallback" "$OUT/agent.log" || { echo "fallback did not start: $(cat "$OUT/agent.log")"; exit 1; }
}
stop_agent() { kill "$AGENT"; wait "$AGENT" 2>/dev/null; AGENT=""; return 0; }
rate() { "$@" | sed -n 's/^rate \([0-9.]*\).*/\1/p'; }
# per program: name run_cnt run_time_ns, for the programs our agent loaded (ids that were
# not there before it started: other agents on the host may run their own)
fb_ids() {
    bpftool -j prog show 2>/dev/null | python3 -c '
import json,sys
for p in json.load(sys.stdin):
    if p.get("name","").startswith("mg_fb_"): print(p["id"])'
}
prog_stats() {
    bpftool -j prog show 2>/dev/null | IDS="$OURS" python3 -c '
import json,os,sys
ours = set(os.environ["IDS"].split())
for p in json.load(sys.stdin):
    if str(p["id"]) in ours:
        print(p["name"], p.get("run_cnt",0), p.get("run_time_ns",0))'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "# host $(hostname), kernel $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ); $ROUNDS interleaved rounds"
# Throughput with bpf_stats off (its clock reads would be part of the cost); the order of
# with/without alternates between rounds; the agent settles 2 s after it starts.
for r in $(seq 1 "$ROUNDS"); do
    for phase in $([ $((r % 2)) = 1 ] && echo "off on" || echo "on off"); do
        if [ $phase = on ]; then start_agent; sleep 2; fi
        echo "$(rate "$NLREQ" udp-loop "$UDP_N")" >>"$OUT/udp.$phase"
        echo "$(rate "$NLREQ" getlink-loop "$GL_N")" >>"$OUT/gl.$phase"
        [ $phase = on ] && stop_agent
    done
done
uoff=$(median <"$OUT/udp.off"); uon=$(median <"$OUT/udp.on")
goff=$(median <"$OUT/gl.off"); gon=$(median <"$OUT/gl.on")
printf 'udp sendto loop:   without %10.0f/s  with %10.0f/s  ratio %.3f (median of %d)\n' "$uoff" "$uon" "$(echo "$uon / $uoff" | bc -l)" "$ROUNDS"
printf 'RTM_GETLINK loop:  without %10.0f/s  with %10.0f/s  ratio %.3f (median of %d)\n' "$goff" "$gon" "$(echo "$gon / $goff" | bc -l)" "$ROUNDS"
# The kernel's own per-call cost, each loop alone (bpf_stats on for this pass only).
fb_ids >"$OUT/ids.before"
start_agent; sleep 2
OURS=$(fb_ids | grep -vxFf "$OUT/ids.before" | tr '\n' ' ')
sysctl -q kernel.bpf_stats_enabled=1
for loop in "udp-loop $UDP_N" "getlink-loop $GL_N"; do
    prog_stats >"$OUT/ps.before"
    "$NLREQ" $loop >/dev/null
    prog_stats >"$OUT/ps.after"
    join "$OUT/ps.before" "$OUT/ps.after" | awk -v l="${loop%% *}" '$4 > $2 {
        printf "bpf_stats %-13s %-14s run_cnt %8d  run_time_ns %11d  %6.1f ns/call\n", l, $1, $4-$2, $5-$3, ($5-$3)/($4-$2) }'
done
sysctl -q kernel.bpf_stats_enabled=0
stop_agent
# The goal is a figure, not a verdict on the run: say met or missed, with the ratio.
for pair in "udp:$uon:$uoff" "getlink:$gon:$goff"; do
    IFS=: read -r n on off <<<"$pair"
    ratio=$(echo "scale=3; $on / $off" | bc -l)
    if [ "$(echo "$on >= 0.95 * $off" | bc -l)" = 1 ]; then echo "goal met: $n with the fallback ${ratio}x without (>= 0.95x)"
    else echo "goal missed: $n with the fallback ${ratio}x without (goal >= 0.95x)"; fi
done
