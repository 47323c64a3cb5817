# Shell helpers for suites that run guest scripts in the test VMs (source it from the repo root
# or anywhere: paths are resolved from this file).
#
#   . tests/vm/lib.sh
#   vm_suite 6.1 tests/guest/guard.sh [ARG...]   # boots, streams kernel-tagged lines, counts them
#   vm_suite 6.12 tests/guest/guard.sh
#   vm_parallel "6.1 tests/guest/guard.sh" "6.18 tests/guest/guard.sh" "6.1/lv11 tests/guest/libvirt.sh"
#                                                # two guests at a time (-smp 1 each), same counting
#   vm_summary                                   # prints "N passed, N failed"; non-zero on failures
#
# vm_suite counts each "ok - [KVER] ..." / "not ok - [KVER] ..." line into VM_PASSED/VM_FAILED
# (harness failures come as "not ok - [KVER] guest: ..." lines and count as failures; a
# vm.sh that fails without printing any not-ok line counts as one failure). It returns the
# exit code of vm.sh run. VM_LAST_RESULTS is the results dir of the last run.
# Environment: see tests/vm/vm.sh (MG_VM_TIMEOUT, BUILD, MG_KPKG_6_1, MG_KPKG_6_12).
VM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_PASSED=${VM_PASSED:-0}
VM_FAILED=${VM_FAILED:-0}
VM_LAST_RESULTS=""

# Reads vm.sh run output (ending in "__vm_rc N") on stdin, echoes and counts it.
_vm_count() {  # TAG SCRIPT
    local tagk=$1 script=$2 line rc="" nfail=0 b kver=${1%%/*}
    while IFS= read -r line; do
        case "$line" in
            "__vm_rc "*) rc=${line#__vm_rc }; continue ;;
            "ok - "*) VM_PASSED=$((VM_PASSED + 1)) ;;
            "not ok - "*) VM_FAILED=$((VM_FAILED + 1)); nfail=$((nfail + 1)) ;;
        esac
        echo "$line"
    done
    b=${BUILD:-build}; case "$b" in /*) ;; *) b="$VM_LIB_DIR/../../$b" ;; esac
    local name
    name=$(basename "$script" .sh)
    [ "$tagk" != "$kver" ] && name="$name-${tagk#*/}"
    VM_LAST_RESULTS=$(readlink -f "$b/vm/results/$kver-$name-latest" 2>/dev/null)
    if [ "${rc:-1}" -ne 0 ] && [ "$nfail" -eq 0 ]; then
        echo "not ok - [$tagk] guest: vm.sh run exited ${rc:-?} without a failure line"
        VM_FAILED=$((VM_FAILED + 1))
    fi
    return "${rc:-1}"
}

vm_suite() {
    local kver=$1 script=$2 tagk=$1
    shift 2
    [ -n "${MG_VM_ROOT:-}" ] && [ "$MG_VM_ROOT" != host ] && tagk="$kver/$MG_VM_ROOT"
    _vm_count "$tagk" "$script" < <("$VM_LIB_DIR/vm.sh" run "$kver" "$script" "$@" 2>&1; echo "__vm_rc $?")
}

# vm_parallel "KVER[/ROOT][@ARG] SCRIPT [ARG...]" ...: runs the guests MG_VM_JOBS at a time
# (@ARG: one more kernel command-line argument for that boot, after MG_VM_APPEND)
# (default: 2 on a machine with 2 or more CPUs, each guest then -smp 1 unless MG_VM_SMP
# is set), prints each guest's lines in the order given once it has ended, counts them.
# VM_RESULTS[i] is the results dir of job i; VM_RCS[i] its exit code.
VM_RESULTS=(); VM_RCS=()
vm_parallel() {
    local jobs=${MG_VM_JOBS:-} ncpu i spec kver root script tmp pids=() n=$#
    ncpu=$(nproc 2>/dev/null || echo 1)
    [ -n "$jobs" ] || { jobs=1; [ "$ncpu" -ge 2 ] && jobs=2; }
    local smp=${MG_VM_SMP:-}
    [ -z "$smp" ] && [ "$jobs" -gt 1 ] && smp=1
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/mg-vmpar.XXXXXX")
    local specs=("$@") running=0
    for i in "${!specs[@]}"; do
        read -r kver script _ <<<"${specs[$i]}"
        local args=()
        read -r -a args <<<"${specs[$i]}"
        args=("${args[@]:2}")
        local extra=""
        [[ "$kver" == *@* ]] && { extra=${kver#*@}; kver=${kver%%@*}; }
        root=host; [[ "$kver" == */* ]] && { root=${kver#*/}; kver=${kver%%/*}; }
        while [ "$running" -ge "$jobs" ]; do wait -n 2>/dev/null; running=$((running - 1)); done
        ( export MG_VM_ROOT=$root; [ -n "$smp" ] && export MG_VM_SMP=$smp
          [ -n "$extra" ] && export MG_VM_APPEND="${MG_VM_APPEND:+$MG_VM_APPEND }$extra"
          "$VM_LIB_DIR/vm.sh" run "$kver" "$script" "${args[@]}" >"$tmp/$i.out" 2>&1
          echo "__vm_rc $?" >>"$tmp/$i.out"; touch "$tmp/$i.done" ) &
        pids[$i]=$!
        running=$((running + 1))
    done
    for i in "${!specs[@]}"; do
        wait "${pids[$i]}" 2>/dev/null
        read -r kver script _ <<<"${specs[$i]}"
        _vm_count "$kver" "$script" <"$tmp/$i.out"
        VM_RCS[$i]=$?
        VM_RESULTS[$i]=$VM_LAST_RESULTS
    done
    rm -rf "$tmp"
    [ "$n" -gt 0 ]
}

vm_summary() {
    echo "$VM_PASSED passed, $VM_FAILED failed"
    [ "$VM_FAILED" -eq 0 ]
}
