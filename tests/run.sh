#!/bin/bash
# Runs every suite in tests/suites/ (sorted), shows its output, and sums the
# "N passed, N failed" line each one ends with. A suite that ends without that line,
# or that exits non-zero while reporting no failure, counts as one failure.
# `tests/run.sh NAME...` runs only the suites whose names start with NAME (e.g. 30 35-host).
#
# As root the whole run happens in a sandbox mount namespace (tests/lib/isolate.sh: fresh
# bpffs, tmpfs on /run/macvguard and /var/lib/macvguard) where a stand-in "production"
# agent runs first (tests/lib/standin.sh); each host suite isolates itself further, and
# after the last suite the stand-in's pins, mode, tag and journal must be as they were.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
export MG_ROOT=$PWD
. tests/lib/isolate.sh
if [ "$(id -u)" -eq 0 ] && [ "${MG_SANDBOX:-}" != "$(_mg_ns)" ]; then
    MG_ISOLATE_MODE=sandbox _mg_isolate_run -m --propagation private -- bash tests/lib/isolate.sh tests/run.sh "$@"
    exit $?
fi
unset MG_ISOLATE_MODE
total_pass=0; total_fail=0; broken=""

count() {   # NAME RC LOG: add a suite's summary to the totals
    local name=$1 rc=$2 log=$3 summary p f
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$summary" ]; then
        echo "not ok - suite $name ended without a summary (exit $rc)"
        total_fail=$((total_fail + 1)); broken="$broken $name"; return
    fi
    p=${summary%% passed*}; f=${summary#*passed, }; f=${f%% failed*}
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - suite $name exited $rc"
        total_fail=$((total_fail + 1))
    fi
    [ "$f" -ne 0 ] && broken="$broken $name"
}

# The stand-in runs from this shell (it must be our child: it dies with us).
SD=$(mktemp -d /tmp/mg-standin.XXXXXX)
MG=$BUILD/macvguard
. tests/lib/standin.sh
trap 'standin_stop; rm -rf "$SD"' EXIT
t_start=$SECONDS; times=""
echo "=== stand-in production agent: start"
make -s BUILD="$BUILD" all >"$SD/build.log" 2>&1 || echo "# build: $(tail -n 3 "$SD/build.log" | tr '\n' ' ')"
standin_start >"$SD/start.out"     # not a pipe: the stand-in must be this shell's child
cat "$SD/start.out"; count standin-start 0 "$SD/start.out"

for suite in tests/suites/*.sh; do
    name=$(basename "$suite" .sh)
    if [ $# -gt 0 ]; then
        want=no
        for w in "$@"; do case "$name" in "$w"*) want=yes ;; esac; done
        [ $want = yes ] || continue
    fi
    echo "=== suite $name"
    log=$(mktemp)
    t0=$SECONDS
    bash "$suite" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    times="$times $name=$((SECONDS - t0))s"
    count "$name" "$rc" "$log"
    rm -f "$log"
done

echo "=== stand-in production agent: untouched by the suites"
standin_check >"$SD/check.out"
cat "$SD/check.out"; count standin-check 0 "$SD/check.out"
echo "# wall time per suite:$times; all: $((SECONDS - t_start))s"
[ -n "$broken" ] && echo "suites with failures:$broken"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
