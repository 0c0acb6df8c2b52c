#!/bin/bash
# fresh-order.sh: on a fresh machine `make demo` / `make check` must install the Debian packages before
# anything probes for them (the image probes once ran while the Makefile was parsed, before .ci/deps, and
# built a hiveport without WIM and NTFS).  In a scratch copy of the tree, .ci/deps is replaced by one that
# logs "deps", and CC by a wrapper that logs each compiler call; the log must show deps before the first
# probe (a compile from standard input) and before the first compile of the library.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/tree-files.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-fresh.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/tree log=$work/log
mkdir -p "$tree"
(cd "$root" && hp_tree_files . |
    xargs -0 cp --parents -t "$tree" 2>/dev/null)
printf '#!/bin/sh\necho deps >> %s\n' "$log" >"$tree/.ci/deps"
cat >"$work/cc" <<EOF2
#!/bin/sh
case " \$* " in *" -x c "*) echo probe >> $log ;; *" -c "*) echo compile >> $log ;; esac
exec ${CC:-cc} "\$@"
EOF2
chmod +x "$work/cc"
make -C "$tree" --no-print-directory -s CC="$work/cc" BUILD=b lib >"$work/make.out" 2>&1 ||
    { cat "$work/make.out"; echo "FAIL: fresh-order: make lib failed in the scratch copy"; exit 1; }
first=$(grep -m1 -n . "$log" | cut -d: -f2-)
probes=$(grep -c probe "$log") deps=$(grep -c deps "$log")
if [ "$first" = deps ] && [ "$deps" = 1 ] && [ "$probes" -ge 2 ]; then
    echo "fresh-order: packages installed before the $probes probes and the compiles; 1 passed, 0 failed"
else
    echo "FAIL: fresh-order: the log of a fresh build is not deps first, then probes:"; uniq -c "$log"
    echo "0 passed, 1 failed"; exit 1
fi
