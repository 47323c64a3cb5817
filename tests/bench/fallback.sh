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
stop_agent() { kill "$AGENT"; wait "$AGENT" 2>/dev/null; AGENT=""; }
rate() { "$@" | sed -n 's/^rate \([0-9.]*\).*/\1/p'; }
# per program: name run_cnt run_time_ns (tracepoint programs of the fallback only)
prog_stats() {
    bpftool -j prog show 2>/dev/null | python3 -c '
import json,sys
for p in json.load(sys.stdin):
    if p.get("name","").startswith("mg_fb_"):
        print(p["name"], p.get("run_cnt",0), p.get("run_time_ns",0))'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

sysctl -q kernel.bpf_stats_enabled=1
echo "# host $(hostname), kernel $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ); $ROUNDS interleaved rounds"
for r in $(seq 1 "$ROUNDS"); do
    echo "$(rate "$NLREQ" udp-loop "$UDP_N")" >>"$OUT/udp.off"
    echo "$(rate "$NLREQ" getlink-loop "$GL_N")" >>"$OUT/gl.off"
    start_agent
    prog_stats >"$OUT/ps.before"
    echo "$(rate "$NLREQ" udp-loop "$UDP_N")" >>"$OUT/udp.on"
    echo "$(rate "$NLREQ" getlink-loop "$GL_N")" >>"$OUT/gl.on"
    prog_stats >"$OUT/ps.after"
    join "$OUT/ps.before" "$OUT/ps.after" | awk '{print $1, $4-$2, $5-$3}' >>"$OUT/ps.delta"
    stop_agent
done
uoff=$(median <"$OUT/udp.off"); uon=$(median <"$OUT/udp.on")
goff=$(median <"$OUT/gl.off"); gon=$(median <"$OUT/gl.on")
printf 'udp sendto loop:   without %10.0f/s  with %10.0f/s  ratio %.3f\n' "$uoff" "$uon" "$(echo "$uon / $uoff" | bc -l)"
printf 'RTM_GETLINK loop:  without %10.0f/s  with %10.0f/s  ratio %.3f\n' "$goff" "$gon" "$(echo "$gon / $goff" | bc -l)"
awk '{c[$1]+=$2; t[$1]+=$3} END {for (p in c) printf "bpf_stats %-16s run_cnt %10d  run_time_ns %12d  %6.1f ns/call\n", p, c[p], t[p], c[p] ? t[p]/c[p] : 0}' "$OUT/ps.delta" | sort
rc=0
for pair in "udp:$uon:$uoff" "getlink:$gon:$goff"; do
    IFS=: read -r n on off <<<"$pair"
    if [ "$(echo "$on >= 0.95 * $off" | bc -l)" = 1 ]; then echo "ok - $n with the fallback >= 0.95x without"
    else echo "not ok - $n with the fallback >= 0.95x without"; rc=1; fi
done
exit $rc
