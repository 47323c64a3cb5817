#!/bin/bash
# Guard scenarios, run as root inside a test guest (Debian 6.1 / 6.12 with BPF LSM):
# the seed's incident and every other way to delete, rename or move a guarded link,
# in enforce and audit mode, plus the allowed cases and agent kill/restart.
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
UUID_A=11111111-2222-3333-4444-555555555555
HOLDER=""

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

# wait_event PATTERN... : a JSON event line containing every pattern appears (5 s)
wait_event() {
    local i p line
    for i in $(seq 1 50); do
        while IFS= read -r line; do
            for p in "$@"; do
                case "$line" in *"$p"*) ;; *) continue 2 ;; esac
            done
            return 0
        done <"$EVENTS"
        sleep 0.1
    done
    return 1
}

count_events() { grep -c -- "$1" "$EVENTS" 2>/dev/null || true; }

# A macvtap on a veth in netns $NS, its queue held by a stand-in guest, tagged to domain A.
setup() {
    local name=${1:-macvtap0}
    teardown
    ip netns add $NS
    ip -n $NS link add v0 type veth peer name v1
    ip -n $NS link set v0 up
    ip -n $NS link set v1 up
    ip -n $NS link add link v0 name "$name" type macvtap mode bridge
    ip -n $NS link set "$name" up
    IDX=$(cat /sys/class/net/"$name"/ifindex 2>/dev/null || ip netns exec $NS cat /sys/class/net/"$name"/ifindex)
    rm -f "$OUT/hold.status"
    ip netns exec $NS "$HOLD" "/dev/tap$IDX" "$OUT/hold.status" &
    HOLDER=$!
    for _ in $(seq 1 50); do grep -q ready "$OUT/hold.status" 2>/dev/null && break; sleep 0.1; done
    # An in-use guarded link's altnames and group cannot change (the guard refuses identity
    # changes): WITH_ALT=1 gives it altname guestalt0 and group 7 before the tag.
    if [ -n "${WITH_ALT:-}" ]; then
        ip -n $NS link property add dev "$name" altname guestalt0
        ip -n $NS link set "$name" group 7
    fi
    "$MG" tag "$name" --netns $NS --domain A --uuid $UUID_A --pid "$HOLDER" >/dev/null
}

teardown() {
    [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
    HOLDER=""
    ip netns del $NS 2>/dev/null
    ip netns del t2 2>/dev/null
    sleep 0.2
}

link_exists() { ip -n $NS link show "$1" >/dev/null 2>&1; }

fd_works() {
    local before after
    before=$(ip netns exec $NS cat /sys/class/net/v1/statistics/rx_packets)
    kill -USR1 "$HOLDER"
    for _ in $(seq 1 30); do
        tail -n 1 "$OUT/hold.status" | grep -q "write" && break
        sleep 0.1
    done
    tail -n 1 "$OUT/hold.status" | grep -q "write ok" || return 1
    sleep 0.2
    after=$(ip netns exec $NS cat /sys/class/net/v1/statistics/rx_packets)
    [ "$after" -gt "$before" ]
}

# nlreq in the test netns; sets RC
req() { ip netns exec $NS "$NLREQ" "$@" >>"$OUT/nlreq.log" 2>&1; RC=$?; }

expect_refused() {   # NAME EVENT-PATTERN... ; runs after req
    local name=$1; shift
    if [ "$RC" -ne 3 ]; then fail "$name" "expected EPERM (exit 3), nlreq exited $RC"; return; fi
    if ! link_exists macvtap0; then fail "$name" "macvtap0 is gone"; return; fi
    if ! wait_event '"verdict":"deny"' "$@"; then fail "$name" "no deny event matching $*"; return; fi
    ok "$name"
}

expect_audited() {   # NAME EVENT-PATTERN...
    local name=$1; shift
    if [ "$RC" -ne 0 ]; then fail "$name" "audit mode should allow, nlreq exited $RC"; return; fi
    if ! wait_event '"verdict":"audit"' "$@"; then fail "$name" "no audit event matching $*"; return; fi
    ok "$name"
}

: >"$EVENTS"
: >"$OUT/agent.log"
agent_start
# MG_EXPECT_ATTACH: how the guard must be attached in this boot (guard_attach.sh sets it)
if "$MG" status | grep -q "guard: *enforcing via ${MG_EXPECT_ATTACH:-BPF LSM},"; then ok "agent enforcing via ${MG_EXPECT_ATTACH:-BPF LSM}"
else fail "agent enforcing via ${MG_EXPECT_ATTACH:-BPF LSM}" "$("$MG" status | tr '\n' ' ')"; fi

# --- the seed's incident: libvirt-style delete by name of a running guest's macvtap ---
WITH_ALT=1 setup
req del-name macvtap0
if [ "$RC" -eq 3 ] && link_exists macvtap0; then ok "libvirt-style delete by name refused with EPERM"
else fail "libvirt-style delete by name refused with EPERM" "nlreq exit $RC, link exists: $(link_exists macvtap0 && echo yes || echo no)"; fi
if fd_works; then ok "guest fd still works after the refusal"; else fail "guest fd still works after the refusal" "$(tail -n 2 "$OUT/hold.status" | tr '\n' ' ')"; fi
if wait_event '"verdict":"deny"' '"how":"name"' '"owner_domain":"A"' '"comm":"nlreq"' '"ifname":"macvtap0"' "\"owner_pid\":$HOLDER" "\"owner_uuid\":\"$UUID_A\""; then
    ok "deny event names owner A and the requester"
else fail "deny event names owner A and the requester" "$(tail -n 3 "$EVENTS")"; fi

# --- every other path, enforce mode ---
req del-index "$IDX";             expect_refused "delete by ifindex refused" '"how":"index"'
req del-altname guestalt0;        expect_refused "delete by IFLA_ALT_IFNAME refused" '"how":"altname"'
req del-name guestalt0;           expect_refused "delete by IFLA_IFNAME naming an altname refused" '"how":"altname"' '"requested_name":"guestalt0"'
req del-group 7;                  expect_refused "delete by group refused" '"how":"group"'
req del-name v0;                  expect_refused "delete of the lower device refused" '"how":"lower"' '"ifname":"macvtap0"'
if link_exists v0; then ok "lower device survives"; else fail "lower device survives" "v0 gone"; fi
req batch-del-name 64 macvtap0;   expect_refused "batch of 64 with the delete last refused" '"msg_index":63'
ip -n $NS link set macvtap0 down   # the kernel renames only links that are down
req rename "$IDX" evilname;       expect_refused "rename refused" '"action":"rename"'
ip -n $NS link set macvtap0 up
req rename "$IDX" macvtap0
if [ "$RC" -ne 3 ]; then ok "rename to its own name is not refused"; else fail "rename to its own name is not refused" "refused"; fi
ip netns add t2
req move "$IDX" /run/netns/t2;    expect_refused "move to another netns refused" '"action":"move"'
req move-group 7 /run/netns/t2;   expect_refused "move of its group to another netns refused" '"action":"move"' '"how":"group"'
if fd_works; then ok "guest fd works after all refusals"; else fail "guest fd works after all refusals" "write failed"; fi
deny_count=$("$MG" -j links | grep -o '"deny":[0-9]*' | head -n 1 | cut -d: -f2)
if [ "${deny_count:-0}" -ge 9 ]; then ok "links counts the refusals ($deny_count)"; else fail "links counts the refusals" "deny=$deny_count"; fi

# --- audit mode: each path allowed and flagged ---
"$MG" mode audit >/dev/null
for case in "del-name macvtap0|name" "del-index IDX|index" "del-altname guestalt0|altname" \
            "del-group 7|group" "del-name v0|lower" "batch-del-name 8 macvtap0|name" \
            "rename IDX evilname|rename" "move IDX /run/netns/t2|move"; do
    args=${case%|*}; what=${case#*|}
    WITH_ALT=1 setup
    ip netns add t2
    args=${args//IDX/$IDX}
    [ "$what" = rename ] && ip -n $NS link set macvtap0 down
    # shellcheck disable=SC2086
    req $args
    case $what in
        rename|move) expect_audited "audit mode: $what allowed and flagged" "\"action\":\"$what\"" ;;
        *) expect_audited "audit mode: delete via $what allowed and flagged" "\"how\":\"$what\"" ;;
    esac
done
"$MG" mode enforce >/dev/null

# --- allowed cases ---
setup
kill -USR2 "$HOLDER"; sleep 0.3
req del-name macvtap0
if [ "$RC" -eq 0 ] && ! link_exists macvtap0 && wait_event '"verdict":"allow"' '"reason":"not-in-use"'; then
    ok "guest closed its fd (hot-unplug): delete allowed"
else fail "guest closed its fd (hot-unplug): delete allowed" "rc=$RC"; fi

setup
kill -9 "$HOLDER"; wait "$HOLDER" 2>/dev/null; HOLDER=""; sleep 0.3
req del-name macvtap0
if [ "$RC" -eq 0 ] && ! link_exists macvtap0; then ok "guest exited: delete allowed"
else fail "guest exited: delete allowed" "rc=$RC"; fi

setup
"$MG" release macvtap0 --netns $NS >/dev/null
req del-name macvtap0
if [ "$RC" -eq 0 ] && ! link_exists macvtap0 && wait_event '"reason":"released"'; then ok "released link: delete allowed"
else fail "released link: delete allowed" "rc=$RC"; fi

setup
"$MG" untag macvtap0 --netns $NS >/dev/null
# (guard records only: the deletion monitor reports every macvtap that goes, tagged or not)
before=$(grep -c '"record":"request"' "$EVENTS")
req del-name macvtap0
sleep 1
after=$(grep -c '"record":"request"' "$EVENTS")
if [ "$RC" -eq 0 ] && ! link_exists macvtap0 && [ "$before" -eq "$after" ]; then ok "untagged link: delete allowed, no event"
else fail "untagged link: delete allowed, no event" "rc=$RC events $before -> $after"; fi

# The owner deletes its own link: tag a process that then execs the delete (same pid, same start time).
setup
mkfifo /tmp/go
ip netns exec $NS bash -c "read -r _ < /tmp/go; exec '$NLREQ' del-name macvtap0 >>'$OUT/nlreq.log' 2>&1" &
OWNER=$!
sleep 0.3
"$MG" untag macvtap0 --netns $NS >/dev/null
"$MG" tag macvtap0 --netns $NS --domain A --pid "$OWNER" >/dev/null
echo go >/tmp/go
wait "$OWNER"; RC=$?
if [ "$RC" -eq 0 ] && ! link_exists macvtap0 && wait_event '"reason":"owner"'; then ok "owner deletes its own link: allowed"
else fail "owner deletes its own link: allowed" "rc=$RC"; fi
rm -f /tmp/go

# A reused ifindex never inherits a stale tag.
setup
"$MG" release macvtap0 --netns $NS >/dev/null
req del-name macvtap0
ip -n $NS link add link v0 name macvtap9 index "$IDX" type macvtap mode bridge 2>>"$OUT/nlreq.log"
if ip -n $NS link show macvtap9 2>/dev/null | grep -q "^$IDX:"; then
    if "$MG" -j links | grep -q "\"ifindex\":$IDX,"; then fail "reused ifindex is not guarded" "stale tag listed"
    else
        req del-name macvtap9
        if [ "$RC" -eq 0 ]; then ok "reused ifindex is not guarded"; else fail "reused ifindex is not guarded" "delete refused (rc=$RC)"; fi
    fi
else fail "reused ifindex is not guarded" "could not create a link with ifindex $IDX"; fi

# A tap device (vnetN) held by its process, as libvirt makes for <interface type='network'>.
teardown
ip netns add $NS
rm -f "$OUT/hold.status"
ip netns exec $NS "$HOLD" --tun vnet0 "$OUT/hold.status" &
HOLDER=$!
for _ in $(seq 1 50); do grep -q ready "$OUT/hold.status" 2>/dev/null && break; sleep 0.1; done
"$MG" tag vnet0 --netns $NS --domain A --pid "$HOLDER" >/dev/null
req del-name vnet0
if [ "$RC" -eq 3 ] && wait_event '"ifname":"vnet0"' '"verdict":"deny"' '"queues":"held"'; then ok "tap device held by its guest: delete refused"
else fail "tap device held by its guest: delete refused" "rc=$RC"; fi
teardown

# --- the agent dies; the pinned guard keeps enforcing; a restart adopts it ---
setup
"$MG" -j links | sed 's/"deny":[0-9]*//g; s/"allow":[0-9]*//g; s/"audit":[0-9]*//g' >"$OUT/links.before"
kill -9 "$AGENT"; wait "$AGENT" 2>/dev/null
kill "$MONITOR" 2>/dev/null; wait "$MONITOR" 2>/dev/null
req del-name macvtap0
if [ "$RC" -eq 3 ] && link_exists macvtap0; then ok "agent killed -9: guard still enforces"
else fail "agent killed -9: guard still enforces" "rc=$RC"; fi
agent_start
if grep -q "adopted the guard" "$OUT/agent.log"; then ok "restarted agent adopts the pinned guard"
else fail "restarted agent adopts the pinned guard" "$(tail -n 3 "$OUT/agent.log" | tr '\n' ' ')"; fi
"$MG" -j links | sed 's/"deny":[0-9]*//g; s/"allow":[0-9]*//g; s/"audit":[0-9]*//g' >"$OUT/links.after"
if cmp -s "$OUT/links.before" "$OUT/links.after" && grep -q macvtap0 "$OUT/links.after"; then ok "links unchanged across the restart"
else fail "links unchanged across the restart" "$(diff "$OUT/links.before" "$OUT/links.after" | head -n 4 | tr '\n' ' ')"; fi
req del-name macvtap0
if [ "$RC" -eq 3 ] && wait_event '"verdict":"deny"' '"how":"name"'; then ok "adopted guard refuses and reports"
else fail "adopted guard refuses and reports" "rc=$RC"; fi

# --- stop --unpin removes enforcement ---
"$MG" stop --unpin >/dev/null
wait "$AGENT" 2>/dev/null
req del-name macvtap0
if [ "$RC" -eq 0 ] && ! link_exists macvtap0 && [ ! -e /sys/fs/bpf/macvguard ]; then ok "stop --unpin removes the guard"
else fail "stop --unpin removes the guard" "rc=$RC"; fi
kill "$MONITOR" 2>/dev/null
teardown
summary
