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
#             the REGEDIT4 export into a scratch hive gives the same values; Wine's `reg import` of the
#             5.00 export (.ci/run installs Wine; a skip, a failure under CI=true, without it).
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
. "$root/tests/support/clilib.sh"
enter_workdir cli-regfleet system-empty
export SOURCE_DATE_EPOCH=1700000000


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
  echo '[HKEY_LOCAL_MACHINE\SYSTEM\ControlSet002\Services\MyService\Parameters]'; echo '; hiveport: custom'
  echo '"Port \"A\""=dword:1f42'
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
; hiveport: custom
"Custom"="7000"
"TCP/IP Port"=dword:1234567890
[HKEY_LOCAL_MACHINE\SYSTEM\ControlSet002\Services\NTDS\Parameters]
EOF
regedit5 bad-body | crlf >bad.reg
regedit5 bad-body | crlf | utf16 >bad16.reg
expect_lines=(
    "bad.reg:2: 'HKEY_CURRENT_USER': only HKEY_LOCAL_MACHINE (HKLM) keys are port settings"
    "bad.reg:4: key deletions ([-KEY]) are refused"
    "bad.reg:5: only the SOFTWARE keys Microsoft\\Rpc\\Internet (the RPC port range) and Classes\\AppID\\{GUID}"
    "bad.reg:7: only keys under ...\\CurrentControlSet\\Services are port settings"
    "bad.reg:9: the default value (@) of a key is not a port setting"
    "bad.reg:10: \"TCP/IP Port\": only dword: and \"string\" values are port settings, not hex data"
    "bad.reg:11: \"Name\" holds \"not a port\", not a decimal port number"
    "bad.reg:13: \"Custom\" is a string here but a custom setting is a REG_DWORD"
    "bad.reg:14: dword data of \"TCP/IP Port\" must be 1 to 8 hex digits"
    "bad.reg:15: 'ControlSet002' here but CurrentControlSet on line 8: a profile applies to one control set"
    "bad.reg: 10 problems in the profile; no hive was opened"
)
cp "$fixtures/system-basic.hive" target.hive
sum=$(sha256sum <target.hive)
for f in bad bad16; do
    check_refusals "$f" "$f.reg" target.hive "${expect_lines[@]}"
done
{ echo 'REGEDIT4'; echo '[HKLM\SYSTEM\CurrentControlSet\Services\NTDS\Parameters]'; echo '"TCP/IP Port"=dword:1771'
  echo '[HKLM\SYSTEM\CurrentControlSet\Services\Netlogon\Parameters]'; echo '"DCTcpipPort"=dword:1771'
  echo '[HKLM\SYSTEM\CurrentControlSet\Services\NTDS\Parameters]'; echo '"tcp/ip port"=dword:1772'; } >clash.reg
"$HIVEPORT" apply clash.reg target.hive >/dev/null 2>clash.err
check "profile checks on .reg lines: a shared port (line 5)" grep -qF \
    "clash.reg:5: port 6001 for netlogon is already set for ntds on line 3: Netlogon and NTDS must differ" clash.err
check "profile checks on .reg lines: a duplicate (line 7)" grep -qF \
    "clash.reg:7: duplicate setting: ntds is already set on line 3" clash.err
printf 'Windows Registry Editor Version 5.00\r\n[HKLM\\SYSTEM\\CurrentControlSet\\Services\\NTDS\\Parameters]\r\n"TCP/IP Port"=dword:1\r\n"\xff"=dword:2\r\n' >latin1.reg
"$HIVEPORT" apply latin1.reg target.hive >/dev/null 2>latin1.err
check "a 5.00 line that is not UTF-8: line 4" grep -qF "latin1.reg:4: the line is not valid UTF-8" latin1.err
printf '\xff\xfeR\0E\0G\0E\0D\0I\0T\0\x34\0\n\0\x00\xd8\n\0' >surrogate.reg
"$HIVEPORT" apply surrogate.reg target.hive >/dev/null 2>surrogate.err
check "an unpaired UTF-16 surrogate: line 2" grep -qF "surrogate.reg:2: the line holds an unpaired UTF-16 surrogate" \
    surrogate.err
# Issue 22: what a .reg file holds besides port values, and how it fails.
u16() { { printf '\xff\xfe'; iconv -f utf-8 -t utf-16le; }; }
refused() { # NAME FILE MESSAGE: apply --check refuses FILE with exit 2 and MESSAGE on stderr
    "$HIVEPORT" apply --check "$2" target.hive >/dev/null 2>"$2.err"
    local st=$?
    check "$1: exit 2 ($st)" [ $st = 2 ]
    check "$1: '$3'" grep -qF -- "$3" "$2.err"
}
printf 'Windows Registry Editor Version 5.00\r\n\r\n' | u16 >header-only.reg
refused "a .reg file with only its header" header-only.reg "header-only.reg:1: no value in the .reg file"
printf 'REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\NTDS]\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\NTDS\\Parameters]\r\n' >parents-only.reg
refused "a .reg file with only empty keys" parents-only.reg "parents-only.reg:1: no value in the .reg file"
# Parent keys as regedit writes them: HKLM itself, SYSTEM, the control set, Services.
{ echo 'Windows Registry Editor Version 5.00'; echo; echo '[HKEY_LOCAL_MACHINE]'; echo '[HKEY_LOCAL_MACHINE\SYSTEM]'
  echo '[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet]'; echo '[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services]'
  echo '[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\NTDS]'
  echo '[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\NTDS\Parameters]'; echo '"TCP/IP Port"=dword:0000138d'
} | crlf | u16 >parents.reg
check "SYSTEM and CurrentControlSet parent lines are accepted" "$HIVEPORT" apply --check parents.reg target.hive
printf 'REGEDIT4\r\n[HKLM\\SYSTEM\\ControlSet002]\r\n[HKLM\\SYSTEM\\CurrentControlSet\\Services\\NTDS\\Parameters]\r\n"TCP/IP Port"=dword:1\r\n[HKLM\\SYSTEM]\r\n"Foo"=dword:1\r\n' >parent-bad.reg
refused "a parent control set line names the control set" parent-bad.reg \
    "parent-bad.reg:3: 'CurrentControlSet' here but another ControlSetNNN on line 2"
refused "values of a SYSTEM parent key" parent-bad.reg "parent-bad.reg:6: values of this key are not port settings"
# Values under Services that are not port settings; a custom one is marked '; hiveport: custom'.
printf 'REGEDIT4\r\n[HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters]\r\n"TcpTimedWaitDelay"=dword:1e\r\n"EnableDeadGWDetect"=dword:0\r\n' >tcpip.reg
refused "a DWORD that is not a port (TcpTimedWaitDelay)" tcpip.reg \
    'tcpip.reg:3: "TcpTimedWaitDelay" of Tcpip\Parameters is not a port setting'
refused "a DWORD that is not a port (EnableDeadGWDetect 0)" tcpip.reg \
    'tcpip.reg:4: "EnableDeadGWDetect" of Tcpip\Parameters is not a port setting'
check "a DWORD that is not a port: no 'port 0' message" sh -c "! grep -q 'port 0' tcpip.reg.err"
printf 'REGEDIT4\r\n[HKLM\\SYSTEM\\CurrentControlSet\\Services\\MySvc\\Parameters]\r\n; hiveport: custom\r\n"Port"=dword:1f40\r\n; hiveport: custom\r\n\r\n"Other"=dword:1f41\r\n; hiveport: bogus\r\n' >custom.reg
refused "'; hiveport: custom' must be right before its value" custom.reg "custom.reg:5: '; hiveport: custom' must be followed"
refused "an unknown hiveport line" custom.reg "custom.reg:8: unknown hiveport line"
printf 'REGEDIT4\r\n[HKLM\\SYSTEM\\CurrentControlSet\\Services\\MySvc\\Parameters]\r\n; hiveport: custom\r\n"Port"=dword:1f40\r\n' >custom-ok.reg
cp target.hive custom.hive
check "a marked custom value applies" sh -c "'$HIVEPORT' apply custom-ok.reg custom.hive >/dev/null &&
    [ \$('$HIVEPORT' get custom.hive 'MySvc\\Parameters:Port') = 8000 ]"
# Encodings and line ends: what the file is and what is missing, once, not a NUL byte on every line.
kb5() { printf 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\NTDS\\Parameters]\r\n"TCP/IP Port"=dword:0000138d\r\n'; }
kb5 | tail -n +3 | u16 >enc-noheader.reg
kb5 | { printf '\xfe\xff'; iconv -f utf-8 -t utf-16be; } >enc-be.reg
kb5 | iconv -f utf-8 -t utf-16le >enc-nobom.reg
kb5 | tr -d '\n' | u16 >enc-cr.reg
kb5 | { printf '\xff\xfe\xff\xfe'; iconv -f utf-8 -t utf-16le; } >enc-bom2.reg
refused "UTF-16LE with a BOM but no header" enc-noheader.reg "enc-noheader.reg:1: UTF-16LE text (with a byte-order mark) without a .reg header"
refused "UTF-16BE" enc-be.reg "enc-be.reg:1: a .reg file in UTF-16BE text"
refused "UTF-16LE without a BOM" enc-nobom.reg "enc-nobom.reg:1: a .reg file in UTF-16LE text without a byte-order mark"
refused "carriage returns alone" enc-cr.reg "whose lines end with a carriage return alone"
refused "two byte-order marks" enc-bom2.reg "enc-bom2.reg:1: UTF-16LE text (with a byte-order mark) that starts with two byte-order marks"
for f in enc-noheader enc-be enc-nobom enc-cr enc-bom2; do
    check "$f: no NUL-byte cascade" sh -c "! grep -q 'NUL byte' $f.reg.err && grep -qF '$f.reg: 1 problem' $f.reg.err"
done
printf 'REGEDIT4\r\n[HKLM\\SYSTEM\\CurrentControlSet\\Services\\NTDS\\Parameters]\r\n"TCP/IP Port"=hex(4):8d,13,00,zz\r\n' >badhex.reg
refused "hex(4) with a bad byte" badhex.reg "badhex.reg:3: hex(4) data of \"TCP/IP Port\": 'zz' is not a hex byte"
# A REGEDIT4 file as regedit writes it on a western system: Windows-1252.
printf 'REGEDIT4\r\n\r\n; Pr\xfcfdienst (Gr\xf6\xdfe \x80)\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Pr\xfcfdienst\\Parameters]\r\n; hiveport: custom\r\n"Port"=dword:1f42\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\NTDS\\Parameters]\r\n"TCP/IP Port"=dword:0000138d\r\n' >cp1252.reg
cp target.hive cp1252.hive
"$HIVEPORT" apply --check cp1252.reg cp1252.hive >cp1252.out 2>&1
check "a Windows-1252 REGEDIT4 key line is read (a drift, exit 4: $?)" \
    grep -qF "$(printf 'Pr\303\274fdienst\\Parameters:Port: not set, expected 8002')" cp1252.out
printf 'REGEDIT4\r\n[HKLM\\SYSTEM\\CurrentControlSet\\Services\\Pr\xfcfdienst\\Parameters]\r\n"Port"=dword:1f42\r\n"Port2"=dword:1f43\r\n' >cp1252-bad.reg
refused "a Windows-1252 file: one problem per value, no cascade" cp1252-bad.reg "cp1252-bad.reg: 2 problems"
check "a Windows-1252 file: no 'value before any [KEY]'" sh -c "! grep -q 'before any' cp1252-bad.reg.err"
# Export: the comments of values left out, and no key made to appear by a deletion.
cp "$fixtures/system-empty.hive" leftout.hive
"$HIVEPORT" set leftout.hive ntds=6005 >/dev/null
"$HIVEPORT" set leftout.hive 'NTDS\Parameters:TCP/IP Port'=6005 >/dev/null 2>&1
"$HIVEPORT" set leftout.hive netlogon=6006 --replace-type >/dev/null 2>&1
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' leftout.hive <(printf 'Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Netlogon\\Parameters]\n"DCTcpipPort"="x"\n') 2>/dev/null
"$HIVEPORT" export leftout.hive --format reg4 >leftout.reg 2>leftout.err
"$HIVEPORT" export leftout.hive >leftout.profile 2>/dev/null
check "reg export: the left-out comment the profile export writes" sh -c \
    "grep -o 'netlogon left out: Windows cannot use its value.*' leftout.profile | tr -d '\\r' >want &&
     [ -s want ] && tr -d '\\r' <leftout.reg | grep -qxF \"; \$(cat want)\""
cp "$fixtures/system-empty.hive" absent.hive
"$HIVEPORT" export absent.hive --format reg4 --controlset 1 --unset-absent >absent.reg
check "--unset-absent: no key section for an absent key" sh -c "! grep -q 'MSExchangeAB' absent.reg || ! grep -q '^\\[.*MSExchangeAB' absent.reg"
check "--unset-absent: absent values written as '; hiveport: unset'" grep -q '^; hiveport: unset exchange2010-ab' absent.reg
if command -v hivexregedit >/dev/null; then
    cp "$fixtures/system-empty.hive" absent-merged.hive
    hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' absent-merged.hive absent.reg 2>/dev/null
    check "--unset-absent merged by hivexregedit creates no key" sh -c \
        "! hivexget absent-merged.hive '\\ControlSet001\\Services\\MSExchangeAB' >/dev/null 2>&1"
fi
cp absent.hive absent2.hive
"$HIVEPORT" set absent2.hive exchange2010-ab=6010 >/dev/null
"$HIVEPORT" apply --check absent.reg absent2.hive >/dev/null 2>&1
check "--unset-absent: apply --check reports a value that appeared (exit 4)" [ $? = 4 ]
check "--unset-absent: apply --check matches the hive exported" "$HIVEPORT" apply --check absent.reg absent.hive
check "an export of a hive without ports still matches it" sh -c \
    "'$HIVEPORT' export absent.hive --format reg | '$HIVEPORT' apply --check - absent.hive"
check "a 1 MiB + 1 profile is a malformed profile (exit 2)" sh -c \
    "head -c 1048577 /dev/zero | tr '\\0' '#' >big.profile; '$HIVEPORT' apply --check big.profile absent.hive 2>/dev/null; [ \$? = 2 ]"
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
check "reg: --unset-absent writes the absent values of absent keys as hiveport lines" sh -c \
    "iconv -f utf-16le -t utf-8 sz.reg | tr -d '\r' | grep -qxF '; hiveport: unset ntds'"
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
    # It reads REGEDIT4 only: it refuses the UTF-16 of --format reg, which the manual must not claim it merges.
    cp "$fixtures/system-empty.hive" scratch16.hive
    "$HIVEPORT" export profile.hive --format reg --controlset "$((10#$current))" >merge16.reg
    check "hivexregedit --merge refuses the UTF-16 reg export" sh -c \
        "! hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\\SYSTEM' scratch16.hive merge16.reg 2>/dev/null"
    man_reg=$(sed -n '/^prints the same settings as a .reg file/,/^prints the same as$/p' "$root/man/man1/hiveport.1")
    man_reg4=$(sed -n '/^prints the same as$/,/^is a usage error/p' "$root/man/man1/hiveport.1")
    check "hiveport(1) names hivexregedit for reg4, not for reg" \
        sh -c "! printf '%s' \"\$1\" | grep -q hivexregedit && printf '%s' \"\$2\" | grep -q hivexregedit" - \
        "$man_reg" "$man_reg4"
else
    skip "hivexregedit" "not installed (Debian libwin-hivex-perl)"
fi
# Wine's reg import (a real reg.exe) of the 5.00 export.  .ci/run installs Wine (without its recommends:
# 22 packages, ~100 MB, 22 s to install here, 15 s for the first import in a fresh prefix), so under CI=true
# a machine without it fails here like any other skip.
if command -v wine >/dev/null; then
    export WINEPREFIX=$work/wineprefix WINEDEBUG=-all
    if timeout 300 wine reg import "$(winepath -w export5.reg 2>/dev/null)" >/dev/null 2>&1 &&
        timeout 60 wine reg query 'HKLM\SYSTEM\CurrentControlSet\Services\NTDS\Parameters' /v 'TCP/IP Port' 2>/dev/null |
        grep -qi '0x1775'; then pass; else fail "wine reg import of the 5.00 export"; fi
    wineserver -k 2>/dev/null
else
    skip "wine reg import" "Wine is not installed (Debian wine; .ci/run installs it)"
fi

# Every skip goes through hp_skip (tests/support/skip.sh), which fails under CI=true: no shell test prints its
# own SKIP line (this one once did for Wine, so CI skipped it too).
check "no shell test prints its own SKIP line" sh -c \
    "! grep -n 'echo \"SKIP:' '$root'/tests/*.sh '$root'/tests/*/*.sh | grep -v '^$root/tests/support/skip.sh:'"

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
