#!/bin/bash
# Issue 13's agent side (and issue 12 items 5 and 6) on this machine's kernel (flag-only
# agent), in private namespaces:
#  1. systemd: READY=1 once (after pidfile, events.sock, journal), STATUS=, WATCHDOG=1 at
#     least every half interval, SIGHUP -> RELOADING=1 + MONOTONIC_USEC, READY=1, STATUS=;
#     a bad configuration keeps the old one; STOPPING=1; no READY=1 on a fatal start
#     (a stand-in NOTIFY_SOCKET here; the real systemd is 70-package.sh's guest part).
#  2. status exit codes (1 running not enforcing, 3 not running, 4 permission denied), no
#     stale status; stop as nobody; the Prometheus gauges and counters the alert rules use;
#     the journald copy (MESSAGE_ID, fields, priority, the whole record; a stand-in
#     /run/systemd/journal/socket in the private /run).
#  3. one configuration: every MACVGUARD_* variable has a key, config check (file:line,
#     exit 1), a missing explicit --config, the reader (long comments, NUL, CRLF), mode
#     precedence (pinned mode wins over the file's), the config fuzzer (short).
#  4. NOT ENFORCING with cause and remedy; the LSM list unknown when securityfs is not
#     mounted, known (and the lsm= remedy) when it is.
#  5. ifalias: an operator's alias survives tag and untag.
#   MG_BIN=PATH  run the checks against another build (e.g. the one before this change)
# Prints "ok - NAME" / "not ok - NAME: reason" and ends with one "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
# promtool (fetched once into build/tools by scripts/promtool.sh) needs the network, which
# the private namespace below does not have: fetch it before isolating
[ -n "${MG_ISOLATED:-}" ] || BUILD=${BUILD:-build} scripts/promtool.sh --version >/dev/null 2>&1
mg_isolate "$0" "$@"    # private mount + network namespaces: never the host's agent state
BUILD=${BUILD:-build}
MG=${MG_BIN:-$PWD/$BUILD/macvguard}
T=$(mktemp -d /tmp/mg-service.XXXXXX)
chmod 755 "$T"
AGENT=""; HOLDER=""; PYPID=""
cleanup() {
    [ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
    [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
    [ -n "$PYPID" ] && kill "$PYPID" 2>/dev/null
    ip link del mgs0 2>/dev/null; ip link del mgs2 2>/dev/null; ip link del mgs4 2>/dev/null
    "$MG" stop --unpin >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
. tests/lib/suite.sh
unset MACVGUARD_HOST MACVGUARD_NO_JOURNAL MACVGUARD_SYSTEMD_JOURNAL MACVGUARD_PROM_FILE \
    MACVGUARD_JOURNAL_DIR MACVGUARD_STATUS_DIR MACVGUARD_CONF NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID
export MACVGUARD_PROM_FILE=-
mkdir -p "$T/status"

if make -s BUILD="$BUILD" all config-fuzz-bins >"$T/build.log" 2>&1; then ok "build macvguard and the config fuzzer"
else notok "build" "$(tail -n 5 "$T/build.log" | tr '\n' ' ')"; finish; fi
[ "$(id -u)" -eq 0 ] || { notok "service suite" "needs root"; finish; }
VERSION=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
# securityfs as the host has it: not mounted here (the first part expects "unknown")
umount /sys/kernel/security 2>/dev/null

start_agent() {   # LOG [run args...] (environment as set by the caller)
    local log=$1; shift
    "$MG" run "$@" >"$log" 2>&1 &
    AGENT=$!
    for _ in $(seq 1 150); do grep -q "agent running" "$log" 2>/dev/null && return 0; kill -0 $AGENT 2>/dev/null || break; sleep 0.1; done
    return 1
}
stop_agent() { [ -n "$AGENT" ] && kill -TERM "$AGENT" 2>/dev/null && wait "$AGENT"; local rc=$?; AGENT=""; return $rc; }

# ---- 3. one configuration ------------------------------------------------------------------
C=$T/conf; mkdir -p "$C"
# every MACVGUARD_* variable the code reads has a key in the shipped file (or is marked
# there as an environment-only knob), and the shipped file passes its own check
miss=""
# (variables read: getenv/env_* calls; MACVGUARD_* journald field names are not read)
for v in $(grep -rhoE '(getenv|env_[a-z]+)\("MACVGUARD_[A-Z_]+"' user/ | grep -oE 'MACVGUARD_[A-Z_]+' | sort -u); do
    grep -q "$v" dist/macvguard.conf || miss="$miss $v"
done
[ -z "$miss" ] && ok "3 every MACVGUARD_* variable read in user/ is documented in dist/macvguard.conf" ||
    notok "3 every variable in dist/macvguard.conf" "missing:$miss"
out=$("$MG" config check dist/macvguard.conf 2>&1); rc=$?
nkeys=$(grep -cE '^#? ?[a-z_]+ = ' dist/macvguard.conf)
[ $rc = 0 ] && echo "$out" | grep -q ": OK" && [ "$nkeys" -ge 13 ] &&
    ok "3 config check dist/macvguard.conf: OK ($nkeys settings, each with a comment)" ||
    notok "3 config check dist/macvguard.conf" "exit $rc, $nkeys keys: $out"
# uncommented: every example line of the shipped file is a valid setting
sed -E 's/^# ?([a-z_]+ = )/\1/' dist/macvguard.conf >"$C/all.conf"
out=$("$MG" config check "$C/all.conf" 2>&1); rc=$?
[ $rc = 0 ] && ok "3 config check: every commented example in dist/macvguard.conf is valid when uncommented" ||
    notok "3 shipped examples valid" "exit $rc: $(echo "$out" | head -n 3 | tr '\n' ' ')"

printf 'status_dir = /srv/q\nbogus = 1\nmode = sometimes\njust words\nwatch_status = perhaps\nmode = audit\nmode = enforce\njournal_segment_size = lots\n' >"$C/bad.conf"
out=$("$MG" config check "$C/bad.conf" 2>&1); rc=$?
want="bad.conf:2: bad.conf:3: bad.conf:4: bad.conf:5: bad.conf:7: bad.conf:8:"
got=""; for w in $want; do echo "$out" | grep -q "$w" && got="$got $w"; done
[ $rc = 1 ] && [ "$got" = " $(echo $want)" ] && echo "$out" | grep -q "6 errors" &&
    ok "3 config check: every error with FILE:LINE (unknown key, bad values, no '=', duplicate), exit 1" ||
    notok "3 config check errors" "exit $rc, found:$got; $(echo "$out" | tr '\n' '|')"
"$MG" -j config check "$C/bad.conf" >"$T/cc.json" 2>/dev/null; rc=$?
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is False and len(d["errors"])==6, d' "$T/cc.json" 2>/dev/null && [ $rc = 1 ] &&
    ok "3 config check -j: {file, ok, errors[]}" || notok "3 config check -j" "exit $rc $(head -c 200 "$T/cc.json")"
# a 600-byte comment whose tail reads like a directive is a comment (the old reader read
# 512-byte pieces: the tail became "mode = audit")
{ printf '# %0600d mode = audit\n' 0; } >"$C/long.conf"
out=$("$MG" config check "$C/long.conf" 2>&1); rc=$?
[ $rc = 0 ] && ok "3 reader: a long comment ending in 'mode = audit' stays a comment" || notok "3 long comment" "exit $rc: $out"
printf 'mode = audit\0garbage\n' >"$C/nul.conf"
out=$("$MG" config check "$C/nul.conf" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "nul.conf:1: .*NUL" && ok "3 reader: a NUL byte in a value is an error (nul.conf:1)" ||
    notok "3 reader: NUL" "exit $rc: $out"
printf 'mode = audit\r\nstatus_dir = /srv/crlf\r\n' >"$C/crlf.conf"
out=$("$MG" config check "$C/crlf.conf" 2>&1); rc=$?
[ $rc = 0 ] && ok "3 reader: CRLF line ends accepted" || notok "3 reader: CRLF" "exit $rc: $out"
# an explicit configuration that is missing is an error for every reader
bad=""
"$MG" config check "$C/none.conf" >/dev/null 2>&1; [ $? = 2 ] || bad="$bad config-check"
"$MG" --config "$C/none.conf" links >/dev/null 2>&1; [ $? = 2 ] || bad="$bad --config-links"
MACVGUARD_CONF=$C/none.conf "$MG" status >/dev/null 2>&1; [ $? = 2 ] || bad="$bad MACVGUARD_CONF-status"
"$MG" run --config "$C/none.conf" >/dev/null 2>&1; [ $? = 2 ] || bad="$bad run"
"$MG" --config "$C" journal >/dev/null 2>&1; [ $? = 2 ] || bad="$bad directory"
echo "<domain/>" | MACVGUARD_CONF=$C/none.conf MACVGUARD_NO_JOURNAL=1 "$MG" hook qemu d started begin - >/dev/null 2>&1; hrc=$?
[ -z "$bad" ] && [ $hrc = 0 ] && ok "3 a missing explicit configuration (--config, MACVGUARD_CONF, config check FILE, run, a directory) exits 2; the hook still exits 0" ||
    notok "3 missing explicit configuration" "accepted by:$bad; hook exit $hrc"
# a setting only the file gives reaches the readers: journal_dir for `journal`, the
# Prometheus file for the agent
printf 'journal_dir = %s/cj\nprometheus_file = %s/prom/m.prom\nhost = confhost\n' "$T" "$T" >"$C/paths.conf"
mkdir -m 755 "$T/prom"
echo "<domain><name>cfgdom</name></domain>" | MACVGUARD_CONF=$C/paths.conf "$MG" hook qemu cfgdom started begin - >/dev/null 2>&1
"$MG" --config "$C/paths.conf" journal 2>/dev/null | grep -q "confhost.*hook cfgdom" &&
    ok "3 journal_dir and host from the file reach the hook and \`journal\`" ||
    notok "3 journal_dir from the file" "$(ls "$T/cj" 2>&1 | head -n 2 | tr '\n' ' ')"
unset MACVGUARD_PROM_FILE
"$MG" stop --unpin >/dev/null 2>&1
printf 'journal_dir = %s/cj\nprometheus_file = %s/prom/m.prom\nstatus_dir = %s/status\nmode = audit\nbogus_key = 1\n' "$T" "$T" "$T" >"$C/agent.conf"
if start_agent "$T/a0.log" --config "$C/agent.conf"; then
    for _ in $(seq 1 30); do [ -s "$T/prom/m.prom" ] && break; sleep 0.2; done
    [ -s "$T/prom/m.prom" ] && ok "3 prometheus_file from the file (no environment)" || notok "3 prometheus_file from the file" "no $T/prom/m.prom"
    grep -q "agent.conf:5: unknown key 'bogus_key'" "$T/a0.log" && ok "3 an unknown key is a warning at run time (agent runs)" ||
        notok "3 unknown key at run time" "$(grep -i bogus "$T/a0.log")"
    "$MG" mode 2>/dev/null | grep -q "^mode audit" && ok "3 mode = audit applies to a fresh load" || notok "3 fresh load mode" "$("$MG" mode 2>&1)"
    "$MG" mode enforce >/dev/null
    stop_agent
    start_agent "$T/a0b.log" --config "$C/agent.conf"
    m=$("$MG" mode 2>&1); st=$("$MG" status 2>&1)
    if echo "$m" | grep -q "^mode enforce" && echo "$st" | grep -q "^mode: *enforce (the pinned guard's.*mode = audit in $C/agent.conf applies only to a fresh load)" &&
       grep -q "kept from the pinned guard; mode = audit in the configuration applies only to a fresh load" "$T/a0b.log"; then
        ok "3 mode precedence: the operator's \`mode enforce\` survives a restart with mode = audit in the file; status and the start line say which wins"
    else notok "3 mode precedence" "$m / $(echo "$st" | grep '^mode') / $(grep 'guard flag-only' "$T/a0b.log")"; fi
    stop_agent
else notok "3 agent with a configuration" "$(tail -n 3 "$T/a0.log" | tr '\n' ' ')"; fi
export MACVGUARD_PROM_FILE=-
"$MG" stop --unpin >/dev/null 2>&1
mkdir -p "$T/corpus"   # new inputs go there, not into the seeds
if timeout 120 "$BUILD/fuzz/config-fuzz" -max_total_time=${SERVICE_FUZZ_SECONDS:-20} -dict=tests/fuzz/config.dict \
    -rss_limit_mb=2048 -artifact_prefix="$T/config-" -close_fd_mask=3 "$T/corpus" tests/fuzz/config-seeds >"$T/fuzz.log" 2>&1; then
    ok "3 config fuzzer (ASan/UBSan, ${SERVICE_FUZZ_SECONDS:-20} s): $(grep -o 'Done [0-9]* runs' "$T/fuzz.log")"
else notok "3 config fuzzer" "$(grep -m 3 -E 'ERROR|SUMMARY|abort' "$T/fuzz.log" | tr '\n' ' ')"; fi

# ---- 1. systemd: notify, watchdog, reload, stopping ------------------------------------------
cat >"$T/notify.py" <<'EOF'
# Stand-in for systemd's notify socket: every datagram with its arrival time, and at READY=1
# whether the pidfile, events.sock and a journal segment exist.
import glob, os, socket, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "w", buffering=1) as f:
    while True:
        m = s.recv(65536).decode(errors="replace")
        extra = ""
        if "READY=1" in m:
            extra = " |pidfile=%d sock=%d journal=%d" % (os.path.exists("/run/macvguard/agent.pid"),
                os.path.exists("/run/macvguard/events.sock"), bool(glob.glob("/var/lib/macvguard/journal/seg-*")))
        f.write("%.3f %s%s\n" % (time.monotonic(), m.replace("\n", "\\n"), extra))
EOF
python3 "$T/notify.py" "$T/notify.sock" "$T/notify.log" & PYPID=$!
for _ in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
printf 'status_dir = %s/status\n' "$T" >"$C/ok.conf"
if NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=1000000 start_agent "$T/n.log" --config "$C/ok.conf"; then
    APID=$AGENT
    sleep 3
    n_ready=$(grep -c "READY=1" "$T/notify.log")
    rl=$(grep -m1 "READY=1" "$T/notify.log")
    if [ "$n_ready" = 1 ] && echo "$rl" | grep -q "STATUS=NOT ENFORCING (flag-only): .*remedy: " &&
       echo "$rl" | grep -q "pidfile=1 sock=1 journal=1"; then
        ok "1 READY=1 once, with STATUS=NOT ENFORCING (flag-only): cause; remedy, after pidfile, events.sock and journal"
    else notok "1 READY=1" "$n_ready READY: $(head -c 400 "$T/notify.log" | tr '\n' '|')"; fi
    gaps=$(awk '/WATCHDOG=1/ { if (p) { g = $1 - p; if (g > m) m = g } p = $1; n++ } END { printf "%d %.3f", n, m }' "$T/notify.log")
    set -- $gaps
    if [ "$1" -ge 5 ] && awk -v m="$2" 'BEGIN { exit !(m <= 0.5) }'; then
        ok "1 WATCHDOG=1 from the main loop: $1 pings in 3 s, longest gap $2 s <= half of WATCHDOG_USEC=1 s"
    else notok "1 WATCHDOG=1" "pings $1, longest gap $2 s"; fi
    : >"$T/notify.log.mark"; nbefore=$(wc -l <"$T/notify.log")
    kill -HUP $APID; sleep 1.5
    after=$(tail -n +$((nbefore + 1)) "$T/notify.log" | grep -v "^[0-9.]* WATCHDOG=1$")
    if kill -0 $APID 2>/dev/null && echo "$after" | grep -q "RELOADING=1\\\\nMONOTONIC_USEC=[0-9]" &&
       echo "$after" | grep -q "READY=1" && echo "$after" | grep -q "STATUS=" &&
       [ "$(echo "$after" | grep -n RELOADING | cut -d: -f1 | head -n1)" -lt "$(echo "$after" | grep -n READY | cut -d: -f1 | head -n1)" ]; then
        ok "1 SIGHUP: agent keeps running; RELOADING=1 + MONOTONIC_USEC, then READY=1 and STATUS="
    else notok "1 SIGHUP reload" "alive $(kill -0 $APID 2>/dev/null && echo yes || echo no): $(echo "$after" | tr '\n' '|' | head -c 300)"; fi
    printf 'status_dir = %s/status\nmode = whenever\n' "$T" >"$C/ok.conf"
    nbefore=$(wc -l <"$T/notify.log")
    kill -HUP $APID; sleep 1.5
    after=$(tail -n +$((nbefore + 1)) "$T/notify.log" | grep -v "^[0-9.]* WATCHDOG=1$")
    if kill -0 $APID 2>/dev/null && echo "$after" | grep -q "STATUS=.*configuration: .*ok.conf:2: .*kept the previous configuration" &&
       "$MG" status 2>/dev/null | grep -q "^config: .*ok.conf:2"; then
        ok "1 SIGHUP with a bad configuration: agent keeps running with the old one, says so in STATUS= and status"
    else notok "1 bad reload" "$(echo "$after" | tr '\n' '|' | head -c 300); $(grep -i reload "$T/n.log" | tail -n 2 | tr '\n' ' ')"; fi
    printf 'status_dir = %s/status\n' "$T" >"$C/ok.conf"
    # a second agent cannot start (pidfile held): it exits non-zero without READY=1
    python3 "$T/notify.py" "$T/notify2.sock" "$T/notify2.log" & P2=$!
    for _ in $(seq 1 50); do [ -S "$T/notify2.sock" ] && break; sleep 0.1; done
    NOTIFY_SOCKET=$T/notify2.sock timeout 30 "$MG" run --config "$C/ok.conf" >"$T/n2.log" 2>&1; rc2=$?
    sleep 0.3; kill $P2 2>/dev/null
    [ $rc2 != 0 ] && ! grep -q "READY=1" "$T/notify2.log" 2>/dev/null && ok "1 a fatal start (another agent holds the pidfile) exits $rc2 without READY=1" ||
        notok "1 fatal start" "exit $rc2, $(cat "$T/notify2.log" 2>/dev/null | tr '\n' '|')"
    nbefore=$(wc -l <"$T/notify.log")
    stop_agent; src=$?
    sleep 0.3
    tail -n +$((nbefore + 1)) "$T/notify.log" | grep -q "STOPPING=1" && [ $src = 0 ] &&
        ok "1 SIGTERM: STOPPING=1, exit 0" || notok "1 STOPPING=1" "exit $src $(tail -n 3 "$T/notify.log" | tr '\n' '|')"
else notok "1 agent under a stand-in NOTIFY_SOCKET" "$(tail -n 3 "$T/n.log" | tr '\n' ' ')"; fi
kill $PYPID 2>/dev/null; PYPID=""
# without systemd a SIGHUP does not kill the agent either
if start_agent "$T/h.log" --config "$C/ok.conf"; then
    kill -HUP $AGENT; sleep 1
    kill -0 $AGENT 2>/dev/null && grep -q "reload: configuration .* read" "$T/h.log" && ok "1 SIGHUP without systemd: configuration re-read, agent still running" ||
        notok "1 SIGHUP without systemd" "$(tail -n 2 "$T/h.log" | tr '\n' ' ')"
    stop_agent
else notok "1 agent for SIGHUP" "did not start"; fi

# ---- 4 + 2. status: messages, exit codes, no stale status ---------------------------------
"$MG" stop --unpin >/dev/null 2>&1
if start_agent "$T/s.log" --config "$C/ok.conf"; then
    st=$("$MG" status 2>&1); rc=$?
    if [ $rc = 1 ] && echo "$st" | grep -q "^guard: *NOT ENFORCING (flag-only), mode enforce" &&
       echo "$st" | grep -q "^remedy: .*securityfs" && echo "$st" | grep -q "lsm_bpf_listed=unknown"; then
        ok "2,4 status of a flag-only agent: exit 1, NOT ENFORCING (flag-only) with cause and remedy; LSM list unknown (securityfs not mounted)"
    else notok "2,4 status flag-only" "exit $rc: $(echo "$st" | tr '\n' '|')"; fi
    grep -q "NOT ENFORCING (flag-only): .*; remedy: " "$T/s.log" && ok "4 startup line: NOT ENFORCING (flag-only): cause; remedy" ||
        notok "4 startup line" "$(grep -m2 'guard\|ENFORC' "$T/s.log" | tr '\n' ' ')"
    "$MG" -j status >"$T/st.json"; rc=$?
    python3 - "$T/st.json" <<'EOF' && [ $rc = 1 ] && ok "2 status -j: enforcing false, agent running, cause, remedy, features.lsm_bpf_listed null (unknown)" || notok "2 status -j" "exit $rc $(head -c 300 "$T/st.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["enforcing"] is False and d["agent"] == "running" and d["guard"] == "flag-only", d
assert d["cause"] and d["remedy"] and d["features"]["lsm_bpf_listed"] is None, d
EOF
    # unprivileged: permission denied, non-zero, for status and stop alike
    install -m 0755 "$MG" "$T/mgcopy"
    out=$(cd "$T" && runuser -u nobody -- "$T/mgcopy" status 2>&1 </dev/null); rc=$?
    out2=$(cd "$T" && runuser -u nobody -- "$T/mgcopy" stop 2>&1 </dev/null); rc2=$?
    if [ $rc = 4 ] && echo "$out" | grep -q "permission denied" && [ $rc2 = 4 ] && echo "$out2" | grep -q "permission denied"; then
        ok "2 as nobody: status and stop say 'permission denied', exit 4"
    else notok "2 as nobody" "status $rc '$out'; stop $rc2 '$out2'"; fi
    kill -0 $AGENT 2>/dev/null || notok "2 agent survives nobody's stop" "gone"
    stop_agent
    st=$("$MG" status 2>&1); rc=$?
    "$MG" -j status >"$T/st2.json" 2>/dev/null
    if [ $rc = 3 ] && [ -e /run/macvguard/status.json ] && echo "$st" | grep -q "^agent: *not running" &&
       ! echo "$st" | grep -q "NOT ENFORCING\|^remedy:\|refused" &&
       python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["agent"]=="not running" and d["cause"] is None and d["enforcing"] is False' "$T/st2.json"; then
        ok "2 status after stop: exit 3, not running; the last run's status file is not shown as current"
    else notok "2 status after stop" "exit $rc: $(echo "$st" | tr '\n' '|')"; fi
else notok "2 agent for status" "$(tail -n 3 "$T/s.log" | tr '\n' ' ')"; fi
# the LSM list known: securityfs mounted in this namespace only
if mount -t securityfs securityfs /sys/kernel/security 2>/dev/null && [ -r /sys/kernel/security/lsm ]; then
    lsm=$(cat /sys/kernel/security/lsm)
    if start_agent "$T/s2.log" --config "$C/ok.conf"; then
        st=$("$MG" status 2>&1)
        if echo ",$lsm," | grep -q ",bpf,"; then
            # this kernel lists bpf and still refuses (EPERM): the other cause, the other remedy
            echo "$st" | grep -q "lsm_bpf_listed=yes" && echo "$st" | grep -q '^reason: .*although "bpf" is in the kernel.s LSM list' &&
                echo "$st" | grep -q "^remedy: *check that the agent has CAP_BPF" &&
                ok "4 securityfs mounted, bpf listed ($lsm) yet refused: lsm_bpf_listed=yes, cause and remedy say so" ||
                notok "4 securityfs mounted" "$(echo "$st" | grep -E 'reason|remedy|features' | tr '\n' '|')"
        else
            echo "$st" | grep -q "lsm_bpf_listed=no" && echo "$st" | grep -q "^remedy: *add bpf to the lsm= kernel parameter (e.g. lsm=$lsm,bpf" &&
                ok "4 securityfs mounted: lsm_bpf_listed=no and the remedy names lsm=$lsm,bpf" ||
                notok "4 lsm= remedy" "$(echo "$st" | grep -E 'remedy|features' | tr '\n' '|')"
        fi
        stop_agent
    else notok "4 agent with securityfs" "did not start"; fi
    umount /sys/kernel/security
else notok "4 mount securityfs in the test namespace" "mount failed"; fi

# ---- 2. Prometheus, 5. ifalias, 2. journald (one agent) -------------------------------------
unset MACVGUARD_PROM_FILE
mkdir -p /run/systemd/journal
cat >"$T/journald.py" <<'EOF'
# Stand-in journald: native protocol datagrams (FIELD=value lines, or FIELD\n<le64>value\n)
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
with open(sys.argv[1], "w", buffering=1) as out:
    while True:
        d = s.recv(1 << 20)
        f, i = {}, 0
        while i < len(d):
            nl = d.index(b"\n", i)
            line = d[i:nl]
            if b"=" in line:
                k, v = line.split(b"=", 1); i = nl + 1
            else:
                k = line; n = struct.unpack("<Q", d[nl + 1:nl + 9])[0]
                v = d[nl + 9:nl + 9 + n]; i = nl + 9 + n + 1
            f[k.decode()] = v.decode(errors="replace")
        out.write(json.dumps(f) + "\n")
EOF
python3 "$T/journald.py" "$T/journald.jsonl" & PYPID=$!
for _ in $(seq 1 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
printf 'status_dir = %s/status\nprometheus_file = %s/prom/macvguard.prom\nsystemd_journal = yes\n' "$T" "$T" >"$C/full.conf"
"$MG" stop --unpin >/dev/null 2>&1
if start_agent "$T/p.log" --config "$C/full.conf"; then
    ip link add mgs0 type veth peer name mgs1
    ip link add mgs2 type veth peer name mgs3
    ip link set mgs0 alias "uplink to rack 7"
    sleep 300 & HOLDER=$!
    MGC="$MG --config $C/full.conf"   # the CLI's journald copy follows the same file
    alias_of() { ip -j link show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get("ifalias", ""))'; }
    $MGC tag mgs0 --domain promdom --pid $HOLDER >/dev/null 2>&1
    $MGC tag mgs2 --domain promdom --pid $HOLDER >/dev/null 2>&1
    a0=$(alias_of mgs0); a2=$(alias_of mgs2)
    $MGC untag mgs0 >/dev/null 2>&1; $MGC untag mgs2 >/dev/null 2>&1
    b0=$(alias_of mgs0); b2=$(alias_of mgs2)
    if [ "$a0" = "uplink to rack 7" ] && [ "$b0" = "uplink to rack 7" ] && echo "$a2" | grep -q "^macvguard: domain=promdom" && [ -z "$b2" ]; then
        ok "5 ifalias: the operator's 'uplink to rack 7' survives tag and untag; an empty alias gets macvguard's label and loses it again"
    else notok "5 ifalias" "operator's: '$a0' -> '$b0'; empty: '$a2' -> '$b2'"; fi
    $MGC tag mgs0 --domain promdom --pid $HOLDER >/dev/null 2>&1
    "$MG" links 2>/dev/null | grep -q "^mgs0 .*promdom" && ok "5 ifalias: the tag of a link with an operator's alias is in the guard's map (links)" ||
        notok "5 tag kept elsewhere" "$("$MG" links 2>&1 | tail -n 2)"
    # a deletion the enforcing guard would refuse: owner alive, not released
    ip link del mgs0
    sleep 11   # the textfile is written every 10 s
    P=$T/prom/macvguard.prom
    miss=""
    for m in 'macvguard_guard_enforcing 0' 'macvguard_mode{mode="enforce"} 1' 'macvguard_mode{mode="audit"} 0' \
        'macvguard_guarded_links 0' "macvguard_build_info{version=\"$VERSION\",kernel=\"$(uname -r)\",guard=\"flag-only\"} 1" \
        'macvguard_refusals_total 0' 'macvguard_would_refuse_total 1' 'macvguard_verdicts_total{verdict="audit"} 1' \
        'macvguard_journal_disabled 0' 'macvguard_journal_write_errors_total 0' \
        'macvguard_guard_attachment{attachment="none"} 1' 'macvguard_guard_attachment{attachment="bpf_lsm"} 0' \
        'macvguard_guard_attachment{attachment="fmod_ret"} 0'; do
        grep -qF "$m" "$P" || miss="$miss [$m]"
    done
    ts=$(sed -n 's/^macvguard_journal_last_write_timestamp_seconds //p' "$P")
    [ -z "$miss" ] && [ "${ts:-0}" -gt $(( $(date +%s) - 120 )) ] &&
        ok "2 prometheus: enforcing 0, attachment none, mode, guarded links, build_info (version $VERSION), refusals 0, would_refuse 1 (flag-only deletion of an in-use link, an audit verdict) apart from gone, journal health" ||
        notok "2 prometheus gauges" "missing$miss; last write '$ts'"
    miss=""
    for m in $(grep -oE 'macvguard_[a-z_]+' dist/macvguard.rules.yml tests/prometheus/macvguard.rules.test.yml | cut -d: -f2 | sort -u); do
        grep -q "^$m[ {]" "$P" || miss="$miss $m"
    done
    [ -z "$miss" ] && ok "2 every macvguard_* metric the alert rules and their tests use is exported" || notok "2 metrics of the rules" "missing:$miss"
    if BUILD="$BUILD" scripts/promtool.sh check metrics <"$P" >"$T/promcheck.txt" 2>&1; then ok "2 promtool check metrics: the textfile is valid"
    else notok "2 promtool check metrics" "$(head -n 3 "$T/promcheck.txt" | tr '\n' ' ')"; fi
    sleep 0.5
    python3 - "$T/journald.jsonl" <<'EOF' && ok "2 journald: MESSAGE_ID per type, MACVGUARD_DOMAIN/_IFNAME/_VERDICT, priority 3 for the would-refuse deletion, the whole record in MACVGUARD_RECORD" || notok "2 journald copy" "see above"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ids = {}
for r in recs:
    assert r["SYSLOG_IDENTIFIER"] == "macvguard" and len(r["MESSAGE_ID"]) == 32, r
    json.loads(r["MACVGUARD_RECORD"])
    ids.setdefault(r["MACVGUARD_TYPE"], set()).add(r["MESSAGE_ID"])
assert all(len(v) == 1 for k, v in ids.items() if k != "verdict"), ids
assert len({next(iter(v)) for k, v in ids.items() if k != "verdict"}) == len([k for k in ids if k != "verdict"]), ids
# flag-only: the would-refuse deletion is flagged at request time as an audit verdict
gone = [r for r in recs if r.get("MACVGUARD_VERDICT") == "audit" and r.get("MACVGUARD_IFNAME") == "mgs0"]
assert gone, [(r.get("MACVGUARD_TYPE"), r.get("MACVGUARD_VERDICT")) for r in recs]
g = gone[0]
assert g["MACVGUARD_DOMAIN"] == "promdom" and g["PRIORITY"] == "3" and g["MESSAGE_ID"] == "b7b13e494f1480ed543588b1ada57718", g
assert json.loads(g["MACVGUARD_RECORD"])["owner_domain"] == "promdom"
starts = [r for r in recs if r["MACVGUARD_TYPE"] == "agent"]
assert starts and starts[0]["PRIORITY"] == "5" and starts[0]["MESSAGE_ID"] == "48bd4960d938fcd2190cc8bf8351d82c", starts
tags = [r for r in recs if r["MACVGUARD_TYPE"] == "tag"]
assert tags and tags[0]["MACVGUARD_DOMAIN"] == "promdom" and tags[0]["PRIORITY"] == "6", tags
EOF
    if grep -q '"MACVGUARD_REQUESTER_COMM": "ip"' "$T/journald.jsonl"; then ok "2 journald: MACVGUARD_REQUESTER_COMM=ip (fallback monitor named the requester)"
    else notok "2 journald: MACVGUARD_REQUESTER_COMM" "monitor $("$MG" -j status | python3 -c 'import json,sys; print(json.load(sys.stdin)["monitor"])')"; fi
    stop_agent
    kill $HOLDER 2>/dev/null; HOLDER=""
    ip link del mgs2 2>/dev/null
else notok "2 agent with prometheus_file and systemd_journal" "$(tail -n 3 "$T/p.log" | tr '\n' ' ')"; fi
kill $PYPID 2>/dev/null; PYPID=""
# journal disabled: said in the metrics
printf 'status_dir = %s/status\nprometheus_file = %s/prom/off.prom\njournal = no\n' "$T" "$T" >"$C/nojournal.conf"
if start_agent "$T/p2.log" --config "$C/nojournal.conf"; then
    for _ in $(seq 1 30); do [ -s "$T/prom/off.prom" ] && break; sleep 0.2; done
    grep -q '^macvguard_journal_disabled 1' "$T/prom/off.prom" && ok "2 journal = no: macvguard_journal_disabled 1" ||
        notok "2 journal disabled metric" "$(grep journal "$T/prom/off.prom" 2>&1 | tr '\n' ' ')"
    stop_agent
else notok "2 agent without journal" "did not start"; fi
finish
