#!/bin/bash
# The agent on this machine's own kernel (no BPF LSM/fentry here): it must say so, run
# flag-only, keep tags, and handle bad input with clear errors and exit codes.
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private mount + network namespaces: never the host's agent state
. tests/guest/lib.sh
MG=${BUILD:-build}/macvguard
OUT=$(mktemp -d /tmp/mg-host.XXXXXX)
NS=mgh$$
cleanup() {
    [ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
    [ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null
    ip netns del $NS 2>/dev/null
    rm -rf "$OUT"
}
trap cleanup EXIT

make -s all test-tools >/dev/null || { fail "build"; summary; exit 1; }
if [ "$(id -u)" -ne 0 ]; then fail "host suite needs root"; summary; exit 1; fi

# Does this kernel run BPF LSM? The host tests are about the fallback; on a kernel that
# enforces they would test something else, so say which case ran.
lsm_here=no
grep -qw bpf /sys/kernel/security/lsm 2>/dev/null && lsm_here=yes

# Start from no pinned state, as on a fresh host.
"$MG" stop --unpin >/dev/null 2>&1
"$MG" run >"$OUT/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 1 100); do grep -q "agent running" "$OUT/agent.log" && break; kill -0 $AGENT 2>/dev/null || break; sleep 0.1; done
if grep -q "agent running" "$OUT/agent.log" && kill -0 $AGENT 2>/dev/null; then ok "run starts on kernel $(uname -r)"
else fail "run starts on kernel $(uname -r)" "$(tr '\n' ' ' <"$OUT/agent.log")"; fi

status=$("$MG" status)
if [ $lsm_here = no ]; then
    if echo "$status" | grep -q "^guard: *NOT ENFORCING (flag-only)" && echo "$status" | grep -q "^reason: .*refused\|^reason: .*never ran\|^reason: .*no kernel BTF"; then
        ok "status reports flag-only with the reason"
    else fail "status reports flag-only with the reason" "$(echo "$status" | tr '\n' ' ')"; fi
    if "$MG" -j status | grep -q '"guard":"flag-only"'; then ok "status -j says flag-only"; else fail "status -j says flag-only"; fi
    if grep -q "guard flag-only" "$OUT/agent.log"; then ok "run prints its mode"; else fail "run prints its mode"; fi
    # issue 17: fmod_ret was tried after BPF LSM, and the reason says why each did not enforce
    if echo "$status" | grep -q "^reason: .*BPF LSM.*fmod_ret did not take over (.*fmod_ret" &&
       "$MG" -j status | grep -q '"attachment":null'; then
        ok "flag-only reason names BPF LSM and fmod_ret; status -j attachment null"
    else fail "flag-only reason names BPF LSM and fmod_ret; status -j attachment null" "$(echo "$status" | grep '^reason')"; fi
    if "$MG" -j journal 2>/dev/null | grep '"event":"start"' | grep -q '"attachment":"none"'; then
        ok "journal: the agent's start record says attachment none"
    else fail "journal: the agent's start record says attachment none" "$("$MG" -j journal 2>&1 | grep -m1 '"start"')"; fi
else
    fail "host kernel runs BPF LSM: the fallback cannot be tested here" "$(cat /sys/kernel/security/lsm)"
fi

# Tags work without the kernel guard (maps only), and links lists them.
ip netns add $NS
ip -n $NS link add v0 type veth peer name v1
ip -n $NS link set v0 up
ip -n $NS link add link v0 name macvtap0 type macvtap mode bridge
ip -n $NS link set macvtap0 up
IDX=$(ip netns exec $NS cat /sys/class/net/macvtap0/ifindex)
ip netns exec $NS "${BUILD:-build}/tests/holdtap" /dev/tap$IDX "$OUT/hold" &
HOLDER=$!
for _ in $(seq 1 50); do grep -q ready "$OUT/hold" 2>/dev/null && break; sleep 0.1; done
check "tag in flag-only mode" "$MG" tag macvtap0 --netns $NS --domain hostdom --pid $HOLDER
links=$("$MG" -j links)
if echo "$links" | grep -q '"ifname":"macvtap0"' && echo "$links" | grep -q '"owner_domain":"hostdom"' && echo "$links" | grep -q '"in_use":true'; then
    ok "links -j shows the tag, owner and in-use state"
else fail "links -j shows the tag, owner and in-use state" "$links"; fi
if ip -n $NS link show macvtap0 | grep -q "alias macvguard: domain=hostdom"; then ok "ip link shows the owner (ifalias)"
else fail "ip link shows the owner (ifalias)" "$(ip -n $NS link show macvtap0 | tr '\n' ' ')"; fi
"$MG" -j links | python3 -c 'import json,sys; d=json.load(sys.stdin); assert isinstance(d,list) and d[0]["owner_pid"]>0' 2>/dev/null \
    && ok "links -j is valid JSON" || fail "links -j is valid JSON"
# one schema (docs/json.md, docs/schema/): every command's -j output validated
schema() {   # NAME SCHEMA [--rc N] [--lines] -- CMD...: CMD exits N (0) and its stdout validates against docs/schema/SCHEMA.json
    local name=$1 sch=$2 lines="" want=0; shift 2
    [ "$1" = --rc ] && { want=$2; shift 2; }
    [ "$1" = --lines ] && { lines=--lines; shift; }
    "$@" >"$OUT/schema.out" 2>"$OUT/schema.err"; local rc=$?
    if [ $rc -eq "$want" ] && python3 tests/lib/json_schema.py "$sch" $lines "$OUT/schema.out" 2>"$OUT/schema.py"; then ok "schema: $name"
    else fail "schema: $name" "exit $rc: $(head -c 200 "$OUT/schema.py") $(head -c 200 "$OUT/schema.out") $(head -c 200 "$OUT/schema.err")"; fi
}
schema "links -j (owner_*, typed in_use, queue_holders array)" links "$MG" -j links
schema "-p links (pretty, same schema)" links "$MG" -p links
schema "status -j with a running agent (flag-only here: exit 1)" status --rc 1 "$MG" -j status
schema "mode -j" mode "$MG" -j mode
schema "release -j" link-op "$MG" -j release macvtap0 --netns $NS
schema "untag -j" link-op "$MG" -j untag macvtap0 --netns $NS
schema "tag -j" link-op "$MG" -j tag macvtap0 --netns $NS --domain hostdom --pid $HOLDER --uuid 01234567-89ab-cdef-0123-456789abcdef
schema "journal -j: every record this agent and the CLI wrote" record --lines "$MG" -j journal
# links text: the README's header, lines within 120 columns; --wide: every column
"$MG" links >"$OUT/links.txt"; "$MG" links --wide >"$OUT/links-wide.txt"
readme_hdr=$(grep -A1 '^# macvguard links$' README.md | tail -n 1)
if [ "$(head -n 1 "$OUT/links.txt")" = "$readme_hdr" ] && [ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$OUT/links.txt")" -le 120 ] \
   && head -n 1 "$OUT/links-wide.txt" | grep -q "LOWER .*UUID .*TAGGED-SINCE .*TAGGED-BY" && grep -q "01234567-89ab-cdef-0123-456789abcdef" "$OUT/links-wide.txt"; then
    ok "links: the README's header, lines <= 120 columns; --wide adds LOWER, UUID, TAGGED-SINCE, TAGGED-BY"
else fail "links text" "$(cat "$OUT/links.txt") / README: $readme_hdr"; fi
check "release" "$MG" release macvtap0 --netns $NS
check "untag" "$MG" untag macvtap0 --netns $NS
if ! "$MG" -j links | grep -q macvtap0; then ok "untag removes the tag"; else fail "untag removes the tag"; fi
if ! ip -n $NS link show macvtap0 | grep -q "alias macvguard"; then ok "untag clears the ifalias"; else fail "untag clears the ifalias"; fi

# Mode changes are kept in the pinned config.
"$MG" mode audit >/dev/null && "$MG" -j mode | grep -q '"mode":"audit"' && ok "mode audit" || fail "mode audit"
"$MG" mode enforce >/dev/null && "$MG" -j mode | grep -q '"mode":"enforce"' && ok "mode enforce" || fail "mode enforce"

# Bad input: clear message, exit 2 (usage) or 1 (no such thing), nothing on stdout.
expect_exit() {   # NAME CODE CMD...
    local name=$1 code=$2 out err rc; shift 2
    out=$("$@" 2>"$OUT/err"); rc=$?
    err=$(cat "$OUT/err")
    if [ $rc -eq "$code" ] && [ -z "$out" ] && [ -n "$err" ]; then ok "$name"
    else fail "$name" "exit $rc (want $code), stdout '$out', stderr '$err'"; fi
}
expect_exit "unknown command" 2 "$MG" frobnicate
expect_exit "tag without --domain" 2 "$MG" tag macvtap0 --pid 1
expect_exit "tag with a bad pid" 2 "$MG" tag macvtap0 --domain d --pid 12x
expect_exit "tag of a missing link" 1 "$MG" tag nosuchlink0 --domain d --pid 1
expect_exit "tag with a dead pid" 1 "$MG" tag macvtap0 --domain d --pid 999999999 --netns $NS
expect_exit "tag in a missing netns" 2 "$MG" tag macvtap0 --domain d --pid 1 --netns nosuchns
expect_exit "tag with a bad uuid" 2 "$MG" tag macvtap0 --domain d --pid 1 --uuid zz
expect_exit "mode with a bad value" 2 "$MG" mode sideways
expect_exit "untag of an untagged link" 1 "$MG" untag macvtap0 --netns $NS
expect_exit "second agent refused" 1 "$MG" run
# -j: the same errors as {"error": ...} on stdout, nothing on stderr, the same exit codes
expect_json_err() {   # NAME CODE CMD...
    local name=$1 code=$2 rc; shift 2
    "$@" >"$OUT/jerr.out" 2>"$OUT/jerr.err"; rc=$?
    if [ $rc -eq "$code" ] && [ ! -s "$OUT/jerr.err" ] && [ "$(wc -l <"$OUT/jerr.out")" = 1 ] &&
       python3 tests/lib/json_schema.py error "$OUT/jerr.out" 2>/dev/null; then ok "$name"
    else fail "$name" "exit $rc (want $code), stdout '$(cat "$OUT/jerr.out")', stderr '$(cat "$OUT/jerr.err")'"; fi
}
expect_json_err "-j: tag of a missing link is a JSON error, exit 1" 1 "$MG" -j tag nosuchlink0 --domain d --pid 1
expect_json_err "-j: mode with a bad value is a JSON usage error, exit 2" 2 "$MG" -j mode sideways
expect_json_err "-j: untag of an untagged link, exit 1" 1 "$MG" -j untag macvtap0 --netns $NS

# SIGTERM: the agent exits cleanly, removes its pid file and keeps the pinned state.
kill -TERM $AGENT; wait $AGENT; rc=$?; AGENT=""
if [ $rc -eq 0 ] && [ ! -e /run/macvguard/agent.pid ] && [ -e /sys/fs/bpf/macvguard/mg_guarded ]; then ok "SIGTERM: clean exit, pinned state kept"
else fail "SIGTERM: clean exit, pinned state kept" "exit $rc"; fi
"$MG" -j stop --unpin >"$OUT/stop.json" 2>"$OUT/stop.err"; rc=$?
if [ $rc -eq 0 ] && python3 tests/lib/json_schema.py stop "$OUT/stop.json" 2>"$OUT/stop.py" && grep -q '"unpinned":true' "$OUT/stop.json"; then ok "stop --unpin -j: schema, unpinned"
else fail "stop --unpin -j" "exit $rc $(cat "$OUT/stop.json" "$OUT/stop.py" "$OUT/stop.err")"; fi
schema "status -j with nothing running (nulls for unknown; exit 3)" status --rc 3 "$MG" -j status
if [ ! -e /sys/fs/bpf/macvguard ]; then ok "nothing pinned after stop --unpin"; else fail "nothing pinned after stop --unpin"; fi
summary
