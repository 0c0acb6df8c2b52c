#!/bin/bash
# disks.sh: hiveport --disk on virtual disks holding the Windows 7 SYSTEM hive (issue 15's benchmark).
# Builds a 128 MiB GPT disk whose second partition is an NTFS volume (mkntfs, filled with wimapply) holding
# ../shared/hives/win7-SYSTEM.xz at Windows/System32/config/SYSTEM, converts it to qcow2, VHDX and VMDK,
# and times on each: get (one port), set (one port) and apply (a profile of 5 ports), each write from a
# fresh copy of the disk made outside the timed region; then, on a qcow2 of the same disk with SYSTEM.LOG1
# and SYSTEM.LOG2 beside the hive (as on an installed Windows), set and apply through the logged commit.
# virt-win-reg (libguestfs) runs beside it when it works on this machine; otherwise its row says why not.
# Usage: tests/bench/disks.sh   Environment: BUILD, HIVEPORT, BENCH_REPS (7), BENCH_TMPDIR, HIVEPORT_SHARED,
# BENCH_RESULTS (default $BUILD/bench/disks.md).  Goals: each run under 0.3 s; peak memory (the larger of
# hiveport and its qemu-nbd child) under 64 MiB plus the hive's size.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
HIVEPORT=${HIVEPORT:-$build/hiveport}
BENCHTIME=${BENCHTIME:-$build/bench/benchtime}
reps=${BENCH_REPS:-7}
shared=${HIVEPORT_SHARED:-$root/../shared}
results=${BENCH_RESULTS:-$build/bench/disks.md}
PATH=$PATH:/usr/sbin:/sbin
for t in qemu-img mkntfs wimcapture wimapply sfdisk xz "$BENCHTIME"; do
    command -v "$t" >/dev/null || { echo "bench-disks: $t is missing"; exit 1; }
done
hive_xz=$shared/hives/win7-SYSTEM.xz
[ -f "$hive_xz" ] || { echo "bench-disks: no $hive_xz: nothing to measure"; exit 0; }
work=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/hiveport-bench-disks.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

mkdir -p tree/Windows/System32/config
xz -dc "$hive_xz" >tree/Windows/System32/config/SYSTEM
hive_bytes=$(stat -c %s tree/Windows/System32/config/SYSTEM)
# make_disk TREE DISK: a GPT disk whose second partition is an NTFS volume holding TREE.
make_disk() {
    wimcapture "$1" t.wim >/dev/null 2>&1 && truncate -s 96M vol && mkntfs -F -Q -q vol >/dev/null 2>&1 &&
        wimapply t.wim 1 vol >/dev/null 2>&1 || { echo "bench-disks: building the NTFS volume failed"; exit 1; }
    truncate -s 128M "$2"
    printf 'label: gpt\nstart=2048, size=8192\nstart=10240, size=196608, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n' |
        sfdisk -q "$2" >/dev/null 2>&1 || { echo "bench-disks: sfdisk failed"; exit 1; }
    dd if=vol of="$2" bs=512 seek=10240 conv=notrunc status=none
    rm -f vol t.wim
    # The Windows 7 hive sets no port: give ntds one, so that get has something to read and set changes it.
    "$HIVEPORT" set --disk "$2@p2" ntds=6000 2>/dev/null || { echo "bench-disks: hiveport set on $2 failed"; exit 1; }
}
make_disk tree disk.raw
# The same hive with its Vista/7-format transaction logs beside it, as on an installed Windows: writes go
# through the logs, in place inside the image (issue 21).
cp -r tree tree-logs
python3 "$root/tests/support/mklog.py" tree-logs/Windows/System32/config/SYSTEM \
    tree-logs/Windows/System32/config/SYSTEM.LOG1 1 || { echo "bench-disks: mklog.py failed"; exit 1; }
: >tree-logs/Windows/System32/config/SYSTEM.LOG2
make_disk tree-logs disk-logs.raw
printf 'exchange-sa-rfr = 5001\nexchange-sa-nspi = 5002\nexchange-is = 5003\nexchange-srs = 5004\nntds = 5005\n' >five.profile

virt_note=
if ! command -v virt-win-reg >/dev/null; then
    virt_note="virt-win-reg not run: libguestfs (Debian libguestfs-tools) is not installed on this machine"
fi

median() { sort -n | awk '{a[NR] = $1} END {print NR ? a[int((NR + 1) / 2)] : "-"}'; }
lines=()
goal_time=ok goal_mem=ok
qcow2_set=()
limit_kib=$(((64 << 10) + hive_bytes / 1024))
# job FMT NAME WRITE ARGS...: BENCH_REPS timed runs; WRITE=1 starts each from a fresh copy.
job() {
    local fmt=$1 name=$2 write=$3; shift 3
    local times=() cpus=() mem=0 r line status
    for r in $(seq 0 "$reps"); do
        [ "$write" = 1 ] && cp --sparse=always disk.$fmt.orig disk.$fmt && sync disk.$fmt
        cat disk.$fmt >/dev/null
        line=$("$BENCHTIME" -o out -e err -- "$HIVEPORT" "$@")
        read -r secs kib status cpu <<<"$line"
        if [ "$status" != 0 ]; then
            echo "bench-disks: $fmt $name failed ($status): $(cat err)"
            lines+=("| $fmt | $name | failed: $(head -1 err) | | |")
            goal_time="not met"
            return
        fi
        [ "$r" = 0 ] && continue   # warm-up
        times+=("$secs"); cpus+=("$cpu")
        [ "$kib" -gt "$mem" ] && mem=$kib
    done
    local t c
    t=$(printf '%s\n' "${times[@]}" | median); c=$(printf '%s\n' "${cpus[@]}" | median)
    awk -v t="$t" 'BEGIN {exit !(t < 0.3)}' || goal_time="not met ($fmt $name: $t s)"
    [ "$mem" -lt "$limit_kib" ] || goal_mem="not met ($fmt $name: $mem KiB)"
    lines+=("| $fmt | $name | $t | $c | $((mem / 1024)) |")
    case "$fmt $name" in
    "qcow2 set"* | "logs-qcow2 set"*)
        local v; v=$(awk -v t="$t" 'BEGIN {print (t <= 0.2) ? "met" : "not met"}')
        qcow2_set+=("$fmt: $t s, $v") ;;
    esac
}

for fmt in qcow2 vhdx vmdk; do
    qemu-img convert -O $fmt disk.raw disk.$fmt.orig || { echo "bench-disks: qemu-img convert -O $fmt failed"; exit 1; }
    cp --sparse=always disk.$fmt.orig disk.$fmt
    job $fmt "get ntds" 0 get --disk disk.$fmt ntds
    job $fmt "set ntds=6105" 1 set --disk disk.$fmt ntds=6105
    job $fmt "apply (5 ports)" 1 apply five.profile --disk disk.$fmt
    # The last apply's result, read back.
    got=$("$HIVEPORT" get --disk disk.$fmt exchange-srs 2>/dev/null)
    [ "$got" = 5004 ] || { lines+=("| $fmt | check | apply's port read back as '$got', not 5004 | | |"); goal_time="not met (check)"; }
done
# qcow2 with the logs beside the hive: the logged commit, in place inside the image.
qemu-img convert -O qcow2 disk-logs.raw disk.logs-qcow2.orig || { echo "bench-disks: qemu-img convert failed"; exit 1; }
cp --sparse=always disk.logs-qcow2.orig disk.logs-qcow2
job logs-qcow2 "set ntds=6105 (logs beside it)" 1 set --disk disk.logs-qcow2 --disk-format qcow2 ntds=6105
job logs-qcow2 "apply (5 ports, logs beside it)" 1 apply five.profile --disk disk.logs-qcow2 --disk-format qcow2
got=$("$HIVEPORT" get --disk disk.logs-qcow2 --disk-format qcow2 exchange-srs 2>/dev/null)
[ "$got" = 5004 ] || { lines+=("| logs-qcow2 | check | apply's port read back as '$got', not 5004 | | |"); goal_time="not met (check)"; }

mkdir -p "$(dirname "$results")"
{
    echo "### hiveport --disk on the Windows 7 SYSTEM hive ($hive_bytes bytes), $(nproc) cores, median of $reps"
    echo
    echo "| format | job | wall s | CPU s | peak MiB |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${lines[@]}"
    echo
    echo "Peak memory is the larger of hiveport and its qemu-nbd child (wait4's ru_maxrss)."
    [ -n "$virt_note" ] && echo "$virt_note."
    echo
    echo "- goal: every run under 0.3 s: $goal_time"
    echo "- goal: peak memory under 64 MiB + the hive ($((limit_kib / 1024)) MiB): $goal_mem"
    echo "- goal: set on the win7 qcow2, median <= 0.2 s (issue 21): ${qcow2_set[*]/%/;}"
} | tee "$results"
