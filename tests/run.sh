#!/bin/bash
# Runs every suite in tests/suites/ (sorted), shows its output, and sums the
# "N passed, N failed" line each one ends with. A suite that ends without that line,
# or that exits non-zero while reporting no failure, counts as one failure.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
export MG_ROOT=$PWD
total_pass=0; total_fail=0; broken=""
for suite in tests/suites/*.sh; do
    name=$(basename "$suite" .sh)
    echo "=== suite $name"
    log=$(mktemp)
    bash "$suite" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    rm -f "$log"
    if [ -z "$summary" ]; then
        echo "not ok - suite $name ended without a summary (exit $rc)"
        total_fail=$((total_fail + 1)); broken="$broken $name"; continue
    fi
    p=${summary%% passed*}; f=${summary#*passed, }; f=${f%% failed*}
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - suite $name exited $rc"
        total_fail=$((total_fail + 1))
    fi
    [ "$f" -ne 0 ] && broken="$broken $name"
done
[ -n "$broken" ] && echo "suites with failures:$broken"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
