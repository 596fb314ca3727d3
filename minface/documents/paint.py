"""Destroy text regions with the face redaction methods, and the report entries of what was painted."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from ..colors import parse_color
from .finder import TextRegion, TextResult

__all__ = ["grow", "paint_text", "MARGIN", "MIN_MARGIN"]

#: Margin painted around a line, as a fraction of its height, and at least :data:`MIN_MARGIN` pixels:
#: detector quads hug the glyphs, and a re-encoded JPEG rings at the paint's edge.
MARGIN = 0.35
MIN_MARGIN = 6.0


def grow(region: TextRegion) -> np.ndarray:
    """The painted polygon of a region: its quad grown on every side (portraits and whole documents: by a few pixels).

    >>> import numpy as np
    >>> r = TextRegion(np.array([[10, 10], [50, 10], [50, 20], [10, 20]], np.float32), 1.0, "phone")
    >>> grow(r).round(1).tolist()[0]
    [4.0, 4.0]
    """
    q = region.quad.astype(np.float64)
    margin = 4.0 if region.kind in ("document_portrait", "document") else max(MIN_MARGIN, MARGIN * region.height)
    along = q[1] - q[0]
    across = q[3] - q[0]
    a = along / max(1e-6, np.linalg.norm(along)) * margin
    b = across / max(1e-6, np.linalg.norm(across)) * margin
    return np.array([q[0] - a - b, q[1] + a - b, q[2] + a + b, q[3] - a + b], np.float32)


def paint_text(
    frame: np.ndarray,
    found: TextResult,
    *,
    method: str = "fill",
    color: Any = (0, 0, 0),
    blocks: int = 6,
    strength: float = 0.25,
    noise: float = 12.0,
) -> list[dict[str, Any]]:
    """Paint every region of ``found`` into ``frame`` (in place) and return their report entries.

    Entries hold the kind, the painted polygon (``region``: ``shape``, ``box``,
    ``points``), the detector's score and the masked value; never the text.
    """
    h, w = frame.shape[:2]
    channels = frame if frame.ndim == 2 else frame[:, :, : 1 if frame.shape[2] == 2 else min(3, frame.shape[2])]
    rgb = np.asarray(parse_color(color), np.uint8)
    value = rgb if channels.ndim == 3 and channels.shape[2] == 3 else np.uint8(round(float(rgb @ np.array([0.299, 0.587, 0.114]))))
    rng = np.random.default_rng()
    entries = []
    for region in found.regions:
        poly = grow(region)
        x0, y0 = poly.min(0)
        x1, y1 = poly.max(0)
        c0, r0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        c1, r1 = min(w, int(np.ceil(x1)) + 1), min(h, int(np.ceil(y1)) + 1)
        entries.append(
            {
                "kind": region.kind,
                "region": {"shape": "polygon", "box": [round(float(v), 2) for v in (x0, y0, x1, y1)], "points": np.round(poly, 2).tolist()},
                "score": round(region.score, 4),
                "masked": region.masked,
            }
        )
        if c0 >= c1 or r0 >= r1:
            continue
        mask = np.zeros((r1 - r0, c1 - c0), np.uint8)
        pts = np.round((poly - np.array([c0, r0], np.float32) - 0.5) * 16).astype(np.int32)
        cv2.fillPoly(mask, [pts], 1, lineType=cv2.LINE_8, shift=4)
        m = mask.astype(bool)
        patch = channels[r0:r1, c0:c1]
        if method == "fill":
            patch[m] = value
            continue
        size = max(region.height, 1.0)
        if method == "pixelate":
            step = max(1.0, size / 2)  # two blocks across a line: no glyph survives
            small = cv2.resize(patch, (max(1, round(patch.shape[1] / step)), max(1, round(patch.shape[0] / step))), interpolation=cv2.INTER_AREA)
            new = cv2.resize(small, (patch.shape[1], patch.shape[0]), interpolation=cv2.INTER_NEAREST)
        else:
            sigma = max(1.0, max(strength, 0.5) * size)
            new = cv2.GaussianBlur(patch, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)
        new = new.reshape(patch.shape).astype(np.float32) + rng.normal(0.0, noise, patch.shape).astype(np.float32)
        patch[m] = np.clip(new + 0.5, 0, 255).astype(np.uint8)[m]
    return entries
