"""The RPC runtime's port range of a SOFTWARE hive (Microsoft\\Rpc\\Internet, KB 154596): its value type
and the handle-free check of a port list."""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import List, Optional

from . import _lib
from .errors import InvalidArgument, Status, error_for


@dataclass(frozen=True)
class RpcRange:
    """What hiveport_rpc_get() reads: ports sorted and merged ("5000-5100,5984"), available and
    use_internet 'Y' or 'N' (PortsInternetAvailable, UseInternetPorts), port_count the ports listed."""

    ports: str
    available: str
    use_internet: str
    port_count: int


def flag(value: Optional[str], name: str) -> bytes:
    """A 'Y'/'N' argument as the one C char the library takes (b"\\0": keep what is there); the library
    decides which characters it accepts."""
    if value is None:
        return b"\0"
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str ('Y' or 'N') or None, not {type(value).__name__}")
    encoded = _lib.cstr(value, name)  # a NUL would be read as "keep what is there"
    if len(encoded) != 1:
        raise InvalidArgument(Status.INVALID_ARG, f"{name} must be one character, 'Y' or 'N', not {value!r}")
    return encoded


def take_string(p: ctypes.c_void_p) -> Optional[str]:
    """A string the library allocated, copied, then freed with hiveport_free()."""
    if not p.value:
        return None
    try:
        return _lib.text(ctypes.string_at(p.value))
    finally:
        _lib.lib.hiveport_free(p)


def rpc_warnings(ports: str, available: Optional[str] = "Y") -> List[str]:
    """hiveport_rpc_warnings(): the warnings KB 154596 gives for a port list meant as the ports dynamic RPC
    may use (available 'Y') or must not use ('N'), one line each; [] when there is nothing to say.
    InvalidArgument, saying why, for a malformed list or flag; TypeError for ports that are not a str."""
    text = ctypes.c_void_p()
    rc = _lib.lib.hiveport_rpc_warnings(_lib.cstr(ports, "ports"), flag(available, "available"), ctypes.byref(text))
    message = take_string(text)
    if rc != 0:
        raise error_for(rc, message)
    return message.splitlines() if message else []
