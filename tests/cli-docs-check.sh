#!/bin/bash
# cli-docs-check.sh: what hiveport(1), hiveport-profile(5) and the README say about the command line
# matches what the command does (issue 14: each of these disagreed once).
#   - the forbidden key prefixes of a custom setting: every one the parser refuses is named, and refused;
#   - OPTIONS lists, for --json, --quiet, --verbose, --discard-logs and --lock-timeout, exactly the
#     commands whose --help shows the option;
#   - the SYNOPSIS lines of --wim and --ntfs name exactly the commands that accept them;
#   - a write needs free space for one copy of the hive (README and man1), not "4 bytes in place";
#   - no "1 log entries" / "1 dirty pages" in the documentation;
#   - hiveport-profile(5) names the installed profiles directory and every example profile.
# Usage: tests/cli-docs-check.sh   Environment: HIVEPORT (default build/hiveport), BUILD (build).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
HIVEPORT=${HIVEPORT:-$root/build/hiveport}
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
man1=$root/man/man1/hiveport.1
man5=$root/man/man5/hiveport-profile.5
checks=0 failures=0
check() { # check NAME COMMAND...
    checks=$((checks + 1))
    "${@:2}" || { echo "FAIL: $1"; failures=$((failures + 1)); }
}
commands=$("$HIVEPORT" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p')
[ -n "$commands" ] || { echo "cli-docs-check: no commands in '$HIVEPORT --help'"; exit 1; }

# ---- forbidden prefixes: the parser's list (tools/cli/setting_spec.c), the manual's sentence, the behaviour
roots=$(sed -n '/static const char \*const roots\[\]/,/};/p' "$root/tools/cli/setting_spec.c" | grep -o '"[A-Za-z_]*"' |
        tr -d '"')
check "no root list found in tools/cli/setting_spec.c" test -n "$roots"
sentence=$(sed -n '/must not start with/,/^\.Ql [A-Za-z_]* \.$/p' "$man1" | tr '\n' ' ')
for r in $roots; do
    check "hiveport(1) does not name the forbidden key prefix $r" grep -qE "Ql $r( |$)" <<<"$sentence"
    "$HIVEPORT" get "$build/fixtures/system-basic.hive" "$r\\Parameters:Port" >/dev/null 2>&1
    check "get refuses the custom setting $r\\Parameters:Port with a usage error" test $? = 2
done

# ---- OPTIONS: which commands an option is for, against each command's --help
# The command names on the .Cm lines of the OPTIONS entry of option $1.
documented_for() {
    sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$man1" | sed -n "/^\\.It Fl \\\\-$1\\( \\|\$\\)/,/^\\.It /p" |
        sed -n 's/^\(\.Pf ( \)\{0,1\}\.\{0,1\}Cm //p' | tr -s ' ,;:()' '\n' | grep -Fx "$commands" | sort -u
}
shown_by() {
    for c in $commands; do
        "$HIVEPORT" "$c" --help | grep -q -- "^  --$1\\b" && echo "$c"
    done | sort -u
}
for option in json quiet verbose discard-logs lock-timeout; do
    want=$(shown_by "$option") got=$(documented_for "${option//-/\\\\-}")
    check "hiveport(1) OPTIONS --$option is for [$(echo $got)], --help shows it for [$(echo $want)]" \
        test "$want" = "$got"
done

# ---- SYNOPSIS: the image lines name the commands that take --wim/--ntfs
takes_image=$(for c in $commands; do
    "$HIVEPORT" "$c" --wim /nonexistent/x.wim >/dev/null 2>"$build/docs-check.err"
    grep -q 'is not supported by' "$build/docs-check.err" || echo "$c"
done | sort -u)
rm -f "$build/docs-check.err"
for option in wim ntfs; do
    listed=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$man1" | grep -B1 "^\\.Fl \\\\-$option " | sed -n 's/^\.Cm //p' |
             tr -s ' |' '\n' | sort -u)
    check "SYNOPSIS --$option names [$(echo $listed)], the commands taking it are [$(echo $takes_image)]" \
        test "$listed" = "$takes_image"
done

# ---- a write needs free space for one copy of the hive
for doc in "$root/README.md" "$man1"; do
    check "$doc does not say a write needs free space for one more copy of the hive" \
        grep -q 'free space for one more copy of the hive' <(tr -s ' \n' ' ' <"$doc")
    check "$doc still says a restamp rewrites 4 bytes in place" \
        test -z "$(grep -i 'rewrites those 4 bytes in place' "$doc")"
done

# ---- grammar of counts
check "the documentation says '1 log entries' or '1 dirty pages'" \
    test -z "$(grep -rnE '\b1 (log entries|dirty pages)\b' "$root/man" "$root/README.md")"

# ---- profiles: where they are installed, and which there are
check "hiveport-profile(5) does not name PREFIX/share/hiveport/profiles/" \
    grep -q '^\.It Ar PREFIX Ns Pa /share/hiveport/profiles/$' "$man5"
for p in "$root"/examples/profiles/*.profile; do
    check "hiveport-profile(5) does not name $(basename "$p")" grep -q "Pa $(basename "$p")" "$man5"
done

echo "cli-docs-check: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
