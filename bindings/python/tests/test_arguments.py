"""Arguments the C library cannot be given as they are (issue 22): a NUL byte, which C would read as the end
of a path or string, is refused as Python's own open() refuses it; wrong types are TypeError, ints a C int
cannot hold OverflowError, timeouts that mean nothing ValueError; another library than libhiveport is an
ImportError naming what it lacks."""
import ctypes.util
import os
import subprocess
import sys

import pytest

import hiveport
from hiveport.hive import _lock_timeout_ms


def listing(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir())


def test_a_path_with_a_nul_byte_is_refused_and_nothing_is_written(fixture_hive, tmp_path):
    path = fixture_hive("system-basic", "Z")
    before = listing(tmp_path)
    with pytest.raises(ValueError, match="embedded null byte"):
        hiveport.open(str(path) + "\0.copy", write=True)
    with pytest.raises(ValueError, match="embedded null byte"):
        hiveport.open(os.fsencode(path) + b"\0.copy")
    with pytest.raises(ValueError, match="embedded null byte"):
        hiveport.open(path, logs=[str(path) + ".LOG1\0junk"])
    with hiveport.open(path, write=True) as h:
        h.set("ntds", 6001)
        with pytest.raises(ValueError, match="embedded null byte"):
            h.commit(backup=str(path) + ".bak\0junk")
        assert h.has_changes  # nothing was committed
        h.discard()
        with pytest.raises(ValueError, match="embedded null byte"):
            h.save_copy(str(tmp_path / "P2") + "\0zzz")
    assert listing(tmp_path) == before
    with hiveport.open(path) as h:
        assert h.get("ntds") == 5005


def test_a_string_with_a_nul_byte_is_refused(fixture_hive):
    for call in (lambda: hiveport.parse_controlset("current\0junk"), lambda: hiveport.find_setting("ntds\0x"),
                 lambda: hiveport.setting("NTDS\\Parameters:TCP/IP Port\0x"),
                 lambda: hiveport.rpc_warnings("5000-5100\0junk"), lambda: hiveport.rpc_warnings("5000-5100", "\0")):
        with pytest.raises(ValueError, match="embedded null byte"):
            call()
    with hiveport.open(fixture_hive("software-plain"), write=True) as h:
        for call in (lambda: h.dcom_port("{11111111-1111-1111-1111-111111111111}\0"),
                     lambda: h.set_dcom_port("{11111111-1111-1111-1111-111111111111}\0", 5000),
                     lambda: h.set_rpc_range("5000-5100\0junk"), lambda: h.set_rpc_range("5000-5100", "\0"),
                     lambda: h.get("ntds", "current\0x")):
            with pytest.raises(ValueError, match="embedded null byte"):
                call()
        assert not h.has_changes


def test_wrong_argument_types_are_type_errors(fixture_hive):
    with hiveport.open(fixture_hive("system-basic")) as h:
        for call in (lambda: h.audit(software=str(h.path)), lambda: h.diff(h.path), lambda: h.diff(None),
                     lambda: h.preflight([("ntds", 6001)], software="P"), lambda: h.dcom_port(None),
                     lambda: h.set_rpc_range(5000), lambda: h.set_rpc_range("5000", available=True),
                     lambda: hiveport.find_setting(None), lambda: hiveport.parse_controlset(None),
                     lambda: hiveport.rpc_warnings([70000]), lambda: hiveport.rpc_warnings(b"5000"),
                     lambda: hiveport.strerror("2"), lambda: hiveport.strerror(2.0),
                     lambda: hiveport.severity_name(None), lambda: hiveport.open(None),
                     lambda: hiveport.open(h.path, lock_timeout="5")):
            with pytest.raises(TypeError):
                call()


def test_ints_a_c_int_cannot_hold_overflow_as_os_strerror():
    for n in (2**31, 2**40, -(2**31) - 1):
        with pytest.raises(OverflowError):
            os.strerror(n)
        with pytest.raises(OverflowError):
            hiveport.strerror(n)
        with pytest.raises(OverflowError):
            hiveport.severity_name(n)
    assert hiveport.strerror(2**31 - 1) == hiveport.strerror(-(2**31)) == hiveport.strerror(9999)
    assert hiveport.strerror(hiveport.Status.NOT_SET) != hiveport.strerror(0)


def test_lock_timeout_refuses_negatives_and_nan(fixture_hive):
    path = fixture_hive("system-basic")
    for bad in (-5, -0.001, float("nan"), float("-inf")):
        with pytest.raises(ValueError, match="lock_timeout"):
            hiveport.open(path, write=True, lock_timeout=bad)
        with pytest.raises(ValueError):
            _lock_timeout_ms(bad)
    assert _lock_timeout_ms(None) == _lock_timeout_ms(float("inf")) == -1  # forever
    with hiveport.open(path, write=True, lock_timeout=float("inf")) as h:
        assert h.get("ntds") == 5005


@pytest.mark.parametrize("library", ["libc.so.6", "libz.so.1"])
def test_another_library_is_an_import_error_naming_what_it_lacks(library):
    if not ctypes.util.find_library(library.split(".so")[0][3:]):
        pytest.skip(f"{library} is not installed")
    env = dict(os.environ, HIVEPORT_LIBRARY=library)
    run = subprocess.run([sys.executable, "-c", "import hiveport"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: hiveport: ") and library in last and "hiveport_version" in last, last
    assert "AttributeError" not in run.stderr
