"""Temporary files of minface: their one naming rule, who owns them, and when they may be removed.

Every output (an image, a video, an object on a store) is first written under
a temporary name next to its final one and renamed into place when complete.
The name says which process writes it (its *owner*)::

    .<target>.<host>-<pid>-<start>-<random>.minface-tmp

``host`` tells the machine (and container) apart, ``pid`` and ``start`` (the
process's start time, so a re-used process id is not mistaken for it) the
process. A temporary is removed by its writer when the write fails, and by
anybody else (a second run into the same folder, the end of a batch, the Dask
driver) only once its owner is gone: a run never deletes the temporary of a
run still at work. A temporary whose owner cannot be checked from here
(written on another machine, or by an older minface whose names carry no owner)
is removed once it has not been modified for :data:`UNKNOWN_OWNER_SECONDS`.

Light: the planning process uses it to skip minface's own temporaries while
walking, never a user's file.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import socket
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "TEMP_SUFFIX",
    "Owner",
    "temporary_name",
    "temporary_target",
    "temporary_owner",
    "owner_gone",
    "is_stale",
    "remove_stale",
    "temporary_folder",
    "sweep_spools",
    "SPOOL",
]

#: Suffix of the temporary files outputs are written to before they are renamed into place.
TEMP_SUFFIX = ".minface-tmp"

#: A temporary whose owner cannot be checked is stale once unmodified for this long (seconds).
UNKNOWN_OWNER_SECONDS = 3600.0

_TOKEN = r"(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]{1,10})-(?P<start>[0-9]{1,20})-[0-9a-f]{8}"
# older names without an owner: ``<8 chars>`` (atomic_write) or ``<32 hex>`` (object stores)
_LEGACY = r"[0-9a-f]{32}|[a-z0-9_]{8}"
_TEMP_RE = re.compile(r"^\.(?P<target>.+)\.(?:" + _TOKEN + "|" + _LEGACY + ")" + re.escape(TEMP_SUFFIX) + "$", re.S)

_NAME_MAX = 255  # bytes of a file name on the usual file systems


@dataclass(frozen=True)
class Owner:
    """The process a temporary belongs to: machine key, process id, start time (clock ticks; 0 when unknown)."""

    host: str
    pid: int
    start: int

    def token(self) -> str:
        """The owner part of a temporary name, with a random part that makes it unique.

        >>> Owner("0123abcd", 42, 7).token()[:14]
        '0123abcd-42-7-'
        """
        return f"{self.host}-{self.pid}-{self.start}-{secrets.token_hex(4)}"


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> int | None:
    """A process's start time in clock ticks since boot (Linux), 0 where it cannot be read, None when it is gone."""
    stat = _read(f"/proc/{pid}/stat")
    if stat:
        fields = stat.rpartition(")")[2].split()
        if fields and fields[0] in ("Z", "X"):  # exited, not yet reaped by its parent
            return None
        try:
            return int(fields[19])
        except (IndexError, ValueError):
            return 0
    if os.path.isdir("/proc/self"):  # /proc works here, so the process is gone
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except OSError:
        pass  # exists, owned by another user
    return 0


def _host_key() -> str:
    """A key for this machine and process-id namespace: the host name, the boot, the pid namespace."""
    try:
        ns = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        ns = ""
    seed = "\0".join((socket.gethostname(), _read("/proc/sys/kernel/random/boot_id"), ns))
    return hashlib.sha256(seed.encode("utf-8", "surrogateescape")).hexdigest()[:8]


_ME: Owner | None = None


def this_process() -> Owner:
    """The :class:`Owner` of the temporaries this process writes (worked out again after a fork)."""
    global _ME
    if _ME is None or _ME.pid != os.getpid():
        pid = os.getpid()
        _ME = Owner(_host_key(), pid, _start_time(pid) or 0)
    return _ME


def temporary_name(target: str, owner: Owner | None = None) -> str:
    """A fresh temporary name for ``target`` (a file name, not a path), owned by this process.

    The target is cut so that the whole name fits in 255 bytes.

    >>> name = temporary_name("a.jpg")
    >>> temporary_target(name), temporary_owner(name) == this_process()
    ('a.jpg', True)
    """
    token = (owner or this_process()).token()
    room = _NAME_MAX - len(f"..{token}{TEMP_SUFFIX}")
    return f".{_cut(target, room)}.{token}{TEMP_SUFFIX}"


def _cut(name: str, size: int) -> str:
    raw = os.fsencode(name)
    return name if len(raw) <= size else os.fsdecode(raw[:size])


def temporary_target(name: str) -> str | None:
    """The target of a temporary file name made by minface (cut to fit the name), or None.

    >>> temporary_target(".a.jpg.0123abcd-42-7-k3j4h5g6.minface-tmp"), temporary_target(".a.jpg.notes.tmp")
    (None, None)
    >>> temporary_target(".a.jpg.0123abcd-42-7-0badcafe.minface-tmp")
    'a.jpg'
    """
    m = _TEMP_RE.match(name)
    return m["target"] if m else None


def temporary_owner(name: str) -> Owner | None:
    """The owner a temporary's name records (None: not a temporary, or an older name without one)."""
    m = _TEMP_RE.match(name)
    if not m or m["host"] is None:
        return None
    return Owner(m["host"], int(m["pid"]), int(m["start"]))


def is_temporary_of(name: str, target: str) -> bool:
    """Whether ``name`` is a temporary file minface made for the file named ``target``.

    >>> is_temporary_of(temporary_name("x" * 300), "x" * 300)
    True
    """
    found = temporary_target(name)
    if found is None:
        return False
    cut = os.fsencode(found)
    return found == target or (len(cut) >= 150 and os.fsencode(target).startswith(cut))


def owner_gone(owner: Owner | None) -> bool | None:
    """True when ``owner`` has exited, False while it runs, None when that cannot be told from here.

    >>> owner_gone(this_process())
    False
    """
    if owner is None or owner.host != this_process().host:
        return None
    start = _start_time(owner.pid)
    if start is None:
        return True
    return bool(owner.start and start and start != owner.start)  # the id was given to a new process


def gone_here(owners: Iterable[Owner]) -> list[Owner]:
    """Those of ``owners`` that ran on this machine and are gone (asked of every worker by the Dask driver)."""
    return [o for o in owners if owner_gone(o)]


def is_stale(name: str, modified: float | None, *, now: float | None = None, gone: Iterable[Owner] = ()) -> bool:
    """Whether the temporary ``name`` (last modified at ``modified``, epoch seconds) may be removed.

    Yes once its owner is gone (checked here, or listed in ``gone`` by the
    machine it ran on); for an owner that cannot be checked, once it has not
    been modified for :data:`UNKNOWN_OWNER_SECONDS`. Never a temporary of a
    process still at work, nor a file that is not a temporary.

    >>> is_stale(temporary_name("a.jpg"), time.time())
    False
    """
    if temporary_target(name) is None:
        return False
    owner = temporary_owner(name)
    if owner is not None and owner in set(gone):
        return True
    state = owner_gone(owner)
    if state is not None:
        return state
    if modified is None:
        return False
    return (time.time() if now is None else now) - modified >= UNKNOWN_OWNER_SECONDS


def remove_stale(folder: str | os.PathLike, targets: Iterable[str] | None = None) -> int:
    """Delete the stale temporaries (:func:`is_stale`) in ``folder``, only those of ``targets`` when given.

    Returns how many were removed; what cannot be listed or removed is left.
    """
    try:
        entries = os.listdir(folder)
    except OSError:
        return 0
    wanted = None if targets is None else set(targets)
    long = [t for t in wanted or () if len(os.fsencode(t)) >= 150]  # cut in temporary names: matched by prefix
    removed = 0
    for entry in entries:
        found = temporary_target(entry)
        if found is None:
            continue
        if wanted is not None and found not in wanted and not any(is_temporary_of(entry, t) for t in long):
            continue
        path = Path(folder) / entry
        try:
            modified = os.lstat(path).st_mtime
        except OSError:
            continue
        if is_stale(entry, modified):
            try:
                if stat.S_ISDIR(os.lstat(path).st_mode):  # a spool folder (:func:`temporary_folder`)
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
                removed += 1
            except OSError:
                pass
    return removed


#: The target name of the spool folders videos are copied through on a Dask worker (see :func:`temporary_folder`).
SPOOL = "minface-video"


def temporary_folder(parent: str | os.PathLike, target: str = SPOOL) -> Path:
    """A new private folder in ``parent`` named as a temporary of ``target`` (owned by this process).

    A Dask worker copies a video from an object store into such a folder to
    decode it; it removes the folder when done, and a folder left by a worker
    that was killed is removed by :func:`sweep_spools` (on the next video, and at
    the end of the job) once its owner is gone.
    """
    for _ in range(100):
        path = Path(parent) / temporary_name(target)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{parent}: cannot find a free temporary folder name")  # pragma: no cover


def sweep_spools(parent: str | os.PathLike | None = None) -> int:
    """Remove the spool folders (:func:`temporary_folder`) in ``parent`` (default: the system's
    temporary folder) whose owner is gone; returns how many."""
    import tempfile

    return remove_stale(tempfile.gettempdir() if parent is None else parent, [SPOOL])
