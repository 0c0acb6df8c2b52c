#!/bin/bash
# test-deps.sh: the "What the tests need" table of tests/README.md must list exactly the Debian packages of
# .ci/packages, in the same order (what .ci/deps installs and CI runs with), so the list a reader sees is the
# one a fresh machine gets.  `tests/fresh/test-deps.sh --print` prints the table's rows for the packages,
# keeping the descriptions already written, with "TODO" for a new package.
#
# `tests/fresh/test-deps.sh --scan` (not part of `make check`: it depends on what this machine has installed)
# lists the words of the test scripts and makefiles that are programs on this machine coming from a package
# that is neither in .ci/packages, nor a direct dependency of one, nor part of a minimal Debian (priority
# required) plus git, make and ca-certificates: each is a program a test
# may call that a fresh machine lacks, or a word that merely names one (review by hand).  `make check-fresh`
# is the real test.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
readme=$root/tests/README.md packages=$root/.ci/packages lean=$root/.ci/packages-no-recommends
# Both lists, in order: what .ci/deps installs (the second without its recommends).
all_packages() { cat "$packages" "$lean"; }

table() { sed -n '/^<!-- test-deps begin/,/^<!-- test-deps end/p' "$readme" | grep '^| `'; }
listed() { table | sed 's/^| `\([^`]*\)`.*/\1/'; }

case ${1:-} in
--print)
    while read -r p; do
        row=$(table | grep -F "| \`$p\` |" | head -n 1)
        echo "${row:-| \`$p\` | TODO |}"
    done < <(all_packages)
    exit 0 ;;
--scan)
    cd "$root" || exit 1
    files=$( (ls Makefile mk/*.mk .ci/run .ci/deps; find tests examples bindings -type f \( -name '*.sh' -o -name '*.py' \
              -o -name cmd -o -name Makefile \)) 2>/dev/null | sort -u)
    # Words outside comments that are programs here (both /usr/bin and /bin: dpkg knows one of them).
    paths=$(sed 's/^[ \t]*#.*//' $files | grep -oE '[A-Za-z_][A-Za-z0-9_.+-]*' | sort -u | while read -r w; do
        for d in /usr/bin /usr/sbin /bin /sbin; do [ -x "$d/$w" ] && [ ! -d "$d/$w" ] && echo "$d/$w"; done; done)
    # What a fresh machine has: a minimal Debian, the three packages the README starts from, and what the
    # listed packages depend on directly (pkg-config is pkgconf, python3 brings python3-minimal).
    required=$( (dpkg-query -W -f='${Package} ${Priority} ${Essential}\n' | awk '$2 == "required" || $3 == "yes" { print $1 }'
                 printf '%s\n' git make ca-certificates
                 dpkg-query -W -f='${Depends}, ${Pre-Depends}\n' $(cat "$packages") 2>/dev/null | tr ',|' '\n\n' |
                     sed 's/([^)]*)//; s/:any//; s/[ \t]//g' | grep .) | sort -u)
    dpkg -S $paths 2>/dev/null | grep -v '^diversion' | sed 's/:[a-z0-9]*: /: /' | sort -u |
    while IFS=': ' read -r pkgs path; do
        ok=0
        for p in ${pkgs//,/ }; do
            grep -qxF "$p" "$packages" && ok=1
            grep -qxF "$p" <<<"$required" && ok=1
        done
        [ $ok = 1 ] || echo "$(basename "$path") ($path, Debian $pkgs): used as: $(cd "$root" && grep -lw -- "$(basename "$path")" $files | head -n 3 | tr '\n' ' ')"
    done
    exit 0 ;;
esac

[ -n "$(table)" ] || { echo "FAIL: test-deps: no table between <!-- test-deps begin --> and <!-- test-deps end --> in tests/README.md"; exit 1; }
if diff <(listed) <(all_packages) >/dev/null; then
    echo "test-deps: tests/README.md lists the $(all_packages | wc -l) packages of .ci/packages and .ci/packages-no-recommends; 1 passed, 0 failed"
else
    echo "FAIL: test-deps: tests/README.md's 'What the tests need' differs from .ci/packages (< README, > .ci/packages):"
    diff <(listed) <(all_packages) | grep '^[<>]'
    echo "test-deps: tests/fresh/test-deps.sh --print gives the rows to paste"
    echo "0 passed, 1 failed"
    exit 1
fi
