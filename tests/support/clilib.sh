# tests/support/clilib.sh: the prelude the command's shell suites share.  Sourced right after
#     root=$(cd "$(dirname "$0")/.." && pwd)
# it loads skip.sh (hp_skip) and sets build (BUILD, default build, taken from $root when relative), HIVEPORT
# (default $build/hiveport: it may carry a wrapper such as valgrind), fixtures ($build/fixtures) and hives
# (the real hives: HIVEPORT_SHARED/hives, HIVEPORT_SHARED defaulting to $root/../shared).  It also sets
# the counters passed, failed and skipped to 0 and defines pass, fail MESSAGE ("FAIL MESSAGE") and
# skip AREA REASON (through hp_skip: a failure under CI=true); a suite may define its own.  Each suite ends
# with its own "N passed, N failed[, N skipped]" line.  Helpers for the suites:
#   check NAME COMMAND...         pass when COMMAND succeeds (its output discarded), else fail NAME;
#   tally NAME COMMAND...         the same with COMMAND's output shown (a case that explains its own failure);
#   check_refusals NAME REG HIVE LINE...  `hiveport apply REG HIVE` exits 2 and its stderr (NAME.err) holds
#                                 "hiveport apply: LINE" for each LINE, "bad.reg" in a LINE read as REG;
#   crlf, utf16                   filters: CRLF line ends; UTF-16LE with a byte-order mark (as regedit writes);
#   regedit5 FILE...              the files after the line "Windows Registry Editor Version 5.00";
#   enter_workdir SUITE FIXTURE   exits 1 unless the fixture FIXTURE was made (make fixtures); otherwise $work, a
#                                 fresh directory removed at exit (kept when KEEP is set), and cd into it;
#   need_real_hives AREA COUNT [COMMAND PACKAGE]...  returns when the real hives, python3 and each COMMAND are
#                                 there; otherwise the suite's COUNT cases are skipped ("0 passed, 0 failed,
#                                 COUNT skipped", exit 0), or under CI=true it fails (exit 1).
. "$root/tests/support/skip.sh"
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
HIVEPORT=${HIVEPORT:-$build/hiveport}
fixtures=$build/fixtures
hives=${HIVEPORT_SHARED:-$root/../shared}/hives
passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
skip() { if hp_skip "$@"; then skipped=$((skipped + 1)); else failed=$((failed + 1)); fi; }
check() {
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then pass; else fail "$name"; fi
}
tally() {
    local name=$1
    shift
    if "$@"; then pass; else fail "$name"; fi
}
check_refusals() {
    local name=$1 reg=$2 hive=$3 e
    shift 3
    "$HIVEPORT" apply "$reg" "$hive" >/dev/null 2>"$name.err"
    check "$name: exit 2" [ $? = 2 ]
    for e in "$@"; do
        e=${e/bad.reg/$reg}
        check "$name: '$e'" grep -qF "hiveport apply: $e" "$name.err"
    done
}
crlf() { sed 's/$/\r/'; }
enter_workdir() {
    [ -f "$fixtures/$2.hive" ] || { echo "$1: no fixtures in $fixtures (run make fixtures)"; exit 1; }
    work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-$1.XXXXXX")
    trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
    cd "$work" || exit 1
}
regedit5() { echo 'Windows Registry Editor Version 5.00'; cat "$@"; }
need_real_hives() {
    local area=$1 count=$2 why=
    shift 2
    [ -d "$hives" ] || why="$hives is absent (real hives are not part of the repository)"
    while [ -z "$why" ] && [ $# -ge 2 ]; do
        command -v "$1" >/dev/null || why="$1 is not installed (Debian package $2)"
        shift 2
    done
    [ -n "$why" ] || command -v python3 >/dev/null || why="python3 is not installed"
    [ -n "$why" ] || return 0
    hp_skip "$area" "$why" || { echo "0 passed, 1 failed"; exit 1; }
    echo "0 passed, 0 failed, $count skipped"
    exit 0
}
utf16() { { printf '\xff\xfe'; iconv -f utf-8 -t utf-16le; }; }
