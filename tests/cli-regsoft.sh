#!/bin/bash
# cli-regsoft.sh: .reg files of SOFTWARE keys applied by `hiveport apply` (issue 17): the RPC port range
# (HKLM\SOFTWARE\Microsoft\Rpc\Internet, KB 154596) and DCOM AppID Endpoints.
#
#   apply:    the KB 154596 range (Ports "5000-5100", PortsInternetAvailable "Y", UseInternetPorts "Y") and two
#             AppID endpoints, as regedit saves them (5.00, UTF-16LE + BOM, CRLF, a continued hex(7) line) and
#             as REGEDIT4: --check reports drift (exit 4), apply changes the hive, `rpc-range` and `dcom` read
#             it back (the AppID's other endpoints kept), --check reports a match, a second apply writes
#             nothing; a changed range is drift again; [-...\Rpc\Internet] removes the range.
#   export:   --format reg and reg4 of a SOFTWARE hive write its RPC range (Ports over several continued lines),
#             which re-applies as a match (and hivexregedit --merge reads the same); --unset-absent writes the
#             deletion of an absent range.
#   fleet:    --from, --jobs, --shard and --json work as with SYSTEM profiles (summary "controlset": null).
#   kinds:    a SOFTWARE .reg on a SYSTEM hive (and the reverse) fails with the library's one message, the hive
#             unchanged; a file mixing SYSTEM and SOFTWARE keys is refused with file:line.
#   refusals: every line hiveport cannot apply exactly is reported as FILE:LINE: reason before any hive is
#             opened (exit 2), the hive byte-identical; a plan the library refuses half-way (an AppID not
#             registered) writes nothing.
#
# Usage: tests/cli-regsoft.sh    Environment: BUILD (default build), HIVEPORT (default $BUILD/hiveport).
# Prints each failure and a last line "N passed, N failed"; exits 1 on any failure.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/clilib.sh"
command -v hivexget >/dev/null || { echo "cli-regsoft: hivexget is missing (Debian libhivex-bin)"; exit 1; }
enter_workdir cli-regsoft software-plain
export SOURCE_DATE_EPOCH=1700000000 # the same key times in every hive written

# check_exit NAME STATUS COMMAND...: the command exits with STATUS.
check_exit() {
    local name=$1 want=$2
    shift 2
    "$@" >/dev/null 2>&1
    local got=$?
    if [ "$got" = "$want" ]; then pass; else fail "$name (exit $got, expected $want)"; fi
}
# The hex(7) bytes of the REG_MULTI_SZ holding the given strings, as regedit writes them.
multi_sz() {
    { for s in "$@"; do printf '%s\0' "$s"; done; printf '\0'; } | iconv -f utf-8 -t utf-16le | od -An -v -tx1 |
        tr -s ' \n' ',' | sed 's/^,//; s/,$//'
}
same_bytes() { cmp -s "$1" "$2"; }

certsvc='{D99E6E74-FC88-11D0-B498-00A0C90312F3}' # registered, no Endpoints
one='{11111111-1111-1111-1111-111111111111}'     # ncacn_np, ncacn_ip_tcp 5050, ncalrpc
ports_hex=$(multi_sz 5000-5100)
# regedit breaks long hex lines with a backslash: the Ports data continues on the next line.
kb_body() {
    cat <<EOF
; KB 154596: restrict dynamic RPC to ports 5000-5100, and pin two DCOM applications

[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc]

[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]
"Ports"=hex(7):${ports_hex%,00,00,00,00},\\
  00,00,00,00
"PortsInternetAvailable"="Y"
"UseInternetPorts"="Y"

[HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID\\$certsvc]
"Endpoints"=hex(7):$(multi_sz ncacn_ip_tcp,0,5001)

[HKLM\\SOFTWARE\\Classes\\AppID\\$one]
"Endpoints"=hex(7):$(multi_sz ncacn_ip_tcp,0,5002)
EOF
}
{ echo 'Windows Registry Editor Version 5.00'; echo; kb_body; } | crlf | utf16 >kb5.reg
{ echo 'REGEDIT4'; echo; kb_body; } >kb4.reg

for form in kb5 kb4; do
    cp "$fixtures/software-plain.hive" "$form.hive"
    cp "$form.hive" "$form.orig"
    "$HIVEPORT" apply --check "$form.reg" "$form.hive" >"$form.drift" 2>&1
    check "$form: --check on a plain hive exits 4 (drift)" [ $? = 4 ]
    check "$form: --check lists 5 differences" grep -qF "$form.hive: drift (5 differences)" "$form.drift"
    check "$form: --check names Ports" grep -qF 'Microsoft\Rpc\Internet:Ports: not set, expected 5000-5100' \
        "$form.drift"
    check "$form: --check names the endpoint" grep -qF "Classes\\AppID\\$one:Endpoints: 5050, expected 5002" \
        "$form.drift"
    check "$form: --check wrote nothing" same_bytes "$form.hive" "$form.orig"
    "$HIVEPORT" apply "$form.reg" "$form.hive" >"$form.out" 2>"$form.err"
    check "$form: apply exits 0" [ $? = 0 ]
    check "$form: apply changed the hive" grep -qF "$form.hive: changed (5 values)" "$form.out"
    check "$form: the library's KB 154596 warning is a note" grep -qF "hiveport apply: warning: Ports 5000-5100" \
        "$form.err"
    "$HIVEPORT" rpc-range "$form.hive" >"$form.range" 2>/dev/null
    check "$form: rpc-range reads Ports back" grep -qF 'Ports:                  5000-5100 (101 ports)' "$form.range"
    check "$form: rpc-range reads PortsInternetAvailable back" grep -qF 'PortsInternetAvailable: Y' "$form.range"
    check "$form: rpc-range reads UseInternetPorts back" grep -qF 'UseInternetPorts:       Y' "$form.range"
    check "$form: dcom reads the new endpoint back" [ "$("$HIVEPORT" dcom "$form.hive" "$certsvc")" = 5001 ]
    check "$form: dcom reads the changed endpoint back" [ "$("$HIVEPORT" dcom "$form.hive" "$one")" = 5002 ]
    check "$form: the AppID's other endpoints are kept" [ "$(hivexget "$form.hive" "Classes\\AppID\\$one" Endpoints)" = \
        "$(printf 'ncacn_np,0,\\pipe\\one\nncacn_ip_tcp,0,5002\nncalrpc,0,one\n')" ]
    check_exit "$form: --check after apply exits 0 (match)" 0 "$HIVEPORT" apply --check "$form.reg" "$form.hive"
    check "$form: --check after apply says match" sh -c \
        "'$HIVEPORT' apply --check '$form.reg' '$form.hive' | grep -qx '$form.hive: match'"
    cp "$form.hive" "$form.applied"
    check "$form: a second apply is unchanged" sh -c \
        "'$HIVEPORT' apply '$form.reg' '$form.hive' 2>/dev/null | grep -qx '$form.hive: unchanged'"
    check "$form: a second apply writes nothing" same_bytes "$form.hive" "$form.applied"
done
check "both forms give the same hive" same_bytes kb5.hive kb4.hive

# An independent reader: hivexregedit --merge (libwin-hivex-perl) of the same REGEDIT4 file into a plain hive
# gives a hive that hiveport checks as a match.
if command -v hivexregedit >/dev/null; then
    cp "$fixtures/software-plain.hive" merged.hive
    sed 's/^\[HKLM\\/[HKEY_LOCAL_MACHINE\\/' kb4.reg >merge.reg # its --prefix knows no HKLM abbreviation
    if hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' merged.hive merge.reg 2>hivex.err; then
        pass
        check_exit "hivexregedit: the merged hive matches" 0 "$HIVEPORT" apply --check kb4.reg merged.hive
    else
        fail "hivexregedit --merge refused kb4.reg: $(head -n 1 hivex.err)"
    fi
else
    skip "hivexregedit" "not installed (Debian libwin-hivex-perl)"
fi

# Drift after a change made elsewhere, and back.
"$HIVEPORT" rpc-range kb4.hive --set 5000-5200 >/dev/null 2>&1
"$HIVEPORT" apply --check kb4.reg kb4.hive >changed.out 2>&1
check "a changed range: --check exits 4" [ $? = 4 ]
check "a changed range: --check names Ports" grep -qF 'Microsoft\Rpc\Internet:Ports: 5000-5200, expected 5000-5100' \
    changed.out
check "a changed range: only Ports differs" grep -qF 'kb4.hive: drift (1 difference)' changed.out
"$HIVEPORT" dcom kb4.hive "$certsvc" --port 6000 >/dev/null 2>&1
check "a changed endpoint: --check names it" sh -c \
    "'$HIVEPORT' apply --check kb4.reg kb4.hive | grep -qF 'Classes\\AppID\\$certsvc:Endpoints: 6000, expected 5001'"
check_exit "re-apply after drift exits 0" 0 "$HIVEPORT" apply kb4.reg kb4.hive
check_exit "re-apply after drift: --check matches again" 0 "$HIVEPORT" apply --check kb4.reg kb4.hive

# The range removed: [-KEY], which hiveport_rpc_clear() does.
printf 'REGEDIT4\r\n\r\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]\r\n' >clear.reg
check_exit "[-Rpc\\Internet]: --check on a hive with a range exits 4" 4 "$HIVEPORT" apply --check clear.reg kb4.hive
check_exit "[-Rpc\\Internet]: apply exits 0" 0 "$HIVEPORT" apply clear.reg kb4.hive
check_exit "[-Rpc\\Internet]: rpc-range finds none (exit 3)" 3 "$HIVEPORT" rpc-range kb4.hive
check_exit "[-Rpc\\Internet]: --check now exits 0" 0 "$HIVEPORT" apply --check clear.reg kb4.hive
check "[-Rpc\\Internet]: the endpoints stay" [ "$("$HIVEPORT" dcom kb4.hive "$certsvc")" = 5001 ]

# ---- export --format reg / reg4 of a SOFTWARE hive: its RPC range, re-applied as a match ----
cp "$fixtures/software-plain.hive" wide.hive
"$HIVEPORT" rpc-range wide.hive --set 5000-5100,5200,5300-5400,6000,7000-7100,8000,9000-9100 >/dev/null 2>&1
for fmt in reg reg4; do
    "$HIVEPORT" export wide.hive --format "$fmt" >"wide.$fmt" 2>/dev/null
    check "export --format $fmt: exit 0" [ $? = 0 ]
    check_exit "export --format $fmt: apply --check on the same hive matches" 0 "$HIVEPORT" apply --check "wide.$fmt" wide.hive
    check_exit "export --format $fmt: apply --check on another range is drift" 4 "$HIVEPORT" apply --check "wide.$fmt" kb5.hive
done
check "export --format reg is UTF-16LE with a byte-order mark" [ "$(head -c 2 wide.reg | od -An -tx1 | tr -d ' ')" = fffe ]
check "export --format reg4: Ports continues over several lines" [ "$(grep -c '\\'$'\r''$' wide.reg4)" -ge 3 ]
check "export --format reg4: a pipe to apply --check matches" sh -c \
    "'$HIVEPORT' export wide.hive --format reg4 | '$HIVEPORT' apply --check - wide.hive"
cp "$fixtures/software-plain.hive" wide-merged.hive
if command -v hivexregedit >/dev/null; then
    hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' wide-merged.hive wide.reg4 2>/dev/null
    check "export --format reg4: hivexregedit --merge gives the same range" \
        [ "$("$HIVEPORT" rpc-range wide-merged.hive 2>/dev/null)" = "$("$HIVEPORT" rpc-range wide.hive 2>/dev/null)" ]
fi
"$HIVEPORT" export "$fixtures/software-plain.hive" --format reg4 --unset-absent >none.reg 2>/dev/null
check "export --unset-absent of a hive without a range: the key's deletion" \
    grep -qF '[-HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Rpc\Internet]' none.reg
check_exit "... which matches that hive" 0 "$HIVEPORT" apply --check none.reg "$fixtures/software-plain.hive"
check_exit "... and is drift on a hive with a range" 4 "$HIVEPORT" apply --check none.reg wide.hive
check_exit "export of a SOFTWARE hive: --controlset is a usage error" 2 \
    "$HIVEPORT" export wide.hive --format reg --controlset 2
check_exit "export of a range Windows rejects fails" 1 \
    "$HIVEPORT" export "$fixtures/software-rpc-wrong-type.hive" --format reg

# ---- a fleet: --from, --jobs, --shard, --json ----
for i in 1 2 3 4 5; do cp "$fixtures/software-plain.hive" "f$i.hive"; echo "f$i.hive"; done >manifest
check_exit "--from --jobs 2 --json exits 0" 0 sh -c "'$HIVEPORT' apply kb4.reg --from manifest --jobs 2 --json >fleet.jsonl"
check "--json: every line parses" /usr/bin/python3 -c '
import json, sys
recs = [json.loads(l) for l in open("fleet.jsonl")]
t = [r for r in recs if r["type"] == "target"]
s = recs[-1]
assert len(t) == 5 and all(r["status"] == "changed" and len(r["changes"]) == 5 for r in t), t
assert s["type"] == "summary" and s["changed"] == 5 and s["failed"] == 0 and s["controlset"] is None, s'
for i in 1 2 3 4 5; do
    check "fleet: f$i.hive holds the range" same_bytes "f$i.hive" kb5.hive
done
for k in 0 1 2; do
    "$HIVEPORT" apply --check kb4.reg --from manifest --shard "$k/3" --json 2>/dev/null | grep '"type":"target"'
done >shards.jsonl
check "--shard K/3 --check: three shards cover the 5 hives, each once, all match" /usr/bin/python3 -c '
import json
t = [json.loads(l) for l in open("shards.jsonl")]
assert sorted(r["target"] for r in t) == ["f%d.hive" % i for i in range(1, 6)], t
assert all(r["status"] == "match" for r in t), t'

# ---- kinds of hive and of plan ----
cp "$fixtures/system-basic.hive" system.hive
cp system.hive system.orig
"$HIVEPORT" apply kb4.reg system.hive >kind.out 2>&1
check "a SOFTWARE .reg on a SYSTEM hive fails (exit 1)" [ $? = 1 ]
check "... with the library's message" grep -qF 'system.hive: failed: not a SOFTWARE hive' kind.out
check "... the SYSTEM hive unchanged" same_bytes system.hive system.orig
check_exit "--check of a SOFTWARE .reg on a SYSTEM hive fails (exit 1)" 1 "$HIVEPORT" apply --check kb4.reg system.hive
printf 'REGEDIT4\n[HKLM\\SYSTEM\\CurrentControlSet\\Services\\NTDS\\Parameters]\n"TCP/IP Port"=dword:1771\n' >sys.reg
cp kb5.hive soft.hive
check "a SYSTEM .reg on a SOFTWARE hive fails with the library's message" sh -c \
    "'$HIVEPORT' apply sys.reg soft.hive | grep -qF 'soft.hive: failed: not a SYSTEM hive'"
check "... the SOFTWARE hive unchanged" same_bytes soft.hive kb5.hive
{ echo 'REGEDIT4'; echo '[HKLM\SYSTEM\CurrentControlSet\Services\NTDS\Parameters]'; echo '"TCP/IP Port"=dword:1771'
  echo '[HKLM\SOFTWARE\Classes\AppID\'"$certsvc]"; echo "\"Endpoints\"=hex(7):$(multi_sz ncacn_ip_tcp,0,5001)"; } >mixed.reg
"$HIVEPORT" apply mixed.reg soft.hive >/dev/null 2>mixed.err
check "a mixed file exits 2" [ $? = 2 ]
check "a mixed file is refused at the second hive's key" grep -qF \
    'mixed.reg:4: a SOFTWARE key in a .reg file of SYSTEM keys (line 2): a .reg file holds the keys of one hive' mixed.err
check "... the hive unchanged" same_bytes soft.hive kb5.hive

for opt in --replace-type --force --strict; do
    check_exit "a SOFTWARE .reg with $opt: usage error" 2 "$HIVEPORT" apply kb4.reg soft.hive "$opt"
done
check "... the hive unchanged" same_bytes soft.hive kb5.hive

# ---- refusals: FILE:LINE: reason, before any hive is opened ----
cat >bad-body <<EOF
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]
"Ports"=-
"PortsInternetAvailable"="maybe"
"UseInternetPorts"=dword:00000001
"ClientProtocols"="Y"
"Ports"=hex(7):$(multi_sz 5000-)
"Ports"=hex(7):$(multi_sz 5000,5001)
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID\\$one]
"Endpoints"=hex(7):$(multi_sz 'ncacn_np,0,\pipe\one' ncacn_ip_tcp,0,5002)
"LocalService"="One"
"Endpoints"=-
"Endpoints"="ncacn_ip_tcp,0,5002"
"Endpoints"=hex(7):$(multi_sz ncacn_ip_tcp,0,70000)
"Endpoints"=hex(7):$(multi_sz ncacn_http,0,5002)
"Endpoints"=hex(7):35,00,00
"Endpoints"=hex(7):$(multi_sz 'café')
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID\\nope]
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows]
[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID\\$one]
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc]
"MaxRpcSize"=dword:00100000
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID\\$certsvc]
"Endpoints"=hex(7):$(multi_sz ncacn)
EOF
regedit5 bad-body | crlf | utf16 >bad.reg
expect_lines=(
    'bad.reg:3: deleting "Ports" is refused: without its three values the key is an invalid configuration'
    'bad.reg:4: "PortsInternetAvailable" holds "maybe": the RPC runtime reads only "Y" or "N"'
    'bad.reg:5: "UseInternetPorts": dword data is not what the RPC runtime reads here'
    'bad.reg:6: "ClientProtocols": Microsoft\Rpc\Internet takes only Ports, PortsInternetAvailable and UseInternetPorts'
    'bad.reg:7: "Ports" is invalid: entry 1, "5000-"'
    'bad.reg:8: "Ports" string 1, "5000,5001", holds a comma'
    'bad.reg:10: "Endpoints" holds 2 strings: hiveport sets only the TCP endpoint'
    'bad.reg:11: "LocalService": only "Endpoints" of a DCOM AppID is a port setting'
    'bad.reg:12: removing "Endpoints" is refused'
    'bad.reg:13: "Endpoints" must be hex(7): data (REG_MULTI_SZ)'
    'bad.reg:14: "Endpoints" names port 70000, outside 1-65535'
    'bad.reg:15: "Endpoints" holds "ncacn_http,0,5002", not "ncacn_ip_tcp,0,PORT"'
    'bad.reg:16: hex(7) data of "Endpoints" is 3 bytes'
    'bad.reg:17: string 1 of "Endpoints" holds U+00E9'
    "bad.reg:18: 'Classes\\AppID\\nope' is not an AppID key"
    'bad.reg:19: only the SOFTWARE keys Microsoft\Rpc\Internet (the RPC port range) and Classes\AppID\{GUID}'
    'bad.reg:20: key deletions ([-KEY]) are refused but for the RPC port range'
    'bad.reg:22: values of this SOFTWARE key are not port settings'
    'bad.reg:24: "Endpoints" holds "ncacn", not "ncacn_ip_tcp,0,PORT"'
    'bad.reg: 19 problems in the profile; no hive was opened'
)
check_refusals refusals bad.reg soft.hive "${expect_lines[@]}"
check "refusals: the hive unchanged" same_bytes soft.hive kb5.hive
check_exit "refusals: --check exits 2 too" 2 "$HIVEPORT" apply --check bad.reg soft.hive

# The plan as a whole: the three RPC values go together; a key deleted and given values.
{ echo 'REGEDIT4'; echo '[HKLM\SOFTWARE\Microsoft\Rpc\Internet]'; echo "\"Ports\"=hex(7):$ports_hex"
  echo '"UseInternetPorts"="Y"'; } >partial.reg
check "partial range: refused on the key's line" sh -c \
    "'$HIVEPORT' apply partial.reg soft.hive 2>&1 | grep -qF 'partial.reg:2: Microsoft\\Rpc\\Internet without \"PortsInternetAvailable\"'"
{ echo 'REGEDIT4'; echo '[-HKLM\SOFTWARE\Microsoft\Rpc\Internet]'; echo '[HKLM\SOFTWARE\Microsoft\Rpc\Internet]'; } >both.reg
check "deleted and set: refused" sh -c \
    "'$HIVEPORT' apply both.reg soft.hive 2>&1 | grep -qF 'both.reg:3: the key is deleted on line 2: one or the other'"
check "... the hive unchanged" same_bytes soft.hive kb5.hive

# Refused by the library half-way (an AppID the hive does not register): nothing is written.
{ echo 'REGEDIT4'; echo '[HKLM\SOFTWARE\Microsoft\Rpc\Internet]'; echo "\"Ports\"=hex(7):$(multi_sz 6000-6100)"
  echo '"PortsInternetAvailable"="Y"'; echo '"UseInternetPorts"="Y"'
  echo '[HKLM\SOFTWARE\Classes\AppID\{AAAAAAAA-AAAA-AAAA-AAAA-AAAAAAAAAAAA}]'
  echo "\"Endpoints\"=hex(7):$(multi_sz ncacn_ip_tcp,0,5003)"; } >unregistered.reg
"$HIVEPORT" apply unregistered.reg soft.hive >unregistered.out 2>&1
check "an unregistered AppID: exit 1" [ $? = 1 ]
check "an unregistered AppID: the library's reason" grep -qF \
    'soft.hive: failed: no AppID {AAAAAAAA-AAAA-AAAA-AAAA-AAAAAAAAAAAA} in Classes\AppID' unregistered.out
check "an unregistered AppID: the range is not written either" same_bytes soft.hive kb5.hive

echo "$passed passed, $failed failed${skipped:+, $skipped skipped}"
[ "$failed" = 0 ]
