#!/bin/bash
# Runs inside the guest chroot (started by tests/vm/init). Reads $MG_RESULTS/run.env
# (MG_ROOT, MG_KVER, MG_RESULTS, MG_SCRIPT, MG_ARGS) written by tests/vm/vm.sh, runs the
# script as root with those variables exported, its stdout+stderr written to
# $MG_RESULTS/output (and copied to the console). Exits with the script's exit code.
set -u
[ -n "${MG_RESULTS:-}" ] || { echo "guest-run: no MG_RESULTS" >&2; exit 99; }
# shellcheck disable=SC1091
source "$MG_RESULTS/run.env"
export MG_ROOT MG_KVER MG_RESULTS
cd "$MG_ROOT" || exit 98
# The host's vm.sh tells a boot that died before this point (retried once) from a test
# that crashed the kernel (a failure): this file, and the line on the console.
echo "started $(date +%s)" >"$MG_RESULTS/started"
echo "mg-guest: script started"
run=("$MG_SCRIPT")
[ -x "$MG_SCRIPT" ] || run=(bash "$MG_SCRIPT")
# Output goes straight to the file (not through a pipe), so daemons the script leaves
# running (libvirtd, ...) cannot hold the run open; a tail copies it to the console.
"${run[@]}" "${MG_ARGS[@]}" >>"$MG_RESULTS/output" 2>&1 </dev/null &
pid=$!
tail -n +1 -s 0.2 -f --pid="$pid" "$MG_RESULTS/output" &
wait "$pid"
rc=$?
wait
exit "$rc"
