# Helpers shared by the host suites (sourced after T, the suite's scratch dir, is set):
# counters, ok / notok / finish, and run_unit for a test binary that prints ok/not ok lines.
pass=0; fail=0
ok()     { echo "ok - $1"; pass=$((pass + 1)); }
notok()  { echo "not ok - $1: $2"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

# run_unit TAG TIMEOUT STDERR BIN [ARG...]
# Runs BIN (plain or sanitizer build), re-counts its lines under TAG, and requires its own
# "N passed, N failed" summary and exit 0. STDERR=clean: any stderr output fails (sanitizer
# runs of tests that print nothing there); STDERR=sanitizer: only sanitizer reports fail
# (tests whose subject warns on stderr by design).
run_unit() {
    local tag=$1 secs=$2 mode=$3 bin=$4 rc line summary
    shift 4
    [ -x "$bin" ] || { notok "$tag: binary built" "no $bin"; return; }
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        timeout "$secs" "$bin" "$@" >"$T/$tag.out" 2>"$T/$tag.err"; rc=$?
    while IFS= read -r line; do
        case "$line" in
            "ok - "*) ok "$tag: ${line#ok - }" ;;
            "not ok - "*) line=${line#not ok - }; notok "$tag: ${line%%: *}" "${line#*: }" ;;
        esac
    done <"$T/$tag.out"
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$T/$tag.out" | tail -n 1)
    if [ -z "$summary" ] || [ "$rc" -ne 0 ]; then
        notok "$tag: ran to its summary" "exit $rc: $(tail -c 400 "$T/$tag.err" | tr '\n' ' ')"
    elif [ "$mode" = clean ] && [ -s "$T/$tag.err" ]; then
        notok "$tag: clean stderr (sanitizers)" "$(head -c 400 "$T/$tag.err" | tr '\n' ' ')"
    elif grep -qE 'Sanitizer|runtime error' "$T/$tag.err"; then
        notok "$tag: no sanitizer report" "$(grep -m2 -E 'Sanitizer|runtime error' "$T/$tag.err" | tr '\n' ' ')"
    else
        ok "$tag: ran to its summary ($summary), $([ "$mode" = clean ] && echo "clean stderr" || echo "no sanitizer report")"
    fi
}
