#!/bin/bash
# slurm-test.sh: `make check-slurm`.  examples/fleet/slurm-array.sh run by a real Slurm, as written.
#
# A single-node cluster on this machine, all of it in a temporary directory: munged with its own key and
# socket, slurmctld and slurmd (Debian slurm-wlm) in the foreground of background jobs, a generated
# slurm.conf naming this machine (`hostname -s`, `nproc` CPUs; reached at 127.0.0.1, whatever the name
# resolves to), free TCP ports, no cgroups
# (proctrack/linuxproc, task/none), no accounting.  Everything is stopped and removed on exit, failed or
# not: jobs cancelled, then every process whose working directory is in the temporary directory (job
# steps) and the three daemons, each by its process id.
#
# Over a manifest of 40 hives generated from the system-basic fixture (4 of them already holding the
# plan), `sbatch --array=0-3 --wait slurm-array.sh PLAN MANIFEST RESULTS`:
#   run 1: sbatch exits 0; 4 JSON Lines files, which merge with `cat | jq`; every hive of the manifest has
#          exactly one target record in all of them, in exactly one shard; 36 changed, 4 unchanged; every
#          hive holds the plan's ports afterwards (`hiveport apply --check` over every control
#          set, and `get` of each setting in the current one);
#   run 2: one hive truncated: sbatch exits non-zero; that hive is one "failed" record, its task alone
#          exited 1, the file is byte for byte what it was, the 39 others are unchanged records.
# Environment: BUILD, HIVEPORT (the hiveport to put first on PATH; default $BUILD/hiveport).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/skip.sh"
BUILD=${BUILD:-build}
HIVEPORT=${HIVEPORT:-$root/$BUILD/hiveport}
example=$root/examples/fleet/slurm-array.sh
plan=$root/examples/profiles/domain-controller.profile
fixture=$root/$BUILD/fixtures/system-basic.hive
TASKS=4 HIVES=40 TIMEOUT=${SLURM_TEST_TIMEOUT:-300}
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: slurm: $*"; }
summary() { echo "slurm-test: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; }

if [ "$(id -u)" -ne 0 ]; then
    # slurmd runs jobs as their submitter and SlurmUser is root here: it needs root.
    hp_skip slurm-test "a Slurm node daemon (slurmd) must run as root" && exit 0
    exit 1
fi
missing=
for c in slurmctld slurmd sbatch sinfo squeue scontrol scancel munged mungekey munge jq python3; do
    command -v "$c" >/dev/null || missing="$missing $c"
done
if [ -n "$missing" ]; then
    hp_skip slurm-test "missing:$missing (Debian slurm-wlm, munge, jq)" && exit 0
    exit 1
fi
[ -x "$HIVEPORT" ] && [ -f "$fixture" ] || { fail "$HIVEPORT or $fixture missing (make, make fixtures)"; summary; exit 1; }

# munged wants every directory above its socket searchable by all.
work=$(mktemp -d /tmp/hiveport-slurm.XXXXXX) && chmod 755 "$work" || exit 1
export SLURM_CONF=$work/slurm.conf
pids=()
cleanup() {
    set +e
    if [ -f "$SLURM_CONF" ] && [ ${#pids[@]} -gt 1 ]; then
        scancel --quiet --full $(squeue -h -o %A 2>/dev/null) 2>/dev/null
        for _ in $(seq 20); do [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.5; done
    fi
    # Job steps (slurmstepd and what it runs) work in $work: stopped by their pids.
    local p cwd self=$$
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = "$self" ] && continue
        case " ${pids[*]} " in *" $p "*) continue ;; esac
        cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
        case "$cwd" in "$work"|"$work"/*) kill -9 "$p" 2>/dev/null ;; esac
    done
    # The daemons, slurmd first, each by the pid of its background job; then waited for.
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null; done
    for i in "${!pids[@]}"; do
        for _ in $(seq 20); do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.25; done
        kill -9 "${pids[i]}" 2>/dev/null
        wait "${pids[i]}" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show_logs() {
    local f
    for f in "$work"/munged.log "$work"/slurmctld.log "$work"/slurmd.log; do
        [ -f "$f" ] && { echo "--- last lines of $f"; tail -15 "$f"; }
    done
}

# ---- the cluster ----
host=$(hostname -s) cpus=$(nproc)
read -r ctld_port slurmd_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("", 0))
print(*[x.getsockname()[1] for x in s])')
mkdir -p "$work/state" "$work/spool"
mungekey -c -k "$work/munge.key" || { fail "mungekey"; summary; exit 1; }
munged -F --socket="$work/munge.sock" --key-file="$work/munge.key" --log-file="$work/munged.log" \
    --pid-file="$work/munged.pid" --seed-file="$work/munged.seed" >>"$work/munged.log" 2>&1 &
pids+=($!)
for _ in $(seq 40); do [ -S "$work/munge.sock" ] && break; sleep 0.25; done
if munge -S "$work/munge.sock" -n </dev/null | unmunge -S "$work/munge.sock" >/dev/null 2>&1; then
    pass "munged: a credential made and decoded on $work/munge.sock"
else
    show_logs; fail "munged did not start"; summary; exit 1
fi
cat >"$SLURM_CONF" <<EOF
# Generated by tests/slurm-test.sh: a single-node test cluster on $host, state in $work.
ClusterName=hiveport-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge.sock
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -c -f "$SLURM_CONF" >"$work/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N "$host" -f "$SLURM_CONF" >"$work/slurmd.out" 2>&1 &
pids+=($!)
state=
for _ in $(seq 120); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null)
    [ "$state" = idle ] && break
    sleep 0.5
done
if [ "$state" = idle ]; then
    pass "slurmctld and slurmd up: node $host, $cpus CPUs, idle (Slurm $(sinfo -V | awk '{print $2}'))"
else
    show_logs; fail "node $host is not idle after 60 s (state: ${state:-none})"; summary; exit 1
fi

# ---- the fleet ----
fleet=$work/fleet manifest=$work/manifest
mkdir -p "$fleet"
: >"$manifest"
for i in $(seq -w 0 $((HIVES - 1))); do
    mkdir -p "$fleet/host$i"
    cp "$fixture" "$fleet/host$i/SYSTEM"
    echo "$fleet/host$i/SYSTEM" >>"$manifest"
done
# Four already hold the plan: their records must say unchanged.
for i in 00 11 22 33; do "$HIVEPORT" apply "$plan" "$fleet/host$i/SYSTEM" >/dev/null || fail "pre-stamping host$i"; done
settings=$(sed -n 's/^\([a-z][a-z0-9-]*\)[[:space:]]*=[[:space:]]*\([0-9][0-9]*\).*/\1=\2/p' "$plan" | grep -v '^controlset=')

# submit RUN: the example, as its header says, from $work/RUN; sets $status and $jobid.
submit() {
    local run=$1
    mkdir -p "$work/$run"
    local t0=$(date +%s)
    jobid=$(cd "$work/$run" && PATH=$(dirname "$HIVEPORT"):$PATH timeout "$TIMEOUT" \
        sbatch --parsable --array=0-$((TASKS - 1)) --wait "$example" "$plan" "$manifest" "$work/$run/results" \
        2>"$work/$run/sbatch.err")
    status=$?
    jobid=${jobid%%;*}
    echo "slurm-test: $run: job $jobid, sbatch --wait exited $status after $(( $(date +%s) - t0 )) s"
    if [ "$status" -eq 124 ]; then
        squeue -o '%i %T %r' ; show_logs; fail "$run: not done after $TIMEOUT s"; return 1
    fi
}
# task_exit JOBID K: the exit code Slurm recorded for array task K.
task_exit() { scontrol -o show job "$1_$2" 2>/dev/null | sed -n 's/.* ExitCode=\([0-9]*\):.*/\1/p'; }

# records RUN: the merged records of RUN's shards (cat | jq), one compact object a line.
records() { cat "$work/$1"/results/shard-*.jsonl | jq -c .; }

check_shards() {
    local run=$1 k n
    n=$(ls "$work/$run"/results/shard-*.jsonl 2>/dev/null | wc -l)
    [ "$n" -eq "$TASKS" ] && pass "$run: $TASKS JSON Lines files" || fail "$run: $n JSON Lines files, not $TASKS"
    if records "$run" >"$work/$run/merged"; then
        pass "$run: cat shard-*.jsonl | jq: $(wc -l <"$work/$run/merged") records"
    else
        fail "$run: the shards do not merge with cat | jq"
    fi
    # Every hive of the manifest in exactly one target record, in exactly one shard.
    for k in $(seq 0 $((TASKS - 1))); do
        jq -r "select(.type == \"target\") | .target + \" $k\"" "$work/$run/results/shard-$k.jsonl"
    done | sort >"$work/$run/targets"
    if [ "$(cut -d' ' -f1 "$work/$run/targets" | sort -u)" = "$(sort "$manifest")" ] &&
       [ "$(wc -l <"$work/$run/targets")" -eq "$HIVES" ]; then
        pass "$run: each of the $HIVES hives has exactly one record, in one shard ($(cut -d' ' -f2 "$work/$run/targets" | sort | uniq -c | awk '{printf "%s%s", s, $1; s = "+"}'))"
    else
        fail "$run: the target records do not cover the manifest exactly once:"
        cut -d' ' -f1 "$work/$run/targets" | sort | uniq -c | awk '$1 != 1' | head
    fi
    local sums
    sums=$(jq -s -c '[.[] | select(.type == "summary")] | {summaries: length, targets: (map(.targets) | add),
        changed: (map(.changed) | add), unchanged: (map(.unchanged) | add), failed: (map(.failed) | add)}' \
        "$work/$run/merged")
    echo "slurm-test: $run: merged summaries $sums"
    summaries=$sums
    local logs
    logs=$(ls "$work/$run"/hiveport-apply-"$jobid"_*.log 2>/dev/null | wc -l)
    [ "$logs" -eq "$TASKS" ] && pass "$run: $TASKS task logs hiveport-apply-${jobid}_K.log" ||
        fail "$run: $logs task logs (--output), not $TASKS"
}

# ---- run 1: the whole fleet ----
if submit run1; then
    [ "$status" -eq 0 ] && pass "run1: sbatch --array=0-$((TASKS - 1)) --wait slurm-array.sh exited 0" ||
        { fail "run1: sbatch exited $status"; cat "$work/run1/sbatch.err" "$work/run1"/*.log 2>/dev/null | tail -20; }
    check_shards run1
    [ "$summaries" = "{\"summaries\":$TASKS,\"targets\":$HIVES,\"changed\":36,\"unchanged\":4,\"failed\":0}" ] &&
        pass "run1: 36 changed, 4 unchanged, 0 failed" || fail "run1: summaries $summaries"
    out=$("$HIVEPORT" apply --check --from "$manifest" --json "$plan" | tail -1)
    [ "$(jq -c '[.match, .drift, .failed]' <<<"$out")" = "[$HIVES,0,0]" ] &&
        pass "run1: hiveport apply --check: all $HIVES hives hold the plan" || fail "run1: apply --check: $out"
    bad=0
    while read -r hive; do
        for s in $settings; do
            [ "$("$HIVEPORT" get "$hive" "${s%%=*}" 2>/dev/null)" = "${s#*=}" ] || bad=$((bad + 1))
        done
    done <"$manifest"
    [ "$bad" -eq 0 ] && pass "run1: every hive reads $(echo $settings) (hiveport get)" ||
        fail "run1: $bad hive settings differ from the plan"
fi

# ---- run 2: one hive damaged ----
broken=$fleet/host17/SYSTEM
head -c 3000 "$fixture" >"$broken"
cp "$broken" "$work/broken.before"
if submit run2; then
    [ "$status" -ne 0 ] && pass "run2: sbatch --wait exited $status (a task failed)" ||
        fail "run2: sbatch --wait exited 0 with a damaged hive in the fleet"
    check_shards run2
    [ "$summaries" = "{\"summaries\":$TASKS,\"targets\":$HIVES,\"changed\":0,\"unchanged\":39,\"failed\":1}" ] &&
        pass "run2: 39 unchanged, 1 failed" || fail "run2: summaries $summaries"
    failed_recs=$(jq -c 'select(.type == "target" and .status == "failed") | [.target, .error]' "$work/run2/merged")
    if [ "$(grep -c . <<<"$failed_recs")" -eq 1 ] && [ "$(jq -r '.[0]' <<<"$failed_recs")" = "$broken" ]; then
        pass "run2: one failed record: $failed_recs"
    else
        fail "run2: failed records: ${failed_recs:-none}"
    fi
    k=$(awk -v h="$broken" '$1 == h { print $2 }' "$work/run2/targets")
    codes=$(for t in $(seq 0 $((TASKS - 1))); do printf '%s ' "$(task_exit "$jobid" "$t")"; done)
    expect=$(for t in $(seq 0 $((TASKS - 1))); do [ "$t" = "$k" ] && printf '1 ' || printf '0 '; done)
    [ "$codes" = "$expect" ] && pass "run2: task exit codes $codes(task $k holds the damaged hive)" ||
        fail "run2: task exit codes '$codes', expected '$expect'"
    cmp -s "$broken" "$work/broken.before" && pass "run2: the damaged hive is byte for byte as it was" ||
        fail "run2: the damaged hive changed"
fi
summary
