# Shared by tests/guest/libvirt.sh and tests/demo/guest-demo.sh (sourced, inside a test guest):
# a real libvirt daemon + QEMU (TCG): Debian 12's libvirtd 9.0 (the host's root) or
# bookworm-backports' 11.3 (the lv11 root, tests/vm/mkroot.sh), set up as the shared notes
# (docs: ../shared/docs/libvirt-in-guest.md) describe, and two domains d1/d2 whose
# <interface type='direct'> both ask for <target dev='guestnic0'/>.
# The daemon: virtqemud where the root has it (the modular daemons; MG_LV_DAEMON=libvirtd
# forces the monolithic one), else libvirtd. Debian's libvirt packages (bookworm 9.0,
# bookworm-backports 11.3, trixie 11.3, trixie-backports 12.x) ship only libvirtd.
ROOT=${MG_ROOT:?}
OUT=${MG_RESULTS:?}
MG="$ROOT/${BUILD:-build}/macvguard"
EVENTS="$OUT/events.jsonl"
LV_LOG="$OUT/libvirtd.log"
AGENT=""
LIBVIRTD=""
export LIBVIRT_DEFAULT_URI=qemu:///system
LV_DAEMON=libvirtd
[ -x /usr/sbin/virtqemud ] && [ "${MG_LV_DAEMON:-}" != libvirtd ] && LV_DAEMON=virtqemud
LV_SOCK=/run/libvirt/libvirt-sock
[ "$LV_DAEMON" = virtqemud ] && LV_SOCK=/run/libvirt/virtqemud-sock
# "11.3.0" etc.
lv_version() { "$LV_DAEMON" --version 2>/dev/null | awk '{print $NF; exit}'; }
lv_major() { local v; v=$(lv_version); echo "${v%%.*}"; }

# One-time: users, config, syslog (the hook logs there), the veth the macvtaps sit on.
lv_setup() {
    getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
    getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
    getent group kvm >/dev/null || groupadd -r kvm
    mkdir -p /etc/libvirt /var/lib/libvirt/qemu /var/log/libvirt/qemu /var/cache/libvirt/qemu /run/libvirt
    cat >/etc/libvirt/qemu.conf <<'CONF'
user = "root"
group = "root"
security_driver = "none"
stdio_handler = "file"
CONF
    cat >"/etc/libvirt/$LV_DAEMON.conf" <<CONF
auth_unix_rw = "none"
unix_sock_rw_perms = "0700"
log_filters = "1:util.netdevmacvlan 1:qemu.qemu_process 4:*"
log_outputs = "1:file:$OUT/libvirtd-debug.log"
CONF
    busybox syslogd -n -O "$OUT/syslog" >/dev/null 2>&1 &
    SYSLOGD=$!
    ip link add v0 type veth peer name v1
    ip link set v0 up; ip link set v1 up
    sleep 0.3
}

lv_domain_xml() { # NAME MAC
    cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='direct'>
      <mac address='$2'/>
      <source dev='v0' mode='bridge'/>
      <target dev='guestnic0'/>
      <model type='virtio'/>
    </interface>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

lv_start_daemon() {
    "$LV_DAEMON" >>"$LV_LOG" 2>&1 &
    LIBVIRTD=$!
    for _ in $(seq 1 300); do
        [ -S "$LV_SOCK" ] && virsh -q version >/dev/null 2>&1 && return 0
        kill -0 "$LIBVIRTD" 2>/dev/null || { echo "$LV_DAEMON died: $(tail -n 3 "$LV_LOG")"; return 1; }
        sleep 0.2
    done
    return 1
}

lv_stop_daemon() {
    [ -n "$LIBVIRTD" ] || return 0
    kill "$LIBVIRTD" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$LIBVIRTD" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$LIBVIRTD" 2>/dev/null
    wait "$LIBVIRTD" 2>/dev/null
    LIBVIRTD=""
    rm -f "$LV_SOCK"
}

lv_define() {
    lv_domain_xml d1 52:54:00:00:00:01 >"$OUT/d1.xml"
    lv_domain_xml d2 52:54:00:00:00:02 >"$OUT/d2.xml"
    virsh -q define "$OUT/d1.xml" >/dev/null && virsh -q define "$OUT/d2.xml" >/dev/null
}

qemu_pid() { cat "/run/libvirt/qemu/$1.pid" 2>/dev/null; }
link_index() { cat "/sys/class/net/$1/ifindex" 2>/dev/null; }
# QEMU of domain $1 holds /dev/tapN of link $2 open
qemu_holds_tap() {
    local pid idx
    pid=$(qemu_pid "$1"); idx=$(link_index "$2")
    [ -n "$pid" ] && [ -n "$idx" ] && ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "/dev/tap$idx\$"
}

agent_start() {
    "$MG" -j run >>"$EVENTS" 2>>"$OUT/agent.log" &
    AGENT=$!
    for _ in $(seq 1 900); do
        grep -q "agent running (pid $AGENT)" "$OUT/agent.log" 2>/dev/null && return 0
        kill -0 "$AGENT" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

agent_stop() {
    [ -n "$AGENT" ] || return 0
    kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null; AGENT=""
}

# wait_for SECONDS CMD...: poll every 0.2 s
wait_for() {
    local n=$(( $1 * 5 )); shift
    for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.2; done
    return 1
}

tag_of() { # IFNAME -> "domain pid tagged_by" from macvguard links
    "$MG" -j links 2>/dev/null | python3 -c '
import json,sys
for l in json.load(sys.stdin):
    if l["ifname"]==sys.argv[1]: print(l["owner_domain"], l["owner_pid"], l["tagged_by"], {True: "yes", False: "no", None: "unknown"}[l["in_use"]])' "$1" 2>/dev/null
}

events_with() { # count JSON event lines containing every pattern
    local n=0 line p
    [ -f "$EVENTS" ] || { echo 0; return; }
    while IFS= read -r line; do
        for p in "$@"; do case "$line" in *"$p"*) ;; *) continue 2 ;; esac; done
        n=$((n + 1))
    done <"$EVENTS"
    echo "$n"
}
