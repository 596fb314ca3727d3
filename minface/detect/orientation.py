"""Searching a photo in all four orientations, and choosing where to search hard.

A photo whose orientation tag was lost (re-saved by an app, a scanned print, a
phone held sideways without writing the tag) is stored turned by 90, 180 or 270
degrees. CenterFace, like every face detector trained on upright photos, finds
few faces that lie on their side or stand on their head. So every preset
searches the photo as stored *and* turned a quarter, a half and three quarters:

1. *Vote.* The cheapest pass of the search (the lowest scale, where the whole
   photo fits the model once, or a pass of its own with the image's shorter side
   at the preset's ``vote_side`` pixels when that scale is larger) runs in all
   four orientations. Each orientation
   gets a vote: the sum of the squared scores of every candidate that pass saw,
   however weak. Upright faces light the heatmap up far more than turned ones,
   and squaring lets a few clear faces outweigh many faint, face-like textures,
   while a crowd of small faces still adds up.
2. *Search.* The rest of the search (the enlarged passes, which find the small
   faces and cost most) runs in each orientation whose vote reaches
   ``alpha`` times the best one; the orientation as stored counts ``prior``
   times its vote, because most photos are stored upright.
3. *Keep.* Each orientation's candidates are fused on their own (consensus of
   its passes); an orientation searched only by the vote pass must clear a
   stricter threshold. A large upright face also lights up, less and with a
   shifted box, in the image turned a quarter, so a face is kept from an
   orientation only when that orientation explains its place about as well as
   any other (:func:`consistent`, from the four vote passes) when that one kept
   it too. The faces of all orientations then merge by overlap
   (:func:`minface.detect.fuse.merge`).

Boxes and landmarks always come back in the coordinates of the image as
stored, whichever orientation found them. Orientation ``k`` is the image turned
``k`` quarter turns counter-clockwise (``numpy.rot90(image, k)``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["turned_size", "to_turned", "to_stored", "boxes_to_stored", "choose", "consistent"]


def turned_size(width: int, height: int, k: int) -> tuple[int, int]:
    """``(width, height)`` of the image turned ``k`` quarter turns."""
    return (height, width) if k % 2 else (width, height)


def to_turned(points: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    """Points ``(..., 2)`` of the stored image (``width`` x ``height``) in the image turned ``k`` times.

    >>> to_turned(np.array([[10.0, 2.0]]), 1, 40, 30).tolist()
    [[2.0, 30.0]]
    """
    x, y = points[..., 0], points[..., 1]
    k %= 4
    if k == 0:
        return points.copy()
    if k == 1:
        out = (y, width - x)
    elif k == 2:
        out = (width - x, height - y)
    else:
        out = (height - y, x)
    return np.stack(out, axis=-1).astype(points.dtype, copy=False)


def to_stored(points: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    """Points ``(..., 2)`` of the image turned ``k`` times back in the stored image (``width`` x ``height``).

    >>> to_stored(to_turned(np.array([[10.0, 2.0]]), 3, 40, 30), 3, 40, 30).tolist()
    [[10.0, 2.0]]
    """
    x, y = points[..., 0], points[..., 1]
    k %= 4
    if k == 0:
        return points.copy()
    if k == 1:
        out = (width - y, x)
    elif k == 2:
        out = (width - x, height - y)
    else:
        out = (y, height - x)
    return np.stack(out, axis=-1).astype(points.dtype, copy=False)


def boxes_to_stored(boxes: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    """``x1, y1, x2, y2`` boxes (n, 4) of the image turned ``k`` times, in the stored image."""
    if k % 4 == 0:
        return boxes
    corners = to_stored(boxes.reshape(-1, 2, 2), k, width, height)
    return np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1).astype(boxes.dtype, copy=False)


def choose(votes: np.ndarray, *, alpha: float, prior: float) -> list[int]:
    """Orientations worth a full search, given each one's vote (``votes[k]`` for ``k`` = 0..3).

    The stored orientation's vote counts ``prior`` times; every orientation whose
    weighted vote reaches ``alpha`` times the best one is chosen, best first. A
    photo without any candidate is searched as stored.

    >>> choose(np.array([0.1, 2.0, 0.0, 0.3]), alpha=0.7, prior=1.5)
    [1]
    >>> choose(np.array([1.5, 2.0, 0.0, 0.3]), alpha=0.7, prior=1.5)
    [0, 1]
    """
    weighted = np.asarray(votes, np.float64).copy()
    weighted[0] *= prior
    best = weighted.max()
    if not best > 0:
        return [0]
    order = np.argsort(-weighted, kind="stable")
    return [int(k) for k in order if weighted[k] >= alpha * best]


def consistent(
    boxes: np.ndarray,
    k: int,
    seen: dict[int, tuple[np.ndarray, np.ndarray]],
    *,
    prior: float,
    smallest: float = 0.0,
    ratio: float = 0.8,
) -> tuple[np.ndarray, np.ndarray]:
    """Which faces ``boxes`` (stored coordinates), found in orientation ``k``, that orientation explains.

    ``seen[j]`` holds the boxes and scores the vote pass saw in orientation ``j``.
    A face's evidence in ``j`` is the best score seen there with its centre inside
    the face's box; the stored orientation's counts ``prior`` times. The face is
    consistent with ``k`` when its evidence there reaches ``ratio`` times the best,
    when no orientation saw it at all, or when it is smaller than ``smallest`` pixels
    (too small for the vote pass to tell). Returns that, and the orientation with
    the best evidence for each face.

    >>> seen = {0: (np.array([[0, 0, 10, 10.0]]), np.array([0.9])), 1: (np.array([[1, 1, 9, 9.0]]), np.array([0.8]))}
    >>> ok, best = consistent(np.array([[0, 0, 10, 10.0]]), 1, seen, prior=1.5)
    >>> ok.tolist(), best.tolist()
    ([False], [0])
    """
    if len(boxes) == 0:
        return np.zeros(0, bool), np.zeros(0, int)
    evidence = np.zeros((len(boxes), 4))
    for j, (b, s) in seen.items():
        if len(b) == 0:
            continue
        cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        inside = (cx >= boxes[:, :1]) & (cx <= boxes[:, 2:3]) & (cy >= boxes[:, 1:2]) & (cy <= boxes[:, 3:4])
        evidence[:, j] = np.where(inside, s[None, :], 0.0).max(axis=1) * (prior if j == 0 else 1.0)
    best = evidence.max(axis=1)
    size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    ok = (best <= 0) | (size < smallest) | (evidence[:, k % 4] >= ratio * best)
    return ok, evidence.argmax(axis=1)
