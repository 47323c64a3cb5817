#!/bin/bash
# Journal speed (docs/performance.md, "Journal"): appends/s batched (one fdatasync at the
# end, the agent's group commit is close to this) and with fdatasync per record (deny
# records, hook and CLI records); `macvguard hook` processes per second including their
# journal append; `postmortem --domain` over a generated 1,000,000-record journal
# (target < 2 s). JOURNAL_BENCH_DIR sets where the journals go (default a dir under /var/tmp:
# a real disk, not tmpfs).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
make -s BUILD="$BUILD" all journal-bins >/dev/null || { echo "build failed"; exit 1; }
MG=$PWD/$BUILD/macvguard
TJ=$PWD/$BUILD/tests/test_journal
D=${JOURNAL_BENCH_DIR:-$(mktemp -d /var/tmp/mg-jbench.XXXXXX)}
trap 'rm -rf "$D"' EXIT
N1=${JOURNAL_BENCH_RECORDS:-1000000}
echo "# filesystem of $D: $(stat -f -c %T "$D"), $(nproc) cores"
"$TJ" bench "$D/batch" 200000 batch | sed 's/^/batched: /'
"$TJ" bench "$D/sync" 2000 sync | sed 's/^/per-record fdatasync: /'
XML="<domain><name>B</name><uuid>bbbbbbbb-2222-3333-4444-555555555555</uuid><devices><interface type='direct'><target dev='macvtap0'/></interface></devices></domain>"
echo "$XML" >"$D/x.xml"
# hook processes, 3 interleaved rounds of 100 calls per mode (the machine is shared: the
# spread between rounds is part of the figure): no journal, journal with a committer (a
# stand-in agent holding DIR/committer), journal without one (fdatasync per call)
mkdir -p "$D/hc" "$D/hn"
python3 -c "import fcntl,sys,time; f=open(sys.argv[1],'a'); fcntl.flock(f, fcntl.LOCK_EX); time.sleep(900)" "$D/hc/committer" &
C=$!
sleep 0.3
per_call() { # MODE -> ms per call over 100 calls
    local s e i
    s=$(date +%s%N)
    for i in $(seq 1 100); do
        case $1 in
            none) MACVGUARD_NO_JOURNAL=1 "$MG" hook qemu B started begin - <"$D/x.xml" ;;
            committed) MACVGUARD_JOURNAL_DIR=$D/hc "$MG" hook qemu B started begin - <"$D/x.xml" ;;
            synced) MACVGUARD_JOURNAL_DIR=$D/hn "$MG" hook qemu B started begin - <"$D/x.xml" ;;
        esac
    done
    e=$(date +%s%N)
    echo "scale=2; ($e - $s) / 100000000" | bc
}
res_none=""; res_committed=""; res_synced=""
for round in 1 2 3; do
    res_none="$res_none $(per_call none)"
    res_committed="$res_committed $(per_call committed)"
    res_synced="$res_synced $(per_call synced)"
done
kill $C
echo "hook process, ms per call (3 rounds): no journal:$res_none | journal, agent running (group commit):$res_committed | journal, no agent (fdatasync):$res_synced"
s=$(date +%s.%N)
"$TJ" gen "$D/big" "$N1" h1
e=$(date +%s.%N)
echo "generated $N1 records ($(du -sm "$D/big" | cut -f1) MB) in $(printf '%.1f' "$(echo "$e - $s" | bc -l)") s"
cat "$D/big"/seg-* >/dev/null   # warm the page cache: we time the tool, not the disk
for run in 1 2 3; do
    s=$(date +%s.%N)
    "$MG" postmortem --domain victim-B "$D/big" >"$D/pm.out" 2>&1
    e=$(date +%s.%N)
    echo "postmortem --domain over $N1 records, run $run: $(printf '%.2f' "$(echo "$e - $s" | bc -l)") s"
done
sed -n 3p "$D/pm.out" | cut -c1-160
s=$(date +%s.%N)
"$MG" -j journal "$D/big" | wc -l >/dev/null
e=$(date +%s.%N)
echo "journal -j (all $N1 records to a pipe): $(printf '%.2f' "$(echo "$e - $s" | bc -l)") s"
s=$(date +%s.%N)
"$MG" journal --domain victim-B "$D/big" >/dev/null
e=$(date +%s.%N)
echo "journal --domain (text; byte prefilter, then JSON parse of matches): $(printf '%.2f' "$(echo "$e - $s" | bc -l)") s"
