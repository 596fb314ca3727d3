"""Detection presets and option checks (light: no model, no OpenCV)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import BackendError
from .runtimes import resolve_backend

#: The CenterFace weights a preset or a caller may choose.
CENTERFACE_MODELS = ("fp32", "int8")

__all__ = ["Preset", "PRESETS", "check_options"]


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
    turn_alpha, turn_prior : float
        Which orientations get the full search (:func:`minface.detect.orientation.choose`):
        those whose vote reaches ``turn_alpha`` times the best, the stored
        orientation's vote counted ``turn_prior`` times.
    turn_vote_threshold : float
        Smallest score of a face found in an orientation that only the vote pass read.
    turn_threshold_scale : float
        The size thresholds are this many times higher in orientations other than the
        stored one and the one the vote favours.
    turn_min_score : float
        Smallest score of a face found only in the image turned.
    turn_stored_scale : float
        The size thresholds are this many times higher in the stored orientation when
        the vote left it out (it is searched in full all the same) and gave it less than
        ``turn_fair_share`` of the best orientation's vote (a photo stored turned);
        ``turn_threshold_scale`` applies when it got more (a photo tilted between two).
    vote_side : float
        The orientation vote reads the image at most this many pixels on its shorter
        side (the plan's lowest pass when that is small enough, else a pass of its own).
    yunet : tuple of float
        Scales at which the second bundled detector, YuNet, also reads the image (in
        each orientation searched in full); none by default.
    yunet_threshold : float
        Smallest YuNet score kept (its faces then merge with CenterFace's).
    agree_score : float
        A face the vote pass sees clearly (large) that only the stricter thresholds of an
        orientation the vote did not favour would drop is kept when another orientation's
        vote pass saw a candidate at its place scoring at least this (a second look agrees:
        a face lying on its side or in profile lights up in two orientations, clutter
        rarely); 0 turns it off.
    agree_floor : float
        ... provided its own score reaches this many times the size threshold of an
        orientation the vote favoured.
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
    turn_alpha: float = 0.7
    turn_prior: float = 1.5
    turn_vote_threshold: float = 0.5
    turn_threshold_scale: float = 1.5
    turn_min_score: float = 0.12
    turn_stored_scale: float = 3.0
    turn_fair_share: float = 0.35
    vote_side: float = 448.0
    yunet: tuple[float, ...] = ()
    yunet_threshold: float = 0.6
    agree_score: float = 0.0
    agree_floor: float = 1.0
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
            vote_side=256.0,
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
            agree_score=0.4,
            summary="0.5x and 1x, then 2x where 1x saw something small (8-bit model); faces from about 8 px",
        ),
        Preset(
            "audit",
            min_face=8,
            max_scale=2.0,
            flips="none",
            model="int8",
            rule="max",
            thresholds=((1, 0.2), (2, 0.18), (5, 0.15), (10, 0.12)),
            cascade=True,
            turn_alpha=0.5,
            summary="what `minface verify` runs (with BlazeFace): 0.5x, 1x, 2x where 1x saw something small, "
            "more orientations searched in full than other presets (8-bit model); faces from about 8 px",
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
    if model is not None and model not in CENTERFACE_MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(CENTERFACE_MODELS)}")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}; choose 'cpu' or 'cuda'")
    resolved = resolve_backend("onnxruntime" if device == "cuda" and backend == "auto" else backend)
    if resolved == "openvino" and device == "cuda":
        raise BackendError("device='cuda' needs backend='onnxruntime' (pip install 'minface[cuda]')")
    if resolved == "opencv":
        if device == "cuda":
            raise BackendError("device='cuda' needs backend='onnxruntime' (pip install 'minface[cuda]')")
        if model == "int8":
            raise BackendError("the int8 model needs backend='onnxruntime' (pip install 'minface[ort]')")
        model = "fp32"
    if device == "cuda" and model is None:
        model = "fp32"  # a GPU has fp32 to spare; the int8 model exists to speed up CPUs
    return resolved, model or PRESETS[preset].model
