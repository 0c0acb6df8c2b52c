#!/bin/bash
# run.sh FAULT_DIR DRIVER...: runs the fault-injection drivers and totals their checks.
# fault_commit runs with the failing-call shim preloaded (under ASan with verify_asan_link_order=0, so the
# shim may come first).  FAULT_WRAP (e.g. valgrind) goes in front of each driver.  Each driver prints
# "ok - ..." / "not ok - ..." per check and "# ..." notes; only failures, notes and totals are shown (not
# the indented "#   " details: run a driver by hand to see them).
set -uo pipefail
dir=$1
shift
total_pass=0
total_fail=0
for d in "$@"; do
    env=()
    if [ "$d" = fault_commit ] || [ "$d" = fault_logcommit ]; then
        env+=("LD_PRELOAD=$(cd "$dir" && pwd)/failshim.so")
        [ "${SANITIZE:-}" = 1 ] && env+=("ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}")
    fi
    start=$(date +%s)
    out=$(env "${env[@]}" ${FAULT_WRAP:-} "$dir/$d" 2>&1)
    rc=$?
    elapsed=$(($(date +%s) - start))
    p=$(printf '%s\n' "$out" | grep -c '^ok - ')
    f=$(printf '%s\n' "$out" | grep -c '^not ok - ')
    printf '%s\n' "$out" | grep -v -e '^ok - ' -e '^#   '
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $d exited with status $rc"
        f=1
    fi
    echo "== $d: $p passed, $f failed (${elapsed}s)"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
