#!/bin/bash
# Runs inside the guest chroot (started by tests/vm/init). Reads $MG_RESULTS/run.env
# (MG_ROOT, MG_KVER, MG_RESULTS, MG_SCRIPT, MG_ARGS) written by tests/vm/vm.sh, runs the
# script as root with those variables exported, its stdout+stderr tee'd into
# $MG_RESULTS/output (and the console). Exits with the script's exit code.
set -u
[ -n "${MG_RESULTS:-}" ] || { echo "guest-run: no MG_RESULTS" >&2; exit 99; }
# shellcheck disable=SC1091
source "$MG_RESULTS/run.env"
export MG_ROOT MG_KVER MG_RESULTS
cd "$MG_ROOT" || exit 98
if [ -x "$MG_SCRIPT" ]; then
    "$MG_SCRIPT" "${MG_ARGS[@]}" 2>&1 | tee -a "$MG_RESULTS/output"
else
    bash "$MG_SCRIPT" "${MG_ARGS[@]}" 2>&1 | tee -a "$MG_RESULTS/output"
fi
exit "${PIPESTATUS[0]}"
