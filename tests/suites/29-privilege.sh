#!/bin/bash
# An unprivileged user (nobody) against every command, the events socket, the journal
# files and the pins while a root agent runs (flag-only here), in private namespaces:
# each attempt must end with a clear permission error and a non-zero exit, never a crash
# (exit >= 128), and leave the agent, its pins, its mode and its journal as they were.
# `status` and `stop` as non-root (issue 12 item 6) say "permission denied" and exit 4 (also
# checked, with the exact code, in 32-service.sh).
# Prints "ok - NAME" / "not ok - NAME: reason" and ends with one "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private mount + network namespaces: never the host's agent state
BUILD=${BUILD:-build}
MG=${MG_BIN:-$PWD/$BUILD/macvguard}
T=$(mktemp -d /tmp/mg-priv.XXXXXX)
chmod 755 "$T"
AGENT=""; HOLDER=""
cleanup() {
    [ -n "$AGENT" ] && kill -TERM "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
    [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
    ip link del mgp0 2>/dev/null
    "$MG" stop --unpin >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
. tests/lib/suite.sh
unset MACVGUARD_JOURNAL_DIR MACVGUARD_NO_JOURNAL MACVGUARD_HOST
export MACVGUARD_PROM_FILE=-

if make -s BUILD="$BUILD" all >"$T/build.log" 2>&1; then ok "build"
else notok "build" "$(tail -n 3 "$T/build.log" | tr '\n' ' ')"; finish; fi
[ "$(id -u)" -eq 0 ] || { notok "privilege suite" "needs root (it runs commands as nobody)"; finish; }
command -v runuser >/dev/null || { notok "privilege suite" "runuser missing (util-linux)"; finish; }
# nobody must be able to reach the binary itself: a copy outside any private directory
install -m 0755 "$MG" "$T/macvguard"
NB="runuser -u nobody --"

"$MG" stop --unpin >/dev/null 2>&1
"$MG" run >"$T/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 1 100); do grep -q "agent running" "$T/agent.log" && break; sleep 0.1; done
grep -q "agent running" "$T/agent.log" || { notok "root agent starts" "$(tail -n 3 "$T/agent.log" | tr '\n' ' ')"; finish; }
ip link add mgp0 type veth peer name mgp1
sleep 300 & HOLDER=$!
"$MG" tag mgp0 --domain rootdom --pid $HOLDER >/dev/null || notok "root tags mgp0" "tag failed"
"$MG" mode audit >/dev/null
before_links=$("$MG" -j links)
before_mode=$("$MG" -j mode)
before_journal=$(cat /var/lib/macvguard/journal/seg-*.mgj | md5sum)

# expect_denied NAME CMD...: as nobody, non-zero and below 128 (no signal), a message that
# names the permission problem
expect_denied() {
    local name=$1 rc; shift
    (cd "$T" && $NB "$@") >"$T/out" 2>"$T/err" </dev/null; rc=$?
    # -j: the error is {"error": ...} on stdout (docs/json.md), else one line on stderr
    if [ $rc -ne 0 ] && [ $rc -lt 128 ] && cat "$T/err" "$T/out" | grep -qiE 'permission|not permitted|needs root|denied'; then
        ok "nobody: $name: exit $rc, '$(cat "$T/err" "$T/out" | head -n 1 | cut -c1-110)'"
    else
        notok "nobody: $name" "exit $rc, stderr '$(head -c 200 "$T/err" | tr '\n' ' ')', stdout '$(head -c 100 "$T/out" | tr '\n' ' ')'"
    fi
}

B=$T/macvguard
expect_denied "run" "$B" run
expect_denied "stop" "$B" stop
expect_denied "status" "$B" status
expect_denied "status -j" "$B" -j status
expect_denied "stop --unpin" "$B" stop --unpin
expect_denied "tag" "$B" tag mgp0 --domain evil --pid 1
expect_denied "untag" "$B" untag mgp0
expect_denied "release" "$B" release mgp0
expect_denied "links" "$B" links
expect_denied "mode" "$B" mode
expect_denied "mode enforce" "$B" mode enforce
expect_denied "monitor" "$B" monitor
expect_denied "probes off" "$B" probes off
expect_denied "journal" "$B" journal
expect_denied "journal -f" "$B" journal -f
expect_denied "postmortem" "$B" postmortem
mkdir -m 755 "$T/hooks"
expect_denied "hook install" "$B" hook install --hooks-dir "$T/hooks" --binary "$B"
"$MG" hook install --hooks-dir "$T/hooks" --binary "$B" >/dev/null
expect_denied "hook uninstall" "$B" hook uninstall --hooks-dir "$T/hooks"
[ -e "$T/hooks/qemu.d/macvguard" ] && ok "nobody: root's hook entry still installed" || notok "nobody: hook entry" "removed"

# the hook never fails libvirt, whoever runs it: exit 0, nothing in root's journal, its log
# says why
touch "$T/hook.log"; chown nobody "$T/hook.log"
echo "<domain><name>d</name></domain>" | (cd "$T" && $NB env MACVGUARD_HOOK_LOG="$T/hook.log" "$B" hook qemu d started begin -) >/dev/null 2>&1; rc=$?
[ $rc = 0 ] && grep -qiE 'permission|denied' "$T/hook.log" && ok "nobody: hook qemu started: exit 0 (never fails libvirt), the permission problem in its log" \
    || notok "nobody: hook qemu" "exit $rc, log '$(tail -n 2 "$T/hook.log" | tr '\n' ' ')'"

# the events socket, the journal files and the pins, directly
$NB python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect("/run/macvguard/events.sock")
except PermissionError:
    sys.exit(0)
sys.exit(1)
' && ok "nobody: events socket: connect refused (EACCES)" || notok "nobody: events socket" "connected"
bad=""
for f in /var/lib/macvguard/journal/lock /var/lib/macvguard/journal/seg-0000000000000001.mgj /var/lib/macvguard/journal; do
    $NB test -w "$f" && bad="$bad writable:$f"
    [ -f "$f" ] && $NB test -r "$f" && bad="$bad readable:$f"
done
[ -z "$bad" ] && ok "nobody: journal directory and files: neither readable nor writable" || notok "nobody: journal files" "$bad"
bad=""
for f in /sys/fs/bpf/macvguard /sys/fs/bpf/macvguard/mg_guarded /sys/fs/bpf/macvguard/mg_config; do
    $NB test -r "$f" && bad="$bad readable:$f"
    $NB test -w "$f" && bad="$bad writable:$f"
done
if command -v bpftool >/dev/null; then
    $NB bpftool map dump pinned /sys/fs/bpf/macvguard/mg_guarded >/dev/null 2>&1 && bad="$bad bpftool-dump"
fi
[ -z "$bad" ] && ok "nobody: pins: not readable, not writable, bpftool cannot open them" || notok "nobody: pins" "$bad"

# nothing changed
kill -0 $AGENT 2>/dev/null && ok "root agent still running" || notok "root agent still running" "it exited"
[ "$("$MG" -j links)" = "$before_links" ] && [ "$("$MG" -j mode)" = "$before_mode" ] \
    && ok "tags and mode unchanged" || notok "tags and mode unchanged" "$("$MG" -j links | head -c 200) $("$MG" -j mode)"
[ "$(cat /var/lib/macvguard/journal/seg-*.mgj | md5sum)" = "$before_journal" ] \
    && ok "root's journal unchanged (nobody wrote no record)" || notok "journal unchanged" "it changed"
[ -e /sys/fs/bpf/macvguard/mg_guarded ] && ok "pins still there" || notok "pins still there" "gone"
finish
