#!/bin/bash
# slurm-array.sh: one port plan over a fleet of hives as a Slurm job array: task K of N runs
# `hiveport apply --shard K/N`, so the N tasks together cover every hive of the manifest exactly once
# (hiveport(1), FLEETS).  Submit with:
#
#   sbatch --array=0-7 slurm-array.sh /fleet/plan.reg /fleet/manifest /fleet/results
#
# The array must be 0-based (0 to N-1); N is the number of tasks in it.  The hives, the plan and the
# manifest must be at the same paths on every node (a shared file system).  Each task writes its JSON
# Lines to RESULTS/shard-K.jsonl; when all are done:
#
#   cat /fleet/results/shard-*.jsonl | jq -c 'select(.type == "target" and .status == "failed")'
#
# One CPU per task fits any node; on bigger nodes give each task more (`sbatch --cpus-per-task=4 ...`,
# at most a node's CPU count: a task asking for more than any node has stays pending for ever, reason
# PartitionConfig), and it applies that many hives at once (--jobs).
#
#SBATCH --job-name=hiveport-apply
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --time=00:30:00
#SBATCH --output=hiveport-apply-%A_%a.log
set -eu
plan=$1 manifest=$2 results=$3
: "${SLURM_ARRAY_TASK_ID:?submit with sbatch --array=0-N}" "${SLURM_ARRAY_TASK_COUNT:?submit with sbatch --array=0-N}"
mkdir -p "$results"
exec hiveport apply --from "$manifest" --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" \
    --jobs "${SLURM_CPUS_PER_TASK:-1}" --json "$plan" >"$results/shard-$SLURM_ARRAY_TASK_ID.jsonl"
