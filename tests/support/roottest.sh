# tests/support/roottest.sh: the prelude of the suites that install or start things on this machine as root
# (deb-test.sh, slurm-test.sh).  Sourced right after
#     root=$(cd "$(dirname "$0")/.." && pwd)
# it loads skip.sh (hp_skip) and defines:
#   hp_suite NAME             the counters passed and failed at 0; pass MESSAGE prints "ok: MESSAGE", fail MESSAGE
#                             "FAIL: NAME: MESSAGE", summary the line "NAME-test: N passed, N failed" (false on any
#                             failure);
#   hp_need_root TEST REASON  returns when this runs as root; otherwise ends the script: a skip of TEST for REASON
#                             (exit 0), or under CI=true a failure (exit 1);
#   hp_need_commands TEST HINT COMMAND...  the same when any COMMAND is not on PATH: the reason names every one
#                             missing, then HINT (the packages that have them).
. "$root/tests/support/skip.sh"
hp_suite() {
    hp_suite_name=$1
    passed=0 failed=0
}
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $hp_suite_name: $*"; }
summary() { echo "$hp_suite_name-test: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; }
hp_need_root() {
    [ "$(id -u)" -eq 0 ] && return 0
    hp_skip "$1" "$2" && exit 0
    exit 1
}
hp_need_commands() {
    local test=$1 hint=$2 c missing=
    shift 2
    for c in "$@"; do
        command -v "$c" >/dev/null || missing="$missing $c"
    done
    [ -z "$missing" ] && return 0
    hp_skip "$test" "missing:$missing ($hint)" && exit 0
    exit 1
}
