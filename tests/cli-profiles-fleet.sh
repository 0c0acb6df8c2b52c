#!/bin/bash
# cli-profiles-fleet.sh: port profiles at fleet scale (issue 10), and on real Windows hives.
#
#   fleet:  `hiveport apply --jobs 4` on 50 copies of a fixture, one corrupt (a hive bin zeroed) and one
#           read-only: 48 changed, 2 failed with their reasons, in the order given; the corrupt and read-only
#           files byte-identical with their times kept.  `apply --check` then finds the 48 matching.  A second
#           apply reports 48 unchanged and rewrites nothing (bytes, modification times and inode numbers of all
#           50 kept).  --jobs 1, 4 and 64 print the same thing; the JSON summary agrees with the text.
#   real:   on every clean real hive in ../shared/hives (copies in a temporary directory): `export` then
#           `apply --check` of the export matches, for the current control set and for all of them with
#           --unset-absent; and a copy stamped with an example profile exports a profile that, applied to a
#           fresh copy, makes it match and export the same profile.  The differencing hive, which has no
#           Select key, round-trips with --controlset 1.  ../shared is only read.
#
# Usage: tests/cli-profiles-fleet.sh    Environment: BUILD (default build), HIVEPORT (default $BUILD/hiveport),
# HIVEPORT_SHARED (default ../shared from the project root), FLEET (copies, default 50), JOBS (default 4).
# Prints the timings, each failure, and a last line "N passed, N failed[, N skipped]"; exits 1 on any failure.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/clilib.sh"
fleet=${FLEET:-50}
jobs=${JOBS:-4}
profiles=$root/examples/profiles

[ -f "$fixtures/system-basic.hive" ] || { echo "cli-profiles-fleet: no fixtures in $fixtures (run make fixtures)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-fleet.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# Bytes, modification time (ns) and inode of each file given: a rewrite by rename changes the inode.
state() { paste -d ' ' <(sha256sum -- "$@") <(stat -c '%y %i' -- "$@"); }

# ---- the fleet ----
cd "$work" || exit 1
mkdir fleet
images=()
for i in $(seq -w 1 "$fleet"); do
    mkdir "fleet/img$i"
    cp "$fixtures/system-basic.hive" "fleet/img$i/SYSTEM"
    images+=("fleet/img$i/SYSTEM")
done
corrupt=fleet/img07/SYSTEM readonly=fleet/img31/SYSTEM
head -c 4096 /dev/zero | dd of="$corrupt" bs=1 seek=8192 conv=notrunc status=none
chmod 444 "$readonly"
# A plan that changes ports the fixture holds, adds one, removes one, in every control set.
cat >plan.profile <<'EOF'
controlset = all
exchange-sa-rfr  = 6101
exchange-sa-nspi = 6102
ntds             = 6105
ntfrs            = 6107
unset exchange-srs
EOF
good=$((fleet - 2))
bad_before=$(state "$corrupt" "$readonly")

# apply_fleet NAME OUT SUMMARY WORD PATTERN: `apply --jobs $jobs` of plan.profile on the fleet, its output in
# OUT.out and OUT.err, its seconds in $took; exit status 1 (the two bad hives failed), the summary line
# SUMMARY, and $good lines (the good hives) matching PATTERN (those that say WORD).
apply_fleet() {
    local name=$1 out=$2 summary=$3 word=$4 pattern=$5 t0 rc
    t0=$(now)
    "$HIVEPORT" apply --jobs "$jobs" plan.profile "${images[@]}" >"$out.out" 2>"$out.err"
    rc=$?
    took=$(elapsed "$t0" "$(now)")
    tally "$name: exit status $rc, expected 1 (two hives failed)" [ "$rc" = 1 ]
    tally "$name: summary line" grep -qx "$summary" "$out.out"
    tally "$name: $good '$word' lines" [ "$(grep -c "$pattern" "$out.out")" = "$good" ]
}
apply_fleet "first apply" apply1 "$fleet hives: $good changed, 0 unchanged, 2 failed" changed ': changed ('
took1=$took
tally "first apply: the corrupt hive's reason" grep -qx "$corrupt: failed: no hive bin at offset 0x2000 (the structure is damaged)" apply1.out
tally "first apply: the read-only hive's reason" grep -qx "$readonly: failed: the file is read-only (mode 0444)" apply1.out
tally "first apply: one line per hive, in the order given" \
    cmp -s <(sed 's/: .*//' apply1.out | head -n "$fleet") <(printf '%s\n' "${images[@]}")
tally "first apply: nothing on stderr" [ ! -s apply1.err ]
tally "first apply: the corrupt and read-only hives are byte-identical, times kept" \
    [ "$(state "$corrupt" "$readonly")" = "$bad_before" ]
tally "first apply: no temporary file left" [ -z "$(find fleet -name '.*hiveport-*')" ]

"$HIVEPORT" apply --check --jobs "$jobs" plan.profile "${images[@]}" >check1.out 2>&1
rc=$?
tally "check after apply: exit status $rc, expected 1 (the corrupt hive cannot be read)" [ "$rc" = 1 ]
tally "check after apply: $((good + 1)) match (the read-only one still drifts)" \
    grep -qx "$fleet hives: $good match, 1 drift, 1 failed" check1.out
for img in fleet/img01/SYSTEM fleet/img50/SYSTEM; do
    [ -f "$img" ] || continue
    tally "$img: ntds is 6105 in both control sets" \
        [ "$("$HIVEPORT" get "$img" ntds) $("$HIVEPORT" get "$img" ntds --controlset 2)" = "6105 6105" ]
done

all_before=$(state "${images[@]}")
apply_fleet "second apply" apply2 "$fleet hives: 0 changed, $good unchanged, 2 failed" unchanged ': unchanged$'
took2=$took
tally "second apply: no hive rewritten (bytes, mtimes, inodes kept)" [ "$(state "${images[@]}")" = "$all_before" ]

# The same output whatever --jobs (read-only runs, so that each sees the same hives).
"$HIVEPORT" apply --check --jobs 1 plan.profile "${images[@]}" >jobs1.out 2>/dev/null
"$HIVEPORT" apply --check --jobs 64 plan.profile "${images[@]}" >jobs64.out 2>/dev/null
tally "--jobs 1, $jobs and 64 print the same" cmp -s jobs1.out jobs64.out
tally "--jobs 1, $jobs and 64 print the same (2)" cmp -s jobs1.out check1.out
"$HIVEPORT" apply --json --jobs "$jobs" plan.profile "${images[@]}" >apply3.json 2>/dev/null
summary=$(python3 -c 'import json,sys; recs=[json.loads(l) for l in sys.stdin]; s=recs[-1]
t={r["target"]: r["status"] for r in recs if r["type"] == "target"}
print(s["targets"], s["changed"], s["unchanged"], s["failed"], len(t), t[sys.argv[1]])' "${images[6]}" <apply3.json)
tally "--json summary: '$summary'" [ "$summary" = "$fleet 0 $good 2 $fleet failed" ]

# For comparison: the same first apply with one worker at a time, on fresh copies.
mkdir serial
for i in $(seq -w 1 "$fleet"); do cp "$fixtures/system-basic.hive" "serial/img$i"; done
t4=$(now)
"$HIVEPORT" apply --jobs 1 plan.profile serial/img* >serial.out 2>&1
t5=$(now)
tally "serial apply: all changed" grep -qx "$fleet hives: $fleet changed, 0 unchanged, 0 failed" serial.out
echo "fleet of $fleet: first apply --jobs $jobs $took1 s, second (no change) $took2 s;" \
    "first apply --jobs 1 $(elapsed "$t4" "$t5") s ($(nproc 2>/dev/null || echo ?) CPUs)"

# ---- real hives ----
real_round_trip() {
    local name=$1 sel=$2 dir=$work/real/$1
    mkdir -p "$dir"
    xz -dc "$hives/$name.xz" >"$dir/SYSTEM" || { fail "$name: cannot decompress"; return; }
    cp "$dir/SYSTEM" "$dir/fresh"
    local before
    before=$(state "$dir/SYSTEM")
    local t0 t1
    t0=$(now)
    if ! "$HIVEPORT" export "$dir/SYSTEM" --controlset "$sel" >"$dir/current.profile" 2>"$dir/err"; then
        fail "$name: export --controlset $sel: $(cat "$dir/err")"
        return
    fi
    t1=$(now)
    tally "$name: export --controlset $sel then apply --check matches" \
        "$HIVEPORT" apply --check "$dir/current.profile" "$dir/SYSTEM" >/dev/null
    if "$HIVEPORT" export "$dir/SYSTEM" --controlset all --unset-absent >"$dir/all.profile" 2>"$dir/err"; then
        tally "$name: export --controlset all --unset-absent then apply --check matches" \
            "$HIVEPORT" apply --check "$dir/all.profile" "$dir/SYSTEM" >/dev/null
    else
        fail "$name: export --controlset all --unset-absent: $(cat "$dir/err")"
    fi
    tally "$name: reading changed nothing" [ "$(state "$dir/SYSTEM")" = "$before" ]
    echo "$name: export $(elapsed "$t0" "$t1") s, $(grep -Evc '^(#|controlset |unset |$)' "$dir/current.profile")" \
        "catalog settings in the '$sel' control set"
    [ "$sel" = current ] || return # a hive without Select cannot be written
    # A stamped copy's ports, exported, make a fresh copy match.
    if ! "$HIVEPORT" apply "$profiles/exchange2003-frontend-dc.profile" "$dir/SYSTEM" >"$dir/out" 2>&1; then
        fail "$name: applying the example profile: $(cat "$dir/out")"
        return
    fi
    "$HIVEPORT" export "$dir/SYSTEM" --controlset all --unset-absent >"$dir/stamped.profile" ||
        { fail "$name: export of the stamped copy"; return; }
    tally "$name: the stamped copy matches its export" \
        "$HIVEPORT" apply --check "$dir/stamped.profile" "$dir/SYSTEM" >/dev/null
    tally "$name: the stamped copy matches the example profile" \
        "$HIVEPORT" apply --check "$profiles/exchange2003-frontend-dc.profile" "$dir/SYSTEM" >/dev/null
    "$HIVEPORT" apply "$dir/stamped.profile" "$dir/fresh" >/dev/null || { fail "$name: applying the export"; return; }
    tally "$name: a fresh copy, the export applied, matches" \
        "$HIVEPORT" apply --check "$dir/stamped.profile" "$dir/fresh" >/dev/null
    tally "$name: ... and exports the same profile" \
        cmp -s <("$HIVEPORT" export "$dir/fresh" --controlset all --unset-absent | tail -n +2) \
        <(tail -n +2 "$dir/stamped.profile")
    tally "$name: ... and the result is clean" \
        bash -c "'$HIVEPORT' show '$dir/fresh' | grep -qx 'dirty:         no'"
}

if [ ! -d "$hives" ]; then
    if hp_skip "cli-profiles-fleet: real hives" "$hives is absent (real hives are not part of the repository)"
    then skipped=$((skipped + 4)); else failed=$((failed + 1)); fi
else
    shared_before=$(state "$hives"/*.xz)
    for name in win7-SYSTEM vista-SYSTEM win10-pruned-SYSTEM delta-1.6-SYSTEM; do
        if [ ! -f "$hives/$name.xz" ]; then
            if hp_skip "cli-profiles-fleet: $name" "$hives/$name.xz is absent"
            then skipped=$((skipped + 1)); else failed=$((failed + 1)); fi
            continue
        fi
        sel=current
        [ "$name" = delta-1.6-SYSTEM ] && sel=1 # no Select key: a number is needed
        real_round_trip "$name" "$sel"
    done
    tally "../shared/hives untouched" [ "$(state "$hives"/*.xz)" = "$shared_before" ]
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
