#!/bin/bash
# parallel-shards.sh: one port plan over a fleet of hives, as N shards run by GNU parallel, then the
# results merged.  Each shard is the command one machine (or pod, or job array task) of a bigger fleet
# runs: `hiveport apply --from MANIFEST --shard K/N`; here all N run on this machine.
#
#   parallel-shards.sh PLAN MANIFEST N OUTDIR [--check]
#
# PLAN is a port profile or a .reg file, MANIFEST lists the hives one per line.  Shard K writes its JSON
# Lines to OUTDIR/shard-K.jsonl (the per-hive records and its summary); the merged totals are printed at
# the end, read from every shard's summary.  Exit status: 0 when every shard succeeded, else the highest
# shard status (1 failure, 4 drift with --check; see hiveport(1)).
#
# Across machines, give GNU parallel the hosts (the hives, the plan and the manifest at the same paths on
# each, e.g. an NFS mount):
#   seq 0 $((N - 1)) | parallel --sshlogin host1,host2 -j1 \
#       hiveport apply --from /fleet/manifest --shard {}/$N --json /fleet/plan.reg '>' /fleet/out/shard-{}.jsonl
set -u
[ $# -ge 4 ] || { echo "usage: $0 PLAN MANIFEST N OUTDIR [--check]" >&2; exit 2; }
plan=$1 manifest=$2 n=$3 out=$4
shift 4
hiveport=${HIVEPORT:-hiveport}
mkdir -p "$out" || exit 1
# --joblog keeps each shard's exit status; the shard's JSON Lines go to its own file.
seq 0 $((n - 1)) | parallel --will-cite -j "$n" --joblog "$out/joblog" \
    "$hiveport apply --from $(printf %q "$manifest") --shard {}/$n --json $* $(printf %q "$plan") \
        > $(printf %q "$out")/shard-{}.jsonl"
# The highest shard status (column 7 of the job log), so that a failure is not hidden by a drift.
status=$(awk 'NR > 1 && $7 > s { s = $7 } END { print s + 0 }' "$out/joblog")
# Merged with cat: every summary record, added up.
cat "$out"/shard-*.jsonl | jq -s -c '[.[] | select(.type == "summary")] |
    {shards: length, targets: (map(.targets) | add), failed: (map(.failed) | add),
     changed: (map(.changed // 0) | add), unchanged: (map(.unchanged // 0) | add),
     match: (map(.match // 0) | add), drift: (map(.drift // 0) | add)}'
exit "$status"
