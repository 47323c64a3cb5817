#!/bin/bash
# What a deletion takes with it (veth/netkit peers, deep stacks, masters that stay) and the
# bounded cost of resolving names (tests/guest/guard_cascade.sh), in the kernels that run
# BPF LSM: Debian 12's 6.1 and 6.12 and Debian 13's 6.18 under QEMU, two guests at a time.
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
t0=$SECONDS
make -s test-tools || { echo "not ok - build test tools"; echo "0 passed, 1 failed"; exit 1; }
jobs=()
for k in 6.1 6.12 6.18; do
    tests/vm/vm.sh prepare "$k" >/dev/null || { echo "not ok - [$k] prepare kernel"; VM_FAILED=$((VM_FAILED + 1)); continue; }
    jobs+=("$k tests/guest/guard_cascade.sh")
done
vm_parallel "${jobs[@]}"
echo "# vm guard cascade suite: $((SECONDS - t0))s"
vm_summary
