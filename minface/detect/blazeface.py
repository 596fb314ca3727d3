"""BlazeFace full-range (MediaPipe, Apache-2.0): the audit's second, independent face detector.

``minface verify`` searches with CenterFace *and* this network: a different
architecture trained on different data, so the faces one misses the other often
sees. The model is bundled as ``minface/models/blazeface_full_range.onnx``
(converted from ``mediapipe==0.10.21``'s ``face_detection_full_range_sparse.tflite``
by ``benchmarks/make_blazeface_onnx.py``; checksum verified on every load; see
``minface/models/NOTICE``).

The network reads a 192x192 RGB square in [-1, 1] and scores 2304 anchors (one
per cell of a 48x48 grid, stride 4); a box decodes as ``raw / 192`` plus the
anchor's centre, in units of the input's side. It finds faces down to about
4.5% of that side, so :class:`BlazeFace` reads the image in overlapping square
tiles, the smallest ``min_face / 0.045`` pixels a side, each level twice the
previous, up to the whole image: faces from ``min_face`` pixels up are in range.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..faces import Faces
from .centerface import nms
from .runtimes import bundled_model, default_threads, resolve_backend

__all__ = ["BlazeFace", "decode", "MODEL_FILE", "MODEL_SHA256"]

MODEL_FILE = "blazeface_full_range.onnx"
#: sha256 of the bundled ONNX file (see ``minface/models/NOTICE``).
MODEL_SHA256 = "e7be954bb9fc0328cc9fde6455de1189b44d5578dd9f54428afa05956b72b60c"
SIDE = 192
GRID = 48
#: Smallest face the network finds, as a share of its input's side.
SMALLEST = 0.045
#: Neighbouring tiles overlap by this share of their side.
OVERLAP = 0.25

_cells = (np.arange(GRID, dtype=np.float32) + 0.5) / GRID
ANCHORS = np.stack(np.meshgrid(_cells, _cells), axis=-1).reshape(-1, 2)  # (2304, [x, y]), row by row


def decode(regressors: np.ndarray, logits: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes ``(n, 4)``, scores ``(n,)`` and landmarks ``(n, 5, 2)`` (units of the input's side) of one input.

    ``regressors`` (2304, 16) and ``logits`` (2304,) are the network's outputs;
    anchors whose score (the logit's sigmoid) is at least ``threshold`` are kept.
    The six keypoints (eyes, nose tip, mouth centre, ears) become the five of
    :class:`minface.Faces` (the mouth centre stands for both mouth corners).

    >>> reg = np.zeros((2304, 16), np.float32); logit = np.full(2304, -9.0, np.float32)
    >>> reg[0, 2:4] = 19.2; logit[0] = 3.0          # the first anchor: a face a tenth of the side
    >>> boxes, scores, _ = decode(reg, logit, 0.5)
    >>> [round(float(v), 4) for v in boxes[0]], round(float(scores[0]), 3)
    ([-0.0396, -0.0396, 0.0604, 0.0604], 0.953)
    """
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.reshape(-1).astype(np.float64), -80, 80)))
    idx = np.flatnonzero(scores >= threshold)
    raw = regressors.reshape(-1, 16)[idx] / SIDE
    anchor = ANCHORS[idx]
    cx, cy = raw[:, 0] + anchor[:, 0], raw[:, 1] + anchor[:, 1]
    w, h = raw[:, 2], raw[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kp = raw[:, 4:16].reshape(-1, 6, 2) + anchor[:, None, :]
    points = kp[:, [0, 1, 2, 3, 3]]
    return boxes.astype(np.float32), scores[idx].astype(np.float32), points.astype(np.float32)


def tiles(height: int, width: int, min_face: float) -> list[tuple[int, int, int]]:
    """The square tiles ``(x, y, side)`` read for faces from ``min_face`` pixels up, smallest first.

    >>> len(tiles(768, 1024, 10)), tiles(100, 100, 10)
    (39, [(0, 0, 100)])
    """
    out: list[tuple[int, int, int]] = []
    longest = max(height, width)
    side = max(1.0, min_face / SMALLEST)
    while True:
        s = int(math.ceil(side))
        if s >= longest:
            out.append((0, 0, longest))
            return out
        step = max(1, int(s * (1 - OVERLAP)))
        xs = sorted({*range(0, max(1, width - s + 1), step), max(0, width - s)})
        ys = sorted({*range(0, max(1, height - s + 1), step), max(0, height - s)})
        out += [(x, y, s) for y in ys for x in xs]
        side *= 2


class BlazeFace:
    """The bundled BlazeFace full-range network, tiled over an image.

    ``BlazeFace()(rgb)`` gives :class:`minface.Faces` (boxes, scores, landmarks)
    of every face of at least ``min_face`` pixels whose score reaches
    ``threshold``, after suppression of overlapping duplicates.

    >>> found = BlazeFace()(np.zeros((120, 160, 3), np.uint8))
    >>> len(found), found.image_size
    (0, (160, 120))
    """

    def __init__(
        self, *, min_face: float = 10.0, threshold: float = 0.3, backend: str = "auto", threads: int | None = None
    ) -> None:
        if not min_face > 0:
            raise ValueError(f"min_face must be a positive number of pixels, got {min_face!r}")
        self.min_face = float(min_face)
        self.threshold = float(threshold)
        data = bundled_model(MODEL_FILE, MODEL_SHA256)
        self.backend = resolve_backend(backend)
        threads = threads or default_threads()
        if self.backend == "onnxruntime":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
            self._run = lambda x: session.run(["regressors", "scores"], {"input": x})
        else:
            net = cv2.dnn.readNetFromONNX(np.frombuffer(data, np.uint8))

            def run(x: np.ndarray) -> list[np.ndarray]:
                net.setInput(x)
                return list(net.forward(["regressors", "scores"]))

            self._run = run

    def __call__(self, image: np.ndarray, *, min_face: float | None = None) -> Faces:
        """Faces in ``image`` (RGB ``uint8``, ``(h, w, 3)``), in its pixels; ``min_face`` overrides the detector's."""
        h, w = image.shape[:2]
        smallest = self.min_face if min_face is None else float(min_face)
        boxes, scores, points = [], [], []
        for x, y, s in tiles(h, w, smallest):
            crop = image[y : y + s, x : x + s]
            square = np.zeros((s, s, 3), np.uint8)
            square[: crop.shape[0], : crop.shape[1]] = crop[..., :3]
            small = cv2.resize(square, (SIDE, SIDE), interpolation=cv2.INTER_AREA if s > SIDE else cv2.INTER_LINEAR)
            blob = (small.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
            reg, logit = self._run(np.ascontiguousarray(blob))
            b, sc, pts = decode(reg[0], logit[0], self.threshold)
            sizes = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) * s
            keep = sizes >= smallest
            boxes.append(b[keep] * s + [x, y, x, y])
            scores.append(sc[keep])
            points.append(pts[keep] * s + [x, y])
        if not boxes or not sum(len(b) for b in boxes):
            return Faces.empty((w, h))
        b, sc, pts = np.concatenate(boxes), np.concatenate(scores), np.concatenate(points)
        keep = nms(b, sc, 0.3)
        b = b[keep]
        b[:, [0, 2]] = b[:, [0, 2]].clip(0, w)
        b[:, [1, 3]] = b[:, [1, 3]].clip(0, h)
        return Faces(b, sc[keep], pts[keep], (w, h), detector=f"blazeface-full-range/{self.backend}")
