#!/bin/bash
# Harness self-test: a guest script that reports a failure and exits non-zero.
. "$MG_ROOT/tests/guest/lib.sh"
ok "selftest passing line"
fail "selftest failing line" "deliberate"
summary
