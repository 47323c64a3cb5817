#!/bin/bash
# Guard bench (part of `make bench`; docs/performance.md "## Guard"): boots each test
# kernel and runs tests/bench/guard-guest.sh inside, with and without the guard.
set -u
cd "$(dirname "$0")/../.."
make -s all test-tools || exit 1
for k in ${GUARD_BENCH_KERNELS:-6.1 6.12}; do
    echo "== guard bench, Debian $k under QEMU TCG"
    tests/vm/vm.sh prepare "$k" >/dev/null || exit 1
    MG_VM_TIMEOUT=${MG_VM_TIMEOUT:-1500} tests/vm/vm.sh run "$k" tests/bench/guard-guest.sh || exit 1
done
