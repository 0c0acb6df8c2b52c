#!/bin/bash
# The shared library exports exactly the public hiveport_* functions of include/hiveport.h, under HIVEPORT_0.1.
set -eu
lib="${BUILD:-build}/libhiveport.so"
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDRB]$/ {print $3}' | sed 's/@.*//' | sort -u)
declared=$(sed -n 's/^HIVEPORT_API [^(]*[ *]\(hiveport_[a-z_0-9]*\)(.*/\1/p' include/hiveport.h | sort -u)
stray=$(printf '%s\n' "$exported" | grep -v '^hiveport_' || true)
if [ -n "$stray" ]; then echo "FAIL: $lib exports non-hiveport symbols:"; echo "$stray"; exit 1; fi
if [ "$exported" != "$declared" ]; then
    echo "FAIL: exported and declared symbols differ:"; diff <(echo "$declared") <(echo "$exported") || true; exit 1
fi
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "libhiveport.so.0" ] || { echo "FAIL: SONAME is '$soname'"; exit 1; }
nm -D --defined-only "$lib" | grep -q '@@HIVEPORT_0.1' || { echo "FAIL: no HIVEPORT_0.1 version node"; exit 1; }
echo "symbols: $(printf '%s\n' "$exported" | wc -l) exported, all hiveport_*, SONAME $soname"
