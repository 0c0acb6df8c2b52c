#!/bin/bash
# cli-run.sh: runs the data-driven tests of the hiveport command, one directory per case:
#
#   tests/cli/CASE/cmd     a bash snippet, run in a fresh copy of the fixtures directory, which is both the
#                          working directory and $FIXTURES; $HIVEPORT is the command to test (used unquoted,
#                          so it may carry a prefix such as valgrind).  Exiting with 77 skips the case.
#   tests/cli/CASE/exit    the expected exit status (0 when the file is absent)
#   tests/cli/CASE/stdout  the expected standard output, compared exactly (not compared when absent)
#   tests/cli/CASE/stderr  fixed strings, one per line, that must each occur in standard error
#   tests/cli/CASE/damaged the hives the case damages on purpose, one name per line; every other hive it
#                          writes must pass 'hiveport check' with no error (check_written_hives)
#
# Usage: tests/cli-run.sh [CASE...]            (default: every case)
# Environment: BUILD (default build), HIVEPORT (default $BUILD/hiveport; give absolute paths in it),
# JOBS (cases run at once, default the number of CPUs).
# Prints each failure in detail, then a last line "N passed, N failed[, N skipped]"; exits 1 on any failure.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
export HIVEPORT=${HIVEPORT:-$build/hiveport}
# For the cases: tests/support (asuser.sh runs the tool as nobody from a copy that user can reach).
export HIVEPORT_TEST_SUPPORT=$root/tests/support
fixtures=$build/fixtures
if ! ls "$fixtures"/*.hive >/dev/null 2>&1; then
    echo "cli-run: no fixtures in $fixtures (run make fixtures)" >&2
    exit 1
fi

if [ $# -gt 0 ]; then cases=("$@"); else cases=($(cd "$root/tests/cli" && ls)); fi
work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Every hive a case wrote (a fixture copy whose bytes changed, or a new regf file) must pass 'hiveport check'
# with no error, except those its 'damaged' file names: prints one line per hive that does not.
check_written_hives() {
    local run=$1 dir=$2 f name
    for f in "$run/fixtures"/* "$run/fixtures"/*/*; do
        [ -f "$f" ] && [ "$(head -c 4 "$f" 2>/dev/null)" = regf ] || continue
        name=${f#"$run/fixtures/"}
        [ -f "$fixtures/$name" ] && cmp -s "$f" "$fixtures/$name" && continue
        [ -f "$dir/damaged" ] && grep -qxF -- "$name" "$dir/damaged" && continue
        "${HIVEPORT##* }" check --fail-on error "$f" >"$run/check.out" 2>&1
        [ $? = 4 ] && echo "hiveport check found errors in ${f#"$run/fixtures/"}: $(grep -m1 ' error ' "$run/check.out")"
    done
}

# Runs one case; leaves its verdict (PASS, FAIL or SKIP) in $work/NAME/verdict, details in .../report.
run_case() {
    local name=$1 dir=$root/tests/cli/$1 run=$work/$1
    mkdir -p "$run/fixtures"
    if [ ! -f "$dir/cmd" ]; then
        echo "no $dir/cmd" >"$run/report"
        echo FAIL >"$run/verdict"
        return
    fi
    cp "$fixtures"/*.hive "$fixtures"/*.LOG1 "$run/fixtures/"
    (cd "$run/fixtures" && FIXTURES=$run/fixtures bash "$dir/cmd" >"$run/stdout" 2>"$run/stderr" </dev/null)
    local status=$?
    if [ "$status" = 77 ]; then
        tail -n 1 "$run/stderr" >"$run/report"
        if [ "${CI:-}" = true ]; then
            echo "CI=true: a skip in CI is a failure" >>"$run/report"
            echo FAIL >"$run/verdict"
        else
            echo SKIP >"$run/verdict"
        fi
        return
    fi
    local problems=() expected_status=0 want
    [ -f "$dir/exit" ] && expected_status=$(tr -d ' \n' <"$dir/exit")
    [ "$status" = "$expected_status" ] || problems+=("exit status $status, expected $expected_status")
    if [ -f "$dir/stdout" ] && ! cmp -s "$dir/stdout" "$run/stdout"; then
        problems+=("stdout differs (- expected, + actual):
$(diff -u "$dir/stdout" "$run/stdout" | tail -n +3)")
    fi
    local unchecked
    unchecked=$(check_written_hives "$run" "$dir")
    [ -z "$unchecked" ] || problems+=("$unchecked")
    if [ -f "$dir/stderr" ]; then
        while IFS= read -r want || [ -n "$want" ]; do
            [ -z "$want" ] || grep -qF -- "$want" "$run/stderr" || problems+=("stderr lacks: $want")
        done <"$dir/stderr"
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        echo PASS >"$run/verdict"
        return
    fi
    { printf '  %s\n' "${problems[@]}"; echo "  stderr was:"; sed 's/^/    /' "$run/stderr"; } >"$run/report"
    echo FAIL >"$run/verdict"
}

# Cases are independent (each has its own copy of the fixtures): run JOBS at a time, report in order.
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
for name in "${cases[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run_case "$name" &
done
wait

passed=0 failed=0 skipped=0
for name in "${cases[@]}"; do
    case $(cat "$work/$name/verdict" 2>/dev/null) in
    PASS) passed=$((passed + 1)) ;;
    SKIP) echo "SKIP $name: $(cat "$work/$name/report")"; skipped=$((skipped + 1)) ;;
    *) echo "FAIL $name"; cat "$work/$name/report" 2>/dev/null; failed=$((failed + 1)) ;;
    esac
done

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
