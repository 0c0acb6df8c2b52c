"""Every exception class: raised for its status by a real call, carrying the status and the library's
message (which names the file)."""
import pytest

import hiveport
from hiveport import _lib, errors


def test_every_status_has_its_own_class():
    classes = {s: type(errors.error_for(s)) for s in hiveport.Status if s != hiveport.Status.OK}
    assert len(set(classes.values())) == len(classes)
    for status, cls in classes.items():
        assert issubclass(cls, hiveport.HiveportError)
        e = errors.error_for(status, "the message")
        assert e.status == status and str(e) == "the message" and e.message == "the message"
        assert str(errors.error_for(status)) == hiveport.strerror(status)
    assert issubclass(hiveport.InvalidArgument, ValueError)
    assert issubclass(hiveport.PortRange, ValueError)
    assert issubclass(hiveport.OutOfMemory, MemoryError)
    assert issubclass(hiveport.Unsupported, NotImplementedError)
    # A status this binding does not know still raises, as the base class.
    unknown = errors.error_for(99)
    assert type(unknown) is hiveport.HiveportError and unknown.status == 99


def raised(cls, call, *args, **kwargs):
    with pytest.raises(cls) as info:
        call(*args, **kwargs)
    assert type(info.value) is cls
    return info.value


def test_invalid_argument(fixture_hive, tmp_path):
    path = fixture_hive("system-basic")
    with hiveport.open(path) as h:
        e = raised(hiveport.InvalidArgument, h.save_copy, path)  # an existing destination
        assert e.status == hiveport.Status.INVALID_ARG and str(path) in str(e)
        raised(hiveport.InvalidArgument, h.resolve, "all")


def test_out_of_memory_is_a_memory_error():
    # The library cannot be made to run out of memory from here: the class and its mapping are what is tested.
    e = errors.error_for(hiveport.Status.NOMEM)
    assert isinstance(e, hiveport.OutOfMemory) and isinstance(e, MemoryError)


def test_io_failure(tmp_path):
    e = raised(hiveport.IOFailure, hiveport.open, tmp_path / "absent")
    assert e.status == hiveport.Status.IO and str(tmp_path / "absent") in str(e)


def test_not_hive(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_bytes(b"not a registry hive\n" * 300)
    e = raised(hiveport.NotHive, hiveport.open, text)
    assert str(text) in str(e)


def test_truncated(fixture_hive):
    path = fixture_hive("truncated")
    assert str(path) in str(raised(hiveport.Truncated, hiveport.open, path))


def test_checksum(fixture_hive):
    path = fixture_hive("bad-checksum")
    assert str(path) in str(raised(hiveport.ChecksumMismatch, hiveport.open, path))


def test_corrupt(fixture_hive):
    # A hive bin's signature zeroed: the first bin starts at 4096 with "hbin".
    path = fixture_hive("system-basic")
    data = bytearray(path.read_bytes())
    assert data[4096:4100] == b"hbin"
    data[4096:4100] = b"\0\0\0\0"
    path.write_bytes(data)
    assert str(path) in str(raised(hiveport.Corrupt, hiveport.open, path))


def test_dirty(fixture_hive):
    path = fixture_hive("dirty")
    before = path.read_bytes()
    e = raised(hiveport.Dirty, hiveport.open, path, write=True)
    assert str(path) in str(e)
    assert path.read_bytes() == before


def test_no_select_bad_select_no_controlset(fixture_hive):
    with hiveport.open(fixture_hive("no-select")) as h:
        raised(hiveport.NoSelect, h.resolve, "current")
    with hiveport.open(fixture_hive("bad-select")) as h:
        raised(hiveport.BadSelect, h.resolve, "current")
        e = raised(hiveport.NoControlSet, h.resolve, "default")
        assert "ControlSet005" in str(e)


def test_not_set_wrong_type_bad_data(fixture_hive):
    with hiveport.open(fixture_hive("system-empty")) as h:
        e = raised(hiveport.NotSet, h.get, "ntds")
        assert "system-empty.hive" in str(e) and e.status == hiveport.Status.NOT_SET
    with hiveport.open(fixture_hive("regsz-port")) as h:
        raised(hiveport.WrongType, h.get, "exchange-sa-rfr")
        raised(hiveport.BadData, h.get, "ntds")


def test_port_range(fixture_hive):
    with hiveport.open(fixture_hive("system-basic"), write=True) as h:
        raised(hiveport.PortRange, h.set, "ntds", 70000)
        raised(hiveport.PortRange, h.set, "ntds", 0)
        # What a C uint32_t cannot hold is refused here rather than wrapped by ctypes (2**32 + 5001 is not 5001).
        raised(hiveport.PortRange, h.set, "ntds", 2**32 + 5001)
        raised(hiveport.PortRange, h.set, "ntds", -1)
        assert not h.has_changes


def test_read_only(fixture_hive):
    path = fixture_hive("system-basic")
    with hiveport.open(path) as h:
        e = raised(hiveport.ReadOnly, h.set, "ntds", 6005)
        assert str(path) in str(e)


def test_locked(fixture_hive):
    path = fixture_hive("system-basic")
    with hiveport.open(path, write=True):
        e = raised(hiveport.Locked, hiveport.open, path, write=True, lock_timeout=0)
        assert str(path) in str(e)


def test_not_regular(tmp_path):
    raised(hiveport.NotRegular, hiveport.open, tmp_path)


def test_unsupported_when_the_library_lacks_check(fixture_hive, monkeypatch):
    monkeypatch.setattr(_lib, "check_fn", None)
    with hiveport.open(fixture_hive("system-basic")) as h:
        e = raised(hiveport.Unsupported, h.check)
        assert e.status is None and "hiveport_check" in str(e)


def test_closed_hive_is_refused(fixture_hive):
    h = hiveport.open(fixture_hive("system-basic"))
    h.close()
    h.close()
    with pytest.raises(ValueError, match="closed"):
        h.get("ntds")
