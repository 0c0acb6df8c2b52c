#!/bin/bash
# bench.sh: hiveport's benchmark (issue 9).  `make bench` runs it; see tests/bench/README.md.
#
#   tests/bench/bench.sh [all|real|scaling]          (default all)
#
# real:    on a copy of the real Windows 7 SYSTEM hive (../shared/hives/win7-SYSTEM.xz, 11.8 MB) times
#          stamp (set the five KB 270836 ports in ControlSet001, durable commit), restamp (the same on a hive
#          where they hold other values), read (every catalog port of every control set) and audit, against
#          hivexsh -w, hivexregedit --merge and the floors (dd conv=fsync for writes, cat for reads).
# scaling: the same hiveport jobs on generated SYSTEM hives of BENCH_SIZES MB (tests/bench/mkbighive.c).
#
# Every repetition of a write job starts from a fresh copy of its input made (and synced) outside the timed
# region; every input is in the page cache (cat) before it is timed; contenders take turns within each
# repetition, so that a change in load hits all of them alike.  Each row's median comes from BENCH_REPS
# timed runs (benchtime: fork+exec+wait4, CLOCK_MONOTONIC); its peak memory is GNU time's %M
# (/usr/bin/time) on one more run from a fresh input, whose result is then checked (the values really
# written, the floor's copy identical, the read output right).
#
# Environment: BUILD (build), HIVEPORT ($BUILD/hiveport), BENCH_REPS (9), BENCH_SCALING_REPS (7),
# BENCH_SIZES ("1 10 100 250"), BENCH_TMPDIR (TMPDIR or /tmp: where the hives are copied; its file system
# is part of what is measured), HIVEPORT_SHARED (../shared), BENCH_RESULTS (file that gets the Markdown
# tables too; default $BUILD/bench/results.md), BENCH_COMPARE (another hiveport binary, timed beside
# HIVEPORT in every job and labelled BENCH_COMPARE_LABEL: before/after a change in one run).
set -u
export LC_ALL=C
mode=${1:-all}
case $mode in all|real|scaling) ;; *) echo "usage: $0 [all|real|scaling]" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
HIVEPORT=${HIVEPORT:-$build/hiveport}
BENCHTIME=${BENCHTIME:-$build/bench/benchtime}
MKBIGHIVE=${MKBIGHIVE:-$build/bench/mkbighive}
APISET=${APISET:-$build/bench/apiset}   # the library alone: open, hiveport_set_port, hiveport_commit
GNUTIME=${GNUTIME:-/usr/bin/time}
COMPARE=${BENCH_COMPARE:-}         # another hiveport binary to time beside HIVEPORT (before/after a change)
COMPARE_LABEL=${BENCH_COMPARE_LABEL:-compare}
reps=${BENCH_REPS:-9}
sreps=${BENCH_SCALING_REPS:-7}
sizes=${BENCH_SIZES:-1 10 100 250}
shared=${HIVEPORT_SHARED:-$root/../shared}
results=${BENCH_RESULTS:-$build/bench/results.md}

die() { echo "bench: $*" >&2; exit 1; }
for n in "$reps" "$sreps"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPS and BENCH_SCALING_REPS must be positive integers"
done
[ -x "$HIVEPORT" ] || die "$HIVEPORT is not built (make)"
[ -z "$COMPARE" ] || [ -x "$COMPARE" ] || die "BENCH_COMPARE=$COMPARE is not an executable"
[ -x "$BENCHTIME" ] && [ -x "$MKBIGHIVE" ] || die "$BENCHTIME or $MKBIGHIVE is not built (make bench builds them)"
[ -x "$GNUTIME" ] || die "$GNUTIME is missing: install the Debian package 'time' (listed in .ci/packages)"
(( reps < 7 || sreps < 7 )) && echo "bench: note: fewer than 7 repetitions; medians are less reliable" >&2

tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/hiveport-bench.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$(dirname "$results")"
: >"$results"

# Prints and appends to the results file.
say() { printf '%s\n' "$*" | tee -a "$results"; }

# ---- the jobs' data --------------------------------------------------------------------------------

settings=(exchange-sa-rfr exchange-sa-nspi exchange-is exchange-srs ntds)
# key (relative to Services), value name, for each setting above
keys=('MSExchangeSA\Parameters' 'MSExchangeSA\Parameters' 'MSExchangeIS\ParametersSystem'
      'MSExchangeSRS\Parameters' 'NTDS\Parameters')
vnames=('TCP/IP Port' 'TCP/IP NSPI Port' 'TCP/IP Port' 'TCP/IP' 'TCP/IP Port')
stamp_ports=(5001 5002 5003 5004 5005)
restamp_ports=(6001 6002 6003 6004 6005)

assignments() { # PORTS... -> one setting=port per line
    local ports=("$@") i
    for i in "${!settings[@]}"; do printf '%s=%s\n' "${settings[$i]}" "${ports[$i]}"; done
}

# hivexsh -w script setting the ports (args) in ControlSet001 of hive $1.  Keys are probed first: hivexsh
# needs `add` for the missing ones, and its setval replaces all of a key's values, so an existing key
# must hold no value besides ours (else the script would not be equivalent: refused).
hivexsh_script() {
    local hive=$1 out=$2; shift 2
    local ports=("$@") i key svc sub done_keys=" "
    : >"$out"
    for i in "${!keys[@]}"; do
        key=${keys[$i]}
        [[ $done_keys == *" $key "* ]] && continue
        done_keys+="$key "
        svc=${key%%\\*} sub=${key#*\\}
        local base='\ControlSet001\Services'
        if ! printf 'cd %s\\%s\n' "$base" "$svc" | hivexsh "$hive" >/dev/null 2>&1; then
            printf 'cd %s\nadd %s\n' "$base" "$svc" >>"$out"
        fi
        if printf 'cd %s\\%s\n' "$base" "$key" | hivexsh "$hive" >/dev/null 2>&1; then
            local existing
            existing=$(printf 'cd %s\\%s\nlsval\n' "$base" "$key" | hivexsh "$hive" 2>/dev/null | grep -c '^"')
            local ours=0 j
            for j in "${!keys[@]}"; do [ "${keys[$j]}" = "$key" ] && ours=$((ours + 1)); done
            (( existing <= ours )) || { echo "key $key holds other values"; return 1; }
        else
            printf 'cd %s\\%s\nadd %s\n' "$base" "$svc" "$sub" >>"$out"
        fi
        local n=0 body=""
        for j in "${!keys[@]}"; do
            [ "${keys[$j]}" = "$key" ] || continue
            n=$((n + 1))
            body+=$(printf '%s\ndword:0x%x' "${vnames[$j]}" "${ports[$j]}")$'\n'
        done
        printf 'cd %s\\%s\nsetval %d\n%s' "$base" "$key" "$n" "$body" >>"$out"
    done
    echo commit >>"$out"
}

# The .reg file that hivexregedit --merge needs for the same change: each parent section first (merge
# creates a key only under an existing one; an empty section changes nothing in an existing key).
reg_file() {
    local out=$1; shift
    local ports=("$@") i j key done_keys=" " pfx='HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services'
    printf 'Windows Registry Editor Version 5.00\r\n\r\n' >"$out"
    for i in "${!keys[@]}"; do
        key=${keys[$i]}
        [[ $done_keys == *" $key "* ]] && continue
        done_keys+="$key "
        printf '[%s\\%s]\r\n\r\n[%s\\%s]\r\n' "$pfx" "${key%%\\*}" "$pfx" "$key" >>"$out"
        for j in "${!keys[@]}"; do
            [ "${keys[$j]}" = "$key" ] && printf '"%s"=dword:%08x\r\n' "${vnames[$j]}" "${ports[$j]}" >>"$out"
        done
        printf '\r\n' >>"$out"
    done
}

# hivexsh script reading our five values (hivexsh stops at the first missing key, so it reads what is
# there; informative only: it is not the whole read job).
hivexsh_read_script() {
    local out=$1 key done_keys=" "
    : >"$out"
    for key in "${keys[@]}"; do
        [[ $done_keys == *" $key "* ]] && continue
        done_keys+="$key "
        printf 'cd \\ControlSet001\\Services\\%s\nlsval\n' "$key" >>"$out"
    done
}

# ---- checks ----------------------------------------------------------------------------------------

# check_ports HIVE PORTS...: the five values read back (by hiveport and by libhivex), hive still clean.
check_ports() {
    local hive=$1; shift
    local ports=("$@") i got
    for i in "${!settings[@]}"; do
        got=$("$HIVEPORT" get "$hive" "${settings[$i]}" --controlset 1 2>&1)
        [ "$got" = "${ports[$i]}" ] || { echo "${settings[$i]} is '$got', expected ${ports[$i]}"; return 1; }
    done
    if command -v hivexsh >/dev/null; then
        printf 'cd \\Select\nlsval\n' | hivexsh "$hive" 2>&1 | grep -q '"Current"=dword' ||
            { echo "libhivex cannot read the result"; return 1; }
    fi
    "$HIVEPORT" show "$hive" | grep -q '^dirty: *no' || { echo "the result is not a clean hive"; return 1; }
}

# check_read OUTPUT PORTS...: hiveport show printed each port for its setting.
check_read() {
    local out=$1; shift
    local ports=("$@") i
    for i in "${!settings[@]}"; do
        grep -Eq "^ +${settings[$i]} +${ports[$i]}\$" "$out" ||
            { echo "${settings[$i]} ${ports[$i]} missing from the output"; return 1; }
    done
}

check_hivexsh_read() {
    local out=$1; shift
    local p
    for p in "$@"; do grep -qi "dword:$(printf '%08x' "$p")" "$out" || { echo "port $p missing from the output"; return 1; }; done
}

# ---- timing ----------------------------------------------------------------------------------------
#
# A contender is: a label, a kind (write: fresh copy of the input each run; read: the input as is), the
# input, the command (the string @HIVE@ stands for the file to work on), an optional check to run on the
# result (@HIVE@ as above, @OUT@ the file with the command's stdout), and the accepted exit statuses (an
# extended regular expression: 0, or 0|4).  The rows of one job are timed in turns, rep by rep.

declare -a C_LABEL C_KIND C_INPUT C_CMD C_CHECK C_STATUS C_NOTE
ncont=0
contender() { # LABEL KIND INPUT CHECK STATUS -- CMD...
    C_LABEL[ncont]=$1 C_KIND[ncont]=$2 C_INPUT[ncont]=$3 C_CHECK[ncont]=$4 C_STATUS[ncont]=$5 C_NOTE[ncont]=""
    shift 6
    C_CMD[ncont]=$(printf '%q ' "$@")
    LAST=$ncont
    ncont=$((ncont + 1))
}

# The file the contender works on, fresh (write) or as is (read); warm in the page cache, synced.
prepare() {
    local c=$1 work=$tmp/work/$1
    if [ "${C_KIND[$c]}" = write ]; then
        rm -rf "$work" && mkdir -p "$work"
        cp "${C_INPUT[$c]}" "$work/hive"
        local l
        for l in LOG1 LOG2; do # the transaction logs, for a logged commit
            [ -f "${C_INPUT[$c]}.$l" ] && cp "${C_INPUT[$c]}.$l" "$work/hive.$l"
        done
        sync "$work/hive"
        sync -f "$work" 2>/dev/null
        cat "$work/hive" >/dev/null
        PREPARED=$work/hive
    else
        cat "${C_INPUT[$c]}" >/dev/null
        PREPARED=${C_INPUT[$c]}
    fi
}

# A message made fit for a Markdown table cell: one line, no '|', at most 300 characters.
# table_rows RUN REPS JOB: times the contenders (run_rows RUN REPS), collects them and prints their rows of the
# table, JOB in the first column, each against the last contender, the floor; its median in $floor (which the
# caller makes local).
table_rows() {
    local run=$1 reps=$2 job=$3 c
    run_rows "$run" "$reps"
    collect "$run"
    floor=${MED[ncont - 1]}
    for ((c = 0; c < ncont; c++)); do
        say "| $job | ${C_LABEL[$c]} | $(fmt_ms "${MED[$c]}") | $([ "${MED[$c]}" = nan ] && echo - || minmax "$tmp/res/$run.$c.times") | $(ratio "${MED[$c]}" "$floor") | $(fmt_ms "${CPU[$c]}") | $(mib "${MEM[$c]}") | ${C_NOTE[$c]:-ok} |"
    done
}

oneline() { cat "$@" | tr '\n|' ' /' | head -c 300; }

command_for() { # contender file -> CMD array
    local s=${C_CMD[$1]}
    s=${s//@HIVE@/$(printf '%q' "$2")}
    eval "CMD=($s)"
}

# run_rows ROWS_PREFIX REPS: times contenders 0..ncont-1; results in $tmp/res/PREFIX.N.{times,cpu,mem}
run_rows() {
    local prefix=$1 n=$2 c r line
    local -a CMD
    for ((c = 0; c < ncont; c++)); do
        : >"$tmp/res/$prefix.$c.times"
        : >"$tmp/res/$prefix.$c.cpu"
        [ -n "${C_NOTE[$c]}" ] && continue
        # One untimed run: warms the binaries, the Perl modules, the hive.
        prepare "$c"; command_for "$c" "$PREPARED"
        "${CMD[@]}" </dev/null >/dev/null 2>&1
    done
    for ((r = 0; r < n; r++)); do
        for ((c = 0; c < ncont; c++)); do
            [ -n "${C_NOTE[$c]}" ] && continue
            prepare "$c"; command_for "$c" "$PREPARED"
            line=$("$BENCHTIME" -o "$tmp/out.$c" -e "$tmp/err.$c" -- "${CMD[@]}")
            set -- $line
            if ! [[ $3 =~ ^(${C_STATUS[$c]})$ ]]; then
                C_NOTE[c]="FAILED: exit $3, expected ${C_STATUS[$c]//|/ or }: $(oneline "$tmp/err.$c")"
                continue
            fi
            echo "$1" >>"$tmp/res/$prefix.$c.times"
            echo "$4" >>"$tmp/res/$prefix.$c.cpu"
        done
    done
    # Peak memory (GNU time %M) on one more run from a fresh input, then the check of its result.
    for ((c = 0; c < ncont; c++)); do
        [ -n "${C_NOTE[$c]}" ] && continue
        prepare "$c"; command_for "$c" "$PREPARED"
        "$GNUTIME" -f %M -o "$tmp/res/$prefix.$c.mem" -- "${CMD[@]}" </dev/null >"$tmp/out.$c" 2>"$tmp/err.$c"
        local st=$?
        # GNU time prefixes "Command exited with non-zero status N" when the command fails.
        local mem; mem=$(tail -n 1 "$tmp/res/$prefix.$c.mem")
        echo "$mem" >"$tmp/res/$prefix.$c.mem"
        if ! [[ $st =~ ^(${C_STATUS[$c]})$ ]]; then
            C_NOTE[c]="FAILED: exit $st, expected ${C_STATUS[$c]//|/ or }: $(oneline "$tmp/err.$c")"
        elif [ -n "${C_CHECK[$c]}" ]; then
            local why
            local check=${C_CHECK[$c]//@HIVE@/$(printf '%q' "$PREPARED")}
            check=${check//@OUT@/$(printf '%q' "$tmp/out.$c")}
            why=$(eval "$check" 2>&1) || C_NOTE[c]="CHECK FAILED: $(printf '%s' "$why" | oneline)"
        fi
    done
}

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minmax() { sort -g "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f-%.1f", lo * 1000, hi * 1000 }'; }
fmt_ms() { awk -v s="$1" 'BEGIN { if (s == "nan") print "-"; else if (s < 0.01) printf "%.2f", s * 1000; else printf "%.1f", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "-"; else printf "%.2f", a / b }'; }
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "-"; else printf "%.1f", k / 1024 }'; }

# Values of the last run_rows, by contender: MED[c] (wall s), CPU[c] (user + system s), MEM[c] (KiB).
declare -a MED CPU MEM
collect() {
    local prefix=$1 c
    for ((c = 0; c < ncont; c++)); do
        if [ -n "${C_NOTE[$c]}" ]; then MED[c]=nan; CPU[c]=nan; MEM[c]=""; continue; fi
        MED[c]=$(median "$tmp/res/$prefix.$c.times")
        CPU[c]=$(median "$tmp/res/$prefix.$c.cpu")
        MEM[c]=$(cat "$tmp/res/$prefix.$c.mem" 2>/dev/null)
    done
}

# Goals: rows of the goals table.  goal TEXT MEASURED VERDICT (1 met, 0 not met, info-1/info-0: a number
# shown for context, not one of issue 9's goals).
goals=()
goal() {
    local v
    case $3 in 1) v=met ;; 0) v='**not met**' ;; info-1) v='(informative) within' ;; *) v='(informative) over' ;; esac
    goals+=("| $1 | $2 | $v |")
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "nan" && b != "nan" && a != "-" && b != "-" && a != "" && b != "" && a + 0 <= b + 0) }'; }

# Peak memory: each hiveport row is checked against 1.5 x hive size + 16 MiB; the goals table gets, per
# job, the row closest to (or furthest over) its limit.
declare -A MEM_WORST MEM_TEXT
mem_track() { # JOB KIB HIVE_BYTES
    [ -n "$2" ] || return 0
    local limit frac
    limit=$(awk -v s="$3" 'BEGIN { printf "%d", (1.5 * s + 16 * 1048576) / 1024 }')
    frac=$(awk -v m="$2" -v l="$limit" 'BEGIN { printf "%.4f", m / l }')
    if [ -z "${MEM_WORST[$1]:-}" ] || ! le "$frac" "${MEM_WORST[$1]}"; then
        MEM_WORST[$1]=$frac
        MEM_TEXT[$1]="$(mib "$2") MiB on the $(mib $(($3 / 1024))) MiB hive (limit $(mib "$limit") MiB)"
    fi
}
mem_goals() {
    local job
    for job in stamp restamp read audit; do
        [ -n "${MEM_WORST[$job]:-}" ] || continue
        goal "peak memory of $job <= 1.5 x hive + 16 MiB, every hive measured (worst case shown)" \
            "${MEM_TEXT[$job]}" "$(le "${MEM_WORST[$job]}" 1 && echo 1 || echo 0)"
    done
}

audit_works() { "$HIVEPORT" audit --help >/dev/null 2>&1; }
# hiveport audit exits 0 (nothing at or above --fail-on) or 4 (findings at or above it): both are a
# completed audit.  Anything else (1: it could not audit) fails the row, with hiveport's message.
audit_ok='0|4'

machine() {
    local cpu fs
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    fs=$(df -T "$tmp" | awk 'NR == 2 { print $2 " (" $1 ")" }')
    say "Machine: $(nproc) CPUs ($cpu), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM," \
        "Linux $(uname -r), temporary directory on $fs; libhivex $(dpkg-query -W -f '${Version}' libhivex0 2>/dev/null || echo '?')," \
        "$("$HIVEPORT" --version 2>/dev/null | head -n 1)."
    say "Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
}

# ---- the real hive ---------------------------------------------------------------------------------

# The library alone (tests/bench/apiset.c: open, hiveport_set_port in ControlSet001, hiveport_commit; no
# command, no preflight), copy commit on the hive without logs and logged commit on the one with them:
# what the commit itself costs.  api_contenders PLAIN LOGGED PORTS...
api_contenders() {
    local plain=$1 logged=$2; shift 2
    local -a b
    mapfile -t b < <(assignments "$@")
    contender "libhiveport alone (no preflight), copy commit" write "$plain" "check_ports @HIVE@ $*" 0 -- \
        env HIVEPORT_BENCH_COMMIT=copy "$APISET" @HIVE@ "${b[@]}"
    contender "libhiveport alone (no preflight), logged commit" write "$logged" "check_ports @HIVE@ $*" 0 -- \
        env HIVEPORT_BENCH_COMMIT=log "$APISET" @HIVE@ "${b[@]}"
}

# with_logs SRC DEST TYPE: a copy of SRC at DEST with the logs Windows leaves beside it after a flush
# (tests/support/mklog.py; TYPE 1: Vista/7 format, 6: Windows 8.1+), for a logged commit.
with_logs() {
    mkdir -p "$(dirname "$2")" && cp "$1" "$2" && : >"$2.LOG2" && python3 "$root/tests/support/mklog.py" "$2" "$2.LOG1" "$3"
}

# The medians of the logged stamp and restamp of the real hive, which the scaling run compares its
# largest hive with (issue 21: a commit's cost is set by the change, not by the hive).
declare -A REAL_LOGGED

bench_real() {
    local xz=$shared/hives/win7-SYSTEM.xz
    if [ ! -f "$xz" ]; then
        say "Real hive: SKIPPED: $xz is absent (real hives are not part of the repository)."
        return 0
    fi
    mkdir -p "$tmp/real"
    local orig=$tmp/real/win7-SYSTEM base=$tmp/real/win7-SYSTEM-stamped
    xz -dc "$xz" >"$orig" || die "cannot decompress $xz"
    cp "$orig" "$base"
    mapfile -t a < <(assignments "${stamp_ports[@]}")
    "$HIVEPORT" set "$base" "${a[@]}" --controlset 1 || die "cannot make the restamp input"
    local why; why=$(check_ports "$base" "${stamp_ports[@]}") || die "restamp input: $why"
    local logged=$tmp/real/logged/win7-SYSTEM logged_orig=$tmp/real/logged-orig/win7-SYSTEM
    with_logs "$base" "$logged" 1 || die "cannot make the logs"
    with_logs "$orig" "$logged_orig" 1 || die "cannot make the logs"
    local size; size=$(stat -c %s "$orig")
    local have_hivexsh=1 have_regedit=1
    command -v hivexsh >/dev/null || have_hivexsh=0
    command -v hivexregedit >/dev/null || have_regedit=0

    say ""
    say "### The real hive: win7-SYSTEM, $size bytes ($(mib $((size / 1024))) MiB), $reps repetitions"
    say ""
    say "| job | contender | median ms | range ms | x floor | CPU ms | peak MiB (%M) | check |"
    say "|---|---|---:|---:|---:|---:|---:|---|"

    local job input ports
    for job in stamp restamp; do
        if [ $job = stamp ]; then input=$orig ports=("${stamp_ports[@]}"); else input=$base ports=("${restamp_ports[@]}"); fi
        mapfile -t a < <(assignments "${ports[@]}")
        ncont=0
        local idx_hsh="" idx_reg=""
        contender "hiveport set" write "$input" "check_ports @HIVE@ ${ports[*]}" 0 -- \
            "$HIVEPORT" set @HIVE@ "${a[@]}" --controlset 1
        # The same hive with its Vista/7-format logs beside it, as on an installed Windows: a logged commit.
        local logged_input=$logged_orig; [ $job = restamp ] && logged_input=$logged
        contender "hiveport set, logs beside it (logged commit, in place)" write "$logged_input" \
            "check_ports @HIVE@ ${ports[*]}" 0 -- "$HIVEPORT" set @HIVE@ "${a[@]}" --controlset 1 --commit log
        local idx_log=$LAST
        [ $job = restamp ] && api_contenders "$base" "$logged" "${ports[@]}"
        [ -z "$COMPARE" ] || contender "hiveport set ($COMPARE_LABEL)" write "$input" "check_ports @HIVE@ ${ports[*]}" 0 -- \
            "$COMPARE" set @HIVE@ "${a[@]}" --controlset 1
        if [ $have_hivexsh = 1 ]; then
            local hsh_note=""
            hsh_note=$(hivexsh_script "$input" "$tmp/real/$job.hsh" "${ports[@]}") || hsh_note="SKIPPED: $hsh_note"
            contender "hivexsh -w (no fsync)" write "$input" "check_ports @HIVE@ ${ports[*]}" 0 -- \
                hivexsh -w -f "$tmp/real/$job.hsh" @HIVE@
            C_NOTE[LAST]=$hsh_note idx_hsh=$LAST
        fi
        if [ $have_regedit = 1 ]; then
            reg_file "$tmp/real/$job.reg" "${ports[@]}"
            contender "hivexregedit --merge (no fsync)" write "$input" "check_ports @HIVE@ ${ports[*]}" 0 -- \
                hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' @HIVE@ "$tmp/real/$job.reg"
            idx_reg=$LAST
        fi
        contender "floor: dd conv=fsync (copy + fsync)" write "$input" "cmp -s @HIVE@.copy $(printf '%q' "$input")" 0 -- \
            dd if=@HIVE@ of=@HIVE@.copy bs=1M conv=fsync status=none
        local floor
        table_rows "real-$job" "$reps" "$job"
        local hp=${MED[0]} hsh=nan reg=nan
        [ -n "$idx_hsh" ] && hsh=${MED[$idx_hsh]}
        [ -n "$idx_reg" ] && reg=${MED[$idx_reg]}
        REAL_LOGGED[$job]=${MED[$idx_log]}
        local want=0.5; [ $job = restamp ] && want=0.3
        goal "logged $job (hiveport set) <= $want x dd conv=fsync floor (issue 21)" "$(ratio "${MED[$idx_log]}" "$floor") x" \
            "$(le "$(ratio "${MED[$idx_log]}" "$floor")" $want && echo 1 || echo 0)"
        if [ $job = restamp ]; then
            local r; r=$(ratio "${MED[$((idx_log + 2))]}" "$floor")
            goal "logged restamp, library alone (no preflight) <= 0.3 x floor" "$r x" "info-$(le "$r" 0.3 && echo 1 || echo 0)"
        fi
        local limit=1.5; [ $job = restamp ] && limit=1.2
        goal "$job <= $limit x cp+fsync floor" "$(ratio "$hp" "$floor") x" \
            "$(le "$(ratio "$hp" "$floor")" $limit && echo 1 || echo 0)"
        goal "$job faster than hivexsh -w" "$(fmt_ms "$hp") ms vs $(fmt_ms "$hsh") ms" \
            "$(awk -v a="$hp" -v b="$hsh" 'BEGIN { print (a != "nan" && b != "nan" && a < b) ? 1 : 0 }')"
        goal "$job >= 3 x faster than hivexregedit --merge" "$(ratio "$reg" "$hp") x" \
            "$(le 3 "$(ratio "$reg" "$hp")" && echo 1 || echo 0)"
        mem_track $job "${MEM[0]}" "$size"
    done

    # read: every catalog port of every control set; audit.
    hivexsh_read_script "$tmp/real/read.hsh"
    for job in read audit; do
        ncont=0
        if [ $job = read ]; then
            contender "hiveport show --controlset all" read "$base" "check_read @OUT@ ${stamp_ports[*]}" 0 -- \
                "$HIVEPORT" show @HIVE@ --controlset all
            [ -z "$COMPARE" ] || contender "hiveport show --controlset all ($COMPARE_LABEL)" read "$base" \
                "check_read @OUT@ ${stamp_ports[*]}" 0 -- "$COMPARE" show @HIVE@ --controlset all
            [ $have_hivexsh = 1 ] && contender "hivexsh (reads only the 5 values present)" read "$base" \
                "check_hivexsh_read @OUT@ ${stamp_ports[*]}" 0 -- hivexsh -f "$tmp/real/read.hsh" @HIVE@
        else
            if ! audit_works; then
                say "| audit | hiveport audit | - | - | - | - | - | SKIPPED: \`hiveport audit --help\` fails (the command is not there yet) |"
                continue
            fi
            contender "hiveport audit" read "$base" "test -s @OUT@" "$audit_ok" -- "$HIVEPORT" audit @HIVE@
            if [ -n "$COMPARE" ] && "$COMPARE" audit --help >/dev/null 2>&1; then
                contender "hiveport audit ($COMPARE_LABEL)" read "$base" "test -s @OUT@" "$audit_ok" -- "$COMPARE" audit @HIVE@
            fi
        fi
        contender "floor: cat FILE >/dev/null" read "$base" "" 0 -- cat @HIVE@
        local floor
        table_rows "real-$job" "$reps" "$job"
        goal "$job (11.8 MB) <= 1.5 x cat" "$(ratio "${MED[0]}" "$floor") x" \
            "$(le "$(ratio "${MED[0]}" "$floor")" 1.5 && echo 1 || echo 0)"
        mem_track $job "${MEM[0]}" "$size"
    done
}

# ---- scaling ---------------------------------------------------------------------------------------

# The logged commit on the real Windows 10 hive (../shared/hives/win10-pruned-SYSTEM.xz, 0.5 MB, services
# pruned) with new-format (Windows 8.1+) logs beside it: restamp by the copy commit, by the logged commit,
# and the dd floor, in one run.
bench_real_win10() {
    local xz=$shared/hives/win10-pruned-SYSTEM.xz
    if [ ! -f "$xz" ]; then
        say "Real Windows 10 hive: SKIPPED: $xz is absent."
        return 0
    fi
    mkdir -p "$tmp/win10/logged"
    local base=$tmp/win10/win10-SYSTEM logged=$tmp/win10/logged/win10-SYSTEM
    xz -dc "$xz" >"$base" || die "cannot decompress $xz"
    mapfile -t a < <(assignments "${stamp_ports[@]}")
    "$HIVEPORT" set "$base" "${a[@]}" --controlset 1 --force >/dev/null || die "cannot make the win10 restamp input"
    cp "$base" "$logged" && : >"$logged.LOG2" && python3 "$root/tests/support/mklog.py" "$logged" "$logged.LOG1" 6 ||
        die "cannot make the win10 logs"
    local size; size=$(stat -c %s "$base")
    say ""
    say "### The real Windows 10 hive: win10-pruned-SYSTEM, $size bytes, new-format logs, $reps repetitions"
    say ""
    say "| job | contender | median ms | range ms | x floor | CPU ms | peak MiB (%M) | check |"
    say "|---|---|---:|---:|---:|---:|---:|---|"
    mapfile -t a < <(assignments "${restamp_ports[@]}")
    ncont=0
    contender "hiveport set (copy commit)" write "$base" "check_ports @HIVE@ ${restamp_ports[*]}" 0 -- \
        "$HIVEPORT" set @HIVE@ "${a[@]}" --controlset 1 --force --commit copy
    contender "hiveport set, logs beside it (logged commit, in place)" write "$logged" \
        "check_ports @HIVE@ ${restamp_ports[*]}" 0 -- "$HIVEPORT" set @HIVE@ "${a[@]}" --controlset 1 --force --commit log
    api_contenders "$base" "$logged" "${restamp_ports[@]}"
    contender "floor: dd conv=fsync (copy + fsync)" write "$base" "cmp -s @HIVE@.copy $(printf '%q' "$base")" 0 -- \
        dd if=@HIVE@ of=@HIVE@.copy bs=1M conv=fsync status=none
    local floor
    table_rows "win10-restamp" "$reps" "restamp"
    # Informative: issue 21's goals are on the 11 MB hive; on this 0.5 MB one, process start and the
    # commit's four ordered flushes cost more than copying the file.
    goal "logged restamp of the 0.5 MB Windows 10 hive (hiveport set) <= 0.3 x dd conv=fsync floor" \
        "$(ratio "${MED[1]}" "$floor") x" "info-$(le "$(ratio "${MED[1]}" "$floor")" 0.3 && echo 1 || echo 0)"
    local r; r=$(ratio "${MED[3]}" "$floor")
    goal "logged restamp of the Windows 10 hive, library alone <= 0.3 x floor" "$r x" "info-$(le "$r" 0.3 && echo 1 || echo 0)"
}

bench_scaling() {
    mkdir -p "$tmp/scale"
    local s hive jobs=(read stamp restamp) have_audit=0
    audit_works && { jobs=(read audit stamp restamp); have_audit=1; }
    say ""
    say "### Scaling: generated SYSTEM hives (tests/bench/mkbighive.c: 3 control sets, N services each), $sreps repetitions"
    say ""
    [ $have_audit = 1 ] || say "(audit: SKIPPED: \`hiveport audit --help\` fails; the command is not there yet.)"
    [ $have_audit = 1 ] || say ""
    say "| hive | job | hiveport median ms | floor median ms | x floor | hiveport CPU ms | floor CPU ms | hiveport peak MiB (%M) | x hive size | check |"
    say "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
    local -A T TC M SZ
    for s in $sizes; do
        hive=$tmp/scale/$s.hive
        local info; info=$("$MKBIGHIVE" "$hive" "$s") || die "mkbighive $s failed"
        local size; size=$(stat -c %s "$hive")
        SZ[$s]=$size
        # The generated hive must be valid: hiveport reads it, libhivex opens it.
        "$HIVEPORT" show "$hive" --controlset all >/dev/null || die "hiveport cannot read the generated $s MB hive"
        if command -v hivexsh >/dev/null; then
            printf 'cd \\Select\nlsval\n' | hivexsh "$hive" 2>&1 | grep -q '"Current"=dword' ||
                die "libhivex cannot read the generated $s MB hive"
        fi
        local base=$tmp/scale/$s.stamped
        cp "$hive" "$base"
        mapfile -t a < <(assignments "${stamp_ports[@]}")
        "$HIVEPORT" set "$base" "${a[@]}" --controlset 1 || die "cannot stamp the $s MB hive"
        local services=${info##*control sets, }
        local job
        for job in "${jobs[@]}"; do
            ncont=0
            case $job in
            read)
                contender "hiveport show" read "$base" "check_read @OUT@ ${stamp_ports[*]}" 0 -- \
                    "$HIVEPORT" show @HIVE@ --controlset all
                [ -z "$COMPARE" ] || contender "hiveport show ($COMPARE_LABEL)" read "$base" \
                    "check_read @OUT@ ${stamp_ports[*]}" 0 -- "$COMPARE" show @HIVE@ --controlset all
                contender "cat" read "$base" "" 0 -- cat @HIVE@ ;;
            audit)
                contender "hiveport audit" read "$base" "test -s @OUT@" "$audit_ok" -- "$HIVEPORT" audit @HIVE@
                if [ -n "$COMPARE" ] && "$COMPARE" audit --help >/dev/null 2>&1; then
                    contender "hiveport audit ($COMPARE_LABEL)" read "$base" "test -s @OUT@" "$audit_ok" -- \
                        "$COMPARE" audit @HIVE@
                fi
                contender "cat" read "$base" "" 0 -- cat @HIVE@ ;;
            stamp|restamp)
                local input=$hive ports=("${stamp_ports[@]}")
                [ $job = restamp ] && input=$base ports=("${restamp_ports[@]}")
                mapfile -t a < <(assignments "${ports[@]}")
                contender "hiveport set" write "$input" "check_ports @HIVE@ ${ports[*]}" 0 -- \
                    "$HIVEPORT" set @HIVE@ "${a[@]}" --controlset 1
                with_logs "$input" "$tmp/scale/logged-$job/$s.hive" 1 || die "cannot make the logs of the $s MB hive"
                contender "hiveport set, logs beside it (logged commit)" write "$tmp/scale/logged-$job/$s.hive" \
                    "check_ports @HIVE@ ${ports[*]}" 0 -- "$HIVEPORT" set @HIVE@ "${a[@]}" --controlset 1 --commit log
                [ -z "$COMPARE" ] || contender "hiveport set ($COMPARE_LABEL)" write "$input" \
                    "check_ports @HIVE@ ${ports[*]}" 0 -- "$COMPARE" set @HIVE@ "${a[@]}" --controlset 1
                contender "dd conv=fsync" write "$input" "cmp -s @HIVE@.copy $(printf '%q' "$input")" 0 -- \
                    dd if=@HIVE@ of=@HIVE@.copy bs=1M conv=fsync status=none ;;
            esac
            run_rows "scale-$s-$job" "$sreps"
            collect "scale-$s-$job"
            T[$s,$job]=${MED[0]} TC[$s,$job]=${CPU[0]} M[$s,$job]=${MEM[0]}
            local fl=$((ncont - 1)) c
            for ((c = 0; c < fl; c++)); do
                local who=""
                case ${C_LABEL[$c]} in *logged*) who=" (logged commit)" ;; *"($COMPARE_LABEL)"*) who=" ($COMPARE_LABEL)" ;; esac
                say "| $(mib $((size / 1024))) MiB (${services% each}) | $job$who | $(fmt_ms "${MED[$c]}") | $(fmt_ms "${MED[$fl]}") | $(ratio "${MED[$c]}" "${MED[$fl]}") | $(fmt_ms "${CPU[$c]}") | $(fmt_ms "${CPU[$fl]}") | $(mib "${MEM[$c]}") | $([ -n "${MEM[$c]}" ] && ratio "$((MEM[c] * 1024))" "$size" || echo -) | ${C_NOTE[$c]:-ok}${C_NOTE[$fl]:+; floor: ${C_NOTE[$fl]}} |"
            done
            if [ "$s" = "$(echo $sizes | awk '{ print $NF }')" ]; then
                case $job in
                read|audit) goal "$job of the $(mib $((size / 1024))) MiB hive <= 1.5 x cat" "$(ratio "${MED[0]}" "${MED[$fl]}") x" \
                    "$(le "$(ratio "${MED[0]}" "${MED[$fl]}")" 1.5 && echo 1 || echo 0)" ;;
                stamp) goal "stamp of the $(mib $((size / 1024))) MiB hive <= 1.5 x floor" "$(ratio "${MED[0]}" "${MED[$fl]}") x" \
                    "info-$(le "$(ratio "${MED[0]}" "${MED[$fl]}")" 1.5 && echo 1 || echo 0)" ;;
                restamp) goal "restamp of the $(mib $((size / 1024))) MiB hive <= 1.2 x floor" "$(ratio "${MED[0]}" "${MED[$fl]}") x" \
                    "info-$(le "$(ratio "${MED[0]}" "${MED[$fl]}")" 1.2 && echo 1 || echo 0)" ;;
                esac
                if [ -n "${REAL_LOGGED[$job]:-}" ] && [ "$job" != read ] && [ "$job" != audit ]; then
                    local r; r=$(ratio "${MED[1]}" "${REAL_LOGGED[$job]}")
                    goal "logged $job of the $(mib $((size / 1024))) MiB hive <= 2 x the real hive's (issue 21)" \
                        "$(fmt_ms "${MED[1]}") ms vs $(fmt_ms "${REAL_LOGGED[$job]}") ms: $r x" "$(le "$r" 2 && echo 1 || echo 0)"
                fi
            fi
            mem_track $job "${MEM[0]}" "$size"
        done
        rm -f "$tmp/scale/$s.hive.copy"
    done

    # Growth: the exponent k in time ~ size^k between successive sizes (1 = linear).
    say ""
    say "Growth between successive sizes: the exponent k in cost ~ size^k (k <= 1: linear or better), for the"
    say "wall time, the CPU time and the peak memory of hiveport:"
    say ""
    local head="| job |" rule="|---|" prev="" s
    for s in $sizes; do
        [ -n "$prev" ] && head+=" $prev->$s MB wall k | CPU k | mem k |" rule+="---:|---:|---:|"
        prev=$s
    done
    say "$head"
    say "$rule"
    kexp() { awk -v a="$1" -v b="$2" -v x="$3" -v y="$4" \
        'BEGIN { if (a == "nan" || b == "nan" || a == "" || b == "" || a == 0 || b == 0) print "-"; else printf "%.2f", log(b / a) / log(y / x) }'; }
    local job
    for job in "${jobs[@]}"; do
        local row="| $job |" kt=- kc=- km=-
        prev=""
        for s in $sizes; do
            if [ -n "$prev" ]; then
                kt=$(kexp "${T[$prev,$job]}" "${T[$s,$job]}" "${SZ[$prev]}" "${SZ[$s]}")
                kc=$(kexp "${TC[$prev,$job]}" "${TC[$s,$job]}" "${SZ[$prev]}" "${SZ[$s]}")
                km=$(kexp "${M[$prev,$job]:-}" "${M[$s,$job]:-}" "${SZ[$prev]}" "${SZ[$s]}")
                row+=" $kt | $kc | $km |"
            fi
            prev=$s
        done
        say "$row"
        # The step between the two largest sizes decides: below ~10 MB, fixed costs (exec, dynamic linking)
        # dominate and make every job look sublinear.
        if [[ $job == read || $job == stamp ]]; then
            goal "$job time grows linearly or better (wall-time k between the two largest sizes <= 1.1)" \
                "k = $kt (CPU time: k = $kc)" "$(le "$kt" 1.1 && echo 1 || echo 0)"
            goal "$job memory grows linearly or better (k <= 1.1)" "k = $km" "$(le "$km" 1.1 && echo 1 || echo 0)"
        fi
    done
}

# ---- main ------------------------------------------------------------------------------------------

mkdir -p "$tmp/res" "$tmp/work"
start=$SECONDS
say "## hiveport benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
say ""
machine
case $mode in
all) bench_real; bench_real_win10; bench_scaling ;;
real) bench_real; bench_real_win10 ;;
scaling) bench_scaling ;;
esac
say ""
say "### Goals"
say ""
say "| goal | measured | verdict |"
say "|---|---|---|"
mem_goals
for g in "${goals[@]}"; do say "$g"; done
say ""
say "Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg); the run took $((SECONDS - start)) s."
echo "bench: tables also in $results" >&2
