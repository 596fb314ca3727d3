"""The in-place journal: which originals a run already replaced, so a rerun skips them.

Kept in the inputs' common folder (:data:`minface.engine.plan.JOURNAL_NAME`), one
JSON line per replaced original, keyed by path, size and modification time; a
torn last line after a crash is ignored. Light: no image library.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["Journal"]


class Journal:
    """Completed in-place inputs, keyed by path, size and modification time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, tuple[int, int]] = {}
        self.existed = os.path.lexists(path)
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                        self.done[rec["input"]] = (int(rec["size"]), int(rec["mtime_ns"]))
                    except (ValueError, KeyError, TypeError):
                        continue  # a torn last line after a crash
        except FileNotFoundError:
            pass
        self._fh: IO[str] | None = open(path, "a", encoding="utf-8")

    def is_done(self, p: Path) -> bool:
        """Whether ``p``, as it is now, was replaced by an earlier run."""
        try:
            st = p.stat()
        except OSError:
            return False
        return self.done.get(os.path.abspath(p)) == (st.st_size, st.st_mtime_ns)

    def record(self, p: Path) -> None:
        """Note that ``p`` was replaced (written through to disk before the next file)."""
        st = p.stat()
        assert self._fh is not None
        self._fh.write(json.dumps({"input": os.path.abspath(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.done[os.path.abspath(p)] = (st.st_size, st.st_mtime_ns)

    def close(self, finished: Sequence[Any] | None = None) -> None:
        """Close the journal; remove it when it holds nothing a rerun needs.

        ``finished``: the run ended with every one of these tasks done (none
        failed, none interrupted). The journal is then removed if it names no
        other input (an earlier, unfinished run over more files keeps it). An
        empty journal this run created (a dry run, nothing replaced) is removed too.
        """
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        done = set(self.done)
        needless = not done and not self.existed
        if finished is not None:
            needless = needless or done <= {os.path.abspath(t.input) for t in finished}
        if needless:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
