#!/bin/bash
# profile.sh: where hiveport's time goes, for the goals bench.sh shows unmet (issue 9).  `make bench-profile`.
#
#   1. hivex-phases on the real win7 hive and on a generated BENCH_PROFILE_MB (250) MB hive: the cost of
#      each libhivex step of a structural edit (stamp), next to reading the same bytes without libhivex;
#   2. perf stat (CPU time, page faults) of each hiveport job and its floor, 5 runs each;
#   3. perf record: the hottest functions of `hiveport set` (stamp, restamp) and `hiveport show` (read) on
#      the large hive, with call chains (DWARF), by self time and by inclusive time.
#
# Environment: BUILD, HIVEPORT, HIVEPORT_SHARED, BENCH_PROFILE_MB (250), BENCH_TMPDIR.  Needs perf for 2-3
# (skipped with a note without it).
set -u
export LC_ALL=C
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
HIVEPORT=${HIVEPORT:-$build/hiveport}
shared=${HIVEPORT_SHARED:-$root/../shared}
mb=${BENCH_PROFILE_MB:-250}
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/hiveport-profile.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

stamp=(exchange-sa-rfr=5001 exchange-sa-nspi=5002 exchange-is=5003 exchange-srs=5004 ntds=5005)
restamp=(exchange-sa-rfr=6001 exchange-sa-nspi=6002 exchange-is=6003 exchange-srs=6004 ntds=6005)

hives=()
if [ -f "$shared/hives/win7-SYSTEM.xz" ]; then
    xz -dc "$shared/hives/win7-SYSTEM.xz" >"$tmp/win7-SYSTEM" && hives+=("$tmp/win7-SYSTEM")
fi
"$build/bench/mkbighive" "$tmp/generated-${mb}MB" "$mb" >/dev/null || exit 1
hives+=("$tmp/generated-${mb}MB")
echo "Load average: $(cut -d' ' -f1-3 /proc/loadavg)"

for hive in "${hives[@]}"; do
    cat "$hive" >/dev/null
    echo
    "$build/bench/hivex-phases" "$hive"
done

command -v perf >/dev/null || { echo; echo "perf is not installed: skipping perf stat and perf record"; exit 0; }

# perf stat over 5 runs; a write job gets a fresh synced copy before each run (--pre).
pstat() { # LABEL PRE -- CMD...
    local label=$1 pre=$2; shift 3
    [ -z "$pre" ] || "$pre"
    if ! "$@" >/dev/null 2>"$tmp/err"; then
        echo "| $label | failed: $(head -c 200 "$tmp/err") | |"
        return
    fi
    perf stat -r 5 ${pre:+--pre "$pre"} -x, -e task-clock,page-faults -o "$tmp/stat" -- "$@" >/dev/null 2>&1
    awk -F, -v l="$label" '$3 == "task-clock" { c = $1 } $3 == "page-faults" { f = $1 }
        END { printf "| %s | %.1f | %d |\n", l, c, f }' "$tmp/stat"
}
for hive in "${hives[@]}"; do
    base=$hive.stamped
    cp "$hive" "$base" && "$HIVEPORT" set "$base" "${stamp[@]}" --controlset 1 || exit 1
    printf '#!/bin/sh\ncp %q %q/work && sync %q/work && cat %q/work >/dev/null\n' "$hive" "$tmp" "$tmp" "$tmp" >"$tmp/fresh"
    printf '#!/bin/sh\ncp %q %q/work && sync %q/work && cat %q/work >/dev/null\n' "$base" "$tmp" "$tmp" "$tmp" >"$tmp/fresh-base"
    chmod +x "$tmp/fresh" "$tmp/fresh-base"
    echo
    echo "| perf stat, $(basename "$hive") (mean of 5 runs) | CPU ms (task-clock) | page faults |"
    echo "|---|---:|---:|"
    pstat "stamp: hiveport set" "$tmp/fresh" -- "$HIVEPORT" set "$tmp/work" "${stamp[@]}" --controlset 1
    pstat "restamp: hiveport set" "$tmp/fresh-base" -- "$HIVEPORT" set "$tmp/work" "${restamp[@]}" --controlset 1
    pstat "floor: dd conv=fsync" "$tmp/fresh" -- dd if="$tmp/work" of="$tmp/work.copy" bs=1M conv=fsync status=none
    cat "$base" >/dev/null
    pstat "read: hiveport show --controlset all" "" -- "$HIVEPORT" show "$base" --controlset all
    "$HIVEPORT" audit --help >/dev/null 2>&1 && pstat "audit: hiveport audit" "" -- "$HIVEPORT" audit "$base"
    pstat "floor: cat" "" -- cat "$base"
done

# perf record on the large hive.
hive=${hives[${#hives[@]} - 1]}
report() { # DATA
    echo '```'
    echo "self:"
    perf report -i "$1" --comm hiveport --no-children --sort dso,sym --stdio -g none 2>/dev/null |
        grep -E '^ +[0-9]' | head -n 12
    echo "inclusive (hiveport, libhiveport and libhivex functions):"
    perf report -i "$1" --comm hiveport --children --sort sym --stdio -g none 2>/dev/null |
        grep -E '\[\.\] (hivex_|hp_|hiveport_|cmd_)' | head -n 16
    echo '```'
}
# A perf record of COMMAND as NAME (what it does, on HIVE), reported; with SOURCE, $tmp/work is a fresh copy of
# it first.
record() { # NAME WHAT HIVE SOURCE|'' -- COMMAND...
    local name=$1 what=$2 on=$3 source=$4
    shift 5
    echo
    echo "perf record, $name ($what) on $on:"
    if [ -n "$source" ]; then cp "$source" "$tmp/work" && sync "$tmp/work"; fi
    perf record -q -o "$tmp/$name.data" --call-graph dwarf,16384 -F 2000 -- "$@" >/dev/null 2>&1
    report "$tmp/$name.data"
}
record stamp "hiveport set" "$(basename "$hive")" "$hive" -- \
    "$HIVEPORT" set "$tmp/work" "${stamp[@]}" --controlset 1
record restamp "hiveport set, values already there" "$(basename "$hive").stamped" "$hive.stamped" -- \
    "$HIVEPORT" set "$tmp/work" "${restamp[@]}" --controlset 1
record read "hiveport show --controlset all" "$(basename "$hive").stamped" "" -- \
    "$HIVEPORT" show "$hive.stamped" --controlset all
