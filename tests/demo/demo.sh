#!/bin/bash
# make demo: boot the Debian 6.1 test guest (QEMU TCG), start Debian 12's own libvirtd 9.0
# inside it, and show the same failure twice: without macvguard the running domain's
# macvtap disappears; with macvguard the deletion is refused and the event names both
# domains. About 2-5 minutes on 2 cores (130-300 s measured). Full logs: build/vm/results/6.1-guest-demo-latest/.
set -u
cd "$(dirname "$0")/../.."
tests/vm/vm.sh prepare 6.1 >/dev/null || { echo "demo: cannot prepare the 6.1 guest kernel"; exit 1; }
echo "demo: booting the Debian 6.1 test guest (TCG: slow, about 2-5 minutes in all) ..."
tests/vm/vm.sh run 6.1 tests/demo/guest-demo.sh 2>&1 |
    grep -v '^# \[6.1\] console:' | sed -e 's/^# \[6.1\] //' -e 's/^\(not \)\{0,1\}ok - \[6.1\] /\1ok - /'
exit "${PIPESTATUS[0]}"
