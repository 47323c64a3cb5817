# Shell helpers for suites that run guest scripts in the test VMs (source it from the repo root
# or anywhere: paths are resolved from this file).
#
#   . tests/vm/lib.sh
#   vm_suite 6.1 tests/guest/guard.sh [ARG...]   # boots, streams kernel-tagged lines, counts them
#   vm_suite 6.12 tests/guest/guard.sh
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

vm_suite() {
    local kver=$1 script=$2 line rc="" nfail=0 b
    shift 2
    while IFS= read -r line; do
        case "$line" in
            "__vm_rc "*) rc=${line#__vm_rc }; continue ;;
            "ok - "*) VM_PASSED=$((VM_PASSED + 1)) ;;
            "not ok - "*) VM_FAILED=$((VM_FAILED + 1)); nfail=$((nfail + 1)) ;;
        esac
        echo "$line"
    done < <("$VM_LIB_DIR/vm.sh" run "$kver" "$script" "$@" 2>&1; echo "__vm_rc $?")
    b=${BUILD:-build}; case "$b" in /*) ;; *) b="$VM_LIB_DIR/../../$b" ;; esac
    VM_LAST_RESULTS=$(readlink -f "$b/vm/results/$kver-$(basename "$script" .sh)-latest" 2>/dev/null)
    if [ "${rc:-1}" -ne 0 ] && [ "$nfail" -eq 0 ]; then
        echo "not ok - [$kver] guest: vm.sh run exited ${rc:-?} without a failure line"
        VM_FAILED=$((VM_FAILED + 1))
    fi
    return "${rc:-1}"
}

vm_summary() {
    echo "$VM_PASSED passed, $VM_FAILED failed"
    [ "$VM_FAILED" -eq 0 ]
}
