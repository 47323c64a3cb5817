#!/bin/bash
# The deletion monitor's scenarios in the kernels that run fentry and BPF LSM: Debian 12's
# 6.1 and 6.12 and Debian 13's 6.18 under QEMU, two guests at a time (ip link del,
# lower-device cascade, netns teardown, refusal, joined verdict+deletion, failed delete,
# tap close, filters, 10,000-attempt burst accounting).
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
t0=$SECONDS
make -s all test-tools || { echo "not ok - build"; echo "0 passed, 1 failed"; exit 1; }
jobs=()
for k in 6.1 6.12 6.18; do
    tests/vm/vm.sh prepare "$k" >/dev/null || { echo "not ok - [$k] prepare kernel"; VM_FAILED=$((VM_FAILED + 1)); continue; }
    jobs+=("$k tests/guest/monitor.sh")
done
vm_parallel "${jobs[@]}"
echo "# vm monitor suite: $((SECONDS - t0))s"
vm_summary
