#!/bin/bash
# Guest smoke test (run inside a test VM by tests/vm/vm.sh run KVER tests/guest/smoke.sh):
# proves the harness and the kernel facts macvguard relies on, and copies the guest
# kernel's BTF out to $MG_RESULTS (vmlinux.btf, btf-<module>) for CO-RE work.
set -u
. "$MG_ROOT/tests/guest/lib.sh"

check "running as root" test "$(id -u)" = 0
case "$(uname -r)" in
    "$MG_KVER".*) ok "kernel $(uname -r) matches MG_KVER=$MG_KVER" ;;
    *) fail "kernel matches MG_KVER" "uname -r is $(uname -r), MG_KVER=$MG_KVER" ;;
esac

lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)
case ",$lsm," in
    *,bpf,*) ok "BPF LSM active (lsm=$lsm)" ;;
    *) fail "BPF LSM active" "/sys/kernel/security/lsm is '$lsm'" ;;
esac
check "vmlinux BTF present" test -s /sys/kernel/btf/vmlinux

if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ]; then
    if [ -z "$(ls -A /sys/fs/bpf)" ]; then ok "fresh bpffs mounted at /sys/fs/bpf"
    else fail "fresh bpffs mounted at /sys/fs/bpf" "not empty: $(ls -A /sys/fs/bpf | tr '\n' ' ')"; fi
else
    fail "bpffs mounted at /sys/fs/bpf" "fs type is $(stat -f -c %T /sys/fs/bpf 2>&1)"
fi
check "securityfs, tracefs, cgroup2 mounted" \
    sh -c 'test -e /sys/kernel/security/lsm && test -e /sys/kernel/tracing/trace && test -e /sys/fs/cgroup/cgroup.controllers'
check "MG_RESULTS writable" sh -c 'echo hi > "$MG_RESULTS/probe" && test "$(cat "$MG_RESULTS/probe")" = hi && rm "$MG_RESULTS/probe"'
check "/tmp, /run, /etc, /var writable (tmpfs/overlay)" \
    sh -c 'for d in /tmp /run /etc /var/lib /root /dev/shm; do f=$d/.mg-probe-$$; echo x > $f && rm $f || exit 1; done'
check "host tree read-only in guest" sh -c '! touch "$MG_ROOT/.mg-probe" 2>/dev/null'
check "/dev/net/tun present" test -c /dev/net/tun

# Links: a veth in a new netns, a macvlan and a macvtap on it, a tap from tun.
ns=mgsmoke
if ip netns add $ns 2>/dev/null &&
   ip -n $ns link add v0 type veth peer name v1 &&
   ip -n $ns link set v0 up && ip -n $ns link set v1 up; then
    ok "veth pair in a new netns"
else
    fail "veth pair in a new netns" "ip netns/link add failed"
fi
check "macvlan on veth" ip -n $ns link add mvl0 link v0 type macvlan mode bridge
if ip -n $ns link add mvt0 link v0 type macvtap mode bridge; then
    ok "macvtap on veth"
    idx=$(ip netns exec $ns cat /sys/class/net/mvt0/ifindex)
    # devtmpfs is not per-netns: the char device shows up in the guest's /dev.
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -c "/dev/tap$idx" ] && break; sleep 0.1; done
    check "/dev/tap$idx appears for macvtap ifindex $idx" test -c "/dev/tap$idx"
    check "open /dev/tap$idx" sh -c "exec 3<>/dev/tap$idx"
else
    fail "macvtap on veth" "ip link add type macvtap failed"
fi
check "tap via tun (ip tuntap)" ip -n $ns tuntap add dev tap0 mode tap

for m in macvlan macvtap tap tun; do
    if [ -s "/sys/kernel/btf/$m" ]; then
        ok "module BTF present: $m"
        cp "/sys/kernel/btf/$m" "$MG_RESULTS/btf-$m"
    else
        fail "module BTF present: $m" "no /sys/kernel/btf/$m (lsmod: $(grep -c "^$m " /proc/modules) loaded)"
    fi
done
check "copy vmlinux BTF to results" cp /sys/kernel/btf/vmlinux "$MG_RESULTS/vmlinux.btf"

# The CO-RE types the BPF side reads (needs bpftool from the build packages).
if command -v bpftool >/dev/null; then
    for pair in tap:tap_dev macvtap:macvtap_dev tun:tun_struct; do
        m=${pair%%:*} t=${pair#*:}
        if [ -s "/sys/kernel/btf/$m" ] &&
           bpftool btf dump file "/sys/kernel/btf/$m" format raw 2>/dev/null | grep -q "STRUCT '$t'"; then
            ok "struct $t in $m BTF"
        else
            fail "struct $t in $m BTF" "not found in /sys/kernel/btf/$m"
        fi
    done
else
    echo "# bpftool not installed: struct layout checks skipped"
fi

ip netns del $ns 2>/dev/null
# Leave a background process holding our stdout: the harness must still end the run when
# this script exits (as it must with a libvirtd left running).
sleep 100000 &
summary
