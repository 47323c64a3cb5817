#!/bin/bash
# Flag-only hosts must flag (issue 11), on this machine's own kernel (no BPF LSM/fentry;
# the fallback's syscall tracepoints run the guard's walk and policy at request time):
#  - a guarded macvtap deleted, renamed or moved by another process, in the agent's netns
#    and in another one: one record with the verdict the guard would have given
#    (audit/in-use while its owner holds a queue; not-in-use, owner-gone otherwise), the
#    owner, the requester, the queues at request time, and "enforcing":false with why;
#    journal, Prometheus and postmortem treat them as audit records;
#  - an unprivileged flood (nobody, in a user+net namespace of its own, and nobody in the
#    suite's netns) during a root `ip link del`: root's ip is named, an unrelated domain's
#    earlier record stays in the journal, the flood is a summary with a count;
#  - a notification overflow (tiny socket buffer): a LOST record, a resync, and
#    delete records received + lost = deletions produced.
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private mount + network namespaces from here on
. tests/guest/lib.sh
MG=${BUILD:-build}/macvguard
HOLD=${BUILD:-build}/tests/holdtap
NLREQ=${BUILD:-build}/tests/nlreq
OUT=$(mktemp -d /tmp/mg-hostflag.XXXXXX)
chmod 755 "$OUT"
NS=mgf$$
NS2=mgg$$
EV="$OUT/events.jsonl"
HOLDERS=""
cleanup() {
    [ -n "${MON:-}" ] && kill "$MON" 2>/dev/null && wait "$MON" 2>/dev/null
    [ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
    for h in $HOLDERS; do kill "$h" 2>/dev/null; done
    ip netns del $NS 2>/dev/null
    ip netns del $NS2 2>/dev/null
    for l in fa0 fb0 fc0 fd0 fe0 ff0 fu0 fv0; do ip link del $l 2>/dev/null; done
    "$MG" stop --unpin >/dev/null 2>&1
    umount "$OUT/sys" 2>/dev/null
    rm -rf "$OUT"
}
trap cleanup EXIT

make -s all test-tools >/dev/null || { fail "build"; summary; exit 1; }
if [ "$(id -u)" -ne 0 ]; then fail "host flag suite needs root"; summary; exit 1; fi
if grep -qw bpf /sys/kernel/security/lsm 2>/dev/null; then
    fail "host kernel runs BPF LSM: the fallback is not what runs here" "$(cat /sys/kernel/security/lsm)"
fi
[ -n "${MG_ISOLATED:-}" ] || fail "private namespaces" "not isolated"
# sysfs of the suite's own netns (/sys is the host's; bpffs is mounted on top of it)
mkdir -p "$OUT/sys" && mount -t sysfs sysfs "$OUT/sys" || fail "sysfs of the suite's netns"

start_agent() {   # LOG [ENV=VAL...]
    local log=$1; shift
    env MACVGUARD_JOURNAL_SEGMENT=64K MACVGUARD_JOURNAL_RETAIN=256K \
        MACVGUARD_PROM_FILE="$OUT/mg.prom" "$@" "$MG" run >"$log" 2>&1 &
    AGENT=$!
    for _ in $(seq 1 200); do grep -q "agent running" "$log" && break; kill -0 $AGENT 2>/dev/null || break; sleep 0.1; done
    "$MG" -j monitor >>"$EV" 2>>"$OUT/mon.err" &
    MON=$!
    sleep 0.5
}
stop_agent() {
    kill "$MON" 2>/dev/null; wait "$MON" 2>/dev/null; MON=""
    kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null; AGENT=""
}
# A macvtap LINK on a new veth LOWER (in netns NETNS if given), its queue held by holdtap;
# the holder's pid in HPID (a child of this shell, so that it is reaped when it dies).
# The queue device is opened through a node of our own (major:minor from the link's own
# netns's sysfs): /dev/tapIFINDEX may belong to a macvtap of another netns.
held_macvtap() {   # LOWER LINK [NETNS]
    local lower=$1 link=$2 ns=${3:-} ipn="" exe="" sys="$OUT/sys" idx dev h
    [ -n "$ns" ] && { ipn="-n $ns"; exe="ip netns exec $ns"; sys=/sys; }
    ip $ipn link add $lower type veth peer name ${lower}p
    ip $ipn link add link $lower name $link type macvtap mode bridge
    idx=$(ip $ipn -o link show $link | cut -d: -f1)
    dev=$($exe cat $sys/class/net/$link/macvtap/tap$idx/dev)
    rm -f "$OUT/hold.$link" "$OUT/tap.$link"
    mknod "$OUT/tap.$link" c "${dev%:*}" "${dev#*:}"
    "$HOLD" "$OUT/tap.$link" "$OUT/hold.$link" >/dev/null 2>&1 &
    h=$!
    for _ in $(seq 1 50); do grep -q ready "$OUT/hold.$link" 2>/dev/null && break; sleep 0.1; done
    HOLDERS="$HOLDERS $h"
    HPID=$h
}
recs() { grep -F "\"ifname\":\"$1\"" "$EV"; }
has() {   # RECORD FIELD... : every "key":value fragment is in RECORD
    local r=$1; shift
    for f in "$@"; do case "$r" in *"$f"*) ;; *) return 1 ;; esac; done
}
wait_rec() { for _ in $(seq 1 ${2:-40}); do recs "$1" | grep -q . && return 0; sleep 0.1; done; return 1; }

start_agent "$OUT/agent.log"
if "$MG" -j status | grep -q '"monitor":"fallback"'; then ok "agent runs the fallback on kernel $(uname -r)"
else fail "agent runs the fallback" "$(tr '\n' ' ' <"$OUT/agent.log")"; fi

# --- an unrelated domain's record first: it must survive the flood later ---
held_macvtap fu0 fut; HU=$HPID
"$MG" tag fut --domain unrelated --pid "$HU" >/dev/null
kill "$HU"; wait "$HU" 2>/dev/null; sleep 1.5
ip link del fu0
wait_rec fut

# --- in-use, init netns: audit/in-use, owner and requester, not enforcing ---
held_macvtap fa0 fat; HA=$HPID
"$MG" tag fat --domain domA --pid "$HA" >/dev/null || fail "tag fat"
ip link del fat &
DEL=$!; wait $DEL
wait_rec fat
r=$(recs fat)
if [ "$(printf '%s\n' "$r" | grep -c .)" -eq 1 ] &&
   has "$r" '"record":"delete"' '"result":"deleted"' '"verdict":"audit"' '"reason":"in-use"' \
       '"owner_domain":"domA"' "\"owner_pid\":$HA," "\"pid\":$DEL," '"comm":"ip"' \
       '"queues":"held"' '"enforcing":false' '"not_enforcing":"the kernel refused'; then
    ok "in-use macvtap deleted (init netns): one record audit/in-use, owner domA pid $HA, requester ip[$DEL], queues held, not enforcing"
else fail "in-use macvtap deleted (init netns): one audit/in-use record" "$r"; fi

# --- in-use, another netns ---
ip netns add $NS
ip -n $NS link set lo up
held_macvtap fb0 fbt $NS; HB=$HPID
"$MG" tag fbt --netns $NS --domain domB --pid "$HB" >/dev/null || fail "tag fbt in $NS"
sleep 1.5   # the agent meets named netns once a second
ip -n $NS link del fbt &
DEL=$!; wait $DEL
wait_rec fbt
r=$(recs fbt)
if [ "$(printf '%s\n' "$r" | grep -c .)" -eq 1 ] &&
   has "$r" '"result":"deleted"' '"verdict":"audit"' '"reason":"in-use"' '"owner_domain":"domB"' \
       "\"owner_pid\":$HB," "\"pid\":$DEL," '"comm":"ip"' '"enforcing":false'; then
    ok "in-use macvtap deleted in netns $NS: one record audit/in-use, owner and requester named"
else fail "in-use macvtap deleted in another netns: one audit/in-use record" "$r"; fi

# --- a plain delete in another netns is a deletion with its requester, not "unseen" ---
ip -n $NS link add fo0 type veth peer name fo0p
sleep 0.3
ip -n $NS link del fo0 &
DEL=$!; wait $DEL
sleep 1
r=$(recs fo0)
if has "$r" '"result":"deleted"' '"path":"netlink"' "\"pid\":$DEL," && ! grep -q '"result":"unseen".*"pid":'$DEL, "$EV"; then
    ok "veth deleted in netns $NS: deleted, path netlink, requester named (not unseen)"
else fail "veth deleted in another netns: deleted with requester" "$r $(grep "\"pid\":$DEL," "$EV" | head -c 300)"; fi

# --- owner closed its queue: not-in-use ---
held_macvtap fc0 fct; HC=$HPID
"$MG" tag fct --domain domC --pid "$HC" >/dev/null
kill -USR2 "$HC"
for _ in $(seq 1 30); do grep -q closed "$OUT/hold.fct" && break; sleep 0.1; done
ip link del fct
wait_rec fct
r=$(recs fct)
if has "$r" '"verdict":"allow"' '"reason":"not-in-use"' '"owner_domain":"domC"' '"comm":"ip"' '"queues":"none"'; then
    ok "owner closed its queue: allow/not-in-use"
else fail "owner closed its queue: not-in-use" "$r"; fi

# --- owner died: owner-gone ---
held_macvtap fd0 fdt; HD=$HPID
"$MG" tag fdt --domain domD --pid "$HD" >/dev/null
kill "$HD"; wait "$HD" 2>/dev/null
sleep 1.5   # the agent marks dead owners once a second
ip link del fdt
wait_rec fdt
r=$(recs fdt)
if has "$r" '"verdict":"allow"' '"reason":"owner-gone"' '"owner_domain":"domD"' '"comm":"ip"'; then
    ok "owner died: allow/owner-gone"
else fail "owner died: owner-gone" "$r"; fi

# --- rename and netns move of a guarded in-use link: flagged requests ---
held_macvtap fe0 fet; HE=$HPID
"$MG" tag fet --domain domE --pid "$HE" >/dev/null
ip link set fet name fetx 2>/dev/null &
REN=$!; wait $REN
sleep 1
r=$(grep -F '"action":"rename"' "$EV" | grep -F "\"pid\":$REN,")
if [ "$(printf '%s\n' "$r" | grep -c .)" -eq 1 ] &&
   has "$r" '"record":"request"' '"verdict":"audit"' '"reason":"in-use"' '"owner_domain":"domE"' \
       '"how":"index"' '"comm":"ip"' '"enforcing":false'; then
    # ip renames by index: requested_name is what the kernel resolved by (nothing), not the new name
    ok "rename of an in-use guarded link: one request record audit/in-use, requester named"
else fail "rename flagged" "$r"; fi
ip netns add $NS2
NM=$(ip link show fetx >/dev/null 2>&1 && echo fetx || echo fet)
ip link set $NM netns $NS2 &
MV=$!; wait $MV
sleep 1
r=$(grep -F '"action":"move"' "$EV" | grep -F "\"pid\":$MV,")
if [ "$(printf '%s\n' "$r" | grep -c .)" -eq 1 ] &&
   has "$r" '"verdict":"audit"' '"reason":"in-use"' '"owner_domain":"domE"' '"comm":"ip"' '"enforcing":false'; then
    ok "netns move of an in-use guarded link: one request record audit/in-use"
else fail "netns move flagged" "$r"; fi

# --- the same records in the journal, Prometheus and postmortem, as audit records ---
sleep 1.2
j=$("$MG" -j journal --verdict audit 2>/dev/null)
if echo "$j" | grep -q '"owner_domain":"domA"' && echo "$j" | grep -q '"owner_domain":"domB"' &&
   echo "$j" | grep -q '"not_enforcing"'; then ok "journal --verdict audit lists the flagged deletions"
else fail "journal --verdict audit lists the flagged deletions" "$(echo "$j" | head -c 400)"; fi
for _ in $(seq 1 120); do   # the textfile is rewritten every 10 s
    grep -Eq '^macvguard_verdicts_total\{verdict="audit"\} [4-9]' "$OUT/mg.prom" 2>/dev/null && break; sleep 0.1
done
if grep -Eq '^macvguard_verdicts_total\{verdict="audit"\} [4-9]' "$OUT/mg.prom" 2>/dev/null; then
    ok "Prometheus counts them as audit verdicts ($(grep 'verdict="audit"' "$OUT/mg.prom"))"
else fail "Prometheus counts audit verdicts" "$(grep verdicts_total "$OUT/mg.prom" 2>/dev/null | tr '\n' ' ')"; fi
pm=$("$MG" -j postmortem --domain domA 2>/dev/null)
if echo "$pm" | grep -q '"verdict":"audit"' && echo "$pm" | grep -q 'not enforcing'; then
    ok "postmortem: an audit incident, said to be flagged (not enforcing)"
else fail "postmortem: audit incident" "$(echo "$pm" | head -c 400)"; fi

# --- unprivileged flood during a root ip link del ---
ip link add fv0 type veth peer name fv0p
sleep 0.3
before=$(grep -c . "$EV")
runuser -u nobody -- unshare -Urn "$NLREQ" burst-del-name 150000 nosuch >"$OUT/flood1" 2>&1 &
F1=$!
runuser -u nobody -- "$NLREQ" burst-del-name 150000 fv0 >"$OUT/flood2" 2>&1 &
F2=$!
sleep 0.5
ip link del fv0 &
DEL=$!; wait $DEL
wait $F1 $F2
sleep 2.5
r=$(recs fv0)
if has "$r" '"result":"deleted"' "\"pid\":$DEL," '"comm":"ip"' '"uid":0,'; then ok "during the flood: root's ip[$DEL] named for fv0"
else fail "during the flood: root's ip named" "$r"; fi
s1=$(grep '"record":"summary"' "$EV" | grep '"result":"unseen"' | grep '"uid":65534')
s2=$(grep '"record":"summary"' "$EV" | grep '"result":"not-permitted"' | grep '"uid":65534')
c1=$(echo "$s1" | grep -o '"count":[0-9]*' | cut -d: -f2 | paste -sd+ | bc 2>/dev/null)
c2=$(echo "$s2" | grep -o '"count":[0-9]*' | cut -d: -f2 | paste -sd+ | bc 2>/dev/null)
# records of the flooding user (other processes of the host may add their own records)
n=$(tail -n +$((before + 1)) "$EV" | grep -c '"uid":65534')
if [ "${c1:-0}" -ge 100000 ] && [ "${c2:-0}" -ge 100000 ] && [ "$n" -lt 100 ]; then
    ok "flood summarised: nobody's $c1 deletes in its own netns and $c2 unpermitted ones in $(echo "$s1$s2" | grep -c .) summary records ($n records of uid 65534 in all)"
else fail "flood summarised with a count" "unseen count ${c1:-0}, not-permitted count ${c2:-0}, $n records of uid 65534 ($(tail -n +$((before + 1)) "$EV" | grep '"uid":65534' | grep -o '"record":"[a-z]*","path":"[a-z]*","result":"[a-z-]*"' | sort | uniq -c | tr '\n' ' ')); $(cat "$OUT/flood1" "$OUT/flood2" | tr '\n' ' ')"; fi
sleep 1.2
if "$MG" -j journal 2>/dev/null | grep -q '"owner_domain":"unrelated"'; then
    ok "the unrelated domain's earlier record is still in the journal (retention 256K)"
else fail "the unrelated domain's record survives the flood" "$("$MG" journal 2>/dev/null | head -n 3 | tr '\n' ' ')"; fi
if "$MG" -j journal 2>/dev/null | grep -F '"ifname":"fv0"' | grep -q "\"pid\":$DEL,"; then ok "journal names root's ip for fv0"
else fail "journal names root's ip for fv0"; fi
stop_agent

# --- overflow: tiny socket buffer, 100 veth pairs deleted at once ---
: >"$EV"
start_agent "$OUT/agent2.log" MG_TEST_NL_RCVBUF=1024
{ for i in $(seq 1 100); do echo "link add fx$i group 77 type veth peer name fy$i"; done; } >"$OUT/batch"
ip -batch "$OUT/batch"
sleep 1.5
mark=$(grep -c . "$EV")
# the agent is stopped while the 200 notifications come: its socket must overflow
kill -STOP $AGENT
ip link del group 77
kill -CONT $AGENT
sleep 3
tail -n +$((mark + 1)) "$EV" >"$OUT/after"
lost=$(grep '"record":"lost"' "$OUT/after" | grep 'resync' | grep -o '"lost":[0-9]*' | cut -d: -f2 | paste -sd+ | bc 2>/dev/null)
got=$(grep -E '"ifname":"f[xy][0-9]+"' "$OUT/after" | grep -c '"result":"deleted"')
if [ "${lost:-0}" -gt 0 ] && [ $(( got + lost )) -eq 200 ]; then
    ok "overflow: LOST record(s) after a resync; received $got + lost $lost = 200 deletions"
else fail "overflow: LOST record + resync, received + lost = produced" "received $got, lost ${lost:-none}: $(grep '"record":"lost"' "$OUT/after" | head -n 2 | tr '\n' ' ')"; fi
stop_agent
"$MG" stop --unpin >/dev/null 2>&1
summary
