#!/bin/bash
# man-check.sh: the manual is clean and complete.
#   - mandoc -T lint finds no error in any page, and no warning in any page with content (a one-line .so
#     link page always gets mandoc's ".so is fragile" warning); every .so names an existing page;
#   - every public function of include/hiveport.h has a man3 page of its name whose NAME section lists it;
#   - hiveport(3) has TYPES, FUNCTIONS, ERRORS, ENVIRONMENT, SEE ALSO and documents every HIVEPORT_E_* status;
#   - hiveport(1) documents every command and long option the tool's --help shows, and exit statuses 0-3;
#   - hiveport_catalog_find(3) lists every catalog id, hiveport_audit(3) every finding code the library emits.
# Usage: tests/man-check.sh   Environment: HIVEPORT (default build/hiveport).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
HIVEPORT=${HIVEPORT:-$root/build/hiveport}
cd "$root/man" || exit 1
command -v mandoc >/dev/null || { echo "man-check: mandoc is not installed (Debian package mandoc)"; exit 1; }

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

pages=$(ls man1/*.1 man3/*.3 man5/*.5 2>/dev/null)
links=$(grep -l '^\.so ' $pages)
full=$(grep -L '^\.so ' $pages)
out=$(mandoc -T lint -W error $pages 2>&1) || [ -z "$out" ] || fail "mandoc errors:"$'\n'"$out"
out=$(mandoc -T lint -W warning $full 2>&1) || [ -z "$out" ] || fail "mandoc warnings:"$'\n'"$out"
for link in $links; do
    target=$(sed -n 's/^\.so //p' "$link")
    [ "$(wc -l <"$link")" -eq 1 ] || fail "$link: a .so page holds only the .so line"
    [ -f "$target" ] || fail "$link: .so $target: no such page"
done

# The page a name leads to, following one .so.
resolve() {
    local page=man3/$1.3
    [ -f "$page" ] || return 1
    local target
    target=$(sed -n 's/^\.so //p' "$page")
    echo "${target:-$page}"
}
functions=$(sed -n 's/^HIVEPORT_API [^(]*[ *]\(hiveport_[a-z_0-9]*\)(.*/\1/p' "$root/include/hiveport.h")
for f in $functions; do
    page=$(resolve "$f") || { fail "$f has no page man3/$f.3"; continue; }
    grep -Eq "^\.Nm $f( ,)?\$" "$page" || fail "$page: NAME does not list $f"
    grep -Eq "^\.(Fn|Fo) $f( |\$)" "$page" || fail "$page: SYNOPSIS does not declare $f"
done

for section in TYPES FUNCTIONS ERRORS ENVIRONMENT 'SEE ALSO'; do
    grep -qx "\.Sh $section" man3/hiveport.3 || fail "hiveport(3) has no $section section"
done
errors=$(sed -n '/^\.Sh ERRORS/,/^\.Sh /p' man3/hiveport.3)
for status in $(sed -n 's/^ *\(HIVEPORT_E_[A-Z_]*\) = .*/\1/p' "$root/include/hiveport.h"); do
    grep -q "^\.It Dv $status " <<<"$errors" || fail "hiveport(3) ERRORS does not document $status"
done
for f in $functions; do
    grep -q "Xr $f 3" man3/hiveport.3 || fail "hiveport(3) FUNCTIONS does not list $f"
done

for section in COMMANDS OPTIONS 'EXIT STATUS' EXAMPLES; do
    grep -qx "\.Sh $section" man1/hiveport.1 || fail "hiveport(1) has no $section section"
done
commands=$("$HIVEPORT" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p')
[ -n "$commands" ] || fail "no commands in '$HIVEPORT --help'"
for c in $commands; do
    grep -q "^\.It Cm $c" man1/hiveport.1 || fail "hiveport(1) COMMANDS does not describe $c"
    for option in $("$HIVEPORT" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        grep -q "Fl \\\\-${option#--}\\b" man1/hiveport.1 ||
            grep -q "Fl \\\\-$(sed 's/-/\\\\-/g' <<<"${option#--}")\\b" man1/hiveport.1 ||
            fail "hiveport(1) does not document $c $option"
    done
done
exit_status=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' man1/hiveport.1)
for n in 0 1 2 3; do
    grep -qx "\.It $n" <<<"$exit_status" || fail "hiveport(1) EXIT STATUS does not describe $n"
done

for id in $("$HIVEPORT" list | awk '!/^ / {print $1}'); do
    grep -qx "\.It Li $id" man3/hiveport_catalog_find.3 || fail "hiveport_catalog_find(3) does not list $id"
done
for code in $(grep -ho 'code = "[a-z0-9-]*"' "$root"/lib/*/*.c | sed 's/.*"\(.*\)"/\1/' | sort -u); do
    grep -qw -- "$code" man3/hiveport_audit.3 || fail "hiveport_audit(3) does not list the finding code $code"
done

# The structural checker's codes (lib/check*.c pass them to hp_check_add after the severity).
for code in $(grep -ho 'HP_\(ERROR\|WARNING\|INFO\), "[a-z0-9-]*"' "$root"/lib/regf/check*.c | sed 's/.*"\(.*\)"/\1/' | sort -u); do
    grep -q "^$code	" man3/hiveport_check.3 || fail "hiveport_check(3) does not list the finding code $code"
done

echo "man-check: $(wc -w <<<"$pages") pages ($(wc -w <<<"$links") .so links), $(wc -w <<<"$functions") functions: $failures problems"
[ "$failures" -eq 0 ]
