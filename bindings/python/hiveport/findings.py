"""Findings: what hiveport_audit() (and hiveport_check(), where the library has it) report, as a list of
Finding.  One reader of the C findings list serves both calls."""
from __future__ import annotations

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
    """hiveport_severity_name(): "info", "warning", "error" (and "unknown" otherwise)."""
    return _lib.text(_lib.lib.hiveport_severity_name(int(severity))) or ""


@dataclass(frozen=True)
class Finding:
    """One hiveport_finding.  controlset is 0 for the hive as a whole, port 0 when none; setting_id, key and
    value_name are None when the finding is about none."""

    severity: Severity
    code: str
    controlset: int
    setting_id: Optional[str]
    key: Optional[str]
    value_name: Optional[str]
    port: int
    message: str

    @property
    def severity_name(self) -> str:
        return severity_name(self.severity)

    def __str__(self) -> str:
        return f"{self.severity_name}: {self.code}: {self.message}"


def _severity(n: int) -> "Severity | int":
    return Severity(n) if n in Severity._value2member_map_ else n


def take(findings: "_lib.FindingsListP") -> List[Finding]:
    """Copies every finding of a C list (hiveport_findings_count, hiveport_findings_at) and frees the list
    (hiveport_findings_free), also when copying fails."""
    try:
        out = []
        for i in range(_lib.lib.hiveport_findings_count(findings)):
            f = _lib.lib.hiveport_findings_at(findings, i).contents
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
                )
            )
        return out
    finally:
        _lib.lib.hiveport_findings_free(findings)
