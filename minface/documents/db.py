"""DB text-detector post-processing: probability map to line quadrilaterals (NumPy and OpenCV).

The detector (Liao et al., "Real-time Scene Text Detection with Differentiable
Binarization", 2020) predicts, per pixel, how likely it lies in a *shrunk*
text kernel. Each connected region above ``thresh`` becomes the minimum-area
rectangle around it, kept when the mean probability inside reaches
``box_thresh``, then grown back ("unclipped") by ``area * unclip / perimeter``
on every side, the offset the training shrank it by.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["boxes_from_map", "order_quad"]


def order_quad(pts: np.ndarray) -> np.ndarray:
    """The four corners of a rotated rectangle ordered along its long side: start, end, end+down, start+down.

    The first edge (corner 0 to 1) is a long side, so a crop along it reads the
    line horizontally (or upside down, which the direction classifier settles).

    >>> order_quad(np.array([[0, 0], [0, 10], [2, 10], [2, 0]], np.float32)).tolist()
    [[0.0, 10.0], [0.0, 0.0], [2.0, 0.0], [2.0, 10.0]]
    """
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    # start at the corner nearest the top left, going clockwise in image coordinates
    c = pts.mean(0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise on screen (y down)
    start = int(np.argmin(pts.sum(1)))
    pts = np.roll(pts, -start, axis=0)
    if np.linalg.norm(pts[1] - pts[0]) < np.linalg.norm(pts[3] - pts[0]):
        pts = pts[[3, 0, 1, 2]]  # make the first edge the long one, keeping the turn (a reflection would mirror the text)
    return pts


def boxes_from_map(
    prob: np.ndarray,
    scale_x: float,
    scale_y: float,
    *,
    thresh: float = 0.3,
    box_thresh: float = 0.5,
    unclip: float = 1.6,
    min_size: float = 3.0,
    max_candidates: int = 1000,
) -> tuple[np.ndarray, np.ndarray]:
    """Line quads ``(n, 4, 2)`` (in pixels of the image the map was made from: map x ``scale``) and scores ``(n,)``.

    >>> m = np.zeros((64, 64), np.float32); m[20:26, 8:56] = 0.9
    >>> quads, scores = boxes_from_map(m, 1.0, 1.0)
    >>> len(quads), 0.6 < float(scores[0]) <= 0.9
    (1, True)
    >>> h = float(np.linalg.norm(quads[0][3] - quads[0][0])); 12 < h < 20
    True
    """
    bitmap = (prob > thresh).astype(np.uint8)
    bitmap = cv2.dilate(bitmap, np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    if len(contours) > max_candidates:
        contours = sorted(contours, key=cv2.contourArea, reverse=True)[:max_candidates]
    quads, scores = [], []
    h, w = prob.shape
    for contour in contours:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < min_size:
            continue
        x0, y0, bw, bh = cv2.boundingRect(contour)
        mask = np.zeros((bh, bw), np.uint8)
        cv2.fillPoly(mask, [contour.reshape(-1, 2) - (x0, y0)], 1)
        score = float(cv2.mean(prob[y0 : y0 + bh, x0 : x0 + bw], mask)[0])
        if score < box_thresh:
            continue
        d = rw * rh * unclip / (2.0 * (rw + rh))
        box = cv2.boxPoints(((cx, cy), (rw + 2 * d, rh + 2 * d), angle))
        if min(rw, rh) + 2 * d < min_size + 2:
            continue
        box[:, 0] = np.clip(box[:, 0] * scale_x, -0.5 * scale_x, (w + 0.5) * scale_x)
        box[:, 1] = np.clip(box[:, 1] * scale_y, -0.5 * scale_y, (h + 0.5) * scale_y)
        quads.append(order_quad(box))
        scores.append(score)
    if not quads:
        return np.zeros((0, 4, 2), np.float32), np.zeros(0, np.float32)
    return np.stack(quads).astype(np.float32), np.asarray(scores, np.float32)
