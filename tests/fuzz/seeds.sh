#!/bin/bash
# seeds.sh BUILD OUT: the fuzz targets' seed inputs, made fresh at run time (no binary corpus is committed).
#   fuzz_open, fuzz_commit: the generated fixtures (BUILD/fixtures/*.hive); fuzz_open also gets the small
#                           real Windows hives of ../shared/hives/txlog when present
#   fuzz_txlog:             valid old- and new-format logs of the dirty fixture (mkseeds), and the real
#                           logs of ../shared/hives/txlog behind mode bytes (see fuzz_txlog.c)
#   fuzz_rpcrange:          Ports lists and Y/N values behind their mode bytes (see fuzz_rpcrange.c)
#   fuzz_check:             the generated fixtures and the small real hives, as fuzz_open
set -euo pipefail
build=$1
out=$2
rm -rf "$out"
mkdir -p "$out/fuzz_open" "$out/fuzz_commit" "$out/fuzz_txlog" "$out/fuzz_rpcrange" "$out/fuzz_check"
cp "$build"/fixtures/*.hive "$out/fuzz_open/"
cp "$build"/fixtures/*.hive "$out/fuzz_commit/"
cp "$build"/fixtures/*.hive "$out/fuzz_check/"
"$build/fuzz-replay/mkseeds" "$build/fixtures/dirty.hive" "$out/fuzz_txlog"

# utf16 TEXT: TEXT as UTF-16LE (ASCII only), each "|" standing for a NUL unit.
utf16() { printf '%s' "$1" | sed 's/./&\n/g' | while IFS= read -r c; do [ "$c" = "|" ] && printf '\0\0' || printf '%s\0' "$c"; done; }
r=$out/fuzz_rpcrange
{ printf '\000'; utf16 '5000-5100|5984||'; } > "$r/read-list"
{ printf '\000'; utf16 ' +05000-5100 |6000||'; } > "$r/read-lax"
{ printf '\001'; utf16 '5000-5100|5984||'; } > "$r/parse-list"
{ printf '\001'; utf16 '6000-5000||'; } > "$r/parse-reversed"
printf '\0025000-5100, 5984 ,6000' > "$r/caller-list"
printf '\0025000-,x' > "$r/caller-bad"
{ printf '\003'; utf16 'Y|'; } > "$r/yes"
{ printf '\003'; utf16 'n'; } > "$r/no"

shared=${HIVEPORT_SHARED:-../shared}/hives/txlog
if [ -d "$shared" ] && command -v xz >/dev/null 2>&1; then
    for f in new-format/NewDirtyHive new-format/RecoveredHive_Windows10 old-format/OldDirtyHive; do
        xz -dc "$shared/$f.xz" > "$out/fuzz_open/real-${f##*/}"
        cp "$out/fuzz_open/real-${f##*/}" "$out/fuzz_check/"
    done
    # Mode 2: the fixed hive's header is lost, so a log of another hive is taken at its word.
    for f in new-format/NewDirtyHive.LOG1 new-format/NewDirtyHive.LOG2 old-format/OldDirtyHive.LOG1; do
        { printf '\002'; xz -dc "$shared/$f.xz"; } > "$out/fuzz_txlog/real-${f##*/}"
    done
    # Mode 3: both new-format logs, LOG1's length first.
    log1=$(xz -dc "$shared/new-format/NewDirtyHive.LOG1.xz" | wc -c)
    {
        printf '\003'
        printf "\\x$(printf %02x $((log1 & 255)))\\x$(printf %02x $((log1 >> 8 & 255)))"
        printf "\\x$(printf %02x $((log1 >> 16 & 255)))\\x$(printf %02x $((log1 >> 24 & 255)))"
        xz -dc "$shared/new-format/NewDirtyHive.LOG1.xz"
        xz -dc "$shared/new-format/NewDirtyHive.LOG2.xz"
    } > "$out/fuzz_txlog/real-NewDirtyHive.LOG1+LOG2"
else
    echo "seeds: no $shared (or no xz): only generated seeds"
fi
for t in fuzz_open fuzz_commit fuzz_txlog fuzz_rpcrange fuzz_check; do
    printf '%s: %s seeds  ' "$t" "$(find "$out/$t" -type f | wc -l)"
done
echo
