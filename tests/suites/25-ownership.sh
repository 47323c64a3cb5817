#!/bin/bash
# Ownership learnt from libvirt (user/ownparse.c, user/ownership.c, hook ops):
#  - unit tests of status-file / hook-XML parsing on tests/libvirt/ samples, plain and
#    under ASan/UBSan (malformed files are refused with a message, never a crash);
#  - on the host kernel (flag-only mode: no BPF LSM here), in a private mount + network
#    namespace: the agent learns ownership from a status directory (inotify), the hook's
#    started/stopped/release do their work, `links` shows owner, pid, source; the agent's
#    reconcile drops stale tags and says so; the hook's wall time on a 20-interface domain.
# Ends with one "N passed, N failed" line.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
pass=0; fail=0
T=$(mktemp -d /tmp/mg-own-test.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
ok()     { echo "ok - $1"; pass=$((pass + 1)); }
notok()  { echo "not ok - $1: $2"; fail=$((fail + 1)); }

if make -s BUILD="$BUILD" ownership-bins all test-tools >"$T/build.log" 2>&1; then ok "build ownership tests, macvguard, test tools"
else notok "build" "$(tail -n 5 "$T/build.log" | tr '\n' ' ')"; fi

run_unit() { # tag binary
    local tag=$1 bin=$2 rc line summary
    [ -x "$bin" ] || { notok "$tag: binary built" "no $bin"; return; }
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        timeout 60 "$bin" tests/libvirt >"$T/$tag.out" 2>"$T/$tag.err"; rc=$?
    while IFS= read -r line; do
        case "$line" in
            "ok - "*) ok "$tag: ${line#ok - }" ;;
            "not ok - "*) line=${line#not ok - }; notok "$tag: ${line%%: *}" "${line#*: }" ;;
        esac
    done <"$T/$tag.out"
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$T/$tag.out" | tail -n 1)
    if [ -z "$summary" ] || [ "$rc" -ne 0 ]; then
        notok "$tag: ran to its summary" "exit $rc: $(tail -c 400 "$T/$tag.err" | tr '\n' ' ')"
    elif grep -qE 'Sanitizer|runtime error' "$T/$tag.err"; then
        notok "$tag: no sanitizer report" "$(grep -m2 -E 'Sanitizer|runtime error' "$T/$tag.err" | tr '\n' ' ')"
    else
        ok "$tag: ran to its summary ($summary), no sanitizer report"
    fi
}
run_unit unit "$BUILD/tests/test_ownership"
run_unit asan "$BUILD/tests/asan/test_ownership"

# ---- host kernel, flag-only, private namespaces ------------------------------------------
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
    notok "host ownership checks" "need root and unshare"
else
    unshare -m -n --propagation private bash tests/host/ownership.sh "$BUILD" "$T" >"$T/host.out" 2>"$T/host.err"
    while IFS= read -r line; do
        case "$line" in
            "ok - "*) ok "host: ${line#ok - }" ;;
            "not ok - "*) line=${line#not ok - }; notok "host: ${line%%: *}" "${line#*: }" ;;
            *) echo "# $line" ;;
        esac
    done <"$T/host.out"
    grep -q '^host-done$' "$T/host.out" || notok "host: script ran to its end" "$(tail -n 3 "$T/host.err" | tr '\n' ' ')"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
