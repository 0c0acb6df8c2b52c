"""Findings: what hiveport_audit() (and hiveport_check() and hiveport_preflight(), where the library has
them) report, as a list of Finding.  One reader of the C findings list serves every call."""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from enum import IntEnum
from typing import List, Optional

from . import _lib


class Severity(IntEnum):
    """enum hiveport_severity."""

    INFO = 0
    WARNING = 1
    ERROR = 2


def severity_name(severity: int) -> str:
    """hiveport_severity_name(): "info", "warning", "error" (and "unknown" otherwise).  TypeError for what is
    not an int, OverflowError for one a C int cannot hold."""
    return _lib.text(_lib.lib.hiveport_severity_name(_lib.cint(severity))) or ""


@dataclass(frozen=True)
class Finding:
    """One hiveport_finding.  controlset is 0 for the hive as a whole, port 0 when none; setting_id, key and
    value_name are None when the finding is about none.  offset is the file offset of the damaged structure
    a check() finding is about (0 when none), and None when the loaded library predates the field (0.1)."""

    severity: Severity
    code: str
    controlset: int
    setting_id: Optional[str]
    key: Optional[str]
    value_name: Optional[str]
    port: int
    message: str
    offset: Optional[int] = None

    @property
    def severity_name(self) -> str:
        return severity_name(self.severity)

    def __str__(self) -> str:
        return f"{self.severity_name}: {self.code}: {self.message}"


def _severity(n: int) -> "Severity | int":
    return Severity(n) if n in Severity._value2member_map_ else n


def take(findings: "_lib.FindingsListP") -> List[Finding]:
    """Copies every finding of a C list (hiveport_findings_count, hiveport_findings_at) and frees the list
    (hiveport_findings_free), also when copying fails.  Each finding is read as the loaded library lays it
    out (_lib.finding_type), never past its end."""
    layout = ctypes.POINTER(_lib.finding_type)
    try:
        out = []
        for i in range(_lib.lib.hiveport_findings_count(findings)):
            f = ctypes.cast(_lib.lib.hiveport_findings_at(findings, i), layout).contents
            out.append(
                Finding(
                    severity=_severity(f.severity),  # type: ignore[arg-type]
                    code=_lib.text(f.code) or "",
                    controlset=f.controlset,
                    setting_id=_lib.text(f.setting_id),
                    key=_lib.text(f.key),
                    value_name=_lib.text(f.value_name),
                    port=f.port,
                    message=_lib.text(f.message) or "",
                    offset=getattr(f, "offset", None),
                )
            )
        return out
    finally:
        _lib.lib.hiveport_findings_free(findings)
