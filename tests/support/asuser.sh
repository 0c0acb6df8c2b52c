# tests/support/asuser.sh: running the program under test as an unprivileged user (nobody, 65534), the way
# a test checks file modes when it runs as root (root ignores them).  Sourced by the shell tests.
#
# That user must reach what it runs.  A checkout under a private directory (root's home is mode 0700 on
# Debian) is out of its reach, so the program never runs from the build tree: hp_as_user_setup copies it
# into a fresh directory under /tmp that the user can read, and hp_as_user_cleanup removes that directory
# (call it from the test's EXIT trap).  The files the user works on must be copies in such a directory too.
#
# hp_as_user_setup PROGRAM
#   PROGRAM is a path, possibly with a prefix (e.g. "valgrind -q /path/hiveport"): the last word is copied.
#   As root: sets HP_AS_USER to the setpriv prefix and HP_AS_USER_PROGRAM to the prefix + the copy's path;
#   not as root: HP_AS_USER is empty and HP_AS_USER_PROGRAM is PROGRAM.  Returns 1, with a message on
#   standard error, when setpriv (util-linux) is missing or the user cannot run the copy.
# hp_as_user_cleanup: removes the copy's directory (harmless when there is none).
HP_AS_USER= HP_AS_USER_PROGRAM= HP_AS_USER_DIR=
hp_as_user_setup() {
    local program=$1 prefix= bin
    HP_AS_USER_PROGRAM=$program
    [ "$(id -u)" = 0 ] || return 0
    command -v setpriv >/dev/null || { echo "setpriv (util-linux) is needed to drop root" >&2; return 1; }
    bin=${program##* }
    [ "$bin" = "$program" ] || prefix="${program% *} "
    HP_AS_USER_DIR=$(mktemp -d /tmp/hiveport-asuser.XXXXXX) || return 1
    chmod 755 "$HP_AS_USER_DIR" && cp "$bin" "$HP_AS_USER_DIR/" && chmod 755 "$HP_AS_USER_DIR/${bin##*/}" || return 1
    HP_AS_USER="setpriv --reuid=65534 --regid=65534 --clear-groups"
    HP_AS_USER_PROGRAM="$prefix$HP_AS_USER_DIR/${bin##*/}"
    $HP_AS_USER "$HP_AS_USER_DIR/${bin##*/}" --version >/dev/null 2>&1 ||
        { echo "nobody cannot run the copy $HP_AS_USER_DIR/${bin##*/} of $bin" >&2; return 1; }
}
hp_as_user_cleanup() {
    [ -n "$HP_AS_USER_DIR" ] && rm -rf "$HP_AS_USER_DIR"
    HP_AS_USER_DIR=
    return 0
}
