#!/bin/bash
# cli-disks.sh: hiveport --disk on VM disks and evidence files (issue 15).  Builds its fixtures in a
# temporary directory: NTFS volumes made with mkntfs and filled through libntfs-3g (wimapply), put into
# raw GPT and MBR disks with sfdisk and dd, converted with qemu-img to qcow2, VHDX, VHD and VMDK, and to
# E01 with ewfacquire.  Every write is checked independently of hiveport (qemu-img convert back to raw,
# dd of the partition, ntfscat, hivexget), with the other partition and the other files of the volume
# unchanged; reads leave bytes and mtime unchanged; refusals leave the image byte-identical; no qemu-nbd
# outlives a command, even one killed in the middle of a write.
# Usage: tests/cli-disks.sh   Environment: BUILD (default build), HIVEPORT (default $BUILD/hiveport).
# Prints a last line "N passed, N failed[, N skipped]"; exits 1 on any failure.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/clilib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-disks.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
PATH=$PATH:/usr/sbin:/sbin
# hiveport's private directories (and so qemu-nbd's sockets) go here: a leftover child names $work.
mkdir -p tmp
export TMPDIR=$work/tmp

IMAGETEST_AREA=disks
. "$root/tests/support/imagetest.sh"
stamp() { echo "$(sum "$1") $(stat -c %y "$1")"; }
# No qemu-nbd or qemu-img started for this test is left (their arguments name $work), nor a private
# directory; a child killed by PR_SET_PDEATHSIG may take a moment to go.
no_leftovers() {
    local what=$1 i
    for i in $(seq 50); do
        pgrep -f -- "$work" >/dev/null || break
        sleep 0.05
    done
    check "$what: no qemu-nbd left ($(pgrep -af -- "$work" | tr '\n' ';'))" [ -z "$(pgrep -f -- "$work")" ]
    check "$what: no child of the test left ($(pgrep -P $$ | tr '\n' ' '))" [ -z "$(pgrep -P $$)" ]
    check "$what: no private directory left ($(ls tmp))" [ -z "$(ls -A tmp)" ]
}

for f in system-basic.hive system-logged.hive system-logged.hive.LOG1; do
    [ -f "$fixtures/$f" ] || { echo "cli-disks: no $fixtures/$f (run make fixtures)"; exit 1; }
done
command -v hivexget >/dev/null || { echo "cli-disks: hivexget is missing (Debian libhivex-bin)"; exit 1; }
version=$($HIVEPORT --version)

needed=$(readelf -d "$HIVEPORT" 2>/dev/null | grep NEEDED)
check "hiveport is not linked against libnbd or libewf (they are dlopened): $needed" \
    test -n "$needed" -a -z "$(grep -E 'libnbd|libewf' <<<"$needed")"

missing=
for t in qemu-img qemu-nbd mkntfs ntfscat ntfscp wimcapture wimapply sfdisk; do
    command -v $t >/dev/null || missing="$missing $t"
done
if ! grep -q 'qcow2/VHDX/VHD/VMDK yes' <<<"$version"; then
    skip "this hiveport was built without libntfs-3g or libnbd, or qemu-utils is missing: $(grep disks <<<"$version")"
    run 2 get --disk x.qcow2 ntds --disk-format nosuch
    echo "$passed passed, $failed failed$([ $skipped -gt 0 ] && echo ", $skipped skipped")"
    [ $failed -eq 0 ]; exit
elif [ -n "$missing" ]; then
    skip "fixture tools missing:$missing (Debian qemu-utils, ntfs-3g, wimtools, fdisk)"
    echo "$passed passed, $failed failed, $skipped skipped"
    [ $failed -eq 0 ]; exit
fi

# ---------------------------------------------------------------- fixtures
# vol VOLUME DIR: a 16 MiB NTFS volume holding DIR's files.
vol() { mkdir -p "$2" && wimcapture "$2" "$1.wim" >/dev/null 2>&1 && truncate -s 16M "$1" &&
        mkntfs -F -Q -q "$1" >/dev/null 2>&1 && wimapply "$1.wim" 1 "$1" >/dev/null 2>&1; }
mkdir -p win/Windows/System32/config data logged/Windows/System32/config hib/Windows/System32/config \
    woke/Windows/System32/config
cp "$fixtures/system-basic.hive" win/Windows/System32/config/SYSTEM
echo "not the hive" >win/Windows/System32/config/SOFTWARE
head -c 300000 /dev/urandom >win/other.bin
echo "data partition" >data/readme.txt
cp "$fixtures/system-logged.hive" logged/Windows/System32/config/SYSTEM
cp "$fixtures/system-logged.hive.LOG1" logged/Windows/System32/config/SYSTEM.LOG1
cp "$fixtures/system-basic.hive" hib/Windows/System32/config/SYSTEM
cp "$fixtures/system-basic.hive" woke/Windows/System32/config/SYSTEM
vol win.vol win && vol data.vol data && vol logged.vol logged && vol hib.vol hib && vol woke.vol woke ||
    { echo "cli-disks: mkntfs/wimapply failed"; exit 1; }
# hiberfil.sys of a hibernated Windows 8+ (and Fast Startup): "HIBR", then the rest of the header; after
# the resume, "WAKE".  ntfscp, because wimcapture leaves hiberfil.sys out.
{ printf 'HIBR'; head -c 4092 /dev/zero; } >hiberfil.hibr
{ printf 'WAKE'; head -c 4092 /dev/zero; } >hiberfil.wake
ntfscp -f hib.vol hiberfil.hibr /hiberfil.sys >/dev/null 2>&1 && ntfscp -f woke.vol hiberfil.wake /hiberfil.sys >/dev/null 2>&1 ||
    { echo "cli-disks: ntfscp failed"; exit 1; }

P1=2048 P2=36864 N=32768   # sectors: p1 at 1 MiB, p2 at 18 MiB, 16 MiB each
# gpt DISK VOL1 VOL2 / mbr DISK VOL1 VOL2: a 40 MiB disk with the two volumes as p1 and p2.
disk() {
    truncate -s 40M "$2"
    printf 'label: %s\nstart=%d, size=%d, type=%s\nstart=%d, size=%d, type=%s\n' "$1" $P1 $N "$5" $P2 $N "$5" |
        sfdisk -q "$2" >/dev/null 2>&1 || { echo "cli-disks: sfdisk failed"; exit 1; }
    dd if="$3" of="$2" bs=512 seek=$P1 conv=notrunc status=none
    dd if="$4" of="$2" bs=512 seek=$P2 conv=notrunc status=none
}
disk gpt gpt.raw data.vol win.vol EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
disk dos mbr.raw data.vol win.vol 7
disk gpt logged.raw data.vol logged.vol EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
disk gpt hib.raw data.vol hib.vol EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
disk gpt two.raw win.vol win.vol EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
disk gpt none.raw data.vol data.vol EBD0A0A2-B9E5-4433-87C0-68B6B72699C7

# Independent readers: the disk back to raw with qemu-img, the partition cut out, files read with ntfscat.
part() { # part DISK N OUT: partition N (1 or 2) of DISK as a raw volume
    qemu-img convert -O raw "$1" "$3.disk" && dd if="$3.disk" of="$3" bs=512 skip=$([ "$2" = 1 ] && echo $P1 || echo $P2) \
        count=$N status=none && rm -f "$3.disk"
}
file_sum() { ntfscat "$1" "$2" 2>/dev/null | sha256sum | cut -d' ' -f1; }
hive_port() { # hive_port DISK SETTING-KEY: the port in p2's SYSTEM, read without hiveport
    part "$1" 2 ind.vol && ntfscat ind.vol /Windows/System32/config/SYSTEM >ind.hive 2>/dev/null && port ind.hive "$2"
}
p1_before=$(sum data.vol)
other_before=$(file_sum win.vol /other.bin)

# ---------------------------------------------------------------- writable formats
# qemu-img names: vpc is VHD.
for fmt in qcow2 vhdx vpc vmdk; do
    d=disk.$fmt
    qemu-img convert -O $fmt gpt.raw $d || { fail "qemu-img convert -O $fmt"; continue; }
    s=$(stamp $d)
    run 0 get --disk $d ntds && check "$fmt: get finds the hive in p2" [ "$(cat out)" = 5005 ]
    run 0 show --disk $d && has out "ControlSet001"
    check "$fmt: reads leave the bytes and the mtime unchanged" [ "$(stamp $d)" = "$s" ]
    run 0 set --verbose --disk $d ntds=6105 exchange-is=6103 && has err "$d@p2:Windows/System32/config/SYSTEM"
    check "$fmt: the port, read back with qemu-img + ntfscat + hivexget" [ "$(hive_port $d NTDS\\Parameters)" = 6105 ]
    check "$fmt: the first partition is unchanged" [ "$(part $d 1 p1.vol && sum p1.vol)" = "$p1_before" ]
    check "$fmt: the other files of the volume are unchanged" [ "$(file_sum ind.vol /other.bin)" = "$other_before" ]
    check "$fmt: SOFTWARE is unchanged" [ "$(ntfscat ind.vol /Windows/System32/config/SOFTWARE 2>/dev/null)" = "not the hive" ]
    run 0 get --disk $d@p2 exchange-is && check "$fmt: get @p2" [ "$(cat out)" = 6103 ]
    run 0 unset --disk $d exchange-is && run 3 get --disk $d exchange-is
    check "$fmt: unset, read back independently: the value is gone" [ -z "$(hive_port $d 'MSExchangeIS\ParametersSystem' 2>/dev/null)" ]
    check "$fmt: ... and ntds is still there" [ "$(port ind.hive NTDS\\Parameters)" = 6105 ]
    s=$(stamp $d)
    run 0 set --disk $d ntds=6105
    check "$fmt: a no-op set leaves the disk byte-identical" [ "$(stamp $d)" = "$s" ]
    run 0 set --disk $d ntds=7000 --dry-run
    check "$fmt: --dry-run leaves the disk byte-identical" [ "$(stamp $d)" = "$s" ]
    printf 'ntds = 6205\nnetlogon = 6206\nexchange-is = 6207\nexchange-srs = 6208\nexchange-sa-rfr = 6209\n' >five.profile
    run 0 apply five.profile --disk $d && run 0 get --disk $d netlogon && check "$fmt: apply wrote" [ "$(cat out)" = 6206 ]
    code=0; $HIVEPORT apply five.profile --disk $d --check >out 2>err || code=$?
    check "$fmt: apply --check finds no drift ($code: $(cat err))" [ $code = 0 ]
    no_leftovers "$fmt"
done
run 0 get --disk gpt.raw ntds && check "raw GPT disk" [ "$(cat out)" = 5005 ]
# A fixed VHD has its footer in the last sector only.
qemu-img convert -O vpc -o subformat=fixed gpt.raw fixed.vhd
run 0 set --disk fixed.vhd ntds=6305 && check "fixed VHD" [ "$(hive_port fixed.vhd NTDS\\Parameters)" = 6305 ]

# MBR disks.
qemu-img convert -O qcow2 mbr.raw mbr.qcow2
run 0 set --verbose --disk mbr.qcow2 ntds=6405 && has err "mbr.qcow2@p2"
check "MBR qcow2: the port, read back independently" [ "$(hive_port mbr.qcow2 NTDS\\Parameters)" = 6405 ]
check "MBR qcow2: the first partition is unchanged" [ "$(part mbr.qcow2 1 p1.vol && sum p1.vol)" = "$p1_before" ]
run 0 get --disk mbr.qcow2@18874368 ntds && check "MBR qcow2 @OFFSET" [ "$(cat out)" = 6405 ]
run 0 set --disk mbr.qcow2 ntds=6406 && check "set --disk is silent on success without --verbose" [ ! -s err ]
run 0 get --disk mbr.qcow2 ntds && check "MBR qcow2: the silent set was written" [ "$(cat out)" = 6406 ]

# The format comes from the content, not the name; --disk-format forces it.
cp disk.qcow2 misnamed.vmdk
run 0 get --disk misnamed.vmdk ntds && check "a qcow2 named .vmdk is read as qcow2" [ "$(cat out)" = 6205 ]
run 0 get --disk misnamed.vmdk --disk-format qcow2 ntds
run 1 get --disk misnamed.vmdk --disk-format raw ntds && has err "no partition table"
run 1 get --disk gpt.raw --disk-format vhdx ntds && has err "cannot open the vhdx image"
run 2 get --disk gpt.raw --disk-format floppy ntds && has err "not a format"
run 2 get --ntfs gpt.raw --disk-format raw ntds && has err "--disk-format goes with --disk"

# A dirty hive: its log in the disk is replayed.
qemu-img convert -O qcow2 logged.raw logged.qcow2
run 0 get --disk logged.qcow2 ntds && has err "replayed 1 log entry" && check "logged value" [ "$(cat out)" = 6005 ]
run 0 recover --disk logged.qcow2 -o recovered.hive && has out "wrote the recovered hive to recovered.hive"
check "recover -o: the logs in the disk replayed" [ "$(port recovered.hive NTDS\\Parameters)" = 6005 ]
run 0 set --disk logged.qcow2 netlogon=6506
run 0 show --disk logged.qcow2 && has out "dirty:         no"

# ---------------------------------------------------------------- overlay
qemu-img convert -O qcow2 gpt.raw base.qcow2
base=$(sum base.qcow2)
run 0 set --verbose --disk base.qcow2 --overlay vm1.qcow2 ntds=6601 && has err "new qcow2 overlay vm1.qcow2"
check "overlay: BASE is byte-identical" [ "$(sum base.qcow2)" = "$base" ]
info=$(qemu-img info --backing-chain vm1.qcow2)
check "overlay: qemu-img info --backing-chain shows BASE ($info)" grep -q "backing file: $work/base.qcow2" <<<"$info"
check "overlay: the backing format is recorded" grep -q "backing file format: qcow2" <<<"$info"
check "overlay: the port is in the overlay" [ "$(hive_port vm1.qcow2 NTDS\\Parameters)" = 6601 ]
check "overlay: not in BASE" [ "$(hive_port base.qcow2 NTDS\\Parameters)" = 5005 ]
size=$(stat -c %s vm1.qcow2)
check "overlay: small ($size bytes)" [ "$size" -lt 2000000 ]
run 0 unset --disk base.qcow2 --overlay vm2.qcow2 ntds && run 3 get --disk vm2.qcow2 ntds
run 0 apply five.profile --disk base.qcow2 --overlay vm3.qcow2 && run 0 get --disk vm3.qcow2 exchange-sa-rfr &&
    check "overlay: apply" [ "$(cat out)" = 6209 ]
run 0 set --disk gpt.raw --overlay vm4.qcow2 ntds=6604 && check "overlay on a raw BASE" grep -q "backing file format: raw" \
    <<<"$(qemu-img info vm4.qcow2)"
check "all overlays left BASE byte-identical" [ "$(sum base.qcow2)" = "$base" ]
s=$(sum vm1.qcow2)
run 1 set --disk base.qcow2 --overlay vm1.qcow2 ntds=1 && has err "already exists"
check "an existing overlay is not overwritten" [ "$(sum vm1.qcow2)" = "$s" ]
run 2 get --disk base.qcow2 --overlay vm9.qcow2 ntds && has err "--overlay is for a command that writes"
# Nothing to change: the overlay is made, and --verbose says it holds no change (not "wrote").
run 0 set --verbose --disk base.qcow2 --overlay vm5.qcow2 ntds=5005 && has err "nothing changes" &&
    has err "created the new qcow2 overlay vm5.qcow2 with no change in it"
check "an unchanged overlay is not reported as written ($(cat err))" [ -z "$(grep wrote err)" ]
check "the unchanged overlay is a qcow2 backed by BASE" grep -q "backing file: $work/base.qcow2" <<<"$(qemu-img info vm5.qcow2)"
# An overlay is always qcow2: a name saying another format is refused, nothing made.
run 2 set --disk base.qcow2 --overlay ov.vmdk ntds=6601 && has err "an overlay is always a qcow2 image"
run 2 set --disk base.qcow2 --overlay ov.VHDX ntds=6601 && has err "an overlay is always a qcow2 image"
check "no overlay made under another format's name" [ ! -e ov.vmdk -a ! -e ov.VHDX ]
check "no overlay made by a refused command" [ ! -e vm9.qcow2 ]
check "no temporary overlay left ($(ls | grep hiveport-))" [ -z "$(ls | grep hiveport-)" ]
no_leftovers overlay

# ---------------------------------------------------------------- E01 evidence
if ! grep -q 'E01 yes' <<<"$version"; then
    skip "E01: this hiveport was built without libewf (Debian libewf-dev)"
elif ! command -v ewfacquire >/dev/null; then
    skip "E01: ewfacquire is missing (Debian ewf-tools)"
else
    # Unattended: -u takes every default, -t names the target; splits into .E01/.E02 at 1 MiB segments.
    ewfacquire -u -t evidence gpt.raw >/dev/null 2>&1 && ewfacquire -u -S 1MiB -t split gpt.raw >/dev/null 2>&1 ||
        fail "ewfacquire failed"
    s=$(stamp evidence.E01)
    run 0 show --disk evidence.E01 && sed 's/evidence\.E01/DISK/g' out >e01.show
    run 0 show --disk gpt.raw && sed 's/gpt\.raw/DISK/g' out >raw.show
    check "E01: show equals the raw disk's" cmp -s e01.show raw.show
    run 0 get --disk evidence.E01 ntds && check "E01: get" [ "$(cat out)" = 5005 ]
    code=0; $HIVEPORT audit --disk evidence.E01 >out 2>err || code=$?
    check "E01: audit (0 or 4: $(cat err))" [ $code = 0 -o $code = 4 ]
    run 0 export --disk evidence.E01 && has out "5005"
    run 0 firewall --disk evidence.E01
    run 0 recover --disk evidence.E01 -o e01.hive && check "E01: recover -o writes the hive out" [ "$(port e01.hive NTDS\\Parameters)" = 5005 ]
    run 0 set --disk evidence.E01 ntds=1 --dry-run
    run 1 set --disk evidence.E01 ntds=1 && has err "E01 evidence files are read-only"
    run 1 apply five.profile --disk evidence.E01 && has err "read-only"
    run 1 set --disk evidence.E01 --overlay ev.qcow2 ntds=1 && has err "read-only"
    check "E01: bytes and mtime unchanged after reads and refusals" [ "$(stamp evidence.E01)" = "$s" ]
    check "E01 split into segments" [ -f split.E02 ]
    run 0 get --disk split.E01 ntds && check "E01 split: get" [ "$(cat out)" = 5005 ]
    # An incomplete set (issue 22 item 5): a missing middle or last segment is named, and the read refused
    # unless --allow-incomplete, which warns.  Random data after p2 keeps the segments from compressing away.
    cp gpt.raw evid.raw && head -c 5M /dev/urandom | dd of=evid.raw bs=1M seek=34 conv=notrunc status=none
    ewfacquire -u -c fast -S 1MiB -t ev evid.raw >/dev/null 2>&1 || fail "ewfacquire of evid.raw failed"
    n=$(ls ev.E* | wc -l); last=$(ls ev.E* | tail -1); last=${last##*.}
    check "the E01 set has at least 4 segments ($n)" [ "$n" -ge 4 ]
    run 0 get --disk ev.E01 ntds && check "complete E01 set: get, no warning ($(cat err))" [ "$(cat out)" = 5005 -a ! -s err ]
    mkdir -p mid end && cp ev.E* mid/ && cp ev.E* end/ && rm mid/ev.E03 end/ev.$last
    run 1 get --disk mid/ev.E01 ntds && has err "mid/ev.E01: the E01 set is incomplete: segment E03 of $n is missing" &&
        has err "--allow-incomplete"
    run 1 get --disk end/ev.E01 ntds && has err "end/ev.E01: the E01 set is incomplete: its last segment present" &&
        has err "$last and perhaps more are missing"
    run 1 show --disk end/ev.E01 && has err "the E01 set is incomplete"
    run 0 get --disk end/ev.E01 --allow-incomplete ntds && has err "warning: end/ev.E01: the E01 set is incomplete" &&
        check "an incomplete set read with --allow-incomplete" [ "$(cat out)" = 5005 ]
    run 0 show --disk mid/ev.E01 --allow-incomplete && has err "warning: mid/ev.E01: the E01 set is incomplete"
    run 2 set --disk end/ev.E01 --allow-incomplete ntds=1 && has err "--allow-incomplete only reads"
    no_leftovers E01
fi

# ---------------------------------------------------------------- refusals leave the image byte-identical
qemu-img convert -O qcow2 gpt.raw r.qcow2
# A truncated qcow2 (issue 22 item 5): the container is blamed, not the hive or the partition table.
head -c 5000000 r.qcow2 >trunc.qcow2; head -c 300000 r.qcow2 >cut.qcow2; s=$(stamp trunc.qcow2)
run 1 get --disk trunc.qcow2 ntds && has err "trunc.qcow2: the qcow2 image is damaged: qemu-img check finds" &&
    has err "truncated" && check "no hive error after the damaged qcow2 ($(cat err))" [ -z "$(grep -e 'hive bin' -e regf err)" ]
run 1 get --disk cut.qcow2 ntds && has err "cut.qcow2: the qcow2 image is damaged" &&
    check "no partition-table error after the damaged qcow2" [ -z "$(grep 'partition table' err)" ]
code=0; $HIVEPORT get --disk trunc.qcow2 --allow-incomplete ntds >out 2>err || code=$?
check "--allow-incomplete reads a damaged qcow2 with a warning first ($code)" \
    [ "$(head -1 err | grep -c 'warning: trunc.qcow2: the qcow2 image is damaged')" = 1 ]
run 1 set --disk trunc.qcow2 ntds=1 && has err "the qcow2 image is damaged" && has err "refusing to write into it"
run 1 set --disk trunc.qcow2 --overlay trunc-ov.qcow2 ntds=1 && has err "refusing to write an overlay over it"
check "a damaged qcow2 is byte-identical, no overlay made" [ "$(stamp trunc.qcow2)" = "$s" -a ! -e trunc-ov.qcow2 ]
run 2 get --ntfs gpt.raw@p2 --allow-incomplete ntds && has err "--allow-incomplete goes with --disk"
run 2 get "$fixtures/system-basic.hive" --allow-incomplete ntds && has err "--allow-incomplete needs --disk"
# A qcow2 header claiming version 99.
cp r.qcow2 corrupt.qcow2; printf '\0\0\0\143' | dd of=corrupt.qcow2 bs=1 seek=4 conv=notrunc status=none
s=$(sum corrupt.qcow2)
run 1 set --disk corrupt.qcow2 ntds=1 && has err "corrupt.qcow2: cannot open the qcow2 image"
check "corrupt qcow2 byte-identical" [ "$(sum corrupt.qcow2)" = "$s" ]
s=$(stamp r.qcow2)
run 1 set --disk r.qcow2@p9 ntds=1 && has err "GPT entry 9 is unused"
run 1 set --disk r.qcow2@p1 ntds=1 && has err "no SYSTEM hive"
# Not NTFS at all: said so, with what is there instead (not libntfs-3g's "Invalid argument").
run 1 get --disk r.qcow2@0 ntds && has err "r.qcow2: not an NTFS volume (at byte 0): it starts with a partition table"
if command -v mkfs.ext4 >/dev/null; then
    truncate -s 16M ext.vol && mkfs.ext4 -q -F ext.vol >/dev/null 2>&1
    disk gpt ext.raw ext.vol win.vol 0FC63DAF-8483-4772-8E79-3D69D8477DE4
    qemu-img convert -O qcow2 ext.raw ext.qcow2
    run 1 get --disk ext.qcow2@p1 ntds && has err "ext.qcow2: not an NTFS volume (partition 1 of the GPT, at byte 1048576): it holds an ext2/3/4 file system"
    run 1 get --ntfs ext.vol ntds && has err "ext.vol: not an NTFS volume: it holds an ext2/3/4 file system"
    run 0 get --disk ext.qcow2 ntds && check "the NTFS partition beside an ext4 one is found" [ "$(cat out)" = 5005 ]
else
    skip "ext4 partition: mkfs.ext4 is missing (Debian e2fsprogs)"
fi
check "missing partition / volume without SYSTEM: byte-identical" [ "$(stamp r.qcow2)" = "$s" ]
qemu-img convert -O qcow2 none.raw none.qcow2; s=$(stamp none.qcow2)
run 1 set --disk none.qcow2 ntds=1 && has err "no NTFS partition holds Windows/System32/config/SYSTEM" && has err "p2 (GPT"
check "no SYSTEM anywhere: byte-identical" [ "$(stamp none.qcow2)" = "$s" ]
qemu-img convert -O qcow2 two.raw two.qcow2
run 1 get --disk two.qcow2 ntds && has err "2 partitions hold" && has err "@pN"
run 0 get --disk two.qcow2@p1 ntds
qemu-img convert -O qcow2 hib.raw hib.qcow2; s=$(stamp hib.qcow2)
run 1 set --disk hib.qcow2 ntds=1 && has err "hibernated"
run 0 get --disk hib.qcow2 ntds     # reading a hibernated volume is harmless
check "hibernated volume byte-identical" [ "$(stamp hib.qcow2)" = "$s" ]
run 1 set --disk hib.raw ntds=1 && has err "hibernated"
{ printf 'hibr'; head -c 4092 /dev/zero; } >hiberfil.hibr && ntfscp -f hib.vol hiberfil.hibr /hiberfil.sys >/dev/null 2>&1
run 1 set --ntfs hib.vol ntds=1 && has err "hibernated"
run 0 set --ntfs woke.vol ntds=6950     # resumed: hiberfil.sys says WAKE, the change is safe
# A disk in use by a virtual machine (here a qemu-nbd of the test's own, which takes QEMU's image lock
# as a VM does): the write is refused, the disk unchanged.
qemu-img convert -O qcow2 gpt.raw vm.qcow2; s=$(sum vm.qcow2)
qemu-nbd --socket="$work/vm.sock" -f qcow2 --persistent vm.qcow2 2>/dev/null & vm=$!
for i in $(seq 100); do [ -S "$work/vm.sock" ] && break; sleep 0.02; done
run 1 set --disk vm.qcow2 ntds=1 && has err 'lock'
kill $vm; wait $vm 2>/dev/null
check "a disk in use by a VM is unchanged" [ "$(sum vm.qcow2)" = "$s" ]
# A private directory too deep for a Unix socket's path (108 bytes): a clear message, nothing started.
long=$work/tmp/$(printf 'd%.0s' $(seq 90)); mkdir -p "$long"
code=0; TMPDIR=$long $HIVEPORT get --disk r.qcow2 ntds >out 2>err || code=$?
check "a too long TMPDIR is refused ($code)" [ $code = 1 ] && has err "too long a path for a Unix socket"
rmdir "$long"
# A volume whose dirty flag is set (VOLUME_IS_DIRTY in $Volume's $VOLUME_INFORMATION, MFT record 3, and
# its copy in $MFTMirr, which libntfs-3g compares).
cp win.vol dirty.vol
/usr/bin/python3 - dirty.vol <<'PY' || fail "could not set the dirty flag"
import struct, sys
f = open(sys.argv[1], 'r+b')
boot = f.read(512)
bps, spc = struct.unpack_from('<HB', boot, 0x0B)
cluster = bps * spc
mft, mirr = struct.unpack_from('<qq', boot, 0x30)
rs = struct.unpack_from('<b', boot, 0x40)[0]
rsize = rs * cluster if rs > 0 else 1 << -rs
for lcn in (mft, mirr):
    off = lcn * cluster + 3 * rsize
    f.seek(off)
    rec = bytearray(f.read(rsize))
    a = struct.unpack_from('<H', rec, 0x14)[0]
    while True:
        kind, length = struct.unpack_from('<II', rec, a)
        if kind == 0xFFFFFFFF:
            sys.exit('no $VOLUME_INFORMATION in record 3')
        if kind == 0x70:
            value = a + struct.unpack_from('<H', rec, a + 0x14)[0]
            struct.pack_into('<H', rec, value + 10, struct.unpack_from('<H', rec, value + 10)[0] | 1)
            break
        a += length
    f.seek(off)
    f.write(rec)
PY
disk gpt dirty.raw data.vol dirty.vol EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
qemu-img convert -O qcow2 dirty.raw dirty.qcow2; s=$(stamp dirty.qcow2)
run 1 set --disk dirty.qcow2 ntds=1 && has err "marked dirty"
run 0 get --disk dirty.qcow2 ntds
check "dirty volume byte-identical" [ "$(stamp dirty.qcow2)" = "$s" ]
# A file of mode 0444 is refused as a plain hive is ("the file is read-only (mode 0444)"), even for root,
# whom the kernel would let write it (issue 22 item 3); --overlay only reads it, and still works.
cp r.qcow2 mode.qcow2; cp gpt.raw mode.raw; chmod 444 mode.qcow2 mode.raw; s=$(stamp mode.qcow2); sr=$(stamp mode.raw)
run 1 set --disk mode.qcow2 ntds=6001 && has err "mode.qcow2: the file is read-only (mode 0444)"
run 1 set --ntfs mode.raw@p2 ntds=6001 && has err "mode.raw: the file is read-only (mode 0444)"
run 1 apply five.profile --disk mode.raw && has err "mode.raw: the file is read-only (mode 0444)"
check "mode 0444 images byte-identical" [ "$(stamp mode.qcow2) $(stamp mode.raw)" = "$s $sr" ]
run 0 set --disk mode.qcow2 --overlay mode-ov.qcow2 ntds=6712 && run 0 get --disk mode-ov.qcow2 ntds &&
    check "--overlay on a mode 0444 base" [ "$(cat out)" = 6712 ]
run 0 set --disk mode.qcow2 ntds=6713 --dry-run
check "mode 0444 base byte-identical after --overlay and --dry-run" [ "$(stamp mode.qcow2)" = "$s" ]
# A read-only image file: hiveport runs as an unprivileged user when the test runs as root, from a copy
# in a directory that user can reach (tests/support/asuser.sh: the build tree may be under /root, mode 0700).
chmod 755 "$work"; chmod 444 r.qcow2; s=$(stamp r.qcow2)
. "$root/tests/support/asuser.sh"
trap 'rm -rf "$work"; hp_as_user_cleanup' EXIT
if hp_as_user_setup "$HIVEPORT"; then
    as_user() { $HP_AS_USER env TMPDIR=/tmp "$@"; }
    code=0; as_user $HP_AS_USER_PROGRAM set --disk r.qcow2 ntds=1 >out 2>err || code=$?
    check "read-only qcow2: refused ($code: $(cat err))" [ $code = 1 ] && has err "r.qcow2: the file is read-only (mode 0444)"
    # Writable by its owner only: hiveport's message, not qemu's bare "Permission denied".
    if [ "$(id -u)" = 0 ]; then
        cp r.qcow2 owned.qcow2; chmod 644 owned.qcow2; so=$(stamp owned.qcow2)
        code=0; as_user $HP_AS_USER_PROGRAM set --disk owned.qcow2 ntds=1 >out 2>err || code=$?
        check "another user's qcow2: refused ($code: $(cat err))" [ $code = 1 ] &&
            has err "owned.qcow2: cannot open for writing: Permission denied; the image is unchanged"
        check "another user's qcow2 byte-identical" [ "$(stamp owned.qcow2)" = "$so" ]
    fi
    check "read-only qcow2 byte-identical" [ "$(stamp r.qcow2)" = "$s" ]
    code=0; as_user $HP_AS_USER_PROGRAM get --disk r.qcow2 ntds >out 2>err || code=$?
    check "read-only qcow2 can be read ($code: $(cat err))" [ $code = 0 ]
else
    skip "read-only image: cannot run hiveport as an unprivileged user (setpriv, Debian util-linux)"
fi
hp_as_user_cleanup
chmod 644 r.qcow2; chmod 700 "$work"
no_leftovers refusals

# ---------------------------------------------------------------- signals and locks
qemu-img convert -O qcow2 gpt.raw k.qcow2
# SIGKILL at any moment, mid-write included: qemu-nbd goes too (PR_SET_PDEATHSIG), the qcow2 stays sound.
for delay in 0.01 0.02 0.03 0.05 0.08; do
    $HIVEPORT set --disk k.qcow2 ntds=6700 netlogon=6701 >/dev/null 2>&1 & pid=$!
    sleep $delay; kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
    for i in $(seq 50); do pgrep -f -- "$work" >/dev/null || break; sleep 0.05; done
    check "SIGKILL after ${delay}s: no qemu-nbd left ($(pgrep -af -- "$work"))" [ -z "$(pgrep -f -- "$work")" ]
    # A killed process leaves the process list before its file locks are released: wait for QEMU's lock.
    for i in $(seq 40); do
        code=0; qemu-img check -q k.qcow2 >check.out 2>&1 || code=$?
        grep -q 'lock' check.out || break
        sleep 0.05
    done
    check "SIGKILL after ${delay}s: qemu-img check finds no corruption (status $code: $(cat check.out))" [ $code = 0 -o $code = 3 ]
    rm -rf tmp/*
done
# A kill between the dirty mark and the final base block leaves the hive dirty with no log to replay (as
# designed: never a clean-looking torn hive), which later writers rightly refuse: the next sections start
# from a clean disk.
qemu-img convert -O qcow2 gpt.raw k.qcow2
# SIGTERM is deferred until the disk is consistent: the old or the new port, nothing left behind.
for delay in 0.01 0.03 0.06; do
    $HIVEPORT set --disk k.qcow2 ntds=6800 >/dev/null 2>&1 & pid=$!
    sleep $delay; kill -TERM $pid 2>/dev/null; wait $pid
    code=0; p=$($HIVEPORT get --disk k.qcow2 ntds 2>/dev/null) || code=$?
    check "SIGTERM after ${delay}s: a readable disk with a port ($code: $p)" [ $code = 0 ] && [ -n "$p" ]
    no_leftovers "SIGTERM after ${delay}s"
done
# Ctrl-C during a set (issue 22 item 6): the exit status says whether the image changed.  Before the
# write-back: nothing written, "interrupted", status 1 (130 only before hiveport holds the signals back);
# during it: the write completes and the status is 0.  env restores SIGINT, which a script's background
# job ignores.
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
    v=$((6810 + i)); old=$($HIVEPORT get --disk k.qcow2 ntds 2>/dev/null)
    env --default-signal=INT $HIVEPORT set --disk k.qcow2 ntds=$v >out 2>err & pid=$!
    sleep "$(printf '0.%03d' $((i * 25)))"; kill -INT $pid 2>/dev/null; wait $pid; code=$?
    now=$($HIVEPORT get --disk k.qcow2 ntds 2>/dev/null)
    case $code in
    0) check "SIGINT #$i, status 0: the new port is in the image ($now)" [ "$now" = $v ] ;;
    1) check "SIGINT #$i, status 1: interrupted, the old port kept ($old -> $now: $(cat err))" [ "$now" = "$old" ] &&
           has err "interrupted (Interrupt)" && has err "nothing was written" ;;
    130) check "SIGINT #$i, status 130 (before the image was opened): the old port kept ($old -> $now)" \
             [ "$now" = "$old" ] && check "... and nothing said" [ ! -s err ] ;;
    *) fail "SIGINT #$i: status $code ($(cat err))" ;;
    esac
    no_leftovers "SIGINT #$i"
done
# A background job of a script ignores SIGINT: a SIGINT sent to it then interrupts nothing, not even the
# wait for qemu-nbd to start.
for delay in 0.005 0.02 0.04 0.07; do
    $HIVEPORT get --disk k.qcow2 ntds >out 2>err & pid=$!
    sleep $delay; kill -INT $pid 2>/dev/null; wait $pid; code=$?
    check "an ignored SIGINT after ${delay}s does not stop get ($code: $(cat err))" [ $code = 0 ] && [ -s out ]
    $HIVEPORT set --disk k.qcow2 ntds=$((6900 + ${#delay})) >out 2>err & pid=$!
    sleep $delay; kill -INT $pid 2>/dev/null; wait $pid; code=$?
    check "an ignored SIGINT after ${delay}s does not stop set ($code: $(cat err))" [ $code = 0 ]
done
no_leftovers "ignored SIGINT"
if command -v flock >/dev/null; then
    flock k.qcow2 sleep 2 & holder=$!
    sleep 0.3; s=$(sum k.qcow2)
    run 1 set --disk k.qcow2 ntds=6901 --lock-timeout 0 && has err "another hiveport is using the image"
    check "a writer that cannot get the lock leaves the disk byte-identical" [ "$(sum k.qcow2)" = "$s" ]
    wait $holder
fi
no_leftovers final

echo "$passed passed, $failed failed$([ $skipped -gt 0 ] && echo ", $skipped skipped")"
[ $failed -eq 0 ]
