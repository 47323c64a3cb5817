#!/bin/bash
# VM harness smoke suite: prepares Debian's 6.1 and 6.12 kernels, runs tests/guest/smoke.sh
# in each, keeps their BTF (build/vm/btf-KVER, build/vm/btf-KVER-<module>), and proves the
# harness can fail: a failing script, a hang (short timeout) and a guest panic must each come
# back as a failure. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
VMB=${BUILD:-build}/vm
t_all=$SECONDS

for k in 6.1 6.12; do
    t0=$SECONDS
    if out=$(tests/vm/vm.sh prepare "$k" 2>&1); then
        echo "ok - [$k] prepare: ${out##*$'\n'} ($((SECONDS - t0))s)"; VM_PASSED=$((VM_PASSED + 1))
    else
        echo "$out" | sed 's/^/# /'
        echo "not ok - [$k] prepare failed"; VM_FAILED=$((VM_FAILED + 1)); continue
    fi
    t0=$SECONDS
    if MG_VM_TIMEOUT=${MG_VM_TIMEOUT:-300} vm_suite "$k" tests/guest/smoke.sh && [ -n "$VM_LAST_RESULTS" ]; then
        install -m 644 "$VM_LAST_RESULTS/vmlinux.btf" "$VMB/btf-$k" 2>/dev/null
        for m in macvlan macvtap tap tun; do
            install -m 644 "$VM_LAST_RESULTS/btf-$m" "$VMB/btf-$k-$m" 2>/dev/null
        done
    fi
    echo "# [$k] smoke boot+run: $((SECONDS - t0))s"
done

# Negative checks: each must be reported as a failure (a "not ok - [6.1] guest: ..." line
# and a non-zero exit), or the harness could hide broken guests.
expect_failure() {  # NAME WHAT-TO-SEE SCRIPT [env...]
    local name=$1 want=$2 script=$3 out rc t0=$SECONDS; shift 3
    out=$(env "$@" tests/vm/vm.sh run 6.1 "$script" 2>&1); rc=$?
    echo "$out" | sed 's/^/#   /' | head -n 8
    if [ "$rc" -ne 0 ] && grep -q "^not ok - \[6.1\] guest: .*$want" <<<"$out"; then
        echo "ok - [6.1] harness reports $name as a failure ($((SECONDS - t0))s)"; VM_PASSED=$((VM_PASSED + 1))
    else
        echo "not ok - [6.1] harness did not report $name as a failure (exit $rc)"; VM_FAILED=$((VM_FAILED + 1))
    fi
}
expect_failure "a failing script" "script exited 1" tests/vm/selftest/fail.sh
expect_failure "a hanging guest" "timeout after" tests/vm/selftest/hang.sh MG_VM_TIMEOUT=25
expect_failure "a guest kernel panic" "kernel crash: .*Kernel panic" tests/vm/selftest/panic.sh

echo "# vm smoke suite: $((SECONDS - t_all))s"
vm_summary
