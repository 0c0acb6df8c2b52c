"""The handle-free calls: version, strerror, the catalog, settings, control set names, severities, the RPC
port-list check."""
import re

import pytest

import hiveport
from hiveport import _lib
from conftest import skip_or_fail


def test_version_is_the_loaded_library():
    assert re.fullmatch(r"\d+\.\d+\.\d+", hiveport.version())
    assert hiveport.version() == _lib.lib.hiveport_version().decode()


def test_library_override_is_used():
    # HIVEPORT_LIBRARY (set by make check-python) names the build tree's library: that one is loaded.
    import os

    wanted = os.environ.get("HIVEPORT_LIBRARY")
    if not wanted:
        skip_or_fail("HIVEPORT_LIBRARY", "not set (run the tests through make check-python)")
    maps = open("/proc/self/maps").read()
    assert os.path.realpath(wanted) in maps


def test_strerror_names_every_status():
    for status in hiveport.Status:
        assert hiveport.strerror(status)
    assert hiveport.strerror(hiveport.Status.NOT_SET) != hiveport.strerror(hiveport.Status.DIRTY)
    assert hiveport.strerror(9999)  # unknown codes get a generic sentence, never None


def test_catalog_matches_the_library():
    settings = hiveport.catalog()
    assert len(settings) == _lib.lib.hiveport_catalog_count() > 0
    ids = [s.id for s in settings]
    assert len(set(ids)) == len(ids)
    rfr = settings[ids.index("exchange-sa-rfr")]
    assert rfr == hiveport.Setting("MSExchangeSA\\Parameters", "TCP/IP Port", hiveport.RegType.DWORD,
                                   hiveport.SettingFlag.NONE, "exchange-sa-rfr", rfr.description, "KB 270836")
    assert rfr.description
    assert str(rfr) == "exchange-sa-rfr"
    assert any(s.type == hiveport.RegType.SZ for s in settings)  # exchange2010-ab
    assert any(s.flags & hiveport.SettingFlag.ZERO_DYNAMIC for s in settings)


def test_find_setting_is_case_insensitive():
    assert hiveport.find_setting("NTDS") == hiveport.find_setting("ntds")
    assert hiveport.find_setting("ntds").value_name == "TCP/IP Port"
    assert hiveport.find_setting("no-such-setting") is None


def test_setting_from_id_custom_and_setting():
    ntds = hiveport.setting("ntds")
    assert ntds.id == "ntds"
    assert hiveport.setting(ntds) is ntds
    custom = hiveport.setting("MyService\\Parameters:TCP Port")
    assert (custom.key, custom.value_name, custom.type, custom.id) == ("MyService\\Parameters", "TCP Port",
                                                                         hiveport.RegType.DWORD, None)
    assert str(custom) == "MyService\\Parameters:TCP Port"
    # A custom spelling of a catalog value keeps the catalog's type, as the hiveport command does.
    ab = hiveport.find_setting("exchange2010-ab")
    assert hiveport.setting(f"{ab.key.upper()}:{ab.value_name.lower()}").type == hiveport.RegType.SZ
    with pytest.raises(hiveport.InvalidArgument, match="unknown setting 'nope'"):
        hiveport.setting("nope")
    for bad in (":TCP Port", "MyService\\Parameters:"):
        with pytest.raises(hiveport.InvalidArgument, match="expected SERVICE"):
            hiveport.setting(bad)
    with pytest.raises(TypeError):
        hiveport.setting(5)  # type: ignore[arg-type]


def test_parse_controlset():
    assert hiveport.parse_controlset("current") == hiveport.CURRENT
    assert hiveport.parse_controlset("Default") == hiveport.DEFAULT
    assert hiveport.parse_controlset("LASTKNOWNGOOD") == hiveport.LASTKNOWNGOOD
    assert hiveport.parse_controlset("all") == hiveport.ALL
    assert hiveport.parse_controlset("3") == 3
    for bad in ("0", "1000", "boot", ""):
        with pytest.raises(hiveport.InvalidArgument) as e:
            hiveport.parse_controlset(bad)
        assert f"'{bad}'" in str(e.value)


def test_severity_names():
    assert [hiveport.severity_name(s) for s in hiveport.Severity] == ["info", "warning", "error"]
    assert hiveport.severity_name(42) == "unknown"


def test_rpc_warnings():
    assert hiveport.rpc_warnings("5000-5100,5984", "N") == []
    lines = hiveport.rpc_warnings("5000-5010")
    assert len(lines) == 2 and "11 ports" in lines[0]
    with pytest.raises(hiveport.InvalidArgument, match="5000-"):
        hiveport.rpc_warnings("5000-")
    with pytest.raises(hiveport.InvalidArgument):
        hiveport.rpc_warnings("5000-5100", "Q")
    with pytest.raises(hiveport.InvalidArgument, match="one character"):
        hiveport.rpc_warnings("5000-5100", "Yes")


def test_has_check_says_whether_the_symbol_exists():
    assert hiveport.has_check() == hasattr(_lib.lib, "hiveport_check")
