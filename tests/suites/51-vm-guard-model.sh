#!/bin/bash
# The guard's request model (issue 10: identity changes in batches, fail closed, bridge
# VLAN deletes, device ioctls, tags through netns moves, unprivileged noise) in the kernels
# that run BPF LSM: Debian 6.1 and 6.12 under QEMU.
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
make -s test-tools || { echo "not ok - build test tools"; echo "0 passed, 1 failed"; exit 1; }
for k in 6.1 6.12; do
    tests/vm/vm.sh prepare "$k" >/dev/null || { echo "not ok - [$k] prepare kernel"; VM_FAILED=$((VM_FAILED + 1)); continue; }
    vm_suite "$k" tests/guest/guard_model.sh
done
vm_summary
