"""Opening videos with PyAV: the demuxer for the sniffed format, rotation, limits, what a file carries.

Everything that touches a container goes through here:

* :func:`require_av` imports PyAV or raises :class:`~minface.MissingDependencyError`
  with the install hint (``pip install 'minface[video]'``);
* :func:`open_input` opens a file with the demuxer of the format minface sniffed
  from its content (never FFmpeg's own guess, so a file that looks like an MP4
  cannot be read as a playlist), reading local files only;
* :func:`display` reads a frame's display matrix (rotation and mirroring), :func:`upright` applies it;
* :func:`leftovers` lists what a video still carries that could identify
  someone (tags, chapters, subtitle, data and attachment streams, a rotation):
  what ``minface verify`` reports for a video.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import MinfaceError, MissingDependencyError

__all__ = [
    "require_av",
    "available",
    "INSTALL_HINT",
    "open_input",
    "VideoInfo",
    "rotation",
    "display",
    "Display",
    "upright",
    "leftovers",
    "DEMUXERS",
    "DEFAULT_MAX_VIDEO_PIXELS",
    "DEFAULT_MAX_VIDEO_SECONDS",
    "VideoLimitError",
    "CorruptVideoError",
    "AudioOnlyError",
    "AUDIO_ONLY_REASON",
]

from .._defaults import DEFAULT_MAX_VIDEO_PIXELS, DEFAULT_MAX_VIDEO_SECONDS

#: The FFmpeg demuxer for each video format :func:`minface.media.sniff` names.
DEMUXERS = {
    "MP4": "mov",
    "MOV": "mov",
    "M4V": "mov",
    "3GP": "mov",
    "F4V": "mov",
    "Matroska": "matroska",
    "WebM": "matroska",
    "AVI": "avi",
    "MPEG-PS": "mpeg",
    "MPEG-TS": "mpegts",
    "FLV": "flv",
    "ASF": "asf",
}

INSTALL_HINT = "videos need PyAV: pip install 'minface[video]'"


class VideoLimitError(MinfaceError, ValueError):
    """A video is larger (frame size) or longer than the limit; raise the limit to scrub it."""


class CorruptVideoError(MinfaceError, OSError):
    """A video cannot be decoded to its end (truncated, damaged, or no video stream)."""


class AudioOnlyError(CorruptVideoError):
    """A video container holding sound only (``.m4a``, ``.mka``, an audio-only ``.webm``): skipped like an MP3."""


#: The ``reason`` of the ``skipped`` record of a sound-only file.
AUDIO_ONLY_REASON = "audio only (no video stream)"


def available() -> bool:
    """Whether PyAV is installed (without importing it).

    >>> isinstance(available(), bool)
    True
    """
    import importlib.util

    return importlib.util.find_spec("av") is not None


def require_av() -> Any:
    """Import and return PyAV (``av``), or raise :class:`~minface.MissingDependencyError` with the install hint."""
    try:
        import av
    except ImportError as exc:
        raise MissingDependencyError(INSTALL_HINT) from exc
    return av


@dataclass
class VideoInfo:
    """What the container says about a video before decoding (``frames``, ``duration``: None when it does not say)."""

    format: str
    width: int
    height: int
    codec: str
    time_base: Fraction
    fps: float | None
    frames: int | None
    duration: float | None
    audio: str | None  # the first audio stream's codec, or None


def open_input(path: str | os.PathLike, fmt: str | None) -> tuple[Any, Any, VideoInfo]:
    """Open a video file for reading; return the container, its first video stream and what it declares.

    Raises
    ------
    CorruptVideoError
        The file cannot be opened as ``fmt``, or has no video stream.
    """
    av = require_av()
    name = os.fspath(path)
    demuxer = DEMUXERS.get(fmt or "")
    options = {"protocol_whitelist": "file", "enable_drefs": "0"}
    try:
        container = av.open(name, "r", format=demuxer, options=options, metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise CorruptVideoError(f"{name}: cannot open as {fmt or 'video'} ({_ffmpeg_reason(exc)})") from exc
    try:
        stream = _main_video(container)
        if stream is None:
            if container.streams.audio:
                raise AudioOnlyError(f"{name}: {AUDIO_ONLY_REASON}")
            raise CorruptVideoError(f"{name}: no video stream")
        ctx = stream.codec_context
        if not ctx.width or not ctx.height:
            raise CorruptVideoError(f"{name}: the video stream has no frame size")
        tb = stream.time_base or Fraction(1, 90000)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        duration = None
        if stream.duration is not None and stream.duration > 0:
            duration = float(stream.duration * tb)
        elif container.duration:
            duration = container.duration / 1_000_000
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        info = VideoInfo(
            format=fmt or (container.format.name or "video"),
            width=int(ctx.width),
            height=int(ctx.height),
            codec=ctx.name,
            time_base=Fraction(tb),
            fps=float(rate) if rate else None,
            frames=int(stream.frames) if stream.frames else None,
            duration=duration,
            audio=audio,
        )
    except BaseException:
        container.close()
        raise
    return container, stream, info


def _main_video(container: Any) -> Any:
    """The video stream to scrub: the first that is not a cover picture (an attachment shown as a stream)."""
    videos = list(container.streams.video)
    for s in videos:
        picture = False
        try:
            picture = bool(int(s.disposition) & 0x400)  # AV_DISPOSITION_ATTACHED_PIC
        except (AttributeError, TypeError, ValueError):
            pass
        if not picture and s.codec_context.name not in ("mjpeg", "png", "bmp", "gif", "webp"):
            return s
    return videos[0] if videos else None


def _ffmpeg_reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).rstrip(".")


@dataclass(frozen=True)
class Display:
    """How a frame is shown, from its display matrix: transposed, then mirrored left-right and/or upside down.

    The 3x3 display matrix ``[[a, b, u], [c, d, v], [x, y, w]]`` maps a stored
    pixel ``(x, y)`` (y down) to ``(a x + c y, b x + d y)`` on screen. Every
    quarter turn, mirrored or not, is one of eight such maps: a transpose when
    ``b`` and ``c`` carry the matrix, then a flip of each screen axis whose
    coefficient is negative. This is what FFmpeg's ``autorotate`` applies
    (``transpose``, ``hflip``, ``vflip``); a matrix between quarter turns is taken
    to the nearest one.

    >>> d = Display.from_matrix((0, 1, -1, 0))  # a phone's portrait video
    >>> d.rotation, d.mirrored, d.apply(np.arange(6).reshape(2, 3)).tolist()
    (270, False, [[3, 0], [4, 1], [5, 2]])
    >>> m = Display.from_matrix((-1, 0, 0, 1))  # mirrored left-right: not a half turn
    >>> m.rotation, m.mirrored, m.apply(np.arange(6).reshape(2, 3)).tolist()
    (0, True, [[2, 1, 0], [5, 4, 3]])
    """

    transpose: bool = False
    hflip: bool = False
    vflip: bool = False

    @classmethod
    def from_matrix(cls, abcd: tuple[float, float, float, float]) -> Display:
        """The display of the 2x2 part ``(a, b, c, d)`` of a display matrix (any scale)."""
        a, b, c, d = (float(v) for v in abcd)
        if abs(a) + abs(d) >= abs(b) + abs(c):
            return cls(False, a < 0, d < 0)
        return cls(True, c < 0, b < 0)

    def apply(self, pixels: np.ndarray) -> np.ndarray:
        """``pixels`` (rows, columns[, channels]) as shown on screen."""
        out = pixels
        if self.transpose:
            out = out.swapaxes(0, 1)
        if self.hflip:
            out = out[:, ::-1]
        if self.vflip:
            out = out[::-1]
        return np.ascontiguousarray(out) if out is not pixels else pixels

    @property
    def mirrored(self) -> bool:
        """Whether the picture is shown mirrored (the matrix's determinant is negative)."""
        return self.transpose ^ self.hflip ^ self.vflip

    @property
    def rotation(self) -> int:
        """Counter-clockwise degrees (0, 90, 180, 270) of the turn, after a left-right mirror when :attr:`mirrored`."""
        probe = np.arange(6).reshape(2, 3)
        shown = self.apply(probe)
        for k in range(4):
            turned = np.rot90(probe, k)
            if self.mirrored:
                turned = turned[:, ::-1]
            if turned.shape == shown.shape and (turned == shown).all():
                return 90 * k
        raise AssertionError("unreachable")  # pragma: no cover

    def size(self, width: int, height: int) -> tuple[int, int]:
        """``(width, height)`` of a ``width`` x ``height`` frame as shown."""
        return (height, width) if self.transpose else (width, height)

    def __bool__(self) -> bool:
        return self.transpose or self.hflip or self.vflip


UPRIGHT = Display()


def display(frame: Any) -> Display:
    """How ``frame`` is shown: its display matrix (side data) decoded exactly, mirroring included."""
    try:
        for sd in frame.side_data:
            if "DISPLAYMATRIX" in str(getattr(sd, "type", "")).upper():
                m = struct.unpack("<9i", bytes(sd)[:36])
                if any(m[:2]) or any(m[3:5]):
                    return Display.from_matrix((m[0], m[1], m[3], m[4]))
    except Exception:  # noqa: BLE001 - no readable matrix: shown as stored
        pass
    return UPRIGHT


def rotation(frame: Any) -> int:
    """Counter-clockwise degrees (0, 90, 180, 270) the display matrix of ``frame`` turns it by.

    Phones store portrait videos as landscape frames with a matrix that turns
    them by -90 degrees (90 clockwise); players apply it, so must minface. A
    mirrored matrix also flips the frame: see :func:`display`.
    """
    return display(frame).rotation


def upright(pixels: np.ndarray, degrees: int | Display) -> np.ndarray:
    """``pixels`` as players show them: turned counter-clockwise by ``degrees`` (a multiple of 90), or by a :class:`Display`.

    >>> a = np.arange(6).reshape(2, 3)
    >>> upright(a, 270).tolist()  # a phone's portrait video: turned 90 degrees clockwise
    [[3, 0], [4, 1], [5, 2]]
    """
    if isinstance(degrees, Display):
        return degrees.apply(pixels)
    k = (degrees // 90) % 4
    return np.ascontiguousarray(np.rot90(pixels, k)) if k else pixels


# tags an FFmpeg-written file carries that say nothing about anyone
_GENERIC_TAGS = {
    "major_brand",
    "minor_version",
    "compatible_brands",
    "encoder",
    "handler_name",
    "vendor_id",
    "language",
    "duration",
}
_GENERIC_VALUES = {"", "und", "VideoHandler", "SoundHandler", "[0][0][0][0]", "isom", "mp41", "mp42", "avc1", "iso2"}


def _tag_items(tags: dict, where: str) -> list[str]:
    found = []
    for key, value in tags.items():
        k = str(key).lower()
        v = str(value)
        if k in _GENERIC_TAGS and (k != "encoder" or v.startswith("Lav")) and (
            k not in ("handler_name", "vendor_id", "language") or v in _GENERIC_VALUES
        ):
            continue
        found.append(f"{where} tag {key}")
    return found


def leftovers(path: str | os.PathLike, fmt: str | None = None) -> list[str]:
    """What a video file carries beyond pictures and sound that could identify someone.

    Tags other than FFmpeg's generic ones (brands, ``VideoHandler``, ``und``),
    chapters, subtitle, data and attachment streams (GPS tracks, cover art), and
    a rotation (the output of a scrub is upright). An empty list for a clean file.
    """
    container, stream, _ = open_input(path, fmt)
    try:
        found = _tag_items(dict(container.metadata), "container")
        if getattr(container, "chapters", None):
            try:
                if container.chapters():
                    found.append("chapters")
            except TypeError:
                found.append("chapters")
        for s in container.streams:
            kind = s.type
            if kind in ("video", "audio"):
                found += _tag_items(dict(s.metadata), f"{kind} stream")
            else:
                found.append(f"{kind} stream")
        for frame in container.decode(stream):
            shown = display(frame)
            if shown.rotation:
                found.append("rotation")
            if shown.mirrored:
                found.append("mirroring")
            break
    finally:
        container.close()
    return sorted(set(found))
