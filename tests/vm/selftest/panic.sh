#!/bin/bash
# Harness self-test: a guest script that crashes the guest kernel.
echo "ok - selftest panic: triggering a crash"
echo 1 > /proc/sys/kernel/sysrq
echo c > /proc/sysrq-trigger
sleep 30
echo "ok - selftest panic: still alive (should not happen)"
