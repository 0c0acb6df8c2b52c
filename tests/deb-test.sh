#!/bin/bash
# deb-test.sh: `make check-deb` (after `make deb`).  The packages in DEB_OUT, as a user gets them:
#   1. lintian on the .changes: no E: and no W: line; every override in debian/ carries a comment (why);
#   2. the four packages installed into this machine with `apt-get install ./X.deb ...` (as root);
#   3. used: /usr/bin/hiveport --version (with WIM, NTFS and the disk formats built in); the qemu-nbd message
#      names qemu-utils when it is absent; the examples built with `pkg-config hiveport` (shared) and one
#      against libhiveport.a; a fixture stamped by the CLI with an installed profile, by an example and by
#      the Python module under Debian's python3, each loading the packaged library; bash completion;
#      dpkg-shlibdeps asks for libhiveport0 (>= 0.1) or (>= 0.2) by the symbols a program uses;
#   4. purged: every file `dpkg -L` listed is gone (directories other packages own excepted), no dpkg record
#      is left, ldconfig no longer knows the library; a `make install` into /usr/local is as it was.
# Environment: BUILD (for the fixtures), DEB_OUT (build/deb).  Packages already installed that this test did
# not install are a failure: it will not purge what someone else installed.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/roottest.sh"
cd "$root"
BUILD=${BUILD:-build} DEB_OUT=${DEB_OUT:-build/deb}
PKGS="libhiveport0 libhiveport-dev hiveport python3-hiveport"
hp_suite deb

hp_need_root deb-test "installs the packages into this machine: run as root"
hp_need_commands deb-test "Debian packages lintian, apt" lintian apt-get dpkg-query
changes=$(ls "$DEB_OUT"/hiveport_*.changes 2>/dev/null | head -1)
[ -n "$changes" ] || { fail "no .changes in $DEB_OUT: run make deb"; summary; exit 1; }
version=$(sed -n 's/^Version: //p' "$changes")
arch=$(dpkg --print-architecture) multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
debs=()
for p in $PKGS; do
    f=$(ls "$DEB_OUT/${p}_${version}_"{"$arch",all}.deb 2>/dev/null | head -1)
    [ -n "$f" ] || { fail "$p: no ${p}_${version}_*.deb in $DEB_OUT"; summary; exit 1; }
    debs+=("./$f")
done
for p in $PKGS; do
    if dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^[ihr]'; then
        fail "$p is already installed on this machine (dpkg -l $p): purge it first; this test purges only what it installed"
        summary; exit 1
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-deb.XXXXXX")
installed=0
cleanup() {
    if [ "$installed" = 1 ]; then
        echo "deb-test: purging the packages after a failure"
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $PKGS >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# ---- 1. lintian ----
lintian --version
lintian "$changes" >"$work/lintian" 2>&1
lint_status=$?
sed 's/^/  lintian: /' "$work/lintian"
if grep -qE '^[EW]: ' "$work/lintian"; then
    fail "lintian: $(grep -cE '^[EW]: ' "$work/lintian") E:/W: line(s) (above)"
elif [ "$lint_status" -ne 0 ]; then
    fail "lintian exited $lint_status"
else
    pass "lintian $(basename "$changes"): no E: and no W:"
fi
bad_override=0
for o in debian/*lintian-overrides debian/source/lintian-overrides; do
    [ -f "$o" ] || continue
    awk -v f="$o" '/^[[:space:]]*$/ { c = 0; next } /^#/ { c = 1; next }
        { if (!c) { print "FAIL: deb: " f ": override without a comment above it: " $0; bad = 1 } }
        END { exit bad }' "$o" || bad_override=1
done
[ "$bad_override" = 0 ] && pass "every lintian override says why"

# ---- 2. install ----
usr_local_state() {
    find /usr/local -name '*hiveport*' -print0 2>/dev/null | sort -z | xargs -0r sha256sum 2>/dev/null
    find /usr/local -name '*hiveport*' 2>/dev/null | sort
}
usr_local_state >"$work/usr-local.before"
installed=1
if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${debs[@]}" >"$work/apt.log" 2>&1; then
    pass "apt-get install ${debs[*]}"
else
    cat "$work/apt.log"; fail "apt-get install failed"; summary; exit 1
fi
for p in $PKGS; do dpkg -L "$p"; done | sort -u >"$work/files"
echo "deb-test: the packages installed $(wc -l <"$work/files") paths"

# ---- 3. use ----
# A `make install` into /usr/local comes first on PATH, in ld.so's cache, in pkg-config's and Python's paths:
# every check names the packaged files explicitly.
hp=/usr/bin/hiveport
libdir=/usr/lib/$multiarch
out=$("$hp" --version 2>&1)
echo "$out" | sed 's/^/  /'
if echo "$out" | grep -q "^hiveport ${version%%-*} (libhiveport ${version%%-*})" &&
   echo "$out" | grep -q 'WIM yes' && echo "$out" | grep -q 'NTFS yes' &&
   echo "$out" | grep -q 'qcow2/VHDX/VHD/VMDK yes' && echo "$out" | grep -q 'E01 yes'; then
    pass "$hp --version: $version, with WIM, NTFS, qcow2/VHDX/VHD/VMDK and E01"
else
    fail "$hp --version does not say $version with every image format"
fi

fixture=$BUILD/fixtures/system-basic.hive
[ -f "$fixture" ] || { fail "$fixture is missing (make fixtures)"; summary; exit 1; }

# qemu-utils is a Recommends: without qemu-nbd on PATH, the message names the package.
if command -v qemu-img >/dev/null && qemu-img create -q -f qcow2 "$work/disk.qcow2" 16M; then
    msg=$(PATH=/nonexistent "$hp" get --disk "$work/disk.qcow2" ntds 2>&1)
    if echo "$msg" | grep -q 'qemu-utils'; then pass "without qemu-nbd: $msg"
    else fail "without qemu-nbd the message does not name qemu-utils: $msg"; fi
else
    fail "qemu-img (qemu-utils, a Recommends of hiveport) is not installed"
fi

# The CLI with a profile the package installed.
cp "$fixture" "$work/SYSTEM.cli"
profile=/usr/share/hiveport/profiles/domain-controller.profile
if "$hp" apply "$profile" "$work/SYSTEM.cli" >/dev/null && [ "$("$hp" get "$work/SYSTEM.cli" ntds)" = 5005 ] &&
   [ "$("$hp" get "$work/SYSTEM.cli" netlogon)" = 5006 ] && "$hp" check "$work/SYSTEM.cli" >/dev/null; then
    pass "hiveport apply $profile: ntds 5005, netlogon 5006, the hive passes check"
else
    fail "hiveport apply $profile on a copy of $fixture"
fi

# The examples, with the packaged .pc only (PKG_CONFIG_LIBDIR replaces the default search path, which puts
# /usr/local first); they must load the packaged libhiveport.so.0.
export PKG_CONFIG_LIBDIR=$libdir/pkgconfig:/usr/lib/pkgconfig:/usr/share/pkgconfig
if [ "$(pkg-config --modversion hiveport)" = "${version%%-*}" ] &&
   make -s -C examples OUT="$work" CFLAGS="-O2 -Werror" >"$work/examples.log" 2>&1; then
    pass "examples built with pkg-config hiveport ($(pkg-config --cflags --libs hiveport))"
else
    cat "$work/examples.log"; fail "examples do not build against the packages (pkg-config hiveport)"
fi
lib_in() { LD_LIBRARY_PATH=$libdir ldd "$1" 2>/dev/null | awk '$1 == "libhiveport.so.0" { print $3 }'; }
if [ -x "$work/stamp-exchange2003" ]; then
    mkdir -p "$work/img/Windows/System32/config"
    cp "$fixture" "$work/img/Windows/System32/config/SYSTEM"
    so=$(lib_in "$work/stamp-exchange2003")
    if [ "$(readlink -f "$so")" = "$(readlink -f "$libdir/libhiveport.so.0")" ] &&
       LD_LIBRARY_PATH=$libdir "$work/stamp-exchange2003" "$work/img" >/dev/null &&
       [ "$(LD_LIBRARY_PATH=$libdir "$work/read-port" "$work/img/Windows/System32/config/SYSTEM" exchange-sa-rfr)" = 5001 ]; then
        pass "stamp-exchange2003 (linked with $so) stamped an image; read-port reads 5001"
    else
        fail "stamp-exchange2003 / read-port against $libdir/libhiveport.so.0 (ldd: $so)"
    fi
fi
if cc -std=c11 -O2 $(pkg-config --cflags hiveport) -o "$work/read-port-static" examples/read-port.c \
      "$libdir/libhiveport.a" $(pkg-config --libs hivex) 2>"$work/static.log" &&
   ! ldd "$work/read-port-static" | grep -q libhiveport &&
   [ "$("$work/read-port-static" "$work/SYSTEM.cli" ntds)" = 5005 ]; then
    pass "read-port linked with $libdir/libhiveport.a reads ntds 5005"
else
    cat "$work/static.log"; fail "an example linked with the static library"
fi
# dpkg-shlibdeps and the ABI are tied by the symbols file: a program using only 0.1 functions depends on
# libhiveport0 (>= 0.1), one using hiveport_check (HIVEPORT_0.2) on (>= 0.2).
mkdir -p "$work/shl/debian"
printf 'Source: shl\n\nPackage: shl\nArchitecture: any\n' >"$work/shl/debian/control"
printf '#include <hiveport.h>\nint main(void) { void (*volatile f)(void) = (void (*)(void))hiveport_check; return f == 0; }\n' \
    >"$work/uses-check.c"
cc $(pkg-config --cflags hiveport) -o "$work/uses-check" "$work/uses-check.c" $(pkg-config --libs hiveport)
shl() { (cd "$work/shl" && dpkg-shlibdeps -l"$libdir" -O "$1" 2>&1 | grep -o 'libhiveport0[^,]*'); }
d1=$(shl "$work/read-port") d2=$(shl "$work/uses-check")
if [ "$d1" = "libhiveport0 (>= 0.1)" ] && [ "$d2" = "libhiveport0 (>= 0.2)" ]; then
    pass "dpkg-shlibdeps: read-port needs $d1, a hiveport_check user $d2"
else
    fail "dpkg-shlibdeps: read-port needs '$d1' (want >= 0.1), a hiveport_check user '$d2' (want >= 0.2)"
fi
unset PKG_CONFIG_LIBDIR

# The Python module under Debian's python3, from the package's directory, loading the packaged library
# (as python3-hiveport's dependency on libhiveport0 promises), without HIVEPORT_LIBRARY.
cp "$fixture" "$work/SYSTEM.py"
if env -u HIVEPORT_LIBRARY -u PYTHONPATH LD_LIBRARY_PATH=$libdir /usr/bin/python3 - "$work/SYSTEM.py" "$libdir" <<'EOF'
import sys
sys.path.insert(0, "/usr/lib/python3/dist-packages")   # ahead of a /usr/local install
import hiveport
hive, libdir = sys.argv[1], sys.argv[2]
assert hiveport.__file__.startswith("/usr/lib/python3/dist-packages/hiveport/"), hiveport.__file__
with hiveport.open(hive, write=True) as h:
    h.set("exchange-sa-rfr", 5001, controlset="all")
    h.commit()
with hiveport.open(hive) as h:
    assert h.get("exchange-sa-rfr") == 5001
maps = [l.split()[-1] for l in open("/proc/self/maps") if "libhiveport.so" in l]
assert maps and all(m.startswith(libdir + "/") for m in maps), maps
print("python3 %s: hiveport from %s, library %s" % (sys.version.split()[0], hiveport.__file__, maps[0]))
EOF
then
    [ "$("$hp" get "$work/SYSTEM.py" exchange-sa-rfr)" = 5001 ] && pass "the Python module stamped exchange-sa-rfr=5001" ||
        fail "hiveport get does not read what the Python module wrote"
else
    fail "python3-hiveport: import, stamp or library check failed"
fi

if bash -c '. /usr/share/bash-completion/completions/hiveport && complete -p hiveport' >/dev/null 2>&1; then
    pass "bash completion for hiveport"
else
    fail "/usr/share/bash-completion/completions/hiveport does not define a completion"
fi
for m in man1/hiveport.1 man5/hiveport-profile.5 man3/hiveport.3 man3/hiveport-python.3; do
    [ -f "/usr/share/man/$m.gz" ] || fail "/usr/share/man/$m.gz is missing"
done

# ---- 4. purge ----
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $PKGS >"$work/purge.log" 2>&1; then
    installed=0; pass "apt-get purge $PKGS"
else
    cat "$work/purge.log"; fail "apt-get purge failed"
fi
left=0
while IFS= read -r f; do
    [ "$f" = /. ] && continue
    if [ -d "$f" ] && [ ! -L "$f" ]; then
        # A directory may stay when another package owns it too.
        dpkg-query -S "$f" >/dev/null 2>&1 && continue
        echo "  left: $f/ (a directory no other package owns)"; left=$((left + 1))
    elif [ -e "$f" ] || [ -L "$f" ]; then
        echo "  left: $f"; left=$((left + 1))
    fi
done <"$work/files"
for d in /usr/lib/python3/dist-packages/hiveport /usr/share/hiveport /usr/share/doc/hiveport; do
    [ -e "$d" ] && { echo "  left: $d"; left=$((left + 1)); }
done
[ "$left" -eq 0 ] && pass "nothing of the $(wc -l <"$work/files") paths is left after purge" ||
    fail "$left path(s) left after purge"
for p in $PKGS; do
    dpkg-query -W "$p" >/dev/null 2>&1 && fail "dpkg still has a record of $p: $(dpkg-query -W -f='${db:Status-Abbrev}' "$p")"
done
ldconfig -p | grep -q "libhiveport.so.0 .*=> $libdir/" && fail "ld.so's cache still lists $libdir/libhiveport.so.0"
usr_local_state >"$work/usr-local.after"
if cmp -s "$work/usr-local.before" "$work/usr-local.after"; then
    pass "/usr/local unchanged ($(grep -c . "$work/usr-local.before") hiveport paths there)"
else
    diff "$work/usr-local.before" "$work/usr-local.after"; fail "/usr/local changed"
fi
summary
