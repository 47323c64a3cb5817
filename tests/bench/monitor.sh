#!/bin/bash
# Monitor bench (part of `make bench`; docs/performance.md "## Monitor"): boots each test
# kernel and runs tests/bench/monitor-guest.sh inside: events per second through the whole
# pipeline (kernel -> agent -> monitor client) with the loss counted, and link churn with
# and without the deletion-path probes, interleaved in one boot.
set -u
cd "$(dirname "$0")/../.."
make -s all test-tools || exit 1
for k in ${MONITOR_BENCH_KERNELS:-6.1 6.12}; do
    echo "== monitor bench, Debian $k under QEMU TCG"
    tests/vm/vm.sh prepare "$k" >/dev/null || exit 1
    MG_VM_TIMEOUT=${MG_VM_TIMEOUT:-1500} tests/vm/vm.sh run "$k" tests/bench/monitor-guest.sh \
        "${MON_BENCH_EVENTS:-20000}" "${MON_BENCH_ROUNDS:-10}" "${MON_BENCH_PAIRS:-60}" || exit 1
done
