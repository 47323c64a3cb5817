#!/bin/sh
# Run promtool (Prometheus' rule checker) without installing Prometheus: Debian ships it only
# in the `prometheus` package (~19 MB download, 96 MB installed, and a server that would
# start), so the package is fetched once with `apt-get download` into $BUILD/tools/ and only
# usr/bin/promtool (a static Go binary) is unpacked from it. Nothing is installed.
# usage: scripts/promtool.sh check rules FILE... | test rules FILE... | ...
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILD:-build}; case "$b" in /*) ;; *) b="$here/$b" ;; esac
tools="$b/tools"
bin="$tools/promtool"
if [ ! -x "$bin" ]; then
    mkdir -p "$tools/dl"
    if ! ls "$tools"/dl/prometheus_*.deb >/dev/null 2>&1; then
        (cd "$tools/dl" && { apt-get download -q prometheus >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null && apt-get download -q prometheus >/dev/null; }; }) ||
            { echo "promtool.sh: cannot download the prometheus package" >&2; exit 2; }
    fi
    deb=$(ls "$tools"/dl/prometheus_*.deb | sort -V | tail -n 1)
    dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/bin/promtool > "$bin.tmp"
    chmod 0755 "$bin.tmp" && mv "$bin.tmp" "$bin"
fi
exec "$bin" "$@"
