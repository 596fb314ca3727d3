"""Multi-scale, tiled search and the fusion of its candidates.

CenterFace finds faces reliably when they measure roughly 16 to 400 pixels *in
its input*. To find a face of ``min_face`` pixels the image is enlarged so that
face becomes about 16 pixels (the top scale), then searched again at half that
scale, and half again, until the largest face the image can hold fits the
model's range. Each *pass* (a scale, optionally mirrored) only trusts candidates
whose input size lies in the range it is good at.

Enlarged passes are cut into overlapping tiles of at most ``tile_size`` input
pixels a side, so memory stays bounded whatever the image size. The overlap is at
least the largest face the pass trusts, and a tile only keeps candidates whose
centre lies in its own share of the overlap, so every face is seen whole exactly
once per pass.

Candidates of all passes are clustered by greedy NMS. A cluster's score is
the *consensus* of the passes able to see a face of its size: the mean, over
those passes, of the best score each gave it (a face missed by an eligible pass
counts 0 there), or the maximum for presets that run one pass per scale. A real
face is found again at neighbouring scales and in the mirror image; textures
that look like a face at one scale rarely are, so consensus separates faces from
clutter better than any single score. The kept clusters are those whose score
reaches a threshold that depends on face size (small faces need more evidence:
most false alarms are small).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .centerface import decode, iou_matrix, nms, to_blob

#: Face size (input pixels) from which the model is reliable; sets the top scale.
RELIABLE_MIN = 16.0
#: Largest face (input pixels) the model finds as well as mid-sized ones; sets the lowest scale.
RELIABLE_MAX = 448.0
#: Smallest candidate (input pixels) any pass accepts.
TINY = 8.0
#: Candidates below this heatmap value are never considered.
CANDIDATE_THRESHOLD = 0.05
#: IoU above which two candidates are the same face.
CLUSTER_IOU = 0.3


@dataclass(frozen=True)
class Pass:
    """One search of the whole image at ``scale`` (mirrored if ``flip``).

    Candidates are kept when their size in input pixels is in ``[lo, hi)``.
    """

    scale: float
    flip: bool
    lo: float
    hi: float

    def eligible(self, sizes: np.ndarray) -> np.ndarray:
        s = sizes * self.scale
        return (s >= self.lo) & (s < self.hi)


def plan_passes(
    width: int,
    height: int,
    *,
    min_face: float,
    max_scale: float,
    flips: str,
    trust_max: float,
    largest: float = RELIABLE_MAX,
) -> list[Pass]:
    """The passes needed for faces from ``min_face`` pixels up to the whole image.

    ``flips`` selects which scales are also searched mirrored: ``"none"``,
    ``"all"``, ``"top"`` (the enlarged, most expensive one) or ``"low"`` (all but the top).
    ``trust_max`` is the largest input size any pass but the lowest trusts.
    Scales are halved until a face as large as the image's shorter side measures at
    most ``largest`` input pixels (the model still finds faces of 400-1000 px, a
    little less reliably).
    """
    top = min(max_scale, RELIABLE_MIN / max(min_face, 1.0))
    scales = [top]
    while scales[-1] * min(width, height) > largest and len(scales) < 12:
        scales.append(scales[-1] / 2)
    passes = []
    for i, s in enumerate(scales):
        lowest = i == len(scales) - 1
        lo = TINY if i == 0 else RELIABLE_MIN * 0.75
        hi = math.inf if lowest else trust_max
        mirrored = flips == "all" or (flips == "top" and i == 0) or (flips == "low" and i > 0)
        passes.append(Pass(s, False, lo, hi))
        if mirrored:
            passes.append(Pass(s, True, lo, hi))
    return passes


def _tiles(length: int, scale: float, tile: int, overlap: float) -> list[tuple[int, int, float, float]]:
    """Split ``[0, length)`` source pixels into windows for a pass at ``scale``.

    Returns ``(start, stop, keep_start, keep_stop)``: the window read, and the
    share of it whose candidate centres this window keeps.
    """
    span = tile / scale  # source pixels per tile
    if length * scale <= tile:
        return [(0, length, -math.inf, math.inf)]
    ov = overlap / scale
    n = math.ceil((length - ov) / (span - ov))
    step = (length - ov) / n
    out = []
    for i in range(n):
        start = int(math.floor(i * step))
        stop = min(length, int(math.ceil(i * step + step + ov)))
        keep0 = -math.inf if i == 0 else i * step + ov / 2
        keep1 = math.inf if i == n - 1 else (i + 1) * step + ov / 2
        out.append((start, stop, keep0, keep1))
    return out


def run_pass(
    image: np.ndarray,
    p: Pass,
    infer: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    tile_size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates of one pass in source-image coordinates: boxes, scores, landmarks."""
    h, w = image.shape[:2]
    overlap = min(p.hi, tile_size / 2) if math.isfinite(p.hi) else tile_size / 2
    boxes, scores, points = [], [], []
    src = image[:, ::-1] if p.flip else image
    interp = cv2.INTER_AREA if p.scale < 1 else cv2.INTER_LINEAR
    for y0, y1, ky0, ky1 in _tiles(h, p.scale, tile_size, overlap):
        for x0, x1, kx0, kx1 in _tiles(w, p.scale, tile_size, overlap):
            crop = np.ascontiguousarray(src[y0:y1, x0:x1])
            ch, cw = crop.shape[:2]
            nw, nh = max(1, round(cw * p.scale)), max(1, round(ch * p.scale))
            tile = crop if (nw, nh) == (cw, ch) else cv2.resize(crop, (nw, nh), interpolation=interp)
            hm, sc, off, lm = infer(to_blob([tile]))
            b, s, pts = decode(hm[0], sc[0], off[0], lm[0], CANDIDATE_THRESHOLD)
            fx, fy = cw / nw, ch / nh
            b = b * np.array([fx, fy, fx, fy], np.float32) + np.array([x0, y0, x0, y0], np.float32)
            pts = pts * np.array([fx, fy], np.float32) + np.array([x0, y0], np.float32)
            cx = (b[:, 0] + b[:, 2]) / 2
            cy = (b[:, 1] + b[:, 3]) / 2
            sizes = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
            keep = (cx >= kx0) & (cx < kx1) & (cy >= ky0) & (cy < ky1) & p.eligible(sizes)
            boxes.append(b[keep])
            scores.append(s[keep])
            points.append(pts[keep])
    b = np.concatenate(boxes)
    s = np.concatenate(scores)
    pts = np.concatenate(points)
    if p.flip:  # mirror back: x -> w - x, and swap left/right landmarks
        b = np.stack([w - b[:, 2], b[:, 1], w - b[:, 0], b[:, 3]], axis=1)
        pts = pts[:, [1, 0, 2, 4, 3]]
        pts[:, :, 0] = w - pts[:, :, 0]
    return b, s, pts


def fuse(
    candidates: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    passes: Sequence[Pass],
    rule: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cluster candidates of all passes; return boxes, consensus scores and landmarks, best first."""
    boxes = np.concatenate([c[0] for c in candidates])
    scores = np.concatenate([c[1] for c in candidates])
    points = np.concatenate([c[2] for c in candidates])
    owner = np.concatenate([np.full(len(c[1]), i) for i, c in enumerate(candidates)])
    if len(boxes) == 0:
        return boxes.reshape(0, 4), scores, points.reshape(0, 5, 2)
    keep = nms(boxes, scores, CLUSTER_IOU)
    kb = boxes[keep]
    if rule == "max" or len(passes) == 1:
        return kb, scores[keep], points[keep]
    sizes = np.maximum(kb[:, 2] - kb[:, 0], kb[:, 3] - kb[:, 1])
    total = np.zeros(len(kb), np.float64)
    count = np.zeros(len(kb), np.float64)
    chunk = max(1, 4_000_000 // max(len(boxes), 1))  # bound the IoU matrix to ~32 MB
    for start in range(0, len(kb), chunk):
        rows = slice(start, start + chunk)
        member = iou_matrix(kb[rows], boxes) >= CLUSTER_IOU
        for j, p in enumerate(passes):
            cols = owner == j
            best = np.where(member[:, cols], scores[cols][None, :], 0.0).max(axis=1, initial=0.0)
            eligible = p.eligible(sizes[rows])
            total[rows] += np.where(eligible, best, 0.0)
            count[rows] += eligible
    consensus = (total / np.maximum(count, 1)).astype(np.float32)
    # the keeper's own pass always counts it, so count >= 1; re-sort by the new score
    order = np.argsort(-consensus, kind="stable")
    return kb[order], consensus[order], points[keep][order]


def size_threshold(curve: Sequence[tuple[float, float]], sizes: np.ndarray) -> np.ndarray:
    """Threshold per face size, interpolated in log-size between ``(size, threshold)`` points."""
    xs = np.log([c[0] for c in curve])
    ys = np.array([c[1] for c in curve])
    return np.interp(np.log(np.maximum(sizes, 1.0)), xs, ys)
