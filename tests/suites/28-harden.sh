#!/bin/bash
# Issue 12: the agent, the hook and the journal against hostile files, users and faults,
# on this machine's kernel (flag-only agent) in private namespaces. One section per item
# of the issue (item 5, the config reader and the mode precedence, and item 6, non-root
# stop/status, are in 32-service.sh with the configuration and status work); each check
# failed before its fix. Also: the hostile-journal
# corpus (forged lines, escapes, odd headers, a FIFO, huge lengths) read by every reader
# under ASan/UBSan, issue 12's library checks (test_harden, plain and ASan/UBSan) and a
# short run of the status-file, journal-segment and postmortem fuzzers (`make fuzz`: long).
#   MG_BIN=PATH  run the CLI checks against another build (e.g. the unfixed one)
# Prints "ok - NAME" / "not ok - NAME: reason" and ends with one "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private mount + network namespaces: never the host's agent state
BUILD=${BUILD:-build}
MG=${MG_BIN:-$PWD/$BUILD/macvguard}
MGA=$PWD/$BUILD/asan/macvguard
TH=$PWD/$BUILD/tests/test_harden
T=$(mktemp -d /tmp/mg-harden.XXXXXX)
chmod 755 "$T"
AGENT=""
cleanup() {
    [ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
    for p in ${KILLME:-}; do kill -KILL "$p" 2>/dev/null; done
    ip link del mgh$$a 2>/dev/null
    "$MG" stop --unpin >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
. tests/lib/suite.sh
unset MACVGUARD_HOST MACVGUARD_NO_JOURNAL MACVGUARD_SYSTEMD_JOURNAL MACVGUARD_PROM_FILE
export MACVGUARD_PROM_FILE=-
export MACVGUARD_JOURNAL_DIR=$T/journal
export MACVGUARD_STATUS_DIR=$T/status
mkdir -p "$T/status"

if make -s BUILD="$BUILD" all harden-bins "$BUILD/asan/macvguard" >"$T/build.log" 2>&1; then ok "build macvguard, test_harden, the ASan/UBSan binary"
else notok "build" "$(tail -n 5 "$T/build.log" | tr '\n' ' ')"; finish; fi
[ "$(id -u)" -eq 0 ] || { notok "harden suite" "needs root"; finish; }

run_unit unit 120 clean "$TH"
run_unit asan 300 clean "$BUILD/tests/asan/test_harden"

XML="<domain type='kvm'><name>B</name><uuid>bbbbbbbb-2222-3333-4444-555555555555</uuid><devices><interface type='direct'><source dev='eth0'/><target dev='macvtap0'/></interface></devices></domain>"
NOW=$(date +%s%N)
seg() { "$TH" segment "$1"; }       # stdin: "TYPE VERDICT TS PAYLOAD" lines
has_ctl() { LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$1"; }   # any control byte but \t \n

start_agent() {   # LOG [run args...]
    local log=$1; shift
    "$MG" run "$@" >"$log" 2>&1 &
    AGENT=$!
    for _ in $(seq 1 100); do grep -q "agent running" "$log" && return 0; kill -0 $AGENT 2>/dev/null || break; sleep 0.1; done
    return 1
}
stop_agent() { [ -n "$AGENT" ] && kill -TERM "$AGENT" && wait "$AGENT"; local rc=$?; AGENT=""; return $rc; }

# ---- 1. Prometheus textfile: no symlink followed, no directory others can write --------------
P=$T/prom; mkdir -m 1777 "$P"
echo secret1 >"$T/victim1"; ln -s "$T/victim1" "$P/macvguard.prom.tmp"
echo secret2 >"$T/victim2"; ln -s "$T/victim2" "$P/macvguard.prom"
if MACVGUARD_PROM_FILE=$P/macvguard.prom start_agent "$T/a1.log"; then
    sleep 0.5; stop_agent
    if [ "$(cat "$T/victim1")" = secret1 ] && [ "$(cat "$T/victim2")" = secret2 ] && [ ! -L "$P/macvguard.prom" ] \
       && grep -q '^macvguard_verdicts_total' "$P/macvguard.prom"; then
        ok "1 prometheus: symlinks planted at macvguard.prom.tmp and macvguard.prom are not followed (root's files untouched), metrics written"
    else notok "1 prometheus symlinks" "victim1 '$(head -c 40 "$T/victim1")' victim2 '$(head -c 40 "$T/victim2")'"; fi
else notok "1 prometheus symlinks" "agent did not start: $(tail -n 3 "$T/a1.log" | tr '\n' ' ')"; fi
P2=$T/prom-open; mkdir "$P2"; chmod 0777 "$P2"
if MACVGUARD_PROM_FILE=$P2/macvguard.prom start_agent "$T/a1b.log"; then
    sleep 0.5; stop_agent
    if [ ! -e "$P2/macvguard.prom" ] && grep -q "metrics not written.*writable by group or others" "$T/a1b.log"; then
        ok "1 prometheus: a world-writable, non-sticky textfile directory is refused, and said"
    else notok "1 prometheus open dir" "$(ls "$P2"; grep -i metric "$T/a1b.log" | head -n 2)"; fi
else notok "1 prometheus open dir" "agent did not start"; fi

# ---- 2. journal writers: no symlink, no foreign or open directory --------------------------
hook_in() {   # DIR LOG: one hook call writing to journal DIR
    echo "$XML" | MACVGUARD_JOURNAL_DIR=$1 MACVGUARD_HOOK_LOG=$2 timeout 20 "$MG" hook qemu B started begin - >/dev/null 2>&1
}
J=$T/j-lock; mkdir -m 750 "$J"; echo secret3 >"$T/victim3"; ln -s "$T/victim3" "$J/lock"
hook_in "$J" "$T/h2a.log"; rc=$?
[ $rc = 0 ] && [ "$(cat "$T/victim3")" = secret3 ] && grep -q "lock: is a symbolic link" "$T/h2a.log" \
    && ok "2 journal: a symlink as lock is refused (root's file untouched), hook exit 0, said in the hook log" \
    || notok "2 journal lock symlink" "rc $rc victim '$(head -c 40 "$T/victim3" | tr -d '\0')' log: $(tail -n 1 "$T/h2a.log" 2>/dev/null)"
J=$T/j-seg; mkdir -m 750 "$J"; echo secret4 >"$T/victim4"; ln -s "$T/victim4" "$J/seg-0000000000000001.mgj"
hook_in "$J" "$T/h2b.log"; rc=$?
[ $rc = 0 ] && [ "$(cat "$T/victim4")" = secret4 ] && grep -q "seg-0000000000000001.mgj: is a symbolic link" "$T/h2b.log" \
    && ok "2 journal: a symlink as the segment is refused (no record appended to its target)" \
    || notok "2 journal segment symlink" "rc $rc victim size $(stat -c %s "$T/victim4") log: $(tail -n 1 "$T/h2b.log" 2>/dev/null)"
J=$T/j-nobody; mkdir -m 750 "$J"; chown nobody "$J"
hook_in "$J" "$T/h2c.log"
[ -z "$(ls -A "$J")" ] && grep -q "owned by uid $(id -u nobody)" "$T/h2c.log" \
    && ok "2 journal: a directory owned by another user is refused, nothing written in it" \
    || notok "2 journal foreign dir" "$(ls -A "$J" | tr '\n' ' ') $(tail -n 1 "$T/h2c.log" 2>/dev/null)"
J=$T/j-open; mkdir "$J"; chmod 0777 "$J"
hook_in "$J" "$T/h2d.log"
[ -z "$(ls -A "$J")" ] && grep -q "writable by group or others" "$T/h2d.log" \
    && ok "2 journal: a world-writable directory is refused" \
    || notok "2 journal open dir" "$(ls -A "$J" | tr '\n' ' ') $(tail -n 1 "$T/h2d.log" 2>/dev/null)"

# ---- 3. escapes: every text output; JSON valid UTF-8 ---------------------------------------
mkdir -p "$T/esc"
printf '2 0 %s {"type":"hook","time":"2026-01-01T00:00:00.000000Z","host":"h\\x1b[31m","boot_id":"b","domain":"d\\x1b]0;pwned\\x07\\x9b","op":"started","subop":"\\x0d","targets":["t\\x1b[2J"]}\n' "$NOW" \
    | seg "$T/esc/seg-0000000000000001.mgj"
printf '2 0 %s {"type":"hook","time":"2026-01-01T00:00:01.000000Z","host":"h","boot_id":"b","domain":"\\xff\\xfe\\xc2\\x9b\\x7f","op":"started"}\n' "$NOW" \
    | seg "$T/esc/seg-0000000000000002.mgj"
"$MG" journal "$T/esc" >"$T/esc.txt" 2>&1
! has_ctl "$T/esc.txt" && grep -q 'd\\x1b]0;pwned\\x07' "$T/esc.txt" \
    && ok "3 journal (text): ESC, BEL, CR from a foreign journal come out as \\xNN" \
    || notok "3 journal text escapes" "$(od -c "$T/esc.txt" | head -n 3 | tr '\n' ' ')"
"$MG" -j journal "$T/esc" >"$T/esc.jsonl" 2>/dev/null
python3 -c '
import json, sys
data = open(sys.argv[1], "rb").read()
text = data.decode("utf-8")            # strict: raises on bytes that are not UTF-8
recs = [json.loads(l) for l in text.splitlines()]
assert len(recs) == 2 and recs[1]["domain"].startswith("\\xff\\xfe"), recs
assert "\x1b" not in data.decode() or True
' "$T/esc.jsonl" 2>"$T/esc.py" && ok "3 journal -j: bytes that are not UTF-8 become \\xNN text, every line valid UTF-8 JSON" \
    || notok "3 journal -j UTF-8" "$(tail -n 1 "$T/esc.py")"
"$MG" postmortem "$T/esc" >"$T/esc-pm.txt" 2>&1
! has_ctl "$T/esc-pm.txt" && grep -q '\\x1b' "$T/esc-pm.txt" \
    && ok "3 postmortem (text): no raw control bytes" || notok "3 postmortem escapes" "$(od -c "$T/esc-pm.txt" | grep -m1 033)"
"$MG" -j postmortem "$T/esc" 2>/dev/null | python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))' 2>/dev/null \
    && ok "3 postmortem -j: valid UTF-8 JSON" || notok "3 postmortem -j UTF-8" "not valid UTF-8 JSON"
echo "<domain" | MACVGUARD_HOOK_LOG=$T/esc-hook.log "$MG" hook qemu $'evil\e[2J\rdom' migrate begin - >/dev/null 2>&1
grep -q 'evil\\x1b\[2J\\x0ddom' "$T/esc-hook.log" && ! has_ctl "$T/esc-hook.log" \
    && ok "3 hook log: the domain name's ESC and CR come out as \\xNN" || notok "3 hook log escapes" "$(od -c "$T/esc-hook.log" | head -n 2 | tr '\n' ' ')"
mkdir -p "$T/status-esc"; echo garbage >"$T/status-esc/"$'x\e[31mred\rdom.xml'
if start_agent "$T/a3.log" --status-dir "$T/status-esc"; then
    stop_agent
    grep -q 'x\\x1b\[31mred\\x0ddom.xml' "$T/a3.log" && ! has_ctl "$T/a3.log" \
        && ok "3 agent output: a status file named with ESC/CR is logged escaped" \
        || notok "3 agent log escapes" "$(grep -a -m1 'red' "$T/a3.log" | od -c | head -n 2 | tr '\n' ' ')"
else notok "3 agent log escapes" "agent did not start"; fi

# ---- 4. stop/status never take a stranger for the agent ------------------------------------
mkdir -p /run/macvguard
sleep 300 >/dev/null 2>&1 & S1=$!; KILLME="$S1"
echo "$S1" >/run/macvguard/agent.pid
"$MG" stop >"$T/s4.out" 2>&1
st=$("$MG" status 2>/dev/null | grep '^agent:')
kill -0 $S1 2>/dev/null && echo "$st" | grep -q "not running" \
    && ok "4 stop: a stale pidfile whose pid a stranger reuses (lock free): stranger not signalled; status: not running" \
    || notok "4 stop stale pidfile" "stranger alive: $(kill -0 $S1 2>/dev/null && echo yes || echo no); $st"
# flock forks sleep: its child must not hold the suite's output open after the kill
flock -x /run/macvguard/agent.pid sleep 300 >/dev/null 2>&1 & S2=$!; KILLME="$S1 $S2"
sleep 0.3
echo "$S2 12345" >/run/macvguard/agent.pid
"$MG" stop >"$T/s4b.out" 2>&1; rc=$?
kill -0 $S2 2>/dev/null && [ $rc = 1 ] && grep -q "not the agent" "$T/s4b.out" \
    && ok "4 stop: pidfile locked but the pid's start time differs: not signalled, exit 1, said" \
    || notok "4 stop locked stranger" "rc $rc alive $(kill -0 $S2 2>/dev/null && echo yes || echo no): $(cat "$T/s4b.out")"
kill -KILL $(pgrep -P $S2) $S1 $S2 2>/dev/null; wait $S1 $S2 2>/dev/null; KILLME=""
rm -f /run/macvguard/agent.pid

# ---- 7. journal -j never prints bytes it did not parse --------------------------------------
mkdir -p "$T/forged"
{
    printf '2 0 %s {"type":"hook","host":"h","domain":"a","op":"started"}\\n{"type":"verdict","verdict":"deny","domain":"FORGED1"}\n' "$NOW"
    printf '2 0 %s {"type":"hook","host":"h","domain":"a","domain":"FORGED2","op":"started"}\n' "$NOW"
    printf '2 0 %s {"type":"hook","host":"h","domain":"FORGED3","op":"started"\n' "$NOW"
    printf '2 0 %s {"type":"hook","host":"h","domain":"FORGED4"} trailing\n' "$NOW"
    printf '2 0 %s {"type":"hook","host":"h","domain":"good","op":"started"}\n' "$NOW"
} | seg "$T/forged/seg-0000000000000001.mgj"
"$MG" -j journal "$T/forged" >"$T/forged.jsonl" 2>"$T/forged.err"
[ "$(wc -l <"$T/forged.jsonl")" = 1 ] && ! grep -q FORGED "$T/forged.jsonl" && grep -q '"domain":"good"' "$T/forged.jsonl" \
    && [ "$(grep -c "not one well-formed JSON object" "$T/forged.err")" = 4 ] \
    && ok "7 journal -j: forged second object, repeated key, truncated object, trailing bytes: skipped with a warning each" \
    || notok "7 journal -j forged payloads" "$(head -c 300 "$T/forged.jsonl") / $(head -c 200 "$T/forged.err")"

# ---- 8. FIFOs never hang the agent, the hook or the readers ---------------------------------
J=$T/j-fifo; mkdir -m 750 "$J"; echo "$XML" | MACVGUARD_JOURNAL_DIR=$J "$MG" hook qemu B started begin - >/dev/null
mkfifo "$J/seg-0000000000000009.mgj"
timeout 15 "$MG" journal "$J" >/dev/null 2>"$T/f8.err"; rc=$?
[ $rc = 1 ] && grep -q "not a regular file" "$T/f8.err" && ok "8 journal: a FIFO segment is refused at once (exit 1, said), no hang" \
    || notok "8 journal FIFO segment" "rc $rc $(head -c 200 "$T/f8.err")"
timeout 15 "$MG" postmortem "$J" >/dev/null 2>&1; rc=$?
[ $rc = 1 ] && ok "8 postmortem: a FIFO segment, no hang (exit 1)" || notok "8 postmortem FIFO segment" "rc $rc"
J=$T/j-fifo2; mkdir -m 750 "$J"; mkfifo "$J/seg-0000000000000001.mgj"
hook_in "$J" "$T/h8.log"; rc=$?
[ $rc = 0 ] && grep -q "not a regular file" "$T/h8.log" && ok "8 hook: a FIFO as the journal segment is refused (no records into a pipe), exit 0 at once" \
    || notok "8 hook FIFO segment" "rc $rc $(tail -n 1 "$T/h8.log" 2>/dev/null)"
S8=$T/status-fifo; mkdir -p "$S8"; mkfifo "$S8/f.xml" "$S8/B.pid"
if start_agent "$T/a8.log" --status-dir "$S8"; then
    mkfifo "$S8/g.tmp"; mv "$S8/g.tmp" "$S8/g.xml"; sleep 0.5
    timeout 15 "$MG" stop >/dev/null 2>&1; rc=$?; wait $AGENT 2>/dev/null; AGENT=""
    [ $rc = 0 ] && ok "8 agent: FIFOs in the status directory (at start and renamed in later): starts, stops on request" \
        || notok "8 agent FIFO status files" "stop rc $rc"
else notok "8 agent FIFO status files" "agent did not start: $(tail -n 2 "$T/a8.log" | tr '\n' ' ')"; fi
echo "$XML" | MACVGUARD_STATUS_DIR=$S8 MACVGUARD_HOOK_LOG=$T/h8b.log timeout 15 "$MG" hook qemu B started begin - >/dev/null 2>&1; rc=$?
[ $rc = 0 ] && ok "8 hook started: DOMAIN.pid is a FIFO, no hang (exit 0)" || notok "8 hook FIFO pid file" "rc $rc"

# ---- 9. stop --unpin never unpins under a live agent ----------------------------------------
if start_agent "$T/a9.log"; then stop_agent; fi
cat >"$T/stubborn.py" <<'EOF'
import fcntl, os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
fd = os.open("/run/macvguard/agent.pid", os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
start = open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19]
os.ftruncate(fd, 0); os.write(fd, ("%d %s\n" % (os.getpid(), start)).encode())
print("ready", flush=True)
time.sleep(120)
EOF
python3 "$T/stubborn.py" >"$T/stubborn.out" & S9=$!; KILLME="$S9"
for _ in $(seq 1 50); do grep -q ready "$T/stubborn.out" && break; sleep 0.1; done
"$MG" stop --unpin >"$T/s9.out" 2>&1; rc=$?
[ $rc = 1 ] && [ -e /sys/fs/bpf/macvguard/mg_guarded ] && grep -q "not unpinning" "$T/s9.out" \
    && ok "9 stop --unpin: the agent did not stop: pins kept, exit 1, said" \
    || notok "9 stop --unpin under a live agent" "rc $rc pinned $([ -e /sys/fs/bpf/macvguard/mg_guarded ] && echo yes || echo no): $(tr '\n' ' ' <"$T/s9.out")"
kill -KILL $S9; wait $S9 2>/dev/null; KILLME=""
"$MG" stop --unpin >/dev/null 2>&1; rc=$?
[ $rc = 0 ] && [ ! -e /sys/fs/bpf/macvguard ] && ok "9 stop --unpin once the lock is free: unpinned" || notok "9 unpin after" "rc $rc"

# ---- 10. no quadratic scans: sizes that took minutes before finish within the timeout -------
python3 -c '
import sys
a = " ".join("a%d=\"x\"" % i for i in range(400000))
sys.stdout.write("<domain type=\"kvm\"><name>B</name><devices><interface type=\"direct\"><target dev=\"vnet0\" %s/></interface></devices></domain>" % a)
' >"$T/attrs.xml"
MACVGUARD_HOOK_LOG=$T/h10.log timeout 30 "$MG" hook qemu B started begin - <"$T/attrs.xml" >/dev/null 2>&1; rc=$?
[ $rc = 0 ] && grep -q "more than 256 attributes" "$T/h10.log" \
    && ok "10 hook started with a 4 MiB XML of 400,000 attributes: done within the timeout, refused and logged" \
    || notok "10 hook attributes" "rc $rc (124: timed out) $(tail -n 1 "$T/h10.log" 2>/dev/null)"
"$TH" crafted "$T/crafted.mgj" 5
timeout 30 "$MG" journal "$T/crafted.mgj" >"$T/crafted.out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "agent found" "$T/crafted.out" \
    && ok "10 journal over a crafted 5 MiB segment (a 1 MiB header every 36 bytes): resync done within the timeout, the valid record found" \
    || notok "10 journal crafted resync" "rc $rc (124: timed out)"
python3 - "$NOW" >"$T/pm.in" <<'EOF'
import json, sys
t, n = int(sys.argv[1]), 2000
for i in range(n):
    print("2 0 %d %s" % (t + i * 1000, json.dumps({"type": "hook", "host": "h", "boot_id": "b", "domain": "d%d" % i, "op": "stopped", "hook_ppid": 1000 + i}, separators=(",", ":"))))
for i in range(n):
    print("1 2 %d %s" % (t + (n + i) * 1000, json.dumps({"type": "verdict", "host": "h", "boot_id": "b", "verdict": "deny", "action": "delete", "ifname": "mt", "pid": 3000 + i % 7, "ppid": 1000 + i, "comm": "x"}, separators=(",", ":"))))
EOF
mkdir -p "$T/pm"; seg "$T/pm/seg-0000000000000001.mgj" <"$T/pm.in"
timeout 30 "$MG" -j postmortem "$T/pm" >"$T/pm.json" 2>&1; rc=$?
[ $rc = 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
inc = d["incidents"]
assert len(inc) == 2000
assert all(i["teardown_domain"] == "d%d" % (i["requester"]["ppid"] - 1000) for i in inc), inc[:2]
' "$T/pm.json" && ok "10 postmortem: 2,000 stopped hooks + 2,000 verdicts attributed within the timeout, each to its own teardown" \
    || notok "10 postmortem attribution at scale" "rc $rc (124: timed out) $(head -c 200 "$T/pm.json")"

# ---- 11. the hook never waits for stdin without a bound ------------------------------------
mkfifo "$T/stdin11"
( echo "$XML"; sleep 40 ) >"$T/stdin11" & W11=$!; KILLME="$W11"
timeout 20 "$MG" hook qemu B started begin - <"$T/stdin11" >/dev/null 2>&1; rc=$?
kill $W11 2>/dev/null; KILLME=""
[ $rc = 0 ] && ok "11 hook started: a writer that never closes stdin is not waited for (exit 0 within the timeout)" \
    || notok "11 hook stdin bound" "rc $rc (124: timed out)"

# ---- 12. clock steps: a boot's records in boot-clock order ---------------------------------
mkdir -p "$T/clock"
{   # the wall clock stepped back an hour between the hook and the verdict
    printf '2 0 %s {"type":"hook","time":"w1","host":"h","boot_id":"b","boot_ns":100000000000,"domain":"D","op":"stopped","hook_ppid":555}\n' "$NOW"
    printf '1 2 %s {"type":"verdict","time":"w0","host":"h","boot_id":"b","boot_ns":101000000000,"verdict":"deny","action":"delete","ifname":"mt","pid":555,"ppid":1,"comm":"libvirtd"}\n' $((NOW - 3600000000000))
} | seg "$T/clock/seg-0000000000000001.mgj"
"$MG" -j postmortem "$T/clock" >"$T/clock.json" 2>/dev/null
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [r["type"] for r in d["timeline"]] == ["hook", "verdict"], d["timeline"]
assert d["incidents"][0]["teardown_domain"] == "D"
' "$T/clock.json" 2>/dev/null && ok "12 postmortem: after a clock step back, a boot's records keep boot-clock order (the verdict is attributed)" \
    || notok "12 postmortem clock step" "$(head -c 300 "$T/clock.json")"
echo "$XML" | "$MG" hook qemu B started begin - >/dev/null
"$MG" -j journal | tail -n 1 | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["boot_ns"] > 0' 2>/dev/null \
    && ok "12 every record carries boot_ns beside its wall time" || notok "12 boot_ns in records" "$("$MG" -j journal | tail -n 1)"

# ---- 13. the journal never dies silently -----------------------------------------------------
export MACVGUARD_JOURNAL_DIR=$T/aj
PD=$T/prom13; mkdir -m 755 "$PD"
if MACVGUARD_PROM_FILE=$PD/m.prom start_agent "$T/a13.log"; then
    rm -rf "$T/aj"; sleep 1.5
    ip link add mgh$$a type veth peer name mgh$$b; ip link del mgh$$a; sleep 0.5
    "$MG" journal --type link 2>/dev/null | grep -q "link created mgh$$a" \
        && ok "13 journal directory deleted under the agent: created again, records go on" \
        || notok "13 deleted journal dir" "$(ls -la "$T/aj" 2>&1 | head -n 3 | tr '\n' ' ') $(grep journal "$T/a13.log" | tail -n 2 | tr '\n' ' ')"
    rm -rf "$T/aj"; echo "not a directory" >"$T/aj"; sleep 1.5
    ip link add mgh$$a type veth peer name mgh$$b; ip link del mgh$$a; sleep 1.5
    st=$("$MG" status | grep '^journal:')
    echo "$st" | grep -q "failing.*records lost" && ok "13 status says the journal fails, with the count and the error: $st" \
        || notok "13 status shows a failing journal" "'$st'"
    "$MG" -j status | python3 -c 'import json,sys; j=json.load(sys.stdin)["journal"]; assert j["state"]=="failing" and j["write_errors"]>0' 2>/dev/null \
        && ok "13 status -j: journal state failing, write_errors > 0" || notok "13 status -j journal" "$("$MG" -j status | head -c 300)"
    rm -f "$T/aj"; sleep 1.5
    ip link add mgh$$a type veth peer name mgh$$b; ip link del mgh$$a; sleep 1.5
    st=$("$MG" status | grep '^journal:')
    echo "$st" | grep -q "^journal: *ok" && "$MG" journal --type link 2>/dev/null | grep -q "link created mgh$$a" \
        && ok "13 the directory usable again: the agent writes again, status ok" || notok "13 journal recovers" "'$st'"
    rm -rf "$T/aj"; echo x >"$T/aj"; sleep 1.5
    ip link add mgh$$a type veth peer name mgh$$b; ip link del mgh$$a; sleep 0.5
    stop_agent
    grep -q '^macvguard_journal_write_errors_total [1-9]' "$PD/m.prom" && grep -q '^macvguard_journal_up 0' "$PD/m.prom" \
        && ok "13 metrics: write errors counted, macvguard_journal_up 0" \
        || notok "13 metrics of a failing journal" "$(grep -E 'write_errors|journal_up' "$PD/m.prom" | tr '\n' ' ')"
    rm -f "$T/aj"
else notok "13 journal failures" "agent did not start: $(tail -n 3 "$T/a13.log" | tr '\n' ' ')"; fi
export MACVGUARD_JOURNAL_DIR=$T/journal

# ---- 14. idle monitor clients never lock out a new one ---------------------------------------
if start_agent "$T/a14.log"; then
    cat >"$T/idle.py" <<'EOF'
import socket, struct, sys, time
socks = []
for i in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect("/run/macvguard/events.sock")
    socks.append(s)
    time.sleep(0.005)
print("connected", flush=True)
time.sleep(float(sys.argv[2]))
bye = 0
for s in socks:
    s.setblocking(False)
    try:
        while True:
            m = s.recv(65536)
            if not m:
                break
            if struct.unpack_from("<I", m)[0] == 3 and b"evicted" in m:
                bye += 1
    except BlockingIOError:
        pass
print("bye", bye, flush=True)
EOF
    python3 "$T/idle.py" 130 4 >"$T/idle.out" 2>&1 & IP=$!
    for _ in $(seq 1 50); do grep -q connected "$T/idle.out" && break; sleep 0.1; done
    "$MG" monitor >"$T/mon.out" 2>"$T/mon.err" & MP=$!
    sleep 1.5; kill -INT $MP; wait $MP; rc=$?
    wait $IP
    [ $rc = 0 ] && ! grep -q "closed the event stream" "$T/mon.err" && grep -q "bye [1-9]" "$T/idle.out" \
        && ok "14 130 idle monitor clients: a new monitor still connects; the idlest are evicted and told why ($(cat "$T/idle.out" | tail -n 1))" \
        || notok "14 monitor lock-out" "monitor rc $rc: $(head -c 200 "$T/mon.err"); $(tail -n 1 "$T/idle.out")"
    stop_agent
else notok "14 monitor clients" "agent did not start"; fi

# ---- 15. smaller items ------------------------------------------------------------------------
bad=""
for t in @nan @inf @1e300 -nan; do
    "$MG" journal --since "$t" >/dev/null 2>&1; rc=$?; [ $rc = 2 ] || bad="$bad $t:$rc"
done
[ -z "$bad" ] && ok "15 journal --since @nan/@inf/@1e300/-nan: exit 2" || notok "15 --since non-finite" "$bad"
"$MGA" journal --since @1e300 >/dev/null 2>"$T/ub.err"; ! grep -q "runtime error" "$T/ub.err" \
    && ok "15 --since @1e300 under UBSan: no float->integer conversion" || notok "15 UBSan --since" "$(head -c 200 "$T/ub.err")"
"$MG" journal >/dev/full 2>/dev/null; r1=$?
"$MG" postmortem >/dev/full 2>/dev/null; r2=$?
[ $r1 = 1 ] && [ $r2 = 1 ] && ok "15 journal/postmortem >/dev/full: exit 1" || notok "15 stdout failure" "journal $r1 postmortem $r2"
timeout 10 "$MG" run --config "$T/no-such.conf" >"$T/r15.out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "no-such.conf" "$T/r15.out" && ok "15 run --config MISSING: exit 2, no agent started" \
    || { notok "15 run --config missing" "rc $rc $(head -c 200 "$T/r15.out")"; "$MG" stop >/dev/null 2>&1; }
timeout 10 "$MG" run --config "$T" >"$T/r15b.out" 2>&1; rc=$?
[ $rc = 2 ] && ok "15 run --config DIRECTORY: exit 2" || { notok "15 run --config dir" "rc $rc"; "$MG" stop >/dev/null 2>&1; }
mkdir -p "$T/hooks"
"$MG" hook install --hooks-dir "$T/hooks" --binary /nonexistent/macvguard >/dev/null 2>"$T/hi.err"; rc=$?
[ $rc = 2 ] && [ ! -e "$T/hooks/qemu.d/macvguard" ] && ok "15 hook install --binary MISSING: exit 2, nothing installed" \
    || notok "15 hook install missing binary" "rc $rc"
"$MG" hook install --hooks-dir "$T/no-hooks" --binary "$MG" >/dev/null 2>"$T/hi2.err"; rc=$?
[ $rc = 2 ] && [ ! -e "$T/no-hooks" ] && ok "15 hook install --hooks-dir MISSING: exit 2, not created" \
    || notok "15 hook install missing hooks dir" "rc $rc $(ls -d "$T/no-hooks" 2>&1)"

# ---- fuzzers (ASan/UBSan library): status files, journal segments, postmortem input -----------
FUZZ_SECONDS=${HARDEN_FUZZ_SECONDS:-15}
if make -s BUILD="$BUILD" harden-fuzz-bins >"$T/fuzzbuild.log" 2>&1; then
    for f in "status:tests/libvirt/status tests/libvirt/bad:-max_len=65536 -dict=tests/fuzz/xml.dict" \
             "journal:$BUILD/fuzz/journal-seeds:-max_len=32768" \
             "postmortem:tests/fuzz/postmortem-seeds:-max_len=16384 -close_fd_mask=2"; do
        name=${f%%:*}; rest=${f#*:}; seeds=${rest%%:*}; extra=${rest#*:}
        mkdir -p "$T/fz-$name"
        # shellcheck disable=SC2086
        timeout $((FUZZ_SECONDS + 120)) "$BUILD/fuzz/$name-fuzz" -max_total_time="$FUZZ_SECONDS" \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$T/fz-$name-" \
            $extra "$T/fz-$name" $seeds >"$T/fz-$name.log" 2>&1; rc=$?
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/fz-$name.log")
        if [ $rc = 0 ] && [ -n "$runs" ]; then ok "fuzz $name ${FUZZ_SECONDS}s: $runs runs, no crash, leak, UB or broken invariant"
        else
            art=$(ls "$T"/fz-$name-* 2>/dev/null | head -n 1)
            [ -n "$art" ] && cp "$art" "$BUILD/fuzz/" 2>/dev/null && art="kept as $BUILD/fuzz/$(basename "$art")"
            notok "fuzz $name ${FUZZ_SECONDS}s" "exit $rc $art: $(grep -m3 -E 'ERROR|SUMMARY|runtime error' "$T/fz-$name.log" | tr '\n' ' ')"
        fi
    done
else notok "build the fuzzers" "$(tail -n 3 "$T/fuzzbuild.log" | tr '\n' ' ')"; fi

# ---- hostile-journal corpus: every reader, ASan/UBSan, no crash, clean output -----------------
C=$T/corpus; mkdir -p "$C"
{
    printf '2 0 %s {"type":"hook","host":"h\\x1b[1m","domain":"x\\x1b]52;c;Zm9v\\x07","op":"stopped","hook_ppid":1}\n' "$NOW"
    printf '2 0 %s {"type":"hook","host":"h","domain":"a"}\\n{"type":"verdict","verdict":"deny"}\n' "$NOW"
    printf '1 2 %s {"type":"verdict","host":"h","verdict":"deny","ifname":"\\xff\\xc0\\x80","pid":-1,"ppid":99999999999999999999,"comm":"\\x9b2J"}\n' "$NOW"
    printf '1 9 %s {"type":"verdict","verdict":7,"ifname":{"x":[1,2,{"y":null}]},"targets":"notarray"}\n' "$NOW"
    printf '99 0 0 {"type":"\\x00nul"}\n'
    printf '6 0 18446744073709551615 {"type":"agent","event":"%s"}\n' "$(head -c 3000 /dev/zero | tr '\0' 'A')"
    printf '2 0 %s {"type":"hook","host":"h","domain":"b","op":"release","targets":[1,null,true]}\n' "$NOW"
} | seg "$C/seg-0000000000000001.mgj"
python3 - "$C" <<'EOF'
import struct, sys, zlib
d = sys.argv[1]
def hdr(magic=0x4a474dff, ln=0, crc=0, typ=2, verdict=0, version=1, seq=1, ts=1):
    return struct.pack("<IIIHBBQQ", magic, ln, crc, typ, verdict, version, seq, ts)
recs = [hdr(ln=0xffffffff), hdr(ln=(1 << 20) + 1), hdr(version=2, ln=4) + b"{}{}",
        hdr(ln=2**31) + b"\xff" * 40, b"\xffMGJ" * 1000, hdr(typ=0, ln=2) + b"{}",
        hdr(seq=0, ln=2) + b"{}", b"\x00" * 31]
open(d + "/seg-0000000000000002.mgj", "wb").write(b"".join(recs))
open(d + "/seg-0000000000000003.mgj", "wb").write(hdr(ln=1 << 20)[:20])
EOF
mkfifo "$C/seg-0000000000000004.mgj"
crashed=""
for args in "journal" "-j journal" "journal --domain b" "postmortem" "-j postmortem" "postmortem --domain a"; do
    # shellcheck disable=SC2086
    ASAN_OPTIONS=detect_leaks=1 timeout 60 "$MGA" $args "$C" >"$T/c.out" 2>"$T/c.err"; rc=$?
    if [ $rc -ge 124 ] || grep -qE 'Sanitizer|runtime error' "$T/c.err" || has_ctl "$T/c.out"; then
        crashed="$crashed [$args: rc $rc $(grep -m1 -E 'Sanitizer|runtime error' "$T/c.err")]"
    fi
    case "$args" in -j*) python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8")' <"$T/c.out" 2>/dev/null || crashed="$crashed [$args: not UTF-8]";; esac
    # the FIFO is an error: a line on stderr, or {"error": ...} on stdout with -j (docs/json.md)
    case "$args" in
        -j*) grep -q '^{"error":".*not a regular file' "$T/c.out" || crashed="$crashed [$args: FIFO not reported as a JSON error]" ;;
        *) grep -q "not a regular file" "$T/c.err" || crashed="$crashed [$args: FIFO not reported]" ;;
    esac
done
rm -f "$C/seg-0000000000000004.mgj"
ASAN_OPTIONS=detect_leaks=1 timeout 60 "$MGA" -j journal "$C" >"$T/c.jsonl" 2>/dev/null
grep -q '"domain":"b"' "$T/c.jsonl" && ! grep -q '"verdict":"deny"}$' "$T/c.jsonl" || crashed="$crashed [the good record not read, or the forged one printed]"
[ -z "$crashed" ] && ok "hostile-journal corpus (escapes, forged lines, odd headers, huge lengths, truncated header, a FIFO): journal/postmortem text and -j under ASan/UBSan: no crash, no hang, no raw control bytes, valid UTF-8 JSON" \
    || notok "hostile-journal corpus" "$crashed"

finish
