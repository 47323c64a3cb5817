# Tiny helpers for guest scripts (sourced): ok NAME | fail NAME REASON | check NAME CMD... | summary
_mg_pass=0; _mg_fail=0
ok() { echo "ok - $1"; _mg_pass=$((_mg_pass + 1)); }
fail() { echo "not ok - $1: ${2:-failed}"; _mg_fail=$((_mg_fail + 1)); }
check() {
    local name=$1 out; shift
    if out=$("$@" 2>&1); then ok "$name"; else fail "$name" "\`$*\` exited $?: $(echo "$out" | tail -n 1)"; fi
}
summary() { echo "$_mg_pass passed, $_mg_fail failed"; [ "$_mg_fail" -eq 0 ]; }
