"""hiveport: pin Windows RPC services to static TCP ports in offline registry hives.

A ctypes binding of libhiveport (libhiveport.so.0, or the file HIVEPORT_LIBRARY names): every decision is
the C library's; this package only translates arguments, results and statuses.

    import hiveport
    with hiveport.open("/mnt/image/Windows/System32/config/SYSTEM", write=True) as hive:
        hive.set("exchange-sa-rfr", 5001, controlset="all")
        hive.commit(backup="/mnt/image/Windows/System32/config/SYSTEM.bak")
"""
from __future__ import annotations

from . import _lib
from .catalog import RegType, Setting, SettingFlag, SettingLike, catalog, find_setting, setting
from .diff import Change, ChangeKind
from .errors import (BadData, BadSelect, ChecksumMismatch, Corrupt, Dirty, HiveportError, InvalidArgument, IOFailure,
                     Locked, NoControlSet, NoSelect, NotHive, NotRegular, NotSet, OutOfMemory, PortRange, ReadOnly,
                     Refused, Status, Truncated, Unsupported, WrongType, strerror)
from .findings import Finding, Severity, severity_name
from .hive import ALL, CURRENT, DEFAULT, LASTKNOWNGOOD, Hive, LogState, SelectField, open, parse_controlset
from .rpc import RpcRange, rpc_warnings


def version() -> str:
    """hiveport_version(): the version of the libhiveport actually loaded, "MAJOR.MINOR.MICRO"."""
    return _lib.text(_lib.lib.hiveport_version()) or ""


def has_check() -> bool:
    """Whether the loaded libhiveport has hiveport_check() (Hive.check() raises Unsupported otherwise)."""
    return _lib.check_fn is not None


def has_preflight() -> bool:
    """Whether the loaded libhiveport has hiveport_preflight() (Hive.preflight() raises Unsupported otherwise)."""
    return _lib.preflight_fn is not None


__all__ = [
    "ALL", "CURRENT", "DEFAULT", "LASTKNOWNGOOD",
    "BadData", "BadSelect", "Change", "ChangeKind", "ChecksumMismatch", "Corrupt", "Dirty", "Finding", "Hive",
    "HiveportError", "InvalidArgument", "IOFailure", "Locked", "LogState", "NoControlSet", "NoSelect", "NotHive",
    "NotRegular", "NotSet", "OutOfMemory", "PortRange", "ReadOnly", "Refused", "RegType", "RpcRange", "SelectField",
    "Setting", "SettingFlag", "SettingLike", "Severity", "Status", "Truncated", "Unsupported", "WrongType",
    "catalog", "find_setting", "has_check", "has_preflight", "open", "parse_controlset", "rpc_warnings", "setting",
    "severity_name", "strerror", "version",
]
