#!/bin/bash
# macvguard with a real libvirtd 9.0 + QEMU 7.2 (Debian 12's) in the Debian 6.1 test guest:
# tests/guest/libvirt.sh (the duplicate-name failure refused and attributed; destroy,
# kill -9, detach-interface still remove the link; libvirtd and agent restarts keep tags).
# Needs the host packages libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients,
# qemu-system-x86 (scripts/packages-test.txt). 6.1 only: the issue asks for one kernel.
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
for b in /usr/sbin/libvirtd /usr/bin/virsh /usr/bin/qemu-system-x86_64; do
    [ -x "$b" ] || { echo "not ok - $b installed (scripts/deps.sh test)"; echo "0 passed, 1 failed"; exit 1; }
done
make -s all || { echo "not ok - build"; echo "0 passed, 1 failed"; exit 1; }
tests/vm/vm.sh prepare 6.1 >/dev/null || { echo "not ok - [6.1] prepare kernel"; echo "0 passed, 1 failed"; exit 1; }
MG_VM_TIMEOUT=${MG_VM_TIMEOUT:-1200} vm_suite 6.1 tests/guest/libvirt.sh
vm_summary
