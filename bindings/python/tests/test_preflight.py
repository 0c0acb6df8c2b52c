"""Hive.preflight() (hiveport_preflight): planned changes checked against the audit's rules by the library,
changing nothing; the plan as the C call receives it."""
import ctypes

import pytest

import hiveport
from hiveport import _lib, hive


def codes(findings):
    return [(f.code, f.setting_id, f.port) for f in findings]


def test_the_build_tree_library_has_preflight():
    assert hiveport.has_preflight()


def test_a_reserved_port_is_an_error_and_nothing_changes(fixture_hive):
    path = fixture_hive("system-basic")
    before = path.read_bytes()
    with hiveport.open(path) as h:  # read-only is enough
        findings = h.preflight([("ntds", 135)])
        assert not h.has_changes and h.get("ntds") == 5005
    assert path.read_bytes() == before
    errors = [f for f in findings if f.severity == hiveport.Severity.ERROR]
    assert codes(errors) == [("port-reserved", "ntds", 135)] and errors[0].controlset == 1
    assert "KB 270836" in errors[0].message


def test_pairs_or_a_mapping_and_later_changes_win(fixture_hive):
    with hiveport.open(fixture_hive("system-basic")) as h:
        conflict = h.preflight({"netlogon": 5005})  # ntds has 5005
        assert ("port-conflict", "netlogon", 5005) in codes(conflict)
        assert h.preflight([("netlogon", 5005)]) == conflict
        assert h.preflight([("ntds", 135), ("ntds", None)]) == []  # None unsets: the port never stays
        assert h.preflight([]) == []


def test_a_custom_setting_creating_its_service_key_is_a_warning_last(fixture_hive):
    with hiveport.open(fixture_hive("system-basic")) as h:
        findings = h.preflight([("NTDS\\Parameters:TCP/IP Port", 135), ("FOOSVC\\Parameters:Port", 7000)])
    assert findings[-1].code == "service-key-created" and findings[-1].severity == hiveport.Severity.WARNING
    assert findings[-1].key == "ControlSet001\\Services\\FOOSVC\\Parameters" and "FOOSVC" in findings[-1].message
    assert "port-reserved" in [f.code for f in findings[:-1]]


def test_controlset_reaches_the_library(fixture_hive):
    with hiveport.open(fixture_hive("system-basic")) as h:
        lkg = h.preflight([("FOOSVC\\Parameters:Port", 7000)], controlset="lastknowngood")
        every = h.preflight([("FOOSVC\\Parameters:Port", 7000)], controlset="all")
    assert [f.controlset for f in lkg] == [2] and [f.controlset for f in every] == [1, 2]


def test_replace_type_and_failures_of_the_plan(fixture_hive):
    path = fixture_hive("audit-wrong-type")
    with hiveport.open(path) as h:
        with pytest.raises(hiveport.WrongType, match=str(path)):
            h.preflight([("exchange-sa-rfr", 6001)])
        assert isinstance(h.preflight([("exchange-sa-rfr", 6001)], replace_type=True), list)
        with pytest.raises(hiveport.PortRange, match="70000"):
            h.preflight([("ntds", 70000)])
        with pytest.raises(hiveport.NoControlSet):
            h.preflight([("ntds", 6001)], controlset=7)


def test_software_cross_checks_the_rpc_range(fixture_hive):
    with hiveport.open(fixture_hive("audit-clean")) as system, \
            hiveport.open(fixture_hive("software-rpc-inside")) as software:  # range 5900-6001
        assert "port-in-rpc-range" not in [f.code for f in system.preflight([("netlogon", 5950)])]
        inside = system.preflight([("netlogon", 5950)], software=software)
    assert ("port-in-rpc-range", "netlogon", 5950) in codes(inside)


def test_the_plan_as_the_library_receives_it(fixture_hive, monkeypatch):
    seen = []

    @ctypes.CFUNCTYPE(ctypes.c_int, _lib.HandleP, ctypes.POINTER(_lib.CPlanItem), ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_uint, _lib.HandleP, ctypes.POINTER(_lib.FindingsListP))
    def fake_preflight(h, plan, count, target, flags, software, out):
        seen.append(([(plan[i].setting.contents.key, plan[i].setting.contents.value_name, plan[i].port,
                        plan[i].unset) for i in range(count)], target, flags, bool(software)))
        return _lib.lib.hiveport_audit(h, None, out)

    monkeypatch.setattr(_lib, "preflight_fn", fake_preflight)
    with hiveport.open(fixture_hive("audit-wrong-type")) as h, hiveport.open(fixture_hive("software-plain")) as sw:
        assert h.preflight([("ntds", 6001), ("MSExchangeSA\\Parameters:TCP/IP Port", None)], controlset="all",
                           replace_type=True, software=sw) == h.audit()
    plan = [(b"NTDS\\Parameters", b"TCP/IP Port", 6001, 0), (b"MSExchangeSA\\Parameters", b"TCP/IP Port", 0, 1)]
    assert seen == [(plan, hiveport.ALL, hive._SET_REPLACE_TYPE, True)]


def test_preflight_of_an_older_library_is_unsupported(fixture_hive, monkeypatch):
    monkeypatch.setattr(_lib, "preflight_fn", None)
    assert not hiveport.has_preflight()
    with hiveport.open(fixture_hive("system-basic")) as h, pytest.raises(hiveport.Unsupported):
        h.preflight([("ntds", 6001)])
