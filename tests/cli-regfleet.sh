#!/bin/bash
# cli-regfleet.sh: .reg files as profiles, .reg export, and fleets past one machine (issue 17).
#
#   reg:      the KB 270836 / KB 224196 settings written as an administrator writes them, in five forms (5.00
#             UTF-16LE with BOM and CRLF as regedit saves it, 5.00 UTF-8 CRLF, LF, and with a BOM, REGEDIT4),
#             with comments, a deletion and a hex(4) value continued on the next line: each applies to a
#             fresh hive, reads back with `get`, checks as a match, and gives the same bytes as the
#             equivalent profile (SOURCE_DATE_EPOCH fixed); ControlSet002 keys apply to ControlSet002 only.
#   refusals: every refused line is reported as FILE:LINE: reason (in UTF-8 and in UTF-16), with the
#             profile's own checks (duplicates, shared ports) on the .reg line numbers; the hive unchanged.
#   export:   --format reg is UTF-16LE + BOM + CRLF, reg4 is REGEDIT4 + CRLF; both re-apply as a match
#             (through a pipe too) and make a fresh hive export the same profile; `hivexregedit --merge` of
#             the REGEDIT4 export into a scratch hive gives the same values; Wine's `reg import` when Wine
#             is installed (a plain SKIP line otherwise: Wine is not a CI package).
#   shards:   100 generated hives: for N = 1..8 the shards are disjoint and cover all, and a reversed
#             manifest gives the same shards; 4 shards run by GNU parallel (examples/fleet/parallel-
#             shards.sh) leave the same bytes as one `apply --jobs 4`.
#   json:     every line of --json parses, the summary counts match the records, a failing target is one
#             record with its error and the others complete.
#   manifest: its refusals name MANIFEST:LINE; --shard and --from usage errors exit 2.
#   examples: the Slurm script and parallel example pass `bash -n`; the Kubernetes manifest parses as YAML
#             (python3-yaml) and is an Indexed Job calling --shard.
#
# Usage: tests/cli-regfleet.sh    Environment: BUILD (default build), HIVEPORT (default $BUILD/hiveport).
# Prints each failure and a last line "N passed, N failed[, N skipped]"; exits 1 on any failure.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/skip.sh"
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
HIVEPORT=${HIVEPORT:-$build/hiveport}
fixtures=$build/fixtures
[ -f "$fixtures/system-empty.hive" ] || { echo "cli-regfleet: no fixtures in $fixtures (run make fixtures)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-regfleet.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work" || exit 1
export SOURCE_DATE_EPOCH=1700000000

passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
skip() { if hp_skip "$@"; then skipped=$((skipped + 1)); else failed=$((failed + 1)); fi; }
check() {
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then pass; else fail "$name"; fi
}
crlf() { sed 's/$/\r/'; }
utf16() { { printf '\xff\xfe'; iconv -f utf-8 -t utf-16le; }; }

# ---- .reg files as an administrator writes them ----
# KB 270836 (Exchange 2003: System Attendant RFR and NSPI, store, SRS) and KB 224196 (NTDS, Netlogon).
kb_body() {
    cat <<'EOF'
; Static RPC ports for an Exchange 2003 server that is also a domain controller
; KB 270836 (Exchange) and KB 224196 (Active Directory)

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\MSExchangeSA\Parameters]
"TCP/IP Port"=dword:00001771
"TCP/IP NSPI Port"=dword:00001772

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\MSExchangeIS\ParametersSystem]
"TCP/IP Port"=dword:00001773

[HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeSRS\Parameters]
"TCP/IP"=hex(4):74,17,\
  00,00

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\NTDS\Parameters]
"TCP/IP Port"=dword:00001775

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\Netlogon\Parameters]
"DCTcpipPort"=dword:00001776

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\MSExchangeDS\Parameters]
"TCP/IP Port"=-
EOF
}
{ echo 'Windows Registry Editor Version 5.00'; echo; kb_body; } | crlf | utf16 >kb-utf16.reg
{ echo 'Windows Registry Editor Version 5.00'; echo; kb_body; } | crlf >kb-utf8-crlf.reg
{ echo 'Windows Registry Editor Version 5.00'; echo; kb_body; } >kb-utf8-lf.reg
{ printf '\xef\xbb\xbf'; echo 'Windows Registry Editor Version 5.00'; echo; kb_body; } | crlf >kb-utf8-bom.reg
{ echo 'REGEDIT4'; echo; kb_body; } | crlf >kb-regedit4.reg
cat >kb.profile <<'EOF'
exchange-sa-rfr = 6001
exchange-sa-nspi = 6002
exchange-is = 6003
exchange-srs = 6004
ntds = 6005
netlogon = 6006
unset exchange55-ds
EOF
check "the UTF-16 file is what regedit writes" sh -c "file kb-utf16.reg | grep -q 'Windows Registry little-endian text'"
cp "$fixtures/system-empty.hive" profile.hive
"$HIVEPORT" apply kb.profile profile.hive >/dev/null
want="6001 6002 6003 6004 6005 6006 not-set"
for form in utf16 utf8-crlf utf8-lf utf8-bom regedit4; do
    cp "$fixtures/system-empty.hive" "$form.hive"
    out=$("$HIVEPORT" apply "kb-$form.reg" "$form.hive" 2>&1)
    check "$form: applies ($out)" [ "$out" = "$form.hive: changed (6 values)
1 hive: 1 changed, 0 unchanged, 0 failed" ]
    got=$(for id in exchange-sa-rfr exchange-sa-nspi exchange-is exchange-srs ntds netlogon exchange55-ds; do
        "$HIVEPORT" get "$form.hive" "$id" 2>/dev/null || echo not-set; done | tr '\n' ' ')
    check "$form: reads back ($got)" [ "$got" = "$want " ]
    check "$form: --check matches" "$HIVEPORT" apply --check "kb-$form.reg" "$form.hive"
    check "$form: the same bytes as the profile" cmp "$form.hive" profile.hive
done
# --jobs and standard input work as with a profile.
for i in 1 2 3; do cp "$fixtures/system-empty.hive" "j$i.hive"; done
check "--jobs 2 over three hives" "$HIVEPORT" apply --jobs 2 kb-utf16.reg j1.hive j2.hive j3.hive
check "the .reg read from standard input" sh -c "'$HIVEPORT' apply --check - j1.hive j2.hive j3.hive <kb-utf16.reg"
# ControlSetNNN keys apply to that control set only.
{ echo 'Windows Registry Editor Version 5.00'; echo
  echo '[HKEY_LOCAL_MACHINE\SYSTEM\ControlSet002\Services\NTDS\Parameters]'; echo '"TCP/IP Port"=dword:00001f41'
  echo '[HKEY_LOCAL_MACHINE\SYSTEM\ControlSet002\Services\MyService\Parameters]'; echo '"Port \"A\""=dword:1f42'
} | crlf | utf16 >cs2.reg
cp "$fixtures/system-basic.hive" cs2.hive
before1=$("$HIVEPORT" get cs2.hive ntds --controlset 1)
check "ControlSet002 keys: applied" "$HIVEPORT" apply cs2.reg cs2.hive
check "ControlSet002 keys: ControlSet002 holds 8001" [ "$("$HIVEPORT" get cs2.hive ntds --controlset 2)" = 8001 ]
check "ControlSet002 keys: ControlSet001 untouched" [ "$("$HIVEPORT" get cs2.hive ntds --controlset 1)" = "$before1" ]
check "ControlSet002 keys: a custom value with escaped quotes" \
    [ "$("$HIVEPORT" get cs2.hive 'MyService\Parameters:Port "A"' --controlset 2)" = 8002 ]
check "the equivalent ControlSet002 profile matches" sh -c \
    "printf 'controlset = 2\nntds = 8001\n\"MyService\\\\Parameters:Port \"\"A\"\"\" = 8002\n' | '$HIVEPORT' apply --check - cs2.hive"

# ---- refusals: FILE:LINE: reason, nothing written ----
cat >bad-body <<'EOF'
[HKEY_CURRENT_USER\Software\Example]
"Port"=dword:00001771
[-HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\NTDS]
[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows]
"Example"=dword:00100000
[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Lsa]
[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\NTDS\Parameters]
@="x"
"TCP/IP Port"=hex:01,02
"Name"="not a port"
"Custom"="7000"
"TCP/IP Port"=dword:1234567890
[HKEY_LOCAL_MACHINE\SYSTEM\ControlSet002\Services\NTDS\Parameters]
EOF
{ echo 'Windows Registry Editor Version 5.00'; cat bad-body; } | crlf >bad.reg
{ echo 'Windows Registry Editor Version 5.00'; cat bad-body; } | crlf | utf16 >bad16.reg
expect_lines=(
    "bad.reg:2: 'HKEY_CURRENT_USER': only HKEY_LOCAL_MACHINE (HKLM) keys are port settings"
    "bad.reg:4: key deletions ([-KEY]) are refused"
    "bad.reg:5: only the SOFTWARE keys Microsoft\\Rpc\\Internet (the RPC port range) and Classes\\AppID\\{GUID}"
    "bad.reg:7: only keys under ...\\CurrentControlSet\\Services are port settings"
    "bad.reg:9: the default value (@) of a key is not a port setting"
    "bad.reg:10: \"TCP/IP Port\": only dword: and \"string\" values are port settings, not hex data"
    "bad.reg:11: \"Name\" holds \"not a port\", not a decimal port number"
    "bad.reg:12: \"Custom\" is a string here but a custom setting is a REG_DWORD"
    "bad.reg:13: dword data of \"TCP/IP Port\" must be 1 to 8 hex digits"
    "bad.reg:14: 'ControlSet002' here but CurrentControlSet on line 8: a profile applies to one control set"
    "bad.reg: 10 problems in the profile; no hive was opened"
)
cp "$fixtures/system-basic.hive" target.hive
sum=$(sha256sum <target.hive)
for f in bad bad16; do
    "$HIVEPORT" apply "$f.reg" target.hive >/dev/null 2>"$f.err"
    check "$f: exit 2" [ $? = 2 ]
    for e in "${expect_lines[@]}"; do
        check "$f: '${e/bad.reg/$f.reg}'" grep -qF "hiveport apply: ${e/bad.reg/$f.reg}" "$f.err"
    done
done
{ echo 'REGEDIT4'; echo '[HKLM\SYSTEM\CurrentControlSet\Services\NTDS\Parameters]'; echo '"TCP/IP Port"=dword:1771'
  echo '[HKLM\SYSTEM\CurrentControlSet\Services\Netlogon\Parameters]'; echo '"DCTcpipPort"=dword:1771'
  echo '[HKLM\SYSTEM\CurrentControlSet\Services\NTDS\Parameters]'; echo '"tcp/ip port"=dword:1772'; } >clash.reg
"$HIVEPORT" apply clash.reg target.hive >/dev/null 2>clash.err
check "profile checks on .reg lines: a shared port (line 5)" grep -qF \
    "clash.reg:5: port 6001 for netlogon is already set for ntds on line 3: Netlogon and NTDS must differ" clash.err
check "profile checks on .reg lines: a duplicate (line 7)" grep -qF \
    "clash.reg:7: duplicate setting: ntds is already set on line 3" clash.err
printf 'REGEDIT4\r\n[HKLM\\SYSTEM\\CurrentControlSet\\Services\\A\\P]\r\n"B"=dword:1\r\n"\xff"=dword:2\r\n' >latin1.reg
"$HIVEPORT" apply latin1.reg target.hive >/dev/null 2>latin1.err
check "a line that is not UTF-8: line 4" grep -qF "latin1.reg:4: the line is not valid UTF-8" latin1.err
printf '\xff\xfeR\0E\0G\0E\0D\0I\0T\0\x34\0\n\0\x00\xd8\n\0' >surrogate.reg
"$HIVEPORT" apply surrogate.reg target.hive >/dev/null 2>surrogate.err
check "an unpaired UTF-16 surrogate: line 2" grep -qF "surrogate.reg:2: the line holds an unpaired UTF-16 surrogate" \
    surrogate.err
check "refused files left the hive byte-for-byte unchanged" [ "$(sha256sum <target.hive)" = "$sum" ]

# ---- export --format reg / reg4 ----
"$HIVEPORT" export profile.hive --format reg >export5.reg
"$HIVEPORT" export profile.hive --format reg4 >export4.reg
check "reg: starts with the UTF-16LE byte-order mark and the 5.00 header" bash -c \
    "head -c 2 export5.reg | od -An -tx1 | grep -q 'ff fe' && iconv -f utf-16le -t utf-8 export5.reg | head -n 1 | \
     grep -qx \$'\\xef\\xbb\\xbfWindows Registry Editor Version 5.00\\r'"
check "reg: every line ends with CRLF" bash -c \
    "[ \$(iconv -f utf-16le -t utf-8 export5.reg | grep -vc \$'\\r\$') = 0 ]"
check "reg4: REGEDIT4, CRLF" bash -c "head -n 1 export4.reg | grep -qx \$'REGEDIT4\\r' && [ \$(grep -vc \$'\\r\$' export4.reg) = 0 ]"
check "reg4: under CurrentControlSet" grep -qF '[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\NTDS\Parameters]' \
    export4.reg
check "reg4: dword data" grep -qx $'"TCP/IP Port"=dword:00001775\r' export4.reg
for f in export5 export4; do
    check "$f re-applies as a match" "$HIVEPORT" apply --check "$f.reg" profile.hive
    check "$f re-applies as a match through a pipe" sh -c "'$HIVEPORT' export profile.hive --format \
        $([ $f = export5 ] && echo reg || echo reg4) | '$HIVEPORT' apply --check - profile.hive"
    cp "$fixtures/system-empty.hive" "$f.hive"
    "$HIVEPORT" apply "$f.reg" "$f.hive" >/dev/null
    check "$f applied to a fresh hive exports the same profile" \
        cmp <("$HIVEPORT" export "$f.hive" | grep -v '^#') <("$HIVEPORT" export profile.hive | grep -v '^#')
done
# The REG_SZ catalog port (exchange2010-ab) as a string, a dynamic 0, and --unset-absent as deletions.
cp "$fixtures/system-empty.hive" sz.hive
"$HIVEPORT" set sz.hive exchange2010-ab=6010 ntfrs=0 >/dev/null
"$HIVEPORT" export sz.hive --format reg --unset-absent >sz.reg
check "reg: a REG_SZ port as a string" sh -c "iconv -f utf-16le -t utf-8 sz.reg | tr -d '\r' | grep -qxF '\"RpcTcpPort\"=\"6010\"'"
check "reg: --unset-absent writes deletions" sh -c "iconv -f utf-16le -t utf-8 sz.reg | tr -d '\r' | grep -qxF '\"TCP/IP Port\"=-'"
cp "$fixtures/system-basic.hive" sz2.hive
"$HIVEPORT" apply sz.reg sz2.hive >/dev/null
check "reg: the string, the 0 and the deletions re-apply" sh -c \
    "[ \$('$HIVEPORT' get sz2.hive exchange2010-ab) = 6010 ] && [ \$('$HIVEPORT' get sz2.hive ntfrs) = 0 ] &&
     ! '$HIVEPORT' get sz2.hive ntds && '$HIVEPORT' apply --check sz.reg sz2.hive"
printf 'REGEDIT4\n[HKLM\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeAB\\Parameters]\n"RpcTcpPort"=dword:1772\n@=hex:01,\\\n  02\n' \
    >sztype.reg
"$HIVEPORT" apply sztype.reg sz2.hive >/dev/null 2>sztype.err
check "a dword for the REG_SZ setting: refused on line 3" grep -qF \
    'sztype.reg:3: "RpcTcpPort" is a REG_DWORD here but exchange2010-ab is a REG_SZ' sztype.err
check "a continued @ value: one refusal, on line 4" sh -c \
    "grep -qF 'sztype.reg:4: the default value (@)' sztype.err && grep -qF 'sztype.reg: 2 problems' sztype.err"
check "a drifted hive is reported as drift by the export" sh -c \
    "'$HIVEPORT' apply --check export5.reg '$fixtures/system-basic.hive'; [ \$? = 4 ]"
check "--format all control sets is a usage error" sh -c \
    "'$HIVEPORT' export profile.hive --format reg --controlset all; [ \$? = 2 ]"
check "--format N writes ControlSetNNN" sh -c \
    "'$HIVEPORT' export '$fixtures/system-basic.hive' --format reg4 --controlset 2 | grep -q 'SYSTEM\\\\ControlSet002\\\\Services'"

# An independent reader: hivexregedit --merge (libwin-hivex-perl) of the REGEDIT4 export into a scratch hive.
# It has no CurrentControlSet (its manual: map it through Select\Current yourself), and --prefix strips
# the HKEY_LOCAL_MACHINE\SYSTEM root from the key names.
if command -v hivexregedit >/dev/null; then
    cp "$fixtures/system-empty.hive" scratch.hive
    current=$(printf '%03d' "$(hivexget scratch.hive '\Select' Current | tr -d '\n' | sed 's/^0*//')")
    sed "s/\\\\CurrentControlSet\\\\/\\\\ControlSet$current\\\\/" export4.reg >merge.reg
    if hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' scratch.hive merge.reg 2>hivex.err; then
        pass
        check "hivexregedit: the merged hive matches the export" "$HIVEPORT" apply --check export4.reg scratch.hive
        check "hivexregedit: the merged hive exports the same settings" \
            cmp <("$HIVEPORT" export scratch.hive | grep -v '^#') <("$HIVEPORT" export profile.hive | grep -v '^#')
    else
        fail "hivexregedit --merge refused hiveport's export: $(head -n 1 hivex.err)"
    fi
else
    skip "hivexregedit" "not installed (Debian libwin-hivex-perl)"
fi
# Wine's reg import: an optional extra, not a CI package (.ci/packages), so without Wine it is not run and
# says so; not a SKIP, which under CI=true (and in make check-fresh) means something CI must run did not.
if command -v wine >/dev/null; then
    export WINEPREFIX=$work/wineprefix WINEDEBUG=-all
    if wine reg import "$(winepath -w export5.reg 2>/dev/null)" >/dev/null 2>&1 &&
        wine reg query 'HKLM\SYSTEM\CurrentControlSet\Services\NTDS\Parameters' /v 'TCP/IP Port' 2>/dev/null |
        grep -qi '0x1775'; then pass; else fail "wine reg import of the 5.00 export"; fi
else
    echo "not run (optional, not in .ci/packages): wine reg import: Wine is not installed"
fi

# ---- manifests and shards ----
mkdir -p fleet/a fleet/b
for i in $(seq -w 0 99); do
    cp "$fixtures/system-empty.hive" "fleet/a/host$i-SYSTEM"
    cp "$fixtures/system-empty.hive" "fleet/b/host$i-SYSTEM"
done
ls fleet/a/* >manifest
tac manifest >manifest.reversed
shard_targets() { # MANIFEST K N: the targets shard K of N lists, sorted
    "$HIVEPORT" apply --check --json --jobs 2 --from "$1" --shard "$2/$3" kb.profile 2>/dev/null |
        jq -r 'select(.type == "target") | .target' | sort
}
ok_cover=1 ok_disjoint=1 ok_stable=1 ok_count=1
for n in 1 2 3 4 5 6 7 8; do
    : >all.$n
    for k in $(seq 0 $((n - 1))); do
        shard_targets manifest "$k" "$n" >s.$n.$k
        shard_targets manifest.reversed "$k" "$n" | cmp -s - s.$n.$k || ok_stable=0
        cat s.$n.$k >>all.$n
    done
    [ "$(sort all.$n | uniq -d | wc -l)" = 0 ] || ok_disjoint=0
    sort -u all.$n | cmp -s - <(sort manifest) || ok_cover=0
    [ "$(wc -l <all.$n)" = 100 ] || ok_count=0
done
check "shards N=1..8: disjoint" [ $ok_disjoint = 1 ]
check "shards N=1..8: cover all 100" [ $ok_cover = 1 ]
check "shards N=1..8: 100 targets in all" [ $ok_count = 1 ]
check "shards N=1..8: a reversed manifest gives the same shards" [ $ok_stable = 1 ]
check "shards N=4: no shard empty or holding everything" sh -c \
    "for k in 0 1 2 3; do n=\$(wc -l <s.4.\$k); [ \$n -gt 0 ] && [ \$n -lt 100 ] || exit 1; done"

# GNU parallel: 4 shards (the example) against one --jobs 4.
if command -v parallel >/dev/null; then
    ls fleet/b/* >manifest.b
    HIVEPORT=$HIVEPORT "$root/examples/fleet/parallel-shards.sh" kb-utf16.reg manifest 4 out >merged.json 2>parallel.err
    check "parallel-shards.sh: exit 0" [ $? = 0 ]
    "$HIVEPORT" apply --jobs 4 --from manifest.b kb-utf16.reg >jobs4.out
    same=1
    for i in $(seq -w 0 99); do cmp -s "fleet/a/host$i-SYSTEM" "fleet/b/host$i-SYSTEM" || same=0; done
    check "4 shards by GNU parallel leave the same 100 hives as --jobs 4" [ $same = 1 ]
    check "the merged summaries count 100 changed" \
        [ "$(jq -r '"\(.shards) \(.targets) \(.changed) \(.failed)"' merged.json)" = "4 100 100 0" ]
    check "every shard wrote its summary" [ "$(cat out/shard-*.jsonl | jq -s '[.[] | select(.type == "summary")] | length')" = 4 ]
else
    skip "GNU parallel" "not installed (Debian parallel)"
fi

# ---- JSON Lines ----
cp "$fixtures/truncated.hive" fleet/broken-SYSTEM
{ head -n 5 manifest; echo fleet/broken-SYSTEM; sed -n '6,10p' manifest; } >manifest.json-test
for f in $(cat manifest.json-test); do [ "$f" = fleet/broken-SYSTEM ] || cp "$fixtures/system-empty.hive" "$f"; done
"$HIVEPORT" apply --json --jobs 3 --from manifest.json-test kb.profile >run.jsonl 2>/dev/null
check "json: exit 1 (one target failed)" [ $? = 1 ]
check "json: every line parses" /usr/bin/python3 -c '
import json, sys
for line in open("run.jsonl"):
    json.loads(line)'
check "json: 11 targets then one summary, last" /usr/bin/python3 -c '
import json
recs = [json.loads(l) for l in open("run.jsonl")]
assert [r["type"] for r in recs] == ["target"] * 11 + ["summary"], recs'
check "json: the summary counts the records" /usr/bin/python3 -c '
import json
recs = [json.loads(l) for l in open("run.jsonl")]
s, t = recs[-1], recs[:-1]
assert s["targets"] == len(t) == 11 and s["total"] == 11
for k in ("changed", "unchanged", "failed"):
    assert s[k] == sum(r["status"] == k for r in t), (k, s)
assert s["changed"] == 10 and s["failed"] == 1 and s["shard"] is None, s'
check "json: the failing target is one record with its error" /usr/bin/python3 -c '
import json
recs = [json.loads(l) for l in open("run.jsonl")]
bad = [r for r in recs if r.get("target") == "fleet/broken-SYSTEM"]
assert len(bad) == 1 and bad[0]["status"] == "failed" and "header says" in bad[0]["error"], bad
assert bad[0]["changes"] == [] and bad[0]["findings"] == []
ok = [r for r in recs if r["type"] == "target" and r is not bad[0]]
assert all(r["status"] == "changed" and r["error"] is None and len(r["changes"]) == 6 for r in ok), ok'
"$HIVEPORT" apply --json --check --from manifest.json-test --shard 1/3 kb.profile >check.jsonl 2>/dev/null
check "json: --check records findings, the summary names the shard" /usr/bin/python3 -c '
import json
recs = [json.loads(l) for l in open("check.jsonl")]
s = recs[-1]
assert s["type"] == "summary" and s["shard"] == "1/3" and s["total"] == 11 and s["check"] is True, s
assert s["targets"] == len(recs) - 1 and s["match"] + s["failed"] == s["targets"], s
assert all(r["findings"] == [] and r["changes"] == [] for r in recs[:-1] if r["status"] == "match")'

# ---- manifest and option errors ----
printf 'fleet/a/host00-SYSTEM\n# a comment\n\n-\nfleet/a/host01-SYSTEM\r\n' >manifest.bad
"$HIVEPORT" apply --from manifest.bad kb.profile >/dev/null 2>manifest.err
check "manifest: '-' refused with its line, exit 2" sh -c \
    "[ $? = 2 ] && grep -qF 'hiveport apply: manifest.bad:4: a target cannot be standard input' manifest.err"
for bad in 4/4 -1/4 1 a/b 0/0 0/65537; do
    "$HIVEPORT" apply --shard "$bad" --from manifest kb.profile >/dev/null 2>&1
    check "--shard $bad: exit 2" [ $? = 2 ]
done
"$HIVEPORT" apply --from - - </dev/null >/dev/null 2>&1
check "profile and manifest both on standard input: exit 2" [ $? = 2 ]
"$HIVEPORT" apply --from missing.manifest kb.profile >/dev/null 2>missing.err
check "an unreadable manifest: exit 1, named" sh -c "[ $? = 1 ] && grep -qF 'missing.manifest: cannot open the manifest' missing.err"
printf 'fleet/a/host00-SYSTEM\n' >one
check "an empty shard: exit 0, 0 hives" sh -c "'$HIVEPORT' apply --check --from one --shard \
    \$(( ( \$('$HIVEPORT' apply --check --json --from one --shard 0/2 kb.profile | jq -r 'select(.type==\"summary\") | .targets') ) ))/2 \
    kb.profile | grep -qx '0 hives: 0 match, 0 drift, 0 failed'"

# ---- the fleet examples: syntax ----
check "examples: parallel-shards.sh passes bash -n" bash -n "$root/examples/fleet/parallel-shards.sh"
check "examples: slurm-array.sh passes bash -n" bash -n "$root/examples/fleet/slurm-array.sh"
check "examples: slurm-array.sh calls --shard with the array task" \
    grep -qF -- '--shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT"' "$root/examples/fleet/slurm-array.sh"
if /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
    check "examples: the Kubernetes manifest is an Indexed Job calling --shard" /usr/bin/python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
spec = d["spec"]
assert d["kind"] == "Job" and spec["completionMode"] == "Indexed"
assert spec["completions"] == spec["parallelism"]
c = spec["template"]["spec"]["containers"][0]
assert str(spec["completions"]) == [e["value"] for e in c["env"] if e["name"] == "SHARDS"][0]
assert "--shard \"$JOB_COMPLETION_INDEX/$SHARDS\"" in " ".join(c["args"])' "$root/examples/fleet/k8s-indexed-job.yaml"
else
    check "examples: the Kubernetes manifest is an Indexed Job calling --shard (no python3-yaml: grep)" sh -c \
        "grep -q '^kind: Job' '$root/examples/fleet/k8s-indexed-job.yaml' &&
         grep -q 'completionMode: Indexed' '$root/examples/fleet/k8s-indexed-job.yaml' &&
         grep -qF -- '--shard \"\$JOB_COMPLETION_INDEX/\$SHARDS\"' '$root/examples/fleet/k8s-indexed-job.yaml'"
fi

echo "$passed passed, $failed failed$([ $skipped -gt 0 ] && echo ", $skipped skipped")"
[ $failed = 0 ]
