#!/bin/bash
# cli-firewall-nft.sh: `hiveport firewall --format nftables` output, put into the table/chain skeleton that
# hiveport(1) shows under EXAMPLES (read from the man page itself, so the page cannot drift from what is
# tested) exactly as the page's example does it, passes `nft -c -f` (syntax and semantic check; nothing is
# loaded).  A deliberately broken rule must fail the same check, so a pass means something.
#
# `nft -c` hands the rule set to the kernel for checking through netlink: it needs CAP_NET_ADMIN (root; a
# non-root user gets "cache initialization failed: Operation not permitted") and nf_tables in the kernel.
# Where those are missing the cases are skipped with the reason.  As root it runs in a new network
# namespace when unshare(1) can make one, so even a bug here could not touch the host's firewall.
#
# Usage: tests/cli-firewall-nft.sh    Environment: BUILD (default build), HIVEPORT (default $BUILD/hiveport).
# Last line: "N passed, N failed[, N skipped]".
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/clilib.sh"
page=$root/man/man1/hiveport.1
placeholder='# hiveport firewall SYSTEM --format nftables'

# hive [options]: the fixtures whose rules are checked (shared ports, both control sets, a logged hive...).
cases=("system-basic.hive" "audit-clean.hive" "audit-port-conflict.hive" "select-differ.hive"
       "system-logged.hive" "regsz-port.hive" "audit-port-invalid.hive" "system-cs003.hive --controlset all"
       "audit-port-in-exchange2010-range.hive")

skip_all() {
    hp_skip cli-firewall-nft "$1" || { echo "0 passed, 1 failed"; exit 1; }
    echo "0 passed, 0 failed, ${#cases[@]} skipped"
    exit 0
}
nft=$(PATH=$PATH:/usr/sbin:/sbin command -v nft) || skip_all "nft is not installed (Debian package nftables)"
ls "$fixtures"/*.hive >/dev/null 2>&1 || { echo "cli-firewall-nft: no fixtures in $fixtures (run make fixtures)"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-nft.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$fixtures"/*.hive "$fixtures"/*.LOG1 "$work/"
cd "$work" || exit 1

# The skeleton, from the page's literal block (it holds no roff escapes).
sed -n '/^table inet filter {$/,/^}$/p' "$page" >skeleton.nft
if [ ! -s skeleton.nft ] || ! grep -qxF "        $placeholder" skeleton.nft; then
    echo "cli-firewall-nft: no nftables skeleton with the line '$placeholder' in $page"
    echo "0 passed, 1 failed"
    exit 1
fi

check=("$nft" -c -f)
if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
    check=(unshare --net "$nft" -c -f)
fi

# Puts rules (a file) in place of the skeleton's comment line, the way hiveport(1) shows.
assemble() {
    sed 's/^/        /' "$1" >rules.indented
    sed -e '/# hiveport firewall/r rules.indented' -e '/# hiveport firewall/d' skeleton.nft >"$2"
}

# Can nft check anything here?  The bare skeleton must pass.
if ! out=$("${check[@]}" skeleton.nft 2>&1); then
    case $out in
    *"Operation not permitted"* | *"Permission denied"* | *"Protocol not supported"* | *"No such file or directory"*)
        skip_all "nft -c cannot reach nf_tables here (needs root/CAP_NET_ADMIN and nf_tables): $out" ;;
    esac
    echo "cli-firewall-nft: the man page's skeleton itself fails nft -c:"
    echo "$out"
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0 failed=0
# The control: a port nft must refuse.
printf 'tcp dport 70000 accept comment "broken on purpose"\n' >broken.rules
assemble broken.rules broken.nft
if "${check[@]}" broken.nft >/dev/null 2>&1; then
    echo "FAIL control: nft -c accepted a rule with port 70000: the check proves nothing"
    failed=$((failed + 1))
else
    passed=$((passed + 1))
fi

for c in "${cases[@]}"; do
    read -r -a args <<<"$c"
    name=${args[0]%.hive}
    if ! $HIVEPORT firewall "${args[@]}" --format nftables >"$name.rules" 2>"$name.err"; then
        echo "FAIL $c: hiveport firewall failed: $(cat "$name.err")"
        failed=$((failed + 1))
        continue
    fi
    assemble "$name.rules" "$name.nft"
    if out=$("${check[@]}" "$name.nft" 2>&1); then
        passed=$((passed + 1))
    else
        echo "FAIL $c: nft -c -f rejects the rules:"
        echo "$out" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
