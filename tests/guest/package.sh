#!/bin/bash
# The Debian package under a real systemd, run as root inside a test guest (BPF LSM kernel).
# usage: tests/vm/vm.sh run KVER tests/guest/package.sh build/macvguard_VERSION_amd64.deb
#
# The guest's PID 1 is busybox, so systemd (the host's, from the shared root) is started
# as PID 1 of a new PID + mount namespace, with only a test target: it manages units, builds
# each service's sandbox and speaks sd_notify like on a host, in the guest's own network
# namespace and kernel. /usr gets a tmpfs overlay so dpkg can install. Then: install the
# package (postinst: hook, enable, start), check the shipped unit comes up (Type=notify:
# needs READY=1 from the agent), that the guard loaded by the sandboxed agent refuses an
# in-use link's deletion, the sandbox itself (capabilities, seccomp, read-only /usr), reload,
# stop (the guard stays), remove (hook gone, guard unpinned, deletion allowed) and purge
# (nothing left but what policy keeps: dpkg's own records).
set -u
ROOT=${MG_ROOT:?}
. "$ROOT/tests/guest/lib.sh"
OUT=${MG_RESULTS:?}
DEB=$(readlink -f "${1:?usage: package.sh DEB}")
TOOLS="$ROOT/${BUILD:-build}/tests"
UNIT=macvguard.service
HOLDER=""

. "$ROOT/tests/guest/systemd-lib.sh"
in_sd systemctl --failed --no-legend >"$OUT/failed-before.txt" 2>&1

unit_show() { in_sd systemctl show -P "$1" $UNIT; }
journal_tail() { in_sd journalctl -u $UNIT -n "${1:-4}" --no-pager -o cat 2>/dev/null | tr '\n' ' '; }
snapshot() {   # what purge must give back: every path under these, with type and mode
    in_sd find /etc /var /run/macvguard /sys/fs/bpf /usr/sbin /usr/lib/systemd/system \
        /usr/share/man/man8 /usr/share/doc -xdev \
        \( -path /var/lib/dpkg -o -path /var/log -o -path /var/cache/debconf \
           -o -path /var/cache/man -o -path /var/lib/systemd/deb-systemd-helper-masked \) -prune \
        -o -printf '%y %m %p\n' 2>/dev/null | sort
}
# The shared root is a developer's machine: state its own macvguard runs left in /var, /etc
# (guest-local overlays) would make purge look like it removed foreign files.
rm -rf /var/lib/macvguard /etc/macvguard /etc/libvirt/hooks/qemu.d/macvguard \
    /var/lib/prometheus/node-exporter/macvguard.prom
snapshot >"$OUT/fs-before.txt"

# --- install -----------------------------------------------------------------------------
if in_sd dpkg -i "$DEB" >"$OUT/dpkg-install.log" 2>&1; then ok "dpkg -i $(basename "$DEB")"
else fail "dpkg -i $(basename "$DEB")" "$(tail -n 3 "$OUT/dpkg-install.log" | tr '\n' ' ')"; fi
if grep -q "^# macvguard-hook: written by" /etc/libvirt/hooks/qemu.d/macvguard 2>/dev/null &&
    grep -q "^bin='/usr/sbin/macvguard'" /etc/libvirt/hooks/qemu.d/macvguard; then
    ok "postinst installed the libvirt hook (runs /usr/sbin/macvguard)"
else fail "postinst installed the libvirt hook" "$(ls -l /etc/libvirt/hooks/qemu.d 2>&1 | tr '\n' ' ')"; fi
check "unit enabled" in_sd systemctl is-enabled --quiet $UNIT

# The shipped unit as it is: Type=notify, so "active" means the agent said READY=1.
NOTIFY=0
if in_sd systemctl is-active --quiet $UNIT; then
    NOTIFY=1; ok "shipped unit (Type=notify) active after install: the agent sent READY=1"
else
    fail "shipped unit (Type=notify) active after install" \
        "$(in_sd systemctl is-active $UNIT) / result $(unit_show Result): $(journal_tail 3)"
    # Stand-in, so the sandbox can still be proven: the same unit with only Type and
    # WatchdogSec changed (a runtime drop-in; every hardening setting unchanged).
    echo "# the agent does not speak sd_notify yet: proving the sandbox with Type=simple, WatchdogSec=0"
    mkdir -p /run/systemd/system/$UNIT.d
    printf '[Service]\nType=simple\nWatchdogSec=0\n' >/run/systemd/system/$UNIT.d/zz-no-notify.conf
    in_sd systemctl daemon-reload
    in_sd systemctl reset-failed $UNIT
    in_sd systemctl start $UNIT
fi
tag=$([ $NOTIFY = 1 ] && echo "" || echo " [Type=simple stand-in]")

# The guard this sandboxed agent loaded (fresh boot: nothing was pinned) must be enforcing.
enf=""
for _ in $(seq 1 600); do   # BPF verification under TCG can take tens of seconds
    enf=$(in_sd /usr/sbin/macvguard status 2>&1)
    echo "$enf" | grep -q "guard:.*enforcing" && break
    in_sd systemctl is-active --quiet $UNIT || break
    sleep 0.2
done
if echo "$enf" | grep -q "guard:.*enforcing"; then ok "sandboxed agent loaded the guard: enforcing$tag"
else fail "sandboxed agent loaded the guard: enforcing$tag" "$(echo "$enf" | tr '\n' ' '); $(journal_tail 4)"; fi

if [ $NOTIFY = 1 ]; then
    in_sd /usr/sbin/macvguard status >/dev/null 2>&1; src=$?
    stx=$(unit_show StatusText)
    if [ $src = 0 ] && echo "$stx" | grep -q "^enforcing via BPF LSM, mode enforce: BPF LSM guard attached"; then
        ok "status exit 0 (enforcing); systemctl status shows STATUS=$stx"
    else fail "status exit 0 and STATUS= enforcing" "status exit $src, StatusText '$stx'"; fi
fi

PID=$(unit_show MainPID)
# The sandbox really applies (read from the agent process itself).
st=$(in_sd cat /proc/"$PID"/status 2>/dev/null)   # MainPID is systemd's (namespace) pid
capbnd=$(echo "$st" | awk '/^CapBnd:/ {print $2}')
[ "$capbnd" = "000000c000201000" ] && ok "agent bounding set = CAP_NET_ADMIN CAP_SYS_ADMIN CAP_PERFMON CAP_BPF$tag" ||
    fail "agent bounding set = CAP_NET_ADMIN CAP_SYS_ADMIN CAP_PERFMON CAP_BPF$tag" "CapBnd $capbnd (pid $PID)"
echo "$st" | grep -q "^NoNewPrivs:[[:space:]]*1" && echo "$st" | grep -q "^Seccomp:[[:space:]]*2" &&
    ok "agent runs with NoNewPrivs and a seccomp filter$tag" ||
    fail "agent runs with NoNewPrivs and a seccomp filter$tag" "$(echo "$st" | grep -E 'NoNewPrivs|Seccomp' | tr '\n' ' ')"
if in_sd nsenter -t "$PID" -m -r -- sh -c 'touch /usr/.mgprobe' 2>/dev/null; then
    fail "/usr is read-only in the agent's namespace$tag" "touch /usr/.mgprobe worked"
else ok "/usr is read-only in the agent's namespace$tag"; fi
[ -S /run/macvguard/events.sock ] && [ -d /var/lib/macvguard/journal ] &&
    ok "RuntimeDirectory /run/macvguard and StateDirectory /var/lib/macvguard in use$tag" ||
    fail "RuntimeDirectory and StateDirectory in use$tag" "$(ls -la /run/macvguard /var/lib/macvguard 2>&1 | tr '\n' ' ')"

# A macvtap in the guest's network namespace, its queue held by a stand-in guest, tagged
# (from outside systemd's PID namespace, so the pid is the kernel's): deleting it is refused.
setup() {
    ip link add v0 type veth peer name v1
    ip link set v0 up; ip link set v1 up
    ip link add link v0 name macvtap0 type macvtap mode bridge
    ip link set macvtap0 up
    IDX=$(cat /sys/class/net/macvtap0/ifindex)
    rm -f "$OUT/hold.status"
    "$TOOLS/holdtap" "/dev/tap$IDX" "$OUT/hold.status" &
    HOLDER=$!
    for _ in $(seq 1 50); do grep -q ready "$OUT/hold.status" 2>/dev/null && break; sleep 0.1; done
    /usr/sbin/macvguard tag macvtap0 --domain A --pid "$HOLDER" >>"$OUT/tag.log" 2>&1
}
del_rc() { "$TOOLS/nlreq" del-name macvtap0 >>"$OUT/nlreq.log" 2>&1; echo $?; }
link_there() { ip link show macvtap0 >/dev/null 2>&1; }
ensure_link() {   # a refused or failed earlier check must not cascade into the next ones
    link_there && return
    kill "$HOLDER" 2>/dev/null; ip link del v0 2>/dev/null
    setup
}
setup
rc=$(del_rc)
if [ "$rc" = 3 ] && link_there; then ok "delete of the in-use macvtap refused (EPERM)$tag"
else fail "delete of the in-use macvtap refused (EPERM)$tag" "nlreq exit $rc, link there: $(link_there && echo yes || echo no)"; fi
found=""
for _ in $(seq 1 30); do
    found=$(in_sd /usr/sbin/macvguard journal --verdict deny 2>/dev/null | grep macvtap0)
    [ -n "$found" ] && break; sleep 0.2
done
[ -n "$found" ] && ok "the refusal is in the agent's journal (/var/lib/macvguard)$tag" ||
    fail "the refusal is in the agent's journal$tag" "$(in_sd /usr/sbin/macvguard journal 2>&1 | tail -n 2 | tr '\n' ' ')"

# Watchdog: the shipped unit kills an agent that sends no WATCHDOG=1 within WatchdogSec.
if [ $NOTIFY = 1 ]; then
    wd=$(unit_show WatchdogUSec)
    sleep 35
    if in_sd systemctl is-active --quiet $UNIT && [ "$(unit_show MainPID)" = "$PID" ] &&
        [ "$(unit_show NRestarts)" = 0 ]; then ok "agent still the same process after 35 s (WatchdogSec=$wd fed)"
    else fail "agent fed the watchdog" "pid $PID -> $(unit_show MainPID), restarts $(unit_show NRestarts): $(journal_tail 3)"; fi
else
    fail "watchdog fed (WATCHDOG=1)" "not testable: the shipped Type=notify unit never became active"
fi

# Reload: SIGHUP re-reads the configuration; the agent stays the same process.
in_sd systemctl reload $UNIT >"$OUT/reload.log" 2>&1
sleep 2
if [ "$PID" != 0 ] && in_sd systemctl is-active --quiet $UNIT && [ "$(unit_show MainPID)" = "$PID" ]; then
    ok "systemctl reload: agent kept running (same pid)$tag"
    if [ $NOTIFY = 1 ]; then
        # a configuration with an error: not taken, the agent stays, systemctl status says so
        cp /etc/macvguard/macvguard.conf "$OUT/conf.good"
        echo "mode = sometimes" >>/etc/macvguard/macvguard.conf
        in_sd systemctl reload $UNIT >>"$OUT/reload.log" 2>&1
        sleep 2
        stx=$(unit_show StatusText)
        if in_sd systemctl is-active --quiet $UNIT && [ "$(unit_show MainPID)" = "$PID" ] &&
            echo "$stx" | grep -q "configuration: .*kept the previous configuration"; then
            ok "systemctl reload with a bad configuration: same pid, STATUS= says the old one is kept"
        else fail "reload with a bad configuration" "pid $(unit_show MainPID), '$stx'"; fi
        cp "$OUT/conf.good" /etc/macvguard/macvguard.conf
        in_sd systemctl reload $UNIT >>"$OUT/reload.log" 2>&1
    fi
else
    fail "systemctl reload: agent kept running (same pid)$tag" \
        "pid $PID -> $(unit_show MainPID), $(in_sd systemctl is-active $UNIT): $(journal_tail 2)"
    in_sd systemctl reset-failed $UNIT 2>/dev/null
    in_sd systemctl start $UNIT 2>/dev/null
fi

# Stop: the agent goes, the pinned guard keeps refusing (tagged again with no agent: a
# restarted agent reconciles tags against libvirt's status files, where domain A is not).
in_sd systemctl stop $UNIT
ensure_link
/usr/sbin/macvguard tag macvtap0 --domain A --pid "$HOLDER" >>"$OUT/tag.log" 2>&1
rc=$(del_rc)
if ! in_sd systemctl is-active --quiet $UNIT && [ "$rc" = 3 ] && link_there && [ ! -e /run/macvguard ]; then
    ok "systemctl stop: agent gone, /run/macvguard gone, pinned guard still refuses"
else fail "systemctl stop: agent gone, /run/macvguard gone, pinned guard still refuses" \
    "active $(in_sd systemctl is-active $UNIT), nlreq $rc, /run/macvguard $(ls -d /run/macvguard 2>&1)"; fi
in_sd systemctl start $UNIT

# --- remove: hook gone, agent stopped, guard unpinned (the delete now goes through) -------
cp /etc/macvguard/macvguard.conf "$OUT/conf.orig"
echo "# changed by the admin" >>/etc/macvguard/macvguard.conf
if in_sd dpkg -r macvguard >"$OUT/dpkg-remove.log" 2>&1; then ok "dpkg -r macvguard"
else fail "dpkg -r macvguard" "$(tail -n 3 "$OUT/dpkg-remove.log" | tr '\n' ' ')"; fi
[ ! -e /etc/libvirt/hooks/qemu.d/macvguard ] && ok "remove: libvirt hook removed" ||
    fail "remove: libvirt hook removed" "still there"
in_sd systemctl is-active --quiet $UNIT && fail "remove: agent stopped" "$UNIT still active" ||
    ok "remove: agent stopped"
[ ! -e /sys/fs/bpf/macvguard ] && ok "remove: guard unpinned (/sys/fs/bpf/macvguard gone)" ||
    fail "remove: guard unpinned" "$(ls /sys/fs/bpf/macvguard 2>&1 | tr '\n' ' ')"
ensure_link
rc=$(del_rc)
if [ "$rc" = 0 ] && ! link_there; then ok "remove: the in-use macvtap can be deleted again"
else fail "remove: the in-use macvtap can be deleted again" "nlreq exit $rc"; fi
[ -d /var/lib/macvguard/journal ] && grep -q "changed by the admin" /etc/macvguard/macvguard.conf &&
    ok "remove keeps the changed configuration and the journal" ||
    fail "remove keeps the changed configuration and the journal" "$(ls -la /etc/macvguard /var/lib/macvguard 2>&1 | tr '\n' ' ')"
kill "$HOLDER" 2>/dev/null; ip link del v0 2>/dev/null
rm -rf /run/systemd/system/$UNIT.d
in_sd systemctl daemon-reload

# --- purge: nothing left ------------------------------------------------------------------
if in_sd dpkg -P macvguard >"$OUT/dpkg-purge.log" 2>&1; then ok "dpkg -P macvguard"
else fail "dpkg -P macvguard" "$(tail -n 3 "$OUT/dpkg-purge.log" | tr '\n' ' ')"; fi
snapshot >"$OUT/fs-after.txt"
if diff "$OUT/fs-before.txt" "$OUT/fs-after.txt" >"$OUT/fs.diff"; then
    ok "purge: /etc /var /run/macvguard /sys/fs/bpf /usr/... as before the install"
else fail "purge: file system as before the install" "$(head -c 600 "$OUT/fs.diff" | tr '\n' ' ')"; fi
in_sd systemctl --failed --no-legend >"$OUT/failed-after.txt" 2>&1

kill -9 "$SD" 2>/dev/null
wait "$USH" 2>/dev/null
summary
