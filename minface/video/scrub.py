"""Scrub one video: decode -> detect in batches -> track -> redact -> encode, streaming.

Three threads overlap: one decodes (and turns each frame upright by its
display matrix), the calling thread detects faces in batches of frames
(:meth:`minface.Detector.detect_batch`, so ``device="cuda"`` keeps the GPU
busy) and paints them, one encodes. Frames pass between them through small
queues bounded by bytes, and the painting waits in a window of ``lookback``
frames, so that a frame is painted only once the detections of the frames after
it are known (:mod:`minface.video.tracking`). Frames wait as I420 (half the
bytes of RGB; :mod:`minface.video.frames`), so memory is the window and a few
hundred megabytes of queues, whatever the video's length; ``max_pixels`` is
checked on every decoded frame, not only on the size the container declares.

The output is written fresh, never copied from the input:

* **H.264 in an MP4 file, yuv420p**: what every player, browser, phone and
  editor reads. MP4 holds no QuickTime ``udta``/``meta`` boxes unless a writer
  puts them there, and minface writes none: no container or stream tags, no
  chapters, no subtitle or data track (GPS tracks, camera motion), no cover
  art or attachment. The index is put at the front (``faststart``) so the file
  plays while it downloads. Odd frame sizes lose their last row or column
  (4:2:0 needs even sizes).
* **Every frame, at its own time**: the frame count and each frame's
  presentation time are kept (the input's time base), so variable-frame-rate
  phone videos stay in sync with their sound.
* **Upright**: the rotation is applied to the pixels; the output carries none.
* **Audio** is dropped unless ``keep_audio``: a voice identifies a person.
  Kept, its packets are copied unchanged (AAC, MP3, Opus, AC-3, FLAC, ALAC) or
  re-encoded to AAC when MP4 cannot hold them, and its tags are not.

The output goes to a temporary file beside ``dst`` and is renamed into place
only when complete; a video that fails (truncated, corrupt, over a limit)
leaves nothing behind.
"""

from __future__ import annotations

import copy
import os
import stat
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .._defaults import DEFAULT_PAD, DEFAULT_VIDEO_MIN_FACE
from .._temp import temporary_name
from ..errors import ImageWriteError, MinfaceError, UnsupportedImageError
from ..results import ScrubResult, check_destination, text_mode as _text_mode
from .container import (
    DEFAULT_MAX_VIDEO_PIXELS,
    DEFAULT_MAX_VIDEO_SECONDS,
    CorruptVideoError,
    VideoLimitError,
    open_input,
    require_av,
    UPRIGHT,
    display,
)
from .frames import STOPPED, ByteQueue, decoded_i420, i420_size, i420_to_rgb, rgb_to_i420
from .tracking import SceneCuts, Tracker

__all__ = ["scrub_video", "VideoScrubResult", "DEFAULT_VIDEO_QUALITY", "DEFAULT_VIDEO_MIN_FACE", "AUDIO_COPY", "video_detector"]

#: Default ``video_quality``: the H.264 constant rate factor (0 lossless .. 51 worst; 18-23 look like the input).
DEFAULT_VIDEO_QUALITY = 20
#: Audio codecs copied into the MP4 as they are (others are re-encoded to AAC).
AUDIO_COPY = frozenset({"aac", "mp3", "opus", "ac3", "eac3", "flac", "alac"})
#: x264 speed preset: fast enough to keep up with detection on a CPU, with little loss in size.
X264_PRESET = "veryfast"
#: With ``turned``, the orientation vote runs on every this many frames; the frames between are
#: searched in full in the orientations the last vote chose (see :meth:`minface.Detector.detect_frames`).
VOTE_EVERY = 4
#: Bytes of frames each queue between the threads holds at most (one frame always fits).
QUEUE_BYTES = 64 << 20
#: Bytes of RGB frames searched in one detection call at most (``batch`` frames, fewer when they are large).
BATCH_BYTES = 96 << 20
#: Bytes of frames the painting window holds: past it, frames are painted with fewer frames after them known
#: (at least one), so very large frames are tracked backwards over fewer frames than ``lookback``.
WINDOW_BYTES = 192 << 20
#: Bytes the decoder's and the encoder's threads may hold in frames: fewer threads for larger frames.
CODEC_BYTES = 384 << 20
#: Frames larger than this (pixels) are encoded without B-frames or lookahead, which hold many frames.
LEAN_ENCODE_PIXELS = 3840 * 2160
#: RGB frames larger than this (bytes) send one tile per inference to the model.
BATCH_TILES_BYTES = 8 << 20

_END = object()


@dataclass
class VideoScrubResult(ScrubResult):
    """What :func:`scrub_video` did to one video; ``to_record()`` is one line of the JSON report.

    ``faces`` holds one entry per track (a face followed through the frames):
    ``{"track", "first", "last", "detections"}`` (frame indices, and the
    number of frames in which the detector itself found it).
    ``faces_per_frame`` gives the ``mean`` and ``max`` number of faces covered
    per frame and the number of ``frames_with_faces``; ``bridged`` counts the
    boxes painted by tracking where the detector found nothing.
    """

    kind: str = "video"
    fps: float = 0.0
    duration: float = 0.0
    tracks: int = 0
    faces_per_frame: dict[str, float] = field(default_factory=dict)
    bridged: int = 0
    scene_cuts: int = 0
    rotation: int = 0
    mirrored: bool = False
    audio: str = "none"  # "none" (the input has none), "dropped" or "kept"
    #: ``documents=True`` / ``text="all"``: frames searched for text and regions painted per kind
    documents: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Item:
    index: int
    pts: int
    pixels: np.ndarray  # I420, as shown (see :mod:`minface.video.frames`)
    audio: list = field(default_factory=list)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _bytes(item: Any) -> int:
    return int(item.pixels.nbytes) if isinstance(item, _Item) else 0


def _put(q: ByteQueue, item: Any, stop: threading.Event) -> bool:
    """Put ``item`` unless the pipeline is stopping (returns False then)."""
    return q.put(item, stop)


def _get(q: ByteQueue, stop: threading.Event, other: threading.Thread | None = None) -> Any:
    item = q.get(stop, other)
    return _Failure(MinfaceError("the video pipeline stopped")) if item is STOPPED else item


def scrub_video(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    detector: Any = None,
    preset: str = "balanced",
    min_face: float | None = None,
    method: str = "fill",
    shape: str = "ellipse",
    pad: float = DEFAULT_PAD,
    color: Any = (0, 0, 0),
    blocks: int = 6,
    strength: float = 0.25,
    video_quality: int | None = None,
    keep_audio: bool = False,
    max_pixels: int | None = DEFAULT_MAX_VIDEO_PIXELS,
    max_seconds: float | None = DEFAULT_MAX_VIDEO_SECONDS,
    batch: int = 4,
    max_gap: int = 12,
    lookback: int = 8,
    overwrite: bool = False,
    output_root: str | os.PathLike | None = None,
    format: str | None = None,
    turned: bool = True,
    documents: bool = False,
    text: str | None = None,
    text_every: int = 5,
) -> VideoScrubResult:
    """Write a copy of the video ``src`` to ``dst`` (an MP4) with every face destroyed in every frame.

    Parameters
    ----------
    src : path
        MP4, MOV, M4V, MKV, WebM, AVI (and other containers FFmpeg reads).
    dst : path
        The output MP4 file (H.264, yuv420p), named ``.mp4`` (any other name is refused:
        a ``.jpg`` holding a video misleads every tool). Its folder must exist or lie below ``output_root``.
    detector : minface.Detector, optional
        A detector to reuse (its own ``turned`` setting is not used: see
        ``turned``). Default: one for ``preset`` and ``min_face``.
    min_face : float, optional
        Smallest face searched, in pixels; default :data:`DEFAULT_VIDEO_MIN_FACE`.
    method, shape, pad, color, blocks, strength
        How faces are destroyed (:func:`minface.redact`).
    video_quality : int, optional
        H.264 constant rate factor, 0 (lossless) to 51; default :data:`DEFAULT_VIDEO_QUALITY`.
    keep_audio : bool
        Keep the first audio stream (default: dropped, since voices identify people).
    max_pixels, max_seconds : optional
        Largest frame and longest video accepted (None: no limit).
    batch : int
        Frames per detection call.
    max_gap, lookback : int
        Frames a face is still covered after, and before, the frames where it was
        detected (:class:`minface.video.tracking.Tracker`).
    overwrite : bool
        Replace an existing ``dst``.
    output_root : path, optional
        The output folder: missing folders below it are created, none may be a link.
    format : str, optional
        The container format as :func:`minface.media.sniff` names it (default: sniffed).
    documents, text
        As for :func:`minface.scrub`: documents (``text="all"``: every text region)
        are searched every ``text_every`` frames (and at every scene cut), and each
        frame gets the regions of the searches just before and just after it.
    turned : bool
        Frames are first shown as players show them (the display matrix: rotation
        and mirroring); with ``turned`` (default) they are also searched turned by
        90, 180 and 270 degrees, for a video whose matrix was lost or is wrong: the
        orientation vote runs every :data:`VOTE_EVERY` frames and the frames between
        are searched in the orientations it chose. ``False``: upright only.

    Raises
    ------
    minface.MinfaceError
        Unreadable or truncated video, a limit exceeded, a write error; nothing is written.

    Examples
    --------
    >>> import tempfile, os, numpy as np, minface
    >>> from minface.video import scrub_video
    >>> d = tempfile.mkdtemp()
    >>> _ = write_test_clip(os.path.join(d, "in.mp4"))  # 6 frames of a plain grey picture
    >>> r = scrub_video(os.path.join(d, "in.mp4"), os.path.join(d, "out.mp4"), preset="fast")
    >>> r.status, r.frames, r.tracks, sorted(os.listdir(d))
    ('ok', 6, 0, ['in.mp4', 'out.mp4'])
    """
    start = time.perf_counter()
    av = require_av()
    name = os.fspath(src)
    quality = DEFAULT_VIDEO_QUALITY if video_quality is None else int(video_quality)
    if not 0 <= quality <= 51:
        raise ValueError(f"video_quality must be 0-51 (an H.264 CRF), got {quality}")
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    if os.path.splitext(os.fspath(dst))[1].lower() != ".mp4":
        raise ImageWriteError(f"{os.fspath(dst)}: a video is written as an MP4 file; give an output name ending in .mp4")
    check_destination(src, dst, overwrite, False, same_hint="a video is written to a new file")
    if format is None:
        from ..media import classify, read_head

        try:
            kind = classify(name, read_head(name))
        except OSError as exc:
            raise CorruptVideoError(f"{name}: cannot read ({exc.strerror or exc})") from exc
        if kind.kind != "video":
            raise UnsupportedImageError(f"{name}: not a video ({kind.format or kind.reason})")
        format = kind.format
    if detector is None:
        detector = video_detector(preset, min_face)
    elif not turned and getattr(detector, "turned", False):
        detector = copy.copy(detector)  # upright frames only
        detector.turned = False

    container, stream, info = open_input(name, format)
    tmp: Path | None = None
    try:
        if max_pixels is not None and info.width * info.height > max_pixels:
            raise VideoLimitError(
                f"{name}: frames of {info.width}x{info.height} = {info.width * info.height:,} pixels exceed "
                f"max_pixels={max_pixels:,} (raise the limit to scrub it)"
            )
        if max_seconds is not None and info.duration is not None and info.duration > max_seconds:
            raise VideoLimitError(
                f"{name}: {info.duration:,.0f} s long, over max_seconds={max_seconds:,.0f} (raise the limit to scrub it)"
            )
        tmp = _temporary(Path(os.fspath(dst)), output_root)
        result = _run(
            av, container, stream, info, name, tmp, detector,
            style=dict(method=method, shape=shape, pad=pad, color=color, blocks=blocks, strength=strength),
            quality=quality, keep_audio=keep_audio, max_seconds=max_seconds, batch=batch,
            max_gap=max_gap, lookback=max(lookback, text_every), turned=turned, max_pixels=max_pixels,
            text_mode=_text_mode(documents, text), text_every=max(1, text_every),
        )
        os.chmod(tmp, 0o666 & ~_umask())
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dst)
        tmp = None
    finally:
        container.close()
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    result.output = os.fspath(dst)
    result.seconds = round(time.perf_counter() - start, 4)
    return result


def video_detector(preset: str = "balanced", min_face: float | None = None, **options: Any) -> Any:
    """The detector videos get by default: faces from :data:`DEFAULT_VIDEO_MIN_FACE` px (orientations: see :func:`scrub_video`).

    ``options``: the other arguments of :class:`minface.Detector` (``threshold``,
    ``backend``, ``device``, ``threads``).
    """
    from ..detect import Detector

    return Detector(preset, min_face=DEFAULT_VIDEO_MIN_FACE if min_face is None else min_face, turned=False, **options)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary(dst: Path, root: str | os.PathLike | None) -> Path:
    """Create the folders down to ``dst`` (below ``root``, none a link) and an empty temporary file beside it."""
    if root is not None:
        rel = os.path.relpath(os.path.abspath(dst.parent), os.path.abspath(root))
        if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
            raise ImageWriteError(f"{dst}: lies outside the output folder {root}")
        here = Path(root)
        for part in () if rel == os.curdir else Path(rel).parts:
            here = here / part
            try:
                os.mkdir(here)
            except FileExistsError:
                pass
            except OSError as exc:
                raise ImageWriteError(f"{dst}: cannot create the folder {here} ({exc.strerror or exc})") from exc
            if stat.S_ISLNK(os.lstat(here).st_mode):
                raise ImageWriteError(f"{dst}: the output folder {here} is a symbolic link; nothing is written through links")
    try:
        if stat.S_ISLNK(os.lstat(dst).st_mode):
            raise ImageWriteError(f"{dst}: is a symbolic link; nothing is written through links")
    except FileNotFoundError:
        pass
    except OSError as exc:  # a name too long for the file system, say
        raise ImageWriteError(f"{dst}: cannot write ({exc.strerror or exc})") from exc
    for _ in range(100):
        tmp = dst.parent / temporary_name(dst.name)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise ImageWriteError(f"{dst}: cannot write in {dst.parent} ({exc.strerror or exc})") from exc
        os.close(fd)
        return tmp
    raise ImageWriteError(f"{dst}: cannot find a free temporary name")  # pragma: no cover


def _run(
    av: Any,
    container: Any,
    stream: Any,
    info: Any,
    name: str,
    tmp: Path,
    detector: Any,
    *,
    style: dict[str, Any],
    quality: int,
    keep_audio: bool,
    max_seconds: float | None,
    batch: int,
    max_gap: int,
    lookback: int,
    turned: bool,
    max_pixels: int | None,
    text_mode: str | None = None,
    text_every: int = 5,
) -> VideoScrubResult:
    from ..redact import redact

    stop = threading.Event()
    q_in = ByteQueue(QUEUE_BYTES, 2 * batch, _bytes)
    q_out = ByteQueue(QUEUE_BYTES, 4, _bytes)
    tb = info.time_base
    audio_in = container.streams.audio[0] if (keep_audio and container.streams.audio) else None
    copy_audio = audio_in is not None and audio_in.codec_context.name in AUDIO_COPY
    state: dict[str, Any] = {"display": UPRIGHT, "frames": 0}

    def reader() -> None:
        try:
            stream.thread_type = "AUTO"
            stream.codec_context.thread_count = _threads(info.width, info.height)
            index = 0
            last_pts: int | None = None
            step = max(1, int(round(1 / (float(tb) * (info.fps or 30.0)))))
            pending_audio: list = []
            others_end = None  # where the packets of the other streams end (seconds)
            last_duration = 0
            for packet in container.demux():  # every stream, to know where the file's content ends
                if packet.stream is not stream:
                    others_end = _packet_end(packet, others_end)
                    if packet.stream is not audio_in:
                        continue
                if packet.stream.type == "audio":
                    if packet.dts is None:
                        continue
                    if copy_audio:
                        pending_audio.append(packet)
                    else:
                        pending_audio.extend(packet.decode())
                    continue
                for frame in packet.decode():
                    if max_pixels is not None and frame.width * frame.height > max_pixels:
                        raise VideoLimitError(
                            f"{name}: frame {index} is {frame.width}x{frame.height} = {frame.width * frame.height:,} "
                            f"pixels, over max_pixels={max_pixels:,} (raise the limit to scrub it)"
                        )
                    if index == 0:
                        state["display"] = display(frame)
                    pts = frame.pts if frame.pts is not None else (0 if last_pts is None else last_pts + step)
                    if last_pts is not None and pts <= last_pts:
                        pts = last_pts + 1  # an encoder needs increasing times
                    last_pts = pts
                    last_duration = int(getattr(frame, "duration", None) or 0)
                    if max_seconds is not None and float((pts - (stream.start_time or 0)) * tb) > max_seconds:
                        raise VideoLimitError(f"{name}: longer than max_seconds={max_seconds:,.0f} (raise the limit to scrub it)")
                    pixels = decoded_i420(frame, state["display"], name)
                    del frame
                    item = _Item(index, pts, pixels, pending_audio)
                    pending_audio = []
                    index += 1
                    if not _put(q_in, item, stop):
                        return
            if audio_in is not None and not copy_audio:
                pending_audio.extend(audio_in.codec_context.decode(None))  # the decoder's last frames
            video_end = None  # where the last decoded frame ends: a damaged last packet decodes to nothing
            if last_pts is not None:
                video_end = float((last_pts + last_duration) * tb) if last_duration > 0 else float(last_pts * tb) + 1 / (info.fps or 30.0)
            _check_complete(name, info, container, stream, index, video_end, others_end)
            state["frames"] = index
            state["tail_audio"] = pending_audio
            _put(q_in, _END, stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            _put(q_in, _Failure(exc), stop)

    def writer() -> None:
        out = None
        try:
            vs = a_out = None
            while True:
                item = _get(q_out, stop)
                if isinstance(item, _Failure):
                    return
                if item is _END:
                    break
                if out is None:
                    out, vs, a_out = _open_output(av, tmp, i420_size(item.pixels), info, quality, audio_in, copy_audio)
                _mux_audio(out, a_out, item.audio, copy_audio)
                frame = av.VideoFrame.from_ndarray(item.pixels, format="yuv420p")
                item.pixels = None  # type: ignore[assignment]
                if (frame.width, frame.height) != (vs.width, vs.height):  # the stream changed its frame size
                    frame = frame.reformat(width=vs.width, height=vs.height)
                frame.pts = item.pts
                frame.time_base = tb
                for p in vs.encode(frame):
                    out.mux(p)
            if out is None:
                raise CorruptVideoError(f"{name}: no frame could be decoded")
            _mux_audio(out, a_out, state.get("tail_audio") or [], copy_audio)
            for p in vs.encode():
                out.mux(p)
            if a_out is not None and not copy_audio:
                for p in a_out.encode():
                    out.mux(p)
            out.close()
            out = None
            state["written"] = True
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            state["writer_error"] = exc
            stop.set()
        finally:
            if out is not None:
                try:
                    out.close()
                except Exception:  # noqa: BLE001
                    pass

    t_read = threading.Thread(target=reader, name="minface-video-decode", daemon=True)
    t_write = threading.Thread(target=writer, name="minface-video-encode", daemon=True)
    t_read.start()
    t_write.start()

    tracker = Tracker(max_gap=max_gap, lookback=lookback)
    cuts = SceneCuts()
    window: deque[_Item] = deque()
    held = [0]  # bytes of the frames in the window
    counts: list[int] = []
    stats = {"bridged": 0}
    detector_name = [None]

    texts: dict[int, Any] = {}  # frame index -> TextResult, for the frames searched for text
    text_kinds: dict[str, int] = {}

    def text_regions(item: _Item) -> list:
        """The text regions of the searches just before and just after this frame (older searches dropped)."""
        before = max((k for k in texts if k <= item.index), default=None)
        after = min((k for k in texts if k > item.index), default=None)
        regions = []
        if before is not None:
            regions += texts[before].regions
        if after is not None and after - item.index < text_every:
            regions += texts[after].regions
            if before is not None and before < item.index:  # where the lines moved to in between
                from ..documents.motion import between

                t = (item.index - before) / (after - before)
                regions += between(texts[before].regions, texts[after].regions, t)
        for k in [k for k in texts if before is not None and k < before]:
            del texts[k]
        return regions

    def emit(item: _Item) -> None:
        boxes, kinds = tracker.boxes(item.index)
        regions = text_regions(item) if text_mode is not None else []
        if len(boxes) or regions:
            rgb = i420_to_rgb(item.pixels)
            if len(boxes):
                redact(rgb, boxes, copy=False, **style)
            if regions:
                from ..documents.finder import TextResult
                from ..documents.paint import paint_text

                paint_text(rgb, TextResult(regions), **{k: style[k] for k in ("method", "color", "blocks", "strength")})
            item.pixels = rgb_to_i420(rgb)
            del rgb
        counts.append(len(boxes))
        stats["bridged"] += sum(k != "detected" for k in kinds)
        tracker.release(item.index + 1)
        if not _put(q_out, item, stop):
            raise _writer_error(state, name)

    voted: list[Any] = [None]  # the orientations the last vote chose

    def search(items: list[_Item], rgb: list[np.ndarray]) -> list[Any]:
        # tiles per inference: the model's activations for a batch of large tiles outweigh the frames
        tiles = batch if max(px.nbytes for px in rgb) <= BATCH_TILES_BYTES else 1
        if not turned or not hasattr(detector, "detect_frames"):  # a detector of its own: as it searches
            return detector.detect_batch(rgb, batch=tiles)
        votes = [i for i, it in enumerate(items) if it.index % VOTE_EVERY == 0 or voted[0] is None and i == 0]
        found: list[Any] = [None] * len(items)
        if votes:
            faces, chosen = detector.detect_frames([rgb[i] for i in votes], [None] * len(votes), batch=tiles)
            for i, f in zip(votes, faces):
                found[i] = f
            plan = dict(zip(votes, chosen))
        else:
            plan = {}
        rest, orient = [], []
        for i in range(len(items)):
            if i in plan:
                voted[0] = plan[i]
            elif found[i] is None:
                rest.append(i)
                orient.append(voted[0])
        if rest:
            faces, _ = detector.detect_frames([rgb[i] for i in rest], orient, batch=tiles)
            for i, f in zip(rest, faces):
                found[i] = f
        return found

    def detect(items: list[_Item]) -> None:
        rgb = [i420_to_rgb(it.pixels) for it in items]
        found = search(items, rgb)
        for it, faces, px in zip(items, found, rgb):
            detector_name[0] = faces.detector
            cut = cuts(px)
            tracker.update(it.index, faces.xyxy, cut=cut)
            if text_mode is not None and (it.index % text_every == 0 or cut):
                from ..documents.finder import shared_finder

                res = shared_finder().find(px, text_mode, portraits=lambda crop: detector(crop).xyxy)
                texts[it.index] = res
                text_kinds["frames_searched"] = text_kinds.get("frames_searched", 0) + 1
                for kind, count in res.kinds().items():
                    text_kinds[kind] = text_kinds.get(kind, 0) + count
            window.append(it)
            held[0] += it.pixels.nbytes
            while len(window) > lookback or (len(window) > 1 and held[0] > WINDOW_BYTES):
                emit(window.popleft())

    try:
        pending: list[_Item] = []
        while True:
            item = _get(q_in, stop, t_read)
            if isinstance(item, _Failure):
                raise item.exc
            if item is _END:
                break
            pending.append(item)
            if len(pending) >= batch or len(pending) * item.pixels.nbytes * 2 >= BATCH_BYTES:
                detect(pending)
                pending = []
        if pending:
            detect(pending)
        while window:
            emit(window.popleft())
        _put(q_out, _END, stop)
        t_write.join()
        if "writer_error" in state or not state.get("written"):
            raise _writer_error(state, name)
    except BaseException as exc:
        stop.set()
        t_read.join(timeout=5)
        t_write.join(timeout=5)
        if isinstance(exc, (av.FFmpegError,)):
            raise CorruptVideoError(f"{name}: truncated or damaged, cannot decode ({exc})") from exc
        raise
    n = state["frames"]
    summary = tracker.summary()
    arr = np.asarray(counts, np.float64)
    shown = state["display"]
    w, h = shown.size(info.width, info.height)
    return VideoScrubResult(
        input=name,
        output=None,
        status="ok",
        width=w - w % 2,
        height=h - h % 2,
        faces=summary,
        format="MP4",
        frames=n,
        detector=detector_name[0],
        fps=round(float(info.fps or 0.0), 3),
        duration=round(float(info.duration or 0.0), 3),
        tracks=len(summary),
        faces_per_frame={
            "mean": round(float(arr.mean()), 3) if len(arr) else 0.0,
            "max": int(arr.max()) if len(arr) else 0,
            "frames_with_faces": int((arr > 0).sum()),
        },
        bridged=int(stats["bridged"]),
        scene_cuts=len(tracker.cuts),
        rotation=shown.rotation,
        mirrored=shown.mirrored,
        audio="none" if not container.streams.audio else ("kept" if audio_in is not None else "dropped"),
        documents=dict(text_kinds) if text_mode is not None else {},
    )


def _packet_end(packet: Any, end: float | None) -> float | None:
    """``end`` or where ``packet`` ends (seconds), whichever is later."""
    t = packet.pts if packet.pts is not None else packet.dts
    if t is None or packet.stream.time_base is None:
        return end
    here = float((t + (packet.duration or 0)) * packet.stream.time_base)
    return here if end is None else max(end, here)


def _check_complete(
    name: str, info: Any, container: Any, stream: Any, frames: int, video_end: float | None, others_end: float | None
) -> None:
    """Raise :class:`CorruptVideoError` unless the decoded frames reach where the file says its video ends.

    A file cut short (a download stopped, a Matroska file still being written, a
    fragmented MP4 missing fragments) demuxes without an error up to the cut: only
    the end it declares tells. The video stream's own duration is used when the
    container has one (an MP4's track: its edit list applied, so a trimmed file is
    complete), else the container's, against the last packet of any stream (sound
    may run longer than the pictures). A Matroska or WebM file that declares no
    duration at all is refused too: a finished file has one.
    """
    tb = stream.time_base or Fraction(1, 90000)
    tolerance = max(0.02, 0.75 / (info.fps or 30.0))
    if stream.duration is not None and stream.duration > 0:
        declared = float(((stream.start_time or 0) + stream.duration) * tb)
        seen = video_end
    elif container.duration is not None and container.duration > 0:
        declared = ((container.start_time or 0) + container.duration) / 1_000_000
        seen = max((t for t in (video_end, others_end) if t is not None), default=None)
    else:
        if info.format in ("Matroska", "WebM"):
            raise CorruptVideoError(
                f"{name}: declares no duration: cut short or still being written "
                "(a finished file has one; remux it with `ffmpeg -i IN -c copy OUT` if it is complete)"
            )
        if info.frames and frames < info.frames:
            raise CorruptVideoError(f"{name}: truncated or damaged: {frames} of {info.frames} frames could be decoded")
        return
    if seen is None or seen < declared - tolerance:
        got = 0.0 if seen is None else seen - float((stream.start_time or 0) * tb)
        raise CorruptVideoError(
            f"{name}: truncated or still being written: its video ends at {got:.2f} s of "
            f"{declared - float((stream.start_time or 0) * tb):.2f} s declared ({frames} frames decoded)"
        )




def _threads(width: int, height: int) -> int:
    """Threads of a codec for frames of ``width`` x ``height``: what :data:`CODEC_BYTES` allows (0: FFmpeg's choice).

    >>> _threads(1280, 720), _threads(8192, 4352)
    (0, 1)
    """
    frame = max(1, width * height * 3 // 2)
    n = CODEC_BYTES // (8 * frame)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 0 if n >= cpus + 1 else max(1, int(n))


def _writer_error(state: dict, name: str) -> BaseException:
    exc = state.get("writer_error")
    if exc is None:
        return MinfaceError(f"{name}: the encoder stopped")
    if isinstance(exc, MinfaceError):
        return exc
    return ImageWriteError(f"{name}: cannot encode the video ({type(exc).__name__}: {exc})")


def _open_output(
    av: Any, tmp: Path, size: tuple[int, int], info: Any, quality: int, audio_in: Any, copy_audio: bool
) -> tuple[Any, Any, Any]:
    """A fresh MP4 with one H.264 stream of ``size`` (even) and the audio stream asked for; no tag, no metadata."""
    w, h = size
    out = av.open(
        os.fspath(tmp), "w", format="mp4",
        container_options={"movflags": "+faststart", "fflags": "+bitexact"},
    )
    rate = Fraction(info.fps).limit_denominator(1001) if info.fps else Fraction(30)
    vs = out.add_stream("libx264", rate=rate)
    vs.width, vs.height = w - w % 2, h - h % 2
    vs.pix_fmt = "yuv420p"
    vs.time_base = info.time_base
    vs.codec_context.time_base = info.time_base
    vs.options = {"crf": str(quality), "preset": X264_PRESET}
    if w * h > LEAN_ENCODE_PIXELS:
        vs.options = {**vs.options, "x264-params": "bframes=0:rc-lookahead=0:sync-lookahead=0:subme=0:ref=1"}
    vs.codec_context.thread_count = _threads(w, h)
    a_out = None
    if audio_in is not None:
        if copy_audio:
            a_out = out.add_stream_from_template(audio_in)
        else:
            ctx = audio_in.codec_context
            a_out = out.add_stream("aac", rate=ctx.sample_rate or 48000)
            a_out.layout = ctx.layout.name if ctx.layout else "stereo"
        for key in list(a_out.metadata):
            del a_out.metadata[key]
    return out, vs, a_out


def _mux_audio(out: Any, a_out: Any, items: list, copy_audio: bool) -> None:
    if a_out is None:
        return
    for it in items:
        if copy_audio:
            it.stream = a_out
            out.mux(it)
        else:
            for p in a_out.encode(it):
                out.mux(p)


def write_test_clip(path: str, frames: int = 6, size: tuple[int, int] = (96, 64)) -> str:
    """Write a tiny grey MP4 (for examples and tests)."""
    av = require_av()
    w, h = size
    with av.open(path, "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=15)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(np.full((h, w, 3), 120, np.uint8), format="rgb24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
    return path
