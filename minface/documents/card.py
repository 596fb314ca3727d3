"""The outline of a card or page around the lines of a proved document.

A document's lines say where the card is only roughly: its portrait, its
machine-readable zone or its other lines may lie beyond them (a portrait beside
the fields, an MRZ too small for the detector). :func:`card_outline` looks for
the card's own edges around the lines: in the frame of the lines (turned level),
each side of the lines' box is searched outward for the strongest straight edge
parallel to it, as far as the card's geometry allows (ID-1 cards are 85.6 x 54
mm, passport and TD2 pages 125 x 88 and 105 x 74: a card is at most about 1.75
times as long as it is high, and its lines span most of it). A side whose edge
with no edge (or whose edge lies beyond the photo) keeps a margin of about a
line height around the lines.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

__all__ = ["card_outline", "line_frame", "Outline"]

#: Most a card is longer than high (ID-1: 1.59, passport page 1.42), with room for perspective.
MAX_ASPECT = 1.75
#: A card's lines span at least this share of its length (and, with its aspect, of its height).
MIN_SPAN = 0.62
#: Lines more than this many degrees off the card's longest line are not its lines.
ANGLE = 8.0
#: Lines more than this many times the median line's height are not the card's.
TALLEST = 2.5
#: Working size of the searched window (longest side, pixels).
WINDOW = 480
#: An edge's strength: this percentile of the gradient along it (a card's edge runs its whole length, clutter does not).
SHARE = 35
#: Slants (tangents) of a card's edges against its lines that are searched.
SLANTS = tuple(np.round(np.arange(-0.28, 0.2801, 0.04), 2))


def line_frame(quads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The unit vectors along and across the lines (length-weighted mean direction, modulo 180 degrees).

    >>> q = np.array([[[0, 0], [10, 10], [9, 11], [-1, 1]]], np.float32)
    >>> [np.round(v, 3).tolist() for v in line_frame(q)]
    [[0.707, 0.707], [-0.707, 0.707]]
    """
    v = (quads[:, 1] - quads[:, 0]).astype(np.float64)
    length = np.linalg.norm(v, axis=1)
    a = np.arctan2(v[:, 1], v[:, 0])
    c, s = float(np.sum(length * np.cos(2 * a))), float(np.sum(length * np.sin(2 * a)))
    theta = 0.5 * np.arctan2(s, c)
    u = np.array([np.cos(theta), np.sin(theta)])
    return u, np.array([-u[1], u[0]])


def _edge(profile: np.ndarray, valid: np.ndarray, floor: float, near: float = 1e9) -> int | None:
    """Index of the card's edge in an outward ``profile`` (index 0 next to the lines), or None.

    The strongest position (its strength divided by ``1 + distance / near``:
    nearer edges first), when it is above ``floor`` and three times the
    profile's median, before the photo ends (``valid`` turning False).

    >>> _edge(np.array([1, 2, 1, 90, 1, 30, 1.0]), np.ones(7, bool), 56.0)
    3
    >>> _edge(np.array([1, 2, 1, 9, 1, 90, 1.0]), np.array([1, 1, 1, 1, 1, 0, 0], bool), 56.0) is None
    True
    """
    n = int(np.argmin(valid)) if not valid.all() else len(valid)
    p = profile[:n]
    if len(p) >= 3:
        k = int(np.argmax(p / (1.0 + np.arange(len(p)) / max(near, 1.0))))
        if p[k] >= floor and p[k] >= 3.0 * float(np.median(p)):
            return k
    return None


class Outline(NamedTuple):
    """A card's outline: its quadrilateral ``(4, 2)`` in photo pixels, and how many of its sides are edges seen in the photo."""

    quad: np.ndarray
    edges: int


def card_outline(rgb: np.ndarray, quads: np.ndarray, heights: np.ndarray, anchor: int | None = None) -> Outline | None:
    """The quadrilateral ``(4, 2)`` (photo pixels) of the card or page holding the lines ``quads`` ``(n, 4, 2)``.

    ``heights`` are the lines' heights; ``anchor`` the index of the line that
    proves the card (default: the longest): lines at another angle are left out. None when the lines are too few or too
    small to say. The outline always holds the lines and a margin around them;
    ``edges`` says how many of its sides lie on an edge found (the others keep
    a margin around the lines: the card may reach farther).
    """
    if len(quads) == 0:
        return None
    # lines at another angle than the anchor are not this card's (a caption, a sign, another card nearby)
    v = (quads[:, 1] - quads[:, 0]).astype(np.float64)
    length = np.linalg.norm(v, axis=1)
    # nor are lines much larger than its lines (a shirt's print, a sign behind it)
    sized = heights <= TALLEST * float(np.median(heights))
    ref = int(np.argmax(np.where(sized, length, -1.0))) if anchor is None else anchor
    u = v[ref] / max(float(length[ref]), 1e-6)
    keep = sized & (np.abs(v @ u) / np.maximum(length, 1e-6) >= np.cos(np.radians(ANGLE)))
    keep[ref] = True
    quads, heights = quads[keep], heights[keep]
    u, n = line_frame(quads)
    pts = quads.reshape(-1, 2).astype(np.float64)
    pu, pn = pts @ u, pts @ n
    u0, u1, n0, n1 = float(pu.min()), float(pu.max()), float(pn.min()), float(pn.max())
    hm = float(np.median(heights))
    tw, th = u1 - u0, n1 - n0
    if tw < 4 * hm:
        return None
    # the card's largest size: its lines span MIN_SPAN of it at least, and it is at most MAX_ASPECT long
    w_max = max(tw / MIN_SPAN, th * MAX_ASPECT / MIN_SPAN)
    h_max = max(th / MIN_SPAN, tw / 1.2)
    eu, en = max(0.0, w_max - tw) + hm, max(0.0, h_max - th) + hm
    U0, U1, N0, N1 = u0 - eu, u1 + eu, n0 - en, n1 + en
    s = min(1.0, WINDOW / max(U1 - U0, N1 - N0))
    ww, wh = max(8, int(np.ceil((U1 - U0) * s))), max(8, int(np.ceil((N1 - N0) * s)))
    # only the window's part of the photo, averaged down to the window's scale, then turned level
    rot = np.stack([u, n])
    frame = np.array([[U0, N0], [U1, N0], [U1, N1], [U0, N1]], np.float64) @ rot  # rot is orthonormal: its inverse is its transpose
    hgt, wid = rgb.shape[:2]
    x0, y0 = (max(0, int(np.floor(v))) for v in frame.min(0))
    x1, y1 = min(wid, int(np.ceil(frame[:, 0].max())) + 1), min(hgt, int(np.ceil(frame[:, 1].max())) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1, :3]), cv2.COLOR_RGB2GRAY)
    fx, fy = 1.0, 1.0
    if s < 1.0:
        small = cv2.resize(gray, (max(1, round((x1 - x0) * s)), max(1, round((y1 - y0) * s))), interpolation=cv2.INTER_AREA)
        fx, fy = small.shape[1] / (x1 - x0), small.shape[0] / (y1 - y0)
        gray = small
    # window = s (rot p - (U0, N0)), with p = (x0, y0) + q / (fx, fy) for q in the averaged crop
    m = np.hstack([s * rot / np.array([fx, fy]), (s * (rot @ np.array([x0, y0], np.float64) - np.array([U0, N0])))[:, None]])
    win = cv2.warpAffine(gray, m, (ww, wh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    inside = cv2.warpAffine(np.full(gray.shape, 255, np.uint8), m, (ww, wh), flags=cv2.INTER_NEAREST, borderValue=0) > 0
    del gray
    win = cv2.GaussianBlur(win, (0, 0), 1.0)
    gx = np.abs(cv2.Sobel(win, cv2.CV_32F, 1, 0, ksize=3))
    gy = np.abs(cv2.Sobel(win, cv2.CV_32F, 0, 1, ksize=3))
    # window coordinates of the lines' box, and the margin beyond the glyphs where the search starts
    bx0, bx1 = (u0 - U0) * s, (u1 - U0) * s
    by0, by1 = (n0 - N0) * s, (n1 - N0) * s
    gap = max(2, int(round(0.25 * hm * s)))
    # each side: the strongest straight edge outward, over a few slants (perspective turns the card's
    # edges away from the lines' direction), searched along the middle of the lines' box
    xc, yc = 0.5 * (bx0 + bx1), 0.5 * (by0 + by1)
    cx0, cx1 = int(bx0 + 0.1 * (bx1 - bx0)), int(np.ceil(bx1 - 0.1 * (bx1 - bx0)))
    cy0, cy1 = int(by0 + 0.1 * (by1 - by0)), int(np.ceil(by1 - 0.1 * (by1 - by0)))
    if cy1 - cy0 < 2:
        cy0, cy1 = int(by0), int(np.ceil(by1)) + 1
    floor = 4.0 * 10  # a Sobel step of 10 grey levels
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    edges = 0
    sides = []  # (offset at the box's centre, slope) of top, bottom (rows) and left, right (columns)
    for horizontal in (True, False):
        g = gy if horizontal else gx
        found = {-1: (-1.0, None), 1: (-1.0, None)}
        for k in sorted(SLANTS, key=abs):
            if horizontal:  # G(x, y) = g(x, y + k (x - xc))
                sm = np.array([[1, 0, 0], [k, 1, -k * xc]], np.float64)
                sh = cv2.warpAffine(g, sm, (ww, wh), flags=flags, borderValue=0)
                ok = cv2.warpAffine(inside.astype(np.uint8), sm, (ww, wh), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0) > 0
                profile, valid = np.percentile(sh[:, cx0:cx1], SHARE, axis=1), ok[:, cx0:cx1].all(1)
                lo, hi = by0, by1
            else:  # G(x, y) = g(x + k (y - yc), y)
                sm = np.array([[1, k, -k * yc], [0, 1, 0]], np.float64)
                sh = cv2.warpAffine(g, sm, (ww, wh), flags=flags, borderValue=0)
                ok = cv2.warpAffine(inside.astype(np.uint8), sm, (ww, wh), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0) > 0
                profile, valid = np.percentile(sh[cy0:cy1], SHARE, axis=0), ok[cy0:cy1].all(0)
                lo, hi = bx0, bx1
            for step, begin in ((-1, int(lo) - gap), (1, int(np.ceil(hi)) + gap)):
                idx = np.arange(begin, -1 if step < 0 else len(profile), step)
                idx = idx[(idx >= 0) & (idx < len(profile))]
                if len(idx) < 3:
                    continue
                e = _edge(profile[idx], valid[idx], floor, 0.5 * len(idx))  # the range's far end counts a third
                if e is None:
                    continue
                at = int(idx[e])
                strength = float(profile[at])
                if strength > found[step][0]:
                    found[step] = (strength, (at + (1.0 if step > 0 else 0.0), k))
        for step, (lo, hi) in ((-1, (by0, by1) if horizontal else (bx0, bx1)), (1, (by0, by1) if horizontal else (bx0, bx1))):
            box = lo if step < 0 else hi
            default = (box + step * (hm * s + gap), 0.0)
            sides.append(found[step][1] or default)
            edges += found[step][1] is not None
    (t, kt), (b, kb), (l, kl), (r, kr) = sides

    def meet(a: float, ka: float, c: float, kc: float) -> tuple[float, float]:
        """Where the row-line y = a + ka (x - xc) meets the column-line x = c + kc (y - yc)."""
        x = (c + kc * (a - ka * xc - yc)) / max(1e-6, 1.0 - kc * ka)
        return x, a + ka * (x - xc)

    corners = np.array([meet(t, kt, l, kl), meet(t, kt, r, kr), meet(b, kb, r, kr), meet(b, kb, l, kl)], np.float64)
    # the outline holds the lines' box and a margin: a side found inside it gives way
    box = np.array([[bx0 - gap, by0 - gap], [bx1 + gap, by0 - gap], [bx1 + gap, by1 + gap], [bx0 - gap, by1 + gap]], np.float32)
    if any(cv2.pointPolygonTest(corners.astype(np.float32), (float(x), float(y)), False) < 0 for x, y in box):
        rect = cv2.minAreaRect(np.concatenate([corners.astype(np.float32), box]))
        corners = cv2.boxPoints(rect).astype(np.float64)
        corners = corners[np.argsort(np.arctan2(corners[:, 1] - corners[:, 1].mean(), corners[:, 0] - corners[:, 0].mean()))]
        corners = np.roll(corners, -int(np.argmin(corners.sum(1))), axis=0)
    # the edge's blur and the card's rounded corners
    mid = corners.mean(0)
    size = max(np.ptp(corners[:, 0]), np.ptp(corners[:, 1]))
    pad = 0.02 * size + 2.0
    d = corners - mid
    corners = corners + d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6) * pad * 1.41
    corners = corners / s + np.array([U0, N0])
    return Outline((corners[:, :1] * u + corners[:, 1:] * n).astype(np.float32), edges)
