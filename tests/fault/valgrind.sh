#!/bin/bash
# valgrind.sh "CHECK_BINS" REPLAY_DIR SEED_DIR FAULT_DIR "FUZZ_TARGETS" "FAULT_DRIVERS": the Check suites, every
# fuzz seed and regression, and the fault drivers, under $VALGRIND (memcheck with --error-exitcode and full
# leak checking).  Check forks each test, so every test's child is leak-checked on its own (with 30 times
# the usual time limit: memcheck is slow).  The fault
# drivers run shortened (fewer rounds, no 4 GiB write-opens: memcheck cannot hand out 4 GiB).
set -uo pipefail
check_bins=$1
replay=$2
seeds=$3
fault=$4
targets=$5
drivers=$6
: "${VALGRIND:?}"
pass=0
fail=0
run() { # label, command...
    local label=$1
    shift
    if out=$("$@" 2>&1); then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "not ok - $label"
        printf '%s\n' "$out" | tail -n 60
    fi
}
for t in $check_bins; do
    echo "== $t"
    run "$t" env HIVEPORT_SHARED=../shared CK_TIMEOUT_MULTIPLIER=30 $VALGRIND "$t"
done
for t in $targets; do
    n=0
    while IFS= read -r -d '' f; do
        run "$t $f" $VALGRIND "$replay/$t" "$f"
        n=$((n + 1))
    done < <(find tests/fuzz/regressions/$t "$seeds/$t" -type f ! -name '*.md' ! -name '.*' -print0 2>/dev/null | sort -z)
    echo "== $t: $n inputs"
done
echo "== fault drivers"
run "fault drivers" env HIVEPORT_FAULT_NO_HUGE=1 HIVEPORT_FAULT_ROUNDS=10 HIVEPORT_FAULT_KILLS=8 \
    HIVEPORT_FAULT_FILLER_KB=1000 FAULT_WRAP="$VALGRIND" bash tests/fault/run.sh "$fault" $drivers
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
