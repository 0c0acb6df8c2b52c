"""Exceptions: one per HIVEPORT_E_* status, all under HiveportError.

str() of an exception is the library's own message (hiveport_errmsg(), which names the file and the
reason), or hiveport_strerror() of the status when there was no handle to ask.
"""
from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Dict, List, Optional, Type

from . import _lib

if TYPE_CHECKING:
    from .findings import Finding


class Status(IntEnum):
    """enum hiveport_status."""

    OK = 0
    INVALID_ARG = 1
    NOMEM = 2
    IO = 3
    NOT_HIVE = 4
    TRUNCATED = 5
    CHECKSUM = 6
    CORRUPT = 7
    DIRTY = 8
    NO_SELECT = 9
    BAD_SELECT = 10
    NO_CONTROLSET = 11
    NOT_SET = 12
    WRONG_TYPE = 13
    BAD_DATA = 14
    RANGE = 15
    READONLY = 16
    LOCKED = 17
    NOT_REGULAR = 18


class HiveportError(Exception):
    """A libhiveport call failed.  status is the HIVEPORT_E_* code (a Status, or None for a call the loaded
    library lacks and for a commit the binding refused), message the library's explanation, also what str()
    gives."""

    status: Optional[int]

    def __init__(self, status: Optional[int], message: str) -> None:
        super().__init__(message)
        self.status = Status(status) if status is not None and status in Status._value2member_map_ else status
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidArgument(HiveportError, ValueError):
    """HIVEPORT_E_INVALID_ARG: a malformed argument, an unknown flag, or an operation refused as asked."""


class OutOfMemory(HiveportError, MemoryError):
    """HIVEPORT_E_NOMEM."""


class IOFailure(HiveportError):
    """HIVEPORT_E_IO: a system call on the file or its directory failed."""


class NotHive(HiveportError):
    """HIVEPORT_E_NOT_HIVE: not a regf file, or not a kind the library handles."""


class Truncated(HiveportError):
    """HIVEPORT_E_TRUNCATED: shorter than its header says."""


class ChecksumMismatch(HiveportError):
    """HIVEPORT_E_CHECKSUM: the header checksum does not match."""


class Corrupt(HiveportError):
    """HIVEPORT_E_CORRUPT: the hive structure is damaged."""


class Dirty(HiveportError):
    """HIVEPORT_E_DIRTY: writing refused, the hive has changes only in unreplayed logs."""


class NoSelect(HiveportError):
    """HIVEPORT_E_NO_SELECT: no Select key, not a usable SYSTEM hive."""


class BadSelect(HiveportError):
    """HIVEPORT_E_BAD_SELECT: a Select value is missing, of the wrong type or out of range."""


class NoControlSet(HiveportError):
    """HIVEPORT_E_NO_CONTROLSET: the target ControlSetNNN does not exist."""


class NotSet(HiveportError):
    """HIVEPORT_E_NOT_SET: the value (or the key holding it) is absent."""


class WrongType(HiveportError):
    """HIVEPORT_E_WRONG_TYPE: the existing value has another registry type."""


class BadData(HiveportError):
    """HIVEPORT_E_BAD_DATA: the existing value has the right type but unusable data."""


class PortRange(HiveportError, ValueError):
    """HIVEPORT_E_RANGE: a port outside what the setting accepts."""


class ReadOnly(HiveportError):
    """HIVEPORT_E_READONLY: a write on a read-only handle, file or directory."""


class Locked(HiveportError):
    """HIVEPORT_E_LOCKED: another writer held the lock past the timeout."""


class NotRegular(HiveportError):
    """HIVEPORT_E_NOT_REGULAR: a directory, device, FIFO or (for writing) symbolic link."""


class Unsupported(HiveportError, NotImplementedError):
    """The loaded libhiveport lacks the call (it is older than this binding); status is None."""


class Refused(HiveportError):
    """Hive.commit() refused the changes: the audit would report an error in the written hive (what the
    hiveport command's set refuses without --force).  findings is every finding the changes bring (warnings
    too), errors those of severity ERROR; status is None.  Nothing was written; commit(force=True) writes
    anyway."""

    def __init__(self, path: str, findings: "List[Finding]") -> None:
        self.findings = list(findings)
        self.errors = [f for f in self.findings if f.severity == 2]  # Severity.ERROR
        codes = ", ".join(f.code for f in self.errors[:4]) + (", ..." if len(self.errors) > 4 else "")
        n = len(self.errors)
        message = (f"{path}: refused: the audit would report {n} error{'' if n == 1 else 's'} in the written hive "
                   f"({codes}); nothing was written (commit(force=True) writes anyway)")
        message += "".join(f"\n  {f}" for f in self.errors)
        super().__init__(None, message)


_BY_STATUS: Dict[int, Type[HiveportError]] = {
    Status.INVALID_ARG: InvalidArgument,
    Status.NOMEM: OutOfMemory,
    Status.IO: IOFailure,
    Status.NOT_HIVE: NotHive,
    Status.TRUNCATED: Truncated,
    Status.CHECKSUM: ChecksumMismatch,
    Status.CORRUPT: Corrupt,
    Status.DIRTY: Dirty,
    Status.NO_SELECT: NoSelect,
    Status.BAD_SELECT: BadSelect,
    Status.NO_CONTROLSET: NoControlSet,
    Status.NOT_SET: NotSet,
    Status.WRONG_TYPE: WrongType,
    Status.BAD_DATA: BadData,
    Status.RANGE: PortRange,
    Status.READONLY: ReadOnly,
    Status.LOCKED: Locked,
    Status.NOT_REGULAR: NotRegular,
}


def strerror(status: int) -> str:
    """hiveport_strerror(): the library's fixed sentence for a status.  TypeError for what is not an int,
    OverflowError for one a C int cannot hold (as os.strerror())."""
    return _lib.text(_lib.lib.hiveport_strerror(_lib.cint(status))) or ""


def error_for(status: int, message: Optional[str] = None) -> HiveportError:
    """The exception for a failed call: the subclass of its status (HiveportError for a status this binding
    does not know), carrying message, or the status's fixed sentence when there is none."""
    cls = _BY_STATUS.get(status, HiveportError)
    return cls(status, message if message else strerror(status))
