#!/bin/bash
# make bench: every tests/bench/<part>.sh (not the *-guest.sh scripts run inside VMs).
cd "$(dirname "$0")/../.."
rc=0
for part in tests/bench/*.sh; do
    case "$part" in */run.sh|*-guest.sh) continue ;; esac
    echo "=== bench $(basename "$part" .sh)"
    bash "$part" || { echo "bench $(basename "$part" .sh) failed"; rc=1; }
done
exit $rc
