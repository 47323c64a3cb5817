#!/bin/bash
# What a deletion takes with it (veth/netkit peers, deep stacks, masters that stay) and the
# bounded cost of resolving names (tests/guest/guard_cascade.sh), in the kernels that run
# BPF LSM: Debian 6.1 and 6.12 under QEMU.
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
make -s test-tools || { echo "not ok - build test tools"; echo "0 passed, 1 failed"; exit 1; }
for k in 6.1 6.12; do
    tests/vm/vm.sh prepare "$k" >/dev/null || { echo "not ok - [$k] prepare kernel"; VM_FAILED=$((VM_FAILED + 1)); continue; }
    vm_suite "$k" tests/guest/guard_cascade.sh
done
vm_summary
