"""The round trips of tests/check_real.c and check_logs.c, through the binding, on the real Windows hives of
../shared/hives (decompressed copies; the project's skip rule without them)."""
import os
import shutil
import subprocess

import pytest

import hiveport
from conftest import skip_or_fail

CLEAN_SYSTEM_HIVES = ["win7-SYSTEM", "vista-SYSTEM", "win10-pruned-SYSTEM"]


def export_lines(path):
    """The hive as hivexregedit (libhivex's Perl tool, an independent reader) exports it, as a set of lines."""
    if shutil.which("hivexregedit") is None:
        skip_or_fail("hivexregedit", "not installed (Debian package libwin-hivex-perl)")
    out = subprocess.run(["hivexregedit", "--export", str(path), "\\"], check=True, capture_output=True).stdout
    return set(out.decode("utf-8", "replace").splitlines())


@pytest.mark.parametrize("name", CLEAN_SYSTEM_HIVES)
def test_round_trip_on_clean_real_hive(real_hive, name):
    path = real_hive(name)
    before = export_lines(path)
    with hiveport.open(path, write=True) as h:
        assert not h.is_dirty and h.log_state == hiveport.LogState.CLEAN
        assert h.resolve("current") == 1
        with pytest.raises(hiveport.NotSet):
            h.get("exchange-sa-rfr", 1)
        h.set("exchange-sa-rfr", 5001, controlset=1)
        h.commit()
    with hiveport.open(path) as h:
        assert h.get("exchange-sa-rfr") == 5001
        assert h.audit() is not None
    after = export_lines(path)
    assert before - after == set()
    # Windows 7 spells the key "services": the existing spelling is kept, so compare without case.
    added = sorted(line.lower() for line in after - before if line)
    assert added == sorted([
        "[\\controlset001\\services\\msexchangesa]",
        "[\\controlset001\\services\\msexchangesa\\parameters]",
        '"tcp/ip port"=dword:00001389',
    ])


def test_control_sets_of_real_hive(real_hive):
    with hiveport.open(real_hive("win7-SYSTEM")) as h:
        assert h.controlsets == [1, 2]
        assert h.select("lastknowngood") == 2
        assert h.resolve("lastknowngood") == 2


def test_dirty_real_hive_refuses_writes_untouched(real_hive):
    path = real_hive("dirty-nolog-SYSTEM")
    before = path.read_bytes()
    with pytest.raises(hiveport.Dirty, match="sequence numbers 205 and 204 differ") as e:
        hiveport.open(path, write=True)
    assert str(path) in str(e.value)
    with hiveport.open(path) as h:
        assert h.is_dirty and h.sequence == (205, 204)
        assert h.log_state == hiveport.LogState.UNUSABLE and h.log_report
        h.resolve("current")
        h.audit()
    assert path.read_bytes() == before


def test_corrupt_real_hive_is_refused(real_hive):
    path = real_hive("corrupt-SYSTEM")
    with pytest.raises((hiveport.Corrupt, hiveport.ChecksumMismatch, hiveport.Truncated)) as e:
        hiveport.open(path)
    assert str(path) in str(e.value)


def test_differencing_hive_without_select(real_hive):
    with hiveport.open(real_hive("delta-1.6-SYSTEM")) as h:
        with pytest.raises(hiveport.NoSelect):
            h.resolve("current")


@pytest.mark.parametrize("hive,logs,recovered", [
    ("NewDirtyHive", ["NewDirtyHive.LOG1", "NewDirtyHive.LOG2"], "RecoveredHive_Windows10"),
    ("OldDirtyHive", ["OldDirtyHive.LOG1"], "RecoveredHive_Windows7"),
])
def test_log_replay_matches_windows_recovery(real_hive, tmp_path, hive, logs, recovered):
    folder = "txlog/new-format" if hive.startswith("New") else "txlog/old-format"
    path = real_hive(f"{folder}/{hive}")
    for log in logs:
        real_hive(f"{folder}/{log}")  # named as Windows names them: found beside the hive
    want = real_hive(f"{folder}/{recovered}").read_bytes()
    got_path = tmp_path / "got"
    with hiveport.open(path) as h:
        assert h.log_state == hiveport.LogState.REPLAYED and h.log_entries > 0
        h.save_copy(got_path)
    got = bytearray(got_path.read_bytes())
    if hive == "OldDirtyHive":
        # Windows 7 wrote its recovered hive twice more, changing two fields (see tests/check_logs.c).
        got[0x1014:0x101C] = want[0x1014:0x101C]
        got[0x6BDC8:0x6BDCC] = want[0x6BDC8:0x6BDCC]
    hbins = int.from_bytes(want[0x28:0x2C], "little")
    assert got[4096:4096 + hbins] == want[4096:4096 + hbins]


@pytest.mark.parametrize("name", CLEAN_SYSTEM_HIVES + ["dirty-nolog-SYSTEM", "delta-1.6-SYSTEM"])
def test_reads_change_nothing(real_hive, name):
    path = real_hive(name)
    os.chmod(path, 0o444)
    st = os.stat(path)
    before = path.read_bytes()
    with hiveport.open(path) as h:
        h.audit()
        for s in hiveport.catalog():
            try:
                h.get(s)
            except (hiveport.NotSet, hiveport.NoSelect, hiveport.WrongType, hiveport.BadData):
                pass
    assert path.read_bytes() == before and os.stat(path).st_mtime_ns == st.st_mtime_ns
