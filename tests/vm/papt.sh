# Private apt state for the VM harness (sourced by tests/vm/vm.sh and tests/vm/mkroot.sh).
# Debian 13 (trixie, trixie-backports) and bookworm-backports package lists live under
# $VMB/apt/ with their own sources.list, lists, cache and an empty dpkg status: the host's
# own apt sources, lists and state are never read or changed. Keys: debian-archive-keyring.
#
#   papt_init              creates $VMB/apt (idempotent), sets PAPT_OPTS
#   papt_update            apt-get update of the private lists (once per process)
#   papt_cache ARGS...     apt-cache with the private state
#   papt_get ARGS...       apt-get with the private state (download, ...)
PAPT_SUITES=${PAPT_SUITES:-"trixie trixie-backports bookworm bookworm-backports"}
PAPT_MIRROR=${MG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PAPT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PAPT_OPTS=()
papt_updated=""

papt_init() {
    local a="$VMB/apt" s want
    [ -r "$PAPT_KEYRING" ] || { echo "vm.sh: missing $PAPT_KEYRING (apt-get install debian-archive-keyring)" >&2; return 1; }
    mkdir -p "$a/etc/sources.list.d" "$a/etc/preferences.d" "$a/etc/apt.conf.d" "$a/state/lists/partial" \
             "$a/cache/archives/partial"
    want=$(for s in $PAPT_SUITES; do echo "deb [signed-by=$PAPT_KEYRING] $PAPT_MIRROR $s main"; done)
    if [ "$(cat "$a/etc/sources.list" 2>/dev/null)" != "$want" ]; then
        echo "$want" >"$a/etc/sources.list"
        rm -f "$a/state/lists/"*_Packages* "$a/state/lists/"*Release* 2>/dev/null
    fi
    : >"$a/status"
    PAPT_OPTS=(-o "Dir::State=$a/state" -o "Dir::State::status=$a/status"
               -o "Dir::Etc::SourceList=$a/etc/sources.list" -o "Dir::Etc::SourceParts=$a/etc/sources.list.d"
               -o "Dir::Etc::Preferences=$a/etc/preferences" -o "Dir::Etc::PreferencesParts=$a/etc/preferences.d"
               -o "Dir::Cache=$a/cache" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
               -o "APT::Sandbox::User=root" -o "Acquire::Languages=none")
}

# Refreshes the private lists when they are missing or older than a day (or when forced).
papt_update() {
    local force=${1:-} a="$VMB/apt"
    [ -n "$papt_updated" ] && [ -z "$force" ] && return 0
    papt_updated=1
    if [ -z "$force" ] && [ -n "$(find "$a/state/lists" -maxdepth 1 -name '*trixie-backports*Packages*' -mmin -1440 2>/dev/null)" ]; then
        return 0
    fi
    echo "vm.sh: apt-get update (private lists in $a)" >&2
    apt-get "${PAPT_OPTS[@]}" update -q >/dev/null 2>&1 || apt-get "${PAPT_OPTS[@]}" update -q >&2
}

papt_cache() { apt-cache "${PAPT_OPTS[@]}" "$@"; }
papt_get() { apt-get "${PAPT_OPTS[@]}" "$@"; }
