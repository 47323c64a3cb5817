#!/bin/bash
# Hook bench (part of `make bench`; docs/performance.md "## Hook"): wall time per call,
# process start included, of `started`, `stopped` and `migrate` on a 20-interface domain,
# as libvirtd runs it (posix_spawn, XML on stdin from a file, stdout to /dev/null), of
# `macvguard hook qemu` (what the installed entry runs), with /bin/true for scale. Runs in private namespaces
# with a flag-only agent, 20 macvtaps on a veth, a held "QEMU" pid: `started` does its
# real work (XML, pid file, one RTM_GETLINK dump, 20 tags) and the journal has its
# committer (no fdatasync per hook call), as on a host where the agent runs.
# HOOK_BENCH_RUNS calls per figure (default 300), HOOK_BENCH_ROUNDS rounds (default 3).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private namespaces: never the host's agent or journal
BUILD=${BUILD:-build}
MG=$PWD/$BUILD/macvguard; XB=$PWD/$BUILD/tests/xml-bench
RUNS=${HOOK_BENCH_RUNS:-300}; ROUNDS=${HOOK_BENCH_ROUNDS:-3}
T=$(mktemp -d /tmp/mg-hookbench.XXXXXX); SD=$T/status; AGENT=""; PB=""
cleanup() {
    [ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
    [ -n "$PB" ] && kill "$PB" 2>/dev/null
    "$MG" stop --unpin >/dev/null 2>&1
    ip link del hb0 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
make -s BUILD="$BUILD" all xml-bench-bins >/dev/null || exit 1
[ "$(id -u)" -eq 0 ] || { echo "hook bench needs root"; exit 1; }
mkdir -p "$SD"
ip link add hb0 type veth peer name hb1; ip link set hb0 up; ip link set hb1 up
devs=()
for i in $(seq 0 19); do ip link add link hb0 name hbt$i type macvtap mode bridge; devs+=("hbt$i"); done
sleep 600 >/dev/null 2>&1 & PB=$!
echo "$PB" >"$SD/bench.pid"
{
    echo "<domain type='kvm'><name>bench</name><uuid>0563e920-ad52-4fa5-9b85-e6266ff0db79</uuid><devices>"
    for d in "${devs[@]}"; do echo "<interface type='direct'><source dev='hb0' mode='bridge'/><target dev='$d'/></interface>"; done
    echo "</devices></domain>"
} >"$T/started.xml"
DOM=xml/samples/06-many.xml   # 20 interfaces, 12 generated names that migrate removes
[ "$(grep -c '<interface' "$DOM")" -eq 20 ] || { echo "hook bench: $DOM must have 20 interfaces"; exit 1; }
MACVGUARD_STATUS_DIR=$SD "$MG" run --status-dir "$SD" >"$T/agent.out" 2>"$T/agent.log" &
AGENT=$!
for _ in $(seq 1 100); do grep -q "agent running" "$T/agent.log" && break; sleep 0.05; done
grep -q "agent running" "$T/agent.log" || { echo "agent did not start: $(tail -n 3 "$T/agent.log")"; exit 1; }
export MACVGUARD_STATUS_DIR=$SD
median_of() { sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'; }
echo "# host $(hostname), kernel $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ); $ROUNDS rounds x $RUNS calls (posix_spawn), medians in ms"
for r in $(seq 1 "$ROUNDS"); do
    for op in started stopped migrate; do
        in=$DOM; [ "$op" = started ] && in=$T/started.xml
        read -r _mean med < <("$XB" --exec "$RUNS" "$in" "$MG" hook qemu bench "$op" begin -)
        echo "$med" >>"$T/$op.whole"
    done
    read -r _mean med < <("$XB" --exec "$RUNS" "$DOM" /bin/true); echo "$med" >>"$T/true"
done
tagged=$("$MG" -j links | python3 -c 'import json,sys; print(sum(1 for l in json.load(sys.stdin) if l["owner_domain"]=="bench"))')
[ "$tagged" = 20 ] || echo "hook bench: started tagged $tagged of 20 links (expected 20)"
t=$(median_of <"$T/true")
printf '%-8s %22s %s\n' op "macvguard hook qemu" "goal <= 1.0 ms"
for op in started stopped migrate; do
    w=$(median_of <"$T/$op.whole")
    printf '%-8s %19s ms %s\n' "$op" "$w" \
        "$(awk "BEGIN{print ($w <= 1.0) ? \"met\" : \"missed\"}") (rounds: $(tr '\n' ' ' <"$T/$op.whole"))"
done
echo "/bin/true, for scale: $t ms (rounds: $(tr '\n' ' ' <"$T/true")); 20 links tagged to bench: $tagged"
