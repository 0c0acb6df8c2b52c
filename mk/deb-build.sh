#!/bin/bash
# mk/deb-build.sh OUT: `make deb`.  Copies the tree (tests/support/tree-files.sh: git's files, with the
# working tree's changes; no build trees) to OUT/src/hiveport-VERSION, runs dpkg-buildpackage -us -uc -b
# there, moves the .debs, the .changes and the .buildinfo to OUT and removes the copy: the tree itself is
# never written to.  The log is OUT/dpkg-buildpackage.log.  Environment: VERSION (the project's, from
# include/hiveport.h), DEB_BUILD_OPTIONS (nocheck: no `make check` in the package build).
set -euo pipefail
out=$1
root=$(pwd)
. tests/support/tree-files.sh
for c in dpkg-buildpackage dh dpkg-parsechangelog; do
    command -v "$c" >/dev/null || { echo "deb: $c is missing (Debian packages dpkg-dev, debhelper)"; exit 1; }
done
debver=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [ "${debver%%-*}" != "$VERSION" ]; then
    echo "deb: debian/changelog is at $debver but include/hiveport.h says $VERSION: add a changelog entry (dch -v $VERSION)"
    exit 1
fi
rm -rf "$out"
src=$out/src/hiveport-$VERSION
mkdir -p "$src"
hp_tree_files . | tar --null -T - -cf - | tar -xf - -C "$src"
# The suite finds the real Windows hives in ../shared, as from the tree: the copy gets the same (outside the
# source package).
if [ -d ../shared ]; then ln -s "$(cd ../shared && pwd)" "$out/src/shared"; fi
log=$root/$out/dpkg-buildpackage.log
echo "deb: building in $src (DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-}); log: $out/dpkg-buildpackage.log"
start=$(date +%s)
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
    tail -40 "$log"
    echo "deb: dpkg-buildpackage failed (the whole log: $out/dpkg-buildpackage.log; the copy stays in $src)"
    exit 1
fi
grep -E '^(SKIP|FAIL)' "$log" | sort | uniq -c || true
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/
rm -rf "$out/src"
echo "deb: built in $(( $(date +%s) - start )) s:"
ls -1 "$out"/*.deb "$out"/*.changes
