#!/bin/bash
# Event pipeline bench on this host's kernel (part of `make bench`; docs/performance.md
# "## Event pipeline"): a flag-only agent in private namespaces, one `monitor -j` client
# writing to a file, N macvlans on a veth deleted at once (`ip link del group`): each
# deletion is one event (rtnetlink notification -> fallback -> journal, stdout, client).
# Figures per burst: time until the client holds all N (received + counted lost = N is
# checked), events/s, lost, and the journal's verdict records. EVENTS_BENCH_SIZES (default
# "10000 20000"); MG=path runs another build's binary (a before/after comparison).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private namespaces: never the host's agent or journal
BUILD=${BUILD:-build}
MG=${MG:-$PWD/$BUILD/macvguard}
SIZES=${EVENTS_BENCH_SIZES:-10000 20000}
T=$(mktemp -d /tmp/mg-evbench.XXXXXX); AGENT=""; MON=""
cleanup() {
    [ -n "$MON" ] && kill "$MON" 2>/dev/null && wait "$MON" 2>/dev/null
    [ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
    ip link del evd0 2>/dev/null
    "$MG" stop --unpin >/dev/null 2>&1
    [ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "events bench needs root"; exit 1; }
[ -n "${MG_IS_BEFORE:-}" ] || make -s BUILD="$BUILD" all >/dev/null || exit 1
echo "# host $(hostname), kernel $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ); binary $MG"
# agent stdout to a file on tmpfs (as journald would take it), journal on tmpfs
MACVGUARD_JOURNAL_SEGMENT=64M MACVGUARD_JOURNAL_RETAIN=1G "$MG" run >"$T/agent.out" 2>"$T/agent.log" &
AGENT=$!
for _ in $(seq 1 200); do grep -q "agent running" "$T/agent.log" && break; sleep 0.05; done
grep -q "agent running" "$T/agent.log" || { echo "agent did not start: $(tail -n 3 "$T/agent.log")"; exit 1; }
"$MG" -j monitor >"$T/events.jsonl" 2>"$T/mon.err" &
MON=$!
sleep 0.5
ip link add evd0 type veth peer name evd1 || { echo "cannot create the lower veth"; exit 1; }
printf '%-7s %9s %9s %7s %12s %10s %s\n' burst received lost "secs" "events/s" "journal" "(ip link del: secs)"
for n in $SIZES; do
    for i in $(seq 1 "$n"); do echo "link add link evd0 name ev$i group 91 type macvlan mode bridge"; done >"$T/batch"
    ip -batch "$T/batch" || { echo "cannot create $n macvlans"; exit 1; }
    sleep 1
    mark=$(grep -c . "$T/events.jsonl"); jbefore=$("$MG" journal -j 2>/dev/null | grep -c '"result":"deleted"')
    t0=$EPOCHREALTIME
    ip link del group 91
    tip=$EPOCHREALTIME
    got=0; lost=0
    for _ in $(seq 1 6000); do
        tail -n +$((mark + 1)) "$T/events.jsonl" >"$T/after"
        got=$(grep -c '"ifname":"ev[0-9]*".*"result":"deleted"\|"result":"deleted".*"ifname":"ev[0-9]*"' "$T/after")
        lost=$(grep '"record":"lost"' "$T/after" | grep -o '"lost":[0-9]*' | cut -d: -f2 | paste -sd+ | bc 2>/dev/null)
        [ $((got + ${lost:-0})) -ge "$n" ] && break
        sleep 0.02
    done
    t1=$EPOCHREALTIME
    j=$(( $("$MG" journal -j 2>/dev/null | grep -c '"result":"deleted"') - jbefore ))
    secs=$(awk "BEGIN{printf \"%.2f\", $t1 - $t0}")
    printf '%-7s %9s %9s %7s %12s %10s %s%s\n' "$n" "$got" "${lost:-0}" "$secs" \
        "$(awk "BEGIN{printf \"%.0f\", $got / ($t1 - $t0)}")" "$j" "($(awk "BEGIN{printf \"%.2f\", $tip - $t0}"))" \
        "$([ $((got + ${lost:-0})) -eq "$n" ] || echo "  (received + lost != $n)")"
done
