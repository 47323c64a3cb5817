#!/bin/sh
# Install the Debian packages a make target needs, only when some are missing.
# usage: scripts/deps.sh LIST...   (LIST = build | test | ...: scripts/packages-LIST.txt)
set -eu
here=$(dirname "$0")
missing=""
for list in "$@"; do
    file="$here/packages-$list.txt"
    [ -r "$file" ] || { echo "deps: no package list $file" >&2; exit 2; }
    for pkg in $(sed -e 's/#.*//' "$file"); do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        case "$status" in
            *"install ok installed"*) ;;
            *) missing="$missing $pkg" ;;
        esac
    done
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run as root (sudo make ...) or: apt-get install$missing" >&2
    exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# An update is only needed when a package cannot be found in the current lists.
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends $missing
fi
