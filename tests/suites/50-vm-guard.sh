#!/bin/bash
# The guard's scenarios in the kernels that run BPF LSM: Debian 12's 6.1 and 6.12 and
# Debian 13's 6.18 (trixie-backports) under QEMU, two guests at a time (tests/vm/lib.sh);
# tests/guest/start_claims.sh: start windows and creation claims without libvirt.
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
t0=$SECONDS
make -s test-tools || { echo "not ok - build test tools"; echo "0 passed, 1 failed"; exit 1; }
jobs=()
for k in 6.1 6.12 6.18; do
    tests/vm/vm.sh prepare "$k" >/dev/null || { echo "not ok - [$k] prepare kernel"; VM_FAILED=$((VM_FAILED + 1)); continue; }
    jobs+=("$k tests/guest/guard.sh" "$k tests/guest/start_claims.sh")
done
vm_parallel "${jobs[@]}"
echo "# vm guard suite: $((SECONDS - t0))s"
vm_summary
