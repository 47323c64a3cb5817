#!/bin/bash
# VM test harness: boots Debian's own kernels under QEMU (TCG) with the host's / shared
# read-only over 9p, runs one host-path script as root inside a chroot of it, and brings
# the results back through a second, writable 9p share.
#
#   tests/vm/vm.sh prepare KVER              KVER = 6.1 | 6.12 | 6.18: fetch kernel, build initramfs
#   tests/vm/vm.sh prepare-root NAME         NAME = lv11: build a guest root (tests/vm/mkroot.sh)
#   tests/vm/vm.sh run KVER SCRIPT [ARG...]  boot, run SCRIPT inside, print kernel-tagged lines
#
# Environment: BUILD (default build, relative to the repo root), MG_VM_TIMEOUT (seconds,
# default 900), MG_KPKG_6_1 / MG_KPKG_6_12 / MG_KPKG_6_18 (kernel package override),
# MG_VM_MEM (MiB, 1024), MG_VM_SMP (CPUs, 2), MG_VM_KEEP (keep N newest result dirs, default
# 40), MG_VM_ROOT (guest root: "host" = the host's /, default, or a name prepared with
# prepare-root), MG_VM_BOOT_TIMEOUT (seconds until the guest script must have started, 240),
# MG_VM_APPEND (extra kernel command-line arguments, e.g. "lsm=landlock,lockdown lockdown=integrity").
# See tests/vm/README.md.
set -u -o pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$VM_DIR/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
VMB=$(realpath -m "$BUILD/vm")   # build/vm may be a symlink: the guest sees no host symlink targets
# shellcheck source=tests/vm/papt.sh
. "$VM_DIR/papt.sh"

# Top-level modules the guest loads; dependencies are resolved (in load order) with
# modprobe --show-depends against the extracted tree, builtins are skipped.
VM_MODULES="virtio_pci 9pnet_virtio 9p overlay veth macvlan tap macvtap tun"

die() { echo "vm.sh: $*" >&2; exit 2; }
log() { [ -n "${VM_QUIET:-}" ] || echo "vm.sh: $*" >&2; }

check_kver() {
    case "$1" in 6.1|6.12|6.18) ;; *) die "unknown kernel '$1' (use 6.1, 6.12 or 6.18)" ;; esac
}

apt_updated=""
apt_update_once() {
    [ -n "$apt_updated" ] && return 0
    apt_updated=1
    log "apt-get update"
    apt-get update -q >/dev/null 2>&1 || apt-get update -q >&2
}

# Debian 12's kernels come from the host's apt lists; Debian 13's (6.18, trixie-backports)
# from the private apt state in $VMB/apt (tests/vm/papt.sh): the host's sources stay as
# they are.
private_kver() { [ "$1" = 6.18 ]; }

# Prints the Debian package name of the newest plain -amd64 image for KVER.
resolve_pkg() {
    local kver=$1 var pkg=""
    var="MG_KPKG_${kver//./_}"
    if [ -n "${!var:-}" ]; then echo "${!var}"; return 0; fi
    if private_kver "$kver"; then
        papt_init >&2 || return 1
        papt_update >&2
        pkg=$(papt_cache search --names-only "^linux-image-${kver//./\\.}\\..*-amd64\$" 2>/dev/null |
              awk '{print $1}' | grep -E "^linux-image-${kver//./\\.}\\.[0-9]+.*-amd64\$" |
              grep -Ev -- '-(cloud|rt)-amd64$' | sort -V | tail -n 1)
        if [ -z "$pkg" ]; then
            papt_update force >&2
            pkg=$(papt_cache search --names-only "^linux-image-${kver//./\\.}\\..*-amd64\$" 2>/dev/null |
                  awk '{print $1}' | grep -Ev -- '-(cloud|rt)-amd64$' | sort -V | tail -n 1)
        fi
        [ -n "$pkg" ] || die "cannot resolve a kernel package for $kver in trixie-backports (set MG_KPKG_${kver//./_})"
        echo "$pkg"; return 0
    fi
    local try
    for try in 1 2; do
        case "$kver" in
            6.1) pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
                         sed -n 's/^ *Depends: \(linux-image-6\.1\.[0-9.-]*-amd64\)$/\1/p' | head -n 1) ;;
            6.12) pkg=$(apt-cache search --names-only '^linux-image-6\.12.*-amd64$' 2>/dev/null |
                          awk '{print $1}' | grep -E '^linux-image-6\.12\.[0-9]+.*-amd64$' |
                          grep -Ev -- '-(cloud|rt)-amd64$' | sort -V | tail -n 1) ;;
        esac
        [ -n "$pkg" ] && break
        [ "$try" = 1 ] && apt_update_once
    done
    [ -n "$pkg" ] || die "cannot resolve a kernel package for $kver (set MG_KPKG_${kver//./_})"
    echo "$pkg"
}

pkg_version() {  # PKG [KVER]
    if [ -n "${2:-}" ] && private_kver "$2"; then
        papt_init >&2 || return 1
        papt_cache show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1
        return 0
    fi
    apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1
}

# Downloads PKG into $VMB/cache (cached by file name); prints the .deb path.
download() {  # PKG VER [KVER]
    local pkg=$1 ver=$2 deb
    mkdir -p "$VMB/cache"
    deb=$(ls "$VMB/cache/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n 1)
    if [ -z "$deb" ]; then
        log "downloading $pkg=$ver"
        if [ -n "${3:-}" ] && private_kver "$3"; then
            papt_init >&2 || return 1
            (cd "$VMB/cache" && papt_get download -q "$pkg=$ver" >&2) || return 1
        else
            (cd "$VMB/cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >&2) || return 1
        fi
        deb=$(ls "$VMB/cache/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n 1)
    fi
    [ -n "$deb" ] || return 1
    echo "$deb"
}

# prepare KVER: leaves $VMB/KVER/{vmlinuz,initrd-KEY.gz,krel,pkg}. Cached: the kernel tree by
# package name+version, the initramfs by that plus a hash of the harness sources.
prepare() {
    local kver=$1 dir="$VMB/$1" pkg ver deb krel key
    check_kver "$kver"
    for t in qemu-system-x86_64 cpio depmod modprobe xz gzip; do
        command -v "$t" >/dev/null || die "missing $t (scripts/deps.sh test)"
    done
    [ -x /bin/busybox ] || die "missing /bin/busybox (busybox-static)"
    mkdir -p "$dir"
    exec 9>"$dir/.lock"
    flock 9
    pkg=$(resolve_pkg "$kver") || exit 2
    ver=$(pkg_version "$pkg" "$kver")
    if [ -z "$ver" ]; then
        if private_kver "$kver"; then papt_update force >&2; else apt_update_once; fi
        ver=$(pkg_version "$pkg" "$kver")
    fi
    [ -n "$ver" ] || die "no version known for $pkg"
    if [ "$(cat "$dir/pkg" 2>/dev/null)" != "$pkg $ver" ] || [ ! -s "$dir/krel" ]; then
        if ! deb=$(download "$pkg" "$ver" "$kver"); then
            # Stale lists: the mirror may have moved on to a new version or ABI name.
            if private_kver "$kver"; then
                papt_update force >&2
            else
                [ -n "$apt_updated" ] && die "cannot download $pkg=$ver"
                apt_update_once
            fi
            pkg=$(resolve_pkg "$kver") || exit 2
            ver=$(pkg_version "$pkg" "$kver")
            deb=$(download "$pkg" "$ver" "$kver") || die "cannot download $pkg=$ver"
        fi
        log "extracting $(basename "$deb")"
        rm -rf "$dir/root" "$dir/pkg" "$dir/krel" "$dir/initrd.key"
        dpkg-deb -x "$deb" "$dir/root" || die "dpkg-deb -x failed"
        # Debian 13 packages are merged-/usr: modules under usr/lib/modules. depmod and
        # modprobe -d look under DIR/lib/modules: give them the usual path.
        if [ ! -d "$dir/root/lib/modules" ] && [ -d "$dir/root/usr/lib/modules" ]; then
            [ -e "$dir/root/lib" ] || ln -s usr/lib "$dir/root/lib"
        fi
        krel=$(ls "$dir/root/lib/modules/" | head -n 1)
        [ -n "$krel" ] && [ -f "$dir/root/boot/vmlinuz-$krel" ] || die "no kernel in $deb"
        depmod -b "$dir/root" "$krel" || die "depmod failed"
        ln -sf "root/boot/vmlinuz-$krel" "$dir/vmlinuz"
        echo "$krel" >"$dir/krel"
        echo "$pkg $ver" >"$dir/pkg"
    fi
    krel=$(cat "$dir/krel")
    key=$(initrd_key "$pkg" "$ver")
    # One initramfs per key (initrd-KEY.gz): worktrees with different harness versions may
    # share one build/vm, and each boots its own.
    if [ ! -s "$dir/initrd-$key.gz" ]; then
        build_initrd "$dir" "$krel" "$key" || die "initramfs build failed"
        ls -1t "$dir"/initrd-*.gz 2>/dev/null | tail -n +7 | xargs -r rm -f
    fi
    exec 9>&-
}

initrd_key() {  # PKG VER
    { echo "$1 $2 $VM_MODULES"; cat "$VM_DIR/init" "$VM_DIR/vm.sh"; } | sha256sum | cut -c1-16
}

# True when $VMB/KVER holds a kernel (of the MG_KPKG_* override, if set) and a current initramfs.
prepared_ok() {
    local dir="$VMB/$1" var pv
    var="MG_KPKG_${1//./_}"
    pv=$(cat "$dir/pkg" 2>/dev/null) || return 1
    [ -n "${!var:-}" ] && [ "${pv%% *}" != "${!var}" ] && return 1
    [ -e "$dir/vmlinuz" ] && [ -s "$dir/initrd-$(initrd_key ${pv%% *} ${pv#* }).gz" ]
}

build_initrd() {  # DIR KREL KEY
    local dir=$1 krel=$2 key=$3 stage mods m path n=0
    log "building initramfs for $krel"
    stage=$(mktemp -d "$dir/stage.XXXXXX")
    mkdir -p "$stage"/{bin,dev,proc,sys,mnt/host,ovl,modules}
    cp /bin/busybox "$stage/bin/busybox"
    ln -s busybox "$stage/bin/sh"
    cp "$VM_DIR/init" "$stage/init"
    chmod 755 "$stage/init"
    mods=$(for m in $VM_MODULES; do
               modprobe -d "$dir/root" -S "$krel" --show-depends "$m" ||
                   echo "MISSING $m"
           done | awk '$1 == "insmod" {print $2} $1 == "MISSING" {print "MISSING:" $2}' | awk '!seen[$0]++')
    for path in $mods; do
        case "$path" in MISSING:*) echo "vm.sh: module ${path#MISSING:} not found" >&2; rm -rf "$stage"; return 1 ;; esac
        n=$((n + 1))
        m=$(basename "$path"); m=${m%.xz}; m=${m%.zst}
        case "$path" in
            *.xz) xz -dc "$path" >"$stage/modules/$m" ;;
            *.zst) zstd -dc "$path" >"$stage/modules/$m" ;;
            *) cp "$path" "$stage/modules/$m" ;;
        esac || { rm -rf "$stage"; return 1; }
        echo "$m" >>"$stage/modules/order"
    done
    (cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initrd-$key.gz.tmp.$$" || { rm -rf "$stage"; return 1; }
    mv "$dir/initrd-$key.gz.tmp.$$" "$dir/initrd-$key.gz"
    log "initramfs: $n modules: $(tr '\n' ' ' <"$stage/modules/order")"
    rm -rf "$stage"
}

# Turns guest output into kernel-tagged lines: ok/not ok lines get [KVER] after the dash,
# everything else becomes a comment (so a guest's own summary is not taken as the suite's).
tag() {
    local kver=$1 line
    while IFS= read -r line; do
        line=${line%$'\r'}
        case "$line" in
            "ok - "*) echo "ok - [$kver] ${line#ok - }" ;;
            "not ok - "*) echo "not ok - [$kver] ${line#not ok - }" ;;
            "ok "*) echo "ok - [$kver] ${line#ok }" ;;
            "not ok "*) echo "not ok - [$kver] ${line#not ok }" ;;
            "") ;;
            *) echo "# [$kver] $line" ;;
        esac
    done
}

# Guest root shared as / over 9p: the host's own (default) or one built by prepare-root.
root_path() {  # NAME -> path
    case "$1" in
        ""|host) echo / ;;
        *) echo "$VMB/roots/$1/root" ;;
    esac
}

# Kernel lines only (they carry a printk timestamp), so a script's own output can't match.
find_crash() {  # RESDIR
    cat "$1/console.log" "$1/dmesg" 2>/dev/null | tr -d '\r' |
        grep -m1 -E '\[ *[0-9]+\.[0-9]+\] .*(Kernel panic|BUG:|Oops|general protection fault|WARNING: CPU|Call Trace|Attempted to kill init)' |
        sed 's/.*\(\[ *[0-9]*\.[0-9]*\] \)/\1/'
}

# boot_once KVER TAG RES APPEND: one QEMU run; sets rc (qemu/timeout exit), started (the guest
# script began: tests/vm/guest-run.sh wrote $RES/started), boothang (killed because the
# script had not started within MG_VM_BOOT_TIMEOUT).
boot_once() {
    local kver=$1 tagk=$2 res=$3 append=$4 dir="$VMB/$1" qpid tpid t0=$SECONDS pv ikey
    pv=$(cat "$dir/pkg"); ikey=$(initrd_key ${pv%% *} ${pv#* })
    local boot_to=${MG_VM_BOOT_TIMEOUT:-240}
    started=""; boothang=""
    # With a run timeout shorter than the boot watchdog, the run timeout alone applies.
    [ "$boot_to" -ge "$timeout" ] && boot_to=$((timeout + 3600))
    timeout -k 10 "$timeout" qemu-system-x86_64 -accel tcg -m "${MG_VM_MEM:-1024}" -smp "${MG_VM_SMP:-2}" \
        -nographic -no-reboot -nic none -vga none -monitor none -serial "file:$res/console.log" -display none \
        -kernel "$dir/vmlinuz" -initrd "$dir/initrd-$ikey.gz" \
        -virtfs "local,path=$guest_root,mount_tag=host,security_model=none,readonly=on,multidevs=remap" \
        -virtfs "local,path=$res,mount_tag=results,security_model=none,multidevs=remap" \
        -virtfs "local,path=$ROOT,mount_tag=repo,security_model=none,readonly=on,multidevs=remap" \
        -append "$append" </dev/null >"$res/qemu.log" 2>&1 &
    qpid=$!
    # Stream the guest's lines as they arrive; tail exits once timeout/qemu is gone.
    tail -n +1 -s 0.5 -f --pid="$qpid" "$res/output" | tag "$tagk" &
    tpid=$!
    # Early-boot watchdog: a kernel that hangs before the script starts is a boot failure
    # (retried once by run), not a test result; don't wait the whole MG_VM_TIMEOUT for it.
    while kill -0 "$qpid" 2>/dev/null; do
        [ -e "$res/started" ] && break
        if [ $((SECONDS - t0)) -ge "$boot_to" ]; then
            [ -e "$res/started" ] && break
            boothang=1
            pkill -TERM -P "$qpid" 2>/dev/null; kill -TERM "$qpid" 2>/dev/null
            break
        fi
        sleep 1
    done
    wait "$qpid"; rc=$?
    wait "$tpid"
    [ -e "$res/started" ] && started=1
    [ -n "$boothang" ] && [ -z "$started" ] && rc=124
    return 0
}

run() {
    local kver=$1 script=$2; shift 2
    check_kver "$kver"
    case "$script" in /*) ;; *) script="$ROOT/$script" ;; esac
    [ -f "$script" ] || die "no such script: $script"
    script=$(realpath "$script")
    # The guest mounts fresh tmpfs on /tmp, /run, /var/tmp: the repo comes in through a share
    # of its own, so a clone there works; other host files there stay invisible.
    case "$script/" in "$ROOT"/*) ;; /tmp/*|/run/*|/var/tmp/*|/dev/*) die "$script: the guest cannot see host /tmp, /run, /var/tmp, /dev (put it in the repo)" ;; esac
    case "$VMB/" in "$ROOT"/*) ;; /tmp/*|/run/*|/var/tmp/*|/dev/*|*[[:space:]]*) die "BUILD=$BUILD: the results share must be inside the repo or outside /tmp, /run, /var/tmp, with no spaces" ;; esac
    case "$ROOT" in *[[:space:]]*) die "$ROOT: the repo path must not contain spaces" ;; esac
    local rootname=${MG_VM_ROOT:-host} guest_root tagk=$kver
    guest_root=$(root_path "$rootname")
    if [ "$rootname" != host ]; then
        tagk="$kver/$rootname"
        [ -x "$guest_root/bin/bash" ] || { echo "not ok - [$tagk] guest: root '$rootname' not prepared (tests/vm/vm.sh prepare-root $rootname)"; return 1; }
    fi
    # A prepared kernel is used as it is (apt look-ups cost ~1.4 s); `prepare` re-resolves
    # the newest package. Prepare here only when nothing usable is there.
    if ! prepared_ok "$kver"; then
        VM_QUIET=${VM_QUIET-1} prepare "$kver" || { echo "not ok - [$tagk] guest: prepare failed"; return 1; }
    fi
    local name res timeout=${MG_VM_TIMEOUT:-900} rc exitc="" started boothang
    name=$(basename "$script" .sh)
    [ "$rootname" != host ] && name="$name-$rootname"
    mkdir -p "$VMB/results"
    # Keep the newest MG_VM_KEEP result dirs.
    ls -1dt "$VMB/results"/*-[0-9]*/ 2>/dev/null | tail -n +"$(( ${MG_VM_KEEP:-40} + 1 ))" | xargs -r rm -rf
    res="$VMB/results/$kver-$name-$$"
    rm -rf "$res"; mkdir -p "$res"
    : >"$res/output"
    {
        printf 'MG_ROOT=%q\nMG_KVER=%q\nMG_RESULTS=%q\nMG_SCRIPT=%q\nMG_VM_ROOT=%q\nMG_ARGS=(' "$ROOT" "$kver" "$res" "$script" "$rootname"
        [ $# -gt 0 ] && printf '%q ' "$@"
        printf ')\n'
    } >"$res/run.env"
    local append="console=ttyS0 loglevel=5 panic=-1 edd=off mg.res=$res mg.repo=$ROOT"
    [ "$rootname" != host ] && append="$append mg.ovl=1"
    [ -n "${MG_VM_APPEND:-}" ] && append="$append $MG_VM_APPEND"
    local t0=$SECONDS crash attempt=1 first_append=$append
    # Harness self-test only: make the first N boots die before the script starts.
    [ "${MG_VM_SELFTEST_BOOTCRASH:-0}" -ge 1 ] && first_append="$append rdinit=/mg-selftest-no-such-init"
    while :; do
        boot_once "$kver" "$tagk" "$res" "$first_append"
        crash=$(find_crash "$res")
        # A kernel that crashed or hung before the guest script started (seen under TCG:
        # an int3 Oops in sched_clock_cpu during early boot) ran none of our code: boot
        # once more. A second such boot, or any crash after the script started, fails.
        if [ "$attempt" -eq 1 ] && [ -z "$started" ] && { [ -n "$crash" ] || [ -n "$boothang" ]; }; then
            local what="crashed"
            [ -z "$crash" ] && what="hung (no script after ${MG_VM_BOOT_TIMEOUT:-240}s)"
            echo "# [$tagk] boot $what before the script started: retried${crash:+ (${crash})}"
            mkdir -p "$res/attempt1"
            mv "$res/console.log" "$res/qemu.log" "$res/attempt1/" 2>/dev/null
            rm -f "$res/dmesg" "$res/exit" "$res/init-error"
            : >"$res/output"
            attempt=2
            first_append=$append
            [ "${MG_VM_SELFTEST_BOOTCRASH:-0}" -ge 2 ] && first_append="$append rdinit=/mg-selftest-no-such-init"
            continue
        fi
        break
    done
    local secs=$((SECONDS - t0))
    echo "$secs" >"$res/seconds"
    [ -f "$res/exit" ] && exitc=$(tr -dc '0-9' <"$res/exit")
    local bad="" when=""
    [ -z "$started" ] && when=" before the script started"
    [ "$attempt" -eq 2 ] && when="$when (second boot)"
    if [ -n "$boothang" ] && [ -z "$started" ]; then
        bad="boot hung${when}: no script after ${MG_VM_BOOT_TIMEOUT:-240}s (qemu killed)"
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        bad="timeout after ${timeout}s (qemu killed)"
    elif [ -n "$crash" ]; then
        bad="kernel crash${when}: $crash"
    elif [ "$rc" -ne 0 ]; then
        bad="qemu exited $rc: $(tail -n 1 "$res/qemu.log" 2>/dev/null)"
    elif [ -z "$exitc" ]; then
        bad="no exit file (guest died before the script finished?)"
    elif [ "$exitc" -ne 0 ]; then
        bad="script exited $exitc"
    fi
    case "$bad" in "kernel crash"*) ;; *)
        [ -n "$crash" ] && echo "not ok - [$tagk] guest: kernel crash${when}: $crash" ;;
    esac
    ln -sfn "$(basename "$res")" "$VMB/results/$kver-$name-latest"
    if [ -n "$bad" ]; then
        echo "not ok - [$tagk] guest: $bad (log: ${res#$ROOT/}/console.log)"
        case "$bad" in
            "script exited"*) ;;
            *) tail -n 15 "$res/console.log" 2>/dev/null | tr -d '\r' |
                   sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' -e "s|^|# [$tagk] console: |" ;;
        esac
        return 1
    fi
    [ -n "$crash" ] && return 1
    echo "# [$tagk] guest: $name done in ${secs}s, exit 0 (results: ${res#$ROOT/})"
    return 0
}

[ $# -ge 2 ] || die "usage: $0 prepare KVER | prepare-root NAME | run KVER SCRIPT [ARG...]"
verb=$1; shift
case "$verb" in
    prepare) prepare "$1"; echo "$VMB/$1: $(cat "$VMB/$1/pkg") ($(cat "$VMB/$1/krel"))" ;;
    prepare-root) VMB="$VMB" bash "$VM_DIR/mkroot.sh" "$1" ;;
    run) run "$@" ;;
    *) die "unknown verb $verb" ;;
esac
