#!/bin/bash
# examples-run.sh: runs the example programs (built against the installed library) on copies of fixtures
# and checks what they print and write.  `make check-examples` stages an install, builds them, then runs this.
#
# Usage: tests/examples-run.sh EXAMPLES-DIR HIVEPORT FIXTURES-DIR
#   EXAMPLES-DIR holds the built examples, HIVEPORT is the installed command (used to check the examples'
#   writes), FIXTURES-DIR is build/fixtures.  LD_LIBRARY_PATH must reach the installed library.
# Last line: "N passed, N failed"; exits 1 on any failure.
set -u
[ $# -eq 3 ] || { echo "usage: $0 EXAMPLES-DIR HIVEPORT FIXTURES-DIR" >&2; exit 2; }
bin=$1 hiveport=$2 fixtures=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-examples.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$fixtures"/*.hive "$work/"
cd "$work" || exit 1

passed=0 failed=0
# check NAME EXPECTED-OUTPUT COMMAND...: runs COMMAND, compares its stdout and wants exit status 0.
check() {
    local name=$1 expected=$2 out
    shift 2
    if out=$("$@" 2>&1) && [ "$out" = "$expected" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        printf 'FAIL %s\n  expected:\n%s\n  got:\n%s\n' "$name" "$expected" "$out"
    fi
}

check "read-port default setting" 5001 "$bin/read-port" system-basic.hive
check "read-port ntds" 5005 "$bin/read-port" system-basic.hive ntds
check "read-port current control set 3" 7001 "$bin/read-port" system-cs003.hive
check "read-port not set: exit 3" 3 sh -c '"$0" system-empty.hive ntds 2>/dev/null; echo $?' "$bin/read-port"

mkdir -p image/Windows/System32/config
cp system-empty.hive image/Windows/System32/config/SYSTEM
check "stamp-exchange2003 on an image root" \
    "image/Windows/System32/config/SYSTEM: 7 Exchange 2003 ports pinned in every control set" \
    "$bin/stamp-exchange2003" image
check "stamp-exchange2003 result" "5001 5002 5003 5004 6001 6002 6004" sh -c '
    for s in exchange-sa-rfr exchange-sa-nspi exchange-is exchange-srs exchange-is-rpchttp exchange-sa-http \
             exchange-sa-rpchttp-nspi; do "$0" get image/Windows/System32/config/SYSTEM $s; done | xargs' "$hiveport"
check "stamp-exchange2003 backup" "same" sh -c 'cmp -s system-empty.hive "$0" && echo same' \
    image/Windows/System32/config/SYSTEM.bak
cp system-cs003.hive cs003-stamped.hive
check "stamp-exchange2003 writes every control set" "5002 5002" sh -c '
    "$0" cs003-stamped.hive >/dev/null && echo $("$1" get cs003-stamped.hive exchange-sa-nspi --controlset 1) \
    $("$1" get cs003-stamped.hive exchange-sa-nspi --controlset 3)' "$bin/stamp-exchange2003" "$hiveport"
check "stamp-exchange2003 refuses a dirty hive, unchanged" "1 unchanged" sh -c '
    cp dirty.hive d.hive; "$0" d.hive 2>/dev/null; rc=$?; cmp -s d.hive dirty.hive && echo $rc unchanged' \
    "$bin/stamp-exchange2003"

check "walk-controlsets on system-cs003" "ControlSet001 lastknowngood
  exchange-sa-rfr           5001
ControlSet003 current default
  exchange-sa-rfr           7001" "$bin/walk-controlsets" system-cs003.hive
check "walk-controlsets on regsz-port" "ControlSet001 current default lastknowngood
  exchange-sa-rfr           (value has the wrong registry type)
  ntds                      (value data is invalid)
  exchange2010-ab           6001" "$bin/walk-controlsets" regsz-port.hive
check "walk-controlsets on a hive without Select" "ControlSet001
  exchange-sa-rfr           5001" "$bin/walk-controlsets" no-select.hive

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
