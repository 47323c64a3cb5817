#!/bin/bash
# Host unit tests of the guard's netlink parsing and policy headers (bpf/mg_nlparse.h,
# bpf/mg_policy.h, bpf/mg_abi.h): plain build, ASan/UBSan build, host-vs-BPF ABI layout,
# and a short libFuzzer run from the generated seed corpus. No root needed.
# Prints "ok - NAME" / "not ok - NAME: reason" per check (the test binaries' own lines
# included, prefixed) and ends with one "N passed, N failed" line summing everything.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private mount + network namespaces: never the host's agent state
BUILD=${BUILD:-build}
FUZZ_SECONDS=${NLPARSE_FUZZ_SECONDS:-20}
UNIT=$BUILD/tests/test_nlparse
ASAN=$BUILD/tests/asan/test_nlparse
FUZZ=$BUILD/tests/fuzz_nlparse
CORPUS=$BUILD/tests/corpus-nlparse
T=$(mktemp -d /tmp/mg-unit-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
. tests/lib/suite.sh

# --- builds -------------------------------------------------------------------------------
if make -s BUILD="$BUILD" unit-bins >"$T/build.log" 2>&1; then ok "make unit-bins"
else notok "make unit-bins" "$(tail -n 5 "$T/build.log" | tr '\n' ' ')"; fi

# --- unit tests, plain and under ASan/UBSan -------------------------------------------------
run_unit unit 60 clean "$UNIT"
run_unit asan 60 clean "$ASAN"

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
