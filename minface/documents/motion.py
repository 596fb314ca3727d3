"""Text regions between two video frames searched for text: where the lines moved to in between.

A video is searched for text every few frames (:func:`minface.video.scrub_video`,
``text_every``). A frame in between is painted with the regions of the search
before it and after it, and with each line of the one matched to a line of the
other (same kind, nearest) moved by its share of the way: a card carried
across the picture leaves no number readable between the two places it was seen.
"""

from __future__ import annotations

import numpy as np

from .finder import TextRegion

__all__ = ["between"]


def _aligned(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``b``'s corners in the order that lies nearest ``a``'s (a turn of the corners, no mirror)."""
    shifts = [np.roll(b, -k, axis=0) for k in range(4)]
    return min(shifts, key=lambda s: float(np.linalg.norm(s - a, axis=1).sum()))


def between(before: list[TextRegion], after: list[TextRegion], t: float, reach: float = 12.0) -> list[TextRegion]:
    """Regions of ``before`` moved a share ``t`` (0 to 1) of the way to their match in ``after``.

    A region's match is the nearest region of ``after`` of the same kind whose
    centre lies within ``reach`` line heights; unmatched regions give nothing
    (they are painted as found, before and after).

    >>> q = np.array([[0, 0], [40, 0], [40, 10], [0, 10]], np.float32)
    >>> a, b = TextRegion(q, 1.0, "phone"), TextRegion(q + [0, 60], 1.0, "phone")
    >>> between([a], [b], 0.5)[0].quad[0].tolist()
    [0.0, 30.0]
    """
    out: list[TextRegion] = []
    if not before or not after or not 0.0 < t < 1.0:
        return out
    centres = np.array([r.quad.mean(0) for r in after], np.float64)
    for r in before:
        c = r.quad.mean(0)
        d = np.linalg.norm(centres - c, axis=1)
        same = np.array([o.kind == r.kind for o in after])
        d[~same] = np.inf
        j = int(np.argmin(d))
        if not np.isfinite(d[j]) or d[j] > reach * max(r.height, after[j].height, 1.0):
            continue
        b = _aligned(r.quad.astype(np.float64), after[j].quad.astype(np.float64))
        quad = (r.quad + t * (b - r.quad)).astype(np.float32)
        out.append(TextRegion(quad, min(r.score, after[j].score), r.kind, r.masked, r.document))
    return out
