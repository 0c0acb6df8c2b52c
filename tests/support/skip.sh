# tests/support/skip.sh: one rule for skipped tests, sourced by the shell tests.
# hp_skip WHAT REASON: outside CI prints "SKIP: WHAT: REASON" and returns 0, so the caller goes on to
# count it as skipped.  Under CI=true a skip is a test that did not run: it prints
# "FAIL: WHAT: REASON (CI=true: ...)" and returns 1, which the caller must treat as a failure.
hp_skip() {
    local what=$1; shift
    if [ "${CI:-}" = true ]; then
        echo "FAIL: $what: $* (CI=true: a skip in CI is a failure; install what .ci/packages lists)"
        return 1
    fi
    echo "SKIP: $what: $*"
    return 0
}
