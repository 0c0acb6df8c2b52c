"""Every Hive method on the generated fixtures: open options, reads, writes, commits, control sets, logs,
diff, audit, the RPC range and DCOM ports, and the context manager."""
import os

import pytest

import hiveport

APPID_TCP = "{11111111-1111-1111-1111-111111111111}"  # software-plain: ncacn_ip_tcp,0,5050
APPID_NO_ENDPOINTS = "{D99E6E74-FC88-11D0-B498-00A0C90312F3}"


def stat_key(path):
    st = os.stat(path)
    return path.read_bytes(), st.st_mtime_ns, st.st_ino


def test_reads_of_a_basic_hive(fixture_hive):
    path = fixture_hive("system-basic")
    with hiveport.open(path) as h:
        assert h.path == str(path)
        assert repr(h) == f"<hiveport.Hive {str(path)!r}>"
        assert h.get("exchange-sa-rfr") == 5001
        assert h.get("ntds", controlset="current") == 5005
        assert h.get(hiveport.find_setting("netlogon"), 1) == 5006
        assert h.get("MSExchangeSA\\Parameters:TCP/IP NSPI Port") == 5002
        assert h.get("exchange-sa-rfr", controlset=2) == 5001
        assert h.get("exchange-sa-rfr", hiveport.LASTKNOWNGOOD) == 5001
        with pytest.raises(hiveport.NotSet):
            h.get("ntds", "lastknowngood")
        assert h.controlsets == [1, 2]
        assert h.sequence[0] == h.sequence[1]
        assert not h.is_dirty and not h.has_changes
        assert h.log_state == hiveport.LogState.CLEAN and h.log_entries == 0 and h.log_report == ""
        assert [h.select(f) for f in ("current", "default", "failed", "lastknowngood")] == [1, 1, 0, 2]
        assert h.select() == 1 and h.select(hiveport.SelectField.LASTKNOWNGOOD) == 2
        with pytest.raises(hiveport.InvalidArgument):
            h.select("boot")
        assert h.resolve() == 1 and h.resolve("lastknowngood") == 2 and h.resolve(2) == 2
        with pytest.raises(hiveport.NoControlSet):
            h.resolve(7)
        with pytest.raises(TypeError):
            h.get("ntds", 1.0)  # type: ignore[arg-type]


def test_controlsets_of_a_hive_that_skips_one(fixture_hive):
    with hiveport.open(fixture_hive("system-cs003")) as h:
        assert h.controlsets == [1, 3]
        assert h.resolve("current") == 3
        assert h.get("exchange-sa-rfr") == 7001


def test_set_commit_and_reopen(fixture_hive, tmp_path):
    path = fixture_hive("system-empty")
    backup = tmp_path / "SYSTEM.bak"
    before = path.read_bytes()
    with hiveport.open(path, write=True) as h:
        h.set("ntds", 6005, controlset="all")
        h.set("MyService\\Parameters:TCP Port", 7000)
        assert h.has_changes
        assert h.get("ntds") == 6005  # a handle sees its own uncommitted changes
        h.commit(backup=backup)
        assert not h.has_changes
    assert backup.read_bytes() == before
    with hiveport.open(path) as h:
        assert h.get("ntds") == 6005
        assert h.get("MyService\\Parameters:TCP Port") == 7000


def test_set_replace_type(fixture_hive):
    path = fixture_hive("regsz-port")
    with hiveport.open(path, write=True) as h:
        with pytest.raises(hiveport.WrongType):
            h.set("exchange-sa-rfr", 5001)
        assert not h.has_changes
        h.set("exchange-sa-rfr", 5001, replace_type=True)
        assert h.get("exchange-sa-rfr") == 5001
        h.set("exchange2010-ab", 6002)  # a REG_SZ setting
        assert h.get("exchange2010-ab") == 6002
        h.commit()
    with hiveport.open(path) as h:
        assert (h.get("exchange-sa-rfr"), h.get("exchange2010-ab")) == (5001, 6002)


def test_unset(fixture_hive):
    path = fixture_hive("system-basic")
    with hiveport.open(path, write=True) as h:
        h.unset("exchange-sa-rfr", controlset="all")
        h.unset("exchange-sa-rfr", controlset="all")  # absent: no error
        h.commit()
    with hiveport.open(path) as h:
        for cs in (1, 2):
            with pytest.raises(hiveport.NotSet):
                h.get("exchange-sa-rfr", cs)
        assert h.get("ntds") == 5005


def test_a_commit_without_change_writes_nothing(fixture_hive):
    path = fixture_hive("system-basic")
    before = stat_key(path)
    with hiveport.open(path, write=True) as h:
        h.set("ntds", 5005)  # already holds it
        h.commit()
    assert stat_key(path) == before


def test_discard(fixture_hive):
    path = fixture_hive("system-basic")
    before = stat_key(path)
    with hiveport.open(path, write=True) as h:
        h.set("ntds", 6005)
        h.discard()
        assert not h.has_changes
        assert h.get("ntds") == 5005
        h.commit()
    assert stat_key(path) == before


def test_context_manager_exception_commits_nothing(fixture_hive):
    path = fixture_hive("system-basic")
    before = stat_key(path)
    with pytest.raises(RuntimeError):
        with hiveport.open(path, write=True) as h:
            h.set("ntds", 6005)
            h.set("exchange-sa-rfr", 6001, controlset="all")
            raise RuntimeError("the pipeline failed half-way")
    assert h.closed
    assert stat_key(path) == before
    # Closed on exit: the writer's lock is released.
    with hiveport.open(path, write=True, lock_timeout=0) as again:
        assert again.get("ntds") == 5005


def test_context_manager_leaving_without_commit_discards(fixture_hive):
    path = fixture_hive("system-basic")
    before = stat_key(path)
    with hiveport.open(path, write=True) as h:
        h.set("ntds", 6005)
    assert h.closed and stat_key(path) == before
    with pytest.raises(ValueError):
        h.has_changes


def test_context_manager_keeps_what_was_committed_before_the_exception(fixture_hive):
    path = fixture_hive("system-basic")
    with pytest.raises(KeyError):
        with hiveport.open(path, write=True) as h:
            h.set("ntds", 6005)
            h.commit()
            h.set("netlogon", 6006)
            raise KeyError("later")
    with hiveport.open(path) as h:
        assert (h.get("ntds"), h.get("netlogon")) == (6005, 5006)


def test_open_waits_for_the_lock(fixture_hive):
    path = fixture_hive("system-basic")
    import threading
    import time

    holder = hiveport.open(path, write=True)
    threading.Timer(0.3, holder.close).start()
    start = time.monotonic()
    with hiveport.open(path, write=True, lock_timeout=10) as h:
        waited = time.monotonic() - start
        assert h.get("ntds") == 5005
    assert 0.2 < waited < 5


def test_lock_timeout_conversion():
    from hiveport.hive import _lock_timeout_ms

    assert [_lock_timeout_ms(t) for t in (None, float("inf"), 0, 0.0001, 0.5, 30.0, 10**9)] == [
        -1, -1, 0, 1, 500, 30000, 2**31 - 1]


def test_logs_replayed_ignored_or_given(fixture_hive, tmp_path):
    path = fixture_hive("system-logged")
    with hiveport.open(path) as h:
        assert h.is_dirty
        assert h.log_state == hiveport.LogState.REPLAYED and h.log_entries == 1
        assert "replayed" in h.log_report
        assert h.get("ntds") == 6005
    with hiveport.open(path, no_logs=True) as h:
        assert h.log_state == hiveport.LogState.IGNORED
        assert h.get("ntds") == 5005
    elsewhere = tmp_path / "kept-log"
    os.rename(tmp_path / "system-logged.hive.LOG1", elsewhere)
    with hiveport.open(path) as h:
        assert h.log_state == hiveport.LogState.UNUSABLE
    with pytest.raises(TypeError):
        hiveport.open(path, logs=elsewhere)
    with pytest.raises(hiveport.InvalidArgument, match="give 1 to 8 log paths"):
        hiveport.open(path, logs=[elsewhere] * 9)
    with hiveport.open(path, logs=[elsewhere]) as h:
        assert h.log_state == hiveport.LogState.REPLAYED and h.get("ntds") == 6005
        assert str(elsewhere) in h.log_report


def test_discard_logs_allows_writing_a_dirty_hive(fixture_hive):
    path = fixture_hive("dirty")
    with pytest.raises(hiveport.Dirty):
        hiveport.open(path, write=True)
    with hiveport.open(path, write=True, discard_logs=True) as h:
        assert h.log_state == hiveport.LogState.UNUSABLE
        h.set("ntds", 6005)
        h.commit()
    with hiveport.open(path) as h:
        assert not h.is_dirty and h.get("ntds") == 6005


def test_break_links_allows_writing_a_hard_linked_hive(fixture_hive, tmp_path):
    path = fixture_hive("system-basic")
    other = tmp_path / "other-name"
    os.link(path, other)
    with pytest.raises(hiveport.NotRegular, match="2 hard links"):
        hiveport.open(path, write=True)
    with hiveport.open(path, write=True, break_links=True) as h:
        h.set("ntds", 6105)
        h.commit()
    with hiveport.open(path) as h:
        assert h.get("ntds") == 6105
    with hiveport.open(other) as h:  # the other name keeps the old hive
        assert h.get("ntds") == 5005
    assert os.stat(path).st_nlink == 1


def test_commit_through_the_logs_or_by_a_copy(fixture_hive, tmp_path):
    path = fixture_hive("system-basic")
    with hiveport.open(path, write=True, commit="log") as h:
        h.set("ntds", 6106)
        with pytest.raises(hiveport.InvalidArgument, match="no transaction logs"):
            h.commit()
    with hiveport.open(path, write=True) as h:
        h.set("ntds", 6107)
        h.commit()
        assert h.commit_method()[0] == "copy"
    logged = fixture_hive("system-logged")
    with open(str(logged) + ".LOG1", "rb") as f:
        log = f.read()
    with open(str(path) + ".LOG1", "wb") as f:
        f.write(log)
    with hiveport.open(path, write=True) as h:
        h.set("ntds", 6108)
        h.commit()
        method, report = h.commit_method()
        assert method == "log" and ".LOG1" in report
    with hiveport.open(path) as h:
        assert h.get("ntds") == 6108 and not h.is_dirty
    with pytest.raises(ValueError):
        hiveport.open(path, commit="sometimes")


def test_save_copy(fixture_hive, tmp_path):
    path = fixture_hive("system-basic")
    dest = tmp_path / "copy.hive"
    with hiveport.open(path, write=True) as h:
        h.save_copy(dest)
        h.set("ntds", 6005)
        with pytest.raises(hiveport.InvalidArgument):
            h.save_copy(tmp_path / "with-changes.hive")  # uncommitted changes are refused
    assert dest.read_bytes() == path.read_bytes()
    with hiveport.open(fixture_hive("dirty")) as h:
        with pytest.raises(hiveport.Dirty):
            h.save_copy(tmp_path / "stale.hive")
    assert not (tmp_path / "stale.hive").exists()


def test_diff_is_an_iterator_of_changes(fixture_hive, tmp_path):
    path = fixture_hive("system-basic")
    backup = tmp_path / "before.hive"
    with hiveport.open(path, write=True) as h:
        h.set("ntds", 6005)
        h.commit(backup=backup)
    with hiveport.open(backup) as old, hiveport.open(path) as new:
        changes = old.diff(new)
        assert iter(changes) is changes
        changes = list(changes)
        assert list(new.diff(new)) == []
    value = [c for c in changes if c.kind == hiveport.ChangeKind.VALUE_CHANGED]
    assert len(value) == 1
    assert value[0] == hiveport.Change(hiveport.ChangeKind.VALUE_CHANGED, "ControlSet001\\Services\\NTDS\\Parameters",
                                       "TCP/IP Port", "REG_DWORD 5005 (0x0000138d)", "REG_DWORD 6005 (0x00001775)")
    assert all(c.kind in (hiveport.ChangeKind.VALUE_CHANGED, hiveport.ChangeKind.KEY_TIME) for c in changes)


def test_diff_of_added_keys(fixture_hive):
    with hiveport.open(fixture_hive("system-empty")) as old, hiveport.open(fixture_hive("system-basic")) as new:
        kinds = {c.kind for c in old.diff(new)}
    assert {hiveport.ChangeKind.KEY_ADDED, hiveport.ChangeKind.VALUE_ADDED} <= kinds


def test_audit_findings(fixture_hive):
    with hiveport.open(fixture_hive("audit-clean")) as h:
        assert h.audit() == []
    with hiveport.open(fixture_hive("audit-wrong-type")) as h:
        findings = h.audit()
    assert [f.code for f in findings] == ["wrong-type"] * 4
    rfr = [f for f in findings if f.setting_id == "exchange-sa-rfr"][0]
    assert rfr.severity == hiveport.Severity.ERROR and rfr.severity_name == "error"
    assert (rfr.controlset, rfr.key, rfr.value_name, rfr.port) == (
        1, "ControlSet001\\Services\\MSExchangeSA\\Parameters", "TCP/IP Port", 5001)
    assert rfr.message and str(rfr).startswith("error: wrong-type: ")


def test_audit_with_software_hive(fixture_hive):
    with hiveport.open(fixture_hive("audit-clean")) as system, hiveport.open(fixture_hive("software-rpc-inside")) as sw:
        findings = system.audit(software=sw)
    assert [(f.code, f.port) for f in findings] == [("port-in-rpc-range", 6001)]


def test_audit_of_a_hive_without_select_is_findings(fixture_hive):
    with hiveport.open(fixture_hive("audit-select-missing")) as h:
        assert "select-missing" in [f.code for f in h.audit()]


def test_rpc_range_get_set_clear(fixture_hive):
    path = fixture_hive("software-plain")
    with hiveport.open(path, write=True) as h:
        with pytest.raises(hiveport.NotSet):
            h.rpc_range()
        assert h.set_rpc_range("5100-5200,5000-5099", "Y", "Y") == 201
        assert h.rpc_range() == hiveport.RpcRange("5000-5200", "Y", "Y", 201)
        assert h.set_rpc_range(available="n") == 201  # Ports kept
        assert h.rpc_range().available == "N"
        with pytest.raises(hiveport.InvalidArgument):
            h.set_rpc_range("5000-")
        h.commit()
    with hiveport.open(path, write=True) as h:
        assert h.rpc_range() == hiveport.RpcRange("5000-5200", "N", "Y", 201)
        h.clear_rpc_range(keep_key=True)
        with pytest.raises(hiveport.BadData):
            h.rpc_range()  # an Internet key without its values: what Windows rejects
        h.clear_rpc_range()
        with pytest.raises(hiveport.NotSet):
            h.rpc_range()
        h.clear_rpc_range()  # nothing to remove: no error


def test_rpc_range_rejected_by_windows(fixture_hive):
    with hiveport.open(fixture_hive("software-rpc-wrong-type")) as h:
        with pytest.raises(hiveport.WrongType, match="Ports"):
            h.rpc_range()
    with hiveport.open(fixture_hive("software-rpc-tolerated")) as h:
        assert h.rpc_range() == hiveport.RpcRange("5000-5200,6000-6010,7000", "Y", "N", 213)


def test_dcom_ports(fixture_hive):
    path = fixture_hive("software-plain")
    with hiveport.open(path, write=True) as h:
        assert h.dcom_port(APPID_TCP) == 5050
        with pytest.raises(hiveport.NotSet):
            h.dcom_port(APPID_NO_ENDPOINTS)
        with pytest.raises(hiveport.BadData):
            h.dcom_port("{33333333-3333-3333-3333-333333333333}")
        with pytest.raises(hiveport.WrongType):
            h.dcom_port("{44444444-4444-4444-4444-444444444444}")
        with pytest.raises(hiveport.PortRange):
            h.set_dcom_port(APPID_TCP, 0)
        h.set_dcom_port(APPID_NO_ENDPOINTS, 5060)
        h.commit()
    with hiveport.open(path) as h:
        assert h.dcom_port(APPID_NO_ENDPOINTS) == 5060
        assert h.dcom_port(APPID_TCP) == 5050


def test_paths_may_be_bytes_or_pathlike(fixture_hive):
    path = fixture_hive("system-basic")
    for p in (path, str(path), os.fsencode(path)):
        with hiveport.open(p) as h:
            assert h.get("ntds") == 5005
