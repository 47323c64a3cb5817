#!/bin/bash
# The guard's request model, run as root inside a test guest (Debian 6.1 / 6.12 with BPF
# LSM): batches judged against the state before the send (identity changes), fail closed
# whatever the CPU's history, bridge-family DELLINK is no deletion, device ioctls, tags that
# follow their device through netns moves, and unprivileged noise. Issue 10, items 1, 2, 5,
# 6, 8 and 11. Each bypass must be refused with the link and the holder's fd intact.
set -u
ROOT=${MG_ROOT:?}
. "$ROOT/tests/guest/lib.sh"
MG="$ROOT/${BUILD:-build}/macvguard"
TOOLS="$ROOT/${BUILD:-build}/tests"
NLREQ="$TOOLS/nlreq"
HOLD="$TOOLS/holdtap"
OUT=${MG_RESULTS:?}
EVENTS="$OUT/events.jsonl"
NS=t1
HOLDER=""
KTREE="$ROOT/${BUILD:-build}/vm/${MG_KVER:-}/root"

agent_start() {
    "$MG" run >>"$OUT/agent.log" 2>&1 &
    AGENT=$!
    for _ in $(seq 1 600); do   # BPF verification under TCG can take tens of seconds
        grep -q "agent running (pid $AGENT)" "$OUT/agent.log" 2>/dev/null && break
        kill -0 "$AGENT" 2>/dev/null || break
        sleep 0.1
    done
    "$MG" -j monitor >>"$EVENTS" 2>>"$OUT/monitor.err" &
    MONITOR=$!
    sleep 0.3
}

# wait_event PATTERN... : a JSON event line written since the last req (MARK) containing
# every pattern appears (5 s)
MARK=0
wait_event() {
    local i p f="$OUT/events.since"
    for i in $(seq 1 50); do
        tail -n +"$((MARK + 1))" "$EVENTS" >"$f"
        for p in "$@"; do grep -F -- "$p" "$f" >"$f.n"; mv "$f.n" "$f"; done
        [ -s "$f" ] && return 0
        sleep 0.1
    done
    return 1
}
mark() { MARK=$(wc -l <"$EVENTS"); }

teardown() {
    [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
    HOLDER=""
    ip netns del $NS 2>/dev/null
    ip netns del t2 2>/dev/null
    sleep 0.2
}

# hold NAME: a stand-in guest holds a queue of macvtap NAME in $NS; tag it to domain A.
hold() {
    local name=$1
    ip -n $NS link set "$name" up
    IDX=$(ip netns exec $NS cat /sys/class/net/"$name"/ifindex)
    rm -f "$OUT/hold.status"
    ip netns exec $NS "$HOLD" "/dev/tap$IDX" "$OUT/hold.status" &
    HOLDER=$!
    for _ in $(seq 1 50); do grep -q ready "$OUT/hold.status" 2>/dev/null && break; sleep 0.1; done
    "$MG" tag "$name" --netns $NS --domain A --pid "$HOLDER" >/dev/null
}

# The guard.sh topology: netns t1, veth v0/v1, macvtap0 on v0, queue held, tagged.
setup() {
    teardown
    ip netns add $NS
    ip -n $NS link add v0 type veth peer name v1
    ip -n $NS link set v0 up
    ip -n $NS link set v1 up
    ip -n $NS link add link v0 name macvtap0 type macvtap mode bridge
    hold macvtap0
}

# setup_on LOWER-SETUP...: netns t1, the commands make device "low", macvtap0 goes on it.
setup_on() {
    teardown
    ip netns add $NS
    "$@"
    ip -n $NS link add link low name macvtap0 type macvtap mode bridge
    hold macvtap0
}

link_exists() { ip -n "${2:-$NS}" link show "$1" >/dev/null 2>&1; }

# The holder's queue still works: one frame written through it.
fd_works() {
    kill -USR1 "$HOLDER" 2>/dev/null || return 1
    for _ in $(seq 1 30); do
        tail -n 1 "$OUT/hold.status" | grep -q "write" && break
        sleep 0.1
    done
    tail -n 1 "$OUT/hold.status" | grep -q "write ok"
}

req() { mark; ip netns exec $NS "$NLREQ" "$@" >>"$OUT/nlreq.log" 2>&1; RC=$?; }

# expect_refused NAME EVENT-PATTERN... : after req: EPERM, macvtap0 there, queue works,
# a deny event matching the patterns.
expect_refused() {
    local name=$1; shift
    if [ "$RC" -ne 3 ]; then fail "$name" "expected EPERM (exit 3), got exit $RC"; return; fi
    if ! link_exists macvtap0; then fail "$name" "macvtap0 is gone"; return; fi
    if ! fd_works; then fail "$name" "the holder's queue no longer works"; return; fi
    if ! wait_event '"verdict":"deny"' "$@"; then fail "$name" "no deny event matching $*"; return; fi
    ok "$name"
}

deny_records() { grep -c '"verdict":"deny"' "$EVENTS" 2>/dev/null || true; }
stat_of() { "$MG" -j status | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2; }

# Modules the initramfs does not carry (bridge, 8021q), from the guest kernel's own tree.
modprobe -d "$KTREE" -a bridge 8021q 2>>"$OUT/modprobe.log" ||
    echo "# modprobe from $KTREE failed: $(tail -n 1 "$OUT/modprobe.log")"

: >"$EVENTS"
: >"$OUT/agent.log"
agent_start
# MG_EXPECT_ATTACH: how the guard must be attached in this boot (guard_attach.sh sets it)
if "$MG" status | grep -q "guard: *enforcing via ${MG_EXPECT_ATTACH:-BPF LSM},"; then ok "agent enforcing via ${MG_EXPECT_ATTACH:-BPF LSM}"
else fail "agent enforcing via ${MG_EXPECT_ATTACH:-BPF LSM}" "$("$MG" status | tr '\n' ' ')"; fi

# --- 1. one send, judged against the state before it: identity changes are refused ---
# (each bypass on a fresh setup: one that succeeds takes the link with it)
setup
req batch-group-del "$IDX" 9
expect_refused "batch [SETLINK group G][DELLINK group G] refused" '"action":"group"'
setup
req batch-altname-del "$IDX" sneaky0
expect_refused "batch [NEWLINKPROP altname X][DELLINK IFLA_ALT_IFNAME X] refused" '"action":"altname"'
setup
req batch-altname-delname "$IDX" sneaky1
expect_refused "batch [NEWLINKPROP altname X][DELLINK IFLA_IFNAME X] refused" '"action":"altname"'
setup
ip netns add t2
req batch-altname-move "$IDX" sneaky2 /run/netns/t2
expect_refused "batch [NEWLINKPROP altname X][NEWLINK altname X netns] refused" '"action":"altname"'
setup
ip netns add t2
req batch-group-move "$IDX" 9 /run/netns/t2
expect_refused "batch [SETLINK group G][NEWLINK group G netns] refused" '"action":"group"'
setup
V0=$(ip netns exec $NS cat /sys/class/net/v0/ifindex)
req batch-altname-del "$V0" sneaky3
expect_refused "batch [NEWLINKPROP on its lower][DELLINK that altname] refused" '"action":"altname"' '"how":"lower"'
setup
req batch-group-del "$V0" 9
expect_refused "batch [SETLINK group G on its lower][DELLINK group G] refused" '"action":"group"' '"how":"lower"'
setup
if ip -n $NS link set macvtap0 group default 2>>"$OUT/nlreq.log"; then ok "setting its current group is not refused"
else fail "setting its current group is not refused" "refused"; fi
req del-name-family 2 macvtap0
expect_refused "RTM_DELLINK with ifi_family AF_INET (rtnl_dellink fallback) refused" '"how":"name"'

# --- 2. fail closed means closed: >= 128 MiB after an earlier link request on that CPU ---
setup
ip netns exec $NS taskset -c 0 "$NLREQ" del-name nosuch0 >>"$OUT/nlreq.log" 2>&1
mark
ip netns exec $NS taskset -c 0 "$NLREQ" big-del macvtap0 130 >>"$OUT/nlreq.log" 2>&1; RC=$?
expect_refused "130 MiB send [DELLINK][padding] after a link request on that CPU refused" '"how":"unparsed"'

# --- 3. bridge vlan del (RTM_DELLINK, AF_BRIDGE) is not a deletion ---
teardown
ip netns add $NS
ip -n $NS link add br0 type bridge
rm -f "$OUT/hold.status"
ip netns exec $NS "$HOLD" --tun vnet0 "$OUT/hold.status" &
HOLDER=$!
for _ in $(seq 1 50); do grep -q ready "$OUT/hold.status" 2>/dev/null && break; sleep 0.1; done
ip -n $NS link set vnet0 master br0
ip -n $NS link set vnet0 up
ip netns exec $NS bridge vlan add dev vnet0 vid 5 2>>"$OUT/nlreq.log"
"$MG" tag vnet0 --netns $NS --domain A --pid "$HOLDER" >/dev/null
if ip netns exec $NS bridge vlan del dev vnet0 vid 5 2>>"$OUT/nlreq.log" && link_exists vnet0 &&
   ! ip netns exec $NS bridge vlan show dev vnet0 | grep -qw 5; then
    ok "bridge vlan del on a guarded tap (AF_BRIDGE DELLINK) passes"
else fail "bridge vlan del on a guarded tap (AF_BRIDGE DELLINK) passes" "refused or vlan 5 still there"; fi
req del-name vnet0
if [ "$RC" -eq 3 ] && link_exists vnet0; then ok "the same tap's deletion is still refused"
else fail "the same tap's deletion is still refused" "exit $RC"; fi

# --- 4. device ioctls ---
setup
ip -n $NS link set macvtap0 down      # the kernel renames only links that are down
req ioctl-rename macvtap0 evil0
expect_refused "ioctl(SIOCSIFNAME) of a guarded link refused" '"path":"ioctl"' '"action":"rename"'
req ioctl-rename v1 other1
if [ "$RC" -eq 2 ] || [ "$RC" -eq 0 ]; then ok "ioctl(SIOCSIFNAME) of an unguarded device is not refused"
else fail "ioctl(SIOCSIFNAME) of an unguarded device is not refused" "exit $RC"; fi
ip -n $NS link set macvtap0 up

setup_on eval 'ip -n $NS link add v0 type veth peer name v1 && ip -n $NS link set v0 up && ip -n $NS link add link v0 name low type vlan id 5 && ip -n $NS link set low up'
req ioctl-vlan-del low
expect_refused "ioctl(SIOCSIFVLAN DEL_VLAN_CMD) of its lower vlan refused" '"path":"ioctl"' '"how":"lower"'
if link_exists low; then ok "the vlan survives"; else fail "the vlan survives" "gone"; fi

setup_on eval 'ip -n $NS link add low type bridge'
ip -n $NS link set low down           # the kernel deletes only bridges that are down
req ioctl-delbr low
expect_refused "ioctl(SIOCBRDELBR) of the bridge under it refused" '"path":"ioctl"' '"how":"lower"'

setup_on eval 'ip -n $NS tuntap add low mode tap && ip -n $NS link set low up'
req tun-unpersist low
expect_refused "TUNSETPERSIST 0 on the persistent tap under it refused" '"path":"ioctl"' '"how":"lower"'
if link_exists low; then ok "the persistent tap survives"; else fail "the persistent tap survives" "gone"; fi

# --- 5. tags follow the device: a failed or no-op netns move keeps the tag ---
setup
ip netns add t2
ip -n t2 link add macvtap0 type veth peer name p2     # the name is taken there: EEXIST
"$MG" mode audit >/dev/null
req move "$IDX" /run/netns/t2
"$MG" mode enforce >/dev/null
req del-name macvtap0
expect_refused "a failed netns move (EEXIST) keeps the tag" '"how":"name"'

setup
"$MG" mode audit >/dev/null
req move "$IDX" /run/netns/$NS
"$MG" mode enforce >/dev/null
req del-name macvtap0
expect_refused "a netns move into its own netns keeps the tag" '"how":"name"'

setup
ip netns add t2
"$MG" mode audit >/dev/null
req move "$IDX" /run/netns/t2
"$MG" mode enforce >/dev/null
if link_exists macvtap0 t2 && "$MG" -j links | grep '"ifname":"macvtap0"' | grep -q '"netns":"t2"' &&
   wait_event '"action":"move"' '"how":"kernel"' '"owner_domain":"A"'; then
    ok "a successful netns move re-keys the tag to the new netns"
else fail "a successful netns move re-keys the tag to the new netns" "$("$MG" -j links | tr '\n' ' ')"; fi

# --- 6. unprivileged noise: no record; requested_name is what the kernel resolved ---
setup
before=$(deny_records)
ustat=$(stat_of unprivileged)
for _ in 1 2 3; do
    ip netns exec $NS setpriv --reuid 65534 --regid 65534 --clear-groups "$NLREQ" del-name macvtap0 >>"$OUT/nlreq.log" 2>&1; RC=$?
done
sleep 1
after=$(deny_records)
ustat2=$(stat_of unprivileged)
if [ "$RC" -ne 0 ] && link_exists macvtap0 && [ "$before" -eq "$after" ] &&
   [ "${ustat2:-0}" -ge $(( ${ustat:-0} + 3 )) ]; then
    ok "uid 65534 delete: refused, no deny record, counted (unprivileged ${ustat:-?} -> ${ustat2:-?})"
else fail "uid 65534 delete: refused, no deny record, counted" "exit $RC, deny records $before -> $after, unprivileged ${ustat:-?} -> ${ustat2:-?}"; fi
req del-index-altname "$IDX" decoy0
expect_refused "by-index delete with an unused IFLA_ALT_IFNAME reports no requested_name" '"how":"index"' '"requested_name":null'
if wait_event decoy0; then fail "no event names the unused IFLA_ALT_IFNAME" "$(tail -n 1 "$EVENTS")"
else ok "no event names the unused IFLA_ALT_IFNAME"; fi

kill "$MONITOR" 2>/dev/null
"$MG" stop --unpin >/dev/null 2>&1
wait "$AGENT" 2>/dev/null
teardown
summary
