#!/bin/bash
# Builds a guest root from Debian packages (mmdebstrap), shared into a test guest over 9p in
# place of the host's / (tests/vm/vm.sh run with MG_VM_ROOT=NAME). Cached: the root is
# rebuilt only when this recipe changes (key = hash of this file) or it is missing.
#
#   VMB=build/vm tests/vm/mkroot.sh lv11
#
# lv11: Debian 12 (bookworm) + bookworm-backports' libvirt 11.3 (libvirt-daemon,
#   -driver-qemu, -clients) with bookworm's QEMU 7.2, and the libraries the host-built
#   macvguard links against (same glibc and sonames as the Debian 12 host), python3,
#   iproute2, busybox. mmdebstrap keeps its own apt state inside the new root: the host's
#   apt sources and state are not used or changed.
set -u -o pipefail
name=${1:?usage: mkroot.sh NAME}
VMB=${VMB:?}
MIRROR=${MG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECMIRROR=${MG_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
here=$(cd "$(dirname "$0")" && pwd)

case "$name" in
    lv11)
        suite=bookworm
        sources=("deb [signed-by=$KEYRING] $MIRROR bookworm main"
                 "deb [signed-by=$KEYRING] $MIRROR bookworm-updates main"
                 "deb [signed-by=$KEYRING] $SECMIRROR bookworm-security main"
                 "deb [signed-by=$KEYRING] $MIRROR bookworm-backports main")
        # libvirt from bookworm-backports (11.3), everything else from bookworm.
        pin='Package: libvirt* libnss-libvirt
Pin: release n=bookworm-backports
Pin-Priority: 990'
        pkgs="libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
              libbpf1 libnl-route-3-200 libxml2 libjson-c5 libelf1 zlib1g
              python3 iproute2 busybox procps passwd kmod less"
        ;;
    *) echo "mkroot.sh: unknown root '$name' (known: lv11)" >&2; exit 2 ;;
esac

dir="$VMB/roots/$name"
key=$(cat "$0" | sha256sum | cut -c1-16)
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if [ "$(cat "$dir/key" 2>/dev/null)" = "$key" ] && [ -x "$dir/root/bin/bash" ]; then
    echo "$dir/root: cached ($(cat "$dir/versions" 2>/dev/null | tr '\n' ' '))"
    exit 0
fi
command -v mmdebstrap >/dev/null || { echo "mkroot.sh: missing mmdebstrap (scripts/deps.sh test)" >&2; exit 2; }
[ -r "$KEYRING" ] || { echo "mkroot.sh: missing $KEYRING (debian-archive-keyring)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "mkroot.sh: needs root (mmdebstrap root mode)" >&2; exit 2; }
rm -rf "$dir/root" "$dir/root.new" "$dir/key" "$dir/versions"
t0=$SECONDS
echo "mkroot.sh: building $name in $dir/root (mmdebstrap $suite)" >&2
# Retry once: a mirror hiccup should not fail the suite.
for try in 1 2; do
    # shellcheck disable=SC2086
    mmdebstrap --mode=root --variant=essential --quiet \
        --keyring="$KEYRING" \
        --setup-hook="mkdir -p \"\$1/etc/apt/preferences.d\" && printf '%s\n' '$pin' >\"\$1/etc/apt/preferences.d/mg-root\"" \
        --include="$(echo $pkgs | tr ' ' ',')" \
        --customize-hook='rm -rf "$1/var/cache/apt/archives/"*.deb "$1/var/lib/apt/lists/"*_Packages' \
        --customize-hook='chroot "$1" dpkg-query -W -f "\${Package}=\${Version}\n" libvirt-daemon libvirt-clients qemu-system-x86 libc6 libbpf1 > "$1/.mg-versions"' \
        "$suite" "$dir/root.new" "${sources[@]}" >"$dir/build.log" 2>&1 && break
    echo "mkroot.sh: mmdebstrap failed (try $try): $(tail -n 3 "$dir/build.log")" >&2
    rm -rf "$dir/root.new"
    [ "$try" = 2 ] && exit 1
done
mv "$dir/root.new/.mg-versions" "$dir/versions"
mv "$dir/root.new" "$dir/root"
echo "$key" >"$dir/key"
echo "$dir/root: built in $((SECONDS - t0))s ($(tr '\n' ' ' <"$dir/versions"))"
