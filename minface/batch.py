"""Many files: walk, a pool of worker processes, resume, atomic writes, JSON-lines report.

:func:`run_batch` applies a per-file job (:func:`minface.scrub`, :func:`minface.strip`)
to files and folders and never loses or half-writes a file:

* folders are walked by :mod:`minface.walk`: only images (and videos, for a job
  whose ``videos`` attribute is true) reach the job; every
  other entry (text, ``.DS_Store``, FIFOs, links to folders, what
  ``--include``/``--exclude`` leave out) gets a ``skipped`` record, and what
  cannot be read (a folder without permission, a path too long) an ``error``;
* outputs mirror the input tree under ``output_dir``; each is written to a
  temporary name and renamed into place only when complete, so a file under its
  final name is always whole; nothing is written through a link in the output
  tree;
* a rerun after a crash, ``kill -9``, Ctrl-C or ``SIGTERM`` skips outputs that
  exist (they are complete) and redoes the rest; the temporaries minface left
  are removed first (only those, and only once the process that wrote them is
  gone: a second run into the same folder never touches the first one's; see
  :mod:`minface._temp`), and again when the run ends, so none of its own stay;
* in-place runs replace each original only by an atomic rename of the finished
  new file, never replace a symbolic link, and keep a journal
  (``.minface-journal.jsonl`` in the inputs' common folder, as given) so a rerun
  of an interrupted or partly failed run skips originals already done; a run
  that finishes with nothing left to do removes it;
* one bad file (corrupt, truncated, empty, not an image, a bomb) is reported with
  its reason and the batch goes on; nothing is written for it;
* ``jobs`` worker processes, each running single-threaded inference, so the
  cores are not oversubscribed; they exit when the parent dies (even by
  ``kill -9``), and ``SIGTERM`` stops the batch like Ctrl-C.

The report has one JSON object per input (``status`` ``ok``, ``error`` or
``skipped``), written as results arrive, in input order within each result
batch. The exit code is 0 when no input failed (skips are not failures).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from .engine.executors import InlineExecutor, ProcessExecutor
from .engine.records import EXIT_SIGTERM, BatchSummary, ReportWriter, error_record
from .engine.records import Progress as _Progress
from .engine.store import LocalStore
from .detect.runtimes import default_threads
from .walk import JOURNAL_NAME, Filter, Task, error_entry, plan, skip_record

__all__ = ["run_batch", "BatchSummary", "Task", "Filter", "JOURNAL_NAME", "error_record", "EXIT_SIGTERM"]

class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM (handled as Ctrl-C is)."""


def _remove_stale_temporaries(tasks: Iterable[Task]) -> int:
    """Delete the temporaries next to the tasks' outputs whose owner is gone (:func:`minface._temp.is_stale`)."""
    return LocalStore().remove_stale_next_to(t.output for t in tasks)


class _Journal:
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
        try:
            st = p.stat()
        except OSError:
            return False
        return self.done.get(os.path.abspath(p)) == (st.st_size, st.st_mtime_ns)

    def record(self, p: Path) -> None:
        st = p.stat()
        assert self._fh is not None
        self._fh.write(json.dumps({"input": os.path.abspath(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.done[os.path.abspath(p)] = (st.st_size, st.st_mtime_ns)

    def close(self, finished: Sequence[Task] | None = None) -> None:
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


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (``kill``, ``timeout``, systemd) raises :class:`Terminated` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:  # noqa: ARG001
        raise Terminated()

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):  # not allowed here (embedded interpreters)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def run_batch(
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike | None,
    job_factory: Callable[[], Callable[[Task], dict]],
    *,
    in_place: bool = False,
    read_only: bool = False,
    overwrite: bool = False,
    jobs: int | None = None,
    report: str | os.PathLike | IO[str] | None = None,
    progress: bool = True,
    dry_run: bool = False,
    desc: str = "minface",
    on_record: Callable[[dict], None] | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    output_is_file: bool = False,
    suffix: str | None = None,
    on_message: Callable[[Callable[[str], None]], None] | None = None,
) -> BatchSummary:
    """Run ``job_factory()`` (a picklable callable returning a per-task function) over every input image.

    The per-task function receives a :class:`~minface.walk.Task` and returns a
    report record (``input``, ``output``, ``status``, ...). It is created once per
    worker process, so it can hold a loaded model. ``read_only`` jobs (audits)
    write nothing: their tasks have no output and nothing is skipped for an
    existing output. Any status other than ``ok`` and ``skipped`` counts as
    failed. ``include``/``exclude``: glob patterns (:class:`~minface.walk.Filter`);
    ``output_is_file``: ``output_dir`` is the output file of the one input file;
    ``suffix``: image outputs get this extension (another output format). A job
    whose ``videos`` attribute is true receives video tasks too (``Task.kind``).
    ``on_message``
    receives a function that prints a line on stderr without breaking the
    progress bar (for ``on_record`` to use).

    Raises
    ------
    ValueError
        The output folder is an input folder, or both/neither of an output and ``in_place``.
    """
    start = time.perf_counter()
    summary = BatchSummary()
    work = plan(
        inputs,
        None if read_only else output_dir,
        in_place=in_place,
        read_only=read_only,
        output_is_file=output_is_file,
        suffix=suffix,
        select=Filter(include, exclude),
        videos=bool(getattr(job_factory, "videos", False)),
    )
    tasks = work.tasks
    writer = ReportWriter(report)

    def emit(rec: dict) -> None:
        rec = work.shown(rec)  # files named as the command line named them (relative stays relative)
        summary.count(rec)
        writer.write(rec)
        if on_record is not None:
            on_record(rec)

    journal = None
    finished: list[Task] | None = None
    todo: list[Task] = []
    bar: _Progress | None = None
    try:
        for rec in work.records:  # what is not an image, or cannot be read: reported before any work
            emit(rec)
        if in_place and tasks:
            folder = work.base or Path.cwd()  # the inputs' common folder as given: never resolved through links
            try:
                journal = _Journal(folder / JOURNAL_NAME)
            except OSError as exc:
                reason = f"cannot write the in-place journal in {folder} ({exc.strerror or exc}); nothing was replaced"
                for t in tasks:
                    emit(error_entry(t.input, reason))
                tasks = []
        for t in tasks:
            if read_only:
                pass
            elif in_place:
                if journal is not None and journal.is_done(t.input) and not overwrite:
                    emit(skip_record(t.input, "already done (journal)", t.output))
                    continue
            elif os.path.lexists(t.output) and not overwrite:
                emit(skip_record(t.input, "output exists", t.output))
                continue
            todo.append(t)

        if dry_run:
            for t in todo:
                emit(skip_record(t.input, "dry run", None if read_only else t.output))
            return summary

        if not read_only:
            todo = _make_roots(todo, emit)
            _remove_stale_temporaries(todo)

        n_jobs = max(1, min(jobs or default_threads(), len(todo) or 1))
        # files go to the workers in units: one file each, or up to ``job_factory.chunk`` files for a
        # job that batches them (the GPU scrub), spread so that every worker gets a share
        chunk = max(1, min(int(getattr(job_factory, "chunk", 1) or 1), -(-len(todo) // n_jobs)))
        units = [todo[i : i + chunk] for i in range(0, len(todo), chunk)]
        bar = _Progress(len(todo), progress, desc)
        if on_message is not None:
            on_message(bar.write)

        def finish(rec: dict, task: Task) -> None:
            if journal is not None and rec.get("status") == "ok":
                journal.record(task.input)
            emit(rec)
            bar.update(rec.get("status", "error"))  # type: ignore[union-attr]

        with _sigterm_as_interrupt():
            try:
                executor = InlineExecutor(job_factory) if n_jobs == 1 else ProcessExecutor(n_jobs, job_factory)
                executor.run(units, finish)
            except KeyboardInterrupt as exc:
                summary.interrupted = True
                summary.signal = int(signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)
            finally:
                if not read_only:  # the workers are gone: what a killed one left is removed now
                    _remove_stale_temporaries(todo)
        if not summary.interrupted and not summary.failed:
            finished = tasks  # every original of this run is replaced (or was already): no rerun needs the journal
    finally:
        if bar is not None:
            bar.close()
        if journal is not None:
            journal.close(finished)
        summary.seconds = time.perf_counter() - start
        writer.close()
    return summary


def _make_roots(todo: list[Task], emit: Callable[[dict], None]) -> list[Task]:
    """Create the output folder (the folders below it are made as files are written, never through links)."""
    failed: dict[Path, str] = {}
    for root in {t.root for t in todo if t.root is not None}:
        try:
            os.makedirs(root, exist_ok=True)
        except OSError as exc:
            failed[root] = f"cannot create the output folder {root} ({exc.strerror or exc})"
    if not failed:
        return todo
    for t in todo:
        if t.root in failed:
            emit(error_entry(t.input, failed[t.root]))
    return [t for t in todo if t.root not in failed]


