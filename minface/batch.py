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

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from .detect.runtimes import default_threads
from .engine.executors import local_executor
from .engine.journal import Journal
from .engine.records import EXIT_SIGTERM, BatchSummary, ReportWriter, error_record
from .engine.run import Terminated, run_plan
from .engine.store import LocalStore
from .walk import JOURNAL_NAME, Filter, Task, error_entry, plan

__all__ = ["run_batch", "BatchSummary", "Task", "Filter", "JOURNAL_NAME", "error_record", "EXIT_SIGTERM", "Terminated"]


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

    The rules of the run (one record per input, resume, temporaries, signals) are
    :func:`minface.engine.run.run_plan`'s, on the local disk
    (:class:`~minface.engine.store.LocalStore`) with worker processes
    (:func:`~minface.engine.executors.local_executor`); this function adds the
    walk of the local disk and the in-place journal.

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
    tasks, records = work.tasks, work.records
    writer = ReportWriter(report)
    journal = None
    completed = False
    try:
        if in_place and tasks:
            folder = work.base or Path.cwd()  # the inputs' common folder as given: never resolved through links
            try:
                journal = Journal(folder / JOURNAL_NAME)
            except OSError as exc:
                reason = f"cannot write the in-place journal in {folder} ({exc.strerror or exc}); nothing was replaced"
                records = records + [error_entry(t.input, reason) for t in tasks]
                tasks = []
        store = LocalStore()
        run_plan(
            tasks,
            records,
            inputs=store,
            outputs=store,
            root=None if output_dir is None else os.fspath(output_dir),
            executor_for=lambda todo: local_executor(jobs or default_threads(), job_factory, len(todo)),
            summary=summary,
            writer=writer,
            shown=work.shown,  # files named as the command line named them (relative stays relative)
            on_record=on_record,
            overwrite=overwrite,
            dry_run=dry_run,
            read_only=read_only,
            in_place=in_place,
            journal=journal,
            progress=progress,
            desc=desc,
            on_message=on_message,
        )
        completed = not dry_run
    finally:
        if journal is not None:
            # every original of this run replaced (or already): no rerun needs the journal
            done = completed and not summary.interrupted and not summary.failed
            journal.close(tasks if done else None)
        summary.seconds = time.perf_counter() - start
        writer.close()
    return summary
