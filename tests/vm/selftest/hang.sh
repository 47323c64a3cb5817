#!/bin/bash
# Harness self-test: a guest script that never finishes (run with a short MG_VM_TIMEOUT).
echo "ok - selftest hang: started, now sleeping forever"
while :; do sleep 60; done
