"""The run loop: plan -> tasks -> executor -> commit -> records -> report, once for every path.

:func:`run_plan` holds the archive rules that do not depend on where files lie
or where the work runs, so ``minface scrub -j 8`` (:mod:`minface.batch`: the
local disk, worker processes) and ``minface scrub --dask``
(:mod:`minface.distributed`: any fsspec store, a Dask cluster) differ only in
the :class:`~minface.engine.store.Store` and the
:class:`~minface.engine.executors.Executor` they give it:

* every input gets exactly one record: the plan's records first, then one per
  task, whether skipped, done or failed;
* an output that exists is skipped (resume) unless ``overwrite``; in place, an
  original the :class:`~minface.engine.journal.Journal` says was replaced;
* a dry run lists what would be done and does nothing;
* the temporaries of the planned outputs whose writer is gone are removed
  before any work and again at the end, once the workers are gone (the executor
  says which writers on its other machines are), and never those of a run still
  at work;
* Ctrl-C and SIGTERM stop the run: what is finished is kept, the summary says
  which signal (exit codes 130 and 143).

Light: no image library.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from .executors import Executor
from .journal import Journal
from .records import BatchSummary, Progress, ReportWriter, error_entry, skip_record
from .store import Store

__all__ = ["Target", "Terminated", "run_plan", "sigterm_as_interrupt"]


class Target(Protocol):
    """A task as the loop sees it: an input, its output, where outputs may lie and the folder to make first."""

    @property
    def input(self) -> Any: ...

    @property
    def output(self) -> Any: ...

    @property
    def root(self) -> Any: ...

    def outputs(self) -> tuple[str, ...]: ...


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM (handled as Ctrl-C is)."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
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


def run_plan(
    tasks: Sequence[Target],
    records: Iterable[dict],
    *,
    inputs: Store,
    outputs: Store,
    root: str | None,
    executor_for: Callable[[list[Any]], Executor],
    summary: BatchSummary,
    writer: ReportWriter,
    shown: Callable[[dict], dict] | None = None,
    on_record: Callable[[dict], None] | None = None,
    overwrite: bool = False,
    dry_run: bool = False,
    read_only: bool = False,
    in_place: bool = False,
    journal: Journal | None = None,
    progress: bool = False,
    desc: str = "minface",
    on_message: Callable[[Callable[[str], None]], None] | None = None,
) -> BatchSummary:
    """Run the planned ``tasks`` (after the plan's ``records``) and add every record to ``summary`` and ``writer``.

    Parameters
    ----------
    tasks, records
        The plan: a task per file to work on, a record for everything else.
    inputs, outputs : Store
        Where inputs are read and outputs committed; records name files by
        :meth:`~minface.engine.store.Store.url`. ``root``: the output tree
        (None: read-only work).
    executor_for : callable
        Called with the tasks left to do (never with none) for the executor that
        runs them (a cluster is only started when there is work).
    shown : callable, optional
        Rewrites each record before it is counted and written (files named as the
        command line named them).
    overwrite, dry_run, read_only, in_place
        Redo outputs that exist; list only; write nothing (an audit: nothing is
        skipped for an output, no temporaries); replace the originals (then
        ``journal``, if given, skips those already replaced and records each one
        replaced).
    progress, desc, on_message
        The progress line on stderr; ``on_message`` receives its ``write``.

    Returns
    -------
    BatchSummary
        ``summary``, with the records counted, ``interrupted`` and ``signal`` set
        after Ctrl-C or SIGTERM, ``temporaries_removed``.
    """
    bar: Progress | None = None
    executor: Executor | None = None
    targets = set() if read_only else {o for t in tasks for o in t.outputs()}

    def emit(rec: dict) -> None:
        if shown is not None:
            rec = shown(rec)
        summary.count(rec)
        writer.write(rec)
        if on_record is not None:
            on_record(rec)

    def skip(t: Target, reason: str, with_output: bool = True) -> dict:
        return skip_record(inputs.url(t.input), reason, outputs.url(t.output) if with_output else None)

    with sigterm_as_interrupt():
        try:
            for rec in records:  # what is not an image, or cannot be read: reported before any work
                emit(rec)
            check_outputs = not (read_only or in_place or overwrite)
            existing, temporaries = outputs.survey(targets, root, existing=check_outputs) if targets else (set(), [])
            todo = []
            for t in tasks:
                if in_place and journal is not None and not overwrite and journal.is_done(t.input):
                    emit(skip(t, "already done (journal)"))
                elif check_outputs and any(o in existing for o in t.outputs()):
                    emit(skip(t, "output exists"))
                else:
                    todo.append(t)
            del existing
            if dry_run:
                for t in todo:
                    emit(skip(t, "dry run", not read_only))
                return summary
            if not read_only:
                todo = _make_roots(todo, outputs, inputs, emit)
                summary.temporaries_removed += outputs.remove_temporaries(temporaries, targets)
            del temporaries
            if not todo:
                return summary
            executor = executor_for(todo)
            units = executor.units(todo)
            bar = Progress(len(todo), progress, desc)
            if on_message is not None:
                on_message(bar.write)

            def finish(rec: dict, task: Target) -> None:
                if journal is not None and rec.get("status") == "ok":
                    journal.record(task.input)
                emit(rec)
                bar.update(rec.get("status", "error"))  # type: ignore[union-attr]

            executor.run(units, finish)
        except KeyboardInterrupt as exc:
            summary.interrupted = True
            summary.signal = int(signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)
        finally:
            if bar is not None:
                bar.close()
            if not dry_run and targets:
                try:  # the workers are gone: what a killed one (or an interrupted run) left is removed now
                    _, temporaries = outputs.survey(targets, root, existing=False)
                    gone = executor.gone(temporaries) if executor is not None else set()
                    summary.temporaries_removed += outputs.remove_temporaries(temporaries, targets, gone)
                    if executor is not None:
                        executor.clean()
                except (OSError, ValueError):
                    pass
    return summary


def _make_roots(todo: list[Target], outputs: Store, inputs: Store, emit: Callable[[dict], None]) -> list[Target]:
    """Create the output folders the tasks name (an error record for each task whose folder cannot be made)."""
    failed: dict[Any, str] = {}
    for root in {t.root for t in todo if t.root is not None}:
        try:
            outputs.make_folder(root)
        except OSError as exc:
            failed[root] = f"cannot create the output folder {root} ({exc.strerror or exc})"
    if not failed:
        return todo
    for t in todo:
        if t.root in failed:
            emit(error_entry(inputs.url(t.input), failed[t.root]))
    return [t for t in todo if t.root not in failed]
