#!/bin/bash
# cli-images.sh: hiveport on hives inside Windows images (issue 11): --wim (wimlib) and --ntfs
# (libntfs-3g).  Builds its fixtures in a temporary directory: a two-image WIM captured with wimcapture
# from directories holding the fixture hives at the Windows path, and NTFS volumes made with mkntfs -F and
# filled through libntfs-3g (wimapply onto the volume image; nothing is mounted).  Checks set/get/audit
# round trips (the other image unchanged, the hive read back with wimextract/ntfscat and hivexget), the
# no-op rule, and that a corrupt, read-only or hive-less image and a wrong index fail clearly and leave
# the image file byte-identical.
# Usage: tests/cli-images.sh   Environment: BUILD (default build), HIVEPORT (default $BUILD/hiveport).
# Prints a last line "N passed, N failed[, N skipped]"; exits 1 on any failure.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/clilib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
PATH=$PATH:/usr/sbin:/sbin

IMAGETEST_AREA=images
. "$root/tests/support/imagetest.sh"

for f in system-basic.hive system-logged.hive system-logged.hive.LOG1; do
    [ -f "$fixtures/$f" ] || { echo "cli-images: no $fixtures/$f (run make fixtures)"; exit 1; }
done
command -v hivexget >/dev/null || { echo "cli-images: hivexget is missing (Debian libhivex-bin)"; exit 1; }
version=$($HIVEPORT --version)

# The image libraries are loaded on first use, not at every start (tools/image/dynlib.h): not linked.
needed=$(readelf -d "$HIVEPORT" 2>/dev/null | grep NEEDED)
check "hiveport is not linked against wimlib or libntfs-3g (they are dlopened): $needed" \
    test -n "$needed" -a -z "$(grep -E 'libwim|libntfs' <<<"$needed")"

# ---------------------------------------------------------------- WIM
if ! grep -q 'WIM yes' <<<"$version"; then
    skip "WIM: this hiveport was built without wimlib (Debian libwim-dev)"
    run 2 get --wim x.wim ntds && has err "built without WIM support"
elif ! command -v wimcapture >/dev/null || ! command -v wimextract >/dev/null; then
    skip "WIM: wimcapture/wimextract are missing (Debian wimtools)"
else
    mkdir -p one/Windows/System32/config two/WINDOWS/system32/Config empty/Windows/System32 logged/Windows/System32/config
    cp "$fixtures/system-basic.hive" one/Windows/System32/config/SYSTEM
    cp "$fixtures/system-basic.hive" two/WINDOWS/system32/Config/system   # found in any case
    cp "$fixtures/system-logged.hive" logged/Windows/System32/config/SYSTEM
    cp "$fixtures/system-logged.hive.LOG1" logged/Windows/System32/config/SYSTEM.LOG1
    echo hello >empty/Windows/System32/readme.txt
    wimcapture one t.wim "First" >/dev/null && wimappend two t.wim "Second" >/dev/null &&
        wimcapture empty empty.wim >/dev/null && wimcapture logged logged.wim >/dev/null ||
        { echo "cli-images: wimcapture failed"; exit 1; }
    hive1() { wimextract t.wim 1 /Windows/System32/config/SYSTEM --to-stdout 2>/dev/null | sha256sum | cut -d' ' -f1; }
    one_before=$(hive1)

    run 0 get --wim t.wim:2 ntds && check "get in image 2" [ "$(cat out)" = 5005 ]
    run 0 set --wim t.wim:2 ntds=6105 exchange-is=6103 && check "set --wim is silent on success" [ ! -s err ]
    run 0 get --wim t.wim:Second ntds && check "get by name after set" [ "$(cat out)" = 6105 ]
    wimextract t.wim 2 /WINDOWS/system32/Config/system --to-stdout >two.hive 2>/dev/null
    check "wimextract + hivexget see the new port" [ "$(port two.hive NTDS\\Parameters)" = 6105 ]
    check "the other image is unchanged" [ "$(hive1)" = "$one_before" ]
    run 0 get --wim t.wim:1 ntds && check "image 1 still 5005" [ "$(cat out)" = 5005 ]
    code=0; $HIVEPORT audit --wim t.wim:2 >out 2>err || code=$?
    check "audit reads the image (0 or 4)" [ "$code" = 0 -o "$code" = 4 ]
    check "audit found the ntds port" grep -q "6105 in ControlSet001" out
    run 0 check --wim t.wim:2 && has out "t.wim:2:WINDOWS/system32/Config/system: summary: 0 errors"
    run 0 show --wim t.wim:2 --json && check "show --json parses" python3 -c 'import json,sys; json.load(open("out"))'

    # A write that changes nothing writes nothing; reads never write.
    s=$(sum t.wim)
    run 0 set --wim t.wim:2 ntds=6105 --verbose && has err "t.wim:2:WINDOWS/system32/Config/system: nothing changes"
    check "no-op set leaves the WIM byte-identical" [ "$(sum t.wim)" = "$s" ]
    run 2 get --wim missing.wim && has err "missing operand"
    run 2 set --wim missing.wim --controlset 1 && has err "missing operand"
    run 0 set --wim t.wim:2 ntds=7105 --dry-run
    check "--dry-run leaves the WIM byte-identical" [ "$(sum t.wim)" = "$s" ]
    run 0 show --wim t.wim:1
    check "show leaves the WIM byte-identical" [ "$(sum t.wim)" = "$s" ]
    run 0 unset --wim t.wim:2 exchange-is && run 3 get --wim t.wim:2 exchange-is

    # apply: the image gives the profile's one hive.
    printf 'ntds = 6205\n' >p.profile
    if run 0 apply p.profile --wim t.wim:2; then
        run 0 get --wim t.wim:2 ntds && check "apply wrote the port" [ "$(cat out)" = 6205 ]
    fi

    # Refusals: each leaves the WIM byte-identical.
    s=$(sum t.wim)
    run 2 get --wim t.wim ntds && has err "holds 2 images" && has err "Second"
    run 2 set --wim t.wim:5 ntds=1 && has err "no image '5'" && has err "First"
    run 2 set --wim t.wim:Nope ntds=1 && has err "no image 'Nope'"
    run 2 set --wim t.wim:2 ntds=1 --backup && has err "--backup"
    check "refusals leave the WIM byte-identical" [ "$(sum t.wim)" = "$s" ]
    s=$(sum empty.wim)
    run 1 set --wim empty.wim ntds=1 && has err "no SYSTEM hive in image 1 of empty.wim"
    check "hive-less WIM byte-identical" [ "$(sum empty.wim)" = "$s" ]
    head -c 3000 t.wim >trunc.wim; s=$(sum trunc.wim)
    run 1 set --wim trunc.wim:2 ntds=1 && has err "trunc.wim"
    check "truncated WIM byte-identical" [ "$(sum trunc.wim)" = "$s" ]
    head -c 200000 /dev/urandom >garbage.wim; s=$(sum garbage.wim)
    run 1 set --wim garbage.wim ntds=1 && has err "garbage.wim: not a usable WIM file"
    check "garbage WIM byte-identical" [ "$(sum garbage.wim)" = "$s" ]
    # The header's read-only flag (WIM_HDR_FLAG_READONLY, 0x4 in the flags at offset 16).
    cp t.wim ro.wim
    flags=$(od -An -tu1 -j16 -N1 ro.wim | tr -d ' ')
    printf "$(printf '\\%03o' $((flags | 4)))" | dd of=ro.wim bs=1 seek=16 conv=notrunc status=none
    s=$(sum ro.wim)
    run 1 set --wim ro.wim:2 ntds=1 && has err "read-only"
    check "read-only WIM byte-identical" [ "$(sum ro.wim)" = "$s" ]
    run 0 get --wim ro.wim:2 ntds      # reading a read-only WIM is fine
    # A file of mode 0444 is refused as a plain hive is, even for root (issue 22 item 3).
    cp t.wim mode.wim; chmod 444 mode.wim; s="$(sum mode.wim) $(stat -c %y mode.wim)"
    run 1 set --wim mode.wim:2 ntds=1 && has err "mode.wim: the file is read-only (mode 0444)"
    check "a mode 0444 WIM is byte-identical" [ "$(sum mode.wim) $(stat -c %y mode.wim)" = "$s" ]
    run 0 get --wim mode.wim:2 ntds
    run 1 get --wim missing.wim ntds && has err "missing.wim"

    # A dirty hive: its log in the image is replayed, and a write leaves a clean hive in the image.
    run 0 get --wim logged.wim ntds && has err "replayed 1 log entry" && check "logged value read" [ "$(cat out)" = 6005 ]
    run 0 set --wim logged.wim netlogon=6306
    run 0 get --wim logged.wim ntds && check "logged value kept" [ "$(cat out)" = 6005 ]
    run 0 show --wim logged.wim && has out "dirty:         no"

    # Two writers at once: the second waits for the first's rename, then works on the new WIM.
    wimcapture one par.wim >/dev/null
    $HIVEPORT set --wim par.wim exchange-is=6401 >/dev/null 2>par1.err & pid=$!
    $HIVEPORT set --wim par.wim exchange-srs=6402 >/dev/null 2>par2.err; code2=$?
    wait $pid; code1=$?
    check "two concurrent WIM writers both succeed ($code1, $code2: $(cat par1.err par2.err))" [ $code1 = 0 -a $code2 = 0 ]
    run 0 get --wim par.wim exchange-is && check "the first concurrent WIM write landed" [ "$(cat out)" = 6401 ]
    run 0 get --wim par.wim exchange-srs && check "the second concurrent WIM write landed" [ "$(cat out)" = 6402 ]

    # SIGTERM at any moment: deferred until the WIM is whole again and the private copies are removed.
    mkdir -p sigtmp
    for delay in 0.005 0.02 0.05 0.1 0.2; do
        TMPDIR=$work/sigtmp $HIVEPORT set --wim par.wim ntds=6500 >/dev/null 2>&1 & pid=$!
        sleep $delay; kill -TERM $pid 2>/dev/null; wait $pid
        check "SIGTERM after ${delay}s leaves no private directory ($(ls sigtmp))" [ -z "$(ls -A sigtmp)" ]
        check "SIGTERM after ${delay}s leaves no temporary file next to the WIM ($(ls -A | grep -i 'par.wim.' ))" \
            [ -z "$(ls -A | grep -i 'par\.wim.')" ]
        code=0; p=$($HIVEPORT get --wim par.wim ntds 2>&1) || code=$?
        check "SIGTERM after ${delay}s leaves a readable WIM with the old or the new port ($code: $p)" \
            [ "$code" = 0 ] && [ "$p" = 5005 -o "$p" = 6500 ]
    done
    if command -v flock >/dev/null; then
        flock par.wim sleep 5 & holder=$!
        sleep 0.3; s=$(sum par.wim); start=$(date +%s%N)
        # A background job of a script ignores SIGINT (and then so does hiveport): Ctrl-C's default restored.
        TMPDIR=$work/sigtmp env --default-signal=INT $HIVEPORT set --wim par.wim ntds=6501 >/dev/null 2>&1 & pid=$!
        sleep 0.5; kill -INT $pid; wait $pid; code=$?
        ms=$((($(date +%s%N) - start) / 1000000))
        check "Ctrl-C ends a wait for the image lock at once (${ms} ms, status $code)" [ $ms -lt 3000 -a $code != 0 ]
        check "... leaving the WIM byte-identical and no private directory" [ "$(sum par.wim)" = "$s" -a -z "$(ls -A sigtmp)" ]
        kill $holder 2>/dev/null; wait $holder 2>/dev/null
    fi
fi

# ---------------------------------------------------------------- NTFS
if ! grep -q 'NTFS yes' <<<"$version"; then
    skip "NTFS: this hiveport was built without libntfs-3g (Debian ntfs-3g-dev)"
    run 2 get --ntfs x.img ntds && has err "built without NTFS support"
elif ! command -v mkntfs >/dev/null || ! command -v ntfscat >/dev/null || ! command -v wimcapture >/dev/null; then
    skip "NTFS: mkntfs/ntfscat (Debian ntfs-3g) or wimcapture/wimapply (Debian wimtools) are missing"
else
    # wimapply onto an NTFS volume image writes through libntfs-3g.
    mk() { truncate -s 16M "$1" && mkntfs -F -Q -q "$1" >/dev/null 2>&1 && wimapply "$2" 1 "$1" >/dev/null 2>&1; }
    mkdir -p one/Windows/System32/config && cp "$fixtures/system-basic.hive" one/Windows/System32/config/SYSTEM && wimcapture one n.wim >/dev/null
    [ -f empty.wim ] || { mkdir -p empty/x && wimcapture empty empty.wim >/dev/null; }
    mkdir -p logged/Windows/System32/config && cp "$fixtures/system-logged.hive" logged/Windows/System32/config/SYSTEM &&
        cp "$fixtures/system-logged.hive.LOG1" logged/Windows/System32/config/SYSTEM.LOG1 && wimcapture logged nlogged.wim >/dev/null
    mk n.img n.wim && mk nohive.img empty.wim && mk nlogged.img nlogged.wim || { echo "cli-images: mkntfs/wimapply failed"; exit 1; }
    s=$(sum n.img)
    run 0 get --ntfs n.img ntds && check "ntfs get" [ "$(cat out)" = 5005 ]
    check "reading leaves the volume byte-identical" [ "$(sum n.img)" = "$s" ]
    run 0 set --ntfs n.img ntds=7005 netlogon=7006 --verbose &&
        has err "n.img:Windows/System32/config/SYSTEM: written" &&
        has err "wrote n.img:Windows/System32/config/SYSTEM back into n.img"
    ntfscat n.img /Windows/System32/config/SYSTEM >n.hive 2>/dev/null
    check "ntfscat + hivexget see the new port" [ "$(port n.hive NTDS\\Parameters)" = 7005 ]
    run 0 get --ntfs n.img netlogon && check "ntfs get after set" [ "$(cat out)" = 7006 ]
    code=0; $HIVEPORT audit --ntfs n.img >out 2>err || code=$?
    check "ntfs audit (0 or 4)" [ "$code" = 0 -o "$code" = 4 ]
    run 0 check --ntfs n.img && has out "n.img:Windows/System32/config/SYSTEM: summary: 0 errors"
    s=$(sum n.img)
    run 0 set --ntfs n.img ntds=7005
    check "no-op set leaves the volume byte-identical" [ "$(sum n.img)" = "$s" ]
    s=$(sum nohive.img)
    run 1 set --ntfs nohive.img ntds=1 && has err "no SYSTEM hive"
    check "hive-less volume byte-identical" [ "$(sum nohive.img)" = "$s" ]
    head -c 1000000 /dev/urandom >garbage.img; s=$(sum garbage.img)
    run 1 set --ntfs garbage.img ntds=1 && has err "garbage.img: not an NTFS volume: no NTFS boot sector"
    check "garbage volume byte-identical" [ "$(sum garbage.img)" = "$s" ]
    run 0 get --ntfs nlogged.img ntds && has err "replayed 1 log entry" && check "ntfs logged value read" [ "$(cat out)" = 6005 ]
    run 0 set --ntfs nlogged.img netlogon=7306
    run 0 get --ntfs nlogged.img ntds && check "ntfs logged value kept" [ "$(cat out)" = 6005 ]
    run 0 show --ntfs nlogged.img && has out "dirty:         no"

    # Two writers at once: the image lock makes the second wait, so both changes land.
    mk par.img n.wim
    $HIVEPORT set --ntfs par.img exchange-is=7401 >/dev/null 2>par1.err & pid=$!
    $HIVEPORT set --ntfs par.img exchange-srs=7402 >/dev/null 2>par2.err; code2=$?
    wait $pid; code1=$?
    check "two concurrent NTFS writers both succeed ($code1, $code2: $(cat par1.err par2.err))" [ $code1 = 0 -a $code2 = 0 ]
    run 0 get --ntfs par.img exchange-is && check "the first concurrent NTFS write landed" [ "$(cat out)" = 7401 ]
    run 0 get --ntfs par.img exchange-srs && check "the second concurrent NTFS write landed" [ "$(cat out)" = 7402 ]
    if command -v flock >/dev/null; then
        flock par.img sleep 2 & holder=$!
        sleep 0.5; s=$(sum par.img)
        run 1 set --ntfs par.img ntds=7403 --lock-timeout 0 && has err "another hiveport is using the image"
        check "a writer that cannot get the lock leaves the image byte-identical" [ "$(sum par.img)" = "$s" ]
        run 0 set --ntfs par.img ntds=7403 --lock-timeout 10
        wait $holder
        run 0 get --ntfs par.img ntds && check "the writer that waited wrote" [ "$(cat out)" = 7403 ]
    fi

    # Whole-disk images: the volume at a byte offset or by partition number (MBR primary and logical, GPT).
    if ! command -v sfdisk >/dev/null; then
        skip "whole-disk NTFS images: sfdisk is missing (Debian fdisk)"
    else
        mk vol.img n.wim && mk vol2.img nlogged.wim
        truncate -s 40M mbr.img
        printf 'label: dos\nstart=2048, size=32768, type=7\nstart=36864, size=38912, type=5\nstart=38912, size=32768, type=7\n' |
            sfdisk -q mbr.img >/dev/null 2>&1 || fail "sfdisk could not write the MBR"
        dd if=vol.img of=mbr.img bs=512 seek=2048 conv=notrunc status=none
        dd if=vol2.img of=mbr.img bs=512 seek=38912 conv=notrunc status=none
        for at in p1 1048576 2048s 1M; do
            run 0 get --ntfs "mbr.img@$at" ntds && check "MBR disk @$at" [ "$(cat out)" = 5005 ]
        done
        run 0 get --ntfs mbr.img@p5 ntds && check "MBR logical partition p5" [ "$(cat out)" = 6005 ]
        head -c $((38912 * 512)) mbr.img | sha256sum >before
        run 0 set --ntfs mbr.img@p5 ntds=7505 --verbose && has err "mbr.img@p5:Windows/System32/config/SYSTEM"
        check "writing p5 leaves the disk before it byte-identical" [ "$(head -c $((38912 * 512)) mbr.img | sha256sum)" = "$(cat before)" ]
        dd if=mbr.img of=p5.img bs=512 skip=38912 count=32768 status=none
        ntfscat p5.img /Windows/System32/config/SYSTEM >p5.hive 2>/dev/null
        check "ntfscat of the extracted p5 sees the new port" [ "$(port p5.hive NTDS\\Parameters)" = 7505 ]
        s=$(sum mbr.img)
        run 1 get --ntfs mbr.img@p9 ntds && has err "there is no partition 9"
        run 1 get --ntfs mbr.img@p2 ntds && has err "extended partition"
        run 1 set --ntfs mbr.img@p3 ntds=1 && has err "MBR slot 3 is empty"
        run 2 set --ntfs mbr.img@nowhere ntds=1 && has err "neither a byte offset"
        run 1 set --ntfs mbr.img@512M ntds=1 && has err "past the end of the image"
        run 1 set --ntfs mbr.img@4096 ntds=1 && has err "mbr.img: not an NTFS volume (at byte 4096): no NTFS boot sector"
        run 1 get --ntfs vol.img@p1 ntds && has err "the image of one partition"
        run 1 get --ntfs garbage.img@p1 ntds && has err "no partition table"
        check "refused disk operations leave the disk byte-identical" [ "$(sum mbr.img)" = "$s" ]

        truncate -s 24M gpt.img
        printf 'label: gpt\nstart=2048, size=8192\nstart=10240, size=32768, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n' |
            sfdisk -q gpt.img >/dev/null 2>&1 || fail "sfdisk could not write the GPT"
        dd if=vol.img of=gpt.img bs=512 seek=10240 conv=notrunc status=none
        run 0 set --ntfs gpt.img@p2 ntds=7605
        run 0 get --ntfs gpt.img@p2 ntds && check "GPT disk p2" [ "$(cat out)" = 7605 ]
        s=$(sum gpt.img)
        run 1 get --ntfs gpt.img@p1 ntds && has err "gpt.img: not an NTFS volume (partition 1 of the GPT, at byte 1048576): no NTFS boot sector"
        run 1 get --ntfs gpt.img@p3 ntds && has err "GPT entry 3 is unused"
        check "refused GPT operations leave the disk byte-identical" [ "$(sum gpt.img)" = "$s" ]
        # A damaged primary GPT header: the backup in the last sector is used.
        printf 'X' | dd of=gpt.img bs=1 seek=$((512 + 40)) conv=notrunc status=none
        run 0 get --ntfs gpt.img@p2 ntds && check "GPT backup header" [ "$(cat out)" = 7605 ]
        printf 'X' | dd of=gpt.img bs=1 seek=$((24 * 1024 * 1024 - 512 + 40)) conv=notrunc status=none
        run 1 get --ntfs gpt.img@p2 ntds && has err "neither GPT header is valid"
    fi
fi

echo "$passed passed, $failed failed$([ $skipped -gt 0 ] && echo ", $skipped skipped")"
[ $failed -eq 0 ]
