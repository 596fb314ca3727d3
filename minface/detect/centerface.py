"""CenterFace input preparation and output decoding (vectorized).

CenterFace predicts, on a grid of stride 4, a face-centre heatmap, the log box
size, the sub-cell centre offset and five landmarks relative to the box. A face
is a local maximum of the heatmap; its box and landmarks are read from the other
maps at that cell. Everything here is NumPy/OpenCV array code: no Python loop
over candidates.
"""

from __future__ import annotations

import cv2
import numpy as np

STRIDE = 4
MULTIPLE = 32  # the network downsamples by 32: inputs are padded to a multiple of it

_PEAK_KERNEL = np.ones((3, 3), np.uint8)


def to_blob(
    tiles: list[np.ndarray], layout: str = "nchw", shape: tuple[int, int] | None = None, count: int | None = None
) -> np.ndarray:
    """Stack RGB ``uint8`` tiles into one model input, padded to a multiple of 32 (the largest tile's size).

    ``layout="nchw"``: a float32 ``(n, 3, h, w)`` blob, what the network itself takes;
    ``"pixels"``: ``uint8`` ``(n, h, w, 3)``, for a model that converts its input
    itself (:func:`minface.detect._onnxproto.with_pixel_input`): a quarter of the
    bytes and no transposition here. Padding is added at the bottom and right with
    zeros, so coordinates need no offset. ``shape`` (a multiple of 32 a side, at least the
    largest tile) and ``count`` (at least the number of tiles; blank tiles are added) fix the
    input's size instead.

    >>> to_blob([np.zeros((40, 50, 3), np.uint8)]).shape
    (1, 3, 64, 64)
    >>> to_blob([np.zeros((40, 50, 3), np.uint8)], "pixels").shape
    (1, 64, 64, 3)
    """
    if shape is None:
        ph = -(-max(t.shape[0] for t in tiles) // MULTIPLE) * MULTIPLE
        pw = -(-max(t.shape[1] for t in tiles) // MULTIPLE) * MULTIPLE
    else:
        ph, pw = shape
    n = max(len(tiles), count or 0)
    if layout == "pixels":
        pixels = np.zeros((n, ph, pw, 3), np.uint8)
        for i, t in enumerate(tiles):
            pixels[i, : t.shape[0], : t.shape[1]] = t
        return pixels
    if layout != "nchw":
        raise ValueError(f"unknown layout {layout!r}")
    blob = np.zeros((n, 3, ph, pw), np.float32)
    for i, t in enumerate(tiles):
        h, w = t.shape[:2]
        for c, plane in enumerate(cv2.split(t)):  # contiguous planes: about twice as fast as a transposed copy
            blob[i, c, :h, :w] = plane
    return blob


def decode(
    heatmap: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    landmarks: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode one image's output maps into candidate faces.

    Parameters
    ----------
    heatmap : (1, h, w) or (h, w)
    scale, offset : (2, h, w)
    landmarks : (10, h, w)
    threshold : float
        Minimum heatmap value of a candidate.

    Returns
    -------
    boxes : (n, 4) float32, ``x1, y1, x2, y2`` in input pixels
    scores : (n,) float32
    points : (n, 5, 2) float32, landmark ``(x, y)`` in input pixels

    Only local maxima (3x3) of the heatmap are candidates: a face lights up a
    small blob of cells, and its neighbours would only be duplicates for NMS.
    """
    hm = np.ascontiguousarray(heatmap.reshape(heatmap.shape[-2:]), dtype=np.float32)
    peaks = (hm >= threshold) & (hm >= cv2.dilate(hm, _PEAK_KERNEL))
    ys, xs = np.nonzero(peaks)
    scores = hm[ys, xs]
    bh = np.exp(scale[0, ys, xs]) * STRIDE
    bw = np.exp(scale[1, ys, xs]) * STRIDE
    cy = (ys + offset[0, ys, xs] + 0.5) * STRIDE
    cx = (xs + offset[1, ys, xs] + 0.5) * STRIDE
    x1 = cx - bw / 2
    y1 = cy - bh / 2
    boxes = np.stack([x1, y1, x1 + bw, y1 + bh], axis=1).astype(np.float32)
    lm = landmarks[:, ys, xs].T.reshape(-1, 5, 2)  # (n, 5, [dy, dx])
    points = np.empty_like(lm, dtype=np.float32)
    points[:, :, 0] = lm[:, :, 1] * bw[:, None] + x1[:, None]
    points[:, :, 1] = lm[:, :, 0] * bh[:, None] + y1[:, None]
    return boxes, scores.astype(np.float32), points


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Greedy non-maximum suppression (OpenCV's C++ implementation); indices, best first."""
    if len(boxes) == 0:
        return np.zeros(0, np.intp)
    xywh = np.empty((len(boxes), 4), np.float64)
    xywh[:, :2] = boxes[:, :2]
    xywh[:, 2:] = boxes[:, 2:] - boxes[:, :2]
    keep = cv2.dnn.NMSBoxes(xywh, scores.astype(np.float32), 0.0, float(iou))
    return np.asarray(keep, np.intp).reshape(-1)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` (m, 4) with every box in ``b`` (n, 4)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return inter / np.maximum(union, 1e-9)
