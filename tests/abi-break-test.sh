#!/bin/bash
# abi-break-test.sh: the ABI check must catch a break.  Builds the library from a scratch copy of the tree
# whose public struct hiveport_setting has its fields type and flags swapped (same size, other offsets: code
# built against the old header reads the wrong field), and expects
# tests/abi-check.sh to fail on it with "not compatible"; then a copy with only an added function, which
# must pass.  Environment: ABI_BASELINE.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/tree-files.sh"
. "$root/tests/support/skip.sh"
if ! command -v abidiff >/dev/null; then
    hp_skip abi-break-test "abidiff is not installed (Debian package abigail-tools)" && exit 0
    exit 1
fi
baseline=$root/${ABI_BASELINE:-abi/libhiveport.so.0.abi}
work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-abi.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0 passed=0

# scratch NAME: a copy of the tracked tree (plus the working tree's changes) in $work/NAME
scratch() {
    mkdir -p "$work/$1"
    (cd "$root" && hp_tree_files . |
        xargs -0 cp --parents -t "$work/$1" 2>/dev/null)
}
build_lib() { make -C "$work/$1" --no-print-directory -s BUILD=build-abi SANITIZE= lib >"$work/$1.log" 2>&1; }

scratch broken
sed -i '/^typedef struct hiveport_setting {/,/^} hiveport_setting;/{/^    unsigned type; /{h;d};/^    unsigned flags; /G}' \
    "$work/broken/include/hiveport.h"
sed -n '/^typedef struct hiveport_setting {/,/^}/p' "$work/broken/include/hiveport.h" | grep -A1 'unsigned flags;' |
    grep -q 'unsigned type;' || { echo "FAIL: abi-break-test: could not edit the copy"; exit 1; }
if ! build_lib broken; then
    echo "FAIL: abi-break-test: the changed copy did not build:"; tail -20 "$work/broken.log"; exit 1
fi
out=$(ABI_BASELINE=$baseline bash "$root/tests/abi-check.sh" "$work/broken/build-abi/libhiveport.so".*.* 2>&1)
if [ $? -ne 0 ] && grep -q 'not compatible' <<<"$out"; then
    passed=$((passed + 1))
else
    echo "FAIL: abi-break-test: a changed hiveport_setting passed the ABI check:"; echo "$out" | tail -20
    failed=$((failed + 1))
fi

scratch added
cat >"$work/added/lib/base/abi_addition.c" <<'C'
#include "hiveport.h"
HIVEPORT_API int hiveport_abi_test_addition(void);
int hiveport_abi_test_addition(void) { return 1; }
C
if ! build_lib added; then
    echo "FAIL: abi-break-test: the copy with an added function did not build:"; tail -20 "$work/added.log"; exit 1
fi
out=$(ABI_BASELINE=$baseline bash "$root/tests/abi-check.sh" "$work/added/build-abi/libhiveport.so".*.* 2>&1)
status=$?
# The addition must really be in the library (a file outside the build's source folders would pass vacuously).
if [ $status -eq 0 ] && grep -q 'additions only' <<<"$out" &&
   nm -D --defined-only "$work/added/build-abi/libhiveport.so".*.* | grep -q ' hiveport_abi_test_addition'; then
    passed=$((passed + 1))
else
    echo "FAIL: abi-break-test: an added function failed the ABI check:"; echo "$out" | tail -20
    failed=$((failed + 1))
fi
echo "abi-break-test: $passed passed, $failed failed"
[ $failed -eq 0 ]
