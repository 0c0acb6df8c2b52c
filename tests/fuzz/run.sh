#!/bin/bash
# run.sh BUILD TARGET SECONDS: fuzzes one target for SECONDS with libFuzzer, from the seeds and the corpus
# kept in BUILD/fuzz/corpus/TARGET.  Findings go to BUILD/fuzz/artifacts/TARGET/ and fail the run; copy
# each into tests/fuzz/regressions/TARGET/ (with a note) once the cause is fixed.  The log is in
# BUILD/fuzz/logs/TARGET.log.
set -uo pipefail
build=$1
target=$2
seconds=$3
bin=$build/fuzz/$target
corpus=$build/fuzz/corpus/$target
artifacts=$build/fuzz/artifacts/$target
log=$build/fuzz/logs/$target.log
mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
cp "$build/fuzz-seeds/$target"/* "$corpus"/
base=/dev/shm
[ -w "$base" ] || base=${TMPDIR:-/tmp}
scratch=$(mktemp -d "$base/hiveport-fuzz-$target-XXXXXX")
marker=$scratch/.start
touch "$marker"
start=$(date +%s)
HIVEPORT_FUZZ_TMP=$scratch HIVEPORT_FIXTURES=$build/fixtures "$bin" -max_total_time="$seconds" -timeout=30 \
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" -dict=tests/fuzz/hive.dict \
    "$corpus" > "$log" 2>&1
rc=$?
elapsed=$(($(date +%s) - start))
found=$(find "$artifacts" -type f -newer "$marker" | sort)
rm -rf "$scratch"
stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
execs=$(stat number_of_executed_units)
rate=$(stat average_exec_per_sec)
cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -n 1)
echo "$target: ${execs:-?} executions in ${elapsed}s (${rate:-?}/s), ${cov:-cov: ?}, corpus $(find "$corpus" -type f | wc -l) inputs"
if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    echo "$target: FAILED (libFuzzer exit $rc); findings in $artifacts:"
    printf '  %s\n' $found
    grep -aE 'ERROR|FUZZ FINDING|SUMMARY|==[0-9]+==|#[0-9]+ ' "$log" | grep -v '^#[0-9]*.*\(NEW\|REDUCE\|pulse\|INITED\)' | head -40
    exit 1
fi
