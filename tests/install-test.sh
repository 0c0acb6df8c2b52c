#!/bin/bash
# install-test.sh: `make install` and `make uninstall` into staged DESTDIRs, as a packager or an admin runs them.
#  - PREFIX=/usr: the installed hiveport.pc says /usr (not the build's default), and a consumer compiled and
#    linked with that .pc (pkg-config with the stage as sysroot) finds hiveport.h and the library and runs;
#  - INCDIR=/usr/include/hiveport: the .pc's includedir follows it and the consumer still builds;
#  - man pages (every one in man/), example profiles and the bash completion land where documented;
#  - uninstall leaves the staged tree exactly as it was before install (files, links, and the unrelated files
#    of a populated tree stay).
# Environment: BUILD (default build), SANFLAGS (the build's sanitizer flags, for the consumer).
# Prints "N passed, N failed"; exits 1 on a failure.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { echo "FAIL: install-test: $*"; failed=$((failed + 1)); }
mk() { make -C "$root" --no-print-directory -s BUILD="$build" "$@" >"$work/make.log" 2>&1 || { cat "$work/make.log"; return 1; }; }
# The files and links under a tree with their sizes and link targets (directories are not files).
listing() { (cd "$1" && find . ! -type d -printf '%p %s %l\n' | sort); }

# A tree that already holds other software, as /usr does.
stage=$work/stage
mkdir -p "$stage/usr/share/man/man1" "$stage/usr/lib/pkgconfig" "$stage/usr/bin" \
    "$stage/usr/share/bash-completion/completions"
echo other >"$stage/usr/share/man/man1/other.1"
echo other >"$stage/usr/lib/pkgconfig/other.pc"
echo other >"$stage/usr/share/bash-completion/completions/other"
before=$(listing "$stage")

mk install PREFIX=/usr DESTDIR="$stage" || { bad "make install PREFIX=/usr failed"; echo "$passed passed, $failed failed"; exit 1; }
pc=$stage/usr/lib/pkgconfig/hiveport.pc
if grep -qx 'prefix=/usr' "$pc" && grep -qx 'libdir=/usr/lib' "$pc" && grep -qx 'includedir=/usr/include' "$pc"
then ok; else bad "hiveport.pc does not describe PREFIX=/usr:"; cat "$pc"; fi

# A consumer built the way a user builds one: flags from the installed .pc only.
cat >"$work/consumer.c" <<'C'
#include <stdio.h>
#include <hiveport.h>
int main(void) { printf("%s %zu\n", hiveport_version(), hiveport_catalog_count()); return 0; }
C
consumer() { # consumer PKG_CONFIG_DIR: builds and runs against the stage
    local flags
    flags=$(PKG_CONFIG_PATH=$1 PKG_CONFIG_SYSROOT_DIR=$stage pkg-config --cflags --libs hiveport) &&
    cc ${SANFLAGS:-} -o "$work/consumer" "$work/consumer.c" $flags &&
    LD_LIBRARY_PATH=$stage/usr/lib "$work/consumer" | grep -q "^$(sed -n 's/^Version: //p' "$1/hiveport.pc") "
}
if consumer "$stage/usr/lib/pkgconfig"; then ok; else bad "a consumer does not build with the installed .pc (PREFIX=/usr)"; fi

for p in "$root"/man/man[135]/*.[135]; do
    rel=${p#"$root"/man/}
    [ -e "$stage/usr/share/man/$rel" ] || { bad "man page $rel is not installed"; break; }
done && ok
n=$(ls "$root"/examples/profiles/*.profile | wc -l)
if [ "$(ls "$stage"/usr/share/hiveport/profiles/*.profile 2>/dev/null | wc -l)" = "$n" ]; then ok
else bad "the $n example profiles are not in /usr/share/hiveport/profiles"; fi
if [ -f "$root/completion/hiveport" ]; then
    if cmp -s "$root/completion/hiveport" "$stage/usr/share/bash-completion/completions/hiveport"; then ok
    else bad "the bash completion is not in /usr/share/bash-completion/completions"; fi
fi

mk uninstall PREFIX=/usr DESTDIR="$stage" || bad "make uninstall failed"
after=$(listing "$stage")
if [ "$before" = "$after" ]; then ok; else
    bad "uninstall did not restore the staged tree:"; diff <(echo "$before") <(echo "$after") | head -20
fi
[ -d "$stage/usr/share/hiveport" ] && bad "uninstall left /usr/share/hiveport" || ok

# INCDIR moves the header and the .pc follows it.
stage2=$work/stage2
mk install PREFIX=/usr INCDIR=/usr/include/hiveport DESTDIR="$stage2" || bad "make install INCDIR=... failed"
stage=$stage2
if [ -f "$stage2/usr/include/hiveport/hiveport.h" ] &&
   grep -qx 'includedir=/usr/include/hiveport' "$stage2/usr/lib/pkgconfig/hiveport.pc" &&
   consumer "$stage2/usr/lib/pkgconfig"
then ok; else bad "with INCDIR=/usr/include/hiveport the .pc does not lead a consumer to the header"; fi
mk uninstall PREFIX=/usr INCDIR=/usr/include/hiveport DESTDIR="$stage2" || bad "make uninstall INCDIR=... failed"
left=$(listing "$stage2")
[ -z "$left" ] && ok || { bad "uninstall into an empty stage left files:"; echo "$left" | head; }

echo "install-test: $passed passed, $failed failed"
[ $failed -eq 0 ]
