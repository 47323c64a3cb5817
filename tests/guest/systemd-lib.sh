# Sourced by guest scripts that need a real systemd (tests/guest/package.sh,
# tests/guest/dev/sandbox-bpffs.sh). The guest's PID 1 is busybox, so systemd (the host's,
# from the shared root) is started as PID 1 of a new PID + mount namespace with only a test
# target: it manages units, builds each service's sandbox and speaks sd_notify as on a host,
# in the guest's network namespace and kernel. /usr gets a tmpfs overlay so dpkg can install.
# Sets SD (systemd's pid, as seen from outside) and in_sd CMD... (run inside its namespaces).
# On failure it prints a not-ok line, the summary, and exits.
mkdir -p /run/mg-usr/up /run/mg-usr/work
mount -t overlay overlay -o lowerdir=/usr,upperdir=/run/mg-usr/up,workdir=/run/mg-usr/work /usr ||
    { fail "overlay on /usr" "mount failed"; summary; exit 1; }
# The shared root is a container image: its policy-rc.d forbids starting services on install.
rm -f /usr/sbin/policy-rc.d
# No man-db index rebuild under TCG (the trigger would scan every page).
echo "man-db man-db/auto-update boolean false" | debconf-set-selections
mkdir -p /run/systemd/system /etc/systemd/system.conf.d
printf '[Unit]\nDescription=macvguard package test\n' >/run/systemd/system/mgtest.target
# TCG is slow; a Type=notify start that never gets READY=1 fails after this, not 90 s.
printf '[Manager]\nDefaultTimeoutStartSec=60s\n' >/etc/systemd/system.conf.d/mgtest.conf

setsid unshare --pid --fork --mount --mount-proc --propagation private \
    /lib/systemd/systemd --system --unit=mgtest.target --log-target=console --log-level=info \
    --show-status=no >"$OUT/systemd.log" 2>&1 </dev/null &
USH=$!
SD=""
for _ in $(seq 1 100); do SD=$(pgrep -P "$USH" 2>/dev/null | head -n 1); [ -n "$SD" ] && break; sleep 0.1; done
# -r -w: the guest runs chrooted; setns() to a mount namespace would reset / to its real root
in_sd() { nsenter -t "$SD" -m -p -r -w -- "$@"; }
state=""
for _ in $(seq 1 120); do
    state=$(in_sd systemctl is-system-running 2>>"$OUT/systemctl.err")
    case "$state" in running|degraded) break ;; esac
    sleep 1
done
case "$state" in
    running|degraded) ok "systemd runs as PID 1 of the test namespace ($state)" ;;
    *) fail "systemd runs as PID 1 of the test namespace" "pid '$SD', state '$state': $(tail -n 2 "$OUT/systemctl.err" | tr '\n' ' ')"
       summary; exit 1 ;;
esac
