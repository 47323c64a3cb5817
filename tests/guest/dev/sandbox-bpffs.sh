#!/bin/bash
# Developer aid: which sandbox settings leave the host's bpffs writable for a service?
# (systemd 252: ProtectKernelTunables= mounts /sys read-only, bpffs included.)
# usage: tests/vm/vm.sh run 6.12 tests/guest/dev/sandbox-bpffs.sh
set -u
ROOT=${MG_ROOT:?}
. "$ROOT/tests/guest/lib.sh"
OUT=${MG_RESULTS:?}
. "$ROOT/tests/guest/systemd-lib.sh"
try() {   # NAME SETTING...  (a oneshot unit: systemd-run would need D-Bus)
    local name=$1 n; shift
    n=p$RANDOM
    { printf '[Service]\nType=oneshot\nProtectSystem=strict\nExecStart=/bin/mkdir /sys/fs/bpf/%s\n' $n
      printf '%s\n' "$@"; } >/run/systemd/system/mg-$name.service
    in_sd systemctl daemon-reload
    if in_sd systemctl start mg-$name.service >"$OUT/$name.log" 2>&1 && [ -d /sys/fs/bpf/$n ]; then
        ok "bpffs writable with: $*"; rmdir /sys/fs/bpf/$n
    else fail "bpffs writable with: $*" "$(in_sd journalctl -u mg-$name -o cat --no-pager | tail -n 2 | tr '\n' ' ')"; fi
}
try plain
try pkt-rw ProtectKernelTunables=yes ReadWritePaths=/sys/fs/bpf
try pkt-bind ProtectKernelTunables=yes BindPaths=/sys/fs/bpf
try ro-rw ReadOnlyPaths=/sys ReadWritePaths=/sys/fs/bpf
try ro-bind ReadOnlyPaths=/sys BindPaths=/sys/fs/bpf
try pkt-pd-bind ProtectKernelTunables=yes PrivateDevices=yes ProtectControlGroups=yes BindPaths=/sys/fs/bpf
kill -9 "$SD"
summary
