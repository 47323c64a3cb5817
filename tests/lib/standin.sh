# A stand-in "production" agent for tests/run.sh (sourced; needs MG, the macvguard binary,
# and a scratch directory SD). It runs where an operator's agent would, as the suites see
# it: pins under /sys/fs/bpf/macvguard, /run/macvguard/agent.pid, the journal under
# /var/lib/macvguard/journal, in the sandbox namespace tests/run.sh starts in (a fresh
# bpffs and tmpfs there, so it never meets a real agent on the machine, or its pins).
# Its state: mode audit (not the default), a tag on a stand-in link (a veth: this
# kernel has no dummy driver), journal records. After
# the suites standin_check compares that state with the snapshot taken at the start; a
# suite that ran without its own private namespaces would stop, re-mode, unpin or journal
# into it. Its own network namespace keeps unrelated link churn out of its journal;
# MG_NO_FALLBACK=1 because the fallback's tracepoints are kernel-wide and would journal
# the suites' netlink deletes (other netns) as "unseen" requests.
# Each function prints ok/not ok lines and one "N passed, N failed" line.

SI_LINK=mgprod0
SI_DOMAIN=prod-standin

_si_pass=0; _si_fail=0
_si_ok()    { echo "ok - stand-in: $1"; _si_pass=$((_si_pass + 1)); }
_si_notok() { echo "not ok - stand-in: $1: $2"; _si_fail=$((_si_fail + 1)); }
_si_summary() { echo "$_si_pass passed, $_si_fail failed"; _si_pass=0; _si_fail=0; }

# Everything a test could clobber, as text; volatile fields (uptime, times) dropped.
standin_snapshot() {   # FILE
    local p m
    {
        echo "== pid file: $(cat /run/macvguard/agent.pid 2>&1)"
        kill -0 "$SI_PID" 2>/dev/null && echo "== stand-in pid $SI_PID alive" || echo "== stand-in pid $SI_PID gone"
        echo "== /run/macvguard"; ls -A /run/macvguard 2>&1
        echo "== bpffs"; (cd /sys/fs/bpf && find . | sort) 2>&1
        for p in /sys/fs/bpf/macvguard/*; do
            [ -e "$p" ] || continue
            m=$(bpftool -j map show pinned "$p" 2>/dev/null) || { echo "$p: $(bpftool -j link show pinned "$p" 2>&1 | head -c 200)"; continue; }
            echo "$p: $(echo "$m" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d["type"], d["name"])')"
            case "$(echo "$m" | python3 -c 'import json,sys; print(json.load(sys.stdin)["type"])')" in
                ringbuf) ;;                        # a ring buffer has no contents to dump
                *) bpftool -j map dump pinned "$p" 2>&1 ;;
            esac
        done
        echo "== mode"; "$MG" -j mode 2>&1
        echo "== links"; "$MG" -j links 2>&1
        echo "== status"
        "$MG" -j status 2>&1 | python3 -c 'import json,sys
d=json.load(sys.stdin)
for k in list(d):
    if any(w in k for w in ("uptime", "time", "since")): del d[k]
print(json.dumps(d, sort_keys=True, indent=1))' 2>&1
        echo "== journal"
        (cd /var/lib/macvguard/journal 2>&1 && for f in *; do echo "$f $(stat -c %s "$f") $(sha256sum <"$f" | cut -c1-16)"; done)
        echo "records: $("$MG" -j journal 2>/dev/null | wc -l)"
        echo "== ifalias"; nsenter -t "$SI_PID" -n ip -o link show "$SI_LINK" 2>&1 | grep -o 'alias .*'
    } >"$1"
}

standin_start() {
    local i
    SI_PID=""
    if [ "$(id -u)" -ne 0 ]; then _si_notok "start" "needs root"; _si_summary; return; fi
    if [ -z "${MG_SANDBOX:-}" ] || [ "$MG_SANDBOX" != "$(readlink /proc/self/ns/mnt)" ]; then
        # never on the host's own state: a real agent may run there
        _si_notok "start" "not in tests/run.sh's sandbox namespace"; _si_summary; return
    fi
    # pdeathsig: if tests/run.sh dies, the stand-in goes too (its namespace with it)
    : >"$SD/standin.log"
    MG_NO_FALLBACK=1 unshare -n -- setpriv --pdeathsig TERM -- "$MG" run >"$SD/standin.log" 2>&1 &
    SI_PID=$!
    for i in $(seq 1 100); do grep -q "agent running" "$SD/standin.log" && break; kill -0 $SI_PID 2>/dev/null || break; sleep 0.1; done
    if grep -q "agent running (pid $SI_PID)" "$SD/standin.log"; then _si_ok "agent runs (pid $SI_PID, own netns, sandbox mount namespace)"
    else _si_notok "agent runs" "$(tail -n 3 "$SD/standin.log" | tr '\n' ' ')"; _si_summary; return; fi
    nsenter -t $SI_PID -n ip link set lo up
    if nsenter -t $SI_PID -n ip link add $SI_LINK type veth peer name ${SI_LINK}p && nsenter -t $SI_PID -n ip link set $SI_LINK up &&
       nsenter -t $SI_PID -n "$MG" tag $SI_LINK --domain $SI_DOMAIN --pid $SI_PID >/dev/null; then
        _si_ok "tag $SI_LINK -> $SI_DOMAIN"
    else _si_notok "tag $SI_LINK" "failed"; fi
    "$MG" mode audit >/dev/null && _si_ok "mode audit" || _si_notok "mode audit" "failed"
    echo "<domain><name>$SI_DOMAIN</name></domain>" | "$MG" hook qemu $SI_DOMAIN migrate begin - >/dev/null
    sleep 0.5     # let the agent journal the link it saw appear
    standin_snapshot "$SD/before"
    if grep -q '"domain":"'$SI_DOMAIN'"' "$SD/before" && grep -q '"mode":"audit"' "$SD/before" &&
       grep -q "^records: [1-9]" "$SD/before" && grep -q "alias macvguard: domain=$SI_DOMAIN" "$SD/before"; then
        _si_ok "state recorded: pins, mode, tag, ifalias, journal ($(sed -n 's/^records: //p' "$SD/before") records)"
    else _si_notok "state recorded" "$(head -c 600 "$SD/before" | tr '\n' ' ')"; fi
    _si_summary
}

# Untouched: the same snapshot, item by item, then stop and unpin.
standin_check() {
    local sec
    if [ -z "$SI_PID" ] || [ ! -s "$SD/before" ]; then
        _si_notok "untouched by the suites" "the stand-in never started"; _si_summary; return
    fi
    standin_snapshot "$SD/after"
    for sec in "pid file" "stand-in pid" "/run/macvguard" "bpffs" "mode" "links" "status" "journal" "ifalias"; do
        if diff <(awk -v s="== $sec" 'index($0, s) == 1 {on = 1; print; next} /^== / {on = 0} on' "$SD/before") \
                <(awk -v s="== $sec" 'index($0, s) == 1 {on = 1; print; next} /^== / {on = 0} on' "$SD/after") >"$SD/diff"; then
            _si_ok "$sec unchanged after the suites"
        else _si_notok "$sec unchanged after the suites" "$(head -c 500 "$SD/diff" | tr '\n' ' ')"; fi
    done
    standin_stop
    _si_summary
}

standin_stop() {
    [ -n "$SI_PID" ] || return 0
    "$MG" stop --unpin >/dev/null 2>&1
    for _ in $(seq 1 50); do kill -0 "$SI_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SI_PID" 2>/dev/null; then
        kill "$SI_PID" 2>/dev/null; wait "$SI_PID" 2>/dev/null
        "$MG" stop --unpin >/dev/null 2>&1
    fi
    wait "$SI_PID" 2>/dev/null
    SI_PID=""
}
