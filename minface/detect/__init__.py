"""Face detection: :func:`detect` and the reusable :class:`Detector`.

The detector is CenterFace (MIT), bundled with the package, run by ONNX Runtime
or OpenCV DNN over a multi-scale, tiled search (:mod:`minface.detect.multiscale`).
Presets trade time for recall; ``min_face`` picks the scales a job needs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..faces import Faces
from ..images import ImageSource, load_image
from .multiscale import fuse, plan_passes, search, size_threshold
from ..errors import BackendError
from .runtimes import MODELS, available_backends, get_runtime, resolve_backend

__all__ = ["Detector", "detect", "check_options", "Preset", "PRESETS", "available_backends"]

Backend = Literal["auto", "onnxruntime", "opencv"]


@dataclass(frozen=True)
class Preset:
    """A named set of search settings. See :data:`PRESETS`.

    Attributes
    ----------
    min_face : float
        Default smallest face, in pixels (longer box side), searched for.
    max_scale : float
        Never enlarge the image more than this.
    flips : str
        Scales also searched mirrored: ``"none"``, ``"low"``, ``"top"`` or ``"all"``.
    model : str
        ``"fp32"`` (the bundled CenterFace weights) or ``"int8"`` (the same network
        quantized to 8-bit integers: about twice as fast with ONNX Runtime).
    rule : str
        Cluster score: ``"max"`` of the passes, or ``"mean"`` over the passes able to see it.
    thresholds : tuple of (relative size, score)
        Minimum cluster score by face size, the size given as a multiple of
        ``min_face`` (so the curve follows the scales ``min_face`` selects),
        interpolated in log-size.
    trust_max : float
        Largest face (input pixels) a pass other than the lowest is trusted with.
    largest : float
        Halve the scale until the image's shorter side measures at most this
        many input pixels, so the biggest possible face is searched at a size the
        model handles.
    cascade : bool
        Search the enlarged top scale only where the scale below saw small
        candidates (:mod:`minface.detect.multiscale`).
    """

    name: str
    min_face: float
    max_scale: float
    flips: str
    model: str
    rule: str
    thresholds: tuple[tuple[float, float], ...]
    trust_max: float = 320.0
    largest: float = 448.0
    cascade: bool = False
    summary: str = field(default="", compare=False)


#: The presets, fastest first. Their cost on a 1024x768 photo is documented in the README.
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "fast",
            min_face=20,
            max_scale=1.0,
            flips="none",
            model="int8",
            rule="max",
            thresholds=((0.5, 0.3), (0.8, 0.15), (1.6, 0.12), (3.2, 0.08)),
            largest=1024.0,
            summary="one pass at 0.8x (8-bit model); faces from about 20 px",
        ),
        Preset(
            "balanced",
            min_face=8,
            max_scale=2.0,
            flips="none",
            model="int8",
            rule="mean",
            thresholds=((1, 0.24), (2, 0.21), (5, 0.15), (10, 0.09)),
            cascade=True,
            summary="0.5x and 1x, then 2x where 1x saw something small (8-bit model); faces from about 8 px",
        ),
        Preset(
            "thorough",
            min_face=5,
            max_scale=3.0,
            flips="all",
            model="fp32",
            rule="mean",
            thresholds=((2, 0.05), (6, 0.05), (12.8, 0.04)),
            summary="3x, 1.5x, 0.75x and below, each also mirrored (fp32 model); faces from about 5 px",
        ),
    )
}


def check_options(
    preset: str = "balanced",
    min_face: float | None = None,
    threshold: float | None = None,
    backend: str = "auto",
    device: str = "cpu",
    model: str | None = None,
) -> tuple[str, str]:
    """Validate detector options without loading a model; return the backend and weights they select.

    Raises the errors :class:`Detector` would raise (``ValueError``, ``BackendError``).

    >>> check_options("fast", backend="opencv")
    ('opencv', 'fp32')
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if min_face is not None and not min_face > 0:
        raise ValueError(f"min_face must be a positive number of pixels, got {min_face!r}")
    if threshold is not None and not 0 < threshold < 1:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
    if model is not None and model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}; choose 'cpu' or 'cuda'")
    resolved = resolve_backend("onnxruntime" if device == "cuda" and backend == "auto" else backend)
    if resolved == "opencv":
        if device == "cuda":
            raise BackendError("device='cuda' needs backend='onnxruntime' (pip install 'minface[cuda]')")
        if model == "int8":
            raise BackendError("the int8 model needs backend='onnxruntime' (pip install 'minface[ort]')")
        model = "fp32"
    return resolved, model or PRESETS[preset].model


class Detector:
    """A face detector that loads its model once and is reused for many images.

    Parameters
    ----------
    preset : {"fast", "balanced", "thorough"}
        Search settings (see :data:`PRESETS`). Default ``"balanced"``.
    min_face : float, optional
        Smallest face (pixels, longer side) to search for; chooses the largest
        scale (``16 / min_face``, capped by the preset). Smaller faces may still
        be found. Default: the preset's.
    threshold : float, optional
        One score threshold for every face size instead of the preset's curve.
        Lower finds more faces and more false alarms.
    backend : {"auto", "onnxruntime", "opencv"}
        ``"auto"`` uses ONNX Runtime when installed, else OpenCV. The backend and
        model that ran are recorded in ``Faces.detector``.
    model : {"fp32", "int8"}, optional
        Weights to run. Default: the preset's, except that OpenCV always runs the
        fp32 weights (it cannot run the 8-bit model correctly, nor faster). Asking
        for ``"int8"`` with OpenCV is an error.
    device : {"cpu", "cuda"}
        ``"cuda"`` needs ``minface[cuda]``; it never falls back to the CPU silently.
    threads : int, optional
        Threads per inference (default: all CPUs this process may use). Use 1 in
        worker processes.
    tile_size : int
        Largest side, in model-input pixels, of one inference; bounds memory.

    Examples
    --------
    >>> import numpy as np
    >>> detector = Detector(preset="fast")
    >>> faces = detector(np.zeros((120, 160, 3), np.uint8))
    >>> len(faces), faces.image_size
    (0, (160, 120))
    """

    def __init__(
        self,
        preset: str = "balanced",
        *,
        min_face: float | None = None,
        threshold: float | None = None,
        backend: Backend = "auto",
        device: str = "cpu",
        threads: int | None = None,
        tile_size: int = 1024,
        model: str | None = None,
    ) -> None:
        resolved, self.model = check_options(preset, min_face, threshold, backend, device, model)
        if tile_size < 64:
            raise ValueError(f"tile_size must be at least 64, got {tile_size}")
        self.preset = PRESETS[preset]
        self.min_face = float(min_face if min_face is not None else self.preset.min_face)
        self.threshold = threshold
        self.tile_size = int(tile_size)
        self._runtime = get_runtime(resolved, device=device, threads=threads, model=self.model)
        self.backend = self._runtime.name
        self.device = self._runtime.device
        self.description = f"{MODELS[self.model].name}/{self._runtime.description}/{preset}"
        self.last_timings = {}

    #: Seconds spent in each stage of the last call (``resize``, ``inference``,
    #: ``decode``, ``fuse``) and the megapixels fed to the model (``input_megapixels``);
    #: overwritten by every call (from any thread).
    last_timings: dict[str, float]

    def __repr__(self) -> str:
        return f"Detector(preset={self.preset.name!r}, min_face={self.min_face:g}, backend={self.backend!r})"

    def __call__(self, image: ImageSource) -> Faces:
        """Detect faces in ``image`` (anything :func:`minface.load_image` accepts)."""
        pixels = load_image(image)
        h, w = pixels.shape[:2]
        p = self.preset
        passes = plan_passes(
            w,
            h,
            min_face=self.min_face,
            max_scale=p.max_scale,
            flips=p.flips,
            trust_max=p.trust_max,
            largest=p.largest,
            cascade=p.cascade,
        )
        timings: dict[str, float] = {}
        results = search(pixels, passes, self._runtime, self.tile_size, timings)
        t0 = time.perf_counter()
        boxes, scores, points = fuse(results, passes, p.rule)
        sizes = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        if self.threshold is not None:
            keep = scores >= self.threshold
        else:
            keep = scores >= size_threshold(p.thresholds, sizes / self.min_face)
        faces = Faces(
            boxes[keep],
            np.clip(scores[keep], 0.0, 1.0),
            points[keep],
            image_size=(w, h),
            detector=self.description,
        )
        timings["fuse"] = time.perf_counter() - t0
        timings["input_megapixels"] = sum(r.pixels for r in results) / 1e6
        self.last_timings = timings
        return faces

    detect = __call__


_shared: dict[tuple, Detector] = {}
_shared_lock = threading.Lock()


def detect(
    image: ImageSource,
    *,
    preset: str = "balanced",
    min_face: float | None = None,
    threshold: float | None = None,
    backend: Backend = "auto",
    device: str = "cpu",
) -> Faces:
    """Find faces in ``image``; boxes are pixels of the upright image.

    ``image`` is a path, bytes, a binary file object, a ``PIL.Image`` or an RGB
    array; files are turned upright by their EXIF orientation first. The options
    are those of :class:`Detector`; a detector per setting is created once and
    reused by later calls.

    Examples
    --------
    >>> import numpy as np, minface
    >>> faces = minface.detect(np.full((64, 64, 3), 127, np.uint8), preset="fast")
    >>> len(faces)
    0
    """
    key = (preset, min_face, threshold, backend, device)
    with _shared_lock:
        detector = _shared.get(key)
        if detector is None:
            detector = Detector(preset, min_face=min_face, threshold=threshold, backend=backend, device=device)
            _shared[key] = detector
    return detector(image)
