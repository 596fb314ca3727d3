"""Executors: where units of tasks run, behind one protocol (as ``concurrent.futures`` executors are).

* :class:`InlineExecutor`: this process (one job, or a dry run of the machinery);
* :class:`ProcessExecutor`: worker processes on one machine, each building its
  per-task function once (a loaded model), single-threaded inference, exiting
  when the parent dies;
* :class:`DaskExecutor`: a Dask cluster (``distributed.Client``).

Each (an :class:`Executor`) cuts the tasks into units (:meth:`Executor.units`),
runs them and hands every task's record to ``finish(record, task)`` as its unit
finishes (:meth:`Executor.run`), and, once the run is over, says which writers
of temporaries are gone on the machines it used (:meth:`Executor.gone`) and
removes what its workers left outside the output (:meth:`Executor.clean`). The
rule for a worker that dies is the same on both: the unit is split into single
tasks, and a task that kills its worker again, alone, is reported as failed;
the others finish normally.
"""

from __future__ import annotations

import contextlib
import math
import os
import posixpath
import signal
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Any, TypeVar

from .._temp import Owner, gone_here, temporary_owner
from ..errors import MinfaceError
from .records import error_record
from .store import Temporary, remove_stale_spools

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

    from ..walk import Task

__all__ = ["Executor", "InlineExecutor", "ProcessExecutor", "DaskExecutor", "run_chunk", "cluster_threads", "local_executor"]

T = TypeVar("T")


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
    return run_chunk(_WORKER["job"], tasks)


def run_chunk(job: Callable[[Task], dict], tasks: list[Task]) -> list[dict]:
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
    return _error_named(os.fspath(t.input), reason)


def _error_named(name: str, reason: str) -> dict:
    return {"input": name, "output": None, "status": "error", "error": reason, "seconds": 0.0}


class Executor:
    """The protocol of an executor, with the defaults of one that runs on this machine only."""

    def units(self, tasks: list[T]) -> list[list[T]]:
        """The units ``tasks`` are sent in (default: one task each)."""
        return [[t] for t in tasks]

    def run(self, units: list[list[T]], finish: Callable[[dict, T], None]) -> None:
        """Run every unit; ``finish(record, task)`` for each task of a unit as the unit finishes."""
        raise NotImplementedError

    def gone(self, temporaries: list[Temporary]) -> set[Owner]:
        """Owners of ``temporaries`` that ran on this executor's other machines and are gone (none here)."""
        return set()

    def clean(self) -> None:
        """Remove what killed workers left outside the output (nothing, for one that spools nothing)."""


class _LocalExecutor(Executor):
    """Units of ``job_factory.chunk`` tasks (a job that batches files), spread so every worker gets a share."""

    jobs = 1

    def __init__(self, job_factory: Callable[[], Callable[[Task], dict]]) -> None:
        self.job_factory = job_factory

    def units(self, tasks: list[Task]) -> list[list[Task]]:
        chunk = max(1, min(int(getattr(self.job_factory, "chunk", 1) or 1), -(-len(tasks) // self.jobs)))
        return [tasks[i : i + chunk] for i in range(0, len(tasks), chunk)]


class InlineExecutor(_LocalExecutor):
    """Every unit in this process, one after the other, through one per-task function."""

    def run(self, units: list[list[Task]], finish: Callable[[dict, Task], None]) -> None:
        """Run the units in order; ``finish(record, task)`` for each task."""
        job = self.job_factory()
        for unit in units:
            for rec, t in zip(run_chunk(job, unit), unit):
                finish(rec, t)


class ProcessExecutor(_LocalExecutor):
    """Units on ``jobs`` worker processes of this machine (spawned; see :func:`_run_pool`)."""

    def __init__(self, jobs: int, job_factory: Callable[[], Callable[[Task], dict]]) -> None:
        super().__init__(job_factory)
        self.jobs = jobs

    def run(self, units: list[list[Task]], finish: Callable[[dict, Task], None]) -> None:
        """Run the units, at most ``2 * jobs`` in flight; ``finish(record, task)`` for each task as it arrives."""
        _run_pool(units, self.jobs, self.job_factory, finish)


def local_executor(jobs: int, job_factory: Callable[[], Callable[[Task], dict]], tasks: int) -> _LocalExecutor:
    """The executor of ``tasks`` tasks on this machine: ``jobs`` worker processes at most, this process for one."""
    n = max(1, min(jobs, tasks or 1))
    return InlineExecutor(job_factory) if n == 1 else ProcessExecutor(n, job_factory)


def cluster_threads(client: Client) -> int:
    """Worker threads of a Dask cluster (1 when the scheduler does not answer)."""
    try:
        return int(sum(client.nthreads().values()))
    except Exception:  # a scheduler that does not answer: assume one thread
        return 1


class DaskExecutor(Executor):
    """Units of tasks on a Dask cluster (``distributed.Client.submit``), a few per worker thread in flight.

    ``fn(unit)`` runs on a worker; on the driver ``records_of(unit, result)`` turns its
    result into the unit's records (default: the result is that list), one per task
    in order. A unit that fails as a whole gets an error record per task, named by
    ``name_of(task)``. :attr:`submitted` counts the unit tasks run (including units
    split after killing workers). Units: ``partition_size`` tasks, by default about
    eight per worker thread, at most 50 each, so a lost worker costs little and the
    last units finish together.
    """

    MAX_PARTITION = 50
    PARTITIONS_PER_THREAD = 8

    def __init__(
        self,
        client: Client,
        fn: Callable[[list[T]], Any],
        *,
        retries: int = 2,
        name: str = "minface",
        records_of: Callable[[list[T], Any], list[dict]] | None = None,
        name_of: Callable[[T], str] | None = None,
        partition_size: int | None = None,
    ) -> None:
        self.client, self.fn, self.retries, self.name = client, fn, retries, name
        self.records_of = records_of or (lambda unit, result: result)
        self.name_of = name_of or (lambda t: os.fspath(t.input))  # type: ignore[attr-defined]
        self.partition_size = partition_size
        self.submitted = 0

    def threads(self) -> int:
        """Worker threads of the cluster now (1 when the scheduler does not answer)."""
        return cluster_threads(self.client)

    def units(self, tasks: list[T]) -> list[list[T]]:
        threads = max(1, self.threads())
        size = self.partition_size or max(
            1, min(self.MAX_PARTITION, math.ceil(len(tasks) / (self.PARTITIONS_PER_THREAD * threads)))
        )
        return [list(tasks[i : i + size]) for i in range(0, len(tasks), size)]

    def gone(self, temporaries: list[Temporary]) -> set[Owner]:
        """Owners of ``temporaries`` that ran on a worker's machine and are gone, as the workers themselves tell."""
        owners = {o for o in (temporary_owner(posixpath.basename(p)) for p, _, _ in temporaries) if o is not None}
        if not owners:
            return set()
        try:
            answers = self.client.run(gone_here, sorted(owners, key=lambda o: (o.host, o.pid)))
        except Exception:  # noqa: BLE001 - no answer: nothing is taken for gone
            return set()
        return {o for gone in answers.values() for o in gone}

    def clean(self) -> None:
        """Ask every worker to remove the spool folders its killed processes left (videos copied from a store)."""
        try:
            self.client.run(remove_stale_spools)
        except Exception:  # noqa: BLE001 - best effort: the next spool on that machine removes them too
            pass

    def run(self, units: list[list[T]], finish: Callable[[dict, T], None]) -> None:
        """Run every unit; ``finish(record, task)`` for each of its tasks as it finishes."""

        def done(items: list[T], result: Any) -> None:
            for rec, t in zip(self.records_of(items, result), items):
                finish(rec, t)

        def failed(items: list[T], reason: str) -> None:
            for t in items:
                finish(_error_named(self.name_of(t), reason), t)

        self.run_units(units, done, failed)

    def run_units(self, units: list[list[T]], done: Callable[[list[T], Any], None], failed: Callable[[list[T], str], None]) -> None:
        """Run every unit; report each through ``done(unit, result)`` or ``failed(unit, reason)`` as it finishes.

        A partition whose workers kept dying (``KilledWorker``: the scheduler gave up
        after ``allowed-failures`` deaths) is split into single files, the
        *suspects*, run one at a time beside the other partitions: a suspect that
        kills its worker again is the culprit and gets an error record; the others
        finish normally. (One at a time, because a dying worker takes the blame for
        every task queued on it.)
        """
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        client = self.client
        threads = max(1, self.threads())
        queue: deque[list[T]] = deque(units)
        suspects: deque[T] = deque()
        token = uuid.uuid4().hex[:12]
        in_flight: dict[Any, tuple[list[T], bool]] = {}  # future -> (its files, whether it is a suspect)
        finished = as_completed(loop=client.loop)
        last_check = time.monotonic()

        def submit(items: list[T], suspect: bool) -> None:
            self.submitted += 1
            future = client.submit(
                self.fn, items, retries=self.retries, pure=False, key=f"{self.name}-{token}-{self.submitted}"
            )
            in_flight[future] = (items, suspect)
            finished.add(future)

        def fill() -> None:
            nonlocal threads, last_check
            if time.monotonic() - last_check > 10:  # the cluster may have grown or shrunk
                threads, last_check = max(1, self.threads()), time.monotonic()
            if suspects and not any(suspect for _, suspect in in_flight.values()):
                submit([suspects.popleft()], True)
            while queue and len(in_flight) < 2 * threads + 2:
                submit(queue.popleft(), False)

        fail = failed

        try:
            fill()
            for future in finished:
                items, suspect = in_flight.pop(future)
                if future.status == "finished":
                    done(items, future.result())
                else:
                    try:
                        exc = future.exception()
                    except Exception as cancelled:  # a cancelled future raises here
                        exc = cancelled
                    if isinstance(exc, KilledWorker) and not suspect:
                        suspects.extend(items)
                    elif isinstance(exc, KilledWorker):
                        fail(items, "the worker process died on this file (decoder crash or out of memory?), also when run alone")
                    else:
                        fail(items, str(exc) if isinstance(exc, MinfaceError) else f"{type(exc).__name__}: {exc}")
                future.release()
                fill()
        except BaseException:
            client.cancel(list(in_flight))
            raise
