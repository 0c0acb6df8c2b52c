# tests/support/clilib.sh: the prelude the command's shell suites share.  Sourced right after
#     root=$(cd "$(dirname "$0")/.." && pwd)
# it loads skip.sh (hp_skip) and sets build (BUILD, default build, taken from $root when relative), HIVEPORT
# (default $build/hiveport: it may carry a wrapper such as valgrind), fixtures ($build/fixtures) and hives
# (the real hives: HIVEPORT_SHARED/hives, HIVEPORT_SHARED defaulting to $root/../shared).  It also sets
# the counters passed, failed and skipped to 0 and defines pass, fail MESSAGE ("FAIL MESSAGE") and
# skip AREA REASON (through hp_skip: a failure under CI=true); a suite may define its own.  Each suite ends
# with its own "N passed, N failed[, N skipped]" line.
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
