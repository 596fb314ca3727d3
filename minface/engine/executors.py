"""Executors: where units of tasks run, behind one protocol (as ``concurrent.futures`` executors are).

* :class:`InlineExecutor`: this process (one job, or a dry run of the machinery);
* :class:`ProcessExecutor`: worker processes on one machine, each building its
  per-task function once (a loaded model), single-threaded inference, exiting
  when the parent dies;
* :class:`DaskExecutor`: a Dask cluster (``distributed.Client``).

Each runs ``units`` (lists of tasks) and reports every unit as it finishes. The
rule for a worker that dies is the same on both: the unit is split into single
tasks, and a task that kills its worker again, alone, is reported as failed;
the others finish normally.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import MinfaceError
from .records import error_record

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

    from ..walk import Task

__all__ = ["InlineExecutor", "ProcessExecutor", "DaskExecutor", "run_chunk", "cluster_threads"]

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
    return {"input": os.fspath(t.input), "output": None, "status": "error", "error": reason, "seconds": 0.0}


class InlineExecutor:
    """Every unit in this process, one after the other, through one per-task function."""

    def __init__(self, job_factory: Callable[[], Callable[[Task], dict]]) -> None:
        self.job_factory = job_factory

    def run(self, units: list[list[Task]], finish: Callable[[dict, Task], None]) -> None:
        """Run the units in order; ``finish(record, task)`` for each task."""
        job = self.job_factory()
        for unit in units:
            for rec, t in zip(run_chunk(job, unit), unit):
                finish(rec, t)


class ProcessExecutor:
    """Units on ``jobs`` worker processes of this machine (spawned; see :func:`_run_pool`)."""

    def __init__(self, jobs: int, job_factory: Callable[[], Callable[[Task], dict]]) -> None:
        self.jobs, self.job_factory = jobs, job_factory

    def run(self, units: list[list[Task]], finish: Callable[[dict, Task], None]) -> None:
        """Run the units, at most ``2 * jobs`` in flight; ``finish(record, task)`` for each task as it arrives."""
        _run_pool(units, self.jobs, self.job_factory, finish)


def cluster_threads(client: Client) -> int:
    """Worker threads of a Dask cluster (1 when the scheduler does not answer)."""
    try:
        return int(sum(client.nthreads().values()))
    except Exception:  # a scheduler that does not answer: assume one thread
        return 1


class DaskExecutor:
    """Units of tasks on a Dask cluster (``distributed.Client.submit``), a few per worker thread in flight.

    ``fn(unit)`` runs on a worker; ``done(unit, result)`` and ``failed(unit,
    reason)`` run on the driver as units finish. :attr:`submitted` counts the
    unit tasks run (including units split after killing workers).
    """

    def __init__(self, client: Client, fn: Callable[[list[T]], Any], *, retries: int = 2, name: str = "minface") -> None:
        self.client, self.fn, self.retries, self.name = client, fn, retries, name
        self.submitted = 0

    def threads(self) -> int:
        """Worker threads of the cluster now (1 when the scheduler does not answer)."""
        return cluster_threads(self.client)

    def run(self, units: list[list[T]], done: Callable[[list[T], Any], None], failed: Callable[[list[T], str], None]) -> None:
        """Run every unit; report each through ``done`` or ``failed`` as it finishes.

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
