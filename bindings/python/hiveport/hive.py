"""An open hive: hiveport_open_ext() to hiveport_close(), and every call made on a handle."""
from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import numbers
import os
import threading
from enum import IntEnum
from types import TracebackType
from typing import Any, Callable, Iterable, Iterator, List, Mapping, Optional, Tuple, Type, TypeVar, Union

from . import _lib
from .catalog import Setting, SettingLike, setting as _setting
from .diff import Change
from .errors import InvalidArgument, PortRange, Refused, Status, Unsupported, error_for, strerror
from .findings import Finding, Severity, take as _take_findings
from .rpc import RpcRange, flag as _flag, take_string as _take_string

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

# Control set targets (HIVEPORT_CS_*); a number 1-999 names ControlSetNNN.
CURRENT = -1
DEFAULT = -2
LASTKNOWNGOOD = -3
ALL = -4
ControlSet = Union[str, int]

_OPEN_WRITE = 0x1
_OPEN_NO_LOGS = 0x2
_OPEN_DISCARD_LOGS = 0x4
_OPEN_BREAK_LINKS = 0x8
_OPEN_DAMAGED = 0x10
_OPEN_COMMIT_LOG = 0x20
_OPEN_COMMIT_COPY = 0x40
_COMMIT_FLAGS = {"auto": 0, "log": _OPEN_COMMIT_LOG, "copy": _OPEN_COMMIT_COPY}
_CHECK_PRIMARY = 0x1
_SET_REPLACE_TYPE = 0x1
_RPC_CLEAR_KEEP_KEY = 0x1
_INT_MAX = 2**31 - 1


class LogState(IntEnum):
    """enum hiveport_log_state: what became of a dirty hive's transaction logs at open."""

    CLEAN = 0
    REPLAYED = 1
    UNUSABLE = 2
    IGNORED = 3


class SelectField(IntEnum):
    """enum hiveport_select_field: the values of the Select key."""

    CURRENT = 0
    DEFAULT = 1
    FAILED = 2
    LASTKNOWNGOOD = 3


def parse_controlset(text: str) -> int:
    """hiveport_parse_controlset(): "current", "default", "lastknowngood", "all" or a decimal 1-999
    (case-insensitive) as a target (CURRENT, DEFAULT, LASTKNOWNGOOD, ALL or the number)."""
    target = ctypes.c_int()
    rc = _lib.lib.hiveport_parse_controlset(_lib.cstr(text, "a control set"), ctypes.byref(target))
    if rc != 0:
        raise error_for(rc, f"'{text}': {strerror(rc)} (a control set is current, default, lastknowngood, all "
                            "or 1-999)")
    return target.value


def _target(controlset: ControlSet) -> int:
    if isinstance(controlset, str):
        return parse_controlset(controlset)
    if isinstance(controlset, bool) or not isinstance(controlset, int):
        raise TypeError(f"a control set is a name or a number, not {type(controlset).__name__}")
    if not -_INT_MAX - 1 <= controlset <= _INT_MAX:
        raise InvalidArgument(Status.INVALID_ARG, f"control set {controlset} is out of range")
    return controlset


def _port(port: int) -> int:
    """A port as the C uint32_t it becomes: ctypes would silently wrap what does not fit."""
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"a port is an int, not {type(port).__name__}")
    if not 0 <= port <= 0xFFFFFFFF:
        raise PortRange(Status.RANGE, f"port {port} is not a 32-bit unsigned number")
    return port


def _lock_timeout_ms(seconds: Optional[float]) -> int:
    """None or +inf: wait forever (-1); 0: do not wait; else whole milliseconds, rounded up so a short wait
    never becomes no wait (at most the C int's 2**31-1 ms, 24.8 days).  ValueError for a negative number or
    NaN, TypeError for what is not a number."""
    if seconds is None:
        return -1
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        raise TypeError(f"lock_timeout is a number of seconds or None, not {type(seconds).__name__}")
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"lock_timeout {seconds!r}: a timeout is 0 or more seconds (None: wait forever)")
    if math.isinf(seconds):
        return -1
    if seconds >= _INT_MAX / 1000:
        return _INT_MAX
    return min(int(math.ceil(seconds * 1000)), _INT_MAX)


_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    """Runs a method of Hive holding the hive's lock, so that close() in another thread waits for the call
    in flight instead of freeing the handle under it."""

    @functools.wraps(method)
    def wrapper(self: "Hive", *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _other(other: Any, what: str) -> "Optional[Hive]":
    """A Hive argument (None allowed where the call takes none): TypeError for anything else."""
    if other is not None and not isinstance(other, Hive):
        raise TypeError(f"{what} is a Hive (from hiveport.open()), not {type(other).__name__}")
    return other


@contextlib.contextmanager
def _locking(*hives: "Optional[Hive]") -> Iterator[None]:
    """Holds the locks of several hives, always taken in the same order (by id()) so that a.diff(b) in one
    thread and b.diff(a) in another cannot deadlock."""
    with contextlib.ExitStack() as stack:
        for h in sorted({id(h): h for h in hives if h is not None}.values(), key=id):
            stack.enter_context(h._lock)
        yield


class Hive:
    """A hive open through libhiveport.  Use open() to get one; as a context manager it is closed on exit,
    which discards every change not committed (also when the block raises).  Changes stay in memory until
    commit().  Every call holds the hive's lock (close() waits for the call in flight; a call after it raises
    ValueError), so one Hive may be shared by threads, whose calls then run one at a time."""

    def __init__(self, handle: "_lib.HandleP") -> None:
        self._lock = threading.RLock()
        self._h: Optional[_lib.HandleP] = handle
        # What commit() checks: (setting, port or None for unset, target, replace_type) of every set() and
        # unset() since the last commit() or discard().
        self._plan: List[Tuple[Setting, Optional[int], int, bool]] = []

    # ---- life cycle ----

    def close(self) -> None:
        """hiveport_close(): frees the handle, discarding uncommitted changes and releasing the writer's
        lock.  Closing twice is harmless; a call in flight in another thread is waited for."""
        with self._lock:
            h, self._h = self._h, None
            if h:
                _lib.lib.hiveport_close(h)

    @property
    def closed(self) -> bool:
        return self._h is None

    def __enter__(self) -> "Hive":
        return self

    def __exit__(
        self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # at interpreter exit the module may already be torn down
            pass

    @_locked
    def __repr__(self) -> str:
        return f"<hiveport.Hive {self.path!r}>" if self._h else "<hiveport.Hive closed>"

    def _handle(self) -> "_lib.HandleP":
        if not self._h:
            raise ValueError("operation on a closed hive")
        return self._h

    @_locked
    def _check(self, rc: int) -> None:
        """Raises the exception of a failed call, with the handle's message (which names the file)."""
        if rc != 0:
            raise error_for(rc, _lib.text(_lib.lib.hiveport_errmsg(self._handle())))

    # ---- hive state ----

    @property
    @_locked
    def path(self) -> str:
        """hiveport_path(): the path the hive was opened with."""
        return _lib.text(_lib.lib.hiveport_path(self._handle())) or ""

    @property
    @_locked
    def sequence(self) -> Tuple[int, int]:
        """hiveport_sequence(): the header's primary and secondary sequence numbers."""
        primary, secondary = ctypes.c_uint32(), ctypes.c_uint32()
        self._check(_lib.lib.hiveport_sequence(self._handle(), ctypes.byref(primary), ctypes.byref(secondary)))
        return primary.value, secondary.value

    @property
    @_locked
    def is_dirty(self) -> bool:
        """hiveport_is_dirty(): whether the file on disk is dirty (its logs hold changes it lacks)."""
        return _lib.lib.hiveport_is_dirty(self._handle()) == 1

    @property
    @_locked
    def log_state(self) -> LogState:
        """hiveport_log_state(): what was done with a dirty hive's logs when it was opened."""
        return LogState(_lib.lib.hiveport_log_state(self._handle(), None))

    @property
    @_locked
    def log_entries(self) -> int:
        """hiveport_log_state()'s count: log entries (new format) or dirty pages (old format) replayed."""
        entries = ctypes.c_uint()
        _lib.lib.hiveport_log_state(self._handle(), ctypes.byref(entries))
        return entries.value

    @property
    @_locked
    def log_report(self) -> str:
        """hiveport_log_report(): one English line on what was done with the logs, "" for a clean hive."""
        return _lib.text(_lib.lib.hiveport_log_report(self._handle())) or ""

    @property
    @_locked
    def has_changes(self) -> bool:
        """hiveport_has_changes(): whether there are changes not yet committed."""
        return _lib.lib.hiveport_has_changes(self._handle()) == 1

    @_locked
    def save_copy(self, dest: PathLike) -> None:
        """hiveport_save_copy(): writes the hive as loaded (after log replay, so clean) to the new file dest,
        atomically.  Refuses an existing dest and uncommitted changes (InvalidArgument) and a dirty hive whose
        logs were not replayed (Dirty); the original file is never touched."""
        self._check(_lib.lib.hiveport_save_copy(self._handle(), _lib.cpath(dest)))

    # ---- control sets ----

    @_locked
    def select(self, field: Union[str, SelectField] = SelectField.CURRENT) -> int:
        """hiveport_select_value(): one REG_DWORD of the Select key, "current", "default", "failed" or
        "lastknowngood" (Failed 0 means none).  NoSelect, BadSelect."""
        if isinstance(field, str):
            try:
                field = SelectField[field.upper()]
            except KeyError:
                raise InvalidArgument(
                    Status.INVALID_ARG, f"'{field}': a Select value is current, default, failed or lastknowngood"
                ) from None
        number = ctypes.c_uint32()
        self._check(_lib.lib.hiveport_select_value(self._handle(), int(field), ctypes.byref(number)))
        return number.value

    @property
    @_locked
    def controlsets(self) -> List[int]:
        """hiveport_controlsets(): the numbers of every ControlSetNNN key, ascending."""
        h = self._handle()
        count = ctypes.c_size_t()
        self._check(_lib.lib.hiveport_controlsets(h, None, 0, ctypes.byref(count)))
        numbers = (ctypes.c_uint32 * count.value)()
        self._check(_lib.lib.hiveport_controlsets(h, numbers, count.value, ctypes.byref(count)))
        return list(numbers[: count.value])

    @_locked
    def resolve(self, controlset: ControlSet = "current") -> int:
        """hiveport_resolve_controlset(): the number of the existing control set a target names.  NoSelect,
        BadSelect, NoControlSet; InvalidArgument for "all" or a number outside 1-999."""
        number = ctypes.c_uint32()
        self._check(_lib.lib.hiveport_resolve_controlset(self._handle(), _target(controlset), ctypes.byref(number)))
        return number.value

    # ---- ports ----

    @_locked
    def get(self, setting: SettingLike, controlset: ControlSet = "current") -> int:
        """hiveport_get_port(): the port a setting pins in a control set, as Windows reads it (which may be
        outside 1-65535).  NotSet when absent, WrongType, BadData."""
        s = _setting(setting)._to_c()
        port = ctypes.c_uint32()
        self._check(_lib.lib.hiveport_get_port(self._handle(), ctypes.byref(s), _target(controlset),
                                               ctypes.byref(port)))
        return port.value

    @_locked
    def set(self, setting: SettingLike, port: int, controlset: ControlSet = "current",
            replace_type: bool = False) -> None:
        """hiveport_set_port(): pins a setting to port in a control set ("all": every one), creating missing
        keys; in memory until commit(), which checks it with preflight() first.  PortRange, WrongType (unless
        replace_type), Dirty, ReadOnly, ...; on failure nothing is changed."""
        spec = _setting(setting)
        s, target = spec._to_c(), _target(controlset)
        flags = _SET_REPLACE_TYPE if replace_type else 0
        self._check(_lib.lib.hiveport_set_port(self._handle(), ctypes.byref(s), target, _port(port), flags))
        self._plan.append((spec, port, target, bool(replace_type)))

    @_locked
    def unset(self, setting: SettingLike, controlset: ControlSet = "current") -> None:
        """hiveport_unset_port(): removes a setting's value (keys are kept); an absent value is no error."""
        spec = _setting(setting)
        s, target = spec._to_c(), _target(controlset)
        self._check(_lib.lib.hiveport_unset_port(self._handle(), ctypes.byref(s), target))
        self._plan.append((spec, None, target, False))

    # ---- committing ----

    def commit(self, backup: Optional[PathLike] = None, force: bool = False,
               software: Optional["Hive"] = None) -> None:
        """hiveport_commit(): writes the changes: through the hive's transaction logs and in place when they
        exist beside it (a crash leaves the old hive, or a dirty one whose complete log entry replays into
        the new one), else atomically (temporary file, fsync, rename), keeping the previous file at backup
        when given (always a copy).  open(commit=...) chooses.  With no effective change nothing is written.
        On failure the file is unchanged, or dirty with the complete log entry (the message says so).

        First, unless force, the set() and unset() calls made since the last commit() or discard() are
        checked by preflight() (cross-checked against the RPC range of the open SOFTWARE hive software when
        given), as the hiveport command's set and apply do: when the audit would report an error in the
        written hive, Refused is raised, carrying the findings, and nothing is written (the changes stay, for
        discard() or commit(force=True)).  Unsupported when the loaded libhiveport has no
        hiveport_preflight() (force=True writes without the check)."""
        software = _other(software, "commit()'s software")
        c_backup = None if backup is None else _lib.cpath(backup)
        with _locking(self, software):
            h = self._handle()
            if self._plan and not force:
                findings = self._preflight_plan(software)
                errors = [f for f in findings if f.severity == Severity.ERROR]
                if errors:
                    raise Refused(self.path, findings)
            self._check(_lib.lib.hiveport_commit(h, c_backup))
            self._plan.clear()

    def _preflight_plan(self, software: "Optional[Hive]") -> List[Finding]:
        """preflight() of the plan, per control set it touches ("all" is each of them), each control set's
        changes in the order they were made (replace_type for all of them when any had it: the calls that
        had not succeeded, so the flag changes nothing for them); the findings of every control set, once."""
        if _lib.preflight_fn is None:
            raise Unsupported(None, f"{self.path}: commit() checks the changes with hiveport_preflight(), which the "
                                    "loaded libhiveport lacks (it is older); commit(force=True) writes without the "
                                    "check")
        every: Optional[List[int]] = None
        per_set: "dict[int, List[Tuple[Setting, Optional[int], bool]]]" = {}
        for spec, port, target, replace_type in self._plan:
            if target == ALL:
                every = self.controlsets if every is None else every
                numbers = every
            else:
                numbers = [self.resolve(target)]
            for n in numbers:
                per_set.setdefault(n, []).append((spec, port, replace_type))
        findings: List[Finding] = []
        for n in sorted(per_set):
            items = per_set[n]
            for f in self.preflight([(spec, port) for spec, port, _ in items], controlset=n,
                                    replace_type=any(r for _, _, r in items), software=software):
                if f not in findings:
                    findings.append(f)
        return findings

    @_locked
    def commit_method(self) -> Tuple[str, str]:
        """hiveport_commit_method() (libhiveport 0.3): how the last commit that wrote was done, "log", "copy"
        or "none", and one English line on it (the log written, or why a copy was made)."""
        fn = _lib.commit_method_fn
        if fn is None:
            raise Unsupported(None, "hiveport_commit_method: the loaded libhiveport has no such call (it is older)")
        report = ctypes.c_char_p()
        method = fn(self._handle(), ctypes.byref(report))
        return {1: "copy", 2: "log"}.get(method, "none"), _lib.text(report.value) or ""

    @_locked
    def discard(self) -> None:
        """hiveport_discard(): drops every uncommitted change, rereading the file (the lock stays held)."""
        self._check(_lib.lib.hiveport_discard(self._handle()))
        self._plan.clear()

    # ---- comparing, auditing ----

    def diff(self, other: "Hive") -> Iterator[Change]:
        """hiveport_diff(): the differences that lead from this hive to other (keys added or removed, key
        times, values added, removed or changed), in name order.  The walk is done by this call; failures
        raise with other's message."""
        other = _other(other, "diff()'s other")
        if other is None:
            raise TypeError("diff()'s other is a Hive (from hiveport.open()), not NoneType")
        changes: List[Change] = []

        def collect(change: "ctypes._Pointer[_lib.CChange]", ctx: Optional[int]) -> int:
            changes.append(Change._from_c(change.contents))
            return 0

        callback = _lib.ChangeFn(collect)
        with _locking(self, other):
            other._check(_lib.lib.hiveport_diff(self._handle(), other._handle(), callback, None))
        return iter(changes)

    def audit(self, software: Optional["Hive"] = None) -> List[Finding]:
        """hiveport_audit(): what keeps this SYSTEM hive's static ports from working as meant, cross-checked
        against the RPC port range of the open SOFTWARE hive software when given.  Nothing is changed;
        problems of the hive itself are findings, not exceptions."""
        software = _other(software, "audit()'s software")
        out = _lib.FindingsListP()
        with _locking(self, software):
            sw = software._handle() if software is not None else None
            self._check(_lib.lib.hiveport_audit(self._handle(), sw, ctypes.byref(out)))
        return _take_findings(out)

    @_locked
    def check(self, primary: bool = False) -> List[Finding]:
        """hiveport_check(): every structural rule of the regf format Windows applies when it loads a hive,
        checked on the hive as this handle loaded it (a dirty hive's logs replayed, which an info finding
        "logs-replayed" says), or with primary=True (HIVEPORT_CHECK_PRIMARY) on the file as it is on disk.
        Uncommitted changes are not part of it.  Damage is findings, each with its code, key and file offset
        (Finding.offset), not an exception; open(damaged=True) opens a hive too damaged for other reads so
        that this can say where.  Unsupported when the loaded libhiveport predates it (has_check() tells)."""
        fn = _lib.check_fn
        if fn is None:
            raise Unsupported(None, "hiveport_check: the loaded libhiveport has no such call (it is older)")
        out = _lib.FindingsListP()
        self._check(fn(self._handle(), _CHECK_PRIMARY if primary else 0, ctypes.byref(out)))
        return _take_findings(out)

    def preflight(self, changes: "Iterable[Tuple[SettingLike, Optional[int]]] | Mapping[SettingLike, Optional[int]]",
                  controlset: ControlSet = "current", replace_type: bool = False,
                  software: Optional["Hive"] = None) -> List[Finding]:
        """hiveport_preflight(): what audit() would say once the planned changes are committed, changing
        nothing.  changes are (setting, port) pairs (or a mapping of them), port None to unset the setting;
        they are made, as set() and unset() with controlset and replace_type would, on a private copy of the
        hive as its file holds it (this handle's uncommitted changes are not part of it; it may be
        read-only), audited before and after, cross-checked against the RPC range of the open SOFTWARE hive
        software when given.  Returns only the findings the changes bring (an ERROR one is what the audit
        would call an error once written), then "service-key-created" warnings for settings outside the
        catalog whose service key the change would create.  Raises what set() would for the plan (PortRange,
        WrongType, NoSelect, ...).  Unsupported when the loaded libhiveport predates it (has_preflight())."""
        software = _other(software, "preflight()'s software")
        fn = _lib.preflight_fn
        if fn is None:
            raise Unsupported(None, "hiveport_preflight: the loaded libhiveport has no such call (it is older)")
        pairs = list(changes.items() if isinstance(changes, Mapping) else changes)
        settings = [_setting(s)._to_c() for s, _ in pairs]  # kept alive until the call returns
        plan = (_lib.CPlanItem * max(len(pairs), 1))()
        for item, c_setting, (_, port) in zip(plan, settings, pairs):
            item.setting = ctypes.pointer(c_setting)
            item.port = 0 if port is None else _port(port)
            item.unset = 1 if port is None else 0
        target = _target(controlset)
        out = _lib.FindingsListP()
        with _locking(self, software):
            sw = software._handle() if software is not None else None
            self._check(fn(self._handle(), plan, len(pairs), target, _SET_REPLACE_TYPE if replace_type else 0, sw,
                           ctypes.byref(out)))
        return _take_findings(out)

    # ---- SOFTWARE hive: RPC port range, DCOM ----

    @_locked
    def rpc_range(self) -> RpcRange:
        """hiveport_rpc_get(): Microsoft\\Rpc\\Internet as the RPC runtime reads it.  NotSet when the key is
        absent (no restriction); WrongType or BadData for a configuration Windows rejects."""
        ports = ctypes.c_void_p()
        available, use_internet = ctypes.create_string_buffer(1), ctypes.create_string_buffer(1)
        count = ctypes.c_uint32()
        rc = _lib.lib.hiveport_rpc_get(self._handle(), ctypes.byref(ports), available, use_internet,
                                       ctypes.byref(count))
        text = _take_string(ports)
        self._check(rc)
        return RpcRange(text or "", available.raw.decode(), use_internet.raw.decode(), count.value)

    @_locked
    def set_rpc_range(self, ports: Optional[str] = None, available: Optional[str] = None,
                      use_internet: Optional[str] = None) -> int:
        """hiveport_rpc_set(): sets the RPC port range (None keeps what is there: 'Y' for a flag that is
        absent); returns the number of ports listed.  In memory until commit()."""
        count = ctypes.c_uint32()
        self._check(_lib.lib.hiveport_rpc_set(
            self._handle(), None if ports is None else _lib.cstr(ports, "ports"), _flag(available, "available"),
            _flag(use_internet, "use_internet"), ctypes.byref(count)))
        return count.value

    @_locked
    def clear_rpc_range(self, keep_key: bool = False) -> None:
        """hiveport_rpc_clear(): removes the Internet key, or with keep_key only its three values."""
        self._check(_lib.lib.hiveport_rpc_clear(self._handle(), _RPC_CLEAR_KEEP_KEY if keep_key else 0))

    @_locked
    def dcom_port(self, appid: str) -> int:
        """hiveport_dcom_get_port(): the TCP port of DCOM application appid ("{GUID}").  NotSet, WrongType,
        BadData."""
        port = ctypes.c_uint32()
        self._check(_lib.lib.hiveport_dcom_get_port(self._handle(), _lib.cstr(appid, "appid"), ctypes.byref(port)))
        return port.value

    @_locked
    def set_dcom_port(self, appid: str, port: int) -> None:
        """hiveport_dcom_set_port(): pins DCOM application appid to TCP port.  In memory until commit()."""
        self._check(_lib.lib.hiveport_dcom_set_port(self._handle(), _lib.cstr(appid, "appid"), _port(port)))


def open(path: PathLike, write: bool = False, logs: Optional[Iterable[PathLike]] = None, no_logs: bool = False,
         discard_logs: bool = False, lock_timeout: Optional[float] = 30.0, break_links: bool = False,
         damaged: bool = False, commit: str = "auto") -> Hive:
    """hiveport_open_ext(): opens the hive at path, read-only (the file is never opened for writing) or with
    write=True (takes the writer's lock, waiting lock_timeout seconds, None or float("inf"): forever; a
    negative number or NaN is ValueError).  logs names a dirty
    hive's transaction logs instead of those found beside it; no_logs turns replay off; discard_logs allows
    writing a dirty hive whose logs were not replayed.  break_links (HIVEPORT_OPEN_BREAK_LINKS) allows
    writing a file with several hard links (NotRegular otherwise): the commit's rename leaves the other
    names with the old hive.  damaged (HIVEPORT_OPEN_DAMAGED, read-only) opens a hive whose hive bins or
    root key are damaged so that check() can say where; other reads may fail.  commit ("auto", "log" or
    "copy"; HIVEPORT_OPEN_COMMIT_LOG/_COPY, libhiveport 0.3) chooses how commit() writes.  Raises the
    status's exception, whose message names the file and the reason."""
    if commit not in _COMMIT_FLAGS:
        raise ValueError(f"commit is 'auto', 'log' or 'copy', not {commit!r}")
    opts = _lib.COptions()
    _lib.lib.hiveport_options_init(ctypes.byref(opts))
    opts.size = ctypes.sizeof(_lib.COptions)
    opts.flags = ((_OPEN_WRITE if write else 0) | (_OPEN_NO_LOGS if no_logs else 0)
                  | (_OPEN_DISCARD_LOGS if discard_logs else 0) | (_OPEN_BREAK_LINKS if break_links else 0)
                  | (_OPEN_DAMAGED if damaged else 0) | _COMMIT_FLAGS[commit])
    opts.lock_timeout_ms = _lock_timeout_ms(lock_timeout)
    if isinstance(logs, (str, bytes, os.PathLike)):
        raise TypeError("logs is a list of paths, not one path")
    log_paths = [_lib.cpath(p) for p in logs] if logs is not None else []
    array = (ctypes.c_char_p * max(len(log_paths), 1))(*log_paths)
    if log_paths:
        opts.log_paths = array
        opts.log_path_count = len(log_paths)
    h = _lib.HandleP()
    rc = _lib.lib.hiveport_open_ext(_lib.cpath(path), ctypes.byref(opts), ctypes.byref(h))
    if rc != 0:
        message = _lib.text(_lib.lib.hiveport_errmsg(h)) if h else None
        _lib.lib.hiveport_close(h)
        raise error_for(rc, message)
    return Hive(h)


__all__ = ["Hive", "open", "parse_controlset", "LogState", "SelectField", "CURRENT", "DEFAULT", "LASTKNOWNGOOD", "ALL"]
