#!/bin/bash
# The Debian package, the systemd unit and the alert rules (issue 13):
#  - `make deb` builds build/macvguard_VERSION_amd64.deb (VERSION from debian/changelog);
#    lintian: no errors, no warnings that are not overridden with a reason;
#    Build-Depends = scripts/packages-build.txt (minus build-essential); shlibs Depends.
#  - A test root (this host's root under an overlay with a tmpfs upper, in private mount and
#    PID namespaces: nothing reaches the real root): install, reinstall (upgrade path),
#    remove, purge with dpkg; files land, the postinst installs the libvirt hook, the prerm
#    removes it; after purge every change in the overlay's upper layer except dpkg's own
#    records is compared with before (nothing may be left, nothing of the host removed).
#  - The unit: systemd-analyze security exposure <= 3.5 (offline), verify, the settings
#    issue 13 asks for.
#  - dist/macvguard.rules.yml: promtool check rules + promtool test rules.
#  - In the 6.1 and 6.12 guests under a real systemd (tests/guest/package.sh): install,
#    the shipped Type=notify unit starts, the sandboxed agent loads the guard and refuses,
#    watchdog, reload, stop, remove (guard unpinned), purge.
cd "$(dirname "$0")/../.." || exit 1
T=$(mktemp -d /tmp/mg-package.XXXXXX)
trap 'rm -rf "$T"' EXIT
. tests/lib/suite.sh
B=${BUILD:-build}
VERSION=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
DEB="$B/macvguard_${VERSION}_amd64.deb"

# --- build + lintian ------------------------------------------------------------------
rm -f "$DEB"
if make -s deb BUILD="$B" >"$T/deb.log" 2>&1 && [ -s "$DEB" ]; then ok "make deb built $DEB"
else notok "make deb" "$(grep -E 'error|Error|^E:' "$T/deb.log" | tail -n 3 | tr '\n' ' ')"; finish; fi
[ "$(dpkg-deb -f "$DEB" Version)" = "$VERSION" ] && ok "package version $VERSION = debian/changelog" ||
    notok "package version" "$(dpkg-deb -f "$DEB" Version) != $VERSION"
if git status --porcelain --ignored -- debian | grep -q .; then
    notok "the build left the source tree alone" "$(git status --porcelain --ignored -- debian | head -n 3 | tr '\n' ' ')"
else ok "the build left the source tree alone (built in $B/deb)"; fi
lintian --no-tag-display-limit "$B"/deb/macvguard_"${VERSION}"_amd64.changes >"$T/lintian.txt" 2>&1
nerr=$(grep -c '^E: ' "$T/lintian.txt"); nwarn=$(grep -c '^W: ' "$T/lintian.txt")
[ "$nerr" -eq 0 ] && ok "lintian: no errors" || notok "lintian: no errors" "$(grep '^E: ' "$T/lintian.txt" | head -n 3 | tr '\n' ' ')"
[ "$nwarn" -eq 0 ] && ok "lintian: no warnings (the intended ones are overridden with a reason)" ||
    notok "lintian: no warnings" "$(grep '^W: ' "$T/lintian.txt" | head -n 3 | tr '\n' ' ')"
grep -q '^# ' debian/macvguard.lintian-overrides && ok "every lintian override has a reason" ||
    notok "every lintian override has a reason" "no comment in debian/macvguard.lintian-overrides"

# --- control fields ----------------------------------------------------------------------
bd=$(sed -n '/^Build-Depends:/,/^[A-Z][A-Za-z-]*:/p' debian/control | sed '$d' | sed 's/^Build-Depends://' |
     tr ',' '\n' | sed 's/(.*)//; s/[[:space:]]//g' | grep -v '^$' | grep -v '^debhelper-compat' | sort)
pb=$(sed -e 's/#.*//' scripts/packages-build.txt | tr -s ' \n' '\n' | grep -v '^$' | grep -vxE 'make|gcc' | sort)
[ "$bd" = "$pb" ] && ok "Build-Depends = scripts/packages-build.txt minus make, gcc (build-essential)" ||
    notok "Build-Depends = scripts/packages-build.txt" "$(diff <(echo "$bd") <(echo "$pb") | grep '^[<>]' | tr '\n' ' ')"
dep=$(dpkg-deb -f "$DEB" Depends)
miss=""
for p in libbpf1 libnl-3-200 libnl-route-3-200 libxml2 libjson-c5 libc6 kmod; do
    echo "$dep" | grep -qE "(^|, )$p( |,|$)" || miss="$miss $p"
done
[ -z "$miss" ] && ok "Depends from the binary's libraries (shlibs) + kmod: $dep" || notok "Depends" "missing$miss in: $dep"
dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles >"$T/conffiles" 2>/dev/null
[ "$(cat "$T/conffiles")" = "/etc/macvguard/macvguard.conf" ] && ok "conffile /etc/macvguard/macvguard.conf" ||
    notok "conffiles" "$(tr '\n' ' ' <"$T/conffiles")"
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|' >"$T/contents"
miss=""
for f in /usr/sbin/macvguard /lib/systemd/system/macvguard.service /etc/macvguard/macvguard.conf \
    /usr/share/man/man8/macvguard.8.gz /usr/share/doc/macvguard/copyright /etc/libvirt/hooks/qemu.d/; do
    grep -qxF "$f" "$T/contents" || miss="$miss $f"
done
[ -z "$miss" ] && ok "package contents: binary, unit, configuration, man page, copyright, hook directory" ||
    notok "package contents" "missing$miss"

# --- the unit ---------------------------------------------------------------------------
mkdir -p "$T/unit"
dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ./lib/systemd/system/macvguard.service >"$T/unit/macvguard.service"
U="$T/unit/macvguard.service"
systemd-analyze security --offline=yes --no-pager "$U" >"$T/security.txt" 2>&1
score=$(sed -n 's/.*Overall exposure level for macvguard.service: \([0-9.]*\).*/\1/p' "$T/security.txt")
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.5) }'; then
    ok "systemd-analyze security: exposure $score <= 3.5"
else notok "systemd-analyze security: exposure <= 3.5" "got '${score:-?}': $(tail -n 1 "$T/security.txt")"; fi
uv() { sed -n "s/^$1=//p" "$U" | tr '\n' ' ' | sed 's/ $//'; }
[ "$(uv Type)" = notify ] && ok "Type=notify" || notok "Type=notify" "Type=$(uv Type)"
[ -n "$(uv WatchdogSec)" ] && ok "WatchdogSec=$(uv WatchdogSec)" || notok "WatchdogSec=" "not set"
miss=""
for u in libvirtd.service virtqemud.service libvirtd.socket virtqemud.socket libvirtd-ro.socket \
    libvirtd-admin.socket virtqemud-ro.socket virtqemud-admin.socket; do
    echo " $(uv Before) " | grep -q " $u " || miss="$miss $u"
done
[ -z "$miss" ] && ok "Before= libvirtd/virtqemud and their sockets" || notok "Before=" "missing$miss"
[ "$(uv StateDirectory)" = macvguard ] && [ "$(uv RuntimeDirectory)" = macvguard ] &&
    ok "StateDirectory=macvguard, RuntimeDirectory=macvguard" || notok "State/RuntimeDirectory" "$(uv StateDirectory)/$(uv RuntimeDirectory)"
[ "$(uv ExecReload)" = '/bin/kill -HUP $MAINPID' ] && ok "ExecReload sends SIGHUP" || notok "ExecReload" "$(uv ExecReload)"
# every hardening choice not taken is explained in a comment
miss=""
for k in ProtectKernelTunables ProtectProc PrivateNetwork PrivateUsers User= '@mount'; do
    grep -E '^#' "$U" | grep -q -- "$k" || miss="$miss $k"
done
[ -z "$miss" ] && ok "the unit says why it leaves out ProtectKernelTunables, ProtectProc, PrivateNetwork, PrivateUsers, User=, @mount" ||
    notok "the unit explains what it leaves out" "no comment on$miss"

# --- test root: install, reinstall, remove, purge ------------------------------------------
# The host's root read-only below a tmpfs upper, chrooted in private mount + PID namespaces
# (the hook's --reload sees only the namespace's processes; nothing touches the real root).
cat >"$T/inroot.sh" <<'EOF'
#!/bin/bash
# runs in: unshare --mount --pid --fork; $1 = scratch dir, $2 = the .deb
set -u
S=$1 DEB=$2 R=$1/root UP=$1/up
mount --make-rprivate /
mkdir -p "$UP" "$R"
mount -t tmpfs tmpfs "$UP" && mkdir "$UP/u" "$UP/w" || exit 10
mount -t overlay overlay -o "lowerdir=/,upperdir=$UP/u,workdir=$UP/w" "$R" || exit 11
mount -t proc proc "$R/proc" && mount --rbind /dev "$R/dev" &&
    mount -t tmpfs tmpfs "$R/run" && mount -t tmpfs tmpfs "$R/tmp" || exit 12
cp "$DEB" "$R/tmp/"
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
# Upper-layer state: every changed path with type, mode and content hash; dpkg's own
# records, logs, the debconf cache and man-db's index (rebuilt by man-db's trigger for every
# package with a man page) are the only changes purge may leave.
state() {
    (cd "$UP/u" && find . -mindepth 1 \( -path ./var/lib/dpkg -o -path ./var/log -o \
        -path ./var/cache/debconf -o -path ./var/cache/man \) -prune -o -printf '%y %m %p\n' | sort) |
    while read -r t m p; do
        case "$t" in
            f) echo "$t $m $p $(md5sum <"$UP/u/$p" | cut -c1-12)" ;;
            d) [ -d "/${p#./}" ] && [ "$(stat -c %a "/${p#./}")" = "$m" ] && continue   # copied-up dir
               echo "$t $m $p" ;;
            *) echo "$t $m $p" ;;
        esac
    done
}
# this machine's own macvguard runs may have left state in its real /var, /etc: start clean
rm -rf "$R/var/lib/macvguard" "$R/etc/macvguard" "$R/etc/libvirt/hooks/qemu.d/macvguard" \
    "$R/var/lib/prometheus/node-exporter/macvguard.prom"
echo "man-db man-db/auto-update boolean false" | in_root debconf-set-selections
state >"$S/state-before"
deb=/tmp/$(basename "$DEB")
in_root dpkg -i "$deb" >"$S/install.log" 2>&1; echo "install $?" >>"$S/rc"
for f in /usr/sbin/macvguard /lib/systemd/system/macvguard.service /etc/macvguard/macvguard.conf \
    /usr/share/man/man8/macvguard.8.gz /etc/libvirt/hooks/qemu.d/macvguard \
    /etc/systemd/system/multi-user.target.wants/macvguard.service \
    /etc/systemd/system/libvirtd.service.wants/macvguard.service \
    /etc/systemd/system/virtqemud.service.wants/macvguard.service; do
    [ -e "$R$f" ] || [ -L "$R$f" ] && echo "$f" >>"$S/installed"   # -L: links point into $R
done
cp "$R/etc/libvirt/hooks/qemu.d/macvguard" "$S/hook" 2>/dev/null
in_root systemd-analyze verify --man=no /lib/systemd/system/macvguard.service >"$S/verify.log" 2>&1
echo "verify $?" >>"$S/rc"
in_root macvguard hook qemu dom1 prepare begin - </dev/null >"$S/hookrun.log" 2>&1; echo "hookrun $?" >>"$S/rc"
echo "# changed by the admin" >>"$R/etc/macvguard/macvguard.conf"
in_root dpkg -i "$deb" >"$S/reinstall.log" 2>&1; echo "reinstall $?" >>"$S/rc"
[ -e "$R/etc/libvirt/hooks/qemu.d/macvguard" ] && echo "hook-after-reinstall" >>"$S/installed"
grep -q "changed by the admin" "$R/etc/macvguard/macvguard.conf" && echo "conf-kept-reinstall" >>"$S/installed"
mkdir -p "$R/var/lib/macvguard/journal" && echo x >"$R/var/lib/macvguard/journal/seg-test.mgj"
had_prom=$([ -d "$R/var/lib/prometheus" ] && echo 1)
mkdir -p "$R/var/lib/prometheus/node-exporter" && echo x >"$R/var/lib/prometheus/node-exporter/macvguard.prom"
in_root dpkg -r macvguard >"$S/remove.log" 2>&1; echo "remove $?" >>"$S/rc"
for f in /usr/sbin/macvguard /lib/systemd/system/macvguard.service /etc/libvirt/hooks/qemu.d/macvguard \
    /var/lib/prometheus/node-exporter/macvguard.prom; do
    [ -e "$R$f" ] || [ -L "$R$f" ] && echo "$f" >>"$S/left-after-remove"
done
grep -q "changed by the admin" "$R/etc/macvguard/macvguard.conf" 2>/dev/null && echo conf >>"$S/kept-after-remove"
[ -e "$R/var/lib/macvguard/journal/seg-test.mgj" ] && echo journal >>"$S/kept-after-remove"
in_root dpkg -P macvguard >"$S/purge.log" 2>&1; echo "purge $?" >>"$S/rc"
[ -n "$had_prom" ] || rm -rf "$R/var/lib/prometheus"   # made by this test, not the package
state >"$S/state-after"
exit 0
EOF
touch "$T/rc" "$T/installed" "$T/left-after-remove" "$T/kept-after-remove"
if ! unshare --mount --pid --fork bash "$T/inroot.sh" "$T" "$(readlink -f "$DEB")" >"$T/inroot.out" 2>&1; then
    notok "test root set up (overlay of / in a private mount namespace)" "$(tail -n 2 "$T/inroot.out" | tr '\n' ' ')"
    finish
fi
rc_of() { sed -n "s/^$1 //p" "$T/rc"; }
[ "$(rc_of install)" = 0 ] && ok "test root: dpkg -i" || notok "test root: dpkg -i" "exit $(rc_of install): $(tail -n 3 "$T/install.log" | tr '\n' ' ')"
n=$(wc -l <"$T/installed")
[ "$n" -ge 8 ] && ok "test root: binary, unit, conf, man page, libvirt hook, enabled for multi-user, libvirtd, virtqemud" ||
    notok "test root: installed files" "only: $(tr '\n' ' ' <"$T/installed")"
grep -q "^bin='/usr/sbin/macvguard'" "$T/hook" 2>/dev/null && grep -q "^# macvguard-hook: written by" "$T/hook" &&
    ok "test root: postinst wrote the libvirt hook (qemu.d/macvguard -> /usr/sbin/macvguard)" ||
    notok "test root: postinst wrote the libvirt hook" "$(head -c 300 "$T/hook" 2>&1 | tr '\n' ' ')"
[ "$(rc_of hookrun)" = 0 ] && ok "test root: the installed hook runs (hook qemu ... exits 0)" ||
    notok "test root: the installed hook runs" "exit $(rc_of hookrun): $(tail -n 2 "$T/hookrun.log" | tr '\n' ' ')"
[ "$(rc_of verify)" = 0 ] && ! grep -qi "error\|unknown\|ignoring" "$T/verify.log" &&
    ok "test root: systemd-analyze verify macvguard.service (no warnings)" ||
    notok "test root: systemd-analyze verify" "exit $(rc_of verify): $(head -n 3 "$T/verify.log" | tr '\n' ' ')"
[ "$(rc_of reinstall)" = 0 ] && grep -q hook-after-reinstall "$T/installed" && grep -q conf-kept-reinstall "$T/installed" &&
    ok "test root: reinstall (upgrade path) keeps the hook and the changed configuration" ||
    notok "test root: reinstall" "exit $(rc_of reinstall), $(tr '\n' ' ' <"$T/installed")"
[ "$(rc_of remove)" = 0 ] && [ ! -s "$T/left-after-remove" ] &&
    ok "test root: dpkg -r removes binary, unit, libvirt hook, Prometheus textfile" ||
    notok "test root: dpkg -r" "exit $(rc_of remove), left: $(tr '\n' ' ' <"$T/left-after-remove") $(tail -n 2 "$T/remove.log" | tr '\n' ' ')"
grep -q conf "$T/kept-after-remove" && grep -q journal "$T/kept-after-remove" &&
    ok "test root: remove keeps the changed configuration and the journal (until purge)" ||
    notok "test root: remove keeps configuration and journal" "kept: $(tr '\n' ' ' <"$T/kept-after-remove")"
[ "$(rc_of purge)" = 0 ] && ok "test root: dpkg -P" || notok "test root: dpkg -P" "exit $(rc_of purge): $(tail -n 2 "$T/purge.log" | tr '\n' ' ')"
if [ -s "$T/state-before" ] || [ -s "$T/state-after" ] || [ "$(rc_of purge)" = 0 ]; then
    if diff "$T/state-before" "$T/state-after" >"$T/state.diff"; then
        ok "test root: after purge the file system is as before (dpkg's records aside)"
    else notok "test root: after purge the file system is as before" "$(grep '^[<>]' "$T/state.diff" | head -n 8 | tr '\n' ' ')"; fi
fi

# --- alert rules ------------------------------------------------------------------------
if scripts/promtool.sh check rules dist/macvguard.rules.yml >"$T/promtool.txt" 2>&1; then
    ok "promtool check rules dist/macvguard.rules.yml ($(grep -o '[0-9]* rules found' "$T/promtool.txt"))"
else notok "promtool check rules" "$(tail -n 3 "$T/promtool.txt" | tr '\n' ' ')"; fi
if scripts/promtool.sh test rules tests/prometheus/macvguard.rules.test.yml >"$T/promtest.txt" 2>&1; then
    ok "promtool test rules: every alert fires on its metrics and stays quiet when healthy"
else notok "promtool test rules" "$(grep -m 3 -E 'FAILED|alertname|got' "$T/promtest.txt" | tr '\n' ' ')"; fi

# --- under a real systemd, in the guests that run BPF LSM --------------------------------
. tests/vm/lib.sh
if make -s test-tools BUILD="$B" >"$T/tools.log" 2>&1; then
    for k in 6.1 6.12; do
        tests/vm/vm.sh prepare "$k" >/dev/null || { notok "[$k] prepare kernel" "vm.sh prepare failed"; continue; }
        vm_suite "$k" tests/guest/package.sh "$DEB"
    done
    pass=$((pass + VM_PASSED)); fail=$((fail + VM_FAILED))
else notok "build test tools" "$(tail -n 2 "$T/tools.log" | tr '\n' ' ')"; fi
finish
