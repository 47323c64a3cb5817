#!/bin/bash
# The CLI contract (issue 14), on the host, no BPF needed: --version/version, `COMMAND --help`
# for every command and subcommand (rc 0), usage errors as one line naming the command's
# --help (and as {"error": ...} with -j), the JSON of the offline commands validated against
# docs/schema/ (the agent-side ones are validated in 30-host and 35-host-monitor), journal
# records written before the contract read as today's, text width, the man pages (every
# command and option of --help in macvguard(8), no groff warnings), bash completion,
# `make install`, postmortem wording and null requester, the HTML page (legend, colours,
# banner, labels that never overlap: headless chromium computes their boxes, and a
# screenshot), and the fleet postmortem read through sd-journal from a directory that
# systemd-journal-remote filled with two hosts' records.
# Prints "ok - NAME" / "not ok - NAME: reason" and ends with one "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
. tests/lib/isolate.sh
mg_isolate "$0" "$@"    # private mount + network namespaces: never the host's agent state
BUILD=${BUILD:-build}
MG=$PWD/$BUILD/macvguard
TH=$PWD/$BUILD/tests/test_harden
T=$(mktemp -d /tmp/mg-cli-suite.XXXXXX)
RECV=()
trap 'for p in "${RECV[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
. tests/lib/suite.sh
unset MACVGUARD_HOST MACVGUARD_NO_JOURNAL MACVGUARD_SYSTEMD_JOURNAL MACVGUARD_JOURNAL_DIR
export MACVGUARD_PROM_FILE=-
NOW=$(date +%s%N)
seg() { "$TH" segment "$1"; }    # stdin: "TYPE VERDICT TS PAYLOAD" lines
schema_ok() { python3 tests/lib/json_schema.py "$@" 2>"$T/schema.err"; }
maxcol() { awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$1"; }

if make -s BUILD="$BUILD" all harden-bins >"$T/build.log" 2>&1; then ok "build macvguard and test_harden"
else notok "build" "$(tail -n 5 "$T/build.log" | tr '\n' ' ')"; finish; fi

# ---- 2. version ----------------------------------------------------------------------------
want=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
v1=$("$MG" --version); rc1=$?; v2=$("$MG" version); rc2=$?; "$MG" -j version >"$T/v.json"; rc3=$?
if [ $rc1 = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ] && [ "$v1" = "$v2" ] && echo "$v1" | head -n 1 | grep -q "^macvguard $want" &&
   echo "$v1" | grep -q "^abi $(sed -n 's/^#define MG_ABI_VERSION *\([0-9]*\).*/\1/p' bpf/mg_abi.h), libbpf [0-9.]*, json-c" &&
   schema_ok version "$T/v.json" && [ "$(jq -r .version "$T/v.json")" = "$want" ]; then
    ok "--version = version: $want (debian/changelog), git commit, ABI, libbpf, json-c; -j validates"
else notok "version" "$v1 / $(cat "$T/v.json" "$T/schema.err")"; fi

# ---- 2. COMMAND --help: that command's help, rc 0, for every command and subcommand ---------
CMDS="run stop status mode tag untag release links monitor probes journal postmortem version xml hook"
SUBS="xml|sanitize xml|check hook|qemu hook|install hook|uninstall"
bad=""
for c in $CMDS $SUBS; do
    words=${c//|/ }
    # shellcheck disable=SC2086
    "$MG" $words --help >"$T/h.out" 2>"$T/h.err"; rc=$?
    # shellcheck disable=SC2086
    "$MG" $words -h >"$T/h2.out" 2>/dev/null
    if [ $rc != 0 ] || [ -s "$T/h.err" ] || ! head -n 1 "$T/h.out" | grep -q "^usage: macvguard .*${words##* }" ||
       ! cmp -s "$T/h.out" "$T/h2.out" || [ "$(maxcol "$T/h.out")" -gt 100 ]; then
        bad="$bad [$words: rc $rc, $(head -n 1 "$T/h.out")]"
    fi
    cp "$T/h.out" "$T/help.${words// /-}"
done
"$MG" --help >"$T/help.main"; rcm=$?
"$MG" help tag | cmp -s - "$T/help.tag" || bad="$bad [help tag differs from tag --help]"
"$MG" tag eth0 --domain x --help | cmp -s - "$T/help.tag" || bad="$bad [--help after other args]"
[ -z "$bad" ] && [ $rcm = 0 ] && ok "COMMAND --help (and -h, help COMMAND) prints that command's help, rc 0, nothing on stderr: $(echo $CMDS | wc -w) commands, 5 subcommands" \
    || notok "COMMAND --help" "$bad"
echo "x" | "$MG" hook qemu --help >"$T/hq.out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "libvirtd runs it" "$T/hq.out" && ok "hook qemu --help prints its help (before: nothing, rc 0)" \
    || notok "hook qemu --help" "rc $rc $(head -c 200 "$T/hq.out")"

# ---- 1/2. usage errors: one line naming --help (text), {"error","help"} (JSON), rc 2 -----
bad=""
for c in $CMDS $SUBS; do
    words=${c//|/ }
    [ "$words" = "hook qemu" ] && continue      # libvirt's arguments, never an option
    # shellcheck disable=SC2086
    "$MG" $words --no-such-option >"$T/e.out" 2>"$T/e.err"; rc=$?
    if [ $rc != 2 ] || [ -s "$T/e.out" ] || [ "$(wc -l <"$T/e.err")" != 1 ] ||
       ! grep -q "^macvguard: error: $words: unknown option '--no-such-option' (see \`macvguard $words --help\`)$" "$T/e.err"; then
        bad="$bad [$words: rc $rc: $(cat "$T/e.err" | head -c 300)]"
    fi
    # shellcheck disable=SC2086
    "$MG" -j $words --no-such-option >"$T/e.out" 2>"$T/e.err"; rc=$?
    if [ $rc != 2 ] || [ -s "$T/e.err" ] || ! schema_ok error "$T/e.out" ||
       [ "$(jq -r .help "$T/e.out")" != "macvguard $words --help" ]; then
        bad="$bad [-j $words: rc $rc: $(cat "$T/e.out" "$T/e.err" | head -c 300)]"
    fi
done
"$MG" frobnicate >"$T/e.out" 2>"$T/e.err"; rc=$?
[ $rc = 2 ] && [ "$(cat "$T/e.err")" = "macvguard: error: unknown command 'frobnicate' (see \`macvguard --help\`)" ] || bad="$bad [unknown command: $(cat "$T/e.err")]"
"$MG" journal --since >/dev/null 2>"$T/e.err"; rc=$?
[ $rc = 2 ] && grep -q "journal: option '--since' needs a value" "$T/e.err" || bad="$bad [missing value: $(cat "$T/e.err")]"
[ -z "$bad" ] && ok "usage errors: one line 'COMMAND: MESSAGE (see \`macvguard COMMAND --help\`)', rc 2; with -j {\"error\",\"help\"} on stdout, stderr empty" \
    || notok "usage errors" "$bad"
# a runtime error in JSON mode (no agent, nothing pinned here)
"$MG" -j links >"$T/e.out" 2>"$T/e.err"; rc=$?
[ $rc = 1 ] && [ ! -s "$T/e.err" ] && schema_ok error "$T/e.out" && ok "-j links without pinned state: {\"error\": ...} on stdout, exit 1" \
    || notok "-j runtime error" "rc $rc $(cat "$T/e.out" "$T/e.err")"
"$MG" -j status >"$T/s.json"; [ $? = 3 ] && schema_ok status "$T/s.json" && [ "$(jq -c '[.agent_pid, .mode, .stats, .journal]' "$T/s.json")" = "[null,null,null,null]" ] \
    && ok "status -j with nothing running: schema, unknown is null" || notok "status -j" "$(cat "$T/s.json" "$T/schema.err")"
"$MG" -p version >"$T/p.out" && [ "$(wc -l <"$T/p.out")" -gt 3 ] && jq -e . "$T/p.out" >/dev/null && ok "-p: indented JSON" || notok "-p" "$(cat "$T/p.out")"

# ---- 1. the offline commands' JSON against their schemas --------------------------------
J=$T/j; XML="<domain type='kvm'><name>B</name><uuid>bbbbbbbb-2222-3333-4444-555555555555</uuid><devices><interface type='direct'><source dev='eth0'/><target dev='macvtap0'/></interface></devices></domain>"
for op in prepare migrate started stopped release; do
    echo "$XML" | MACVGUARD_JOURNAL_DIR=$J "$MG" hook qemu B $op begin - >/dev/null
done
bad=""
"$MG" -j journal "$J" >"$T/r.jsonl" && schema_ok record --lines "$T/r.jsonl" || bad="$bad [journal: $(cat "$T/schema.err")]"
"$MG" -j postmortem --domain B "$J" >"$T/pm.json" && schema_ok postmortem "$T/pm.json" || bad="$bad [postmortem: $(cat "$T/schema.err")]"
"$MG" -j xml check xml/samples >"$T/xc.json"; [ $? = 1 ] && schema_ok xml-check "$T/xc.json" || bad="$bad [xml check: $(cat "$T/schema.err")]"
"$MG" -j xml sanitize xml/samples/01-direct.xml >"$T/xs.json" && schema_ok xml-sanitize "$T/xs.json" &&
    [ "$(jq -r .xml "$T/xs.json")" = "$("$MG" xml sanitize xml/samples/01-direct.xml)" ] || bad="$bad [xml sanitize: $(cat "$T/schema.err")]"
mkdir -p "$T/hooks"
"$MG" -j hook install --hooks-dir "$T/hooks" >"$T/hi.json" && schema_ok hook-install "$T/hi.json" || bad="$bad [hook install: $(cat "$T/hi.json" "$T/schema.err")]"
"$MG" -j hook uninstall --hooks-dir "$T/hooks" >"$T/hu.json" && schema_ok hook-install "$T/hu.json" || bad="$bad [hook uninstall: $(cat "$T/schema.err")]"
echo '[{"ifname":"m","ifindex":1,"in_use":"yes"}]' | schema_ok links && bad="$bad [the links schema accepts \"in_use\":\"yes\"]"
# hook qemu's stdout is libvirt's: the filtered XML even under -j
MACVGUARD_JOURNAL_DIR=$J "$MG" -j hook qemu web-direct migrate begin - <xml/samples/01-direct.xml 2>/dev/null | head -n 1 | grep -q "^<domain" \
    || bad="$bad [-j hook qemu migrate did not print XML]"
[ -z "$bad" ] && ok "schema: journal, postmortem, xml check, xml sanitize, hook install/uninstall validate (and the schemas refuse the old string-typed values); hook qemu stays XML under -j" \
    || notok "schema: offline commands" "$bad"

# ---- 1. records written before the contract (old key names, "" for unknown) read as today's
mkdir -p "$T/old"
{
    printf '3 0 %s {"type":"tag","time":"2026-01-01T00:00:00.000000Z","host":"old","boot_id":"b","writer_pid":1,"boot_ns":1,"ifname":"macvtap3","ifindex":9,"netns":"","domain":"olddom","uuid":"","owner_pid":77,"source":"manual","by_ppid":1}\n' "$NOW"
    printf '1 2 %s {"type":"verdict","time":"2026-01-01T00:00:01.000000Z","host":"old","boot_id":"b","writer_pid":1,"boot_ns":2,"record":"request","path":"netlink","result":"refused","kind":"macvtap","lower_ifindex":0,"lower":null,"requester_known":true,"verdict":"deny","action":"delete","how":"name","reason":"in-use","mode":"enforce","ifname":"macvtap3","ifindex":9,"target_ifindex":9,"link_netns_cookie":1,"requested_name":"","owner_domain":"olddom","owner_uuid":null,"owner_pid":77,"queues":"held","queues_held":1,"msg_type":"RTM_DELLINK","msg_index":0,"pid":500,"tid":500,"ppid":1,"comm":"ip","pcomm":null,"cgroup_id":null,"req_netns_cookie":1}\n' "$((NOW + 1000000))"
} | seg "$T/old/seg-0000000000000001.mgj"
"$MG" -j journal "$T/old" >"$T/old.jsonl" 2>"$T/old.err"
if schema_ok record --lines "$T/old.jsonl" && [ "$(head -n 1 "$T/old.jsonl" | jq -c '[.owner_domain, .owner_uuid, .netns, has("domain")]')" = '["olddom",null,null,false]' ] &&
   [ "$(tail -n 1 "$T/old.jsonl" | jq -c '[.requested_name, .lower_ifindex]')" = '[null,null]' ] &&
   "$MG" journal --domain olddom "$T/old" | grep -q "tag macvtap3(9) domain=olddom owner pid 77" &&
   "$MG" -j postmortem --domain olddom "$T/old" | jq -e '.timeline | length == 2' >/dev/null; then
    ok "records of earlier versions (tag: domain/uuid, \"\" for unknown) read as owner_domain/owner_uuid/null: journal, --domain, postmortem"
else notok "old records" "$(cat "$T/old.jsonl" "$T/old.err" "$T/schema.err" | head -c 600)"; fi

# ---- 2. text width: cut at 120 columns on a terminal only, --wide never ---------------------
long=$(printf 'd%.0s' $(seq 1 200))
mkdir -p "$T/wide"
printf '3 0 %s {"type":"tag","time":"2026-01-01T00:00:00.000000Z","host":"w","boot_id":"b","ifname":"x0","ifindex":1,"netns":null,"owner_domain":"%s","owner_uuid":null,"owner_pid":1}\n' "$NOW" "$long" \
    | seg "$T/wide/seg-0000000000000001.mgj"
script -qec "$MG journal $T/wide" /dev/null | tr -d '\r' >"$T/tty.txt"
script -qec "$MG journal --wide $T/wide" /dev/null | tr -d '\r' >"$T/ttyw.txt"
"$MG" journal "$T/wide" >"$T/pipe.txt"
if [ "$(python3 -c 'import sys; print(max(len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")))' "$T/tty.txt")" = 120 ] && grep -q '…$' "$T/tty.txt" &&
   grep -q "$long owner pid 1" "$T/ttyw.txt" && grep -q "$long owner pid 1" "$T/pipe.txt"; then
    ok "text on a terminal: cut at 120 columns with an ellipsis; --wide and pipes get the whole line"
else notok "text width" "tty: $(cat "$T/tty.txt" | head -c 300)"; fi

# ---- 3. man pages: every command and option of --help documented; no groff warnings ------
bad=""
man_text=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' man/macvguard.8)
for f in "$T"/help.*; do
    for o in $(grep -o -- '--[a-z][a-z-]*' "$f" | sort -u); do
        echo "$man_text" | grep -q -- "$o\b" || bad="$bad [$(basename "$f"): $o]"
    done
    for o in $(grep -oE '(^|[ ,[])-[a-zA-Z]\b' "$f" | tr -d ' ,[' | sort -u); do
        echo "$man_text" | grep -q -- "$o\b" || bad="$bad [$(basename "$f"): $o]"
    done
done
for c in $CMDS help; do
    echo "$man_text" | grep -qE "^\.(B|TP|SS)? ?$c\b|^$c\b|^\\.B $c" || bad="$bad [command $c]"
done
for c in $(sed -n '/^commands:/,/^$/p' "$T/help.main" | awk 'NF {print $1}' | grep -v commands:); do
    echo "$man_text" | grep -q "$c" || bad="$bad [main help: $c]"
done
for sec in "OPTIONS" "EXIT STATUS" "ENVIRONMENT" "FILES" "EXAMPLES" "SEE ALSO"; do
    grep -q "^\.SH \"\?$sec\"\?$" man/macvguard.8 || bad="$bad [section $sec]"
done
for see in ip-link bpftool virsh macvguard.conf; do
    grep -q "^\.BR $see (" man/macvguard.8 || bad="$bad [SEE ALSO $see]"
done
for v in $(grep -rhoE 'getenv\("MACVGUARD_[A-Z_]+"\)' user/ | grep -oE 'MACVGUARD_[A-Z_]+' | sort -u); do
    grep -q "$v" man/macvguard.8 || bad="$bad [ENVIRONMENT $v]"
done
for k in $(grep -oE 'strcmp\(k, "[a-z_]+"\)' user/config.c | grep -oE '"[a-z_]+"' | tr -d '"'); do
    grep -q "^\.BR $k " man/macvguard.conf.5 || bad="$bad [macvguard.conf(5) key $k]"
done
for p in man/macvguard.8 man/macvguard.conf.5; do
    w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
    [ -z "$w" ] || bad="$bad [$p: $w]"
done
[ -z "$bad" ] && ok "man pages: every command and option of every --help in macvguard(8); OPTIONS, EXIT STATUS, ENVIRONMENT (every MACVGUARD_* the code reads), FILES, EXAMPLES, SEE ALSO; every config key in macvguard.conf(5); no groff warnings" \
    || notok "man pages" "$bad"

# ---- 3. bash completion ---------------------------------------------------------------------
cat >"$T/comp.sh" <<EOF
. /usr/share/bash-completion/bash_completion
. $PWD/dist/macvguard.bash
PATH=$(dirname "$MG"):\$PATH
c() { COMP_WORDS=("\$@"); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1)); COMP_LINE="\$*"; COMP_POINT=\${#COMP_LINE}
      COMPREPLY=(); _macvguard macvguard "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"; echo "\${COMPREPLY[*]}"; }
echo "1:\$(c macvguard '')"
echo "2:\$(c macvguard xml '')"
echo "3:\$(c macvguard journal --v)"
echo "4:\$(c macvguard -j monitor --verdict '')"
echo "5:\$(c macvguard links --)"
echo "6:\$(c macvguard --journal-dir /tmp po)"
echo "7:\$(c macvguard hook install --)"
EOF
bash "$T/comp.sh" >"$T/comp.out" 2>&1
if grep -q "^1:run stop status mode tag untag release links monitor probes xml journal postmortem hook version help$" "$T/comp.out" &&
   grep -q "^2:sanitize check$" "$T/comp.out" && grep -q "^3:--verdict$" "$T/comp.out" &&
   grep -q "^4:none allow deny audit gone$" "$T/comp.out" && grep -q "^5:--wide --help$" "$T/comp.out" &&
   grep -q "^6:postmortem$" "$T/comp.out" && grep -q "^7:--hooks-dir --binary --reload --help$" "$T/comp.out"; then
    ok "bash completion: commands, subcommands, options, option values, after global options"
else notok "bash completion" "$(tr '\n' ' ' <"$T/comp.out")"; fi

# ---- 3. make install puts everything where an operator looks ---------------------------------
if make -s BUILD="$BUILD" install DESTDIR="$T/root" PREFIX=/usr >"$T/install.log" 2>&1 &&
   [ -x "$T/root/usr/sbin/macvguard" ] && [ -f "$T/root/usr/share/man/man8/macvguard.8" ] &&
   [ -f "$T/root/usr/share/man/man5/macvguard.conf.5" ] && [ -f "$T/root/usr/share/bash-completion/completions/macvguard" ] &&
   make -s BUILD="$BUILD" uninstall DESTDIR="$T/root" PREFIX=/usr >>"$T/install.log" 2>&1 &&
   [ -z "$(find "$T/root" -type f)" ]; then
    ok "make install: binary, macvguard(8), macvguard.conf(5), bash completion in /usr/share/bash-completion/completions; uninstall removes them"
else notok "make install" "$(tail -n 3 "$T/install.log") $(find "$T/root" -type f | tr '\n' ' ')"; fi

# ---- 5. postmortem: the summary's wording, unknown requester is null ------------------------
mkdir -p "$T/gone"
printf '1 4 %s {"type":"verdict","time":"2026-01-01T00:00:01.000000Z","host":"vm","boot_id":"b","boot_ns":5,"record":"delete","path":"unknown","result":"deleted","requester_known":false,"verdict":"gone","action":"delete","how":null,"reason":"not-in-use","mode":"enforce","ifname":"macvtap0","ifindex":7,"owner_domain":"web1","owner_uuid":null,"owner_pid":42,"pid":null,"tid":null,"ppid":null,"comm":null}\n' "$NOW" \
    | seg "$T/gone/seg-0000000000000001.mgj"
"$MG" postmortem "$T/gone" >"$T/gone.txt" 2>&1
"$MG" -j postmortem "$T/gone" >"$T/gone.json" 2>&1
if [ "$(sed -n 3p "$T/gone.txt")" = "Link macvtap0 of domain web1 went away on host vm." ] && schema_ok postmortem "$T/gone.json" &&
   [ "$(jq -c '.incidents[0].requester' "$T/gone.json")" = null ]; then
    ok "postmortem: 'Link macvtap0 of domain web1 went away on host vm.' (was 'Macvtap0 ... vm ().'); requester null in JSON"
else notok "postmortem gone summary" "$(sed -n 3p "$T/gone.txt") / $(jq -c '.incidents[0].requester' "$T/gone.json" 2>&1)"; fi
mkdir -p "$T/unk"
printf '1 2 %s {"type":"verdict","time":"2026-01-01T00:00:01.000000Z","host":"h","boot_id":"b","record":"request","result":"refused","requester_known":false,"verdict":"deny","action":"delete","how":"name","reason":"in-use","mode":"enforce","ifname":"macvtap1","ifindex":8,"owner_domain":"web2","owner_pid":43,"pid":null,"tid":null,"ppid":null,"comm":null}\n' "$NOW" \
    | seg "$T/unk/seg-0000000000000001.mgj"
"$MG" postmortem "$T/unk" >"$T/unk.txt" 2>&1
"$MG" -j postmortem "$T/unk" >"$T/unk.json" 2>&1
if sed -n 3p "$T/unk.txt" | grep -q "^An unknown process on host h tried to delete macvtap1, owned by running domain web2 (pid 43); refused[.]$" &&
   [ "$(jq -c '.incidents[0].requester' "$T/unk.json")" = null ] && schema_ok postmortem "$T/unk.json"; then
    ok "postmortem: an unknown requester is 'An unknown process' in text and null in JSON (was pid 0, comm \"\")"
else notok "postmortem unknown requester" "$(sed -n 3p "$T/unk.txt") / $(jq -c '.incidents[0].requester' "$T/unk.json" 2>&1)"; fi

# ---- 5. the HTML page in headless chromium: legend, colours, banner, no overlapping labels --
# two hosts, src's guard flag-only, dozens of records within a second on each (labels crowd)
mkdir -p "$T/hsrc" "$T/hdst"
python3 - "$NOW" "$T/hsrc.in" "$T/hdst.in" <<'EOF'
import json, sys
now = int(sys.argv[1])
def rec(t, v, ts, **kw):
    d = {"type": t, "time": "2026-01-01T00:00:%02d.%06dZ" % (ts // 10**9 % 60, ts // 1000 % 10**6), "boot_id": "b"}
    d.update(kw)
    return "%d %d %d %s\n" % ({"verdict": 1, "hook": 2, "tag": 3, "agent": 6, "link": 8}[t], v, now + ts, json.dumps(d, separators=(",", ":")))
for host, path, guard in (("src", sys.argv[2], "flag-only"), ("dst", sys.argv[3], "enforcing")):
    with open(path, "w") as f:
        f.write(rec("agent", 0, 0, host=host, event="start", mode="enforce", guard=guard, detail="test"))
        for i in range(40):
            ts = 10**9 + i * 20 * 10**6
            if i % 4 == 0:
                f.write(rec("hook", 0, ts, host=host, domain="B", op="migrate", subop="begin", targets=["macvtap%d" % i], stripped=[]))
            elif i % 4 == 1:
                f.write(rec("verdict", 2 if host == "dst" else 3, ts, host=host, record="request", verdict="deny" if host == "dst" else "audit",
                            action="delete", how="name", reason="in-use", mode="enforce", ifname="macvtap%d" % i, ifindex=i,
                            owner_domain="A", owner_pid=4242, requester_known=True, pid=555, tid=555, ppid=1, comm="libvirtd"))
            elif i % 4 == 2:
                f.write(rec("verdict", 4, ts, host=host, record="delete", verdict="gone", action="delete", result="deleted",
                            ifname="macvtap%d" % i, ifindex=i, owner_domain="A", owner_pid=4242, requester_known=False))
            else:
                f.write(rec("link", 0, ts, host=host, event="deleted", ifname="vnet%d" % i, ifindex=100 + i, kind="tap"))
EOF
seg "$T/hsrc/seg-0000000000000001.mgj" <"$T/hsrc.in"; seg "$T/hdst/seg-0000000000000001.mgj" <"$T/hdst.in"
"$MG" postmortem --html "$T/pm.html" "$T/hsrc" "$T/hdst" >/dev/null 2>"$T/html.err"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    notok "postmortem --html in headless chromium" "chromium not installed (scripts/packages-test.txt)"
else
    # the page as shipped, plus a script that reports what the browser laid out
    { cat "$T/pm.html"; cat <<'EOF'
<script>
const box = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
const fill = s => { const e = document.querySelector(s); return e ? getComputedStyle(e).fill : null; };
const out = { labels: [...document.querySelectorAll("text.lbl")].map(box),
              fills: { deny: fill("circle.deny"), audit: fill("circle.audit"), gone: fill("circle.gone"), agent: fill("circle.agent") },
              legend: [...document.querySelectorAll("#legend li")].map(e => e.textContent),
              banner: (document.getElementById("banner") || {}).textContent || null,
              svg: box(document.getElementById("timeline")) };
const pre = document.createElement("pre"); pre.id = "layout"; pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
</script>
EOF
    } >"$T/pm-check.html"
    CHROMEFLAGS=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
                 --disable-sync --no-first-run --user-data-dir="$(mktemp -d "$T/chr.XXXXXX")")
    timeout 120 "$CHROME" "${CHROMEFLAGS[@]}" --dump-dom "file://$T/pm-check.html" >"$T/dom.html" 2>"$T/chrome.err"
    timeout 120 "$CHROME" "${CHROMEFLAGS[@]}" --window-size=1500,1400 --screenshot="$T/pm.png" "file://$T/pm.html" >/dev/null 2>>"$T/chrome.err"
    if python3 - "$T/dom.html" "$T/pm.png" <<'EOF' >"$T/layout.out" 2>"$T/layout.err"
import html, json, re, struct, sys
dom = open(sys.argv[1]).read()
m = re.search(r'<pre id="layout">(.*?)</pre>', dom, re.S)
assert m, "no layout report in the dumped DOM"
L = json.loads(html.unescape(m.group(1)))
boxes = L["labels"]
assert len(boxes) >= 80, "only %d labels" % len(boxes)
for i, a in enumerate(boxes):
    assert a[2] > a[0] and a[3] > a[1], ("empty label box", a)
    assert a[2] <= L["svg"][2] + 0.5, ("label outside the picture", a, L["svg"])
    for b in boxes[i + 1:]:
        inter = min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5
        assert not inter, ("labels overlap", a, b)
f = L["fills"]
assert None not in f.values() and len(set(f.values())) == len(f), ("one colour per verdict", f)
assert len(L["legend"]) >= 5 and any(x.startswith("deny") for x in L["legend"]) and any(x.startswith("gone") for x in L["legend"]), L["legend"]
assert L["banner"] and "Host src: the guard ran flag-only" in L["banner"], L["banner"]
png = open(sys.argv[2], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "no PNG"
w, h = struct.unpack(">II", png[16:24])
assert w == 1500 and h == 1400 and len(png) > 20000, (w, h, len(png))
print(len(boxes), f)
EOF
    then ok "postmortem --html in chromium: legend, a colour per verdict (deny/audit/gone/agent), flag-only banner, no two of $(cut -d' ' -f1 "$T/layout.out") label boxes intersect, 1500x1400 screenshot"
    else notok "postmortem --html layout" "$(tail -n 3 "$T/layout.err") $(head -c 200 "$T/chrome.err")"; fi
    cp "$T/pm.png" "$BUILD/postmortem-screenshot.png" 2>/dev/null
fi

# ---- 6. fleet postmortem: two hosts' journald copies, systemd-journal-remote, --journal-dir --
JR=$(command -v systemd-journal-remote || ls /lib/systemd/systemd-journal-remote /usr/lib/systemd/systemd-journal-remote 2>/dev/null | head -n 1)
cat >"$T/recv.py" <<'EOF'
# A stand-in journald on the suite's private /run/systemd/journal/socket (where
# sd_journal_sendv sends): native-protocol datagrams in, journal export format out (what
# `journalctl -o export` prints), one file per MACVGUARD_HOST, with the fields journald
# itself adds (each test host its own boot id).
import os, socket, struct, sys, time
os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(float(sys.argv[3]))
boots = {"src": "0123456789abcdef0123456789abcdef", "dst": "fedcba9876543210fedcba9876543210"}
outs = {}
try:
    while True:
        m = s.recv(1 << 21)
        if m == b"STOP\n":
            break
        fields, i = [], 0
        while i < len(m):
            nl = m.index(b"\n", i)
            line = m[i:nl]
            if b"=" in line:
                fields.append(line); i = nl + 1
            else:      # binary-safe field: NAME\n, 64-bit length, data, \n
                n = struct.unpack("<Q", m[nl + 1:nl + 9])[0]
                fields.append(line + b"=" + m[nl + 9:nl + 9 + n]); i = nl + 9 + n + 1
        host = next((f[len(b"MACVGUARD_HOST="):].decode() for f in fields if f.startswith(b"MACVGUARD_HOST=")), "")
        if host not in boots:
            continue
        if host not in outs:
            outs[host] = open(os.path.join(sys.argv[2], host + ".export"), "wb")
        hdr = [b"__REALTIME_TIMESTAMP=%d" % (time.time_ns() // 1000), b"__MONOTONIC_TIMESTAMP=%d" % (time.monotonic_ns() // 1000),
               b"_BOOT_ID=" + boots[host].encode(), b"_HOSTNAME=" + host.encode(), b"_TRANSPORT=journal"]
        outs[host].write(b"\n".join(hdr + fields) + b"\n\n"); outs[host].flush()
except socket.timeout:
    pass
EOF
if [ -z "$JR" ]; then
    notok "fleet postmortem through systemd-journal-remote" "systemd-journal-remote not installed (scripts/packages-test.txt)"
else
    JSOCK=/run/systemd/journal/socket     # the suite's private /run (mg_isolate)
    rm -f "$JSOCK"
    python3 "$T/recv.py" "$JSOCK" "$T" 60 & RECV+=($!)
    for _ in $(seq 1 100); do [ -S "$JSOCK" ] && break; sleep 0.1; done
    h() { # HOST OP DOMAIN: a hook call that journals natively and copies to "journald"
        echo "$XML" | MACVGUARD_SYSTEMD_JOURNAL=1 MACVGUARD_HOST=$1 \
            MACVGUARD_JOURNAL_DIR=$T/n$1 "$MG" hook qemu "$3" "$2" begin - >/dev/null
    }
    h src migrate B; h dst prepare B; h dst migrate B; h src stopped B; h dst start B; h dst stopped B; h dst release B; h src release B
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); s.sendto(b"STOP\n", sys.argv[1])' "$JSOCK"
    wait "${RECV[@]}" 2>/dev/null; RECV=()
    mkdir -p "$T/remote"
    "$JR" --output="$T/remote/remote.journal" "$T/src.export" "$T/dst.export" >"$T/jr.log" 2>&1; jrc=$?
    "$MG" -j postmortem --domain B "$T/nsrc" "$T/ndst" >"$T/native.json" 2>"$T/native.err"
    "$MG" -j postmortem --domain B --journal-dir "$T/remote" >"$T/sd.json" 2>"$T/sd.err"; sdrc=$?
    "$MG" postmortem --domain B "$T/nsrc" "$T/ndst" >"$T/native.txt" 2>&1
    "$MG" postmortem --domain B --journal-dir "$T/remote" >"$T/sd.txt" 2>&1
    if [ $jrc = 0 ] && [ $sdrc = 0 ] && [ ! -s "$T/sd.err" ] && cmp -s "$T/native.json" "$T/sd.json" && cmp -s "$T/native.txt" "$T/sd.txt" &&
       [ "$(jq -c '[.hosts, (.timeline | length)]' "$T/sd.json")" = '[["src","dst"],8]' ] &&
       [ "$(journalctl -D "$T/remote" -o export | grep -c '^_HOSTNAME=')" = 8 ] && schema_ok postmortem "$T/sd.json"; then
        ok "fleet: two hosts' journald copies -> systemd-journal-remote -> one directory; postmortem --journal-dir gives the same timeline and summary (text and JSON) as the two native journals"
    else notok "fleet postmortem via systemd-journal-remote" "jr $jrc sd $sdrc $(head -c 200 "$T/jr.log") $(head -c 300 "$T/sd.err") $(diff "$T/native.txt" "$T/sd.txt" | head -n 6 | tr '\n' ' ')"; fi
    # copies written before the whole record was carried (no MACVGUARD_TS/VERDICT): journald's time
    grep -v '^MACVGUARD_TS=\|^MACVGUARD_VERDICT=' "$T/src.export" >"$T/old.export"
    mkdir -p "$T/remote-old"
    "$JR" --output="$T/remote-old/r.journal" "$T/old.export" >/dev/null 2>&1
    "$MG" -j postmortem --domain B --journal-dir "$T/remote-old" >"$T/sdold.json" 2>&1
    [ "$(jq -c '[.timeline[] | .seq]' "$T/sdold.json")" = "[1,2,3]" ] && ok "fleet: older journald copies without the header fields still read (journald's time)" \
        || notok "fleet: older copies" "$(head -c 300 "$T/sdold.json")"
    "$MG" -j postmortem --journal-dir "$T/nonexistent" >"$T/e.out" 2>"$T/e.err"; rc=$?
    [ $rc = 1 ] && schema_ok error "$T/e.out" && [ ! -s "$T/e.err" ] && ok "fleet: a journal directory that cannot be opened: JSON error, exit 1" \
        || notok "fleet: bad --journal-dir" "rc $rc $(cat "$T/e.out" "$T/e.err")"
fi
finish
