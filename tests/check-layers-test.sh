#!/bin/bash
# check-layers-test: make check-layers must fail on a planted upward call, a planted circle inside a layer
# and a planted use of the library's private symbols by the command, and pass on the build as it is.
# Works on a scratch copy of the build's objects.  usage: check-layers-test.sh BUILD_DIR
set -u
build=${1:?usage: check-layers-test.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
layers() { /usr/bin/python3 "$root/tests/check-layers.py" --all-objects "$1" "$root/lib/layers" >"$work/out" 2>&1; }
scratch() { # a fresh copy of the objects in $work/b
    rm -rf "$work/b" && mkdir -p "$work/b" && cp -r "$build/lib" "$build/tools" "$work/b/"
}
plant() { # plant DIR NAME C-SOURCE: compiles one object into the scratch copy
    printf '%s\n' "$3" >"$work/$2.c"
    cc -c -o "$work/b/$1/$2.o" "$work/$2.c"
}
expect() { # expect fail|pass WHAT GREP
    local want=$1 what=$2 pattern=$3 got=pass
    layers "$work/b" || got=fail
    if [ "$got" = "$want" ] && grep -q -- "$pattern" "$work/out"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $what: check-layers said ($got):"
        cat "$work/out"
    fi
}

scratch
expect pass "the build as it is" "0 problems"

scratch
plant lib/base planted_up 'int hp_audit_finish(void *a); int planted_up(void); int planted_up(void) { return hp_audit_finish(0); }'
expect fail "a base file calling the audit (rules)" "lib/base/planted_up (lib/base) calls hp_audit_finish"

scratch
plant lib/regf planted_a 'int planted_b(int); int planted_a(int); int planted_a(int n) { return n ? planted_b(n - 1) : 0; }'
plant lib/regf planted_b 'int planted_a(int); int planted_b(int); int planted_b(int n) { return n ? planted_a(n - 1) : 0; }'
expect fail "two regf files calling each other" "a circle inside lib/regf: lib/regf/planted_a <-> lib/regf/planted_b"

scratch
plant tools/cli planted_private 'int hp_error(void *, int, const char *, ...); int planted_private(void); int planted_private(void) { return hp_error(0, 1, "x"); }'
expect fail "the command using a private library symbol" "tools/cli/planted_private uses hp_error"

scratch
plant tools/image planted_cmd 'int cmd_set(int, char **); int planted_cmd(void); int planted_cmd(void) { return cmd_set(0, 0); }'
expect fail "the image layer calling a command" "tools/image/planted_cmd (tools/image) calls cmd_set"

echo "check-layers-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
