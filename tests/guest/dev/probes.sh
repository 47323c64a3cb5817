#!/bin/bash
# Developer aid: does `probes off` detach the deletion-path probes?
MG="$MG_ROOT/${BUILD:-build}/macvguard"
"$MG" run > "$MG_RESULTS/agent.log" 2>&1 &
for _ in $(seq 1 900); do grep -q "agent running" "$MG_RESULTS/agent.log" && break; sleep 0.1; done
ls /sys/fs/bpf/macvguard
bpftool link list 2>&1 | grep -E "^[0-9]+:|prog" | head -30
d() { "$MG" status | grep -o "deletions=[0-9]*"; }
d; ip link add pz type veth peer name py; ip link del pz; sleep 0.3; d
"$MG" probes off; ls /sys/fs/bpf/macvguard
bpftool link list 2>&1 | grep -E "^[0-9]+:" | head -30
ip link add pz type veth peer name py; ip link del pz; sleep 0.3; d
"$MG" probes on
ip link add pz type veth peer name py; ip link del pz; sleep 0.3; d
ls -la /proc/$(cat /run/macvguard/agent.pid)/fd | grep -c bpf
