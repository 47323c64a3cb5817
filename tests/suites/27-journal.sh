#!/bin/bash
# Flight recorder on the host (no BPF needed): unit tests of user/journal.c (plain and
# ASan/UBSan), concurrent writers (a long-lived writer plus 8 `macvguard hook` processes
# in loops), rotation/retention, torn tail and corrupt middle records through the CLI,
# `journal` filters and `-f` with SIGINT/SIGTERM, the hook never failing because of the
# journal, a two-host merge in `postmortem` (text, JSON, HTML in headless chromium).
# Prints "ok - NAME" / "not ok - NAME: reason" and ends with one "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private mount + network namespaces: never the host's agent state
BUILD=${BUILD:-build}
MG=$PWD/$BUILD/macvguard
TJ=$PWD/$BUILD/tests/test_journal
T=$(mktemp -d /tmp/mg-journal-suite.XXXXXX)
trap 'rm -rf "$T"' EXIT
. tests/lib/suite.sh
unset MACVGUARD_HOST MACVGUARD_NO_JOURNAL MACVGUARD_SYSTEMD_JOURNAL
export MACVGUARD_PROM_FILE=-

if make -s BUILD="$BUILD" all journal-bins >"$T/build.log" 2>&1; then ok "make journal-bins"
else notok "make journal-bins" "$(tail -n 5 "$T/build.log" | tr '\n' ' ')"; finish; fi

# --- unit tests, plain and under ASan/UBSan -------------------------------------------------
run_unit unit 300 clean "$TJ"
run_unit asan 300 clean "$(dirname "$TJ")/asan/test_journal"

XML="<domain type='kvm'><name>B</name><uuid>bbbbbbbb-2222-3333-4444-555555555555</uuid><devices><interface type='direct'><source dev='eth0'/><target dev='macvtap0'/></interface></devices></domain>"

# --- concurrent writers: a long-lived writer + 8 hook processes in loops --------------------
export MACVGUARD_JOURNAL_DIR=$T/conc
"$TJ" writer "$T/conc" 400 w0 &
W0=$!
for k in 1 2 3 4 5 6 7 8; do
    ( for i in $(seq 1 40); do
          echo "$XML" | "$MG" hook qemu "dom$k" started begin - >/dev/null 2>>"$T/conc-hook.err"
      done ) &
done
wait
"$MG" -j journal >"$T/conc.jsonl" 2>"$T/conc.err"
if python3 - "$T/conc.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 400 + 8 * 40, len(recs)
seqs = [r["seq"] for r in recs]
assert seqs == list(range(1, len(recs) + 1)), "seq not strictly increasing by one"
hooks = [r for r in recs if r.get("type") == "hook"]
assert len(hooks) == 320 and all(r["op"] == "started" and r["uuid"].startswith("bbbbbbbb") for r in hooks)
assert len({r["host"] for r in hooks}) == 1 and all(r["boot_id"] for r in hooks)
for k in range(1, 9):
    assert sum(1 for r in hooks if r["domain"] == "dom%d" % k) == 40
EOF
then
    [ -s "$T/conc.err" ] && notok "concurrent writers: clean read" "$(head -c 300 "$T/conc.err")" \
        || ok "concurrent writers (1 long-lived + 8 hook processes x 40): 720 records intact, seq 1..720, host and boot id on each"
else notok "concurrent writers" "$(tail -n 2 "$T/conc.jsonl" | head -c 300)"; fi

# --- the real agent (flag-only on this kernel) + 8 hook processes --------------------------
# The agent journals rtnetlink link creations/deletions of its netns: veth pairs created
# and deleted in a loop make it write while 8 hook processes write too.
export MACVGUARD_JOURNAL_DIR=$T/agentconc
# (private /run and bpffs: a host agent cannot be in the way, so no skip)
if [ "$(id -u)" -ne 0 ]; then notok "agent + 8 hooks" "needs root"
else
    "$MG" run >"$T/agent.log" 2>&1 &
    AG=$!
    for _ in $(seq 1 100); do grep -q "agent running" "$T/agent.log" && break; kill -0 $AG 2>/dev/null || break; sleep 0.1; done
    for k in 1 2 3 4 5 6 7 8; do
        ( for i in $(seq 1 25); do echo "$XML" | "$MG" hook qemu "ag$k" started begin - >/dev/null; done ) &
        HP[$k]=$!
    done
    for i in $(seq 1 20); do ip link add mgj$$a type veth peer name mgj$$b 2>/dev/null; ip link del mgj$$a 2>/dev/null; done
    for k in 1 2 3 4 5 6 7 8; do wait "${HP[$k]}"; done
    sleep 0.5
    kill -TERM $AG; wait $AG; arc=$?
    "$MG" stop --unpin >/dev/null 2>&1
    "$MG" -j journal >"$T/agentconc.jsonl" 2>"$T/agentconc.err"
    if [ $arc = 0 ] && [ ! -s "$T/agentconc.err" ] && python3 - "$T/agentconc.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
seqs = [r["seq"] for r in recs]
assert seqs == list(range(1, len(recs) + 1)), "seq"
kinds = {}
for r in recs:
    kinds[r["type"]] = kinds.get(r["type"], 0) + 1
assert kinds.get("hook") == 200, kinds
assert kinds.get("link", 0) >= 60, kinds          # 20 x (2 created + at least 1 deleted)
assert [r["event"] for r in recs if r["type"] == "agent"] == ["start", "stop"], kinds
print("# record types:", kinds)
EOF
    then ok "real agent (link records) + 8 hook processes x 25: all intact, seq 1..N strictly increasing, agent start/stop recorded"
    else notok "real agent + 8 hooks" "agent exit $arc; $(head -c 300 "$T/agentconc.err") $(tail -n 3 "$T/agent.log" | tr '\n' ' ')"; fi
fi
unset MACVGUARD_JOURNAL_DIR

# --- rotation and retention through the CLI ------------------------------------------------
export MACVGUARD_JOURNAL_DIR=$T/rot
for i in $(seq 1 150); do
    echo "$XML" | MACVGUARD_JOURNAL_SEGMENT=4K MACVGUARD_JOURNAL_RETAIN=16K "$MG" hook qemu B started begin - >/dev/null
done
nseg=$(ls "$T/rot"/seg-*.mgj | wc -l)
bytes=$(cat "$T/rot"/seg-*.mgj | wc -c)
last=$("$MG" -j journal | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
first=$(basename "$(ls "$T/rot"/seg-*.mgj | head -n 1)")
if [ "$nseg" -ge 2 ] && [ "$nseg" -le 4 ] && [ "$bytes" -le 16384 ] && [ "$last" = 150 ] && [ "$first" != seg-0000000000000001.mgj ]; then
    ok "rotation (4K segments) + retention (16K): $nseg segments, $bytes bytes, last seq $last, oldest deleted"
else notok "rotation + retention" "$nseg segments, $bytes bytes, last seq $last, first $first"; fi

# --- torn tail and corrupt middle record through the CLI ----------------------------------
export MACVGUARD_JOURNAL_DIR=$T/torn
for i in 1 2 3 4 5; do echo "$XML" | "$MG" hook qemu B started begin - >/dev/null; done
seg=$T/torn/seg-0000000000000001.mgj
size=$(stat -c %s "$seg")
truncate -s $((size - 7)) "$seg"
n=$("$MG" journal 2>"$T/torn.err" | wc -l)
if [ "$n" = 4 ] && grep -q "torn tail: .* bytes at offset" "$T/torn.err"; then ok "reader: torn tail reported, 4 complete records printed"
else notok "reader: torn tail" "$n records; $(cat "$T/torn.err")"; fi
echo "$XML" | "$MG" hook qemu B release end - >/dev/null
n=$("$MG" journal 2>"$T/torn2.err" | wc -l)
lastseq=$("$MG" -j journal | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
if [ "$n" = 5 ] && [ ! -s "$T/torn2.err" ] && [ "$lastseq" = 5 ]; then ok "writer (hook) cut the torn tail on open; seq continues at 5"
else notok "writer cuts the torn tail" "$n records, last seq $lastseq, $(cat "$T/torn2.err")"; fi
python3 - "$seg" <<'EOF'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
off = 0
for i in range(2):                    # skip two records
    off += 32 + struct.unpack_from("<I", b, off + 4)[0]
b[off + 50] ^= 0x20                   # a byte in the third record's payload
open(sys.argv[1], "wb").write(b)
EOF
out=$("$MG" journal 2>"$T/flip.err")
if [ "$(echo "$out" | wc -l)" = 4 ] && grep -q "corrupt region" "$T/flip.err" && ! echo "$out" | grep -q "^\S* \S* *3 "; then
    ok "flipped byte in a middle record: reported and skipped, the other 4 records read"
else notok "corrupt middle record" "$(echo "$out" | wc -l) records; $(cat "$T/flip.err")"; fi

# --- journal filters and bad input ---------------------------------------------------------
export MACVGUARD_JOURNAL_DIR=$T/filt
echo "$XML" | "$MG" hook qemu B migrate begin - >/dev/null
echo "<domain><name>C</name><uuid>cccccccc-0000-0000-0000-000000000000</uuid></domain>" | "$MG" hook qemu C started begin - >/dev/null
sleep 1.1
mid=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ | cut -c1-26)Z
echo "$XML" | "$MG" hook qemu B stopped end - >/dev/null
[ "$("$MG" journal --domain B | wc -l)" = 2 ] && ok "journal --domain NAME" || notok "journal --domain" "$("$MG" journal --domain B)"
[ "$("$MG" journal --domain CCCCCCCC-0000-0000-0000-000000000000 | wc -l)" = 1 ] && ok "journal --domain UUID (any case)" || notok "journal --domain UUID" "$("$MG" journal --domain cccccccc-0000-0000-0000-000000000000)"
[ "$("$MG" journal --ifname macvtap0 | wc -l)" = 2 ] && ok "journal --ifname (XML targets)" || notok "journal --ifname" "$("$MG" journal --ifname macvtap0)"
[ "$("$MG" journal --since "$mid" | wc -l)" = 1 ] && [ "$("$MG" journal --until "$mid" | wc -l)" = 2 ] \
    && ok "journal --since/--until" || notok "journal --since/--until" "since $mid: $("$MG" journal --since "$mid" | wc -l)"
[ "$("$MG" journal --since -1h --verdict deny | wc -l)" = 0 ] && [ "$("$MG" journal --type hook --since -1h | wc -l)" = 3 ] \
    && ok "journal --verdict, --type, relative --since" || notok "journal --verdict/--type" "?"
"$MG" -j journal | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' && ok "journal -j: JSON lines" || notok "journal -j" "not JSON"
for bad in "--since yesterday" "--verdict maybe" "--type nope" "--until 2026-13-45" "--bogus"; do
    # shellcheck disable=SC2086
    "$MG" journal $bad >/dev/null 2>"$T/bad.err"; rc=$?
    [ $rc = 2 ] && [ -s "$T/bad.err" ] && ok "journal $bad: exit 2 with a message" || notok "journal $bad" "exit $rc"
done
"$MG" journal /nonexistent/dir >/dev/null 2>"$T/bad.err"; rc=$?
[ $rc = 1 ] && grep -q "/nonexistent/dir" "$T/bad.err" && ok "journal on a missing path: exit 1 with a message" || notok "journal missing path" "exit $rc"
"$MG" postmortem --since nope >/dev/null 2>&1; [ $? = 2 ] && ok "postmortem --since nope: exit 2" || notok "postmortem bad --since" "exit $?"

# --- journal -f, SIGINT and SIGTERM --------------------------------------------------------
for sig in INT TERM; do
    "$MG" journal -f >"$T/follow.out" 2>"$T/follow.err" &
    F=$!
    sleep 0.5
    echo "$XML" | "$MG" hook qemu "follow$sig" started begin - >/dev/null
    for _ in $(seq 1 30); do grep -q "follow$sig" "$T/follow.out" && break; sleep 0.1; done
    kill -$sig $F; wait $F; rc=$?
    if grep -q "hook follow$sig started" "$T/follow.out" && [ $rc = 0 ]; then ok "journal -f shows a new record; SIG$sig ends it with exit 0"
    else notok "journal -f + SIG$sig" "exit $rc, $(tail -n 2 "$T/follow.out" | tr '\n' ' ')"; fi
done
# follow across a rotation
export MACVGUARD_JOURNAL_DIR=$T/frot
echo "$XML" | "$MG" hook qemu r0 started begin - >/dev/null
"$MG" journal -f >"$T/frot.out" 2>&1 &
F=$!
sleep 0.3
for i in $(seq 1 40); do echo "$XML" | MACVGUARD_JOURNAL_SEGMENT=4K "$MG" hook qemu "r$i" started begin - >/dev/null; done
for _ in $(seq 1 30); do grep -q "hook r40 " "$T/frot.out" && break; sleep 0.1; done
kill -INT $F; wait $F
n=$(grep -c "hook r[0-9]* started" "$T/frot.out")
[ "$n" = 41 ] && [ "$(ls "$T/frot"/seg-*.mgj | wc -l)" -gt 1 ] && ok "journal -f follows across segment rotation (1 old + 40 new records)" \
    || notok "journal -f across rotation" "$n of 41"

# --- the hook never fails libvirt because of the journal -----------------------------------
echo x >"$T/notadir"
out=$(echo "$XML" | MACVGUARD_JOURNAL_DIR=$T/notadir/j MACVGUARD_HOOK_LOG=$T/hook.log "$MG" hook qemu B migrate begin - 2>/dev/null); rc=$?
if [ $rc = 0 ] && ! echo "$out" | grep -q macvtap0 && echo "$out" | grep -q "<domain" && grep -q "journal: cannot create" "$T/hook.log"; then
    ok "hook with an unusable journal dir: exit 0, XML still sanitized, error in the hook log"
else notok "hook with an unusable journal" "exit $rc; $(cat "$T/hook.log" 2>&1 | tail -n 1)"; fi

# --- copy to the systemd journal (sd_journal_sendv; a stand-in journald socket in the private /run)
mkdir -p /run/systemd/journal
python3 - "$MG" "$T/sdj" <<'EOF' && ok "MACVGUARD_SYSTEMD_JOURNAL=1: each record also sent to journald (MESSAGE, MESSAGE_ID, PRIORITY, MACVGUARD_DOMAIN, MACVGUARD_RECORD)" || notok "systemd journal copy" "see above"
import json, os, socket, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket"); s.settimeout(5)
env = dict(os.environ, MACVGUARD_SYSTEMD_JOURNAL="1", MACVGUARD_JOURNAL_DIR=sys.argv[2])
subprocess.run([sys.argv[1], "hook", "qemu", "SD", "started", "begin", "-"], input=b"<domain/>", env=env, check=True)
msg = s.recv(65536).decode()
f = dict(l.split("=", 1) for l in msg.strip().split("\n"))
assert f["SYSLOG_IDENTIFIER"] == "macvguard" and f["PRIORITY"] == "6" and f["MACVGUARD_SEQ"] == "1", f
assert f["MESSAGE_ID"] == "d55bcc62e1c6d77b4edac2b08b08ed65" and f["MACVGUARD_DOMAIN"] == "SD", f
assert f["MESSAGE"].startswith("hook SD started begin"), f
assert json.loads(f["MACVGUARD_RECORD"])["domain"] == "SD"
EOF
rm -f /run/systemd/journal/socket

# --- two hosts merged into one timeline ----------------------------------------------------
unset MACVGUARD_JOURNAL_DIR
h() { # HOST OP DOMAIN
    echo "$XML" | MACVGUARD_HOST=$1 MACVGUARD_JOURNAL_DIR=$T/$1 "$MG" hook qemu "$3" "$2" begin - >/dev/null
}
h src migrate B; h dst prepare B; h dst migrate B; h src stopped B; h dst start B; h dst stopped B; h dst release B; h src release B
"$MG" postmortem --domain B "$T/src" "$T/dst" >"$T/merge.txt" 2>"$T/merge.err"
hosts=$(awk '$1 ~ /^20/ {print $2}' "$T/merge.txt" | tr '\n' ' ')
if [ "$hosts" = "src dst dst src dst dst dst src " ] && sort -c <(awk '$1 ~ /^20/ {print $1}' "$T/merge.txt"); then
    ok "two journals (src, dst) merge into one timeline in time order with a host column"
else notok "two-host merge" "hosts: $hosts $(cat "$T/merge.err")"; fi
"$MG" -j postmortem --domain B "$T/dst" "$T/src" >"$T/merge.json"
python3 - "$T/merge.json" <<'EOF' && ok "postmortem -j of two hosts: hosts, ordered timeline, per-host seq" || notok "postmortem -j two hosts" "$(head -c 300 "$T/merge.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["hosts"] == ["src", "dst"], d["hosts"]
t = d["timeline"]
assert [r["time"] for r in t] == sorted(r["time"] for r in t)
assert [r["seq"] for r in t if r["host"] == "dst"] == [1, 2, 3, 4, 5]
assert [r["seq"] for r in t if r["host"] == "src"] == [1, 2, 3]
assert "no guard verdict" in d["summary"]
EOF

# --- postmortem finds the incident in a generated journal ----------------------------------
"$TJ" gen "$T/gen" 20000 h1 && "$MG" postmortem --domain victim-B "$T/gen" >"$T/gen.txt" 2>&1
# the summary is a paragraph wrapped at 120 columns (line 3 up to the blank line)
summary_of() { awk 'NR >= 3 { if ($0 == "") exit; printf "%s%s", (NR > 3 ? " " : ""), $0 }' "$1"; }
SUM=$(summary_of "$T/gen.txt")
if echo "$SUM" | grep -q "^Teardown of incoming domain victim-B on host h1 tried to delete macvtap7, owned by running domain A (pid 4242); refused" \
   && echo "$SUM" | grep -q "libvirtd (pid 555, parent 1), attributed because the requester is the process that ran the domain's hooks (libvirtd); victim-B's migrate XML carried macvtap7 and the hook stripped it[.]" \
   && [ "$(awk 'length($0) > 120' "$T/gen.txt" | grep -vc '^20')" = 0 ]; then
    ok "postmortem over 20000 records: summary names victim, owner, teardown, requester, verdict"
else notok "postmortem summary on a generated journal" "$(sed -n 3p "$T/gen.txt")"; fi

# --- HTML in a real headless browser -------------------------------------------------------
"$MG" postmortem --domain victim-B --html "$T/pm.html" "$T/gen" "$T/src" >/dev/null 2>&1
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    notok "postmortem --html in headless chromium" "chromium not installed (scripts/packages-test.txt)"
else
    timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$(mktemp -d "$T/chr.XXXXXX")" \
        --dump-dom "file://$T/pm.html" >"$T/dom.html" 2>"$T/chrome.err"
    if grep -q 'id="summary">Teardown of incoming domain victim-B on host h1 tried to delete macvtap7' "$T/dom.html" \
       && grep -q '<g class="lane" data-host="h1">' "$T/dom.html" \
       && [ "$(grep -o '<circle class="deny"' "$T/dom.html" | wc -l)" = 1 ] \
       && ! grep -qiE '(src|href)="(https?:)?//' "$T/pm.html"; then
        ok "postmortem --html rendered by headless chromium: summary, a lane per host, the deny marker, no network fetches"
    else notok "postmortem --html in chromium" "$(head -c 300 "$T/chrome.err")"; fi
fi
finish
