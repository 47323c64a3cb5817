#!/bin/bash
# Flight recorder in the Debian 6.1 guest (BPF LSM): tests/guest/postmortem.sh scripts a
# failed incoming migration and checks journal + postmortem (text, JSON, HTML) inside.
# Host side: the HTML page the guest wrote is rendered by headless chromium, and the guest's
# journal (host "dst") is merged with a "src" journal written here into one timeline.
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
BUILD=${BUILD:-build}
MG=$PWD/$BUILD/macvguard
hok()   { echo "ok - [host] $1"; VM_PASSED=$((VM_PASSED + 1)); }
hfail() { echo "not ok - [host] $1: $2"; VM_FAILED=$((VM_FAILED + 1)); }
make -s test-tools || { echo "not ok - build test tools"; echo "0 passed, 1 failed"; exit 1; }
tests/vm/vm.sh prepare 6.1 >/dev/null || { echo "not ok - [6.1] prepare kernel"; echo "0 passed, 1 failed"; exit 1; }
vm_suite 6.1 tests/guest/postmortem.sh
R=$VM_LAST_RESULTS
T=$(mktemp -d /tmp/mg-pm-suite.XXXXXX)
trap 'rm -rf "$T"' EXIT
if [ -z "$R" ] || [ ! -s "$R/postmortem.html" ]; then
    hfail "guest results" "no postmortem.html in ${R:-?}"
    vm_summary; exit $?
fi
HOLDER_A=$(cat "$R/holder_a")
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    hfail "postmortem.html in headless chromium" "chromium not installed (scripts/packages-test.txt)"
else
    timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$(mktemp -d "$T/chr.XXXXXX")" \
        --dump-dom "file://$R/postmortem.html" >"$T/dom.html" 2>"$T/chrome.err"
    if grep -q "id=\"summary\">Teardown of incoming domain B on host dst tried to delete macvtap0, owned by running domain A (pid $HOLDER_A); refused" "$T/dom.html" \
       && grep -q '<g class="lane" data-host="dst">' "$T/dom.html" \
       && grep -q '<circle class="deny"' "$T/dom.html" && grep -q "nlreq" "$T/dom.html"; then
        hok "guest's postmortem.html rendered by headless chromium names victim, owner pid, requester, B, verdict"
    else hfail "guest's postmortem.html in chromium" "$(head -c 300 "$T/chrome.err")"; fi
fi
# the source host's side of the same migration, then both journals in one timeline
XML="<domain><name>B</name><uuid>bbbbbbbb-2222-3333-4444-555555555555</uuid><devices><interface type='direct'><target dev='macvtap0'/></interface></devices></domain>"
echo "$XML" | MACVGUARD_HOST=src MACVGUARD_JOURNAL_DIR=$T/src "$MG" hook qemu B migrate begin - >/dev/null
echo "$XML" | MACVGUARD_HOST=src MACVGUARD_JOURNAL_DIR=$T/src "$MG" hook qemu B started begin - >/dev/null
"$MG" -j postmortem --domain B "$T/src" "$R/journal" >"$T/two.json" 2>"$T/two.err"
if python3 - "$T/two.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d["hosts"]) == {"src", "dst"}, d["hosts"]
t = [r["time"] for r in d["timeline"]]
assert t == sorted(t)
assert [i for i in d["incidents"] if i["verdict"] == "deny" and i["teardown_domain"] == "B" and i["host"] == "dst"]
PY
then hok "guest journal (dst) + host journal (src): one timeline, deny on dst attributed to B"
else hfail "two-host postmortem" "$(head -c 300 "$T/two.json") $(cat "$T/two.err")"; fi
vm_summary
