#!/bin/bash
# check-fresh.sh: the README's first two commands on a fresh machine, for real (issue 25).  Builds a minimal
# Debian chroot (debootstrap --variant=minbase of the running release, from the mirror the machine's apt
# sources name, with those same sources inside), installs only git, make and ca-certificates in it, clones
# the project's committed HEAD into /root/hiveport (/root mode 0700, as on Debian) with ../shared beside it
# (a read-only bind mount, as CI lays it), and runs the commands of the README's first code block there,
# exactly as written, as root, with CI=true (so a skipped test fails).  Fails on any failure and on any
# SKIP line in the output.  A developer's machine that happens to have a program installed cannot hide a
# missing line in .ci/packages from this.
#
# Usage (as root): tests/fresh/check-fresh.sh
# Environment:
#   FRESH_DIR      where the chroot is made (default build/fresh; removed before and after)
#   FRESH_COMMIT   what to clone (default HEAD: the committed tree, not the working tree's changes)
#   FRESH_CACHE    a directory for debootstrap's package tarball (default none: download every time; the
#                  Makefile's check-fresh passes build/fresh-cache only when FRESH_CACHE=1 is given)
#   FRESH_MAKEFLAGS  MAKEFLAGS for the commands in the chroot (e.g. -k to see every failing suite at once)
#   FRESH_KEEP=1   leave the chroot (unmounted) for inspection
# The log of the commands goes to $FRESH_DIR.log (and to standard output).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${FRESH_DIR:-$root/build/fresh}
case $dir in /*) ;; *) dir=$root/$dir ;; esac
commit=${FRESH_COMMIT:-HEAD}
cache=${FRESH_CACHE:-}
log=$dir.log
shared=$root/../shared
say() { echo "check-fresh: $*"; }
die() { echo "check-fresh: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot and mounts)"
PATH=$PATH:/usr/sbin:/sbin
command -v debootstrap >/dev/null || die "debootstrap is not installed (Debian debootstrap, in .ci/packages)"
[ -d "$shared" ] || die "no $shared: the project expects ../shared beside the clone"
rev=$(git -C "$root" rev-parse --verify "$commit^{commit}") || die "no commit $commit"
if [ "$commit" = HEAD ] && [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
    say "note: the working tree has uncommitted changes; they are NOT tested (the clone is of HEAD, $rev)"
fi

# ---- the running release and the machine's apt sources
. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
# Enabled deb822 stanzas (*.sources) and one-line entries (sources.list, *.list), as "URI SUITE" lines.
apt_entries() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN { RS = ""; FS = "\n" }
             { types = ""; uris = ""; suites = ""; enabled = "yes"
               for (i = 1; i <= NF; i++) {
                   line = $i; if (line ~ /^#/) continue
                   k = tolower(line); sub(/:.*/, "", k); v = line; sub(/^[^:]*:[ \t]*/, "", v)
                   if (k == "types") types = v; else if (k == "uris") uris = v
                   else if (k == "suites") suites = v; else if (k == "enabled") enabled = tolower(v) }
               if (enabled == "no" || (" " types " ") !~ / deb /) next
               nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
               for (a = 1; a <= nu; a++) for (b = 1; b <= ns; b++) if (u[a] != "" && s[b] != "") print u[a], s[b] }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[ \t]*deb[ \t]\+\(\[[^]]*\][ \t]\+\)\?\([^ \t]\+\)[ \t]\+\([^ \t]\+\).*/\2 \3/p' "$f"
    done
}
mirror=$(apt_entries | awk -v s="$suite" '$2 == s { print $1; exit }')
[ -n "$mirror" ] || die "no enabled apt source for '$suite' in /etc/apt/sources.list(.d)"

# ---- mounts: everything under the chroot is unmounted on exit, failure or not, before anything is removed
mounts_under() { awk -v d="$dir/root/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r; }
unmount_all() {
    local m i
    for i in 1 2 3; do
        for m in $(mounts_under); do umount "$m" 2>/dev/null || true; done
        [ -z "$(mounts_under)" ] && return 0
        sleep 1
    done
    for m in $(mounts_under); do umount -l "$m" || true; done
    [ -z "$(mounts_under)" ]
}
remove_chroot() {
    [ -e "$dir/root" ] || return 0
    unmount_all || die "mounts left under $dir/root: $(mounts_under | tr '\n' ' '); not removing it"
    # one file system only: even a mount that appeared meanwhile is not descended into
    rm -rf --one-file-system "$dir/root"
}
# The processes this script started in the chroot (their root is it), when it is stopped before they end.
stop_chroot_processes() {
    local p pids sig real
    real=$(readlink -f "$dir/root") || return 0
    for sig in TERM KILL; do
        pids=
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/root" 2>/dev/null)" = "$real" ] && pids="$pids ${p#/proc/}"
        done
        [ -n "$pids" ] || return 0
        kill -$sig $pids 2>/dev/null || true
        sleep 2
    done
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_chroot_processes
    unmount_all || echo "check-fresh: FAIL: could not unmount $(mounts_under | tr '\n' ' ')" >&2
    if [ -n "$(mounts_under)" ]; then rc=1
    elif [ "${FRESH_KEEP:-}" != 1 ]; then rm -rf --one-file-system "$dir/root"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$dir"
remove_chroot
c=$dir/root
start=$(date +%s)

# ---- debootstrap
if [ -n "$cache" ]; then
    mkdir -p "$cache"
    tarball=$cache/$suite-$(dpkg --print-architecture)-minbase.tgz
    if [ ! -s "$tarball" ]; then
        say "debootstrap --make-tarball $tarball ($mirror)"
        debootstrap --variant=minbase --make-tarball="$tarball.tmp" "$suite" "$dir/tarball-work" "$mirror" \
            >"$dir/debootstrap.log" 2>&1 || { tail -n 20 "$dir/debootstrap.log"; die "debootstrap --make-tarball failed"; }
        mv "$tarball.tmp" "$tarball"; rm -rf --one-file-system "$dir/tarball-work"
    fi
    set -- --unpack-tarball="$tarball"
else
    set --
fi
say "debootstrap --variant=minbase $suite $c $mirror"
debootstrap --variant=minbase "$@" "$suite" "$c" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
    { tail -n 20 "$dir/debootstrap.log"; die "debootstrap failed (log: $dir/debootstrap.log)"; }
t_debootstrap=$(( $(date +%s) - start ))
say "debootstrap took ${t_debootstrap}s"

# The machine's enabled apt sources (and the keyrings they name), and its name resolution.
rm -f "$c/etc/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && cp "$f" "$c$f"
done
for k in $(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
           sed -n 's/.*[Ss]igned-[Bb]y[:=][ \t]*\([^] \t]*\).*/\1/p' | sort -u); do
    [ -f "$k" ] && [ ! -e "$c$k" ] && mkdir -p "$c$(dirname "$k")" && cp "$k" "$c$k"
done
# Release files of a snapshot mirror may be past their Valid-Until: take the machine's setting for that.
apt-config dump | grep -E '^Acquire::Check-(Valid-Until|Date) ' >"$c/etc/apt/apt.conf.d/99check-fresh" || true
cp -L /etc/resolv.conf "$c/etc/resolv.conf"

mount -t proc proc "$c/proc"
mount --bind /sys "$c/sys"
mount --bind /dev "$c/dev"
mount --bind /dev/pts "$c/dev/pts"
if mountpoint -q /dev/shm; then mount --bind /dev/shm "$c/dev/shm"; fi

in_chroot() {
    env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
say "apt-get install git make ca-certificates (nothing else)"
in_chroot DEBIAN_FRONTEND=noninteractive chroot "$c" sh -c \
    'apt-get update -qq && apt-get install -y -qq --no-install-recommends git make ca-certificates >/dev/null' \
    >"$dir/apt.log" 2>&1 || { tail -n 20 "$dir/apt.log"; die "apt-get install in the chroot failed"; }

# ---- the clone: /root/hiveport, ../shared beside it read-only
chmod 0700 "$c/root"
git clone -q --no-hardlinks "$root" "$c/root/hiveport"
git -C "$c/root/hiveport" checkout -q --detach "$rev"
mkdir "$c/root/shared"
mount --bind "$shared" "$c/root/shared"
mount -o remount,bind,ro "$c/root/shared"
say "cloned $rev into /root/hiveport (/root mode 0700), ../shared read-only"

# ---- the README's first code block, each command exactly as written
commands=$(awk '/^```/ { if (inblock) exit; if ($0 ~ /^```(sh|bash|console)?$/) { inblock = 1; next } }
                inblock' "$root/README.md" | sed 's/[ \t]*#.*//; /^[ \t]*$/d')
[ -n "$commands" ] || die "no commands in README.md's first code block"
say "the README's commands: $(echo "$commands" | tr '\n' ';')"
: >"$log"
t_run=$(date +%s)
while IFS= read -r cmd; do
    say "# $cmd" | tee -a "$log"
    t0=$(date +%s)
    rc=0
    in_chroot CI=true ${FRESH_MAKEFLAGS:+MAKEFLAGS="$FRESH_MAKEFLAGS"} chroot "$c" bash -lc "cd /root/hiveport && $cmd" \
        </dev/null 2>&1 | tee -a "$log" || rc=$?
    say "'$cmd' exited $rc after $(( $(date +%s) - t0 ))s" | tee -a "$log"
    [ $rc = 0 ] || { say "FAIL: '$cmd' failed (log: $log)"; failed_cmd=$cmd; break; }
done <<<"$commands"
skips=$(grep -E '(^|[^A-Za-z])SKIP' "$log" | grep -v '^check-fresh:' || true)
say "debootstrap ${t_debootstrap}s, the README's commands $(( $(date +%s) - t_run ))s, in all $(( $(date +%s) - start ))s"
if [ -n "${failed_cmd:-}" ]; then
    [ -z "$skips" ] || { say "and SKIP lines:"; echo "$skips"; }
    die "'$failed_cmd' failed on a fresh $suite (log: $log)"
fi
[ -z "$skips" ] || { echo "$skips"; die "SKIP lines in the output: on a fresh machine every test must run"; }
say "PASS: the README's commands passed on a fresh minimal $suite, as root, in a 0700 /root"
