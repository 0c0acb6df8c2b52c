"""The C library and its prototypes: loading libhiveport.so.0 and declaring what ctypes must know.

Nothing here decides anything about hives; it only describes include/hiveport.h to ctypes.
"""
from __future__ import annotations

import ctypes
import operator
import os
from typing import Optional, Tuple

SONAME = "libhiveport.so.0"

c_uint32_p = ctypes.POINTER(ctypes.c_uint32)


class Handle(ctypes.Structure):
    """struct hiveport: opaque."""


class FindingsList(ctypes.Structure):
    """struct hiveport_findings: opaque."""


HandleP = ctypes.POINTER(Handle)
FindingsListP = ctypes.POINTER(FindingsList)


class COptions(ctypes.Structure):
    """hiveport_options."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("flags", ctypes.c_uint),
        ("lock_timeout_ms", ctypes.c_int),
        ("log_paths", ctypes.POINTER(ctypes.c_char_p)),
        ("log_path_count", ctypes.c_size_t),
    ]


class CSetting(ctypes.Structure):
    """hiveport_setting."""

    _fields_ = [
        ("key", ctypes.c_char_p),
        ("value_name", ctypes.c_char_p),
        ("type", ctypes.c_uint),
        ("flags", ctypes.c_uint),
        ("id", ctypes.c_char_p),
        ("description", ctypes.c_char_p),
        ("source", ctypes.c_char_p),
    ]


class CChange(ctypes.Structure):
    """hiveport_change."""

    _fields_ = [
        ("kind", ctypes.c_int),
        ("key", ctypes.c_char_p),
        ("value_name", ctypes.c_char_p),
        ("old_text", ctypes.c_char_p),
        ("new_text", ctypes.c_char_p),
    ]


class CFinding01(ctypes.Structure):
    """hiveport_finding as libhiveport 0.1 laid it out: what every version has.  The library owns these
    structures, so a binding reads no field past the end of the loaded library's one."""

    _fields_ = [
        ("severity", ctypes.c_int),
        ("code", ctypes.c_char_p),
        ("controlset", ctypes.c_uint32),
        ("setting_id", ctypes.c_char_p),
        ("key", ctypes.c_char_p),
        ("value_name", ctypes.c_char_p),
        ("port", ctypes.c_uint32),
        ("message", ctypes.c_char_p),
    ]


class CFinding(CFinding01):
    """hiveport_finding since 0.2: the 0.1 fields, then offset."""

    _fields_ = [("offset", ctypes.c_uint64)]


class CPlanItem(ctypes.Structure):
    """hiveport_plan_item."""

    _fields_ = [
        ("setting", ctypes.POINTER(CSetting)),
        ("port", ctypes.c_uint32),
        ("unset", ctypes.c_int),
    ]


CSettingP = ctypes.POINTER(CSetting)
ChangeFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(CChange), ctypes.c_void_p)

_P = ctypes.POINTER
_c = ctypes
# name: (restype, argtypes): the functions of include/hiveport.h (hiveport_open is hiveport_open_ext with
# default options: open() needs only the latter).
_PROTOTYPES = {
    "hiveport_version": (_c.c_char_p, []),
    "hiveport_strerror": (_c.c_char_p, [_c.c_int]),
    "hiveport_options_init": (None, [_P(COptions)]),
    "hiveport_open_ext": (_c.c_int, [_c.c_char_p, _P(COptions), _P(HandleP)]),
    "hiveport_close": (None, [HandleP]),
    "hiveport_errmsg": (_c.c_char_p, [HandleP]),
    "hiveport_path": (_c.c_char_p, [HandleP]),
    "hiveport_sequence": (_c.c_int, [HandleP, c_uint32_p, c_uint32_p]),
    "hiveport_is_dirty": (_c.c_int, [HandleP]),
    "hiveport_log_state": (_c.c_int, [HandleP, _P(_c.c_uint)]),
    "hiveport_log_report": (_c.c_char_p, [HandleP]),
    "hiveport_save_copy": (_c.c_int, [HandleP, _c.c_char_p]),
    "hiveport_has_changes": (_c.c_int, [HandleP]),
    "hiveport_select_value": (_c.c_int, [HandleP, _c.c_int, c_uint32_p]),
    "hiveport_controlsets": (_c.c_int, [HandleP, c_uint32_p, _c.c_size_t, _P(_c.c_size_t)]),
    "hiveport_resolve_controlset": (_c.c_int, [HandleP, _c.c_int, c_uint32_p]),
    "hiveport_parse_controlset": (_c.c_int, [_c.c_char_p, _P(_c.c_int)]),
    "hiveport_catalog_count": (_c.c_size_t, []),
    "hiveport_catalog_at": (CSettingP, [_c.c_size_t]),
    "hiveport_catalog_find": (CSettingP, [_c.c_char_p]),
    "hiveport_get_port": (_c.c_int, [HandleP, CSettingP, _c.c_int, c_uint32_p]),
    "hiveport_set_port": (_c.c_int, [HandleP, CSettingP, _c.c_int, _c.c_uint32, _c.c_uint]),
    "hiveport_unset_port": (_c.c_int, [HandleP, CSettingP, _c.c_int]),
    "hiveport_commit": (_c.c_int, [HandleP, _c.c_char_p]),
    "hiveport_discard": (_c.c_int, [HandleP]),
    "hiveport_diff": (_c.c_int, [HandleP, HandleP, ChangeFn, _c.c_void_p]),
    "hiveport_audit": (_c.c_int, [HandleP, HandleP, _P(FindingsListP)]),
    "hiveport_findings_count": (_c.c_size_t, [FindingsListP]),
    # The finding's layout depends on the loaded library's version: read through finding_type.
    "hiveport_findings_at": (_c.c_void_p, [FindingsListP, _c.c_size_t]),
    "hiveport_findings_free": (None, [FindingsListP]),
    "hiveport_severity_name": (_c.c_char_p, [_c.c_int]),
    "hiveport_free": (None, [_c.c_void_p]),
    # Strings the caller frees come back as void * so that ctypes does not convert (and lose) the pointer.
    "hiveport_rpc_get": (_c.c_int, [HandleP, _P(_c.c_void_p), _c.c_char_p, _c.c_char_p, c_uint32_p]),
    "hiveport_rpc_set": (_c.c_int, [HandleP, _c.c_char_p, _c.c_char, _c.c_char, c_uint32_p]),
    "hiveport_rpc_clear": (_c.c_int, [HandleP, _c.c_uint]),
    "hiveport_rpc_warnings": (_c.c_int, [_c.c_char_p, _c.c_char, _P(_c.c_void_p)]),
    "hiveport_dcom_get_port": (_c.c_int, [HandleP, _c.c_char_p, c_uint32_p]),
    "hiveport_dcom_set_port": (_c.c_int, [HandleP, _c.c_char_p, _c.c_uint32]),
}

# Calls that a library may lack (added in 0.2.0, node HIVEPORT_0.2): looked up at load time, None when absent.
_OPTIONAL_PROTOTYPES = {
    "hiveport_check": (_c.c_int, [HandleP, _c.c_uint, _P(FindingsListP)]),
    "hiveport_preflight": (_c.c_int, [HandleP, _P(CPlanItem), _c.c_size_t, _c.c_int, _c.c_uint, HandleP,
                                      _P(FindingsListP)]),
    # 0.3.0, node HIVEPORT_0.3
    "hiveport_commit_method": (_c.c_int, [HandleP, _P(_c.c_char_p)]),
}


def _load() -> ctypes.CDLL:
    """Loads the library named by HIVEPORT_LIBRARY (a path, e.g. a build tree's libhiveport.so.0), else by
    its SONAME through the dynamic linker's usual search (LD_LIBRARY_PATH, the ldconfig cache)."""
    name = os.environ.get("HIVEPORT_LIBRARY") or SONAME
    try:
        lib = ctypes.CDLL(name)
    except OSError as e:
        raise ImportError(
            f"hiveport: cannot load {name}: {e} (install libhiveport, or set HIVEPORT_LIBRARY to its path)"
        ) from e
    # Another library (HIVEPORT_LIBRARY naming the wrong file) is refused here, not at its first call.
    missing = [fn_name for fn_name in _PROTOTYPES if not hasattr(lib, fn_name)]
    if missing:
        raise ImportError(
            f"hiveport: {name} is not libhiveport: it lacks {', '.join(missing[:5])}"
            f"{', ...' if len(missing) > 5 else ''} (install libhiveport, or set HIVEPORT_LIBRARY to its path)"
        )
    for fn_name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, fn_name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def _optional(lib: ctypes.CDLL, name: str) -> Optional[ctypes._CFuncPtr]:  # type: ignore[name-defined]
    try:
        fn = getattr(lib, name)
    except AttributeError:
        return None
    fn.restype, fn.argtypes = _OPTIONAL_PROTOTYPES[name]
    return fn


lib = _load()
check_fn = _optional(lib, "hiveport_check")
preflight_fn = _optional(lib, "hiveport_preflight")
commit_method_fn = _optional(lib, "hiveport_commit_method")


def version_tuple(text: str) -> Tuple[int, ...]:
    """"0.2.0" -> (0, 2, 0); what does not parse is () (older than any version)."""
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return ()


# hiveport_finding gained offset in 0.2.0 (header: "offset came in 0.2"): an older library's findings end
# before it, so they are read as the 0.1 structure.
finding_type = CFinding if version_tuple(lib.hiveport_version().decode("ascii", "replace")) >= (0, 2) else CFinding01


def text(b: Optional[bytes]) -> Optional[str]:
    """A C string from the library (UTF-8) as str; None stays None."""
    return None if b is None else b.decode("utf-8", "surrogateescape")


def _no_nul(b: bytes) -> bytes:
    # C would read the string only up to the NUL: a path "SYSTEM\0.copy" would be the file SYSTEM.  Python's
    # own open() refuses it so.
    if b"\0" in b:
        raise ValueError("embedded null byte")
    return b


def cpath(p: "os.PathLike[str] | str | bytes") -> bytes:
    """A path for the C library: bytes as the file system spells it.  TypeError for what is not a path,
    ValueError for a NUL byte in it."""
    return _no_nul(os.fsencode(p))


def cstr(s: str, what: str = "the argument") -> bytes:
    """A str for the C library, as UTF-8.  TypeError for anything but a str, ValueError for a NUL in it."""
    if not isinstance(s, str):
        raise TypeError(f"{what} must be str, not {type(s).__name__}")
    return _no_nul(s.encode("utf-8", "surrogateescape"))


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def cint(n: int) -> int:
    """An int for a C int argument, which ctypes would silently wrap: TypeError for what is not an integer,
    OverflowError outside the C int, as os.strerror() does."""
    value = operator.index(n)
    if value > _INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if value < _INT_MIN:
        raise OverflowError("signed integer is less than minimum")
    return value
