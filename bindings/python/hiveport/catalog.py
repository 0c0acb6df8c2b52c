"""Settings: the library's catalog (hiveport_catalog_*) and custom SERVICE\\SUBKEY:VALUE settings."""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import List, Optional, Union

from . import _lib
from .errors import InvalidArgument, Status


class RegType(IntEnum):
    """The registry type a setting's value has (HIVEPORT_REG_*)."""

    SZ = 1
    DWORD = 4


class SettingFlag(IntFlag):
    """HIVEPORT_SETTING_*."""

    NONE = 0
    ZERO_DYNAMIC = 0x1  # 0 is valid and means "dynamic"


@dataclass(frozen=True)
class Setting:
    """One registry value that pins a port (hiveport_setting).  key is relative to
    ControlSetNNN\\Services; id, description and source are None for a custom setting."""

    key: str
    value_name: str
    type: RegType = RegType.DWORD
    flags: SettingFlag = SettingFlag.NONE
    id: Optional[str] = None
    description: Optional[str] = None
    source: Optional[str] = None

    @classmethod
    def _from_c(cls, c: "ctypes._Pointer[_lib.CSetting]") -> "Setting":
        s = c.contents
        return cls(
            key=_lib.text(s.key) or "",
            value_name=_lib.text(s.value_name) or "",
            type=RegType(s.type),
            flags=SettingFlag(s.flags),
            id=_lib.text(s.id),
            description=_lib.text(s.description),
            source=_lib.text(s.source),
        )

    def _to_c(self) -> _lib.CSetting:
        """The four fields the library reads from a setting passed to it."""
        return _lib.CSetting(
            key=_lib.cstr(self.key, "a setting's key"), value_name=_lib.cstr(self.value_name, "a setting's value_name"),
            type=int(self.type), flags=int(self.flags),
        )

    def __str__(self) -> str:
        return self.id if self.id is not None else f"{self.key}:{self.value_name}"


SettingLike = Union[str, Setting]


def catalog() -> List[Setting]:
    """Every setting of the library's catalog, in its order (hiveport_catalog_count, hiveport_catalog_at)."""
    return [Setting._from_c(_lib.lib.hiveport_catalog_at(i)) for i in range(_lib.lib.hiveport_catalog_count())]


def find_setting(setting_id: str) -> Optional[Setting]:
    """The catalog setting with this id, compared case-insensitively by hiveport_catalog_find(), or None.
    TypeError for what is not a str."""
    found = _lib.lib.hiveport_catalog_find(_lib.cstr(setting_id, "a setting id"))
    return Setting._from_c(found) if found else None


def setting(spec: SettingLike) -> Setting:
    """A Setting from a Setting, a catalog id ("ntds"), or a custom "SERVICE\\SUBKEY:VALUE NAME" string, as
    the hiveport command reads SETTING: a custom setting is a REG_DWORD unless it names a catalog setting's
    key and value, whose type and flags it then takes.  InvalidArgument for anything else."""
    if isinstance(spec, Setting):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"a setting is a catalog id, a Setting or 'SERVICE\\SUBKEY:VALUE', not {type(spec).__name__}")
    _lib.cstr(spec, "a setting")  # refuses a NUL, which the library would read as the end of the name
    key, colon, value_name = spec.partition(":")
    if not colon:
        found = find_setting(spec)
        if found is None:
            raise InvalidArgument(
                Status.INVALID_ARG,
                f"unknown setting '{spec}': neither a catalog id nor SERVICE\\SUBKEY:VALUE NAME",
            )
        return found
    if not key or not value_name:
        raise InvalidArgument(
            Status.INVALID_ARG,
            f"setting '{spec}': expected SERVICE\\SUBKEY:VALUE NAME, e.g. 'NTDS\\Parameters:TCP/IP Port'",
        )
    for known in catalog():
        # Windows compares names case-insensitively (ASCII here, as strcasecmp in the CLI).
        if _ascii_lower(known.key) == _ascii_lower(key) and _ascii_lower(known.value_name) == _ascii_lower(value_name):
            return Setting(key, value_name, known.type, known.flags)
    return Setting(key, value_name)


def _ascii_lower(s: str) -> str:
    return s.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
