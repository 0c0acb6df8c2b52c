# tests/support/tree-files.sh: hp_tree_files ROOT prints, NUL-separated and relative to ROOT, the project's
# files without its build trees (build, build-*): in a git checkout whose top is ROOT, git's list (tracked
# files and untracked ones that are not ignored); elsewhere (an unpacked source package, a copy inside
# another checkout's build/) every file under ROOT.
hp_tree_files() {
    local root top
    root=$(cd "$1" && pwd -P) || return 1
    top=$(git -C "$root" rev-parse --show-toplevel 2>/dev/null) && top=$(cd "$top" && pwd -P)
    if [ "$top" = "$root" ]; then
        (cd "$root" && git ls-files -z --cached --others --exclude-standard)
    else
        (cd "$root" && find . -mindepth 1 \( -path ./.git -o -path './build' -o -path './build-*' \) -prune -o \
            \( -type f -o -type l \) -print0 | sed -z 's|^\./||')
    fi | grep -zv '^build'
}
