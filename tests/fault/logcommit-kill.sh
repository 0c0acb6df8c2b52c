#!/bin/bash
# logcommit-kill.sh FAULT_DIR: SIGKILL at every write and flush of a logged commit (issue 21).
#
# `strace -e inject=SYSCALL:signal=KILL:when=N` kills `hiveport set HIVE ntds=NEW --commit log` at its Nth
# pwrite64, then at its Nth fdatasync, for N = 1, 2, ... until the command gets through.  The hives: the
# system-basic fixture with new-format (Windows 8.1+) and old-format (Vista/7) logs, and the real
# win10-pruned and win7 SYSTEM hives of ../shared/hives with logs of their Windows' format.  The "-stamp"
# cases set HpKill\Parameters:Port instead, which no hive has: new keys, new cells (in the win7 hive the
# full Services list is split under an index root), from the writer that leaves out the open's walk of the
# chain of bins; the "-grow" case sets 40 such keys, more than the win7 hive's free cells hold, so that the
# commit appends bins (the file grows).  After each kill, on the plain file:
#   - `get` shows the old port (none for a stamp) or the new one (never an error or a third value);
#   - `hiveport check` finds no error;
#   - the file is the old hive or the new one byte for byte (the same command run to its end with the
#     same SOURCE_DATE_EPOCH), or it is dirty and `hiveport recover` of it and its logs gives exactly the
#     new hive (the state right after the log flush and the dirty mark, before the pages: the logs hiveport
#     writes replay, with its own replay, to the bytes of the completed commit).
# Prints "not ok - ..." lines (and with VERBOSE=1 the "ok - ..." ones), "# ..." notes, then "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/support/skip.sh"
build=${BUILD:-$root/build}
HIVEPORT=${HIVEPORT:-$build/hiveport}
fixtures=${HIVEPORT_FIXTURES:-$build/fixtures}
hives=${HIVEPORT_SHARED:-$root/../shared}/hives
export SOURCE_DATE_EPOCH=1700000000
fails=0 passes=0

ok() { passes=$((passes + 1)); [ "${VERBOSE:-}" = 1 ] && echo "ok - $*"; return 0; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }

if ! command -v strace >/dev/null || ! strace -f -qq -o /dev/null -e trace=getpid -e inject=getpid:retval=1 true 2>/dev/null; then
    hp_skip "logcommit-kill" "strace with syscall injection is not available" || notok "strace missing under CI"
    echo "$passes passed, $fails failed"
    exit $((fails > 0))
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-kill.XXXXXX")
trap 'rm -rf "$work"' EXIT

# mklog HIVE LOG TYPE: LOG holds a valid 512-byte copy of HIVE's base block, file type TYPE (6: new
# format, 1: old), both sequence numbers the hive's primary: a log as Windows leaves it.
mklog() { python3 "$root/tests/support/mklog.py" "$@"; }

# fresh DIR: DIR/SYSTEM and its logs as prepared in DIR/orig*.
fresh() {
    cp "$1/orig" "$1/SYSTEM" && cp "$1/orig.LOG1" "$1/SYSTEM.LOG1" && : >"$1/SYSTEM.LOG2" && rm -f "$1/out"
}

# run_case NAME HIVEFILE TYPE [stamp|grow]
run_case() {
    local name=$1 src=$2 type=$3 d=$work/$1 old=7300 new=7301 setting=ntds more=() i
    mkdir -p "$d"
    cp "$src" "$d/orig" && chmod 644 "$d/orig" || { notok "$name: cannot copy $src"; return; }
    if [ "${4:-}" = stamp ] || [ "${4:-}" = grow ]; then
        setting='HpKill\Parameters:Port' old=""
        if [ "$4" = grow ]; then
            for ((i = 1; i < 40; i++)); do more+=("HpKill$i\Parameters:Port=$new"); done
        fi
    else # ntds at the old port, by a copy commit (it may create the value), so that the logged set is a patch
        "$HIVEPORT" set "$d/orig" ntds=$old --controlset all --commit copy --force 2>"$d/err" ||
            { notok "$name: cannot prepare: $(cat "$d/err")"; return; }
    fi
    mklog "$d/orig" "$d/orig.LOG1" "$type" || { notok "$name: cannot make the log"; return; }
    fresh "$d"
    "$HIVEPORT" set "$d/SYSTEM" "$setting=$new" "${more[@]}" --controlset all --commit log --force 2>"$d/err" ||
        { notok "$name: the logged commit fails without a kill: $(cat "$d/err")"; return; }
    cp "$d/SYSTEM" "$d/new"
    if [ "${4:-}" = grow ]; then
        [ "$(stat -c %s "$d/new")" -gt "$(stat -c %s "$d/orig")" ] && ok "$name: the commit grows the file" ||
            notok "$name: the commit does not grow the file"
    fi
    local sc n rc kills=0 dirty=0 bad
    for sc in pwrite64 fdatasync; do
        for ((n = 1; n < 100; n++)); do
            fresh "$d"
            # In a subshell that waits for it, so that its report of the kill goes to /dev/null.
            (strace -f -qq -o /dev/null -e trace=pwrite64,fdatasync -e "inject=$sc:signal=KILL:when=$n" \
                "$HIVEPORT" set "$d/SYSTEM" "$setting=$new" "${more[@]}" --controlset all --commit log --force \
                >/dev/null 2>"$d/err"
             echo $? >"$d/rc") 2>/dev/null
            rc=$(cat "$d/rc")
            bad=""
            local port
            port=$("$HIVEPORT" get "$d/SYSTEM" "$setting" 2>>"$d/err")
            [ "$port" = "$old" ] || [ "$port" = $new ] || bad="get gives '$port'"
            "$HIVEPORT" check --fail-on error "$d/SYSTEM" >"$d/check" 2>&1 || bad="$bad; check: $(grep -m1 error "$d/check")"
            if cmp -s "$d/SYSTEM" "$d/orig" || cmp -s "$d/SYSTEM" "$d/new"; then
                :
            else
                dirty=$((dirty + 1))
                if ! "$HIVEPORT" recover "$d/SYSTEM" -o "$d/out" >/dev/null 2>>"$d/err"; then
                    bad="$bad; neither hive, and recover fails: $(tail -1 "$d/err")"
                elif ! cmp -s "$d/out" "$d/new"; then
                    bad="$bad; recover does not give the new hive byte for byte"
                fi
            fi
            if [ $rc = 0 ]; then
                cmp -s "$d/SYSTEM" "$d/new" || bad="$bad; the command ended but the file is not the new hive"
                [ -n "$bad" ] && notok "$name: $sc $n (not killed):$bad"
                break
            fi
            kills=$((kills + 1))
            if [ -n "$bad" ]; then notok "$name: killed at $sc $n:${bad}"; else ok "$name: killed at $sc $n"; fi
        done
    done
    echo "# $name: $kills kills, $dirty left dirty with a complete log entry (recovered to the new hive)"
    [ $kills -ge 6 ] && [ $dirty -ge 1 ] && ok "$name: every write and flush killed" ||
        notok "$name: only $kills kills, $dirty dirty: the logged commit was not exercised"
}

run_case basic-new "$fixtures/system-basic.hive" 6
run_case basic-old "$fixtures/system-basic.hive" 1
run_case basic-new-stamp "$fixtures/system-basic.hive" 6 stamp
for real in win10-pruned:6 win7:1; do
    hive=${real%%:*} type=${real#*:}
    if [ -f "$hives/$hive-SYSTEM.xz" ]; then
        xz -dc "$hives/$hive-SYSTEM.xz" >"$work/$hive.hive" && run_case "$hive" "$work/$hive.hive" "$type" &&
            run_case "$hive-stamp" "$work/$hive.hive" "$type" stamp
        [ "$hive" = win7 ] && run_case "$hive-grow" "$work/$hive.hive" "$type" grow
    else
        hp_skip "logcommit-kill $hive" "$hives/$hive-SYSTEM.xz is missing" || notok "$hive missing under CI"
    fi
done
echo "$passes passed, $fails failed"
exit $((fails > 0))
