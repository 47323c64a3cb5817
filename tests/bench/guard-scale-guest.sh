#!/bin/bash
# Runs inside a test guest (tests/bench/guard-scale.sh): the guard's per-call cost from the
# kernel's own bpf_stats (run_time_ns / run_cnt of mg_netlink_send over one workload) as the
# netns grows (devices, with one altname each) and as the tags grow, in one boot.
#  - getlink: RTM_GETLINK request/reply round trips (the fast path every netlink user pays);
#  - del-name untagged: RTM_DELLINK by name of an untagged device that exists;
#  - del guarded: RTM_DELLINK by name of a guarded device (refused: it stays);
#  - del lower with N uppers: RTM_DELLINK of a device that carries N macvtaps, none guarded.
# The deletions are sent as uid 65534: the guard resolves them in full (it runs before the
# kernel's capability check), then the kernel refuses them, so every call finds the same
# state. Sizes with rounds interleaved (TCG moves 2-3x between minutes): median and spread.
set -u
# settings come as arguments (the guest gets no environment): SCALE_DEVS="1 100" ...
for kv in "$@"; do case $kv in SCALE_*=*) export "$kv" ;; esac; done
ROOT=${MG_ROOT:?}
MG="$ROOT/${BUILD:-build}/macvguard"
NLREQ="$ROOT/${BUILD:-build}/tests/nlreq"
OUT=${MG_RESULTS:?}
ROUNDS=${SCALE_ROUNDS:-3}
SENDS=${SCALE_SENDS:-400}
GETLINK_N=${SCALE_GETLINK:-5000}
DEVS=${SCALE_DEVS:-1 100 1000 4000}
TAGS=${SCALE_TAGS:-1 100 1000}
UPPERS=${SCALE_UPPERS:-1 100 1000}
KROOT=$(readlink -f "$ROOT/${BUILD:-build}/vm/${MG_KVER:?}/root")
for m in dummy macvlan macvtap; do modprobe -d "$KROOT" $m 2>/dev/null || modprobe $m 2>/dev/null; done

median() { sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
spread() { sort -g | awk 'NR==1{lo=$1} {hi=$1} END{printf "%s..%s", lo, hi}'; }
prog_ns_cnt() {
    bpftool prog show name mg_netlink_send -j | python3 -c '
import json, sys
d = json.load(sys.stdin); d = d if isinstance(d, list) else [d]
print(sum(p.get("run_time_ns", 0) for p in d), sum(p.get("run_cnt", 0) for p in d))'
}
# per_call FILE CMD...: run CMD, append the guard's mean run time per call to FILE
per_call() {
    local f=$1 t0 c0 t1 c1; shift
    set -- "$@"
    read -r t0 c0 <<<"$(prog_ns_cnt)"
    "$@" >/dev/null 2>&1
    read -r t1 c1 <<<"$(prog_ns_cnt)"
    [ "$c1" -gt "$c0" ] && echo "$(( (t1 - t0) / (c1 - c0) ))" >>"$f"
}
# getlink_rate N: GETLINK round trips in netns nN; the round-trip rate goes to /tmp/glr.N
getlink_rate() {
    ip netns exec "n$1" taskset -c 0 "$NLREQ" getlink-loop "$GETLINK_N" | awk '{print $2}' | tr -d '/s' >>"/tmp/glr.$1"
}
as_nobody() { local ns=$1; shift; ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

"$MG" run >>"$OUT/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 1 600); do grep -q "agent running (pid $AGENT)" "$OUT/agent.log" && break; sleep 0.1; done
sleep 1000000 &
OWNER=$!
sysctl -q kernel.bpf_stats_enabled=1

# --- netns size: devices d-1..d-N (dummies, one altname each); d-1 guarded ---
for n in $DEVS; do
    ip netns add "n$n"
    for i in $(seq 1 "$n"); do
        echo "link add d-$i type dummy"
        echo "link property add dev d-$i altname alternative-name-of-d-$i"
    done >/tmp/scale.batch
    ip -n "n$n" -batch /tmp/scale.batch
    "$MG" tag d-1 --netns "n$n" --domain bench --pid "$OWNER" >/dev/null
done
: >/tmp/scale.rows
for r in $(seq 1 "$ROUNDS"); do
    for n in $DEVS; do
        mid=$(( (n + 1) / 2 )); [ "$mid" -lt 2 ] && mid=$n
        per_call "/tmp/gl.$n" getlink_rate "$n"
        [ "$n" -gt 1 ] && per_call "/tmp/du.$n" as_nobody "n$n" "$NLREQ" burst-del-name "$SENDS" "d-$mid"
        per_call "/tmp/dg.$n" as_nobody "n$n" "$NLREQ" burst-del-name "$SENDS" d-1
    done
done
echo "guard per call (bpf_stats mean ns), by devices in the netns (each with one altname; one guarded):"
printf '%-8s %-26s %-10s %-26s %-26s\n' devices "RTM_GETLINK" "its share" "DELLINK name, untagged" "DELLINK name, guarded"
for n in $DEVS; do
    du="-"; [ -s "/tmp/du.$n" ] && du="$(median <"/tmp/du.$n") ($(spread <"/tmp/du.$n"))"
    # share of one GETLINK round trip (median per-call cost / median round-trip time)
    share=$(awk -v c="$(median <"/tmp/gl.$n")" -v r="$(median <"/tmp/glr.$n")" 'BEGIN{printf "%.2f %%", 100 * c * r / 1e9}')
    printf '%-8s %-26s %-10s %-26s %-26s\n' "$n" "$(median <"/tmp/gl.$n") ($(spread <"/tmp/gl.$n"))" "$share" "$du" \
        "$(median <"/tmp/dg.$n") ($(spread <"/tmp/dg.$n"))"
done
big=$(echo $DEVS | awk '{print $NF}')
for n in $DEVS; do [ "$n" != "$big" ] && [ "$n" != 1 ] && ip netns del "n$n"; done

# --- tags: G guarded devices in a netns of max(TAGS) devices ---
tmax=$(echo $TAGS | tr ' ' '\n' | sort -g | tail -n1)
ip netns add tg
for i in $(seq 1 "$tmax"); do echo "link add t-$i type dummy"; done >/tmp/scale.batch
ip -n tg -batch /tmp/scale.batch
tagged=0
for g in $(echo $TAGS | tr ' ' '\n' | sort -g); do
    while [ "$tagged" -lt "$g" ]; do
        tagged=$((tagged + 1))
        "$MG" tag "t-$tagged" --netns tg --domain "bench$tagged" --pid "$OWNER" >/dev/null
    done
    for r in $(seq 1 "$ROUNDS"); do
        per_call "/tmp/tg.$g" as_nobody tg "$NLREQ" burst-del-name "$SENDS" "t-$g"
        per_call "/tmp/tu.$g" as_nobody tg "$NLREQ" burst-del-name "$SENDS" "t-$tmax"
    done
done
echo "guard per call by guarded links ($tmax devices in the netns):"
printf '%-8s %-26s %-26s\n' tags "DELLINK name, guarded" "DELLINK name, untagged"
for g in $TAGS; do
    tu="-"; [ "$g" != "$tmax" ] && tu="$(median <"/tmp/tu.$g") ($(spread <"/tmp/tu.$g"))"
    printf '%-8s %-26s %-26s\n' "$g" "$(median <"/tmp/tg.$g") ($(spread <"/tmp/tg.$g"))" "$tu"
done
ip netns del tg

# --- a lower device carrying N macvtaps (none guarded): the cascade walks every one ---
for u in $UPPERS; do
    ip netns add "u$u"
    ip -n "u$u" link add low type dummy
    for i in $(seq 1 "$u"); do echo "link add link low name mt$i type macvtap mode bridge"; done >/tmp/scale.batch
    ip -n "u$u" -batch /tmp/scale.batch
    ip -n "u$u" link add keep type dummy
    "$MG" tag keep --netns "u$u" --domain bench --pid "$OWNER" >/dev/null   # something guarded
    for r in $(seq 1 "$ROUNDS"); do
        per_call "/tmp/ul.$u" as_nobody "u$u" "$NLREQ" burst-del-name $(( SENDS / 4 )) low
    done
    ip netns del "u$u"
done
echo "guard per call, DELLINK of a lower device with N macvtaps (none guarded; cascade bound 2,048):"
for u in $UPPERS; do
    printf '%-8s %s\n' "$u" "$(median <"/tmp/ul.$u") ($(spread <"/tmp/ul.$u")) ns"
done
sysctl -q kernel.bpf_stats_enabled=0
"$MG" stop --unpin >/dev/null; wait "$AGENT" 2>/dev/null
kill "$OWNER" 2>/dev/null
echo "rounds $ROUNDS, $SENDS sends per deletion figure, $GETLINK_N GETLINK round trips per figure"
