#!/bin/bash
# imglog-kill.sh: SIGKILL at every write and flush of a hive's write-back into an NTFS volume (issue 21).
#
# `hiveport set --ntfs VOL` / `--disk DISK.qcow2` commits the extracted hive through its log (the local
# logged commit), then writes it back in the same order, each step flushed to the image: the log, the
# hive's base block marked dirty, its pages, its final base block (tools/image/ntfs.c).  This kills the
# command (strace -e inject=SYSCALL:signal=KILL:when=N) at its Nth call of each syscall the write-back
# uses, for N = 1, 2, ... until a run gets through:
#   - raw NTFS volumes (--ntfs): pwrite64, fsync and fdatasync of hiveport (its local commit and the
#     writes into the image file);
#   - a qcow2 disk (--disk): hiveport's sendto (each NBD request to qemu-nbd: the kill leaves the requests
#     before it sent) before each NBD write and flush request; and qemu-nbd's own pwrite64 and fdatasync (a
#     qemu-nbd started through a wrapper in PATH that runs it under strace: the storage dying under hiveport).
# The hives: the system-basic fixture with new-format (Windows 8.1+) and old-format (Vista/7) logs, the
# real win7 SYSTEM of ../shared/hives with an old-format log, system-basic with no logs at all, and
# system-basic with logs but a copy commit (--commit copy).
# After each kill, on the image:
#   - `hiveport get` shows the old or the new port (never an error or a third value);
#   - `hiveport check` finds no error;
#   - the hive in the volume (ntfscat, after qemu-img convert for qcow2) is the old one or the new one byte
#     for byte, or it is dirty and `hiveport recover` (which replays the image's logs) gives exactly the
#     new one; without logs, it is old, new, or dirty (never a clean hive that is neither);
#   - qcow2: no qemu-nbd is left (one left is killed, and counted as a failure), the image is not locked,
#     and `qemu-img check` finds no corruption (leaked clusters, harmless, are noted).
# Prints "not ok - ..." lines (and with VERBOSE=1 the "ok - ..." ones), "# ..." notes, then "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/skip.sh"
build=${BUILD:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
HIVEPORT=${HIVEPORT:-$build/hiveport}
fixtures=${HIVEPORT_FIXTURES:-$build/fixtures}
hives=${HIVEPORT_SHARED:-$root/../shared}/hives
export SOURCE_DATE_EPOCH=1700000000
PATH=$PATH:/usr/sbin:/sbin
fails=0 passes=0

ok() { passes=$((passes + 1)); [ "${VERBOSE:-}" = 1 ] && echo "ok - $*"; return 0; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }
finish() { echo "$passes passed, $fails failed"; exit $((fails > 0)); }

if ! command -v strace >/dev/null || ! strace -f -qq -o /dev/null -e trace=getpid -e inject=getpid:retval=1 true 2>/dev/null; then
    hp_skip "imglog-kill" "strace with syscall injection is not available" || notok "strace missing under CI"
    finish
fi
version=$("$HIVEPORT" --version)
if ! grep -q 'NTFS yes' <<<"$version"; then
    hp_skip "imglog-kill" "this hiveport was built without libntfs-3g" || notok "no NTFS support under CI"
    finish
fi
missing=
for t in mkntfs ntfscat wimcapture wimapply python3; do
    command -v $t >/dev/null || missing="$missing $t"
done
if [ -n "$missing" ]; then
    hp_skip "imglog-kill" "fixture tools missing:$missing (Debian ntfs-3g, wimtools)" || notok "tools missing under CI"
    finish
fi
qcow2=yes
if ! grep -q 'qcow2/VHDX/VHD/VMDK yes' <<<"$version" || ! command -v sfdisk >/dev/null; then
    hp_skip "imglog-kill qcow2" "no qcow2 support in this hiveport, or sfdisk is missing" || notok "no qcow2 under CI"
    qcow2=no
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-imglog.XXXXXX")
# hiveport's private directories, and so qemu-nbd's sockets, go here: a leftover child names $work.
mkdir -p "$work/tmp" "$work/bin"
leftovers() { pgrep -f -- "qemu-nbd.*$work/tmp" || true; }
cleanup() {
    local p
    for p in $(leftovers); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
export TMPDIR=$work/tmp
CONFIG=/Windows/System32/config

# The qemu-nbd hiveport starts: the real one, or under strace with IMGLOG_QEMU_INJECT's injection.
if [ $qcow2 = yes ]; then
    real_nbd=$(command -v qemu-nbd)
    cat >"$work/bin/qemu-nbd" <<EOF
#!/bin/bash
if [ -n "\${IMGLOG_QEMU_INJECT:-}" ]; then
    exec strace -f -qq -o /dev/null -e trace=pwrite64,pwritev,pwritev2,fdatasync,fsync -e "inject=\$IMGLOG_QEMU_INJECT" "$real_nbd" "\$@"
fi
exec "$real_nbd" "\$@"
EOF
    chmod +x "$work/bin/qemu-nbd"
    export PATH=$work/bin:$PATH
fi

# mkvol DIR VOL: an NTFS volume holding DIR's files: 16 MiB, or 32 MiB for a hive over 4 MiB.
mkvol() {
    local size=16M
    [ "$(stat -c %s "$1/Windows/System32/config/SYSTEM")" -gt 4194304 ] && size=32M
    wimcapture "$1" "$2.wim" >/dev/null 2>&1 && truncate -s $size "$2" && mkntfs -F -Q -q "$2" >/dev/null 2>&1 &&
        wimapply "$2.wim" 1 "$2" >/dev/null 2>&1 && rm -f "$2.wim"
}
P1=2048 N=32768 # sectors: the volume as p1 of a 40 MiB GPT disk, at 1 MiB
# extract D IMAGE OUT: the SYSTEM hive of case D's image, read without hiveport.
extract() {
    local vol=$3.vol
    if [ "$(cat "$1/container")" = qcow2 ]; then
        qemu-img convert -O raw "$2" "$3.disk" 2>>"$1/err" &&
            dd if="$3.disk" of="$vol" bs=512 skip=$P1 count=$N status=none && rm -f "$3.disk" || return 1
    else
        vol=$2
    fi
    ntfscat "$vol" $CONFIG/SYSTEM >"$3" 2>>"$1/err"
    local rc=$?
    [ "$vol" = "$2" ] || rm -f "$vol"
    return $rc
}
dirty() { python3 -c 'import struct,sys; h=open(sys.argv[1],"rb").read(12); sys.exit(struct.unpack_from("<I",h,4)[0] == struct.unpack_from("<I",h,8)[0])' "$1"; }

# setup NAME HIVEFILE LOGTYPE CONTAINER: $work/NAME/image0, a raw NTFS volume or a qcow2 disk with it as p1,
# holding the hive (ntds at the old port) and, for LOGTYPE 1 or 6, SYSTEM.LOG1 of that format and an empty
# SYSTEM.LOG2; orig and new, the hive before and after the set.
old=7300 new=7301
setup() {
    local d=$work/$1 cfg=$work/$1/win/Windows/System32/config
    mkdir -p "$cfg"
    echo "$4" >"$d/container"
    cp "$2" "$cfg/SYSTEM" && chmod 644 "$cfg/SYSTEM" || return 1
    "$HIVEPORT" set "$cfg/SYSTEM" ntds=$old --controlset all --commit copy --force 2>>"$d/err" || return 1
    if [ "$3" != none ]; then
        python3 "$root/tests/support/mklog.py" "$cfg/SYSTEM" "$cfg/SYSTEM.LOG1" "$3" && : >"$cfg/SYSTEM.LOG2" || return 1
    fi
    # For a copy commit, the logs hold the entry of an earlier logged commit, numbered as the hive.
    if [ "${5:-}" = copy ]; then
        "$HIVEPORT" set "$cfg/SYSTEM" ntds=$((old - 1)) --controlset all --commit log --force 2>>"$d/err" &&
            "$HIVEPORT" set "$cfg/SYSTEM" ntds=$old --controlset all --commit log --force 2>>"$d/err" || return 1
    fi
    cp "$cfg/SYSTEM" "$d/orig"
    mkvol "$d/win" "$d/vol" || return 1
    if [ "$4" = qcow2 ]; then
        truncate -s 40M "$d/disk.raw" &&
            printf 'label: gpt\nstart=%d, size=%d, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n' $P1 $N |
            sfdisk -q "$d/disk.raw" >/dev/null 2>&1 &&
            dd if="$d/vol" of="$d/disk.raw" bs=512 seek=$P1 conv=notrunc status=none &&
            qemu-img convert -O qcow2 "$d/disk.raw" "$d/image0" && rm -f "$d/disk.raw" "$d/vol" || return 1
        echo "--disk" >"$d/opt"
        echo "$d/image.qcow2" >"$d/image"
    else
        mv "$d/vol" "$d/image0"
        echo "--ntfs" >"$d/opt"
        echo "$d/image.img" >"$d/image"
    fi
    rm -rf "$d/win"
}

# One hiveport set, as every run does it: with --commit log when the hive has logs (the local commit must
# go through them), the default otherwise (a copy commit).
set_args() { echo "set $(cat "$1/opt") $(cat "$1/image") ntds=$new --controlset all --force $(cat "$1/commit")"; }

# verify D WHAT RC: the checks after one run (RC: its exit status).
verify() {
    local d=$1 what=$2 rc=$3 img bad="" i
    img=$(cat "$d/image")
    if [ "$(cat "$d/container")" = qcow2 ]; then
        for i in $(seq 100); do [ -z "$(leftovers)" ] && break; sleep 0.05; done
        if [ -n "$(leftovers)" ]; then
            bad="$bad; qemu-nbd left behind: $(pgrep -af -- "qemu-nbd.*$work/tmp" | tr '\n' ';')"
            for i in $(leftovers); do kill -KILL "$i" 2>/dev/null; done
            sleep 0.2
        fi
        qemu-img check "$img" >"$d/qcheck" 2>&1
        case $? in
        0) ;;
        3) leaks=$((leaks + 1)) ;;
        *) bad="$bad; qemu-img check: $(grep -v '^$' "$d/qcheck" | head -2 | tr '\n' ' ')" ;;
        esac
    fi
    rm -rf "${TMPDIR:?}"/* # the private directory of a killed hiveport
    local port
    port=$("$HIVEPORT" get "$(cat "$d/opt")" "$img" ntds 2>>"$d/err")
    [ "$port" = $old ] || [ "$port" = $new ] || bad="$bad; get gives '$port' ($(tail -1 "$d/err"))"
    "$HIVEPORT" check --fail-on error "$(cat "$d/opt")" "$img" >"$d/check" 2>&1 ||
        bad="$bad; check: $(grep -m1 -i error "$d/check")"
    if ! extract "$d" "$img" "$d/now"; then
        bad="$bad; cannot read the hive out of the image: $(tail -1 "$d/err")"
    elif cmp -s "$d/now" "$d/orig" || cmp -s "$d/now" "$d/new"; then
        :
    elif ! dirty "$d/now"; then
        bad="$bad; a clean hive that is neither the old nor the new one"
    elif [ "$(cat "$d/logs")" = none ] || [ "$(cat "$d/commit")" = "--commit copy" ]; then
        # Marked dirty with no log of the change (what the man page says a crash may leave), and no old log
        # entry applies to it: recover finds nothing to replay.
        dirties=$((dirties + 1))
        "$HIVEPORT" recover "$(cat "$d/opt")" "$img" -o "$d/out" >/dev/null 2>&1 &&
            bad="$bad; a log entry replays over the dirty mark of a write-back without a log"
    else
        dirties=$((dirties + 1))
        rm -f "$d/out"
        if ! "$HIVEPORT" recover "$(cat "$d/opt")" "$img" -o "$d/out" >/dev/null 2>>"$d/err"; then
            bad="$bad; neither hive, and recover fails: $(tail -1 "$d/err")"
        elif ! cmp -s "$d/out" "$d/new"; then
            bad="$bad; recover does not give the new hive byte for byte"
        fi
    fi
    if [ "$rc" = 0 ]; then
        cmp -s "$d/now" "$d/new" || bad="$bad; the command ended but the image's hive is not the new one"
        [ -n "$bad" ] && notok "$what (not killed):$bad"
        return 0
    fi
    if [ -n "$bad" ]; then notok "$what:$bad"; else ok "$what"; fi
}

# one D NAME MODE SYSCALL N: a run with the Nth SYSCALL killed, MODE hiveport (strace around it) or qemu (the
# wrapper's strace around qemu-nbd), then verify; its exit status in $d/rc.
one() {
    local d=$1 name=$2 mode=$3 sc=$4 n=$5 rc
    cp "$d/image0" "$(cat "$d/image")"
    if [ "$mode" = hiveport ]; then
        (strace -f -qq -o /dev/null -e trace=pwrite64,fsync,fdatasync,sendto -e "inject=$sc:signal=KILL:when=$n" \
            "$HIVEPORT" $(set_args "$d") >/dev/null 2>"$d/err"
         echo $? >"$d/rc") 2>/dev/null
    else
        (IMGLOG_QEMU_INJECT="$sc:signal=KILL:when=$n" "$HIVEPORT" $(set_args "$d") >/dev/null 2>"$d/err"
         echo $? >"$d/rc") 2>/dev/null
    fi
    rc=$(cat "$d/rc")
    verify "$d" "$name: $mode $sc $n killed" "$rc"
    [ "$rc" = 0 ] || runs=$((runs + 1))
}

# kills D NAME MODE SYSCALL: N = 1, 2, ... until a run ends with status 0.
kills() {
    local n
    for ((n = 1; n <= 300; n++)); do
        one "$@" $n
        [ "$(cat "$1/rc")" = 0 ] && return 0
    done
    notok "$2: $3 $4: still failing after 300 runs ($(tail -1 "$1/err"))"
}

# run_case NAME HIVEFILE LOGTYPE(1, 6, none) CONTAINER(raw, qcow2) [COMMIT(copy)]
run_case() {
    local name=$1 d=$work/$1 n
    runs=0 dirties=0 leaks=0
    mkdir -p "$d"
    setup "$@" || { notok "$name: cannot build the image: $(tail -1 "$d/err" 2>/dev/null)"; return; }
    echo "$3" >"$d/logs"
    if [ "${5:-}" = copy ]; then
        echo "--commit copy" >"$d/commit"
    elif [ "$3" = none ]; then
        : >"$d/commit"
    else
        echo "--commit log" >"$d/commit"
    fi
    # The new hive: the same command run to its end.
    cp "$d/image0" "$(cat "$d/image")"
    "$HIVEPORT" $(set_args "$d") --verbose >/dev/null 2>"$d/err" ||
        { notok "$name: the set fails without a kill: $(cat "$d/err")"; return; }
    extract "$d" "$(cat "$d/image")" "$d/new" || { notok "$name: cannot read the new hive back"; return; }
    local how="through its log"
    [ "$3" = none ] || [ "${5:-}" = copy ] && how="marked dirty until complete"
    if grep -q "($how, each step flushed)" "$d/err"; then
        ok "$name: the write-back goes $how"
    else
        notok "$name: the write-back does not go $how: $(cat "$d/err")"
    fi
    if [ "$4" = raw ]; then
        local sc
        for sc in pwrite64 fsync fdatasync; do kills "$d" "$name" hiveport $sc; done
    else
        # hiveport's sendto: the state of the image after a kill is the requests sent before it, so the kills
        # that give distinct states are those before each NBD write and flush request (the reads between
        # them change nothing); then one past the last sendto, which must get through.
        cp "$d/image0" "$(cat "$d/image")"
        strace -f -qq -xx -o "$d/trace" -e trace=sendto "$HIVEPORT" $(set_args "$d") >/dev/null 2>&1
        grep -E 'sendto\(' "$d/trace" | grep -vE '^[0-9]+ +<' >"$d/sends"
        local at total
        at=$(grep -nE '\\x25\\x60\\x95\\x13\\x[0-9a-f]{2}\\x[0-9a-f]{2}\\x00\\x0[13]' "$d/sends" | cut -d: -f1)
        total=$(wc -l <"$d/sends")
        [ -n "$at" ] || notok "$name: no NBD write or flush request seen"
        for n in $at; do
            one "$d" "$name" hiveport sendto $n
            [ "$(cat "$d/rc")" != 0 ] || { notok "$name: sendto $n: not killed"; break; }
        done
        one "$d" "$name" hiveport sendto $((total + 1))
        [ "$(cat "$d/rc")" = 0 ] || notok "$name: sendto $((total + 1)): killed or failed ($(tail -1 "$d/err"))"
        kills "$d" "$name" qemu pwrite64
        kills "$d" "$name" qemu fdatasync
    fi
    echo "# $name: $runs runs killed, $dirties left dirty$(grep -q -- '--commit log' "$d/commit" && echo " (recovered to the new hive)")$([ $leaks -gt 0 ] && echo ", $leaks with leaked qcow2 clusters")"
    if [ $runs -ge 6 ] && [ $dirties -ge 1 ]; then
        ok "$name: every write and flush killed"
    else
        notok "$name: only $runs kills, $dirties dirty: the write-back was not exercised"
    fi
}

# IMGLOG_CASES: a space-separated subset of the case names (all when unset).
wanted() { [ -z "${IMGLOG_CASES:-}" ] || [[ " $IMGLOG_CASES " == *" $1 "* ]]; }
wanted basic-new-raw && run_case basic-new-raw "$fixtures/system-basic.hive" 6 raw
wanted basic-old-raw && run_case basic-old-raw "$fixtures/system-basic.hive" 1 raw
wanted basic-nolog-raw && run_case basic-nolog-raw "$fixtures/system-basic.hive" none raw
# A copy commit with logs in the volume holding an earlier commit's entry, numbered as the hive: the dirty
# mark must be numbered above them (with the old secondary, that entry would replay over the new pages).
wanted basic-copy-raw && run_case basic-copy-raw "$fixtures/system-basic.hive" 6 raw copy
[ $qcow2 = yes ] && wanted basic-new-qcow2 && run_case basic-new-qcow2 "$fixtures/system-basic.hive" 6 qcow2
if [ -f "$hives/win7-SYSTEM.xz" ]; then
    wanted win7-old-raw && xz -dc "$hives/win7-SYSTEM.xz" >"$work/win7.hive" && run_case win7-old-raw "$work/win7.hive" 1 raw
else
    hp_skip "imglog-kill win7" "$hives/win7-SYSTEM.xz is missing" || notok "win7 missing under CI"
fi
finish
