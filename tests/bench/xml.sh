#!/bin/bash
# XML rules bench (part of `make bench`; docs/performance.md "## XML rules").
#  1. documents/second on the sample set, macvguard vs xsltproc with the equivalent
#     stylesheet xml/strip-generated.xsl: in one process (library vs one xsltproc run
#     over many documents) and one process per document (as scripts and hooks run it);
#  2. the hook's wall time per call on the 20-interface domain, process start included
#     (hyperfine when installed, else a timed loop).
# XML_BENCH_SECONDS (default 3) sets the length of each timed phase.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MG=$BUILD/macvguard
S=${XML_BENCH_SECONDS:-3}
make -s BUILD="$BUILD" xml-bench-bins
SAMPLES=(xml/samples/*.xml)
N=${#SAMPLES[@]}
now() { date +%s.%N; }
rate() { echo "scale=1; $1 / ($2 - $3)" | bc -l 2>/dev/null || awk "BEGIN{printf \"%.1f\", $1/($2-$3)}"; }
ratio() { awk "BEGIN{printf \"%.1f\", $1/$2}"; }

echo "== XML rules: ${N} sample documents, $(cat "${SAMPLES[@]}" | wc -c) bytes"

# 1a. in one process
lib=$("$BUILD/tests/xml-bench" "$S" "${SAMPLES[@]}")
reps=1; args=()
while :; do
    args=(); for _ in $(seq $reps); do args+=("${SAMPLES[@]}"); done
    t0=$(now); xsltproc xml/strip-generated.xsl "${args[@]}" >/dev/null; t1=$(now)
    el=$(awk "BEGIN{printf \"%.6f\", $t1-$t0}")
    awk "BEGIN{exit !($el >= $S/3 || $reps >= 4096)}" && break
    reps=$((reps * 4))
done
xs=$(awk "BEGIN{printf \"%.0f\", ${#args[@]}/$el}")
echo "in-process:   macvguard ${lib} docs/s, xsltproc ${xs} docs/s  ->  $(ratio "$lib" "$xs")x"

# 1b. one process per document
count=0; t0=$(now); end=$(awk "BEGIN{printf \"%.6f\", $t0+$S}")
while awk "BEGIN{exit !($(now) < $end)}"; do
    for f in "${SAMPLES[@]}"; do "$MG" xml sanitize "$f" >/dev/null; done; count=$((count + N))
done; t1=$(now); mgp=$(awk "BEGIN{printf \"%.0f\", $count/($t1-$t0)}")
count=0; t0=$(now); end=$(awk "BEGIN{printf \"%.6f\", $t0+$S}")
while awk "BEGIN{exit !($(now) < $end)}"; do
    for f in "${SAMPLES[@]}"; do xsltproc xml/strip-generated.xsl "$f" >/dev/null; done; count=$((count + N))
done; t1=$(now); xsp=$(awk "BEGIN{printf \"%.0f\", $count/($t1-$t0)}")
echo "per-process:  macvguard ${mgp} docs/s, xsltproc ${xsp} docs/s  ->  $(ratio "$mgp" "$xsp")x (bash loop overhead included in both)"

# 2. the hook on a 20-interface domain, as libvirt runs it
DOM=xml/samples/06-many.xml
[ "$(grep -c '<interface' "$DOM")" -eq 20 ] || { echo "xml bench: $DOM must have 20 interfaces"; exit 1; }
read -r mean med < <("$BUILD/tests/xml-bench" --exec 1000 "$DOM" "$MG" hook qemu router-20nics migrate begin -)
echo "hook migrate, 20 interfaces: mean ${mean} ms, median ${med} ms per call (1000 posix_spawn runs, process start included; target <= 2 ms)"
read -r mean med < <("$BUILD/tests/xml-bench" --exec 1000 "$DOM" "$MG" hook qemu router-20nics started begin -)
echo "hook started (no work yet): mean ${mean} ms, median ${med} ms per call"
read -r mean med < <("$BUILD/tests/xml-bench" --exec 1000 "$DOM" /bin/true)
echo "for scale, /bin/true: mean ${mean} ms, median ${med} ms per call"
if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 50 --runs 500 "$MG hook qemu router-20nics started begin -" 2>/dev/null |
        sed -n 's/^ *Time (mean ± σ): */hyperfine, hook started (stdin empty): /p'
fi
