"""Report records, the JSON-lines report writer, the totals and the progress line: one copy for every path.

Every input gets exactly one record (``status`` ``ok``, ``error`` or
``skipped``); :class:`BatchSummary` counts them; :class:`ReportWriter` appends
them to a local file, any fsspec URL or an open text file, as they arrive.
Light: no image library.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import IO, Any

__all__ = ["BatchSummary", "ReportWriter", "Progress", "error_record", "skip_record", "error_entry", "EXIT_SIGTERM"]

#: Exit code after SIGTERM (128 + 15, what shells report for a process killed by it).
EXIT_SIGTERM = 143


def skip_record(name: str | os.PathLike, reason: str, output: str | os.PathLike | None = None, **extra: Any) -> dict:
    """A ``skipped`` report record."""
    return {
        "input": os.fspath(name),
        "output": None if output is None else os.fspath(output),
        "status": "skipped",
        "error": None,
        "reason": reason,
        **extra,
    }


def error_entry(name: str | os.PathLike, reason: str) -> dict:
    """An ``error`` report record for something the walk could not use."""
    return {"input": os.fspath(name), "output": None, "status": "error", "error": reason, "seconds": 0.0}


def error_record(name: str, exc: BaseException, seconds: float) -> dict:
    """The report record of an input that failed with ``exc`` (no output was written).

    minface's own errors and ``OSError``s speak for themselves; anything else is
    unexpected, so the reason names the exception too. The record names the
    input once: a reason that starts with it (as minface's messages do, so they
    stand alone when raised) loses that prefix.

    >>> error_record("a.jpg", OSError("a.jpg: truncated"), 0.5)["error"]
    'truncated'
    """
    from ..errors import MinfaceError

    reason = str(exc) or type(exc).__name__
    if not isinstance(exc, (MinfaceError, OSError)):
        reason = f"{type(exc).__name__}: {reason}"
    reason = _without_name(reason, name)
    return {"input": name, "output": None, "status": "error", "error": reason, "seconds": round(seconds, 4)}


def _without_name(reason: str, name: str) -> str:
    for prefix in (f"{name}: ", f"{os.path.basename(name)}: "):
        if name and reason.startswith(prefix) and len(reason) > len(prefix):
            return reason[len(prefix) :]
    return reason


@dataclass
class BatchSummary:
    """Totals of a batch run."""

    ok: int = 0
    failed: int = 0
    skipped: int = 0
    faces: int = 0
    #: face tracks (one face followed through a video's frames), counted apart from the photos' faces
    tracks: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: the signal that interrupted the run (``signal.SIGINT`` or ``signal.SIGTERM``), if any
    signal: int | None = None
    #: stale temporaries removed (left by killed writers or an earlier run)
    temporaries_removed: int = 0

    @property
    def total(self) -> int:
        return self.ok + self.failed + self.skipped

    @property
    def exit_code(self) -> int:
        """0 all ok (or skipped), 1 some files failed, 130 interrupted (Ctrl-C), 143 stopped by SIGTERM."""
        if self.interrupted:
            return EXIT_SIGTERM if self.signal == signal.SIGTERM else 130
        return 1 if self.failed else 0

    def to_text(self, *, faces: bool = True) -> str:
        """One line of totals; ``faces=False`` (a verb that does not look for faces) leaves the faces out."""
        rate = self.ok / self.seconds if self.seconds > 0 else 0.0
        found = ""
        if faces:
            found = f"{self.faces} face(s)" + (f", {self.tracks} face track(s) in videos" if self.tracks else "") + "; "
        text = (
            f"{self.total} file(s): {self.ok} ok, {self.failed} failed, {self.skipped} skipped; "
            f"{found}{self.seconds:.1f} s ({rate:.2f} files/s)"
        )
        if self.interrupted:
            text += " -- interrupted; run again to finish"
        return text

    def count(self, rec: dict) -> None:
        """Add one report record to the totals."""
        status = rec.get("status")
        if status == "ok":
            self.ok += 1
            if "faces_per_frame" in rec:  # a video's entries are tracks, not faces
                self.tracks += len(rec.get("faces") or [])
            else:
                self.faces += len(rec.get("faces") or [])
        elif status == "skipped":
            self.skipped += 1
        else:
            self.failed += 1
            self.errors.append((str(rec.get("input")), str(rec.get("error"))))


class Progress:
    """Progress on stderr: tqdm when installed (a terminal), else a counter; lines now and then off a terminal.

    Off a terminal (a log, ``nohup``, a CI job) a bar would be noise, and nothing
    at all looks like a hang: a line with the count, the rate and the time left
    is printed every ``every`` seconds instead. :meth:`write` prints a message
    (an error line) without breaking the bar.
    """

    def __init__(self, total: int, enabled: bool, desc: str, *, every: float = 30.0) -> None:
        self._bar = None
        self._n = 0
        self._total = total
        self._enabled = enabled
        self._desc = desc
        self._start = time.monotonic()
        self._last = self._start
        self._every = every
        self._tty = enabled and sys.stderr.isatty()
        self._counter_shown = False
        if self._tty:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=desc, unit="file", file=sys.stderr, dynamic_ncols=True)
            except ImportError:
                pass

    def update(self, status: str) -> None:
        self._n += 1
        now = time.monotonic()
        if self._bar is not None:
            self._bar.update(1)
        elif self._tty and (now - self._last > 0.5 or self._n in (1, self._total)):
            self._last = now
            print(f"\r{self._desc}: {self._n}/{self._total}", end="", file=sys.stderr, flush=True)
            self._counter_shown = True
        elif self._enabled and not self._tty and now - self._last >= self._every and self._n < self._total:
            self._last = now
            print(self._line(now), file=sys.stderr, flush=True)

    def _line(self, now: float) -> str:
        elapsed = max(now - self._start, 1e-9)
        rate = self._n / elapsed
        left = (self._total - self._n) / rate if rate > 0 else float("inf")
        pct = 100.0 * self._n / self._total if self._total else 100.0
        eta = "" if left == float("inf") else f", about {_duration(left)} left"
        return f"{self._desc}: {self._n}/{self._total} files ({pct:.0f}%), {rate:.2f} files/s{eta}"

    def write(self, line: str) -> None:
        """Print ``line`` on stderr above the bar (or the counter)."""
        if self._bar is not None:
            self._bar.write(line, file=sys.stderr)
        elif self._counter_shown:
            print(f"\r\033[K{line}", file=sys.stderr)
            print(f"{self._desc}: {self._n}/{self._total}", end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._counter_shown:
            print(file=sys.stderr)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class ReportWriter:
    """Appends JSON lines to a report: a local path, any fsspec URL (``storage_options`` given), or an open text file.

    A local report that cannot be opened is an :class:`~minface.errors.ImageWriteError`
    raised before any work ("nothing was done").
    """

    def __init__(
        self, report: str | os.PathLike | IO[str] | None, storage_options: dict[str, Any] | None = None
    ) -> None:
        self._text: IO[str] | None = None
        self._binary: IO[bytes] | None = None
        self._own_text = False
        self.url: str | None = None
        if report is None:
            return
        if hasattr(report, "write"):
            self._text = report  # type: ignore[assignment]
            self.url = getattr(report, "name", None)
            return
        if storage_options is None:  # a local path, without fsspec
            try:
                self._text = open(report, "a", encoding="utf-8")  # type: ignore[arg-type]
            except OSError as exc:  # a name too long, a folder that is not there: nothing was done
                from ..errors import ImageWriteError

                raise ImageWriteError(f"{report}: cannot write the report ({exc.strerror or exc}); nothing was done") from exc
            self._own_text = True
            self.url = os.fspath(report)
            return
        import fsspec

        fs, path = fsspec.core.url_to_fs(os.fspath(report), **storage_options)  # type: ignore[arg-type]
        self.url = fs.unstrip_protocol(path)
        try:
            self._binary = fs.open(path, "ab")
        except (NotImplementedError, ValueError):  # a store without append: rewrite what was there
            old = fs.cat_file(path) if fs.exists(path) else b""
            self._binary = fs.open(path, "wb")
            self._binary.write(old)  # type: ignore[union-attr]

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record) + "\n"
        if self._text is not None:
            self._text.write(line)
            self._text.flush()
        elif self._binary is not None:
            self._binary.write(line.encode("utf-8"))
            self._binary.flush()

    def close(self) -> None:
        """Close what this writer opened (an open file given to it stays open)."""
        if self._binary is not None:
            self._binary.close()
            self._binary = None
        if self._own_text and self._text is not None:
            self._text.close()
            self._text = None
