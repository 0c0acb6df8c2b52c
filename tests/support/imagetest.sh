# tests/support/imagetest.sh: the counters and checks the image tests share (cli-images.sh, cli-disks.sh,
# cli-regfleet-images.sh).  Sourced after tests/support/clilib.sh (the counters, pass, $HIVEPORT), with
# IMAGETEST_AREA naming the area in skip messages.  Each script ends with its own "N passed, N failed[, N
# skipped]" line.
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
skip() { if hp_skip "$IMAGETEST_AREA" "$*"; then skipped=$((skipped + 1)); else failed=$((failed + 1)); fi; }
check() { # check NAME COMMAND...: passes when the command succeeds
    local name=$1; shift
    if "$@"; then pass; else fail "$name"; fi
}
sum() { sha256sum "$1" | cut -d' ' -f1; }
# run EXPECTED_STATUS ARGS...: runs hiveport (HIVEPORT may carry a wrapper such as valgrind, hence no
# quotes), output in out/err; fails on another status or a private path leaked into the output.
run() {
    local want=$1; shift
    $HIVEPORT "$@" >out 2>err
    local got=$?
    if [ "$got" != "$want" ]; then
        fail "hiveport $* exited $got, expected $want; stdout: $(cat out); stderr: $(cat err)"
        return 1
    fi
    if grep -q 'hiveport-image\.' out err; then
        fail "hiveport $*: a temporary path leaked into the output"
        return 1
    fi
    pass
}
has() { grep -qF -- "$2" "$1" || { fail "$1 lacks '$2': $(cat "$1")"; return 1; }; pass; }
# port HIVE KEY: the TCP/IP Port of ControlSet001\Services\KEY as hivexget reads it, once the hive has passed
# 'hiveport check' (every hive a test writes must be one Windows loads as it is); else a message that no
# port equals.
port() {
    $HIVEPORT check "$1" >/dev/null 2>&1 || { echo "hiveport check finds errors in $1"; return 1; }
    hivexget "$1" "ControlSet001\\Services\\$2" 'TCP/IP Port'
}
