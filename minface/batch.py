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
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ._temp import remove_stale
from .detect.runtimes import default_threads
from .walk import JOURNAL_NAME, Filter, Task, error_entry, plan, skip_record

__all__ = ["run_batch", "BatchSummary", "Task", "Filter", "JOURNAL_NAME", "error_record", "EXIT_SIGTERM"]

#: Exit code after SIGTERM (128 + 15, what shells report for a process killed by it).
EXIT_SIGTERM = 143


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM (handled as Ctrl-C is)."""


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


def _remove_stale_temporaries(tasks: Iterable[Task]) -> int:
    """Delete the temporaries next to the tasks' outputs whose owner is gone (:func:`minface._temp.is_stale`)."""
    by_dir: dict[Path, set[str]] = {}
    for t in tasks:
        by_dir.setdefault(t.output.parent, set()).add(t.output.name)
    return sum(remove_stale(folder, names) for folder, names in by_dir.items())


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


# -- worker side ------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(factory: Callable[[], Callable[[Task], dict]], parent: int | None = None) -> None:
    if parent is not None:
        _exit_with_parent(parent)
    _WORKER["job"] = factory()


def _exit_with_parent(parent: int) -> None:
    """Make this worker process exit when ``parent`` dies, however it dies (``kill -9`` included).

    Linux delivers SIGKILL at once (``PR_SET_PDEATHSIG``); everywhere a daemon
    thread notices within a second that the process was re-parented.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="minface-parent-watch", daemon=True).start()


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
    unexpected, so the reason names the exception too. The record names the
    input once: a reason that starts with it (as minface's messages do, so they
    stand alone when raised) loses that prefix.

    >>> error_record("a.jpg", OSError("a.jpg: truncated"), 0.5)["error"]
    'truncated'
    """
    from .errors import MinfaceError

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


class _Progress:
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
    out_fh: IO[str] | None
    close_report = False
    if report is None:
        out_fh = None
    elif hasattr(report, "write"):
        out_fh = report  # type: ignore[assignment]
    else:
        try:
            out_fh = open(report, "a", encoding="utf-8")  # type: ignore[arg-type]
        except OSError as exc:  # a name too long, a folder that is not there: nothing was done
            from .errors import ImageWriteError

            raise ImageWriteError(f"{report}: cannot write the report ({exc.strerror or exc}); nothing was done") from exc
        close_report = True

    def emit(rec: dict) -> None:
        rec = work.shown(rec)  # files named as the command line named them (relative stays relative)
        summary.count(rec)
        if out_fh is not None:
            out_fh.write(json.dumps(rec) + "\n")
            out_fh.flush()
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
                if n_jobs == 1:
                    job = job_factory()
                    for unit in units:
                        for rec, t in zip(_run_chunk(job, unit), unit):
                            finish(rec, t)
                else:
                    _run_pool(units, n_jobs, job_factory, finish)
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
        if close_report:
            out_fh.close()  # type: ignore[union-attr]
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


@contextlib.contextmanager
def _workers_skip_main(job_factory: object) -> Iterator[None]:
    """While worker processes start, make them import a stub instead of the caller's main script.

    A "spawn" worker re-runs the main script to rebuild its namespace. A script
    that calls :func:`minface.scrub_batch` at top level, without
    ``if __name__ == "__main__":`` (as a README snippet reads), would then call
    it again in every worker, which cannot start processes while it is itself
    starting: every worker died and the files were blamed. minface's own jobs
    need nothing from the main script, so the workers are pointed at
    ``minface._worker_main`` instead. A job defined in the main script keeps the
    standard behaviour (it needs the script, and the guard).
    """
    main = sys.modules.get("__main__")
    module = getattr(job_factory, "__module__", None) or type(job_factory).__module__
    if main is None or module == "__main__" or type(job_factory).__module__ == "__main__":
        yield
        return
    import importlib.machinery

    had = "__spec__" in vars(main)
    old = getattr(main, "__spec__", None)
    main.__spec__ = importlib.machinery.ModuleSpec("minface._worker_main", None)  # type: ignore[assignment]
    try:
        yield
    finally:
        if had:
            main.__spec__ = old  # type: ignore[assignment]
        else:
            del main.__spec__


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
    On an interruption (Ctrl-C, SIGTERM) the workers are stopped at once; the
    files they had finished are kept.
    """
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool

    ctx = mp.get_context("spawn")  # workers start clean: no inherited inference threads or locks
    queue = list(reversed(units))
    attempts: dict[Task, int] = {}
    while queue:
        pending: dict[Future, list[Task]] = {}
        broken = False
        pool = ProcessPoolExecutor(n_jobs, mp_context=ctx, initializer=_init_worker, initargs=(job_factory, os.getpid()))
        try:
            while queue or pending:
                while queue and len(pending) < 2 * n_jobs and not broken:
                    unit = queue.pop()
                    with _workers_skip_main(job_factory):
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
            _stop_workers(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate a pool's worker processes now (an interrupted batch does not wait for files in flight)."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            proc.terminate()
        except Exception:  # noqa: BLE001 - already gone
            pass


def _error(t: Task, reason: str) -> dict:
    return {"input": os.fspath(t.input), "output": None, "status": "error", "error": reason, "seconds": 0.0}
