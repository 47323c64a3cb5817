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
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private mount + network namespaces: never the host's agent state
BUILD=${BUILD:-build}
T=$(mktemp -d /tmp/mg-own-test.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
. tests/lib/suite.sh

if make -s BUILD="$BUILD" ownership-bins all test-tools >"$T/build.log" 2>&1; then ok "build ownership tests, macvguard, test tools"
else notok "build" "$(tail -n 5 "$T/build.log" | tr '\n' ' ')"; fi

run_unit unit 60 sanitizer "$BUILD/tests/test_ownership" tests/libvirt
run_unit asan 60 sanitizer "$BUILD/tests/asan/test_ownership" tests/libvirt

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
