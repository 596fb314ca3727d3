"""Archives beyond one machine: scrub on a Dask cluster, straight from object storage.

:func:`scrub` runs the same per-file work as :func:`minface.scrub_batch`
(:func:`minface.scrub_bytes`: decode, detect, redact, encode from pixels only)
on the workers of a Dask cluster (a laptop, a ``LocalCluster``, Kubernetes,
an HPC queue), reading and writing any fsspec location: ``s3://``, ``gs://``,
``az://``, ``file://``, ``memory://`` (one process's memory: for in-process
workers, ``LocalCluster(processes=False)``) or a local path. Needs
``pip install 'minface[dask]'`` (plus the store's fsspec backend, e.g.
``s3fs``).

The guarantees are those of the single-machine batch, kept by the same code:
the engine's run loop (:func:`minface.engine.run.run_plan`) with an fsspec
store (:class:`minface.engine.store.FsspecStore`) and the Dask executor
(:class:`minface.engine.executors.DaskExecutor`). This module holds only what
is Dask's own: the cluster, and the workers' side of a partition.

* the output tree mirrors the input tree below the inputs' common folder
  (:func:`minface.engine.plan.mirror`; a glob counts as the files and
  folders it matches, as if a shell had expanded it);
* each output is written to a temporary key next to the final one, named for
  the worker process that writes it (:mod:`minface._temp`; on a local disk by
  :mod:`minface.engine.store`) and moved to its final key only when
  complete, so an object under its final key is always whole;
* a rerun skips outputs that exist (they are complete by construction);
  temporaries left by a killed worker are removed by the driver at the start
  and at the end of a job, once their writer is gone (the workers say which
  of theirs are): a job never removes those of another job still at work;
* one bad file is an error record with a readable reason; its partition goes on;
* a worker that dies mid-partition loses nothing: the scheduler runs the
  partition again elsewhere, and the files the dead worker had committed are
  rewritten with the same bytes (each file has one record); a partition that
  keeps killing its workers is split into single files run one at a time, so
  only the file that kills them is reported as failed.

Work is sent in *partitions* of files (not one task per file), each worker
process loads the model once (a per-process cache keyed by the detector
options, shared safely by the worker's threads), and
within a partition the next files are read, and finished files written, by
I/O threads while the current one is scrubbed, so object-store latency
overlaps the computation.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from ._defaults import DEFAULT_MAX_VIDEO_PIXELS, DEFAULT_MAX_VIDEO_SECONDS
from ._temp import TEMP_SUFFIX
from .colors import parse_color
from .detect import Detector
from .detect.runtimes import default_threads
from .engine.executors import DaskExecutor, cluster_threads
from .engine.plan import Filter, StoreTask, plan_store, route_other, skip_record, video_output
from .engine.records import BatchSummary, ReportWriter, error_record
from .engine.run import run_plan
from .engine.store import FsspecStore, spool_folder
from .errors import ImageWriteError, MissingDependencyError
from .images import DEFAULT_MAX_PIXELS
from .jobs import ScrubJob
from .media import HEAD_BYTES, classify
from .pipeline import scrub_bytes
from .redact import DEFAULT_PAD

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

__all__ = ["TEMP_SUFFIX", "DistributedReport", "scrub", "scrub_from_cli"]


_PREFETCH = 2  # files of a partition read ahead of the one being scrubbed
_PENDING_WRITES = 2  # finished files being written while the next one is scrubbed


# -- the report -------------------------------------------------------------------


@dataclass
class DistributedReport(BatchSummary):
    """Totals of a distributed scrub; one line of text with :meth:`to_text`.

    The totals of :class:`minface.batch.BatchSummary` (``total``, ``exit_code``)
    plus bytes, partitions and workers.

    Attributes
    ----------
    ok, failed, skipped : int
        Files scrubbed, failed (each with a record saying why) and skipped
        (output already there, or ``dry_run``).
    faces : int
        Faces destroyed.
    bytes_in, bytes_out : int
        Bytes read from the inputs scrubbed and written to their outputs.
    seconds : float
        Wall-clock time of the job, as seen by the driver.
    file_seconds : float
        Sum of the per-file ``seconds`` of the records (read + scrub + write on
        a worker): the work done, independent of how many workers did it.
    partitions : int
        Partition tasks run (including partitions split after killing workers).
    threads : int
        Worker threads of the cluster when the job started.
    temporaries_removed : int
        Stale temporary keys removed (left by killed workers or an earlier run).
    interrupted : bool
        The driver was interrupted (Ctrl-C); run again to finish.
    report : str or None
        Where the JSON-lines records were written.
    errors : list of (input, reason)
        The failed files.
    """

    bytes_in: int = 0
    bytes_out: int = 0
    file_seconds: float = 0.0
    partitions: int = 0
    threads: int = 0
    report: str | None = None

    def count(self, rec: dict) -> None:
        """Add one record to the totals, and its ``seconds`` to :attr:`file_seconds` (what was worked on)."""
        super().count(rec)
        if rec.get("status") != "skipped":
            self.file_seconds += float(rec.get("seconds") or 0.0)

    @property
    def files_per_second(self) -> float:
        """Files scrubbed per second of wall-clock time."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    def to_text(self) -> str:
        """One line: counts, faces, bytes, time and rate."""
        text = (
            f"{self.total} file(s): {self.ok} ok, {self.failed} failed, {self.skipped} skipped; "
            f"{self.faces} face(s); {_size(self.bytes_in)} in, {_size(self.bytes_out)} out; "
            f"{self.seconds:.1f} s ({self.files_per_second:.2f} files/s on {self.threads} worker thread(s))"
        )
        if self.interrupted:
            text += " -- interrupted; run again to finish"
        return text


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n} B"  # pragma: no cover


# -- worker side ------------------------------------------------------------------


_Item = StoreTask


@dataclass(frozen=True)
class _PartitionJob:
    """What every partition task needs: the options and the two filesystems (picklable)."""

    options: ScrubJob
    inputs: FsspecStore
    outputs: FsspecStore

    def input_url(self, item: _Item) -> str:
        """The input's URL, as records name it."""
        return self.inputs.url(item.input)

    def output_url(self, item: _Item) -> str:
        """The output's URL, as records name it."""
        return self.outputs.url(item.output)


_DETECTORS: dict[tuple, Detector] = {}
_DETECTORS_LOCK = threading.Lock()


def _cached_detector(options: ScrubJob) -> Detector:
    """The worker process's detector for these options, loaded once (thread-safe)."""
    key = (options.preset, options.min_face, options.threshold, options.backend, options.device, options.threads, options.turned)
    detector = _DETECTORS.get(key)
    if detector is None:
        with _DETECTORS_LOCK:
            detector = _DETECTORS.get(key)
            if detector is None:
                detector = Detector(
                    options.preset,
                    min_face=options.min_face,
                    threshold=options.threshold,
                    backend=options.backend,  # type: ignore[arg-type]
                    device=options.device,
                    threads=options.threads,
                    turned=options.turned,
                )
                _DETECTORS[key] = detector
    return detector


def _commit(store: FsspecStore, path: str, data: bytes) -> float:
    """Commit ``data`` at ``path`` in ``store`` (atomically, :meth:`~minface.engine.store.Store.commit`); the seconds it took."""
    start = time.perf_counter()
    store.commit(path, data)
    return time.perf_counter() - start


def _read(store: FsspecStore, path: str) -> tuple[bytes, float]:
    """A file's bytes and the seconds it took (:meth:`~minface.engine.store.Store.read`)."""
    start = time.perf_counter()
    data = store.read(path)
    return data, time.perf_counter() - start


def _scrub_partition(job: _PartitionJob, items: Sequence[_Item]) -> dict[str, Any]:
    """Scrub a partition of files on a worker; return its records and byte counts.

    Runs on a Dask worker. Reads are prefetched and writes finish in the
    background (bounded: a few files in memory at a time) while the detector,
    loaded once per process, works on the current file. Any failure of one file
    becomes its error record; the partition goes on.
    """
    detector = _cached_detector(job.options)
    opts = job.options
    records: list[dict[str, Any]] = []
    sizes: list[tuple[int, int]] = []  # (bytes in, bytes out) per record; out is 0 until committed
    with ThreadPoolExecutor(_PREFETCH + _PENDING_WRITES, thread_name_prefix="minface-io") as pool:
        queue: Iterator[_Item] = iter(items)
        reads: deque[tuple[_Item, Future]] = deque()
        writes: deque[tuple[int, _Item, Future, int]] = deque()

        def read_ahead() -> None:
            while len(reads) < _PREFETCH:
                nxt = next(queue, None)
                if nxt is None:
                    return
                reads.append((nxt, pool.submit(_read, job.inputs, nxt.input)))

        def settle() -> None:
            index, item, fut, size = writes.popleft()
            try:
                took = fut.result()
            except Exception as exc:  # a failed write is this file's error, not the partition's
                records[index] = error_record(job.input_url(item), exc, records[index]["seconds"])
                return
            records[index]["seconds"] = round(records[index]["seconds"] + took, 4)
            sizes[index] = (sizes[index][0], size)

        read_ahead()
        while reads:
            item, pending = reads.popleft()
            read_ahead()
            seconds = 0.0
            try:
                try:
                    data, seconds = pending.result()
                except OSError as exc:
                    if (exc.strerror or "").startswith("not a regular file"):  # a FIFO or device: never read
                        records.append(skip_record(job.input_url(item), exc.strerror))
                        sizes.append((0, 0))
                        continue
                    raise
                kind = classify(item.input, data[:HEAD_BYTES])
                if not kind.is_image:  # text, system files: a record, never an output; videos: their scrubber
                    routed = route_other(job.input_url(item), kind, videos=True)
                    if isinstance(routed, dict):
                        records.append({**routed, "seconds": round(seconds, 4)})
                        sizes.append((0, 0))
                        continue
                    record = _scrub_video_item(job, item, data, _cached_detector(_video_options(opts)), kind.format)
                    record["seconds"] = round(float(record.get("seconds") or 0.0) + seconds, 4)
                    records.append(record)
                    sizes.append((len(data), int(record.pop("_bytes_out", 0))) if record["status"] == "ok" else (0, 0))
                    continue
                start = time.perf_counter()
                try:
                    out, result = scrub_bytes(
                        data,
                        name=job.input_url(item),
                        detector=detector,
                        **opts.paint,
                        quality=opts.quality,
                        format=opts.format,
                        max_pixels=opts.max_pixels,
                    )
                finally:
                    seconds += time.perf_counter() - start
            except Exception as exc:  # one bad file must never stop the partition: report it and go on
                records.append(error_record(job.input_url(item), exc, seconds))
                sizes.append((0, 0))
                continue
            record = result.to_record()
            record["output"] = job.output_url(item)
            record["seconds"] = round(seconds, 4)
            records.append(record)
            sizes.append((len(data), 0))
            while len(writes) >= _PENDING_WRITES:
                settle()
            writes.append(
                (len(records) - 1, item, pool.submit(_commit, job.outputs, item.output, out), len(out))
            )
        while writes:
            settle()
    ok = [s for r, s in zip(records, sizes) if r["status"] == "ok"]
    return {
        "records": records,
        "bytes_in": sum(s[0] for s in ok),
        "bytes_out": sum(s[1] for s in ok),
    }


def _video_options(opts: ScrubJob) -> ScrubJob:
    """The detector options for videos: the video default ``min_face`` (each video decides its orientations)."""
    import dataclasses

    from .video.scrub import DEFAULT_VIDEO_MIN_FACE

    return dataclasses.replace(
        opts, turned=False, min_face=DEFAULT_VIDEO_MIN_FACE if opts.min_face is None else opts.min_face
    )


def _scrub_video_item(job: _PartitionJob, item: _Item, data: bytes, detector: Detector, fmt: str | None) -> dict[str, Any]:
    """Scrub one video on a worker; from a store that is not a local disk through a spooled copy the engine removes."""
    from .engine.store import spool
    from .video.container import AUDIO_ONLY_REASON, AudioOnlyError
    from .video.scrub import scrub_video

    opts = job.options
    out_path = video_output(item.output)
    out_url = job.outputs.url(out_path)
    start = time.perf_counter()
    try:
        if not opts.overwrite and job.outputs.exists(out_path):
            return skip_record(job.input_url(item), "output exists", out_url)
        with contextlib.ExitStack() as stack:
            src = stack.enter_context(job.inputs.local_copy(item.input, data))
            local_out = job.outputs.local
            if local_out:
                dst = out_path
                try:
                    os.makedirs(os.path.dirname(out_path), exist_ok=True)
                except OSError as exc:
                    raise ImageWriteError(f"{out_url}: cannot create its folder ({exc.strerror or exc})") from exc
            else:
                dst = stack.enter_context(spool(None, "output.mp4"))
            result = scrub_video(
                src,
                dst,
                detector=detector,
                **opts.paint,
                video_quality=opts.video_quality,
                keep_audio=opts.keep_audio,
                max_pixels=opts.max_video_pixels,
                max_seconds=opts.max_video_seconds,
                overwrite=opts.overwrite or not local_out,  # the spooled output is this process's own empty file
                format=fmt,
                turned=opts.turned,
            )
            size = os.path.getsize(dst)
            if not local_out:
                job.outputs.commit_file(dst, out_path)
    except AudioOnlyError:  # sound only: skipped like an MP3
        return skip_record(job.input_url(item), AUDIO_ONLY_REASON, format=fmt)
    except Exception as exc:  # one bad video must never stop the partition
        return error_record(job.input_url(item), exc, time.perf_counter() - start)
    record = result.to_record()
    record["input"] = job.input_url(item)
    record["output"] = out_url
    record["seconds"] = round(time.perf_counter() - start, 4)
    record["_bytes_out"] = size
    return record


# -- driver side: planning --------------------------------------------------------


_spool = spool_folder  # the worker's spool folder for videos (:func:`minface.engine.store.spool_folder`)


def _require() -> None:
    try:
        import distributed  # noqa: F401
        import fsspec  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            f"minface.distributed needs Dask and fsspec ({exc.name or exc} is missing): pip install 'minface[dask]'"
        ) from exc


# -- driver side: the job ---------------------------------------------------------


def _default_client() -> Client | None:
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        return None


def _local_cluster(workers: int | None) -> tuple[Client, Any]:
    """A LocalCluster of ``workers`` processes (default: one per CPU), one thread each, listening on localhost only."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers or default_threads(),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    return Client(cluster, set_as_default=False), cluster


def scrub(
    inputs: str | os.PathLike | Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    client: Client | None = None,
    preset: str = "balanced",
    min_face: float | None = None,
    threshold: float | None = None,
    backend: str = "auto",
    device: str = "cpu",
    threads: int = 1,
    turned: bool = True,
    method: str = "fill",
    shape: str = "ellipse",
    pad: float = DEFAULT_PAD,
    color: tuple[int, int, int] = (0, 0, 0),
    blocks: int = 6,
    strength: float = 0.25,
    quality: int | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    overwrite: bool = False,
    partition_size: int | None = None,
    retries: int = 2,
    report: str | os.PathLike | IO[str] | None = None,
    storage_options: dict[str, Any] | None = None,
    output_storage_options: dict[str, Any] | None = None,
    dry_run: bool = False,
    progress: bool = False,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    format: str | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    video_quality: int | None = None,
    keep_audio: bool = False,
    max_video_pixels: int | None = DEFAULT_MAX_VIDEO_PIXELS,
    max_video_seconds: float | None = DEFAULT_MAX_VIDEO_SECONDS,
) -> DistributedReport:
    """Scrub files from any fsspec store into another on a Dask cluster.

    Parameters
    ----------
    inputs : str, path or list of them
        fsspec URLs (``s3://bucket/photos/``, ``gs://...``, ``memory://...``,
        ``file://...``) or local paths: files, folders (walked recursively) or
        globs (``s3://bucket/photos/**/*.jpg``). All in one store.
    output : str or path
        URL prefix (folder) of the outputs; the inputs' tree below their common
        folder is mirrored under it, as the CLI does.
    client : distributed.Client, optional
        Where to run. Default: the current default client if there is one, else
        a ``LocalCluster`` with one single-threaded worker process per CPU,
        closed at the end.
    preset, min_face, threshold, backend, device
        Detection, as for :class:`minface.Detector`; checked on the driver first.
    threads : int
        Inference threads per task (default 1: parallelism comes from the
        cluster's worker threads, one per core).
    turned : bool
        Also search images turned by 90, 180 and 270 degrees (default), for
        photos that lost their orientation tag (see :class:`minface.Detector`).
    method, shape, pad, color, blocks, strength, quality, max_pixels
        As for :func:`minface.scrub`.
    overwrite : bool
        Redo outputs that exist. Default: skip them (resume).
    partition_size : int, optional
        Files per task. Default: enough partitions for about eight per worker
        thread, at most 50 files each, so a lost worker costs little and the
        last partitions finish together.
    retries : int
        Extra attempts for a partition task that raises (passed to Dask). A
        partition whose worker dies is rerun by the scheduler (up to its
        ``distributed.scheduler.allowed-failures``); one that still fails that
        way is split into single files, run one at a time, so only the file
        that kills workers is reported as failed.
    report : str, path or text file, optional
        Appends one JSON object per input (the CLI's records, with URLs for
        ``input`` and ``output``) to this URL or open file, as results arrive.
    storage_options : dict, optional
        Options of the input store (and of the output and report stores, unless
        ``output_storage_options`` is given), e.g. ``{"anon": True}``.
    output_storage_options : dict, optional
        Options of the output and report stores, when they differ.
    dry_run : bool
        Plan only: every file that would be scrubbed gets a ``skipped`` record
        (``reason`` "dry run"); nothing is submitted or written.
    progress : bool
        A progress bar (tqdm if installed) on stderr.
    on_record : callable, optional
        Called on the driver with each record as it arrives.
    format : str, optional
        Output format (``"JPEG"``, ``"PNG"``, ``"WEBP"``); outputs then get its
        extension. Default: each input's own.
    video_quality, keep_audio, max_video_pixels, max_video_seconds
        Videos (``minface[video]`` on the workers): scrubbed into MP4 files
        (``clip.mov`` -> ``clip.mp4``), see :func:`minface.video.scrub_video`.
        A worker copies a video from a store that is not a local disk to a
        local temporary file first.
    include, exclude : list of str
        Glob patterns choosing files, as the command line's ``--include`` and
        ``--exclude`` (:class:`minface.walk.Filter`). Files that are not images
        (text, system files, videos) get ``skipped`` records, decided from their
        content on the workers; they are never written to the output.

    Returns
    -------
    DistributedReport
        The totals (files ok / failed / skipped, faces, bytes in and out, seconds).

    Raises
    ------
    minface.MissingDependencyError
        Dask or fsspec (or the store's fsspec backend) is not installed.
    ValueError
        Bad options, inputs in several stores, or an output that is a file.

    Examples
    --------
    >>> from distributed import Client, LocalCluster          # doctest: +SKIP
    >>> import minface.distributed                            # doctest: +SKIP
    >>> with Client(LocalCluster(n_workers=4, threads_per_worker=1)):   # doctest: +SKIP
    ...     summary = minface.distributed.scrub("s3://archive/photos/", "s3://archive-clean/photos/",
    ...                                         report="s3://archive-clean/scrub.jsonl")
    >>> print(summary.to_text())                              # doctest: +SKIP
    """
    _require()
    start = time.perf_counter()
    if partition_size is not None and partition_size < 1:
        raise ValueError(f"partition_size must be at least 1, got {partition_size}")
    from .pipeline import _out_format

    out_format = _out_format(format)
    options = ScrubJob(
        preset=preset,
        min_face=min_face,
        threshold=threshold,
        backend=backend,
        device=device,
        threads=threads,
        turned=turned,
        method=method,
        shape=shape,
        pad=pad,
        color=parse_color(color),
        blocks=blocks,
        strength=strength,
        quality=quality,
        format=out_format,
        overwrite=overwrite,
        max_pixels=max_pixels,
        video_quality=video_quality,
        keep_audio=keep_audio,
        max_video_pixels=max_video_pixels,
        max_video_seconds=max_video_seconds,
    )
    options.check()  # the options of every scrub, checked before any work
    in_options = dict(storage_options or {})
    out_options = dict(in_options if output_storage_options is None else output_storage_options)
    urls = [os.fspath(inputs)] if isinstance(inputs, (str, os.PathLike)) else [os.fspath(u) for u in inputs]
    if not urls:
        raise ValueError("no inputs given")

    from .media import FORMAT_EXTENSIONS

    suffix = FORMAT_EXTENSIONS[out_format][0] if out_format else None
    items, planned, in_fs, out_fs, out_root = plan_store(
        urls, os.fspath(output), in_options, out_options, Filter(include, exclude), suffix
    )
    if out_fs.isfile(out_root):
        raise ValueError(f"{out_fs.unstrip_protocol(out_root)} exists and is not a folder")
    job = _PartitionJob(options, FsspecStore(in_fs), FsspecStore(out_fs))
    summary = DistributedReport()
    writer = ReportWriter(report, out_options)
    summary.report = writer.url
    own: list[Any] = []  # the client and the cluster this call started, closed at the end
    executor: DaskExecutor | None = None

    def executor_for(todo: list[_Item]) -> DaskExecutor:
        nonlocal client, executor
        if client is None:
            client = _default_client()
        if client is None:
            client, cluster = _local_cluster(None)
            own.extend([client, cluster])
        executor = DaskExecutor(
            client,
            functools.partial(_scrub_partition, job),
            retries=retries,
            name="minface-scrub",
            records_of=records_of,
            name_of=job.input_url,
            partition_size=partition_size,
        )
        summary.threads = executor.threads()
        return executor

    def records_of(items: list[_Item], result: dict[str, Any]) -> list[dict[str, Any]]:
        summary.bytes_in += result["bytes_in"]
        summary.bytes_out += result["bytes_out"]
        return result["records"]

    try:
        run_plan(
            items,
            planned,
            inputs=job.inputs,
            outputs=job.outputs,
            root=out_root,
            executor_for=executor_for,
            summary=summary,
            writer=writer,
            on_record=on_record,
            overwrite=overwrite,
            dry_run=dry_run,
            progress=progress,
            desc="scrub",
        )
    finally:
        if executor is not None:
            summary.partitions = executor.submitted
        for thing in own:
            thing.close()
        writer.close()
        summary.seconds = time.perf_counter() - start
    return summary


# -- command line -----------------------------------------------------------------


def scrub_from_cli(
    inputs: Sequence[str],
    output: str,
    *,
    scheduler: str | None,
    workers: int | None,
    report: str | None,
    overwrite: bool,
    quiet: bool,
    **scrub_options: Any,
) -> int:
    """``minface scrub ... --scheduler ADDRESS`` or ``--dask``: run :func:`scrub` and print like the CLI.

    Parameters
    ----------
    inputs, output
        URLs or local paths, as for :func:`scrub`.
    scheduler : str or None
        Address of a running Dask scheduler (``tcp://host:8786``); None starts a
        ``LocalCluster`` of ``workers`` single-threaded processes.
    workers : int or None
        Worker processes of the local cluster (default: one per CPU); ignored
        with ``scheduler``.
    report : str or None
        JSON-lines report URL or path (appended to).
    overwrite, quiet
        As the CLI's ``--overwrite`` and ``--quiet``.
    **scrub_options
        The other keyword arguments of :func:`scrub` (``preset``, ``method``,
        ``dry_run``, ...).

    Returns
    -------
    int
        The exit code: 0 all done, 1 some files failed, 130 interrupted.
    """
    _require()
    from distributed import Client

    dry_run = bool(scrub_options.get("dry_run"))
    cluster = None
    if dry_run:
        client = None  # nothing is submitted
    elif scheduler:
        client = Client(scheduler, set_as_default=False)
    else:
        client, cluster = _local_cluster(workers)
    if client is not None and not quiet:
        n = cluster_threads(client)
        print(f"dask: {len(client.nthreads())} worker(s), {n} thread(s) at {client.scheduler.address}", file=sys.stderr)

    def show(record: dict[str, Any]) -> None:
        if record.get("status") == "error":
            print(f"error: {record.get('input')}: {record.get('error')}", file=sys.stderr)
        elif dry_run and record.get("reason") == "dry run":
            print(f"{record.get('input')} -> {record.get('output')}")

    try:
        summary = scrub(
            inputs,
            output,
            client=client,
            report=report,
            overwrite=overwrite,
            progress=not quiet,
            on_record=show,
            **scrub_options,
        )
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    print(summary.to_text(), file=sys.stderr)
    return summary.exit_code
