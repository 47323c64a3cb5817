#!/bin/bash
# The guard at scale (part of `make bench`; docs/performance.md "Speed at scale"): per-call
# cost by devices, tags and stacked macvtaps, in each test kernel (tests/bench/guard-scale-guest.sh).
set -u
cd "$(dirname "$0")/../.."
make -s all test-tools || exit 1
for k in ${GUARD_BENCH_KERNELS:-6.1 6.12}; do
    echo "== guard at scale, Debian $k under QEMU TCG"
    tests/vm/vm.sh prepare "$k" >/dev/null || exit 1
    mapfile -t settings < <(env | grep '^SCALE_')   # e.g. SCALE_DEVS="1 100 1000"
    MG_VM_TIMEOUT=${MG_VM_TIMEOUT:-2400} tests/vm/vm.sh run "$k" tests/bench/guard-scale-guest.sh \
        "${settings[@]}" || exit 1
done
