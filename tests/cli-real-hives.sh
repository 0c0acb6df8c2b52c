#!/bin/bash
# cli-real-hives.sh: hiveport on real Windows SYSTEM hives (../shared/hives, read-only: only copies are
# written).  On each clean hive: `hiveport set` pins five ports in one commit, `hiveport get` reads each
# back, `hiveport show` still finds the hive clean, and regf-compare.py checks that libregf's regfexport of
# the result differs from its export of the original only by the new keys and values (and the header only
# in the fields a commit changes).
#
# Usage: tests/cli-real-hives.sh     Environment: BUILD (default build), HIVEPORT (default $BUILD/hiveport),
# HIVEPORT_SHARED (default ../shared from the project root).  Last line: "N passed, N failed[, N skipped]".
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/clilib.sh"
names=(win7-SYSTEM vista-SYSTEM win10-pruned-SYSTEM)

need_real_hives cli-real-hives "${#names[@]}" regfexport libregf-utils

# A fixed write time, so that regf-compare.py can check the header's exactly.
export SOURCE_DATE_EPOCH=1700000000
work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-real.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The assignments, and the same values as regf-compare.py expects them (key:value=port, REG_DWORD).
assign=(exchange-sa-rfr=5001 exchange-sa-nspi=5002 exchange-is=5003 exchange-srs=5004 ntds=5005)
expect=('MSExchangeSA\Parameters:TCP/IP Port=5001' 'MSExchangeSA\Parameters:TCP/IP NSPI Port=5002'
        'MSExchangeIS\ParametersSystem:TCP/IP Port=5003' 'MSExchangeSRS\Parameters:TCP/IP=5004'
        'NTDS\Parameters:TCP/IP Port=5005')

# One hive; prints its problems and returns 1 on failure.
check_hive() {
    local name=$1 dir=$work/$1 problems=0
    mkdir -p "$dir"
    if [ ! -f "$hives/$name.xz" ]; then
        echo "$name: $hives/$name.xz is missing"
        return 1
    fi
    xz -dc "$hives/$name.xz" >"$dir/orig" && cp "$dir/orig" "$dir/SYSTEM" || return 1
    local cs
    cs=$($HIVEPORT show "$dir/SYSTEM" --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["selected"][0]["controlset"])') || return 1

    if ! $HIVEPORT set "$dir/SYSTEM" "${assign[@]}" 2>"$dir/set.err"; then
        echo "$name: hiveport set failed: $(cat "$dir/set.err")"
        return 1
    fi
    [ -s "$dir/set.err" ] && { echo "$name: unexpected output on stderr: $(cat "$dir/set.err")"; problems=1; }
    local a got
    for a in "${assign[@]}"; do
        got=$($HIVEPORT get "$dir/SYSTEM" "${a%=*}")
        [ "$got" = "${a#*=}" ] || { echo "$name: get ${a%=*} printed '$got', expected ${a#*=}"; problems=1; }
    done
    $HIVEPORT show "$dir/SYSTEM" | grep -qx 'dirty:         no' || { echo "$name: the result is not clean"; problems=1; }

    # regfexport takes seconds on the Windows 7 hive: both exports run at once.
    regfexport "$dir/orig" >"$dir/orig.txt" 2>"$dir/orig.err" &
    local orig_pid=$!
    regfexport "$dir/SYSTEM" >"$dir/new.txt" 2>"$dir/new.err" ||
        { echo "$name: regfexport of the result failed: $(cat "$dir/new.err")"; wait; return 1; }
    wait $orig_pid || { echo "$name: regfexport of the original failed"; return 1; }
    cmp -s "$dir/orig.err" "$dir/new.err" || { echo "$name: regfexport complains about the result:"; diff "$dir/orig.err" "$dir/new.err"; problems=1; }
    python3 "$root/tests/regf-compare.py" "$dir/orig" "$dir/SYSTEM" "$dir/orig.txt" "$dir/new.txt" "$cs" "${expect[@]}" |
        sed "s/^/$name: /"
    [ "${PIPESTATUS[0]}" = 0 ] || problems=1
    return $problems
}

passed=0 failed=0
for name in "${names[@]}"; do
    tally "$name" check_hive "$name"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
