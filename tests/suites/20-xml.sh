#!/bin/bash
# XML rules: libvirt's generated-name rule, `macvguard xml`, the qemu hook.
# Host only, no root needed. Prints "ok - NAME" / "not ok - NAME: reason" per check and
# ends with "N passed, N failed". A missing tool is a failure, never a skip.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private mount + network namespaces: never the host's agent state
BUILD=${BUILD:-build}
MG=$BUILD/macvguard
ASAN=$BUILD/asan/macvguard
SCHEMA=/usr/share/libvirt/schemas/domain.rng
FUZZ_SECONDS=${XML_FUZZ_SECONDS:-20}
pass=0; fail=0
T=$(mktemp -d /tmp/mg-xml-test.XXXXXX)
trap 'rm -rf "$T"' EXIT

ok()    { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1: $2"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

# --- tools and builds -------------------------------------------------------------------
for tool in xmllint xsltproc virsh jq perl; do
    if command -v "$tool" >/dev/null; then ok "tool $tool present"
    else notok "tool $tool present" "missing (scripts/deps.sh test installs it)"; fi
done
[ -r "$SCHEMA" ] && ok "libvirt schema present" || notok "libvirt schema present" "no $SCHEMA (package libvirt0)"
if make -s BUILD="$BUILD" xml-test-bins >"$T/build.log" 2>&1; then ok "make xml-test-bins"
else notok "make xml-test-bins" "$(tail -n 3 "$T/build.log" | tr '\n' ' ')"; finish; fi

# --- unit tests of the pure sanitizer, plain and under ASan/UBSan -------------------------
for bin in "$BUILD/tests/xml-unit" "$BUILD/tests/asan/xml-unit"; do
    tag=unit; [[ $bin == */asan/* ]] && tag=asan-unit
    "$bin" >"$T/unit.out" 2>"$T/unit.err"; rc=$?
    while IFS= read -r line; do
        case "$line" in
            "ok - "*) ok "$tag: ${line#ok - }" ;;
            "not ok - "*) notok "$tag: ${line#not ok - }" "see above" ;;
        esac
    done <"$T/unit.out"
    if [ $rc -eq 0 ] && [ ! -s "$T/unit.err" ]; then ok "$tag: exit 0, clean stderr"
    else notok "$tag: exit 0, clean stderr" "exit $rc: $(head -c 300 "$T/unit.err")"; fi
done

# --- samples: expected outputs, modes ---------------------------------------------------------
names() { xsltproc tests/xml/ifaces.xsl "$1"; }
domain_of() { # the <domain> document of a sample (the inner one for <domstatus>)
    if grep -q '<domstatus' "$1"; then xmllint --xpath '/domstatus/domain' "$1"; echo
    else cat "$1"; fi
}
for f in xml/samples/*.xml; do
    n=$(basename "$f" .xml)
    exp=xml/expected/$n.inactive.xml
    for mode in inactive migratable; do
        if "$MG" xml sanitize --mode $mode "$f" >"$T/$n.$mode" 2>"$T/err" && cmp -s "$T/$n.$mode" "$exp"
        then ok "$n: --mode $mode matches expected"
        else notok "$n: --mode $mode matches expected" "$(diff "$exp" "$T/$n.$mode" | head -5 | tr '\n' ' ') $(cat "$T/err")"; fi
    done
    if "$MG" xml sanitize --mode live "$f" >"$T/$n.live" && cmp -s "$T/$n.live" "$f"
    then ok "$n: --mode live is the input byte for byte"
    else notok "$n: --mode live is the input byte for byte" "differs"; fi
    if "$MG" xml sanitize - <"$f" | cmp -s - "$exp"; then ok "$n: stdin gives the same"
    else notok "$n: stdin gives the same" "differs"; fi
    # schema: every output (the <domain> inside a live <domstatus>)
    domain_of "$T/$n.live" >"$T/$n.live.dom"
    for out in "$T/$n.inactive" "$T/$n.live.dom"; do
        if xmllint --noout --relaxng "$SCHEMA" "$out" >/dev/null 2>"$T/rng"
        then ok "$n: $(basename "$out" | sed 's/^[^.]*\.//') output validates against domain.rng"
        else notok "$n: $(basename "$out") validates against domain.rng" "$(tail -n 2 "$T/rng" | tr '\n' ' ')"; fi
    done
    # canonical form: input and output differ by the removed targets only
    "$MG" xml sanitize -v "$f" 2>"$T/v" >/dev/null
    removed=$(sed -n "s/.* removed generated target dev '\([^']*\)'.*/\1/p" "$T/v")
    domain_of "$f" >"$T/$n.in.dom"
    xmllint --c14n "$T/$n.in.dom" >"$T/c14n.in" 2>/dev/null
    xmllint --c14n "$T/$n.inactive" >"$T/c14n.out" 2>/dev/null
    cp "$T/c14n.in" "$T/c14n.cut"
    for d in $removed; do
        D="$d" perl -0pi -e 's/\s*<target dev="\Q$ENV{D}\E"(?: [^>]*)?><\/target>//' "$T/c14n.cut"
    done
    if [ -s "$T/c14n.in" ] && cmp -s "$T/c14n.cut" "$T/c14n.out" &&
       { [ -z "$removed" ] || ! cmp -s "$T/c14n.in" "$T/c14n.out"; }
    then ok "$n: c14n of input and output differ only by the removed elements ($(echo $removed | wc -w))"
    else notok "$n: c14n differs only by the removed elements" "$(diff "$T/c14n.cut" "$T/c14n.out" | head -4 | tr '\n' ' ')"; fi
    # libvirt's own test driver decides which names survive an inactive define
    dname=$(xmllint --xpath 'string(/domain/name)' "$T/$n.in.dom" 2>/dev/null)
    if virsh -q -c test:///default "define $T/$n.in.dom; dumpxml --inactive $dname" \
            >"$T/virsh.xml" 2>"$T/virsh.err" && [ -s "$T/virsh.xml" ]; then
        # the test driver names each target-less interface testnetN: map those to ""
        names "$T/virsh.xml" | sed -E 's/^testnet[0-9]+$//' >"$T/v.names"
        domain_of "$T/$n.inactive" >"$T/$n.inactive.dom"
        names "$T/$n.inactive.dom" >"$T/m.names"
        if [ -s "$T/m.names" ] && cmp -s "$T/v.names" "$T/m.names"
        then ok "$n: libvirt test driver keeps the same target names"
        else notok "$n: libvirt test driver keeps the same target names" \
                   "virsh: $(tr '\n' ',' <"$T/v.names") macvguard: $(tr '\n' ',' <"$T/m.names")"; fi
    else
        notok "$n: libvirt test driver keeps the same target names" "virsh: $(head -c 200 "$T/virsh.err")"
    fi
done
exp=xml/expected/10-libxl-vif.prefix-vif.xml
if "$MG" xml sanitize --prefix vif xml/samples/10-libxl-vif.xml | cmp -s - "$exp"
then ok "--prefix vif matches expected"; else notok "--prefix vif matches expected" "differs"; fi

# --- check ---------------------------------------------------------------------------------
"$MG" xml check xml/samples/09-clean.xml >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ ! -s "$T/out" ] && ok "check: clean config exits 0 silently" \
    || notok "check: clean config exits 0 silently" "exit $rc: $(head -c 200 "$T/out")"
"$MG" xml check xml/samples/08-domstatus.xml >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ ! -s "$T/out" ] && ok "check: live <domstatus> has nothing to report" \
    || notok "check: live <domstatus> has nothing to report" "exit $rc"
"$MG" xml check xml/samples/*.xml >"$T/out" 2>"$T/err"; rc=$?
want=$(cat xml/samples/*.xml | grep -c '<target' ) # upper bound sanity only
got=$(wc -l <"$T/out")
expected_findings=0
for f in xml/samples/*.xml; do
    grep -q '<domstatus' "$f" && continue
    c=$("$MG" xml sanitize -v "$f" 2>&1 >/dev/null | grep -c ' removed generated ')
    expected_findings=$((expected_findings + c))
done
if [ $rc -eq 1 ] && [ "$got" -eq "$expected_findings" ] && [ "$got" -gt 0 ] && [ "$got" -lt "$want" ]
then ok "check: one line per finding over all samples ($got), exit 1"
else notok "check: one line per finding over all samples" "exit $rc, $got lines, wanted $expected_findings"; fi
if grep -q "^xml/samples/01-direct.xml:20: domain 'web-direct': interface type 'direct' mac '52:54:00:10:00:01': generated target dev 'macvtap0'" "$T/out"
then ok "check: line has file, line, domain, type, mac and name"
else notok "check: line has file, line, domain, type, mac and name" "$(head -n 1 "$T/out")"; fi
"$MG" xml check -j xml/samples/*.xml >"$T/json"; rc=$?
if [ $rc -eq 1 ] && [ "$(jq '.findings | length' "$T/json")" = "$expected_findings" ] &&
   [ "$(jq -r '.findings[0] | [.file,.line,.domain,.interface_type,.mac,.ifname] | join(" ")' "$T/json")" = \
     "xml/samples/01-direct.xml 20 web-direct direct 52:54:00:10:00:01 macvtap0" ] &&
   [ "$(jq -r '[.findings[] | select(.domain == "ünïcødé-guest")] | length' "$T/json")" = 2 ]
then ok "check -j: JSON findings (unicode intact)"
else notok "check -j: JSON findings" "exit $rc: $(head -c 300 "$T/json")"; fi
printf '<domain><a>\xff</a></domain>' >"$T/bad.xml"
# a lint keeps going (issue 14): each file gets its findings or one error line, exit 2 says
# an error was seen, and the good files' findings are still printed
"$MG" xml check "$T/bad.xml" xml/samples/01-direct.xml /nonexistent.xml >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && [ "$(grep -c "01-direct.xml:" "$T/out")" = 3 ] && grep -q "bad.xml:1:12: error: invalid UTF-8" "$T/err" \
    && grep -q "/nonexistent.xml: error: No such file or directory" "$T/err" && [ "$(wc -l <"$T/err")" = 2 ] \
    && ok "check: a bad file is one error line, the next files are still checked, exit 2" \
    || notok "check: keeps going past a bad file" "exit $rc: $(cat "$T/out" "$T/err" | head -c 400)"
"$MG" -j xml check "$T/bad.xml" xml/samples/09-clean.xml >"$T/json" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && [ ! -s "$T/err" ] && [ "$(jq -r '.files, .count, (.errors | length), .errors[0].file' "$T/json" | tr '\n' ' ')" = "2 0 1 $T/bad.xml " ] \
    && ok "check -j: errors in the one JSON document (files, count, errors[]), nothing on stderr, exit 2" \
    || notok "check -j with a bad file" "exit $rc: $(head -c 300 "$T/json") $(head -c 200 "$T/err")"
# directories are walked for *.xml (sorted, recursively; symlinks not followed)
mkdir -p "$T/cfg/sub" "$T/cfg/autostart"
cp xml/samples/01-direct.xml "$T/cfg/a.xml"; cp xml/samples/09-clean.xml "$T/cfg/sub/b.xml"
cp xml/samples/02-network.xml "$T/cfg/notes.txt"; ln -s ../a.xml "$T/cfg/autostart/a.xml"
"$MG" xml check "$T/cfg" >"$T/out" 2>"$T/err"; rc=$?
"$MG" -j xml check "$T/cfg" >"$T/json" 2>/dev/null
[ $rc -eq 1 ] && [ ! -s "$T/err" ] && [ "$(grep -c "^$T/cfg/a.xml:" "$T/out")" = 3 ] && [ "$(wc -l <"$T/out")" = 3 ] \
    && [ "$(jq .files "$T/json")" = 2 ] \
    && ok "check DIR: walks *.xml files recursively (2 files), skips other names and symlinks, exit 1" \
    || notok "check DIR" "exit $rc: $(head -c 300 "$T/out") $(head -c 200 "$T/err") files=$(jq .files "$T/json")"
"$MG" xml check "$T/cfg/sub" >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ ! -s "$T/out" ] && ok "check DIR with clean configs only: exit 0, silent" || notok "check clean DIR" "exit $rc"
"$MG" xml sanitize --mode bogus xml/samples/01-direct.xml >"$T/out" 2>/dev/null; rc=$?
[ $rc -eq 2 ] && [ ! -s "$T/out" ] && ok "sanitize: bad --mode is a usage error" || notok "sanitize: bad --mode is a usage error" "exit $rc"
"$MG" xml sanitize -v xml/samples/01-direct.xml 2>"$T/err" >/dev/null
[ "$(grep -c "removed generated target dev" "$T/err")" = 3 ] && ok "sanitize -v reports each removal" \
    || notok "sanitize -v reports each removal" "$(cat "$T/err")"

# --- attacks: clear error, no output, no crash (release and ASan/UBSan builds) ----------------
A=tests/xml/attacks
python_free_deep() { printf '<domain>'; for _ in $(seq 10000); do printf '<a>'; done; for _ in $(seq 10000); do printf '</a>'; done; printf '</domain>'; }
python_free_deep >"$T/deep.xml"
{ printf '<domain>'; head -c $((100 * 1024 * 1024)) /dev/zero | tr '\0' ' '; printf '</domain>'; } >"$T/huge.xml"
declare -A WANT=(
    [xxe.xml]="<!DOCTYPE>" [xxe-parameter.xml]="<!DOCTYPE>" [external-dtd.xml]="<!DOCTYPE>"
    [billion-laughs.xml]="<!DOCTYPE>" [invalid-utf8.xml]="invalid UTF-8" [nul.xml]="NUL byte"
    [empty.xml]="empty document" [not-domain.xml]="expected <domain>" [latin1.xml]="UTF-8 only"
    [utf16.xml]="NUL byte" [unclosed.xml]="not well-formed" [undefined-entity.xml]="ntity"
    [deep.xml]="nested deeper than 256" [huge.xml]="larger than the limit"
)
for a in "${!WANT[@]}"; do
    f=$A/$a; [ -e "$f" ] || f=$T/$a
    for bin in "$MG" "$ASAN"; do
        tag=$([ "$bin" = "$ASAN" ] && echo "asan " || true)
        "$bin" xml sanitize "$f" >"$T/out" 2>"$T/err"; rc=$?
        if [ $rc -eq 2 ] && [ ! -s "$T/out" ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
           grep -qF -- "${WANT[$a]}" "$T/err" && grep -q "^macvguard: $f" "$T/err"
        then ok "${tag}attack $a: one-line error, exit 2, no output"
        else notok "${tag}attack $a: one-line error, exit 2, no output" "exit $rc: $(head -c 300 "$T/err")"; fi
    done
done
"$MG" xml sanitize <"$T/huge.xml" >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && [ ! -s "$T/out" ] && ok "attack 100 MiB on stdin" || notok "attack 100 MiB on stdin" "exit $rc"
"$MG" xml sanitize --max-size 200M "$T/huge.xml" >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] && cmp -s "$T/out" "$T/huge.xml" && ok "--max-size raises the limit (100 MiB accepted)" \
    || notok "--max-size raises the limit" "exit $rc: $(cat "$T/err")"
rm -f "$T/huge.xml" "$T/out"
"$MG" xml sanitize --max-depth 3 xml/samples/01-direct.xml >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'deeper than 3' "$T/err" && ok "--max-depth lowers the limit" || notok "--max-depth lowers the limit" "exit $rc"
"$MG" xml sanitize "$A/xinclude.xml" >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] && cmp -s "$T/out" "$A/xinclude.xml" && ok "XInclude is never processed (output = input)" \
    || notok "XInclude is never processed" "exit $rc: $(head -c 200 "$T/err")"
for bin in "$MG" "$ASAN"; do
    "$bin" xml sanitize "$A/xxe.xml" 2>&1 | grep -q 'root:' && notok "XXE leaks nothing ($bin)" "file content printed" \
        || ok "XXE leaks nothing ($(basename "$bin"))"
done
for a in "$A"/*.xml "$T/deep.xml"; do "$ASAN" xml check "$a" >/dev/null 2>>"$T/asan-check"; done
grep -qE 'Sanitizer|runtime error' "$T/asan-check" && notok "asan: check over all attack files" "$(grep -m1 -E 'Sanitizer|runtime error' "$T/asan-check")" \
    || ok "asan: check over all attack files"
for f in xml/samples/*.xml; do "$ASAN" xml sanitize -v "$f" >/dev/null 2>>"$T/asan-samples"; done
grep -qE 'Sanitizer|runtime error' "$T/asan-samples" && notok "asan: sanitize over all samples" "see log" \
    || ok "asan: sanitize over all samples"

# --- the hook, run as libvirt runs it ---------------------------------------------------------
# libvirtd runs hooks with a scrubbed environment, the XML on stdin, 4 arguments.
hook() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C MACVGUARD_HOOK_LOG="$T/hook.log" "$@"; }
for op in migrate restore; do
    hook "$MG" hook qemu web-direct $op begin - <xml/samples/01-direct.xml >"$T/out" 2>"$T/err"; rc=$?
    [ $rc -eq 0 ] && cmp -s "$T/out" xml/expected/01-direct.inactive.xml && [ ! -s "$T/err" ] \
        && ok "hook $op: prints the sanitized XML" || notok "hook $op: prints the sanitized XML" "exit $rc"
    hook "$MG" hook qemu clean $op begin - <xml/samples/09-clean.xml >"$T/out"; rc=$?
    [ $rc -eq 0 ] && [ ! -s "$T/out" ] && ok "hook $op: nothing printed when nothing changes" \
        || notok "hook $op: nothing printed when nothing changes" "exit $rc"
done
grep -q "web-direct migrate: removed generated target dev 'macvtap0'" "$T/hook.log" \
    && ok "hook: removals logged" || notok "hook: removals logged" "$(tail -n 2 "$T/hook.log")"
for op in prepare start started stopped release reconnect attach some-future-op; do
    s=$(date +%s%N)
    hook "$MG" hook qemu web-direct $op begin - <xml/samples/01-direct.xml >"$T/out"; rc=$?
    ms=$(( ($(date +%s%N) - s) / 1000000 ))
    [ $rc -eq 0 ] && [ ! -s "$T/out" ] && [ $ms -lt 500 ] && ok "hook $op: exit 0 at once, no output (${ms} ms)" \
        || notok "hook $op: exit 0 at once, no output" "exit $rc, ${ms} ms"
done
: >"$T/hook.log"
for a in xxe.xml invalid-utf8.xml nul.xml empty.xml not-domain.xml billion-laughs.xml; do
    hook "$MG" hook qemu evil migrate begin - <"$A/$a" >"$T/out" 2>"$T/err"; rc=$?
    [ $rc -eq 0 ] && [ ! -s "$T/out" ] && ok "hook migrate with $a: exit 0, no output" \
        || notok "hook migrate with $a: exit 0, no output" "exit $rc"
done
[ "$(grep -c 'evil migrate: ' "$T/hook.log")" -ge 6 ] && grep -q 'left the XML unchanged' "$T/hook.log" \
    && ok "hook: each failure logged with its reason" || notok "hook: each failure logged with its reason" "$(cat "$T/hook.log")"
hook "$MG" hook qemu evil migrate begin - <"$T/deep.xml" >"$T/out"; rc=$?
[ $rc -eq 0 ] && [ ! -s "$T/out" ] && ok "hook migrate, 10000-deep: exit 0, no output" || notok "hook migrate, 10000-deep" "exit $rc"
{ printf '<domain>'; head -c $((20 * 1024 * 1024)) /dev/zero | tr '\0' ' '; printf '</domain>'; } |
    hook "$MG" hook qemu big restore begin - >"$T/out"; rc=("${PIPESTATUS[@]}")
[ "${rc[1]}" -eq 0 ] && [ "${rc[0]}" -eq 0 ] && [ ! -s "$T/out" ] \
    && ok "hook restore, 20 MiB: input drained (writer sees no EPIPE), exit 0, no output" \
    || notok "hook restore, 20 MiB: drained, exit 0" "exit codes ${rc[*]}"
hook "$MG" hook qemu >"$T/out"; rc=$?
[ $rc -eq 0 ] && [ ! -s "$T/out" ] && ok "hook with missing arguments: exit 0" || notok "hook with missing arguments: exit 0" "exit $rc"
hook "$ASAN" hook qemu web-direct migrate begin - <xml/samples/07-comments-ns.xml >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] && cmp -s "$T/out" xml/expected/07-comments-ns.inactive.xml && ! grep -q Sanitizer "$T/err" \
    && ok "asan hook migrate" || notok "asan hook migrate" "exit $rc $(head -c 200 "$T/err")"

# --- hook install / uninstall ------------------------------------------------------------------
H=$T/hooks
mkdir -p "$H"    # libvirt's hooks directory exists; install never creates it
"$MG" hook install --hooks-dir "$H" >"$T/out" 2>&1; rc=$?
E=$H/qemu.d/macvguard
[ $rc -eq 0 ] && [ -x "$E" ] && grep -q '^# macvguard-hook: written by' "$E" && grep -q 'reload' "$T/out" \
    && ok "hook install: creates qemu.d/macvguard, mentions the reload" || notok "hook install" "exit $rc: $(cat "$T/out")"
hook "$E" web-direct migrate begin - <xml/samples/01-direct.xml >"$T/out"; rc=$?
[ $rc -eq 0 ] && cmp -s "$T/out" xml/expected/01-direct.inactive.xml && ok "installed entry runs the hook" \
    || notok "installed entry runs the hook" "exit $rc"
"$MG" hook install --hooks-dir "$H" >"$T/out" 2>&1 && grep -q '^updated' "$T/out" \
    && ok "hook install again: updates its own entry" || notok "hook install again" "$(cat "$T/out")"
# a binary that goes away after the install (install itself refuses a missing one)
cp "$MG" "$T/mg-gone"; "$MG" hook install --hooks-dir "$H" --binary "$T/mg-gone" >/dev/null 2>&1; rm -f "$T/mg-gone"
hook "$E" web-direct migrate begin - <xml/samples/01-direct.xml >"$T/out"; rc=$?
[ $rc -eq 0 ] && [ ! -s "$T/out" ] && ok "entry with a missing binary: exit 0, XML unchanged" \
    || notok "entry with a missing binary: exit 0" "exit $rc"
# --reload: whichever QEMU daemon runs (libvirtd or virtqemud); `systemctl reload UNIT` when
# systemd runs it as that unit, else SIGHUP. A made-up process table (MACVGUARD_PROC) names
# stand-in daemons we started ourselves (copies of sleep: comm = file name); a fake
# systemctl (MACVGUARD_SYSTEMCTL) records its arguments.
mkdir -p "$T/bin"
cp "$(command -v sleep)" "$T/bin/virtqemud"; cp "$(command -v sleep)" "$T/bin/libvirtd"
printf '#!/bin/sh\necho "$@" >>%s/systemctl.log\nexit ${FAKE_SC_RC:-0}\n' "$T" >"$T/bin/systemctl"; chmod +x "$T/bin/systemctl"
fakeproc() {  # INIT-COMM PID COMM CGROUP...: a /proc with PID 1 and one daemon
    rm -rf "$T/proc"; mkdir -p "$T/proc/1" "$T/proc/$2"
    echo "$1" >"$T/proc/1/comm"; echo "$3" >"$T/proc/$2/comm"; shift 3
    printf '%s\n' "$@" >"$T/proc/$(ls "$T/proc" | grep -v '^1$')/cgroup"
}
reload_case() {  # NAME DAEMON INIT CGROUP WANT-OUT WANT-SC WANT-ALIVE [FAKE_SC_RC]
    local name=$1 d=$2 init=$3 cg=$4 want=$5 wsc=$6 walive=$7 src=${8:-0} p out alive
    "$T/bin/$d" 300 & p=$!
    fakeproc "$init" "$p" "$d" "12:pids:/" "0::$cg"
    : >"$T/systemctl.log"
    out=$(FAKE_SC_RC=$src MACVGUARD_PROC="$T/proc" MACVGUARD_SYSTEMCTL="$T/bin/systemctl" \
          "$MG" hook install --hooks-dir "$H" --reload 2>&1)
    sleep 0.2
    if kill -0 "$p" 2>/dev/null; then alive=yes; else alive=no; fi
    kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
    want=${want//PID/$p}
    if grep -qF -- "$want" <<<"$out" && [ "$(cat "$T/systemctl.log")" = "$wsc" ] && [ "$alive" = "$walive" ]; then
        ok "hook install --reload: $name"
    else notok "hook install --reload: $name" "out '$out', systemctl '$(cat "$T/systemctl.log")', alive $alive"; fi
}
reload_case "virtqemud under systemd: systemctl reload virtqemud.service" virtqemud systemd \
    /system.slice/virtqemud.service "reloaded virtqemud (pid PID, systemctl reload virtqemud.service)" \
    "reload virtqemud.service" yes
reload_case "libvirtd under systemd: systemctl reload libvirtd.service" libvirtd systemd \
    /system.slice/libvirtd.service "reloaded libvirtd (pid PID, systemctl reload libvirtd.service)" \
    "reload libvirtd.service" yes
reload_case "virtqemud without systemd: SIGHUP" virtqemud init / "reloaded virtqemud (pid PID, SIGHUP)" "" no
reload_case "libvirtd without systemd: SIGHUP" libvirtd init / "reloaded libvirtd (pid PID, SIGHUP)" "" no
reload_case "virtqemud started by hand on a systemd host (not its unit): SIGHUP" virtqemud systemd \
    /user.slice/session-1.scope "reloaded virtqemud (pid PID, SIGHUP)" "" no
reload_case "systemctl reload fails: falls back to SIGHUP" virtqemud systemd \
    /system.slice/virtqemud.service "reloaded virtqemud (pid PID, SIGHUP)" "reload virtqemud.service" no 1
rm -rf "$T/proc"; mkdir -p "$T/proc/1"; echo systemd >"$T/proc/1/comm"
out=$(MACVGUARD_PROC="$T/proc" MACVGUARD_SYSTEMCTL="$T/bin/systemctl" "$MG" hook install --hooks-dir "$H" --reload 2>&1)
grep -q "no libvirtd or virtqemud running" <<<"$out" && ok "hook install --reload with no daemon: says so" \
    || notok "hook install --reload with no daemon" "$out"
"$MG" hook uninstall --hooks-dir "$H" >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ ! -e "$E" ] && ok "hook uninstall removes its entry" || notok "hook uninstall removes its entry" "exit $rc"
"$MG" hook uninstall --hooks-dir "$H" >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "hook uninstall with nothing installed: exit 0" || notok "hook uninstall with nothing installed" "exit $rc"
printf '#!/bin/sh\n# somebody else'"'"'s hook\nexit 0\n' >"$E"; cp "$E" "$T/foreign"
"$MG" hook install --hooks-dir "$H" >"$T/out" 2>&1; rc=$?
[ $rc -eq 1 ] && cmp -s "$E" "$T/foreign" && ok "hook install never overwrites a foreign file" \
    || notok "hook install never overwrites a foreign file" "exit $rc"
"$MG" hook uninstall --hooks-dir "$H" >"$T/out" 2>&1; rc=$?
[ $rc -eq 1 ] && cmp -s "$E" "$T/foreign" && ok "hook uninstall leaves a foreign file alone" \
    || notok "hook uninstall leaves a foreign file alone" "exit $rc"
rm -f "$E"; ln -s /bin/true "$E"
"$MG" hook install --hooks-dir "$H" >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && [ -L "$E" ] && ok "hook install never replaces a symlink" || notok "hook install never replaces a symlink" "exit $rc"

# --- short fuzz run ---------------------------------------------------------------------------
mkdir -p "$T/corpus"
if (cd "$T" && "$OLDPWD/$BUILD/fuzz/xml-fuzz" -max_total_time="$FUZZ_SECONDS" -max_len=65536 \
        -dict="$OLDPWD/tests/fuzz/xml.dict" -timeout=10 "$T/corpus" "$OLDPWD/xml/samples" \
        "$OLDPWD/$A") >"$T/fuzz.log" 2>&1
then ok "fuzz ${FUZZ_SECONDS}s: $(grep -o 'Done [0-9]* runs' "$T/fuzz.log")"
else notok "fuzz ${FUZZ_SECONDS}s" "$(grep -m3 -E 'ERROR|SUMMARY|abort|runtime error' "$T/fuzz.log" | tr '\n' ' ')"
     ls "$T"/crash-* 2>/dev/null | head -n 1 | xargs -r -I{} cp {} "$BUILD/" ; fi

finish
