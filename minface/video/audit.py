"""``minface verify`` for videos: faces searched in sampled frames, the container checked for metadata.

A scrubbed video is audited like a photo, on ``samples`` frames spread evenly
over its frames *and* ``samples`` spread evenly over its duration (a
variable-frame-rate video may hold a few frames after a long gap), the first
and the last included, each turned upright by its
display matrix: a detection that still looks like an intact face
(:func:`minface.verify.audit_faces`) is an alarm, with its frame index. The
container is checked with :func:`minface.video.container.leftovers` (tags,
chapters, subtitle, data and attachment streams, a rotation).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..verify import MIN_ALARM_SIZE, VerifyResult, audit_faces, flat_paint
from .container import CorruptVideoError, display, leftovers, open_input, require_av, upright

__all__ = ["verify_video", "VideoVerifyResult", "DEFAULT_SAMPLES"]

#: Frames of a video searched by ``verify``.
DEFAULT_SAMPLES = 16


@dataclass
class VideoVerifyResult(VerifyResult):
    """:class:`minface.verify.VerifyResult` of a video; each alarm has the ``frame`` it was seen in."""

    kind: str = "video"
    frames_checked: list[int] = field(default_factory=list)


def _sample_indices(total: int, samples: int) -> list[int]:
    """``samples`` frame indices spread evenly over ``total`` frames, first and last included.

    >>> _sample_indices(100, 4), _sample_indices(3, 16)
    ([0, 33, 66, 99], [0, 1, 2])
    """
    if total <= 0:
        return []
    return sorted({int(i) for i in np.linspace(0, total - 1, min(samples, total)).round()})


def verify_video(
    path: str | os.PathLike,
    *,
    detector: Any = None,
    samples: int = DEFAULT_SAMPLES,
    check_metadata: bool = True,
    min_size: float = MIN_ALARM_SIZE,
    format: str | None = None,
) -> VideoVerifyResult:
    """Audit one video: ``samples`` frames searched for intact faces, and its metadata (see the module)."""
    require_av()
    name = os.fspath(path)
    if detector is None:
        from ..verify import _audit_search

        detector = _audit_search()
    container, stream, info = open_input(name, format)
    intact: list[dict[str, Any]] = []
    redacted = 0
    checked: list[int] = []
    try:
        total = info.frames or (int(round(info.duration * info.fps)) if info.duration and info.fps else 0)
        wanted = set(_sample_indices(total, samples)) if total else set()
        # and by time: a variable-frame-rate video may hold few frames over a long time
        start = float((stream.start_time or 0) * (stream.time_base or 0)) if stream.start_time is not None else 0.0
        times = list(np.linspace(start, start + info.duration, max(2, samples))) if info.duration else []
        every = 30
        next_time = 0
        index = -1
        last = None

        def check(frame: Any, at: int) -> None:
            nonlocal redacted
            pixels = upright(frame.to_ndarray(format="rgb24"), display(frame))
            found, n = audit_faces(pixels, detector(pixels), flat_paint(pixels), min_size=min_size, reported=False)
            redacted += n
            intact.extend({**f, "frame": at} for f in found)
            checked.append(at)

        for index, frame in enumerate(container.decode(stream)):
            t = float(frame.time) if frame.time is not None else None
            by_time = t is not None and next_time < len(times) and t >= times[next_time] - 1e-6
            while t is not None and next_time < len(times) and t >= times[next_time] - 1e-6:
                next_time += 1
            take = index in wanted or by_time or (not wanted and not times and index % every == 0)
            if take:
                check(frame, index)
                last = None
            else:
                last = (frame, index)
        if last is not None:  # the last frame is always searched
            check(*last)
        if index < 0:
            raise CorruptVideoError(f"{name}: no frame could be decoded")
    finally:
        container.close()
    meta = leftovers(name, format) if check_metadata else []
    intact.sort(key=lambda a: -a["confidence"])
    status = "leak" if intact or meta else "clean"
    return VideoVerifyResult(name, status, None, intact, redacted, meta, frames_checked=checked)
