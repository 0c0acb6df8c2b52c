#!/bin/bash
# replay.sh REPLAY_DIR SEED_DIR REGRESSION_DIR TARGET...: runs every saved input of every target once, each
# in its own process (REPLAY_DIR/TARGET FILE, built with $(CC) and the normal or the sanitizer build).
# Inputs: REGRESSION_DIR/TARGET/* (every finding ever made, kept for good) and SEED_DIR/TARGET/*.
# A crash, a sanitizer report, a finding (abort) or more than 120 s fails the input.
set -uo pipefail
replay=$1
seeds=$2
regressions=$3
shift 3
# The targets' scratch files (on tmpfs when there is one), removed even when an input crashes.
base=/dev/shm
[ -w "$base" ] || base=${TMPDIR:-/tmp}
HIVEPORT_FUZZ_TMP=$(mktemp -d "$base/hiveport-replay-XXXXXX")
export HIVEPORT_FUZZ_TMP
trap 'rm -rf "$HIVEPORT_FUZZ_TMP"' EXIT
pass=0
fail=0
for t in "$@"; do
    n_reg=0
    n_seed=0
    while IFS= read -r -d '' f; do
        case $f in "$regressions"/*) n_reg=$((n_reg + 1)) ;; *) n_seed=$((n_seed + 1)) ;; esac
        if out=$(timeout 120 "$replay/$t" "$f" 2>&1); then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "FAIL $t $f"
            printf '%s\n' "$out" | tail -n 40
        fi
    done < <(find "$regressions/$t" "$seeds/$t" -type f ! -name '*.md' ! -name '.*' -print0 2>/dev/null | sort -z)
    echo "$t: $n_reg regression inputs, $n_seed seeds replayed"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
