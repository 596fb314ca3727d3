"""Face detection: :func:`detect` and the reusable :class:`Detector`.

The detector is CenterFace (MIT), bundled with the package, run by ONNX Runtime
or OpenCV DNN over a multi-scale, tiled search (:mod:`minface.detect.multiscale`).
Presets trade time for recall; ``min_face`` picks the scales a job needs.

Importing this package is cheap: the detector (and OpenCV) load on first use of
:class:`Detector` or :func:`detect`, so a process that only plans work (the
command line's parent process) stays small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .presets import PRESETS, Preset, check_options
from .runtimes import available_backends

if TYPE_CHECKING:
    from .detector import Detector, detect

__all__ = ["Detector", "detect", "check_options", "Preset", "PRESETS", "available_backends"]


def __getattr__(name: str) -> Any:
    if name in ("Detector", "detect", "Backend"):
        from . import detector

        return getattr(detector, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
