"""Videos: every frame searched, faces tracked between frames, a fresh MP4 without metadata.

``pip install 'minface[video]'`` (PyAV, whose wheels bundle FFmpeg: no system
FFmpeg is needed). :func:`scrub_video` scrubs one file; :func:`minface.scrub`
and ``minface scrub FOLDER`` send videos here by their content. See
:mod:`minface.video.scrub` for what is written and why, and
:mod:`minface.video.tracking` for how a face missed in a frame stays covered.

Importing this package does not import PyAV; the functions that need it raise
:class:`minface.MissingDependencyError` with the install hint when it is missing.

>>> from minface.video import Tracker
>>> Tracker(max_gap=4).max_gap
4
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .container import (
    DEFAULT_MAX_VIDEO_PIXELS,
    DEFAULT_MAX_VIDEO_SECONDS,
    INSTALL_HINT,
    CorruptVideoError,
    VideoLimitError,
    available,
    leftovers,
    require_av,
)
from .tracking import SceneCuts, Tracker

if TYPE_CHECKING:
    from .scrub import VideoScrubResult, scrub_video

__all__ = [
    "scrub_video",
    "VideoScrubResult",
    "Tracker",
    "SceneCuts",
    "leftovers",
    "require_av",
    "available",
    "INSTALL_HINT",
    "DEFAULT_MAX_VIDEO_PIXELS",
    "DEFAULT_MAX_VIDEO_SECONDS",
    "CorruptVideoError",
    "VideoLimitError",
]


def __getattr__(name: str) -> Any:
    if name in ("scrub_video", "VideoScrubResult", "DEFAULT_VIDEO_QUALITY"):
        from . import scrub

        return getattr(scrub, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
