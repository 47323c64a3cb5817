#!/bin/bash
# Issue 17, the guard where BPF LSM is not active: each test kernel (Debian 12's 6.1 and
# 6.12, Debian 13's 6.18) booted with an lsm= list that leaves out bpf runs guard.sh and
# guard_model.sh in one boot (tests/guest/guard_attach.sh), expecting the guard attached as
# fmod_ret on security_netlink_send, after a start whose fmod_ret probe is forced to fail
# (flag-only, said so), then guard_cascade.sh and start_claims.sh. The 6.18 boot also has lockdown=integrity
# (the guard must enforce under it), so the three boots run two at a time.
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
t0=$SECONDS
# Debian's CONFIG_LSM without bpf (names a kernel lacks are ignored)
NOBPF="lsm=landlock,lockdown,yama,integrity,apparmor,tomoyo"
make -s test-tools || { echo "not ok - build test tools"; echo "0 passed, 1 failed"; exit 1; }
jobs=()
for k in 6.1 6.12 6.18; do
    tests/vm/vm.sh prepare "$k" >/dev/null || { echo "not ok - [$k] prepare kernel"; VM_FAILED=$((VM_FAILED + 1)); continue; }
    spec=$k; [ "$k" = 6.18 ] && spec="$k@lockdown=integrity"
    jobs+=("$spec tests/guest/guard_attach.sh fmod_ret guard guard_model guard_cascade start_claims")
done
MG_VM_APPEND="$NOBPF" vm_parallel "${jobs[@]}"
echo "# vm guard fmod_ret suite: $((SECONDS - t0))s"
vm_summary
