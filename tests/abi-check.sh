#!/bin/bash
# abi-check.sh LIBRARY: compares LIBRARY with the ABI baseline ($ABI_BASELINE) using abidiff.
# abidiff's exit status is a bit field: 1 error, 2 usage error, 4 ABI change, 8 incompatible ABI change.
# Only additions (4 alone) pass; the report is printed either way.
set -u
lib=$1
baseline=${ABI_BASELINE:-abi/libhiveport.so.0.abi}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/skip.sh"
if ! command -v abidiff >/dev/null; then
    hp_skip abi "abidiff is not installed (Debian package abigail-tools)" && exit 0
    exit 1
fi
[ -f "$baseline" ] || { echo "FAIL: abi: no baseline $baseline (make abi-baseline writes it)"; exit 1; }
# abi/hiveport.abignore names the changes that keep the ABI (a field added at the end of a struct only the
# library allocates).
report=$(abidiff --suppressions "$root/abi/hiveport.abignore" --headers-dir2 "$root/include" "$baseline" "$lib" 2>&1)
status=$?
# abidiff sets bit 8 only for removed symbols; a changed type (a moved field) is bit 4 with functions or
# variables counted as changed in its summaries.  Compatible means: nothing removed, nothing changed.
summary=$(grep -E '^(Functions|Variables|Function symbols|Variable symbols) changes summary' <<<"$report")
broken=$(grep -Eo '[1-9][0-9]* (Removed|Changed)' <<<"$summary")
if [ $((status & 3)) -ne 0 ]; then
    echo "$report"
    echo "FAIL: abi: abidiff could not compare $lib with $baseline (status $status)"
    exit 1
fi
if [ $((status & 8)) -ne 0 ] || [ -n "$broken" ]; then
    echo "$report"
    echo "FAIL: abi: $lib is not compatible with $baseline: restore the old interface, or bump the SONAME,"
    echo "      the version node in lib/hiveport.map and the baseline (make abi-baseline) on purpose"
    exit 1
fi
if [ $((status & 4)) -ne 0 ]; then
    echo "$summary"
    echo "abi: compatible with $baseline (additions only)"
else
    echo "abi: identical to $baseline"
fi
