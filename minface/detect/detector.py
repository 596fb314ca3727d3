"""The reusable :class:`Detector` and the one-call :func:`detect`."""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..faces import Faces
from ..images import ImageSource, load_image
from .fuse import fuse, merge, size_threshold
from .multiscale import RELIABLE_MIN, Pass, PassResult, plan_passes, search_many
from .orientation import choose, consistent
from .presets import PRESETS, check_options
from .runtimes import MODELS, get_runtime

__all__ = ["Detector", "detect", "Backend", "Orientations"]

Backend = Literal["auto", "openvino", "onnxruntime", "opencv"]
#: The orientations a frame is searched in, as :meth:`Detector.detect_frames` returns them:
#: ``(k, rank, scale)`` per orientation (``k`` quarter turns counter-clockwise; see :class:`Look`).
Orientations = tuple[tuple[int, int, float], ...]
#: Merge weight of a face kept only because another orientation agreed (see ``Preset.agree_score``),
#: relative to its orientation's: any face kept on its own merits there is taken first.
AGREED_WEIGHT = 0.1


class Detector:
    """A face detector that loads its model once and is reused for many images.

    Parameters
    ----------
    preset : {"fast", "balanced", "audit", "thorough"}
        Search settings (see :data:`PRESETS`). Default ``"balanced"``; ``"audit"``
        is what ``minface verify`` runs (few false alarms), ``"thorough"`` the
        widest search.
    min_face : float, optional
        Smallest face (pixels, longer side) to search for; chooses the largest
        scale (``16 / min_face``, capped by the preset). Smaller faces may still
        be found. Default: the preset's.
    threshold : float, optional
        One score threshold for every face size instead of the preset's curve.
        Lower finds more faces and more false alarms.
    backend : {"auto", "openvino", "onnxruntime", "opencv"}
        ``"auto"`` uses ONNX Runtime when installed, else OpenVINO, else OpenCV.
        The backend and model that ran are recorded in ``Faces.detector``.
    model : {"fp32", "int8"}, optional
        Weights to run. Default: the preset's, except that OpenCV always runs the
        fp32 weights (it cannot run the 8-bit model correctly, nor faster), and so
        does ``device="cuda"`` (the 8-bit model only pays off on a CPU). Asking
        for ``"int8"`` with OpenCV is an error.
    device : {"cpu", "cuda"}
        ``"cuda"`` needs ``minface[cuda]``; it never falls back to the CPU silently.
    threads : int, optional
        Threads per inference (default: all CPUs this process may use). Use 1 in
        worker processes.
    tile_size : int
        Largest side, in model-input pixels, of one inference; bounds memory.
    turned : bool
        Also search the image turned by 90, 180 and 270 degrees (default), for
        photos whose orientation tag was lost; see :mod:`minface.detect.orientation`.
        ``False`` searches it only as given, for images known to be upright.

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
        turned: bool = True,
    ) -> None:
        resolved, self.model = check_options(preset, min_face, threshold, backend, device, model)
        if tile_size < 64:
            raise ValueError(f"tile_size must be at least 64, got {tile_size}")
        self.preset = PRESETS[preset]
        self.min_face = float(min_face if min_face is not None else self.preset.min_face)
        self.threshold = threshold
        self.tile_size = int(tile_size)
        self.turned = bool(turned)
        self._runtime = get_runtime(resolved, device=device, threads=threads, model=self.model)
        self._runtimes = {"centerface": self._runtime}
        names = MODELS[self.model].name
        if self.preset.yunet:  # the second detector, where the preset uses it
            self._runtimes["yunet"] = get_runtime(resolved, device=device, threads=threads, model="yunet")
            names += "+" + MODELS["yunet"].name
        self.backend = self._runtime.name
        self.device = self._runtime.device
        self.description = f"{names}/{self._runtime.description}/{preset}"
        self.last_timings = {}

    #: Seconds spent in each stage of the last call (``resize``, ``inference``,
    #: ``decode``, ``fuse``) and the megapixels fed to the model (``input_megapixels``);
    #: overwritten by every call (from any thread).
    last_timings: dict[str, float]

    def __repr__(self) -> str:
        return f"Detector(preset={self.preset.name!r}, min_face={self.min_face:g}, backend={self.backend!r})"

    def __call__(self, image: ImageSource, *, turned: bool | None = None, at_least: float | None = None) -> Faces:
        """Detect faces in ``image`` (anything :func:`minface.load_image` accepts).

        ``turned`` overrides the detector's setting for this call (``False`` for an
        image known to be upright, such as a crop made upright by the caller).
        ``at_least`` (pixels, longer side) reads the image only at the scales
        needed for faces that large, lowest first (a quick look for the large
        faces of a portrait, see :func:`quick_plan`): smaller faces are mostly
        missed, and a large face's score comes from the fewer passes that read it.
        """
        pixels = load_image(image)
        timings: dict[str, float] = {}
        (found,) = self._search([pixels], 1, timings, self.turned if turned is None else turned, at_least)
        faces = self._finish(pixels, found, timings)
        self.last_timings = timings
        return faces

    def detect_batch(self, images: Sequence[ImageSource], *, batch: int = 8) -> list[Faces]:
        """Detect faces in several images, sending tiles of equal shape to the model together.

        The result for each image is the same as ``detector(image)``; on a GPU
        (``device="cuda"``) batching is what keeps the device busy. ``batch`` is
        the most tiles per inference.

        >>> import numpy as np
        >>> d = Detector("fast")
        >>> [len(f) for f in d.detect_batch([np.zeros((64, 64, 3), np.uint8)] * 3)]
        [0, 0, 0]
        """
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        pixels = [load_image(im) for im in images]
        timings: dict[str, float] = {}
        found = self._search(pixels, batch, timings, self.turned)
        faces = [self._finish(px, f, timings) for px, f in zip(pixels, found)]
        self.last_timings = timings
        return faces

    def detect_frames(
        self, images: Sequence[ImageSource], orientations: Sequence[Orientations | None], *, batch: int = 8
    ) -> tuple[list[Faces], list[Orientations]]:
        """Detect faces in video frames, voting on the orientation only where asked.

        ``orientations[i]`` is ``None`` for a frame searched as ``turned=True``
        searches a photo (the cheap vote in all four orientations, then the full
        search in those it chose), or the :data:`Orientations` returned for an
        earlier frame, to search this one in full in the same orientations without
        a vote. A video votes every few frames and searches the frames between in
        the orientations the last vote chose: a sideways or upside-down video (a
        display matrix lost or wrong) costs a vote pass now and then.
        Returns the faces and, for each frame, the orientations searched.

        >>> import numpy as np
        >>> d = Detector("fast")
        >>> faces, seen = d.detect_frames([np.zeros((64, 64, 3), np.uint8)] * 2, [None, ((0, 2, 1.0),)])
        >>> [len(f) for f in faces], seen[1]
        ([0, 0], ((0, 2, 1.0),))
        """
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        if len(orientations) != len(images):
            raise ValueError("one entry of orientations per image")
        pixels = [load_image(im) for im in images]
        timings: dict[str, float] = {}
        found: list[list[Look]] = [[] for _ in pixels]
        voting = [i for i, o in enumerate(orientations) if o is None]
        fixed = [i for i, o in enumerate(orientations) if o is not None]
        if voting:
            for i, looks in zip(voting, self._search([pixels[i] for i in voting], batch, timings, True)):
                found[i] = looks
        if fixed:
            chosen = [tuple(orientations[i]) for i in fixed]  # type: ignore[arg-type]
            for i, looks in zip(fixed, self._search_fixed([pixels[i] for i in fixed], chosen, batch, timings)):
                found[i] = looks
        faces = [self._finish(px, f, timings) for px, f in zip(pixels, found)]
        self.last_timings = timings
        searched = [tuple((look.k, look.rank, look.scale) for look in looks if look.rank > 0) for looks in found]
        return faces, searched

    def _search_fixed(
        self, images: list[np.ndarray], chosen: list[Orientations], batch: int, timings: dict[str, float]
    ) -> list[list[Look]]:
        """Each image's full search in the orientations ``chosen`` for it (``(k, rank, scale)``), no vote."""
        plans = [self._plan(px) for px in images]
        full = [[dataclasses.replace(q, rot=k) for k, _, _ in ks for q in plan] for plan, ks in zip(plans, chosen)]
        res = search_many(images, full, self._runtimes, self.tile_size, timings=timings, batch=batch)
        out = []
        for plan, ks, plan_i, rs_i in zip(plans, chosen, full, res):
            low = _lowest(plan)
            looks = []
            for k, rank, scale in ks:
                qs = [q for q in plan_i if q.rot == k]
                rs = [r for q, r in zip(plan_i, rs_i) if q.rot == k]
                vote = rs[qs.index(dataclasses.replace(low, rot=k))]
                looks.append(Look(int(k), qs, rs, int(rank), vote, float(scale)))
            out.append(looks)
        return out

    def _plan(self, pixels: np.ndarray, at_least: float | None = None) -> list[Pass]:
        h, w = pixels.shape[:2]
        p = self.preset
        plan = plan_passes(
            w,
            h,
            min_face=self.min_face,
            max_scale=p.max_scale,
            flips=p.flips,
            trust_max=p.trust_max,
            largest=p.largest,
            cascade=p.cascade,
        )
        # YuNet reads whole scales too; it finds faces of about 10 px and more in its input
        plan += [Pass(scale, False, 10.0, math.inf, model="yunet") for scale in p.yunet]
        return plan if at_least is None else quick_plan(plan, at_least)

    def _search(
        self, images: list[np.ndarray], batch: int, timings: dict[str, float], turned: bool, at_least: float | None = None
    ) -> list[list[Look]]:
        """Each image's search: one :class:`Look` per orientation looked at (see :mod:`.orientation`)."""
        plans = [self._plan(px, at_least) for px in images]
        run = lambda plans, done=None: search_many(  # noqa: E731
            images, plans, self._runtimes, self.tile_size, timings=timings, batch=batch, done=done
        )
        if not turned:
            return [[Look(0, plan, res, 2, res[plan.index(_lowest(plan))])] for plan, res in zip(plans, run(plans))]
        # 1. the vote: a small scale, unmirrored, in all four orientations
        side = self.preset.vote_side
        voters = [[dataclasses.replace(_voter(plan, px, side), rot=k) for k in range(4)] for plan, px in zip(plans, images)]
        first = run(voters)
        # 2. the rest of the search in the orientations the vote chose
        p = self.preset
        voted = [choose(np.array([r.vote for r in res]), alpha=p.turn_alpha, prior=p.turn_prior) for res in first]
        # the orientation as stored is always searched in full (most photos are stored upright, and a
        # vote misled by clutter must not cost an upright photo its faces), with the stricter
        # thresholds of an orientation the vote did not favour when the vote left it out
        chosen = [ks if 0 in ks else ks + [0] for ks in voted]
        full = [[dataclasses.replace(q, rot=k) for k in ks for q in plan] for plan, ks in zip(plans, chosen)]
        done = [dict(zip(vs, res)) for vs, res in zip(voters, first)]
        second = run(full, done)
        out = []
        for ks, favoured, plan_i, res, vs, votes in zip(chosen, voted, full, second, voters, first):
            weighted = np.array([r.vote for r in votes]) * np.array([p.turn_prior, 1.0, 1.0, 1.0])
            # the stored orientation, when the vote left it out: a photo tilted between two
            # orientations still gives it a fair share of the vote, a photo stored turned hardly any
            stored_scale = p.turn_threshold_scale if weighted[0] >= p.turn_fair_share * weighted.max() else p.turn_stored_scale
            looks = []
            for k in range(4):
                if k in ks:  # the chosen orientations are fused from their own passes
                    qs = [q for q in plan_i if q.rot == k]
                    rs = [r for q, r in zip(plan_i, res) if q.rot == k]
                    rank = 2 if k == favoured[0] or (k == 0 and 0 in favoured) else 1
                    scale = stored_scale if k not in favoured else (1.0 if rank == 2 else p.turn_threshold_scale)
                else:  # the others from the vote pass alone
                    qs, rs, rank, scale = [vs[k]], [votes[k]], 0, p.turn_threshold_scale
                looks.append(Look(k, qs, rs, rank, votes[k], scale))
            out.append(looks)
        return out

    def _finish(self, pixels: np.ndarray, looks: list[Look], timings: dict[str, float]) -> Faces:
        h, w = pixels.shape[:2]
        p = self.preset
        t0 = time.perf_counter()
        parts, weights, owners = [], [], []
        agreed: list[tuple[tuple[np.ndarray, np.ndarray, np.ndarray], float]] = []  # see Preset.agree_score
        seen = {look.k: (look.vote.boxes, look.vote.scores) for look in looks}  # what the vote pass saw
        voter_scale = min(q.scale for look in looks for q in look.passes if not q.flip and q.model == "centerface")
        clear = 2 * RELIABLE_MIN / voter_scale  # faces the vote pass sees clearly (input pixels -> image pixels)
        for look, model in ((look, model) for look in looks for model in self._runtimes):
            mine = [(q, r) for q, r in zip(look.passes, look.results) if q.model == model]
            if not mine:
                continue
            passes, results = [q for q, _ in mine], [r for _, r in mine]
            if self.threshold is not None:
                floor = self.threshold
            elif model == "yunet":
                floor = p.yunet_threshold
            else:
                floor = min(t for _, t in p.thresholds)  # size_threshold never goes below the curve's lowest
            floor *= min(1.0, look.scale)
            boxes, scores, points = fuse(results, passes, p.rule if model == "centerface" else "max", floor)
            sizes = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
            if self.threshold is not None:
                need = np.full(len(scores), self.threshold)
            elif model == "yunet":
                need = np.full(len(scores), p.yunet_threshold)
            else:
                need = size_threshold(p.thresholds, sizes / self.min_face)
            if look.k != 0:  # a turned face: never a faint one (turned clutter is commoner than turned faces)
                need = np.maximum(need, p.turn_min_score)
            base = need
            need = need * look.scale  # an orientation the vote did not favour: only clearer faces
            if look.rank == 0:  # only the vote pass looked in this orientation: a clear face or nothing
                need = np.maximum(need, p.turn_vote_threshold)
            keep = scores >= need
            parts.append((boxes[keep], scores[keep], points[keep]))
            owners.append(look.k)
            # the stored orientation is trusted first; a face both detectors found keeps CenterFace's box
            weights.append((p.turn_prior if look.k == 0 else 1.0) * (1.0 if model == "centerface" else 0.5))
            if p.agree_score > 0 and model == "centerface" and self.threshold is None and len(looks) > 1:
                # a large face the orientation's penalty alone drops, seen again in another orientation
                doubt = ~keep & (sizes >= clear) & (scores >= base * p.agree_floor)
                if doubt.any():
                    doubt[doubt] = _seen_elsewhere(boxes[doubt], look.k, seen) >= p.agree_score
                if doubt.any():
                    agreed.append(((boxes[doubt], scores[doubt], points[doubt]), AGREED_WEIGHT * weights[-1]))
        if len(looks) > 1:  # a face is kept from the orientation that explains it best, where that one kept it
            parts = [
                _explained(part, k, parts, owners, seen, prior=p.turn_prior, smallest=clear) for part, k in zip(parts, owners)
            ]
        # faces kept because another orientation agreed are trusted last (a face kept on its own
        # merits keeps its box) and never make another orientation drop one
        boxes, scores, points = merge(parts + [a for a, _ in agreed], weights + [w for _, w in agreed])
        faces = Faces(
            boxes,
            np.clip(scores, 0.0, 1.0),
            points,
            image_size=(w, h),
            detector=self.description,
        )
        timings["fuse"] = timings.get("fuse", 0.0) + time.perf_counter() - t0
        searched = {id(r): r for look in looks for r in (*look.results, look.vote)}
        timings["input_megapixels"] = timings.get("input_megapixels", 0.0) + sum(r.pixels for r in searched.values()) / 1e6
        return faces

    detect = __call__


@dataclass
class Look:
    """One orientation ``k`` of an image's search: the passes fused for it and their results.

    ``rank`` is 2 for the stored orientation and the one the vote put first, 1 for
    other orientations searched in full, 0 for those only the vote pass read;
    ``vote`` is what the vote pass saw in this orientation; ``scale`` multiplies the
    preset's size thresholds there (1 where the vote pointed).
    """

    k: int
    passes: list[Pass]
    results: list[PassResult]
    rank: int
    vote: PassResult
    scale: float = 1.0


def _explained(
    part: tuple[np.ndarray, np.ndarray, np.ndarray],
    k: int,
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    owners: list[int],
    seen: dict[int, tuple[np.ndarray, np.ndarray]],
    **options: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``part`` (faces kept in orientation ``k``) without those another orientation explains better
    *and* kept itself: a face is never dropped in favour of an orientation that did not keep it."""
    boxes, scores, points = part
    ok, best = consistent(boxes, k, seen, **options)
    drop = np.zeros(len(boxes), bool)
    for i in np.flatnonzero(~ok):
        cx, cy = (boxes[i, 0] + boxes[i, 2]) / 2, (boxes[i, 1] + boxes[i, 3]) / 2
        for other, j in zip(parts, owners):
            if j != best[i] or not len(other[0]):
                continue
            b = other[0]
            if ((b[:, 0] <= cx) & (cx <= b[:, 2]) & (b[:, 1] <= cy) & (cy <= b[:, 3])).any():
                drop[i] = True
    return boxes[~drop], scores[~drop], points[~drop]


def quick_plan(plan: Sequence[Pass], at_least: float) -> list[Pass]:
    """The passes of ``plan`` needed for faces of ``at_least`` pixels and more: its scales from the lowest up.

    Scales are added, lowest first, until one of them trusts faces of ``at_least``
    image pixels (its smallest trusted input size divided by its scale); the
    enlarged, focused top pass is never needed unless every scale is. Mirrored
    passes and other models go with their scale.

    >>> from minface.detect.multiscale import plan_passes
    >>> plan = plan_passes(848, 1179, min_face=8, max_scale=2.0, flips="none", trust_max=320, cascade=True)
    >>> [q.scale for q in plan], [q.scale for q in quick_plan(plan, 32)], [q.scale for q in quick_plan(plan, 16)]
    ([2.0, 1.0, 0.5], [0.5], [1.0, 0.5])
    """
    if not at_least > 0:
        raise ValueError(f"at_least must be positive, got {at_least!r}")
    keep: set[float] = set()
    for scale in sorted({q.scale for q in plan if q.model == "centerface"}):
        keep.add(scale)
        if min(q.lo for q in plan if q.scale == scale and q.model == "centerface") / scale <= at_least:
            break
    top = max(keep)
    return [q for q in plan if q.scale in keep or (q.model != "centerface" and q.scale <= top)]


def _seen_elsewhere(boxes: np.ndarray, k: int, seen: dict[int, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """For each box (stored coordinates) found in orientation ``k``, the best score the vote pass of
    any other orientation gave a candidate centred inside it (0 where none did)."""
    best = np.zeros(len(boxes), np.float32)
    for j, (b, s) in seen.items():
        if j == k or not len(b):
            continue
        cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        inside = (cx >= boxes[:, :1]) & (cx <= boxes[:, 2:3]) & (cy >= boxes[:, 1:2]) & (cy <= boxes[:, 3:4])
        best = np.maximum(best, np.where(inside, s[None, :], 0.0).max(axis=1))
    return best


def _lowest(plan: Sequence[Pass]) -> Pass:
    """The plan's cheapest CenterFace pass: its lowest scale, unmirrored."""
    return min((q for q in plan if not q.flip and q.model == "centerface"), key=lambda q: q.scale)


def _voter(plan: Sequence[Pass], pixels: np.ndarray, side: float) -> Pass:
    """The pass that votes on the orientation: the plan's lowest if its shorter side is at most
    ``side`` pixels, else one of its own at that size."""
    low = _lowest(plan)
    scale = side / min(pixels.shape[:2])
    if low.scale <= scale * 1.01:
        return low
    return Pass(scale, False, RELIABLE_MIN * 0.75, math.inf)


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
