#!/bin/bash
# Flight recorder scenario, run as root inside the Debian 6.1 guest: a scripted failed
# incoming migration. Two stand-in guests: A holds macvtap0 (tagged to A), B holds
# macvtap1 (tagged to B). Incoming domain B's migration XML carries <target dev='macvtap0'/>
# (a name already in use here); the migration fails, B is torn down: `stopped` hook, B's
# QEMU exits, the teardown deletes "its" interfaces by name the way libvirt does (macvtap0
# -- refused by the guard -- and macvtap1), then the `release` hook. `macvguard postmortem
# --domain B` must then name the victim (macvtap0, domain A and its pid), the requester
# (comm/pid), the domain being torn down (B) and the verdict, in text, JSON and HTML.
# The journal and the HTML page are copied to $MG_RESULTS for the host side of the suite.
set -u
ROOT=${MG_ROOT:?}
. "$ROOT/tests/guest/lib.sh"
MG="$ROOT/${BUILD:-build}/macvguard"
TOOLS="$ROOT/${BUILD:-build}/tests"
NLREQ="$TOOLS/nlreq"
HOLD="$TOOLS/holdtap"
OUT=${MG_RESULTS:?}
NS=t1
UUID_A=11111111-2222-3333-4444-555555555555
UUID_B=bbbbbbbb-2222-3333-4444-555555555555
export MACVGUARD_JOURNAL_DIR=/var/lib/macvguard/journal   # tmpfs overlay: real flock
export MACVGUARD_HOST=dst
export MACVGUARD_PROM_FILE=$OUT/macvguard.prom
rm -rf "$MACVGUARD_JOURNAL_DIR"

"$MG" run >"$OUT/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 1 600); do   # BPF verification under TCG can take tens of seconds
    grep -q "agent running (pid $AGENT)" "$OUT/agent.log" 2>/dev/null && break
    kill -0 "$AGENT" 2>/dev/null || break
    sleep 0.1
done
if grep -q "agent running" "$OUT/agent.log" && "$MG" status | grep -q "guard:.*enforcing"; then
    ok "agent enforcing, journal at $MACVGUARD_JOURNAL_DIR"
else
    fail "agent enforcing" "$(tail -n 3 "$OUT/agent.log" | tr '\n' ' ')"
fi

ip netns add $NS
ip -n $NS link add v0 type veth peer name v1
ip -n $NS link set v0 up
ip -n $NS link set v1 up
hold() {  # NAME -> starts a holder of NAME's queue, sets HPID
    local name=$1 idx
    ip -n $NS link add link v0 name "$name" type macvtap mode bridge
    ip -n $NS link set "$name" up
    idx=$(ip netns exec $NS cat /sys/class/net/"$name"/ifindex)
    rm -f "$OUT/hold-$name.status"
    ip netns exec $NS "$HOLD" "/dev/tap$idx" "$OUT/hold-$name.status" &
    HPID=$!
    for _ in $(seq 1 50); do grep -q ready "$OUT/hold-$name.status" 2>/dev/null && break; sleep 0.1; done
}
ip link add mgv0 type veth peer name mgv1   # in the agent's netns: link records
ip link del mgv0
hold macvtap0; HOLDER_A=$HPID
hold macvtap1; HOLDER_B=$HPID
check "tag macvtap0 to running domain A" "$MG" tag macvtap0 --netns $NS --domain A --uuid $UUID_A --pid "$HOLDER_A"
check "tag macvtap1 to incoming domain B" "$MG" tag macvtap1 --netns $NS --domain B --uuid $UUID_B --pid "$HOLDER_B"

XML="<domain type='kvm'><name>B</name><uuid>$UUID_B</uuid><devices>
<disk type='file'><target dev='vda' bus='virtio'/></disk>
<interface type='direct'><mac address='52:54:00:00:00:0b'/><source dev='v0' mode='bridge'/><target dev='macvtap0'/></interface>
</devices></domain>"
# The hooks and the delete run from this shell (libvirtd's role): the hook records carry
# its pid as their parent, the guard sees it as the requester's parent.
printf '%s\n' "$XML" | "$MG" hook qemu B migrate begin - >"$OUT/migrate.out" 2>>"$OUT/hook.err"
printf '%s\n' "$XML" | "$MG" hook qemu B stopped end - 2>>"$OUT/hook.err"
kill "$HOLDER_B"; wait "$HOLDER_B" 2>/dev/null
ip netns exec $NS "$NLREQ" del-name macvtap0 >>"$OUT/nlreq.log" 2>&1; RC0=$?
ip netns exec $NS "$NLREQ" del-name macvtap1 >>"$OUT/nlreq.log" 2>&1; RC1=$?
printf '%s\n' "$XML" | "$MG" hook qemu B release end - 2>>"$OUT/hook.err"
[ "$RC0" -eq 3 ] && ip -n $NS link show macvtap0 >/dev/null 2>&1 \
    && ok "teardown's delete of macvtap0 refused (EPERM), link kept" \
    || fail "teardown's delete of macvtap0 refused" "nlreq exit $RC0"
[ "$RC1" -eq 0 ] && ok "teardown's delete of B's own macvtap1 allowed (its guest is gone)" \
    || fail "delete of macvtap1 allowed" "nlreq exit $RC1"
grep -q macvtap0 "$OUT/migrate.out" && fail "migrate hook stripped macvtap0" "still in the XML" \
    || ok "migrate hook stripped macvtap0 from the XML"

# the deny is durable before the agent prints it; the rest within the group-commit bound
for _ in $(seq 1 50); do
    "$MG" journal --verdict deny 2>/dev/null | grep -q macvtap0 && break; sleep 0.1
done
"$MG" journal >"$OUT/journal.txt" 2>"$OUT/journal.err"
"$MG" -j journal >"$OUT/journal.jsonl" 2>>"$OUT/journal.err"
grep -q "deny delete macvtap0" "$OUT/journal.txt" && ok "journal has the deny" \
    || fail "journal has the deny" "$(tail -n 3 "$OUT/journal.txt" | tr '\n' ' ')"
for t in "hook B migrate" "hook B stopped" "hook B release" "tag macvtap0" "agent start"; do
    grep -q "$t" "$OUT/journal.txt" && ok "journal has: $t" || fail "journal has: $t" "missing"
done
# the allowed request and the deletion it caused are one record (the kernel's deletion path)
grep -q "deleted netlink macvtap macvtap1(.*) owner=B(.*) by nlreq.* guard=allow" "$OUT/journal.txt" \
    && ok "journal has macvtap1's deletion joined with the guard's allow" \
    || fail "journal has macvtap1's deletion" "$(grep macvtap1 "$OUT/journal.txt" | tr '\n' ' ')"
grep -q "link created mgv0" "$OUT/journal.txt" && grep -q "link deleted mgv1" "$OUT/journal.txt" \
    && ok "journal has link creation/deletion in the agent's netns" || fail "journal has link records" "missing"

kill -TERM "$AGENT"; wait "$AGENT" 2>/dev/null
"$MG" journal --type agent | grep -q "agent stop" && ok "agent stop recorded" || fail "agent stop recorded" "missing"
grep -q 'macvguard_verdicts_total{verdict="deny"} 1' "$OUT/macvguard.prom" 2>/dev/null \
    && ok "prometheus textfile: deny counter" || fail "prometheus textfile" "$(head -c 300 "$OUT/macvguard.prom" 2>&1)"

# --- postmortem ------------------------------------------------------------------------
"$MG" postmortem --domain B >"$OUT/postmortem.txt" 2>"$OUT/postmortem.err"; rc=$?
# the summary is a paragraph wrapped at 120 columns: line 3 up to the blank line, joined
SUM=$(awk 'NR >= 3 { if ($0 == "") exit; printf "%s%s", (NR > 3 ? " " : ""), $0 }' "$OUT/postmortem.txt")
echo "# summary: $SUM"
if [ $rc -eq 0 ] && echo "$SUM" | grep -q "Teardown of incoming domain B on host dst tried to delete macvtap0, owned by running domain A (pid $HOLDER_A); refused" \
   && echo "$SUM" | grep -q "nlreq (pid [0-9]*, parent $$)"; then
    ok "postmortem text summary names victim, owner A + pid, requester, teardown of B, verdict"
else
    fail "postmortem text summary" "exit $rc: $SUM"
fi
grep -q "hook B migrate begin .*targets=macvtap0 stripped=macvtap0" "$OUT/postmortem.txt" \
    && ok "postmortem timeline shows the migration XML's carried/stripped names" \
    || fail "postmortem timeline shows carried/stripped names" "missing"

"$MG" -j postmortem --domain B >"$OUT/postmortem.json" 2>>"$OUT/postmortem.err"
if python3 - "$OUT/postmortem.json" "$HOLDER_A" "$$" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
inc = [i for i in d["incidents"] if i["verdict"] == "deny"]
assert len(inc) == 1, d["incidents"]
i = inc[0]
assert i["victim"]["ifname"] == "macvtap0", i
assert i["victim"]["owner_domain"] == "A" and i["victim"]["owner_pid"] == int(sys.argv[2]), i
assert i["requester"]["comm"] == "nlreq" and i["requester"]["ppid"] == int(sys.argv[3]), i
assert i["teardown_domain"] == "B" and i["incoming"] and i["xml_carried"] and i["xml_stripped"], i
assert i["host"] == "dst" and d["hosts"] == ["dst"], d["hosts"]
assert "refused" in d["summary"] and "macvtap0" in d["summary"]
seqs = [r["seq"] for r in d["timeline"]]
assert seqs == sorted(seqs), seqs
EOF
then ok "postmortem -j: victim, owner, requester, teardown domain, verdict (python3 json)"
else fail "postmortem -j" "$(head -c 300 "$OUT/postmortem.json")"; fi

"$MG" postmortem --domain B --html "$OUT/postmortem.html" >/dev/null 2>>"$OUT/postmortem.err" \
    && grep -q "owned by running domain A (pid $HOLDER_A); refused" "$OUT/postmortem.html" \
    && ok "postmortem --html written" || fail "postmortem --html" "$(cat "$OUT/postmortem.err")"
echo "$HOLDER_A" >"$OUT/holder_a"

kill "$HOLDER_A" 2>/dev/null; wait "$HOLDER_A" 2>/dev/null
ip netns del $NS
mkdir -p "$OUT/journal"
cp "$MACVGUARD_JOURNAL_DIR"/seg-*.mgj "$OUT/journal/"
summary
