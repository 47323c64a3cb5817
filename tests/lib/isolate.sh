#!/bin/bash
# Private namespaces for the host tests, so they never touch a macvguard that runs on the
# machine (its pins under /sys/fs/bpf/macvguard, /run/macvguard, its journal) or a
# concurrent test run.
#
# Sourced by a suite (after cd to the repo root): `mg_isolate "$0" "$@"` re-runs the suite
# (as root) in private mount and network namespaces and exits with its status; inside,
# it returns at once. Run as a script it is the namespace side: it mounts
#   - a fresh bpffs instance on /sys/fs/bpf (its own pins, none of the host's),
#   - tmpfs on /run (pid file, event socket, /run/netns, /run/libvirt),
#   - tmpfs on /var/lib/macvguard (the default journal) and on the node-exporter
#     textfile directory if there is one (the agent's .prom file),
# brings lo up in the new netns (the host's links, and a host agent's rtnetlink journal
# records, are not the tests' business), leaves tracefs as the host has it (the agent
# mounts it itself when missing), and execs the suite. If any step fails the suite does
# not run: one "not ok" and a summary, never a run on the host's state.
# With MG_ISOLATE_MODE=sandbox (tests/run.sh) only the mount namespace is new and /run
# stays (VM suites need the host's network and resolver): tmpfs on /run/macvguard.

_mg_ns() { readlink /proc/self/ns/mnt; }

# The directories the namespace side mounts tmpfs on must exist on the host; create the
# missing ones and remove them again (only if still empty) when the run ends.
_mg_isolate_run() {   # unshare-args... -- script-args...
    local created="" d rc
    for d in /var/lib/macvguard /run/macvguard; do
        [ -e "$d" ] || { mkdir -p "$d" 2>/dev/null && created="$d $created"; }
    done
    unshare "$@"; rc=$?
    for d in $created; do rmdir "$d" 2>/dev/null; done
    return $rc
}

mg_isolate() {   # "$0" "$@" of the calling suite
    [ "${MG_ISOLATED:-}" = "$(_mg_ns)" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        # Without root nothing here can write the agent's state; say so once.
        echo "# not root: running without private namespaces (cannot touch the agent's state)"
        return 0
    fi
    local script=$1; shift
    # suites cd to the repo root first: $0 may be relative to where they were started
    [ -e "tests/suites/${script##*/}" ] && script=tests/suites/${script##*/}
    _mg_isolate_run -m -n --propagation private -- bash tests/lib/isolate.sh "$script" "$@"
    exit $?
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    # namespace side: $1 = the script to run, then its arguments
    set -u
    _bad() {
        echo "not ok - private namespaces for $1: $2"
        echo "0 passed, 1 failed"
        exit 1
    }
    mode=${MG_ISOLATE_MODE:-suite}
    [ "$(_mg_ns)" != "$(readlink /proc/1/ns/mnt)" ] || _bad "$1" "still in the host's mount namespace"
    mount -t bpf -o mode=700 bpf /sys/fs/bpf || _bad "$1" "cannot mount bpffs on /sys/fs/bpf"
    if [ "$mode" = sandbox ]; then
        mount -t tmpfs -o mode=755 tmpfs /run/macvguard || _bad "$1" "cannot mount tmpfs on /run/macvguard"
    else
        mount -t tmpfs -o mode=755 tmpfs /run || _bad "$1" "cannot mount tmpfs on /run"
        mkdir -m 1777 /run/lock
        ip link set lo up || _bad "$1" "no lo in the new netns"
    fi
    mount -t tmpfs -o mode=755 tmpfs /var/lib/macvguard || _bad "$1" "cannot mount tmpfs on /var/lib/macvguard"
    if [ -d /var/lib/prometheus/node-exporter ]; then
        mount -t tmpfs tmpfs /var/lib/prometheus/node-exporter || _bad "$1" "cannot mount tmpfs on the node-exporter directory"
    fi
    # Proof for the reader of the log, and the marker mg_isolate checks.
    # The sandbox is not a suite's namespace: suites started in it still isolate themselves.
    if [ "$mode" = sandbox ]; then MG_SANDBOX=$(_mg_ns); export MG_SANDBOX; unset MG_ISOLATED
    else MG_ISOLATED=$(_mg_ns); export MG_ISOLATED; fi
    echo "# private namespaces ($mode): mnt $(_mg_ns) net $(readlink /proc/self/ns/net); fresh bpffs on /sys/fs/bpf, tmpfs on $([ "$mode" = sandbox ] && echo /run/macvguard || echo /run) and /var/lib/macvguard"
    script=$1; shift
    exec bash "$script" "$@"
fi
