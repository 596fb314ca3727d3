"""YuNet output decoding (vectorized), the second bundled detector.

YuNet (OpenCV Zoo, 2023mar) predicts, on grids of stride 8, 16 and 32, a class
and an objectness score, a box (centre offset in cells, log size) and five
landmarks per cell; a face's score is the geometric mean of the two scores. It
is decoded exactly as OpenCV's ``FaceDetectorYN`` decodes it. With a batch of
several inputs, the network's outputs hold the images' cells one after the
other (its last reshape merges the batch), so item ``k`` is a slice.

The network reads BGR pixels in 0-255; :mod:`minface.detect.runtimes` feeds it
that way, so callers hand over the same RGB tiles as for CenterFace.
"""

from __future__ import annotations

import numpy as np

STRIDES = (8, 16, 32)


def decode(
    outputs: tuple[np.ndarray, ...],
    k: int,
    height: int,
    width: int,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates of item ``k`` of a batch whose inputs measure ``height`` x ``width`` (multiples of 32).

    ``outputs`` are the twelve maps in :data:`minface.detect.runtimes.YUNET_OUTPUTS`
    order (cls, obj, bbox, kps, each at strides 8, 16, 32). Returns boxes
    ``(n, 4)`` ``x1, y1, x2, y2``, scores ``(n,)`` and landmarks ``(n, 5, 2)`` in
    input pixels, every cell scoring at least ``threshold`` (no suppression:
    the caller clusters).

    >>> import numpy as np
    >>> maps = []
    >>> for kind, channels in (("cls", 1), ("obj", 1), ("bbox", 4), ("kps", 10)):
    ...     maps += [np.zeros((1, (32 // s) ** 2, channels), np.float32) for s in STRIDES]
    >>> maps[0][0, 5] = maps[3][0, 5] = 0.81      # cls and obj of cell 5 at stride 8
    >>> boxes, scores, points = decode(tuple(maps), 0, 32, 32, 0.5)
    >>> boxes.tolist(), [round(float(s), 2) for s in scores]
    ([[4.0, 4.0, 12.0, 12.0]], [0.81])
    """
    boxes, scores, points = [], [], []
    n = len(STRIDES)
    for i, stride in enumerate(STRIDES):
        rows, cols = height // stride, width // stride
        cells = slice(k * rows * cols, (k + 1) * rows * cols)
        cls = outputs[i][0, cells, 0]
        obj = outputs[n + i][0, cells, 0]
        score = np.sqrt(np.clip(cls, 0.0, 1.0) * np.clip(obj, 0.0, 1.0))
        idx = np.flatnonzero(score >= threshold)
        if idx.size == 0:
            continue
        bbox = outputs[2 * n + i][0, cells][idx]
        kps = outputs[3 * n + i][0, cells][idx].reshape(-1, 5, 2)
        r, c = (idx // cols).astype(np.float32), (idx % cols).astype(np.float32)
        cx, cy = (c + bbox[:, 0]) * stride, (r + bbox[:, 1]) * stride
        w, h = np.exp(bbox[:, 2]) * stride, np.exp(bbox[:, 3]) * stride
        boxes.append(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1))
        scores.append(score[idx])
        pts = np.empty_like(kps)
        pts[:, :, 0] = (kps[:, :, 0] + c[:, None]) * stride
        pts[:, :, 1] = (kps[:, :, 1] + r[:, None]) * stride
        points.append(pts)
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32)
    return (
        np.concatenate(boxes).astype(np.float32),
        np.concatenate(scores).astype(np.float32),
        np.concatenate(points).astype(np.float32),
    )
