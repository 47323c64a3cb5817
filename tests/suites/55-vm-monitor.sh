#!/bin/bash
# The deletion monitor's scenarios in the kernels that run fentry and BPF LSM: Debian 6.1
# and 6.12 under QEMU (ip link del, lower-device cascade, netns teardown, refusal, joined
# verdict+deletion, failed delete, tap close, filters, 10,000-attempt burst accounting).
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
make -s all test-tools || { echo "not ok - build"; echo "0 passed, 1 failed"; exit 1; }
for k in 6.1 6.12; do
    tests/vm/vm.sh prepare "$k" >/dev/null || { echo "not ok - [$k] prepare kernel"; VM_FAILED=$((VM_FAILED + 1)); continue; }
    vm_suite "$k" tests/guest/monitor.sh
done
vm_summary
