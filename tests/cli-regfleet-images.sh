#!/bin/bash
# cli-regfleet-images.sh: image targets in apply's manifests (issue 17, apply --from MANIFEST with
# "--wim FILE[:IMAGE]", "--ntfs FILE[@...]" and "--disk FILE[@...] [--disk-format F]" lines).
#
# Builds in a temporary directory: plain hives, a two-image WIM (wimcapture + wimappend, as
# tests/cli-images.sh), a copy of it in a directory whose name holds a space, and a GPT disk whose
# partition 2 is an NTFS volume holding the hive (mkntfs + wimapply + sfdisk, as tests/cli-disks.sh),
# converted to qcow2 with qemu-img and kept raw too.  Checks, with readers independent of hiveport
# (wimextract, qemu-img convert + dd + ntfscat, hivexget):
#   - a manifest mixing them applies (each image its own target, named by its line), with --jobs;
#     the other WIM image, the other partition and the other bytes of each image are unchanged;
#   - re-applying says unchanged and leaves every image file byte-identical; --check reports a match,
#     or drift (exit 4) with the images untouched;
#   - a profile the rules refuse fails each image target and leaves every image byte-identical;
#   - two targets in one WIM file under --jobs take turns on its lock and are both written;
#   - --json: one parsable record per target (the line as written), the summary counts match, an image
#     that cannot be opened is one failed record with the image layer's error, the others complete;
#   - --shard K/N for N = 1..5 over a manifest with image targets: disjoint, covering, and the same
#     for a reversed manifest (the hash of the line as written);
#   - malformed image lines are refused as MANIFEST:LINE with exit 2 before anything is opened;
#   - SIGTERM to the process group in the middle: every image as it was or fully applied, consistent;
#   - no temporary path in any output, no private directory or qemu-nbd left behind.
# Usage: tests/cli-regfleet-images.sh   Environment: BUILD (default build), HIVEPORT ($BUILD/hiveport).
# Prints each failure and a last line "N passed, N failed[, N skipped]"; exits 1 on any failure.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/support/clilib.sh"
[ -f "$fixtures/system-basic.hive" ] || { echo "cli-regfleet-images: no fixtures in $fixtures (run make fixtures)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/hiveport-fleetimg.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work" || exit 1
PATH=$PATH:/usr/sbin:/sbin
mkdir -p tmp
export TMPDIR=$work/tmp   # hiveport's private directories: none may be left

IMAGETEST_AREA=regfleet-images
. "$root/tests/support/imagetest.sh"
finish() {
    echo "$passed passed, $failed failed$([ $skipped -gt 0 ] && echo ", $skipped skipped")"
    [ $failed -eq 0 ]
    exit
}

command -v hivexget >/dev/null || { echo "cli-regfleet-images: hivexget is missing (Debian libhivex-bin)"; exit 1; }
version=$("$HIVEPORT" --version)
missing=
for t in wimcapture wimappend wimextract wimapply mkntfs ntfscat qemu-img qemu-nbd sfdisk; do
    command -v $t >/dev/null || missing="$missing $t"
done
if ! grep -q 'WIM yes' <<<"$version" || ! grep -q 'qcow2/VHDX/VHD/VMDK yes' <<<"$version"; then
    skip "this hiveport was built without wimlib, libntfs-3g or libnbd: $(grep -E 'images|disks' <<<"$version" | tr '\n' ' ')"
    finish
elif [ -n "$missing" ]; then
    skip "fixture tools missing:$missing (Debian wimtools, ntfs-3g, qemu-utils, fdisk)"
    finish
fi

# ---------------------------------------------------------------- fixtures
cfg=Windows/System32/config
mkdir -p one/$cfg two/$cfg data "my images"
cp "$fixtures/system-basic.hive" one/$cfg/SYSTEM
cp "$fixtures/system-basic.hive" two/$cfg/SYSTEM
head -c 200000 /dev/urandom >two/other.bin
echo "data partition" >data/readme.txt
wimcapture one t.wim First >/dev/null && wimappend two t.wim Second >/dev/null && cp t.wim "my images/u.wim" ||
    { echo "cli-regfleet-images: wimcapture failed"; exit 1; }
vol() { # vol VOLUME DIR: a 16 MiB NTFS volume holding DIR's files
    wimcapture "$2" "$1.wim" >/dev/null 2>&1 && truncate -s 16M "$1" && mkntfs -F -Q -q "$1" >/dev/null 2>&1 &&
        wimapply "$1.wim" 1 "$1" >/dev/null 2>&1
}
vol win.vol two && vol data.vol data || { echo "cli-regfleet-images: mkntfs/wimapply failed"; exit 1; }
P1=2048 P2=36864 N=32768   # sectors: p1 at 1 MiB, p2 at 18 MiB, 16 MiB each
truncate -s 40M vm.raw
printf 'label: gpt\nstart=%d, size=%d, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\nstart=%d, size=%d, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n' \
    $P1 $N $P2 $N | sfdisk -q vm.raw >/dev/null 2>&1 || { echo "cli-regfleet-images: sfdisk failed"; exit 1; }
dd if=data.vol of=vm.raw bs=512 seek=$P1 conv=notrunc status=none
dd if=win.vol of=vm.raw bs=512 seek=$P2 conv=notrunc status=none
qemu-img convert -O qcow2 vm.raw vm.qcow2 || { echo "cli-regfleet-images: qemu-img convert failed"; exit 1; }
for i in 1 2 3; do cp "$fixtures/system-basic.hive" h$i.hive; done

# Independent readers.
wim_port() { # wim_port WIM INDEX SERVICE: the port in that image's SYSTEM
    wimextract "$1" "$2" /$cfg/SYSTEM --to-stdout 2>/dev/null >w.hive &&
        port w.hive "${3//\//\\}"
}
wim_hive_sum() { wimextract "$1" "$2" /$cfg/SYSTEM --to-stdout 2>/dev/null | sha256sum | cut -d' ' -f1; }
part() { # part DISK N OUT: partition N (1 or 2) of DISK (any format) as a raw volume
    qemu-img convert -O raw "$1" "$3.disk" &&
        dd if="$3.disk" of="$3" bs=512 skip=$([ "$2" = 1 ] && echo $P1 || echo $P2) count=$N status=none &&
        rm -f "$3.disk"
}
disk_port() { # disk_port DISK SERVICE: the port in p2's SYSTEM
    part "$1" 2 ind.vol && ntfscat ind.vol /$cfg/SYSTEM >ind.hive 2>/dev/null &&
        port ind.hive "${2//\//\\}"
}
hive_port() { port "$1" "${2//\//\\}"; }  # SERVICE/KEY
images() { echo "$(sum t.wim) $(sum "my images/u.wim") $(sum vm.qcow2) $(sum vm.raw)"; }

printf 'ntds = 6205\nnetlogon = 6206\n' >p.profile
printf 'ntds = 6300\n' >other.profile
printf 'ntds = 135\n' >reserved.profile   # port-reserved: the rules refuse it (see apply-audit-rules)
cat >manifest <<'EOF'
# a fleet: plain hives and images, one per line
h1.hive
--wim t.wim:2
--disk vm.qcow2
h2.hive
--wim=my images/u.wim:Second
--disk vm.raw@p2 --disk-format raw
h3.hive
EOF
ntargets=7
base_t1=$(wim_hive_sum t.wim 1)
base_p1=$(part vm.qcow2 1 p1.vol && sum p1.vol)
base_other=$(part vm.qcow2 2 p2.vol && ntfscat p2.vol /other.bin | sha256sum | cut -d' ' -f1)

# ---------------------------------------------------------------- refusal first: nothing written
before=$(images)
run 1 apply reserved.profile --from manifest --jobs 3
check "refused: every target failed ($(tail -1 out))" [ "$(tail -1 out)" = "$ntargets hives: 0 changed, 0 unchanged, $ntargets failed" ]
has out "--wim t.wim:2: failed: refused: the audit would report 1 error"
has out "--disk vm.qcow2: failed: refused:"
check "refused: every image file byte-identical" [ "$(images)" = "$before" ]
check "refused: the plain hives unchanged" cmp -s h1.hive "$fixtures/system-basic.hive"
run 1 apply reserved.profile --from manifest --json --jobs 3
check "refused: an image's notes name the hive in the image, never its private copy" /usr/bin/python3 -c '
import json
recs = [json.loads(l) for l in open("out").read().splitlines()]
wim = [r for r in recs if r.get("target") == "--wim t.wim:2"][0]
text = " ".join(wim["notes"]) + " " + (wim["error"] or "")
assert "t.wim:2:Windows/System32/config/SYSTEM: " in text, wim
assert "hiveport-image." not in text, wim
'

# ---------------------------------------------------------------- apply, re-apply, check
run 0 apply p.profile --from manifest --jobs 3
check "apply: the summary ($(tail -1 out))" [ "$(tail -1 out)" = "$ntargets hives: $ntargets changed, 0 unchanged, 0 failed" ]
for line in "--wim t.wim:2" "--disk vm.qcow2" "--wim=my images/u.wim:Second" "--disk vm.raw@p2 --disk-format raw"; do
    has out "$line: changed (2 values)"
done
check "apply: text lines in manifest order" [ "$(sed -n '1p;3p' out | cut -d: -f1)" = "h1.hive
--disk vm.qcow2" ]
check "apply: t.wim image 2 written (wimextract)" [ "$(wim_port t.wim 2 NTDS/Parameters)" = 6205 ]
check "apply: u.wim image 2 written (a path with a space)" [ "$(wim_port "my images/u.wim" 2 NTDS/Parameters)" = 6205 ]
check "apply: t.wim image 1 unchanged" [ "$(wim_hive_sum t.wim 1)" = "$base_t1" ]
check "apply: vm.qcow2 p2 written (qemu-img + ntfscat)" [ "$(disk_port vm.qcow2 NTDS/Parameters)" = 6205 ]
check "apply: vm.raw p2 written" [ "$(disk_port vm.raw NTDS/Parameters)" = 6205 ]
check "apply: vm.qcow2 p1 unchanged" [ "$(part vm.qcow2 1 p1.vol && sum p1.vol)" = "$base_p1" ]
check "apply: vm.qcow2's other file unchanged" \
    [ "$(part vm.qcow2 2 p2.vol && ntfscat p2.vol /other.bin | sha256sum | cut -d' ' -f1)" = "$base_other" ]
check "apply: plain hive written" [ "$(hive_port h3.hive NTDS/Parameters)" = 6205 ]

before=$(images)
run 0 apply p.profile --from manifest --jobs 2
check "re-apply: all unchanged ($(tail -1 out))" [ "$(tail -1 out)" = "$ntargets hives: 0 changed, $ntargets unchanged, 0 failed" ]
check "re-apply: every image file byte-identical" [ "$(images)" = "$before" ]
run 0 apply p.profile --from manifest --check
check "--check: all match ($(tail -1 out))" [ "$(tail -1 out)" = "$ntargets hives: $ntargets match, 0 drift, 0 failed" ]
has out "--disk vm.qcow2: match"
run 4 apply other.profile --from manifest --check --jobs 3
has out "--wim t.wim:2: drift (1 difference)"
has out "  ControlSet001 ntds: 6205, expected 6300"
check "--check with drift: every image file byte-identical" [ "$(images)" = "$before" ]

# ---------------------------------------------------------------- two images of one WIM, concurrently
printf -- '--wim t.wim:1\n--wim t.wim:2\n--wim t.wim:First\n' >same-wim
printf 'exchange-is = 6207\n' >is.profile
run 0 apply is.profile --from same-wim --jobs 3
check "one WIM, --jobs 3: all three applied ($(tail -1 out))" [ "$(tail -1 out)" = "3 hives: 2 changed, 1 unchanged, 0 failed" ]
check "one WIM: image 1 written" [ "$(wim_port t.wim 1 MSExchangeIS/ParametersSystem)" = 6207 ]
check "one WIM: image 2 written, its earlier change kept" \
    [ "$(wim_port t.wim 2 MSExchangeIS/ParametersSystem) $(wim_port t.wim 2 NTDS/Parameters)" = "6207 6205" ]

# ---------------------------------------------------------------- JSON Lines
cp manifest manifest.json-test
printf -- '--wim nosuch.wim:1\n' >>manifest.json-test
run 1 apply p.profile --from manifest.json-test --json --jobs 4
check "json: one record per target, the failing image one record with the image layer's error" /usr/bin/python3 -c '
import json, sys
lines = open("out").read().splitlines()
recs = [json.loads(l) for l in lines]
targets = [r for r in recs if r["type"] == "target"]
want = [l for l in open("manifest.json-test").read().splitlines() if l and not l.startswith("#")]
assert sorted(r["target"] for r in targets) == sorted(want), [r["target"] for r in targets]
bad = [r for r in targets if r["target"] == "--wim nosuch.wim:1"]
assert len(bad) == 1 and bad[0]["status"] == "failed" and "nosuch.wim" in bad[0]["error"], bad
assert "cannot open" in bad[0]["error"], bad
ok = [r for r in targets if r is not bad[0]]
assert all(r["status"] == "unchanged" and r["error"] is None for r in ok), ok
s = recs[-1]
assert s["type"] == "summary" and s["targets"] == len(want) and s["unchanged"] == len(want) - 1 and s["failed"] == 1, s
'
run 4 apply other.profile --from manifest --json --check
check "json --check: findings recorded for the image targets" /usr/bin/python3 -c '
import json
recs = [json.loads(l) for l in open("out")]
d = {r["target"]: r for r in recs if r["type"] == "target"}
assert d["--disk vm.qcow2"]["status"] == "drift" and d["--disk vm.qcow2"]["findings"][0]["expected"] == 6300, d
assert d["--wim=my images/u.wim:Second"]["findings"][0]["actual"] == 6205, d
'

# ---------------------------------------------------------------- shards
for i in $(seq 1 9); do cp "$fixtures/system-basic.hive" s$i.hive; echo s$i.hive; done >shard-manifest
grep -v '^#' manifest >>shard-manifest
tac shard-manifest >shard-manifest.reversed
total=$(wc -l <shard-manifest)
shard_targets() { # MANIFEST K N: the targets of shard K of N, sorted
    "$HIVEPORT" apply --check --json --jobs 2 --from "$1" --shard "$2/$3" p.profile 2>/dev/null |
        /usr/bin/python3 -c 'import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r["type"] == "target": print(r["target"])' | sort
}
ok_disjoint=1 ok_cover=1 ok_stable=1 images_spread=1
for n in 1 2 3 4 5; do
    for k in $(seq 0 $((n - 1))); do
        shard_targets shard-manifest "$k" "$n" >s.$n.$k
        shard_targets shard-manifest.reversed "$k" "$n" | cmp -s - s.$n.$k || ok_stable=0
    done
    [ "$(cat s.$n.* | sort | uniq -d)" = "" ] || ok_disjoint=0
    [ "$(cat s.$n.* | sort)" = "$(sort shard-manifest)" ] || ok_cover=0
done
check "shards N=1..5 with image targets: disjoint" [ $ok_disjoint = 1 ]
check "shards N=1..5 with image targets: cover all $total" [ $ok_cover = 1 ]
check "shards N=1..5 with image targets: a reversed manifest gives the same shards" [ $ok_stable = 1 ]
check "shards N=2: the image targets are not all in one shard" \
    [ "$(grep -c -- '^--' s.2.0)" -gt 0 -a "$(grep -c -- '^--' s.2.1)" -gt 0 ]

# ---------------------------------------------------------------- malformed lines
before=$(images)
printf 'h1.hive\n--wim\n--wim \n--iso x.iso\n--ntfs vol.img --disk-format raw\n--disk vm.qcow2 --disk-format floppy\n--overlay new.qcow2\n' >bad-manifest
run 2 apply other.profile --from bad-manifest
for l in 2 3 4 5 6 7; do has err "bad-manifest:$l: "; done
has err "bad-manifest:5: --disk-format goes with --disk"
has err "bad-manifest:6: --disk-format: not a format"
check "malformed lines: nothing was opened or written" [ "$(hive_port h1.hive NTDS/Parameters) $(images)" = "6205 $before" ]
check "malformed lines: no target output" [ ! -s out ]
run 1 apply p.profile --from manifest --backup
has out "--wim t.wim:2: failed: --backup cannot be used with an image"
check "--backup: the image files byte-identical" [ "$(images)" = "$before" ]

# ---------------------------------------------------------------- a fleet killed in the middle
# SIGTERM to the whole process group (as a scheduler stopping a job sends it; SIGINT would be ignored by
# a background job of this script) while image targets run: the parent goes at once, each worker
# finishes the image it is writing (signals deferred) and goes; each image is as it was or fully applied,
# never damaged, and nothing is left behind.
printf -- '--disk vm.qcow2\n--wim t.wim:1\n--disk vm.raw@p2 --disk-format raw\n' >kill-manifest
printf 'exchange-sa-rfr = 6209\n' >rfr.profile
rfr() { # the exchange-sa-rfr port of the three images ("-" where unset)
    local a b c
    a=$(disk_port vm.qcow2 MSExchangeSA/Parameters 2>/dev/null) || a=-
    b=$(wim_port t.wim 1 MSExchangeSA/Parameters 2>/dev/null) || b=-
    c=$(disk_port vm.raw MSExchangeSA/Parameters 2>/dev/null) || c=-
    echo "${a:--} ${b:--} ${c:--}"
}
rfr_before=$(rfr)
setsid "$HIVEPORT" apply rfr.profile --from kill-manifest --jobs 3 >/dev/null 2>&1 &
leader=$!
# As soon as a worker holds an image open (its private directory exists).
for i in $(seq 500); do [ -z "$(ls -A tmp)" ] || break; sleep 0.01; done
kill -TERM -- -$leader 2>/dev/null
wait $leader; leader_rc=$?
check "SIGTERM: it came while apply ran (exit status $leader_rc)" [ $leader_rc = 143 ]
# The workers outlive the parent by the image they finish: wait for them (and their qemu-nbd) to go.
for i in $(seq 200); do [ -z "$(ls -A tmp)" ] && ! pgrep -f -- "$work" >/dev/null && break; sleep 0.05; done
check "SIGTERM: vm.qcow2 is a consistent qcow2" qemu-img check -q vm.qcow2
check "SIGTERM: t.wim is a consistent WIM" wiminfo t.wim 1 >/dev/null
rfr_after=$(rfr)
ok_rfr=1
read -r b1 b2 b3 <<<"$rfr_before"
read -r a1 a2 a3 <<<"$rfr_after"
for v in "$a1:$b1" "$a2:$b2" "$a3:$b3"; do
    [ "${v%%:*}" = 6209 ] || [ "${v%%:*}" = "${v#*:}" ] || ok_rfr=0
done
check "SIGTERM: each image as it was or fully applied (before: $rfr_before; after: $rfr_after)" [ $ok_rfr = 1 ]
check "SIGTERM: the hive in vm.qcow2 still reads (ntfscat + hivexget)" [ "$(disk_port vm.qcow2 NTDS/Parameters)" = 6205 ]

# ---------------------------------------------------------------- nothing left behind
for i in $(seq 50); do pgrep -f -- "$work" >/dev/null || break; sleep 0.05; done
check "no qemu-nbd left ($(pgrep -af -- "$work" | tr '\n' ';'))" [ -z "$(pgrep -f -- "$work")" ]
check "no private directory left ($(ls tmp))" [ -z "$(ls -A tmp)" ]
finish
