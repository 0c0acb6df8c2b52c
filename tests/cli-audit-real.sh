#!/bin/bash
# cli-audit-real.sh: the read-side commands (audit, firewall, diff, recover) on the real Windows hives in
# ../shared/hives (decompressed copies; those files are never touched).  For each hive:
#   - audit (text and --json) completes with status 0 or 4, the JSON parses, and it reports the hive's
#     state as SOURCES.md gives it: "dirty" and a hive-dirty finding exactly for the dirty hive,
#     select-missing for the differencing hive that has no Select key;
#   - firewall --format json parses and opens TCP 135; diff of the hive with itself prints nothing, exit 0;
#   - recover copies a clean hive byte for byte and refuses the dirty one (its logs were not kept);
#   - the file's bytes, size, mtime and ctime are what they were before all of it (nothing wrote);
#   - the corrupt hive gets a clear error naming the file from every command (status 1), no crash.
# And the transaction-log samples: recover replays them to the same registry content as Windows' own
# recovered files (hiveport diff prints nothing).
#
# Usage: tests/cli-audit-real.sh    Environment: BUILD (default build), HIVEPORT (default $BUILD/hiveport;
# may carry a prefix such as valgrind), HIVEPORT_SHARED (default ../shared from the project root).
# Last line: "N passed, N failed[, N skipped]" (one per hive).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/clilib.sh"

# name:expected state (clean, dirty, no-select, corrupt), from ../shared/hives/SOURCES.md.
expect=(win7-SYSTEM:clean vista-SYSTEM:clean win10-pruned-SYSTEM:clean dirty-nolog-SYSTEM:dirty
        delta-1.6-SYSTEM:no-select corrupt-SYSTEM:corrupt)
txlogs=(new-format/NewDirtyHive:RecoveredHive_Windows10 old-format/OldDirtyHive:RecoveredHive_Windows7)
total=$((${#expect[@]} + ${#txlogs[@]}))

need_real_hives cli-audit-real "$total" xz xz-utils

work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-audit-real.XXXXXX")
trap 'rm -rf "$work"' EXIT

snap() { echo "$(sha256sum <"$1") $(stat -c '%s %y %z' "$1")"; }

# Runs the command line "$@" (HIVEPORT ...), leaving stdout in $dir/out and stderr in $dir/err; returns
# its status, and complains about a crash (a signal, or valgrind's error status 9) on the way.
run() {
    "$@" >"$dir/out" 2>"$dir/err"
    local rc=$?
    if [ "$rc" -ge 128 ] || [ "$rc" = 9 ]; then
        echo "$name: '${*#$HIVEPORT }' crashed (status $rc): $(head -c 400 "$dir/err")"
        problems=1
    fi
    return $rc
}

# json_check STATE AUDIT_JSON [FIREWALL_JSON]: prints what is wrong with the documents (one python3 run:
# starting it is the slowest step here).
json_check() {
    python3 - "$@" <<'EOF'
import json, sys
state, problems = sys.argv[1], []
try:
    audit = json.load(open(sys.argv[2]))
    codes = [f["code"] for f in audit["findings"]]
    if audit["dirty"] != (state == "dirty"):
        problems.append("audit --json says dirty: %s" % audit["dirty"])
    if ("hive-dirty" in codes) != (state == "dirty"):
        problems.append("audit: hive-dirty finding %s" % ("present" if "hive-dirty" in codes else "missing"))
    if state == "no-select" and "select-missing" not in codes:
        problems.append("audit: no select-missing finding for a hive without Select")
except (ValueError, KeyError, TypeError) as e:
    problems.append("audit --json: not the expected JSON: %r" % e)
if len(sys.argv) > 3:
    try:
        if json.load(open(sys.argv[3]))["rules"][0]["port"] != 135:
            problems.append("firewall --format json: no TCP 135 rule first")
    except (ValueError, KeyError, TypeError, IndexError) as e:
        problems.append("firewall --format json: not the expected JSON: %r" % e)
print("\n".join(problems), end="")
EOF
}

check_hive() {
    name=$1 state=$2 dir=$work/$1 problems=0
    mkdir -p "$dir"
    [ -f "$hives/$name.xz" ] || { echo "$name: $hives/$name.xz is missing"; return 1; }
    local h=$dir/SYSTEM
    xz -dc "$hives/$name.xz" >"$h" || return 1
    local before rc
    before=$(snap "$h")

    if [ "$state" = corrupt ]; then
        for cmd in "audit $h" "audit $h --json" "firewall $h" "diff $h $h" "recover $h -o $dir/out.hive"; do
            run $HIVEPORT $cmd
            rc=$?
            if [ "$rc" != 1 ] || ! grep -q "^hiveport [a-z]*: $h: .*damaged" "$dir/err"; then
                echo "$name: '$cmd' gave status $rc and '$(head -c 300 "$dir/err")', expected 1 and a message naming the file and the damage"
                problems=1
            fi
        done
        [ -e "$dir/out.hive" ] && { echo "$name: recover wrote a file"; problems=1; }
        [ "$(snap "$h")" = "$before" ] || { echo "$name: the file CHANGED"; problems=1; }
        return $problems
    fi

    run $HIVEPORT audit "$h"
    rc=$?
    if [ "$rc" != 0 ] && [ "$rc" != 4 ]; then
        echo "$name: audit gave status $rc: $(cat "$dir/err")"
        problems=1
    fi
    grep -q '^summary: [0-9]* errors\?, [0-9]* warnings\?, [0-9]* info$' "$dir/out" ||
        { echo "$name: audit printed no summary line"; problems=1; }
    run $HIVEPORT audit "$h" --json
    cp "$dir/out" "$dir/audit.json"
    local cs=()
    [ "$state" = no-select ] && cs=(--controlset all)
    run $HIVEPORT firewall "$h" "${cs[@]}" --format json
    cp "$dir/out" "$dir/firewall.json"
    local wrong
    wrong=$(json_check "$state" "$dir/audit.json" "$dir/firewall.json")
    [ -z "$wrong" ] || { echo "$wrong" | sed "s/^/$name: /"; problems=1; }

    run $HIVEPORT diff "$h" "$h" --bytes
    rc=$?
    [ "$rc" = 0 ] && [ ! -s "$dir/out" ] ||
        { echo "$name: diff of the hive with itself: status $rc, output '$(head -c 300 "$dir/out")'"; problems=1; }

    run $HIVEPORT recover "$h" -o "$dir/copy"
    rc=$?
    if [ "$state" = dirty ]; then
        [ "$rc" = 1 ] && [ ! -e "$dir/copy" ] ||
            { echo "$name: recover of a dirty hive without logs: status $rc (expected 1, nothing written)"; problems=1; }
    elif [ "$rc" != 0 ] || ! cmp -s "$h" "$dir/copy"; then
        echo "$name: recover of a clean hive: status $rc, or the copy differs: $(cat "$dir/err")"
        problems=1
    fi

    [ "$(snap "$h")" = "$before" ] || { echo "$name: the file CHANGED (bytes or times)"; problems=1; }
    return $problems
}

# The log samples: recover, then the registry of the result against Windows' own recovered hive.
check_txlog() {
    local sample=${1%%:*} windows=${1#*:} problems=0
    name=txlog/$sample dir=$work/txlog-${sample%%/*}
    mkdir -p "$dir"
    local f base
    for f in "$hives/txlog/${sample%%/*}"/*.xz; do
        base=$(basename "$f" .xz)
        xz -dc "$f" >"$dir/$base" || return 1
    done
    local h=$dir/${sample##*/} before
    before=$(snap "$h")
    run $HIVEPORT recover "$h" -o "$dir/recovered" || { echo "$name: recover failed: $(cat "$dir/err")"; return 1; }
    grep -q "^$h is dirty (sequence numbers [0-9]* and [0-9]* differ): replayed " "$dir/out" ||
        { echo "$name: recover did not say what it replayed: $(cat "$dir/out")"; problems=1; }
    run $HIVEPORT diff "$dir/$windows" "$dir/recovered"
    local rc=$?
    [ "$rc" = 0 ] && [ ! -s "$dir/out" ] ||
        { echo "$name: the recovered hive differs from Windows' (status $rc):"; head -20 "$dir/out"; problems=1; }
    # The samples are not SYSTEM hives: audit refuses them; that the result is clean, recover itself says.
    run $HIVEPORT audit "$dir/recovered" --json
    [ $? = 1 ] && grep -q "not a SYSTEM hive" "$dir/err" ||
        { echo "$name: audit of a hive that is no SYSTEM hive: $(cat "$dir/err")"; problems=1; }
    run $HIVEPORT recover "$dir/recovered" -o "$dir/again"
    grep -q "is clean: there is nothing to replay" "$dir/out" ||
        { echo "$name: the recovered hive is not clean: $(cat "$dir/out")"; problems=1; }
    [ "$(snap "$h")" = "$before" ] || { echo "$name: the original CHANGED"; problems=1; }
    return $problems
}

passed=0 failed=0
for e in "${expect[@]}"; do
    tally "${e%%:*}" check_hive "${e%%:*}" "${e#*:}"
done
for t in "${txlogs[@]}"; do
    tally "txlog/${t%%:*}" check_txlog "$t"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
