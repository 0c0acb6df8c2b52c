"""Hive.check() (hiveport_check), open(damaged=True) and Finding.offset, on fixture hives damaged by one
precise byte edit as tests/check_check.c damages them, and on clean ones."""
import ctypes
import os
import struct
import subprocess
import sys

import pytest

import hiveport
from hiveport import _lib, hive


def sk_refcount_edit(path):
    """Lowers the reference count of the root key's sk (the fixtures' only one) by one; returns the file
    offset of that count."""
    b = bytearray(path.read_bytes())
    root = 0x1000 + struct.unpack_from("<I", b, 0x24)[0]  # base block: root cell, from the first bin
    sk = 0x1000 + struct.unpack_from("<I", b, root + 4 + 0x2C)[0]  # nk record: security cell
    assert b[sk + 4: sk + 6] == b"sk"
    count = sk + 4 + 0x0C
    struct.pack_into("<I", b, count, struct.unpack_from("<I", b, count)[0] - 1)
    path.write_bytes(bytes(b))
    return count


def bin_offset_edit(path):
    """The second hive bin (at 0x2000) claims to be at 0x5000; returns the offset of that field."""
    b = bytearray(path.read_bytes())
    assert b[0x2000:0x2004] == b"hbin"
    struct.pack_into("<I", b, 0x2004, 0x5000)
    path.write_bytes(bytes(b))
    return 0x2004


def test_the_build_tree_library_has_check():
    assert hiveport.has_check() and _lib.finding_type is _lib.CFinding


@pytest.mark.parametrize("name", ["system-basic", "system-empty", "software-plain", "audit-wrong-type"])
def test_clean_hives_have_no_finding(fixture_hive, name):
    with hiveport.open(fixture_hive(name)) as h:
        assert h.check() == [] and h.check(primary=True) == []


def test_a_damaged_sk_refcount_is_one_error_at_its_offset(fixture_hive):
    path = fixture_hive("system-basic")
    offset = sk_refcount_edit(path)
    before = path.read_bytes()
    with hiveport.open(path) as h:
        findings = h.check()
        assert h.check(primary=True) == findings  # a clean hive: the file is what was loaded
    assert path.read_bytes() == before  # the check is read-only
    assert [(f.code, f.severity, f.offset) for f in findings] == [("sk-refcount", hiveport.Severity.ERROR, offset)]
    assert "33 references but 34 keys" in findings[0].message
    assert str(findings[0]).startswith("error: sk-refcount: ")


def test_primary_checks_the_file_not_its_replayed_logs(fixture_hive):
    path = fixture_hive("system-logged")
    with hiveport.open(path) as h:
        replayed, primary = h.check(), h.check(primary=True)
    assert "logs-replayed" in [f.code for f in replayed] and "base-sequence" not in [f.code for f in replayed]
    assert "base-sequence" in [f.code for f in primary] and "logs-replayed" not in [f.code for f in primary]
    assert all(f.severity < hiveport.Severity.ERROR for f in replayed + primary)


def test_damaged_opens_what_a_plain_open_refuses(fixture_hive):
    path = fixture_hive("system-basic")
    offset = bin_offset_edit(path)
    with pytest.raises(hiveport.Corrupt, match=str(path)):
        hiveport.open(path)
    with hiveport.open(path, damaged=True) as h:
        findings = h.check()
    errors = [f for f in findings if f.severity == hiveport.Severity.ERROR]
    assert (errors[0].code, errors[0].offset) == ("bin-offset", offset)
    with pytest.raises(hiveport.InvalidArgument):  # damaged is for reading only
        hiveport.open(path, write=True, damaged=True)


def test_check_passes_the_primary_flag(fixture_hive, monkeypatch):
    # A stand-in for hiveport_check() with its prototype, answering with hiveport_audit()'s list: the flag
    # check() passes, and that it reads the list as audit() does.
    seen = []

    @ctypes.CFUNCTYPE(ctypes.c_int, _lib.HandleP, ctypes.c_uint, ctypes.POINTER(_lib.FindingsListP))
    def fake_check(h, flags, out):
        seen.append(flags)
        return _lib.lib.hiveport_audit(h, None, out)

    monkeypatch.setattr(_lib, "check_fn", fake_check)
    with hiveport.open(fixture_hive("audit-wrong-type")) as h:
        assert h.check(primary=True) == h.audit()
        assert len(h.check()) == 4
    assert seen == [hive._CHECK_PRIMARY, 0]


def test_check_of_an_older_library_is_unsupported(fixture_hive, monkeypatch):
    monkeypatch.setattr(_lib, "check_fn", None)
    assert not hiveport.has_check()
    with hiveport.open(fixture_hive("system-basic")) as h, pytest.raises(hiveport.Unsupported):
        h.check()


def test_findings_of_an_older_library_have_no_offset(fixture_hive, monkeypatch):
    path = fixture_hive("system-basic")
    sk_refcount_edit(path)
    with hiveport.open(path) as h:
        new = h.check()
        monkeypatch.setattr(_lib, "finding_type", _lib.CFinding01)
        old = h.check()
    assert new[0].offset and old[0].offset is None
    assert [f.__class__(**{**f.__dict__, "offset": None}) for f in new] == old


def test_the_01_layout_ends_where_offset_begins():
    # What is read from an older library's finding is exactly its 0.1 structure: nothing after message.
    assert ctypes.sizeof(_lib.CFinding01) <= _lib.CFinding.offset.offset
    assert _lib.CFinding01.message.offset + ctypes.sizeof(ctypes.c_char_p) == ctypes.sizeof(_lib.CFinding01)
    assert [f[0] for f in _lib.CFinding._fields_] == ["offset"]


@pytest.mark.parametrize("text,expected", [("0.2.0", (0, 2, 0)), ("0.1.3", (0, 1, 3)), ("1.0", (1, 0)), ("x", ())])
def test_version_tuple(text, expected):
    assert _lib.version_tuple(text) == expected
    assert (expected >= (0, 2)) == (text in ("0.2.0", "1.0"))


GUARD_PAGE_READER = r"""
import ctypes, mmap, sys
from hiveport import _lib, findings
page = mmap.PAGESIZE
libc = ctypes.CDLL(None, use_errno=True)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
area = mmap.mmap(-1, 2 * page)
base = ctypes.addressof(ctypes.c_char.from_buffer(area))
assert libc.mprotect(base + page, page, 0) == 0  # PROT_NONE
# A 0.1 finding ending exactly where the inaccessible page begins, as an older library may lay one out.
at = base + page - ctypes.sizeof(_lib.CFinding01)
old = _lib.CFinding01.from_address(at)
strings = [b"sk-refcount", b"a message"]
old.severity, old.code, old.message = 2, strings[0], strings[1]

class OldLibrary:
    def hiveport_findings_count(self, f): return 1
    def hiveport_findings_at(self, f, i): return at
    def hiveport_findings_free(self, f): pass

_lib.lib = OldLibrary()
_lib.finding_type = {"old": _lib.CFinding01, "new": _lib.CFinding}[sys.argv[1]]
[f] = findings.take(None)
print(f.code, f.message, f.offset)
"""


@pytest.mark.parametrize("layout", ["old", "new"])
def test_an_older_librarys_finding_is_not_read_past_its_end(layout):
    # Under an inaccessible page: read as the 0.1 layout it works; read as 0.2's, offset lies in that page
    # (which shows the test would see a binding that reads offset from an older library).
    run = subprocess.run([sys.executable, "-c", GUARD_PAGE_READER, layout], capture_output=True, text=True,
                         env={**os.environ, "ASAN_OPTIONS": "detect_leaks=0:handle_segv=0"})
    if layout == "old":
        assert (run.returncode, run.stdout) == (0, "sk-refcount a message None\n"), run.stderr
    else:
        assert run.returncode == -11, (run.returncode, run.stdout, run.stderr)
