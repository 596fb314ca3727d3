"""Fusion: from the candidates of every pass to faces.

Candidates of all passes are clustered by greedy NMS. A cluster's score is
the *consensus* of the passes able to see a face of its size: the mean, over
those passes, of the best score each gave it (a face missed by an eligible pass
counts 0 there), or the maximum for presets that run one pass per scale. A real
face is found again at neighbouring scales and in the mirror image; textures
that look like a face at one scale rarely are, so consensus separates faces from
clutter better than any single score. The kept clusters are those whose score
reaches a threshold that depends on face size (small faces need more evidence:
most false alarms are small).

A photo searched in several orientations (:mod:`minface.detect.orientation`) is
fused orientation by orientation, each with its own passes, and the faces of all
orientations then merge by overlap (:func:`merge`), the best score kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .centerface import iou_matrix, nms
from .multiscale import Pass, PassResult

__all__ = ["fuse", "merge", "size_threshold", "CLUSTER_IOU"]

#: IoU above which two candidates are the same face.
CLUSTER_IOU = 0.3


def fuse(
    results: Sequence[PassResult],
    passes: Sequence[Pass],
    rule: str,
    floor: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cluster candidates of all passes; return boxes, consensus scores and landmarks, best first.

    A cluster's consensus is the mean of its members' best score per pass, so it
    never exceeds its best member's score: clusters with no member scoring at
    least ``floor`` (the lowest threshold the caller applies) are left out
    before their consensus is computed, which changes nothing above ``floor``.
    """
    boxes = np.concatenate([r.boxes for r in results])
    scores = np.concatenate([r.scores for r in results])
    points = np.concatenate([r.points for r in results])
    owner = np.concatenate([np.full(len(r.scores), i) for i, r in enumerate(results)])
    if len(boxes) == 0:
        return boxes.reshape(0, 4), scores, points.reshape(0, 5, 2)
    keep = nms(boxes, scores, CLUSTER_IOU)
    if floor > 0 and len(keep):
        strong = scores >= floor  # few: most candidates are faint clutter
        reach = (iou_matrix(boxes[keep], boxes[strong]) >= CLUSTER_IOU).any(axis=1) if strong.any() else np.zeros(len(keep), bool)
        keep = keep[reach]
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


def merge(
    parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    weights: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces found separately (per orientation, per model) as one set, best first.

    Detections are taken greedily by score times their part's weight (the
    orientation as stored is trusted more: a large upright face also lights up,
    with a worse box, in the image turned a quarter). A detection of another part
    is the same face as one already taken when their IoU reaches
    :data:`CLUSTER_IOU` (the taken one's score becomes the best of the two) or
    when its centre lies inside the taken box (the same face seen turned, its box
    shifted; the taken box paints it anyway).
    """
    w = [1.0] * len(parts) if weights is None else list(weights)
    if not parts:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32)
    boxes = np.concatenate([p[0].reshape(-1, 4) for p in parts])
    scores = np.concatenate([p[1] for p in parts]).astype(np.float32)
    points = np.concatenate([p[2].reshape(-1, 5, 2) for p in parts])
    owner = np.concatenate([np.full(len(p[1]), i) for i, p in enumerate(parts)])
    if len(parts) == 1 or len(boxes) == 0:
        order = np.argsort(-scores, kind="stable")
        return boxes[order], scores[order], points[order]
    trust = scores * np.asarray(w, np.float32)[owner]
    iou = iou_matrix(boxes, boxes)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    inside = (cx[None, :] >= boxes[:, :1]) & (cx[None, :] <= boxes[:, 2:3]) & (cy[None, :] >= boxes[:, 1:2]) & (
        cy[None, :] <= boxes[:, 3:4]
    )  # inside[i, j]: the centre of j lies in box i
    alive = np.ones(len(boxes), bool)
    keep, best = [], []
    for i in np.argsort(-trust, kind="stable"):
        if not alive[i]:
            continue
        same = alive & (iou[i] >= CLUSTER_IOU)
        shifted = alive & inside[i] & (owner != owner[i])
        keep.append(i)
        best.append(scores[same].max(initial=scores[i]))
        alive &= ~(same | shifted)
    keep_a, best_a = np.asarray(keep), np.asarray(best, np.float32)
    order = np.argsort(-best_a, kind="stable")
    return boxes[keep_a][order], best_a[order], points[keep_a][order]
