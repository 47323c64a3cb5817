#!/bin/bash
# Host unit tests of the guard's netlink parsing and policy headers (bpf/mg_nlparse.h,
# bpf/mg_policy.h, bpf/mg_abi.h): plain build, ASan/UBSan build, host-vs-BPF ABI layout,
# and a short libFuzzer run from the generated seed corpus. No root needed.
# Prints "ok - NAME" / "not ok - NAME: reason" per check (the test binaries' own lines
# included, prefixed) and ends with one "N passed, N failed" line summing everything.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FUZZ_SECONDS=${NLPARSE_FUZZ_SECONDS:-20}
UNIT=$BUILD/tests/test_nlparse
ASAN=$BUILD/tests/asan/test_nlparse
FUZZ=$BUILD/tests/fuzz_nlparse
CORPUS=$BUILD/tests/corpus-nlparse
pass=0; fail=0
T=$(mktemp -d /tmp/mg-unit-test.XXXXXX)
trap 'rm -rf "$T"' EXIT

ok()     { echo "ok - $1"; pass=$((pass + 1)); }
notok()  { echo "not ok - $1: $2"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

# --- builds -------------------------------------------------------------------------------
if make -s BUILD="$BUILD" unit-bins >"$T/build.log" 2>&1; then ok "make unit-bins"
else notok "make unit-bins" "$(tail -n 5 "$T/build.log" | tr '\n' ' ')"; fi

# --- unit tests, plain and under ASan/UBSan -------------------------------------------------
run_unit() { # tag binary
    local tag=$1 bin=$2 rc line summary
    if [ ! -x "$bin" ]; then notok "$tag: binary built" "no $bin"; return; fi
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        timeout 60 "$bin" >"$T/$tag.out" 2>"$T/$tag.err"; rc=$?
    while IFS= read -r line; do
        case "$line" in
            "ok - "*) ok "$tag: ${line#ok - }" ;;
            "not ok - "*) line=${line#not ok - }; notok "$tag: ${line%%: *}" "${line#*: }" ;;
        esac
    done <"$T/$tag.out"
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$T/$tag.out" | tail -n 1)
    if [ -z "$summary" ]; then
        notok "$tag: ran to its summary" "exit $rc: $(tail -c 400 "$T/$tag.err" | tr '\n' ' ')"
    elif [ -s "$T/$tag.err" ]; then
        notok "$tag: clean stderr (sanitizers)" "$(head -c 400 "$T/$tag.err" | tr '\n' ' ')"
    else
        ok "$tag: ran to its summary ($summary), clean stderr"
    fi
}
run_unit unit "$UNIT"
run_unit asan "$ASAN"

# --- ABI: the host layout of every mg_abi.h struct holds in a clang -target bpf build -------
if make -s BUILD="$BUILD" unit-abi >"$T/abi.log" 2>&1; then
    ok "mg_abi.h layout: x86_64 gcc == clang -target bpf (every field offset and size)"
else
    notok "mg_abi.h layout: x86_64 gcc == clang -target bpf" "$(grep -m2 -E 'error|assert' "$T/abi.log" | tr '\n' ' ')"
fi

# --- fuzzer ---------------------------------------------------------------------------------
if [ ! -x "$FUZZ" ]; then
    notok "fuzz_nlparse built" "no $FUZZ"
elif ! make -s BUILD="$BUILD" nlparse-corpus >"$T/corpus.log" 2>&1; then
    notok "seed corpus" "$(tail -n 3 "$T/corpus.log" | tr '\n' ' ')"
else
    seeds=$(find "$CORPUS" -type f -name 'seed-*' | wc -l)
    [ "$seeds" -ge 50 ] && ok "seed corpus: $seeds batches from the unit tests" \
                        || notok "seed corpus" "only $seeds seeds in $CORPUS"
    mkdir -p "$T/work"
    timeout $((FUZZ_SECONDS + 60)) "$FUZZ" -max_total_time="$FUZZ_SECONDS" -max_len=65536 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$T/" \
        "$T/work" "$CORPUS" >"$T/fuzz.log" 2>&1; rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/fuzz.log")
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$T/fuzz.log")
    if [ $rc -eq 0 ] && [ -n "$runs" ]; then
        ok "fuzz_nlparse ${FUZZ_SECONDS}s: $runs runs, $eps exec/s, no crash or invariant failure"
    else
        crash=$(ls "$T"/crash-* "$T"/timeout-* "$T"/oom-* 2>/dev/null | head -n 1)
        if [ -n "$crash" ]; then
            mkdir -p "$BUILD/tests" && cp "$crash" "$BUILD/tests/" 2>/dev/null
            crash="kept as $BUILD/tests/$(basename "$crash")"
        fi
        notok "fuzz_nlparse ${FUZZ_SECONDS}s" "exit $rc $crash: $(grep -m3 -E 'fuzz_nlparse:|ERROR|SUMMARY' "$T/fuzz.log" | tr '\n' ' ')"
    fi
fi

finish
