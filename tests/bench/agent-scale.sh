#!/bin/bash
# Agent at scale, on this host's kernel (part of `make bench`; docs/performance.md "## Agent
# at scale"), flag-only agent in private namespaces, macvlans on a veth as the guarded links:
#  1. start-up reconcile: agent start -> "agent running" (READY) with 0 and with N status
#     files present (each one domain, one interface), and how many links got tagged;
#  2. idle: RSS (VmRSS, VmHWM) and CPU (utime+stime over IDLE seconds) with N guarded links;
#  3. tag latency: D domains start at once (D status files renamed into place in a tight
#     loop, one new link each): rename -> tag written (the tag's tagged_since), p50/p99.
# AGENT_BENCH_LINKS (default 1000), AGENT_BENCH_DOMAINS (100), AGENT_BENCH_IDLE (10 s).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private namespaces: never the host's agent
BUILD=${BUILD:-build}
MG=${MG:-$PWD/$BUILD/macvguard}
N=${AGENT_BENCH_LINKS:-1000}; D=${AGENT_BENCH_DOMAINS:-100}; IDLE=${AGENT_BENCH_IDLE:-10}
T=$(mktemp -d /tmp/mg-agbench.XXXXXX); SD=$T/status; AGENT=""; HOLDER=""
cleanup() {
    [ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
    [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
    ip link del asv0 2>/dev/null
    "$MG" stop --unpin >/dev/null 2>&1
    [ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "agent bench needs root"; exit 1; }
[ -n "${MG_IS_BEFORE:-}" ] || make -s BUILD="$BUILD" all >/dev/null || exit 1
mkdir -p "$SD"
echo "# host $(hostname), kernel $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ); binary $MG"
sleep 3600 >/dev/null 2>&1 & HOLDER=$!   # every domain's "QEMU" (alive: tags are kept)
status_xml() { # NAME DEV
    echo "<domstatus state='running' reason='booted' pid='$HOLDER'><domain type='kvm'><name>$1</name>"
    echo "<uuid>$(printf '%08x-0000-4000-8000-%012x' "${1#d}" "${1#d}")</uuid><devices>"
    echo "<interface type='direct'><source dev='asv0' mode='bridge'/><target dev='$2'/></interface>"
    echo "</devices></domain></domstatus>"
}
ip link add asv0 type veth peer name asv1 || { echo "cannot create the lower veth"; exit 1; }
ip link set asv0 up
for i in $(seq 1 $((N + D))); do echo "link add link asv0 name as$i type macvlan mode bridge"; done >"$T/batch"
ip -batch "$T/batch" || { echo "cannot create $((N + D)) macvlans"; exit 1; }
start_agent() {   # STARTED = seconds from exec to "agent running"
    local t0=$EPOCHREALTIME
    "$MG" run --status-dir "$SD" >"$T/agent.out" 2>"$T/agent.log" &
    AGENT=$!
    for _ in $(seq 1 30000); do grep -q "agent running" "$T/agent.log" && break; sleep 0.01; done
    STARTED=$(awk "BEGIN{printf \"%.3f\", $EPOCHREALTIME - $t0}")
}
stop_agent() { kill "$AGENT"; wait "$AGENT" 2>/dev/null; AGENT=""; }
ntagged() { "$MG" -j links 2>/dev/null | python3 -c 'import json,sys; print(sum(1 for l in json.load(sys.stdin) if l.get("owner_domain")))'; }

# 1. reconcile
start_agent; s0=$STARTED; stop_agent
for i in $(seq 1 "$N"); do status_xml "d$i" "as$i" >"$SD/d$i.xml"; done
"$MG" stop --unpin >/dev/null 2>&1
start_agent; sN=$STARTED
tagged=$(ntagged)
echo "reconcile: start -> ready ${s0} s with 0 status files, ${sN} s with $N (tagged $tagged of $N); goal <= 1 s: $(awk "BEGIN{print ($sN <= 1.0 && $tagged == $N) ? \"met\" : \"missed\"}")"

# 2. idle with N guarded links
sleep 2
read -r u0 s0c < <(awk '{print $14, $15}' /proc/$AGENT/stat)
sleep "$IDLE"
read -r u1 s1c < <(awk '{print $14, $15}' /proc/$AGENT/stat)
hz=$(getconf CLK_TCK)
cpu=$(awk "BEGIN{printf \"%.3f\", 100 * (($u1 + $s1c) - ($u0 + $s0c)) / $hz / $IDLE}")
rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$AGENT/status)
hwm=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$AGENT/status)
echo "idle, $tagged guarded links: RSS ${rss} MiB (peak ${hwm}), CPU ${cpu} % over ${IDLE} s; goals RSS <= 8 MiB: $(awk "BEGIN{print ($rss <= 8) ? \"met\" : \"missed\"}"), CPU <= 0.1 %: $(awk "BEGIN{print ($cpu <= 0.1) ? \"met\" : \"missed\"}")"

# 3. D domains at once: rename -> tag written
for i in $(seq $((N + 1)) $((N + D))); do status_xml "d$i" "as$i" >"$SD/d$i.xml.new"; done
: >"$T/renamed"
for i in $(seq $((N + 1)) $((N + D))); do
    mv "$SD/d$i.xml.new" "$SD/d$i.xml"; echo "as$i $EPOCHREALTIME" >>"$T/renamed"
done
for _ in $(seq 1 300); do [ "$(ntagged)" -ge $((N + D)) ] && break; sleep 0.05; done
"$MG" -j links >"$T/links.json"
python3 - "$T/renamed" "$T/links.json" "$D" <<'PY'
import json, sys, datetime
ren = dict(l.split() for l in open(sys.argv[1]))
lat = []
for l in json.load(open(sys.argv[2])):
    if l["ifname"] in ren and l.get("tagged_since"):
        t = datetime.datetime.strptime(l["tagged_since"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
        lat.append((t - float(ren[l["ifname"]])) * 1000)
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
p99 = pct(0.99)
print("tag latency, %s domains at once: %d tagged; p50 %.1f ms, p99 %.1f ms, max %.1f ms; goal p99 <= 50 ms: %s"
      % (sys.argv[3], len(lat), pct(0.5), p99, lat[-1] if lat else float("nan"),
         "met" if lat and len(lat) == int(sys.argv[3]) and p99 <= 50 else "missed"))
PY
