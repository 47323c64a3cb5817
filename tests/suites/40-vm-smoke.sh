#!/bin/bash
# VM harness smoke suite: prepares Debian 12's 6.1 and 6.12 and Debian 13's 6.18 kernels
# and the libvirt 11.3 guest root (tests/vm/mkroot.sh lv11), runs tests/guest/smoke.sh in
# each kernel (two guests at a time), keeps their BTF (build/vm/btf-KVER,
# build/vm/btf-KVER-<module>), and proves the harness can fail: a failing script, a hang
# (short timeout), a guest panic after the script started, and a boot that crashes twice
# before the script started must each come back as a failure; a boot that crashes once
# before the script started is retried and passes, and says so.
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
VMB=${BUILD:-build}/vm
t_all=$SECONDS

prep() {  # WHAT CMD...
    local what=$1 out t0=$SECONDS; shift
    if out=$("$@" 2>&1); then
        echo "ok - [$what] prepare: ${out##*$'\n'} ($((SECONDS - t0))s)"; VM_PASSED=$((VM_PASSED + 1)); return 0
    fi
    echo "$out" | tail -n 20 | sed 's/^/# /'
    echo "not ok - [$what] prepare failed"; VM_FAILED=$((VM_FAILED + 1)); return 1
}
# The libvirt 11.3 root (~3 min from a fresh clone, mostly downloads and dpkg) is built in
# the background while the kernels are fetched and the smoke guests run.
RT=$(mktemp -d /tmp/mg-smoke-root.XXXXXX)
( prep lv11 tests/vm/vm.sh prepare-root lv11 >"$RT/out" 2>&1; echo $? >"$RT/rc" ) &
root_pid=$!
kernels=()
for k in 6.1 6.12 6.18; do
    prep "$k" tests/vm/vm.sh prepare "$k" && kernels+=("$k")
done

t0=$SECONDS
jobs=()
for k in "${kernels[@]}"; do jobs+=("$k tests/guest/smoke.sh"); done
MG_VM_TIMEOUT=${MG_VM_TIMEOUT:-300} vm_parallel "${jobs[@]}"
for i in "${!kernels[@]}"; do
    k=${kernels[$i]} r=${VM_RESULTS[$i]:-}
    [ "${VM_RCS[$i]:-1}" -eq 0 ] && [ -n "$r" ] || continue
    install -m 644 "$r/vmlinux.btf" "$VMB/btf-$k" 2>/dev/null
    for m in macvlan macvtap tap tun; do
        install -m 644 "$r/btf-$m" "$VMB/btf-$k-$m" 2>/dev/null
    done
done
echo "# smoke boots+runs (${#kernels[@]} kernels): $((SECONDS - t0))s"
wait "$root_pid"
cat "$RT/out"
if grep -q '^ok - ' "$RT/out"; then VM_PASSED=$((VM_PASSED + 1)); else VM_FAILED=$((VM_FAILED + 1)); fi
rm -rf "$RT"

# Negative checks: each must be reported as a failure (a "not ok - [6.1] guest: ..." line
# and a non-zero exit), or the harness could hide broken guests. Two at a time.
T=$(mktemp -d /tmp/mg-smoke.XXXXXX)
trap 'rm -rf "$T"' EXIT
# expect NAME WANT-RC WANT-LINE NOT-WANT SCRIPT [env...]: run in the background into $T/NAME
expect() {
    local name=$1 wrc=$2 want=$3 nwant=$4 script=$5 out rc t0=$SECONDS; shift 5
    out=$(env MG_VM_SMP=1 "$@" tests/vm/vm.sh run 6.1 "$script" 2>&1); rc=$?
    {
        echo "$out" | sed 's/^/#   /' | head -n 8
        local rc_ok=no
        if [ "$wrc" = fail ] && [ "$rc" -ne 0 ]; then rc_ok=yes; fi
        if [ "$wrc" = pass ] && [ "$rc" -eq 0 ]; then rc_ok=yes; fi
        if [ "$rc_ok" = yes ] && grep -q -- "$want" <<<"$out" &&
           { [ -z "$nwant" ] || ! grep -q -- "$nwant" <<<"$out"; }; then
            echo "ok - [6.1] harness: $name ($((SECONDS - t0))s)"
        else
            echo "not ok - [6.1] harness: $name (exit $rc)"
        fi
    } >"$T/$name"
}
t0=$SECONDS
n=0
checks=(
  "reports a failing script as a failure|fail|^not ok - \[6.1\] guest: .*script exited 1||tests/vm/selftest/fail.sh"
  "reports a hanging guest as a failure|fail|^not ok - \[6.1\] guest: .*timeout after||tests/vm/selftest/hang.sh|MG_VM_TIMEOUT=60"
  "reports a kernel panic after the script started as a failure, not retried|fail|^not ok - \[6.1\] guest: kernel crash: .*Kernel panic|retried|tests/vm/selftest/panic.sh"
  "retries a boot that crashed before the script started once, and passes|pass|^# \[6.1\] boot crashed before the script started: retried||tests/vm/selftest/true.sh|MG_VM_SELFTEST_BOOTCRASH=1"
  "reports a second crash before the script started as a failure|fail|^not ok - \[6.1\] guest: kernel crash before the script started (second boot)||tests/vm/selftest/true.sh|MG_VM_SELFTEST_BOOTCRASH=2"
)
names=()
for c in "${checks[@]}"; do
    IFS='|' read -r name wrc want nwant script envs <<<"$c"
    names+=("$name")
    # shellcheck disable=SC2086
    expect "$name" "$wrc" "$want" "$nwant" "$script" $envs &
    n=$((n + 1))
    [ $((n % 2)) -eq 0 ] && wait
done
wait
for name in "${names[@]}"; do
    cat "$T/$name"
    if grep -q '^ok - ' "$T/$name"; then VM_PASSED=$((VM_PASSED + 1)); else VM_FAILED=$((VM_FAILED + 1)); fi
done
echo "# harness negative checks: $((SECONDS - t0))s"
echo "# vm smoke suite: $((SECONDS - t_all))s"
vm_summary
