"""Changes between two hives, as hiveport_diff() reports them."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Optional

from . import _lib


class ChangeKind(IntEnum):
    """enum hiveport_change_kind."""

    KEY_ADDED = 0
    KEY_REMOVED = 1
    KEY_TIME = 2  # the same key with another last-write time
    VALUE_ADDED = 3
    VALUE_REMOVED = 4
    VALUE_CHANGED = 5


@dataclass(frozen=True)
class Change:
    """One hiveport_change: key is the path from the root ("" for the root); value_name is set for value
    changes ("" is the default value); old_text and new_text are the value or time as the library writes
    it ("REG_DWORD 5001 (0x00001389)"), None when absent."""

    kind: ChangeKind
    key: str
    value_name: Optional[str]
    old_text: Optional[str]
    new_text: Optional[str]

    @classmethod
    def _from_c(cls, c: _lib.CChange) -> "Change":
        kind = ChangeKind(c.kind) if c.kind in ChangeKind._value2member_map_ else c.kind
        return cls(
            kind=kind,  # type: ignore[arg-type]
            key=_lib.text(c.key) or "",
            value_name=_lib.text(c.value_name),
            old_text=_lib.text(c.old_text),
            new_text=_lib.text(c.new_text),
        )
