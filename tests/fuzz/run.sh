#!/bin/bash
# run.sh BUILD TARGET SECONDS [RUNS SEED]: fuzzes one target with libFuzzer.
#   Without RUNS: for SECONDS, from the seeds and the corpus kept in BUILD/fuzz/corpus/TARGET (which grows):
#   open-ended exploration (make fuzz).
#   With RUNS: exactly RUNS inputs from the seeds alone, with libFuzzer's random seed SEED, so that the run
#   is the same on every machine and a finding in CI is found again by the same command here (make
#   fuzz-short); SECONDS is then only a ceiling.
# Findings go to BUILD/fuzz/artifacts/TARGET/ and fail the run; copy each into tests/fuzz/regressions/TARGET/
# (with a note) once the cause is fixed.  The log is in BUILD/fuzz/logs/TARGET.log.
set -uo pipefail
build=$1
target=$2
seconds=$3
runs=${4:-}
seed=${5:-1}
bin=$build/fuzz/$target
corpus=$build/fuzz/corpus/$target
[ -z "$runs" ] || corpus=$build/fuzz/corpus-short/$target
artifacts=$build/fuzz/artifacts/$target
log=$build/fuzz/logs/$target.log
[ -z "$runs" ] || rm -rf "$corpus"
mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
cp "$build/fuzz-seeds/$target"/* "$corpus"/
base=/dev/shm
[ -w "$base" ] || base=${TMPDIR:-/tmp}
if [ -n "$runs" ]; then # no random letters in the paths the target sees (see fuzz.c)
    scratch=$base/hiveport-fuzz-short-$target
    rm -rf "$scratch" && mkdir -p "$scratch"
else
    scratch=$(mktemp -d "$base/hiveport-fuzz-$target-XXXXXX")
fi
marker=$scratch/.start
touch "$marker"
start=$(date +%s)
HIVEPORT_FUZZ_TMP=$scratch HIVEPORT_FIXTURES=$build/fixtures ${runs:+env HIVEPORT_FUZZ_FIXED_DIR=1 SOURCE_DATE_EPOCH=1700000000 setarch "$(uname -m)" -R} "$bin" -max_total_time="$seconds" ${runs:+-runs=$runs -seed=$seed -reload=0} -timeout=30 \
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
