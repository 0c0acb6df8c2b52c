"""Hive.commit() checks the set() and unset() calls since the last commit() or discard() with
hiveport_preflight(), as the hiveport command's set does (issue 22): what the audit would call an error in
the written hive is refused (Refused, carrying the findings) and nothing is written, unless force=True."""
import ctypes
import os

import pytest

import hiveport
from hiveport import _lib


def on_disk(path):
    st = os.stat(path)
    return path.read_bytes(), st.st_mtime_ns, st.st_ino, sorted(os.listdir(path.parent))


def test_a_port_conflict_is_refused_and_nothing_is_written(fixture_hive, tmp_path):
    path = fixture_hive("system-basic")  # ntds is 5005
    before = on_disk(path)
    with hiveport.open(path, write=True) as h:
        h.set("netlogon", 5005)
        with pytest.raises(hiveport.Refused) as e:
            h.commit(backup=tmp_path / "SYSTEM.bak")
        assert on_disk(path) == before  # no backup, no temporary file, the hive untouched
        assert e.value.status is None and isinstance(e.value, hiveport.HiveportError)
        assert [(f.code, f.setting_id, f.port) for f in e.value.errors] == [("port-conflict", "netlogon", 5005)]
        assert set(e.value.errors) <= set(e.value.findings)
        assert str(e.value).startswith(f"{path}: refused: the audit would report 1 error in the written hive "
                                       "(port-conflict); nothing was written (commit(force=True) writes anyway)")
        assert "error: port-conflict: " in str(e.value)
        assert h.has_changes and h.get("netlogon") == 5005  # the changes stay, for discard() or force
        h.commit(force=True)
    with hiveport.open(path) as h:
        assert h.get("netlogon") == 5005


def test_a_reserved_port_is_refused_in_every_control_set_all_touches(fixture_hive):
    path = fixture_hive("system-basic")
    before = on_disk(path)
    with hiveport.open(path, write=True) as h:
        h.set("exchange-sa-rfr", 135, controlset="all")
        with pytest.raises(hiveport.Refused) as e:
            h.commit()
    assert on_disk(path) == before
    assert sorted((f.code, f.controlset) for f in e.value.errors) == [("port-reserved", 1), ("port-reserved", 2)]


def test_changes_to_different_targets_are_checked_together(fixture_hive):
    # "all" and "current" both reach ControlSet001: the conflict is between the two calls.
    path = fixture_hive("system-empty")
    with hiveport.open(path, write=True) as h:
        h.set("ntds", 6001, controlset="all")
        h.set("netlogon", 6001, controlset="current")
        with pytest.raises(hiveport.Refused, match="port-conflict"):
            h.commit()


def test_later_changes_win_and_good_plans_commit(fixture_hive):
    path = fixture_hive("system-basic")
    with hiveport.open(path, write=True) as h:
        h.set("ntds", 135, controlset="all")
        h.set("ntds", 6005, controlset="current")
        h.set("ntds", 6005, controlset=2)
        h.unset("netlogon")
        h.commit()
    with hiveport.open(path) as h:
        assert h.get("ntds") == h.get("ntds", 2) == 6005


def test_discard_and_commit_start_a_new_plan(fixture_hive):
    path = fixture_hive("system-basic")
    with hiveport.open(path, write=True) as h:
        h.set("netlogon", 5005)
        h.discard()
        h.set("netlogon", 6006)
        h.commit()  # the discarded conflict is not checked
        h.set("netlogon", 5005)
        h.commit(force=True)
        h.set("exchange-sa-rfr", 7001)
        h.commit()  # the conflict already written does not block an unrelated change
    with hiveport.open(path) as h:
        assert (h.get("netlogon"), h.get("exchange-sa-rfr")) == (5005, 7001)


def test_software_cross_checks_the_rpc_range(fixture_hive):
    path = fixture_hive("audit-clean")
    with hiveport.open(path, write=True) as h, \
            hiveport.open(fixture_hive("software-rpc-inside")) as software:  # range 5900-6001
        h.set("netlogon", 5950)
        with pytest.raises(TypeError):
            h.commit(software=str(software.path))
        with pytest.raises(hiveport.Refused, match="port-in-rpc-range"):
            h.commit(software=software)
        assert h.has_changes
        h.commit()  # without the SOFTWARE hive there is nothing to cross-check
    with hiveport.open(path) as h:
        assert h.get("netlogon") == 5950


def test_the_plan_as_commit_checks_it(fixture_hive, monkeypatch):
    seen = []

    @ctypes.CFUNCTYPE(ctypes.c_int, _lib.HandleP, ctypes.POINTER(_lib.CPlanItem), ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_uint, _lib.HandleP, ctypes.POINTER(_lib.FindingsListP))
    def fake_preflight(h, plan, count, target, flags, software, out):
        seen.append(([(plan[i].setting.contents.value_name, plan[i].port, plan[i].unset) for i in range(count)],
                     target, flags, bool(software)))
        return _lib.lib.hiveport_audit(h, None, out)  # system-basic has no error

    monkeypatch.setattr(_lib, "preflight_fn", fake_preflight)
    with hiveport.open(fixture_hive("system-basic"), write=True) as h:
        h.set("ntds", 6101, controlset="all", replace_type=True)
        h.unset("netlogon", controlset="lastknowngood")
        h.set("exchange-sa-rfr", 6102, controlset=1)
        h.commit()
        assert len(seen) == 2
        h.commit()  # nothing planned: nothing checked
        h.set("ntds", 6103)
        h.commit(force=True)  # not checked
        assert len(seen) == 2
    cs1 = ([(b"TCP/IP Port", 6101, 0), (b"TCP/IP Port", 6102, 0)], 1, hiveport.hive._SET_REPLACE_TYPE, False)
    cs2 = ([(b"TCP/IP Port", 6101, 0), (b"DCTcpipPort", 0, 1)], 2, hiveport.hive._SET_REPLACE_TYPE, False)
    assert seen == [cs1, cs2]


def test_an_older_library_commits_only_with_force(fixture_hive, monkeypatch):
    monkeypatch.setattr(_lib, "preflight_fn", None)
    path = fixture_hive("system-basic")
    before = on_disk(path)
    with hiveport.open(path, write=True) as h:
        h.commit()  # nothing planned
        h.set("ntds", 6001)
        with pytest.raises(hiveport.Unsupported, match="force=True"):
            h.commit()
        assert on_disk(path) == before
        h.commit(force=True)
    with hiveport.open(path) as h:
        assert h.get("ntds") == 6001
