#!/bin/bash
# completion-check.sh: the bash completion (completion/hiveport) completes commands, each command's
# options, catalog ids (SETTING= for set), --controlset words, option values and file operands.  It runs
# the completion function with bash-completion loaded, as an interactive shell would.
# Usage: tests/completion-check.sh   Environment: HIVEPORT (default build/hiveport).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
HIVEPORT=${HIVEPORT:-$root/build/hiveport}
. "$root/tests/support/skip.sh"
bash_completion=/usr/share/bash-completion/bash_completion
if [ ! -f "$bash_completion" ]; then
    hp_skip completion "bash-completion is not installed (Debian bash-completion)" && exit 0
    exit 1
fi
. "$bash_completion"
. "$root/completion/hiveport"

work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-completion.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The completion asks 'hiveport' for its commands, options and catalog: the one under test.
mkdir "$work/bin" "$work/files"
ln -s "$HIVEPORT" "$work/bin/hiveport"
PATH=$work/bin:$PATH
touch "$work/files/SYSTEM" "$work/files/SOFTWARE" "$work/files/plan.profile"
cd "$work/files" || exit 1

# compopt works only inside a completion that readline started: record what the function asks of it.
compopt() { compopt_args="$*"; }

checks=0 failures=0
# expect "LINE" WORD...: completing LINE (the cursor at its end) offers exactly the WORDs, sorted.
expect() {
    local line=$1
    shift
    read -r -a COMP_WORDS <<<"$line"
    [[ $line == *' ' ]] && COMP_WORDS+=('')
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    compopt_args=
    _hiveport hiveport "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    local got want
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
    want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    checks=$((checks + 1))
    if [ "$got" != "$want" ]; then
        echo "FAIL: '$line': got [${got% }], expected [${want% }]"
        failures=$((failures + 1))
    fi
}

checks=$((checks + 1))
complete -p hiveport 2>/dev/null | grep -q -- '-F _hiveport' ||
    { echo "FAIL: no 'complete -F _hiveport hiveport'"; failures=$((failures + 1)); }

# commands (every one 'hiveport --help' lists), global options
expect "hiveport " $("$HIVEPORT" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p')
expect "hiveport se" set
expect "hiveport r" recover rpc-range
expect "hiveport --v" --version
# a command's options
expect "hiveport get --con" --controlset
expect "hiveport unset SYSTEM ntds --dr" --dry-run
expect "hiveport dcom SOFTWARE x --q" --quiet
expect "hiveport rpc-range SOFTWARE --cl" --clear
# --controlset words, separate or after '='
expect "hiveport get SYSTEM ntds --controlset " current default lastknowngood all
expect "hiveport show --controlset la" lastknowngood
expect "hiveport show --controlset=cu" current
# other option values
expect "hiveport audit SYSTEM --fail-on w" warning
expect "hiveport firewall SYSTEM --format n" nftables netsh
expect "hiveport rpc-range SOFTWARE --available " y n
expect "hiveport audit SYSTEM --software SO" SOFTWARE
expect "hiveport get --disk-format q" qcow2
expect "hiveport get --disk SY" SYSTEM
expect "hiveport get --disk x.E01 --allow-" --allow-incomplete
expect "hiveport get --disk x.qcow2 netl" netlogon
# operands: the hive is a file, then catalog ids (set: SETTING=)
expect "hiveport get S" SOFTWARE SYSTEM
expect "hiveport get SYSTEM nt" ntds ntfrs
expect "hiveport get --controlset 1 SYSTEM netl" netlogon
expect "hiveport set SYSTEM ntds=5005 netl" netlogon=
checks=$((checks + 1))
[ "$compopt_args" = "-o nospace" ] ||
    { echo "FAIL: set SETTING= completion leaves a space"; failures=$((failures + 1)); }
expect "hiveport unset SYSTEM exchange-sa-n" exchange-sa-nspi
expect "hiveport get --wim x.wim nt" ntds ntfrs
expect "hiveport apply p" plan.profile
expect "hiveport list " 

echo "completion-check: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
