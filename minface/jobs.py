"""The batch commands: their per-file jobs (small picklable settings objects) and the batch API.

:func:`scrub_batch` and :func:`strip_batch` run a job over files and folders through
:func:`minface.batch.run_batch`.

A job is created in the process that plans the work and sent to every worker
process; calling it there loads what the work needs (the model, OpenCV) once
and returns the function applied to each :class:`minface.batch.Task`. This
module imports nothing heavy, so the planning process stays small.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._defaults import DEFAULT_MAX_PIXELS, DEFAULT_MAX_VIDEO_PIXELS, DEFAULT_MAX_VIDEO_SECONDS, DEFAULT_PAD

if TYPE_CHECKING:  # annotations only: this module stays light
    from .batch import BatchSummary
    from .colors import Color
    from .redact import Method, Shape

__all__ = ["ScrubJob", "StripJob", "VerifyJob", "scrub_batch", "strip_batch", "check_scrub_options"]


def check_scrub_options(
    *,
    preset: str = "balanced",
    min_face: float | None = None,
    threshold: float | None = None,
    backend: str = "auto",
    device: str = "cpu",
    threads: int | None = None,
    method: str = "fill",
    shape: str = "ellipse",
    blocks: int = 6,
    strength: float = 0.25,
    quality: int | None = None,
    video_quality: int | None = None,
) -> None:
    """Check a scrub's options once, before any work, without loading a model (the one check of every path).

    The detector's (:func:`minface.detect.check_options`), the painting's (as
    :func:`minface.redact` checks them), the quality of lossy photos (1-100) and of
    videos (an H.264 CRF, 0-51), the inference threads. A typo is then one error,
    not a failed record per file.

    Raises
    ------
    ValueError
        The first option that is not valid, named as the API names it.

    >>> check_scrub_options(method="smudge")
    Traceback (most recent call last):
    ...
    ValueError: unknown method 'smudge'; choose one of fill, pixelate, blur
    """
    from .detect import check_options
    from .redact import METHODS, SHAPES

    check_options(preset, min_face, threshold, backend, device)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of {', '.join(SHAPES)}")
    if blocks < 2:
        raise ValueError(f"blocks must be at least 2, got {blocks}")
    if not strength > 0:
        raise ValueError(f"strength must be positive, got {strength}")
    if quality is not None and not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1-100, got {quality}")
    if video_quality is not None and not 0 <= video_quality <= 51:
        raise ValueError(f"video_quality must be 0-51 (an H.264 CRF), got {video_quality}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")


@dataclass(frozen=True)
class ScrubJob:
    """The per-file job of a batch scrub (picklable: sent to every worker process).

    Calling it loads the detector once and returns the function applied to each task.
    """

    preset: str = "balanced"
    min_face: float | None = None
    threshold: float | None = None
    backend: str = "auto"
    device: str = "cpu"
    threads: int | None = None
    method: str = "fill"
    shape: str = "ellipse"
    pad: float = DEFAULT_PAD
    color: tuple[int, int, int] = (0, 0, 0)
    blocks: int = 6
    strength: float = 0.25
    quality: int | None = None
    #: output format ("JPEG", "PNG", ...); None: the input's
    format: str | None = None
    overwrite: bool = False
    in_place: bool = False
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    #: images per model call when detecting in batches (``device="cuda"``); 0: one file at a time
    batch: int = 0
    #: also search images turned by 90, 180 and 270 degrees (see :class:`minface.Detector`)
    turned: bool = True
    #: videos: H.264 constant rate factor (None: :data:`minface.video.scrub.DEFAULT_VIDEO_QUALITY`)
    video_quality: int | None = None
    #: videos: keep the audio (default: dropped)
    keep_audio: bool = False
    #: videos: largest frame (pixels) and longest duration (seconds); None: no limit
    max_video_pixels: int | None = DEFAULT_MAX_VIDEO_PIXELS
    max_video_seconds: float | None = DEFAULT_MAX_VIDEO_SECONDS
    #: also destroy documents in photos (minface.documents)
    documents: bool = False
    #: "all": destroy every text region (detection only)
    text: str | None = None

    #: the batch engine sends video tasks to this job too
    videos = True

    def __call__(self):  # noqa: ANN204 - returns the per-task function
        from .detect import Detector
        from .pipeline import scrub, scrub_many

        detector = Detector(
            self.preset,
            min_face=self.min_face,
            threshold=self.threshold,
            backend=self.backend,  # type: ignore[arg-type]
            device=self.device,
            threads=self.threads,
            turned=self.turned,
        )

        videos: list = []

        def run_video(task) -> dict[str, Any]:  # noqa: ANN001 - a batch.Task of kind "video"
            from .video.container import AudioOnlyError
            from .video.scrub import scrub_video, video_detector

            if not videos:  # loaded on the first video: upright frames, the video default min_face
                videos.append(
                    video_detector(
                        self.preset,
                        self.min_face,
                        threshold=self.threshold,
                        backend=self.backend,
                        device=self.device,
                        threads=self.threads,
                    )
                )
            try:
                result = scrub_video(
                    task.input,
                    task.output,
                    detector=videos[0],
                    **self.paint,
                    video_quality=self.video_quality,
                    keep_audio=self.keep_audio,
                    max_pixels=self.max_video_pixels,
                    max_seconds=self.max_video_seconds,
                    batch=self.batch or 4,
                    overwrite=self.overwrite,
                    turned=self.turned,
                    output_root=task.root,
                    format=task.format,
                    documents=self.documents,
                    text=self.text,
                )
            except AudioOnlyError as exc:  # sound only: skipped like an MP3
                return _audio_only(task, exc)
            return result.to_record()

        def run(task) -> dict[str, Any]:  # noqa: ANN001 - a batch.Task
            if getattr(task, "kind", "image") == "video":
                return run_video(task)
            return scrub(
                task.input,
                task.output,
                detector=detector,
                **self.paint,
                quality=self.quality,
                format=self.format,
                overwrite=self.overwrite,
                in_place=self.in_place,
                max_pixels=self.max_pixels,
                output_root=task.root,
                documents=self.documents,
                text=self.text,
            ).to_record()

        if self.batch > 0 and not (self.documents or self.text):  # text search goes file by file

            def many(tasks) -> list[dict[str, Any]]:  # noqa: ANN001 - a list of batch.Task
                if any(getattr(t, "kind", "image") == "video" for t in tasks):  # videos batch their own frames
                    images = [t for t in tasks if t.kind != "video"]
                    done = iter(many(images) if images else [])
                    return [run(t) if t.kind == "video" else next(done) for t in tasks]
                roots = {t.root for t in tasks}
                if len(roots) > 1:  # one output folder per batch run; anything else goes file by file
                    return [run(t) for t in tasks]
                return scrub_many(
                    [(t.input, t.output) for t in tasks],
                    detector,
                    batch=self.batch,
                    io_threads=self.threads or 1,
                    overwrite=self.overwrite,
                    in_place=self.in_place,
                    max_pixels=self.max_pixels,
                    output_root=next(iter(roots)),
                    format=self.format,
                    **self.paint,
                    quality=self.quality,
                )

            run.many = many  # type: ignore[attr-defined]
        return run

    def check(self) -> None:
        """Check the options before any work (:func:`check_scrub_options`); ``ValueError`` names the first bad one."""
        check_scrub_options(
            preset=self.preset, min_face=self.min_face, threshold=self.threshold, backend=self.backend,
            device=self.device, threads=self.threads, method=self.method, shape=self.shape, blocks=self.blocks,
            strength=self.strength, quality=self.quality, video_quality=self.video_quality,
        )

    @property
    def paint(self) -> dict[str, Any]:
        """How faces are destroyed: the keyword arguments :func:`minface.scrub` and its video and batch twins share."""
        return dict(
            method=self.method, shape=self.shape, pad=self.pad, color=self.color, blocks=self.blocks, strength=self.strength
        )

    @property
    def chunk(self) -> int:
        """Files a worker takes at once: enough for several model calls when detecting in batches."""
        return 4 * self.batch if self.batch > 0 else 1


@dataclass(frozen=True)
class StripJob:
    """The per-file job of a batch strip (picklable)."""

    keep_orientation: bool = True
    icc: str = "clean"
    verify: bool = True
    overwrite: bool = False
    in_place: bool = False
    max_pixels: int | None = DEFAULT_MAX_PIXELS

    def __call__(self):  # noqa: ANN204 - returns the per-task function
        from .metadata import strip
        from .results import OutputExistsError

        def run(task) -> dict[str, Any]:  # noqa: ANN001 - a batch.Task
            start = time.perf_counter()
            if os.path.lexists(task.output) and not (self.overwrite or self.in_place):
                raise OutputExistsError(f"{task.output}: exists; pass overwrite=True to replace it")
            rep = strip(
                task.input,
                task.output,
                keep_orientation=self.keep_orientation,
                icc=self.icc,  # type: ignore[arg-type]
                in_place=self.in_place,
                verify=self.verify,
                max_pixels=self.max_pixels,
                output_root=task.root,
            )
            kinds: dict[str, int] = {}
            for item in rep.removed:
                kinds[item.kind] = kinds.get(item.kind, 0) + item.size
            return {
                "input": os.fspath(task.input),
                "output": os.fspath(task.output),
                "status": "ok",
                "error": None,
                "format": rep.format,
                "method": rep.method,
                "removed": [{"kind": k, "bytes": v} for k, v in kinds.items()],
                "pixels_identical": rep.pixels_identical,
                "orientation": rep.orientation_handling,
                "icc": rep.icc,
                "notes": list(rep.notes),
                "seconds": round(time.perf_counter() - start, 4),
            }

        return run


@dataclass(frozen=True)
class VerifyJob:
    """The per-file job of ``minface verify`` (picklable, for worker processes)."""

    preset: str = "audit"
    min_face: float | None = None
    threshold: float | None = None
    threads: int | None = None
    backend: str = "auto"
    device: str = "cpu"
    turned: bool = True
    report: str | None = None
    check_metadata: bool = True
    min_size: float = 10.0
    #: the second network (preset ``audit`` only)
    blazeface: bool = True
    #: frames of each video searched
    video_samples: int = 16
    #: also report readable personal numbers left (minface.documents.audit)
    documents: bool = False
    #: the decompression-bomb limit of an image (None: no limit)
    max_pixels: int | None = DEFAULT_MAX_PIXELS

    #: the batch engine sends video tasks to this job too
    videos = True

    def __call__(self):  # noqa: ANN204 - returns the per-task function
        from .detect import Detector
        from .verify import load_regions, verify_file

        detector = Detector(
            self.preset,
            min_face=self.min_face,
            threshold=self.threshold,
            threads=self.threads,
            backend=self.backend,  # type: ignore[arg-type]
            device=self.device,
            turned=self.turned,
        )
        regions = load_regions(self.report) if self.report else {}
        if self.preset == "audit":  # the audit's bars; BlazeFace too unless left out (another --preset: its thresholds)
            from .audit_search import AuditSearch

            detector = AuditSearch(detector, blazeface=self.blazeface, threads=self.threads)  # type: ignore[assignment]

        def run(task) -> dict[str, Any]:  # noqa: ANN001 - a batch.Task
            if getattr(task, "kind", "image") == "video":
                from .video.audit import verify_video
                from .video.container import AudioOnlyError

                try:
                    res = verify_video(
                        task.input,
                        detector=detector,
                        samples=self.video_samples,
                        check_metadata=self.check_metadata,
                        min_size=self.min_size,
                        format=task.format,
                    )
                except AudioOnlyError as exc:  # sound only: skipped like an MP3
                    return _audio_only(task, exc)
                rec = res.to_record()
                rec["status"] = "ok" if res.status == "clean" else "leak"
                return rec
            key = os.path.abspath(task.input)
            res = verify_file(
                task.input,
                detector=detector,
                regions=regions.get(key),
                check_metadata=self.check_metadata,
                min_size=self.min_size,
                documents=self.documents,
                max_pixels=self.max_pixels,
            )
            rec = res.to_record()
            rec["status"] = "ok" if res.status == "clean" else "leak"
            return rec

        return run


def scrub_batch(
    inputs: list[str | os.PathLike] | str | os.PathLike,
    output_dir: str | os.PathLike | None = None,
    *,
    in_place: bool = False,
    jobs: int | None = None,
    overwrite: bool = False,
    report: str | os.PathLike | None = None,
    progress: bool = False,
    dry_run: bool = False,
    include: list[str] | tuple[str, ...] = (),
    exclude: list[str] | tuple[str, ...] = (),
    preset: str = "balanced",
    min_face: float | None = None,
    threshold: float | None = None,
    backend: str = "auto",
    device: str = "cpu",
    threads: int | None = None,
    method: Method = "fill",
    shape: Shape = "ellipse",
    pad: float = DEFAULT_PAD,
    color: Color = (0, 0, 0),
    blocks: int = 6,
    strength: float = 0.25,
    quality: int | None = None,
    format: str | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    batch: int = 0,
    turned: bool = True,
    video_quality: int | None = None,
    keep_audio: bool = False,
    max_video_pixels: int | None = DEFAULT_MAX_VIDEO_PIXELS,
    max_video_seconds: float | None = DEFAULT_MAX_VIDEO_SECONDS,
    documents: bool = False,
    text: str | None = None,
) -> BatchSummary:
    """Scrub files and folders (recursively) into ``output_dir``, or in place.

    Files that are not photos are skipped (a record each, never copied);
    ``include``/``exclude`` are glob patterns (:class:`minface.walk.Filter`).
    See :func:`minface.batch.run_batch` for the guarantees (atomic outputs,
    resume, one bad file never stops the batch). Safe to call from a script
    without an ``if __name__ == "__main__":`` guard.

    Parameters
    ----------
    inputs : path or list of paths
        Files and folders.
    output_dir : path, optional
        Where the outputs go, mirroring the inputs' tree (or ``in_place=True``).
    in_place, overwrite : bool
        Replace the originals (each atomically, once its new version is whole;
        a journal lets a rerun of an interrupted batch resume); replace existing outputs.
    jobs : int, optional
        Worker processes (default: one per CPU).
    report : path, optional
        JSON-lines report, one record per input.
    progress, dry_run : bool
        Show a progress bar; only list what would be done.
    preset, min_face, threshold, backend, device, turned
        The detector's settings (:class:`minface.Detector`).
    threads : int, optional
        Inference threads per worker (default: the CPUs shared among the jobs).
    method, shape, pad, color, blocks, strength
        How faces are destroyed (:func:`minface.redact`).
    quality, format, max_pixels
        Output quality and format (default: each input's), and the decompression-bomb guard,
        as in :func:`minface.scrub`.
    batch : int
        Images per model call when detecting in batches (``device="cuda"``); 0: one file at a time.
    video_quality, keep_audio, max_video_pixels, max_video_seconds
        Videos (the ``video`` extra): H.264 quality, keep the audio, the largest frame and duration.
    documents, text
        Also destroy documents in photos and video frames; ``text="all"``: every text
        region (:func:`minface.scrub`).

    Returns
    -------
    minface.batch.BatchSummary

    Raises
    ------
    ValueError
        A bad option (an unknown method, a quality outside 1-100, ...), before any file is read.

    Examples
    --------
    >>> import tempfile, minface
    >>> from importlib import resources
    >>> folder = resources.files("minface") / "examples"
    >>> summary = minface.scrub_batch([folder / "group.jpg"], tempfile.mkdtemp(), jobs=1, preset="fast")
    >>> summary.ok, summary.failed, summary.faces >= 5
    (1, 0, True)
    """
    from .batch import run_batch
    from .detect.runtimes import default_threads

    n_jobs = jobs or default_threads()
    job = ScrubJob(
        preset=preset,
        min_face=min_face,
        threshold=threshold,
        backend=backend,
        device=device,
        threads=threads or max(1, default_threads() // n_jobs),
        method=method,
        shape=shape,
        pad=pad,
        color=color,  # type: ignore[arg-type]
        blocks=blocks,
        strength=strength,
        quality=quality,
        format=format,
        overwrite=overwrite,
        in_place=in_place,
        max_pixels=max_pixels,
        batch=batch,
        turned=turned,
        video_quality=video_quality,
        keep_audio=keep_audio,
        max_video_pixels=max_video_pixels,
        max_video_seconds=max_video_seconds,
        documents=documents,
        text=text,
    )
    job.check()
    paths = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    return run_batch(
        paths,
        output_dir,
        job,
        in_place=in_place,
        overwrite=overwrite,
        jobs=n_jobs,
        report=report,
        progress=progress,
        dry_run=dry_run,
        desc="scrub",
        include=include,
        exclude=exclude,
        suffix=_suffix(format),
    )


def _suffix(fmt: str | None) -> str | None:
    """The extension outputs get in another format (None: each keeps its own name)."""
    from .media import FORMAT_EXTENSIONS
    from .pipeline import _out_format

    out = _out_format(fmt)
    return FORMAT_EXTENSIONS[out][0] if out else None


def strip_batch(
    inputs: list[str | os.PathLike] | str | os.PathLike,
    output_dir: str | os.PathLike | None = None,
    *,
    in_place: bool = False,
    jobs: int | None = None,
    overwrite: bool = False,
    report: str | os.PathLike | None = None,
    progress: bool = False,
    dry_run: bool = False,
    include: list[str] | tuple[str, ...] = (),
    exclude: list[str] | tuple[str, ...] = (),
    keep_orientation: bool = True,
    icc: str = "clean",
    verify: bool = True,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> BatchSummary:
    """Strip metadata from files and folders (recursively), with the batch guarantees of :func:`scrub_batch`.

    ``keep_orientation``, ``icc``, ``verify`` and ``max_pixels`` are those of
    :func:`minface.strip`; the other parameters those of :func:`scrub_batch`.
    """
    from .batch import run_batch
    from .detect.runtimes import default_threads

    job = StripJob(
        keep_orientation=keep_orientation, icc=icc, verify=verify, overwrite=overwrite, in_place=in_place, max_pixels=max_pixels
    )
    paths = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    return run_batch(
        paths,
        output_dir,
        job,
        in_place=in_place,
        overwrite=overwrite,
        jobs=jobs or default_threads(),
        report=report,
        progress=progress,
        dry_run=dry_run,
        desc="strip",
        include=include,
        exclude=exclude,
    )


def _audio_only(task: Any, exc: BaseException) -> dict[str, Any]:
    """The ``skipped`` record of a sound-only file met as a video (``.m4a``, ``.mka``, audio-only ``.webm``)."""
    from .video.container import AUDIO_ONLY_REASON
    from .walk import skip_record

    return skip_record(task.input, AUDIO_ONLY_REASON, format=getattr(task, "format", None))
