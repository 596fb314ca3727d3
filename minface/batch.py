"""Many files: walk, a pool of worker processes, resume, atomic writes, JSON-lines report.

:func:`run_batch` applies a per-file job (:func:`minface.scrub`, :func:`minface.strip`)
to files and folders and never loses or half-writes a file:

* outputs mirror the input tree under ``output_dir``; each is written to a
  temporary name and renamed into place only when complete, so a file under its
  final name is always whole;
* a rerun after a crash, ``kill -9`` or Ctrl-C skips outputs that exist (they are
  complete) and redoes the rest; stale temporary files are removed first;
* in-place runs replace each original only by an atomic rename of the finished
  new file, and keep a journal (``.minface-journal.jsonl`` in the folder) so a
  rerun skips originals already done;
* one bad file (corrupt, truncated, empty, not an image, a bomb) is reported with
  its reason and the batch goes on; nothing is written for it;
* ``jobs`` worker processes, each running single-threaded inference, so the
  cores are not oversubscribed.

The report has one JSON object per input (``status`` ``ok``, ``error`` or
``skipped``), written as results arrive, in input order within each result
batch.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .detect.runtimes import default_threads

__all__ = ["run_batch", "BatchSummary", "Task", "plan_tasks", "JOURNAL_NAME"]

JOURNAL_NAME = ".minface-journal.jsonl"


@dataclass(frozen=True)
class Task:
    """One input file and where its output goes."""

    input: Path
    output: Path


@dataclass
class BatchSummary:
    """Totals of a batch run."""

    ok: int = 0
    failed: int = 0
    skipped: int = 0
    faces: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.ok + self.failed + self.skipped

    @property
    def exit_code(self) -> int:
        """0 all ok (or skipped), 1 some files failed, 130 interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.failed else 0

    def to_text(self) -> str:
        rate = self.ok / self.seconds if self.seconds > 0 else 0.0
        text = (
            f"{self.total} file(s): {self.ok} ok, {self.failed} failed, {self.skipped} skipped; "
            f"{self.faces} face(s); {self.seconds:.1f} s ({rate:.2f} files/s)"
        )
        if self.interrupted:
            text += " -- interrupted; run again to finish"
        return text


def _walk(root: Path, exclude: Path | None) -> Iterator[Path]:
    """Regular files under ``root``, sorted, not following directory links, skipping ``exclude``."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        if exclude is not None:
            dirnames[:] = [d for d in dirnames if (here / d).resolve() != exclude]
        dirnames.sort()
        for name in sorted(filenames):
            if name == JOURNAL_NAME or (name.startswith(".") and name.endswith((".tmp", ".minface-tmp"))):
                continue  # our own journal and temporary files (local and distributed runs)
            yield here / name


def plan_tasks(
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike | None,
    *,
    in_place: bool = False,
    read_only: bool = False,
) -> tuple[list[Task], list[tuple[str, str]]]:
    """Expand files and folders into tasks; return ``(tasks, problems)``.

    Outputs mirror the inputs' layout below their common folder: ``minface scrub
    photos -o out`` writes ``photos/a/b.jpg`` to ``out/a/b.jpg``, and ``minface scrub
    x/a.jpg x/y/b.jpg -o out`` writes ``out/a.jpg`` and ``out/y/b.jpg``. Inputs
    that do not exist are returned as problems.

    >>> plan_tasks(["no/such/file.jpg"], "out")
    ([], [('no/such/file.jpg', 'no such file or directory')])
    """
    if not read_only and (output_dir is None) != in_place:
        raise ValueError("give an output folder, or in_place=True (not both)")
    out_root = None if output_dir is None else Path(os.path.abspath(output_dir))
    exclude = None if out_root is None else out_root.resolve()
    files: list[Path] = []
    problems = []
    roots = []
    for raw in inputs:
        p = Path(os.path.abspath(raw))
        if p.is_dir():
            roots.append(p)
            files.extend(_walk(p, exclude))
        elif p.exists() or p.is_symlink():
            roots.append(p.parent)
            files.append(p)
        else:
            problems.append((os.fspath(raw), "no such file or directory"))
    base = os.path.commonpath([str(r) for r in roots]) if roots else os.getcwd()
    tasks, seen = [], set()
    for f in files:
        if f in seen:
            continue
        seen.add(f)
        out = f if out_root is None else out_root / os.path.relpath(f, base)
        tasks.append(Task(f, out))
    return tasks, problems


def _remove_stale_temporaries(tasks: Iterable[Task]) -> int:
    """Delete ``.<name>.*.tmp`` files left next to outputs by an interrupted run."""
    removed = 0
    by_dir: dict[Path, set[str]] = {}
    for t in tasks:
        by_dir.setdefault(t.output.parent, set()).add(t.output.name)
    for folder, names in by_dir.items():
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            if entry.startswith(".") and entry.endswith(".tmp"):
                stem = entry[1:-4].rsplit(".", 1)[0]
                if stem in names:
                    try:
                        os.unlink(folder / entry)
                        removed += 1
                    except OSError:
                        pass
    return removed


class _Journal:
    """Completed in-place inputs, keyed by path, size and modification time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, tuple[int, int]] = {}
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
        self._fh: IO[str] | None = None

    def is_done(self, p: Path) -> bool:
        try:
            st = p.stat()
        except OSError:
            return False
        return self.done.get(os.path.abspath(p)) == (st.st_size, st.st_mtime_ns)

    def record(self, p: Path) -> None:
        st = p.stat()
        if self._fh is None:
            self._fh = open(self.path, "a", encoding="utf-8")
        self._fh.write(json.dumps({"input": os.path.abspath(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


# -- worker side ------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(factory: Callable[[], Callable[[Task], dict]]) -> None:
    _WORKER["job"] = factory()


def _run_unit(tasks: list[Task]) -> list[dict]:
    return _run_chunk(_WORKER["job"], tasks)


def _run_chunk(job: Callable[[Task], dict], tasks: list[Task]) -> list[dict]:
    """Records of ``tasks``, in order: through ``job.many`` (a job that batches files, such as
    the GPU scrub) when it has one, else file by file; a chunk that fails as a whole is redone
    file by file, so one bad file never costs the others their records."""
    many = getattr(job, "many", None)
    if many is not None:
        try:
            return many(tasks)
        except Exception:  # the chunk as a whole failed: redo it file by file
            pass
    return [_safe(job, t) for t in tasks]


def _safe(job: Callable[[Task], dict], task: Task) -> dict:
    """Run one task; any failure becomes an error record (the batch goes on)."""
    start = time.perf_counter()
    try:
        return job(task)
    except Exception as exc:  # one bad file must never stop the batch: report it and go on
        return error_record(os.fspath(task.input), exc, time.perf_counter() - start)


def error_record(name: str, exc: BaseException, seconds: float) -> dict:
    """The report record of an input that failed with ``exc`` (no output was written).

    minface's own errors and ``OSError``s speak for themselves; anything else is
    unexpected, so the reason names the exception too.
    """
    from .errors import MinfaceError

    reason = str(exc) or type(exc).__name__
    if not isinstance(exc, (MinfaceError, OSError)):
        reason = f"{type(exc).__name__}: {reason}"
    return {"input": name, "output": None, "status": "error", "error": reason, "seconds": round(seconds, 4)}


class _Progress:
    """tqdm when installed, else a plain counter on stderr; silent when disabled."""

    def __init__(self, total: int, enabled: bool, desc: str) -> None:
        self._bar = None
        self._n = 0
        self._total = total
        self._enabled = enabled
        self._desc = desc
        self._last = 0.0
        if enabled:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=desc, unit="file", file=sys.stderr, dynamic_ncols=True)
            except ImportError:
                pass

    def update(self, status: str) -> None:
        self._n += 1
        if self._bar is not None:
            self._bar.update(1)
        elif self._enabled and (time.monotonic() - self._last > 0.5 or self._n == self._total):
            self._last = time.monotonic()
            print(f"\r{self._desc}: {self._n}/{self._total}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._enabled and self._n:
            print(file=sys.stderr)


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
) -> BatchSummary:
    """Run ``job_factory()`` (a picklable callable returning a per-task function) over every input file.

    The per-task function receives a :class:`Task` and returns a report record
    (``input``, ``output``, ``status``, ...). It is created once per worker process,
    so it can hold a loaded model. ``read_only`` jobs (audits) write nothing:
    their tasks have no output and nothing is skipped. Any status other than
    ``ok`` and ``skipped`` counts as failed.
    """
    start = time.perf_counter()
    summary = BatchSummary()
    tasks, problems = plan_tasks(inputs, None if read_only else output_dir, in_place=in_place, read_only=read_only)
    out_fh: IO[str] | None
    close_report = False
    if report is None:
        out_fh = None
    elif hasattr(report, "write"):
        out_fh = report  # type: ignore[assignment]
    else:
        out_fh = open(report, "a", encoding="utf-8")  # type: ignore[arg-type]
        close_report = True

    def emit(rec: dict) -> None:
        status = rec.get("status")
        if status == "ok":
            summary.ok += 1
            summary.faces += len(rec.get("faces") or [])
        elif status == "skipped":
            summary.skipped += 1
        else:
            summary.failed += 1
            summary.errors.append((str(rec.get("input")), str(rec.get("error"))))
        if out_fh is not None:
            out_fh.write(json.dumps(rec) + "\n")
            out_fh.flush()
        if on_record is not None:
            on_record(rec)

    for name, reason in problems:
        emit({"input": name, "output": None, "status": "error", "error": reason, "seconds": 0.0})

    journal = None
    if in_place:
        roots = {t.input.resolve().parent for t in tasks}
        folder = Path(os.path.commonpath([str(r) for r in roots])) if roots else Path.cwd()
        journal = _Journal(folder / JOURNAL_NAME)

    todo: list[Task] = []
    for t in tasks:
        if read_only:
            pass
        elif in_place:
            if journal is not None and journal.is_done(t.input) and not overwrite:
                emit(_skip(t, "already done (journal)"))
                continue
        elif t.output.exists() and not overwrite:
            emit(_skip(t, "output exists"))
            continue
        todo.append(t)

    if dry_run:
        for t in todo:
            emit({"input": os.fspath(t.input), "output": os.fspath(t.output), "status": "skipped", "error": None, "reason": "dry run"})
        summary.seconds = time.perf_counter() - start
        if close_report:
            out_fh.close()  # type: ignore[union-attr]
        return summary

    if not read_only:
        _remove_stale_temporaries(todo)
        for t in todo:
            t.output.parent.mkdir(parents=True, exist_ok=True)

    n_jobs = max(1, min(jobs or default_threads(), len(todo) or 1))
    # files go to the workers in units: one file each, or up to ``job_factory.chunk`` files for a
    # job that batches them (the GPU scrub), spread so that every worker gets a share
    chunk = max(1, min(int(getattr(job_factory, "chunk", 1) or 1), -(-len(todo) // n_jobs)))
    units = [todo[i : i + chunk] for i in range(0, len(todo), chunk)]
    bar = _Progress(len(todo), progress, desc)

    def finish(rec: dict, task: Task) -> None:
        if journal is not None and rec.get("status") == "ok":
            journal.record(task.input)
        emit(rec)
        bar.update(rec.get("status", "error"))

    try:
        if n_jobs == 1:
            job = job_factory()
            for unit in units:
                for rec, t in zip(_run_chunk(job, unit), unit):
                    finish(rec, t)
        else:
            _run_pool(units, n_jobs, job_factory, finish)
    except KeyboardInterrupt:
        summary.interrupted = True
        if not read_only:
            _remove_stale_temporaries(todo)
    finally:
        bar.close()
        if journal is not None:
            journal.close()
        summary.seconds = time.perf_counter() - start
        if close_report:
            out_fh.close()  # type: ignore[union-attr]
    return summary


def _skip(t: Task, reason: str) -> dict:
    return {"input": os.fspath(t.input), "output": os.fspath(t.output), "status": "skipped", "error": None, "reason": reason}


def _run_pool(
    units: list[list[Task]],
    n_jobs: int,
    job_factory: Callable[[], Callable[[Task], dict]],
    finish: Callable[[dict, Task], None],
) -> None:
    """Feed units of tasks to a process pool, at most ``2 * n_jobs`` in flight (bounded memory).

    A worker that dies (a decoder crash, the out-of-memory killer) breaks the
    pool: the units in flight are retried in a new pool, a unit of several files
    split into single files, and a file that breaks it twice is reported as failed.
    """
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool

    ctx = mp.get_context("spawn")  # workers start clean: no inherited inference threads or locks
    queue = list(reversed(units))
    attempts: dict[Task, int] = {}
    while queue:
        pending: dict[Future, list[Task]] = {}
        broken = False
        with ProcessPoolExecutor(n_jobs, mp_context=ctx, initializer=_init_worker, initargs=(job_factory,)) as pool:
            try:
                while queue or pending:
                    while queue and len(pending) < 2 * n_jobs and not broken:
                        unit = queue.pop()
                        pending[pool.submit(_run_unit, unit)] = unit
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        unit = pending.pop(fut)
                        try:
                            for rec, t in zip(fut.result(), unit):
                                finish(rec, t)
                        except BrokenProcessPool:
                            broken = True
                            if len(unit) > 1:
                                queue.extend([t] for t in unit)
                                continue
                            t = unit[0]
                            attempts[t] = attempts.get(t, 0) + 1
                            if attempts[t] >= 2:
                                finish(_error(t, "the worker process died on this file (twice)"), t)
                            else:
                                queue.append(unit)
                    if broken and not pending:
                        break
            except BaseException:
                for fut in pending:
                    fut.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                raise


def _error(t: Task, reason: str) -> dict:
    return {"input": os.fspath(t.input), "output": None, "status": "error", "error": reason, "seconds": 0.0}
