#!/bin/bash
# macvguard with a real libvirt daemon + QEMU 7.2 in the Debian 6.1 test guest, twice, both
# guests at once: Debian 12's libvirtd 9.0 (the host's own root, shared read-only) and
# bookworm-backports' libvirt 11.3 (the lv11 root built by tests/vm/mkroot.sh with
# mmdebstrap, cached under build/vm/roots/). tests/guest/libvirt.sh: the duplicate-name
# failure (refused and attributed on 9.0; on 11.3, which records the devices it created,
# whether it deletes without macvguard is printed and no false refusal may appear); destroy,
# kill -9, detach-interface still remove the link; daemon and agent restarts keep tags;
# `hook install --reload` reloads the running daemon. tests/guest/libvirt_start.sh: the window
# at domain start (an operator hook sleeping at d1's start begin; d2's failed start; own
# failed start, hot-plug, restart in the middle of a start).
# Host packages: libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients,
# qemu-system-x86, mmdebstrap (scripts/packages-test.txt). 6.1 only.
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
t0=$SECONDS
for b in /usr/sbin/libvirtd /usr/bin/virsh /usr/bin/qemu-system-x86_64; do
    [ -x "$b" ] || { echo "not ok - $b installed (scripts/deps.sh test)"; echo "0 passed, 1 failed"; exit 1; }
done
make -s all || { echo "not ok - build"; echo "0 passed, 1 failed"; exit 1; }
tests/vm/vm.sh prepare 6.1 >/dev/null || { echo "not ok - [6.1] prepare kernel"; echo "0 passed, 1 failed"; exit 1; }
jobs=("6.1 tests/guest/libvirt.sh" "6.1 tests/guest/libvirt_start.sh")
if out=$(tests/vm/vm.sh prepare-root lv11 2>&1); then
    echo "# lv11 root: ${out##*$'\n'}"
    jobs+=("6.1/lv11 tests/guest/libvirt.sh" "6.1/lv11 tests/guest/libvirt_start.sh")
else
    echo "$out" | tail -n 20 | sed 's/^/# /'
    echo "not ok - [6.1/lv11] prepare the libvirt 11.3 root"; VM_FAILED=$((VM_FAILED + 1))
fi
MG_VM_TIMEOUT=${MG_VM_TIMEOUT:-1500} vm_parallel "${jobs[@]}"
for r in "${VM_RESULTS[@]}"; do
    [ -s "$r/baseline-deleted" ] && echo "# $(basename "$r"): without macvguard, d2's failed start deleted d1's running guestnic0: $(cat "$r/baseline-deleted")"
    [ -s "$r/baseline-start-window" ] && echo "# $(basename "$r"): without macvguard, d2's failed start during d1's start: d1's guestnic0 deleted: $(cat "$r/baseline-start-window")"
done
echo "# vm libvirt suite: $((SECONDS - t0))s"
vm_summary
