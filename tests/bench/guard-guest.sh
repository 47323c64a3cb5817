#!/bin/bash
# Runs inside a test guest (see tests/bench/guard.sh): the guard's cost, measured with and
# without it in the same boot, in interleaved rounds (A B A B ...), medians and spread.
#  - getlink: RTM_GETLINK request/reply round trips (every netlink user pays this);
#  - churn: create + delete of a veth pair and a macvtap through `ip -batch`;
#  - the programs' own run time per call from the kernel (kernel.bpf_stats_enabled).
set -u
ROOT=${MG_ROOT:?}
MG="$ROOT/${BUILD:-build}/macvguard"
NLREQ="$ROOT/${BUILD:-build}/tests/nlreq"
HOLD="$ROOT/${BUILD:-build}/tests/holdtap"
OUT=${MG_RESULTS:?}
ROUNDS=${GUARD_BENCH_ROUNDS:-5}
GETLINK_N=${GUARD_BENCH_GETLINK:-20000}
CHURN_N=${GUARD_BENCH_CHURN:-40}

# A guarded, held macvtap so the guard's slow paths (name walk, queue read) are live.
ip netns add g
ip -n g link add v0 type veth peer name v1
ip -n g link set v0 up
ip -n g link add link v0 name macvtap0 type macvtap mode bridge
IDX=$(ip netns exec g cat /sys/class/net/macvtap0/ifindex)
ip netns exec g "$HOLD" /dev/tap$IDX /tmp/hold &

for i in $(seq 1 "$CHURN_N"); do
    echo "link add c$i type veth peer name d$i"
    echo "link add link c$i name mt$i type macvtap"
    echo "link del mt$i"
    echo "link del c$i"
done >/tmp/churn.batch

getlink() { taskset -c 1 "$NLREQ" getlink-loop "$GETLINK_N" | awk '{print $2}' | tr -d '/s'; }
churn() {
    local t0 t1
    t0=$(date +%s.%N); ip -batch /tmp/churn.batch; t1=$(date +%s.%N)
    awk "BEGIN{printf \"%.2f\", $CHURN_N / ($t1 - $t0)}"
}
guard_on() {
    "$MG" run >>"$OUT/agent.log" 2>&1 &
    AGENT=$!
    for _ in $(seq 1 600); do grep -q "agent running (pid $AGENT)" "$OUT/agent.log" && break; sleep 0.1; done
    "$MG" tag macvtap0 --netns g --domain bench --pid "$(pgrep -f holdtap | head -n1)" >/dev/null
}
guard_off() { "$MG" stop --unpin >/dev/null; wait "$AGENT" 2>/dev/null; }

median() { sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
spread() { sort -g | awk 'NR==1{lo=$1} {hi=$1} END{printf "%s..%s", lo, hi}'; }

: >/tmp/g.off; : >/tmp/g.on; : >/tmp/c.off; : >/tmp/c.on
for r in $(seq 1 "$ROUNDS"); do
    getlink >>/tmp/g.off; churn >>/tmp/c.off; echo >>/tmp/c.off
    guard_on
    getlink >>/tmp/g.on; churn >>/tmp/c.on; echo >>/tmp/c.on
    guard_off
done
sed -i '/^$/d' /tmp/c.off /tmp/c.on
gm_off=$(median </tmp/g.off); gm_on=$(median </tmp/g.on)
cm_off=$(median </tmp/c.off); cm_on=$(median </tmp/c.on)
echo "getlink/s  without: median $gm_off ($(spread </tmp/g.off))  with: median $gm_on ($(spread </tmp/g.on))  ratio $(awk "BEGIN{printf \"%.3f\", $gm_on/$gm_off}")"
echo "churn/s    without: median $cm_off ($(spread </tmp/c.off))  with: median $cm_on ($(spread </tmp/c.on))  ratio $(awk "BEGIN{printf \"%.3f\", $cm_on/$cm_off}")"

# The kernel's own measure: run time per call of the guard program.
sysctl -q kernel.bpf_stats_enabled=1
guard_on
taskset -c 1 "$NLREQ" getlink-loop "$GETLINK_N" >/dev/null
ip -batch /tmp/churn.batch
bpf_share() {   # LABEL: each mg_ program's run time per call; the request hook's as a share
    bpftool prog show -j | python3 -c '
import json, sys
getlink_ns = 1e9 / float(sys.argv[1])
for p in json.load(sys.stdin):
    if p.get("name", "").startswith("mg_") and p.get("run_cnt"):
        mean = p["run_time_ns"] / p["run_cnt"]
        # the kernel keeps 15 characters of a name: mg_netlink_send(_fmodret)
        share = " = %.2f%% of a GETLINK round trip" % (100 * mean / getlink_ns) if p["name"].startswith("mg_netlink_send") else ""
        print("bpf %-9s %-20s calls %8d  mean %7.0f ns/call%s" % (sys.argv[2], p["name"], p["run_cnt"], mean, share))
' "$gm_off" "$1"
}
bpf_share lsm

# The name-resolution curve: per-call cost of a DELLINK by name of an untagged device that
# exists, in a netns with 1, 100 and 4,000 devices (each with one altname; plus lo), in this
# boot. Sent as uid 65534: the guard resolves the name in full (it runs before the kernel's
# capability check), then the kernel refuses, so the device stays for the next call.
for m in dummy; do modprobe -d "$(readlink -f "$ROOT/${BUILD:-build}/vm/$MG_KVER/root")" $m 2>/dev/null || modprobe $m 2>/dev/null; done
prog_ns_cnt() {
    bpftool prog show name mg_netlink_send -j | python3 -c '
import json, sys
d = json.load(sys.stdin); d = d if isinstance(d, list) else [d]
print(sum(p.get("run_time_ns", 0) for p in d), sum(p.get("run_cnt", 0) for p in d))'
}
# One netns per size, measured in interleaved rounds (TCG on a shared machine moves 2-3x
# between minutes): the median of the rounds per size, and the spread.
ROUNDS_CURVE=${GUARD_BENCH_CURVE_ROUNDS:-5}
SIZES=${GUARD_BENCH_CURVE:-1 100 4000}
for n in $SIZES; do
    ip netns add "c$n"
    for i in $(seq 1 "$n"); do
        if [ -e /sys/module/dummy ]; then echo "link add dev-$i type dummy"
        else echo "link add dev-$i type veth peer name dev-p$i"; fi
        echo "link property add dev dev-$i altname alternative-name-of-dev-$i"
    done >/tmp/curve.batch
    ip -n "c$n" -batch /tmp/curve.batch
done
for r in $(seq 1 "$ROUNDS_CURVE"); do
    for n in $SIZES; do
        # targets: 8 devices spread over the list (distinct buckets)
        targets=$(for k in 1 2 3 4 5 6 7 8; do echo "dev-$(( (k * n + 7) / 8 ))"; done | sort -u | tr '\n' ' ')
        sends=$(( ${GUARD_BENCH_CURVE_SENDS:-800} / $(echo $targets | wc -w) ))
        # (no process substitution: the guest has no /dev/fd)
        set -- $(prog_ns_cnt); t0=$1; c0=$2
        for t in $targets; do
            ip netns exec "c$n" setpriv --reuid=65534 --regid=65534 --clear-groups \
                "$NLREQ" burst-del-name "$sends" "$t" >/dev/null
        done
        set -- $(prog_ns_cnt); t1=$1; c1=$2
        echo "$(( (t1 - t0) / (c1 - c0) ))" >>"/tmp/curve.$n"
    done
done
for n in $SIZES; do
    devs=$(ip -n "c$n" -o link show | wc -l)
    echo "curve: DELLINK by name, untagged device, $(printf %5d "$devs") devices (+ altnames): median $(median <"/tmp/curve.$n") ns/call (rounds: $(tr '\n' ' ' <"/tmp/curve.$n"))"
    ip netns del "c$n"
done
guard_off
# The same calls with the request guard attached as fmod_ret on security_netlink_send
# (issue 17), in this boot: BPF LSM skipped by the agent's test knob.
MG_TEST_NO_LSM=1 guard_on
if grep -q "guard fmod_ret" "$OUT/agent.log"; then
    taskset -c 1 "$NLREQ" getlink-loop "$GETLINK_N" >/dev/null
    ip -batch /tmp/churn.batch
    bpf_share fmod_ret
else
    echo "fmod_ret: the agent did not attach fmod_ret: $(grep -m1 'guard ' "$OUT/agent.log")"
fi
guard_off
sysctl -q kernel.bpf_stats_enabled=0
echo "rounds $ROUNDS, getlink $GETLINK_N per round, churn $CHURN_N veth+macvtap create/delete per round"
