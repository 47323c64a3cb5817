#!/bin/bash
# Developer aid: load the guard with libbpf's log (verifier output) and stop.
MG="$MG_ROOT/${BUILD:-build}/macvguard"
timeout 120 "$MG" -v run > "$MG_RESULTS/load.log" 2>&1 &
P=$!
for _ in $(seq 1 1200); do grep -q "agent running\|error\|cannot" "$MG_RESULTS/load.log" && break; sleep 0.1; done
sleep 1
"$MG" status
kill $P; wait $P
grep -v "^\s*[0-9]*: (" "$MG_RESULTS/load.log" | grep -iE "fail|error|invalid|refus|R[0-9]|prog|libbpf" | head -60
tail -n 40 "$MG_RESULTS/load.log"
