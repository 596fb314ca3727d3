"""Where the ID photo lies in the source: upright frames of the face, the placements a spec allows, refusals.

Pixels of the source ``p``, the face's axes ``q = rot @ (p - eyes)`` (the eye
line horizontal), a frame's pixels ``o = k * (q - origin)``: the output photo
and the segmentation network's square are both such frames (:class:`_Frame`),
so one maps to the other by a scale and a shift (:func:`_map`). Of the head
heights and eye lines the spec allows (:func:`_placements`), the one nearest the
middle of both ranges that needs nothing the image lacks is used; a head the
image edge cuts (:func:`_check_head_inside`), or a person who would continue
past it by more than :data:`MAX_INVENTED` (:func:`_check_invented`), is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from ..errors import BodyCutOffError, FaceCutOffError, FaceTooSmallError, IdPhotoError
from . import checks as qc
from .background import INPUT_SIZE, subject_only
from .geometry import HeadGeometry, _cv_matrix
from .specs import Spec

__all__ = ["MAX_UPSCALE", "DEFAULT_EYE_LINE", "MIN_TOP_MARGIN", "MAX_INVENTED"]

#: Largest enlargement of the source pixels: the head must measure at least the
#: output's head height divided by this in the source photo.
MAX_UPSCALE = 1.5
#: Eye line (fraction of the height, from the bottom) aimed at when the authority
#: sets none: ISO/IEC 19794-5's 50-70%, used only where the margins allow it.
DEFAULT_EYE_LINE = (0.5, 0.7)
#: Smallest gap between the crown and the top edge, as a fraction of the photo
#: height, aimed at when the authority sets none.
MIN_TOP_MARGIN = qc.MIN_TOP_SPACE
#: How far (fraction of the photo height) the person may continue past the image
#: edge inside the photo, filled by repeating the edge pixels; beyond it the crop
#: would have to invent the person's outline and is refused.
MAX_INVENTED = 0.025
#: How far (fraction of the head height) the estimated crown may lie outside the
#: image before the head counts as cut off (the crown estimate's own uncertainty).
_CROWN_SLACK = 0.1
#: The top of the hair found on the person mask is used when it lies this many
#: eye-to-mouth distances above the eye centre (else the model's CROWN_ABOVE_EYES).
_HAIR_RANGE = (1.45, 3.2)


@dataclass(frozen=True)
class _Frame:
    """An upright frame of the face: pixel ``o = k * (rot @ (p - eyes) - origin)`` for source pixel ``p``."""

    eyes: np.ndarray
    rot: np.ndarray  # rows: the face's horizontal and downward axes
    k: float  # frame pixels per source pixel
    origin: np.ndarray  # top-left corner, face-axis coordinates (source pixel units)
    size: tuple[int, int]  # (width, height) in frame pixels

    @property
    def lin(self) -> np.ndarray:
        return self.k * self.rot

    @property
    def off(self) -> np.ndarray:
        return -self.lin @ self.eyes - self.k * self.origin

    def to_frame(self, p: np.ndarray) -> np.ndarray:
        return (np.asarray(p, np.float64) @ self.lin.T) + self.off

    def to_source(self, o: np.ndarray) -> np.ndarray:
        return (np.asarray(o, np.float64) - self.off) @ np.linalg.inv(self.lin).T

    def corners(self) -> np.ndarray:
        w, h = self.size
        return self.to_source(np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64))

    def valid(self, w_img: int, h_img: int) -> np.ndarray:
        """Frame pixels whose centre falls inside the source image."""
        w, h = self.size
        inv = np.linalg.inv(self.lin)
        t = -inv @ self.off
        xs = (np.arange(w, dtype=np.float64) + 0.5)[None, :]
        ys = (np.arange(h, dtype=np.float64) + 0.5)[:, None]
        px = inv[0, 0] * xs + inv[0, 1] * ys + t[0]
        py = inv[1, 0] * xs + inv[1, 1] * ys + t[1]
        return (px >= 0) & (px <= w_img) & (py >= 0) & (py <= h_img)

    def warp(self, pixels: np.ndarray, border: int = cv2.BORDER_REPLICATE, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
        """``pixels`` (a window of the source whose top-left is ``origin``) seen in this frame.

        Shrinking goes through a rotation at source resolution and an area resize,
        so no detail aliases; enlarging is one bicubic warp.
        """
        w, h = self.size
        lin, off = self.lin, self.off + self.lin @ np.asarray(origin, np.float64)
        if self.k >= 1:
            return cv2.warpAffine(pixels, _cv_matrix(lin, off), (w, h), flags=cv2.INTER_CUBIC, borderMode=border)
        wc, hc = max(1, math.ceil(w / self.k)), max(1, math.ceil(h / self.k))
        upright = cv2.warpAffine(pixels, _cv_matrix(lin / self.k, off / self.k), (wc, hc), flags=cv2.INTER_LINEAR, borderMode=border)
        full = upright[: max(1, round(h / self.k)), : max(1, round(w / self.k))]
        return cv2.resize(full, (w, h), interpolation=cv2.INTER_AREA)


def _map(a: _Frame, b: _Frame) -> tuple[np.ndarray, np.ndarray]:
    """The map from frame ``a``'s pixels to frame ``b``'s (same face axes)."""
    r = b.k / a.k
    return np.eye(2) * r, b.k * (a.origin - b.origin)


def _outside(corners: np.ndarray, w: int, h: int) -> float:
    """How far (source pixels) the crop's corners reach past the image edge."""
    return float(max(0.0, -corners[:, 0].min(), -corners[:, 1].min(), corners[:, 0].max() - w, corners[:, 1].max() - h))


def _frame(sp: Spec, geo: HeadGeometry, head_px: float, eye_y: float, eyes: np.ndarray, rot: np.ndarray) -> _Frame:
    """The output frame with the head ``head_px`` high, the eye line ``eye_y`` above the bottom, the face centred."""
    W, H = sp.width_px, sp.height_px
    s = head_px / geo.height(sp.crown)
    cx_q = float(np.dot(np.array(geo.centre) - eyes, rot[0]))
    origin = np.array([cx_q - W / 2 / s, -(H - eye_y) / s])
    return _Frame(eyes, rot, s, origin, (W, H))


def _place(
    sp: Spec,
    geo: HeadGeometry,
    max_upscale: float,
    eyes: np.ndarray,
    rot: np.ndarray,
    fits: Callable[[_Frame], bool] | None = None,
) -> _Frame:
    """The output frame: the first placement :func:`_placements` offers that ``fits`` (else the first)."""
    placements = _placements(sp, geo, geo.height(sp.crown) * max_upscale)
    first = _frame(sp, geo, *placements[0], eyes, rot)
    if fits is None or fits(first):
        return first
    for h, e in placements[1:]:  # built one at a time: the first that fits is usually among the first few
        f = _frame(sp, geo, h, e, eyes, rot)
        if fits(f):
            return f
    return first


def _invention_test(prob: np.ndarray, seg: _Frame, geo: HeadGeometry, w: int, h: int) -> Callable[[_Frame], bool]:
    """Whether a frame keeps within :data:`MAX_INVENTED` of the image, judged on the segmentation square.

    The same test as :func:`_check_invented`, done once on the network's square
    for every placement tried (the final photo is checked again at its own resolution).
    """
    valid = seg.valid(w, h)
    centre = seg.to_frame(np.array(geo.centre))
    person = subject_only(prob, (float(centre[0]), float(centre[1]))) > 0.5
    depth = cv2.distanceTransform((~valid).astype(np.uint8), cv2.DIST_L2, 3)
    depth = np.where(person & ~valid, depth, 0.0)

    def fits(f: _Frame) -> bool:
        a = (f.origin - seg.origin) * seg.k
        b = (f.origin + np.array(f.size) / f.k - seg.origin) * seg.k
        c0, r0 = (max(0, int(math.floor(v))) for v in a)
        c1, r1 = (min(INPUT_SIZE, int(math.ceil(v))) for v in b)
        worst = float(depth[r0:r1, c0:c1].max()) if r1 > r0 and c1 > c0 else 0.0
        return worst * f.k / seg.k <= MAX_INVENTED * f.size[1]

    return fits


def _seg_frame(out: _Frame, geo: HeadGeometry) -> _Frame:
    """A square around the crop, head and shoulders at least, for the segmentation network."""
    w, h = out.size
    size_q = np.array([w, h]) / out.k
    centre = out.origin + size_q / 2
    side = max(1.15 * float(size_q.max()), 7.0 * geo.eye_mouth)
    return _Frame(out.eyes, out.rot, INPUT_SIZE / side, centre - side / 2, (INPUT_SIZE, INPUT_SIZE))


def _covers(seg: _Frame, out: _Frame) -> bool:
    w, h = out.size
    lo, hi = seg.origin, seg.origin + np.array(seg.size) / seg.k
    a, b = out.origin, out.origin + np.array([w, h]) / out.k
    return bool((a >= lo).all() and (b <= hi).all())


def _hair_top(prob: np.ndarray, seg: _Frame, geo: HeadGeometry) -> float | None:
    """Top of the hair above the eye centre (source pixels along the face axis), from the mask; None if unusable."""
    d = geo.eye_mouth
    centre_q = float(np.dot(np.array(geo.centre) - np.array(geo.eyes), seg.rot[0]))
    cx = (centre_q - seg.origin[0]) * seg.k
    solid = subject_only(prob, ((centre_q - seg.origin[0]) * seg.k, (0.5 * d - seg.origin[1]) * seg.k))
    row = qc.top_of_head(solid, cx, 0.8 * d * seg.k)
    if row is None or row < 1:  # none, or up to the square's edge: the top is not seen
        return None
    above = -(row / seg.k + seg.origin[1]) / d  # in eye-to-mouth distances
    if not _HAIR_RANGE[0] <= above <= _HAIR_RANGE[1]:
        return None
    return above * d


def _placements(sp: Spec, geo: HeadGeometry, max_head: float) -> list[tuple[float, float]]:
    """Head heights (output px, the spec's crown) and eye lines (px above the bottom) the spec allows.

    Every pair keeps the head height in the spec's range (no more than
    ``max_head``), the eye line in its range (ISO/IEC 19794-5's 50-70% where the
    spec sets none, if the margins allow), the top of the hair and the chin
    within the spec's margins; the nearest to the middle of both ranges first.
    """
    H = sp.height_px
    head_src = geo.height(sp.crown)
    h_lo, h_hi = (r * H for r in sp.head_ratio)
    if max_head < h_lo:
        raise FaceTooSmallError(
            f"the head measures about {head_src:.0f} px in the source; {sp.name} needs at least "
            f"{h_lo:.0f} px in the photo: it would be enlarged {h_lo / head_src:.2f} times "
            f"(at most {max_head / head_src:.2f}); use a photo with a larger face"
        )
    eye_frac = geo.eye_to_chin / head_src  # eye line above the chin, fraction of the head
    hair = math.hypot(geo.crown[0] - geo.eyes[0], geo.crown[1] - geo.eyes[1])
    hair_frac = hair / head_src  # top of the hair above the eye line
    top_min = max(MIN_TOP_MARGIN * H, sp.top_margin_mm[0] / sp.height_mm * H if sp.top_margin_mm else 0.0)
    top_max = None
    if sp.top_margin_mm is not None and sp.top_margin_mm[1] is not None:
        top_max = sp.top_margin_mm[1] / sp.height_mm * H
    bottom_min = 0.0 if sp.bottom_margin_mm is None else sp.bottom_margin_mm / sp.height_mm * H
    aim = sp.eye_ratio or DEFAULT_EYE_LINE
    mid, span = (h_lo + h_hi) / 2, max(h_hi - h_lo, 1e-6)
    found = []
    for head in np.linspace(h_lo, min(h_hi, max_head), 21):
        below, above = eye_frac * head, hair_frac * head  # chin below and hair top above the eye line
        lo, hi = bottom_min + below, H - top_min - above
        if top_max is not None:
            lo = max(lo, H - top_max - above)
        a_lo, a_hi = max(lo, aim[0] * H), min(hi, aim[1] * H)
        if a_lo > a_hi and sp.eye_ratio is None:
            a_lo, a_hi = lo, hi  # no eye line set: the margins decide
        if a_lo > a_hi:
            continue
        centre = (a_lo + a_hi) / 2
        for eye in np.linspace(a_lo, a_hi, 7):
            key = abs(head - mid) / span + 0.5 * abs(eye - centre) / max(a_hi - a_lo, 1e-6) * (a_hi > a_lo)
            found.append((key, float(head), float(eye)))
    if not found:
        raise IdPhotoError(
            f"no head height in {sp.name}'s range puts the eye line and margins where the spec wants them "
            "for this face's proportions",
            reason="infeasible",
        )
    found.sort()
    return [(h, e) for _, h, e in found]


def _check_head_inside(geo: HeadGeometry, box: np.ndarray, w: int, h: int) -> None:
    """Refuse heads the image edge cuts: their missing part cannot be invented."""
    slack = _CROWN_SLACK * geo.head_height
    x1, y1, x2, y2 = (float(v) for v in box)
    problems = []
    if x1 < -0.5 or y1 < -0.5 or x2 > w + 0.5 or y2 > h + 0.5:
        problems.append("the face box")
    cx, cy = geo.skull
    if not (-slack <= cx <= w + slack and -slack <= cy <= h + slack):
        problems.append("the top of the head")
    cx, cy = geo.chin
    if not (-0.5 <= cx <= w + 0.5 and -0.5 <= cy <= h + 0.5):
        problems.append("the chin")
    if problems:
        raise FaceCutOffError(f"{' and '.join(problems)} lie(s) outside the {w}x{h} image: the head is cut off")


def _check_invented(
    alpha: np.ndarray, valid: np.ndarray, out: _Frame, geo: HeadGeometry, sp: Spec, size: tuple[int, int]
) -> None:
    """Refuse a photo whose person would continue past the image edge by more than :data:`MAX_INVENTED`."""
    invented = (alpha > 0.5) & ~valid
    if not invented.any():
        return
    depth = cv2.distanceTransform((~valid).astype(np.uint8), cv2.DIST_L2, 3)
    depth = np.where(invented, depth, 0.0)
    worst = float(depth.max())
    limit = MAX_INVENTED * sp.height_px
    if worst <= limit:
        return
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    p = out.to_source(np.array([x + 0.5, y + 0.5]))
    w, h = size
    edges = [n for n, o in (("left", p[0] < 0), ("right", p[0] > w), ("top", p[1] < 0), ("bottom", p[1] > h)) if o]
    where = " and ".join(edges) or "an"
    mm = worst / sp.height_px * sp.height_mm
    if y < geo.eyes[1]:
        raise FaceCutOffError(
            f"the top of the head is cut by the image's {where} edge: the {sp.name} photo would need "
            f"{mm:.1f} mm of hair the image does not have"
        )
    raise BodyCutOffError(
        f"the neck or shoulders are cut by the image's {where} edge: the {sp.name} photo would need {mm:.1f} mm "
        "of the person that the image does not have; use a photo that shows the shoulders"
    )
