"""Temporal tracking: a face found in some frames stays covered in the frames around them.

A detector misses a face now and then: one blurred frame, a hand passing, a
head turning. A video scrubbed frame by frame would show that face for a frame
or two, and one frame is enough to identify someone. :class:`Tracker` links
the detections of successive frames into *tracks* (one per face) and answers,
for any frame, which boxes to paint:

* the detections of that frame;
* for a frame inside a gap of a track (up to ``max_gap`` frames without a
  detection, with detections on both sides), the box interpolated between the
  two sides, grown a little;
* for up to ``max_gap`` frames after a track's last detection, its box moved
  along the face's motion (the velocity of its last detections) and grown by
  ``grow`` of its size per frame, since the face may still be there;
* for up to ``lookback`` frames *before* a track's first detection, its box
  moved backwards along the same motion, grown likewise: a face entering the
  picture, or turning towards the camera, is often found a few frames late.

The video pipeline holds a window of frames (see :mod:`minface.video.scrub`)
so that a frame is painted only once the detections of the frames after it are
known: that is what makes the backward extension and the interpolation
possible. A scene cut (:class:`SceneCuts`) ends every track: no box is carried
across it, in either direction.

>>> t = Tracker(max_gap=3, lookback=2)
>>> for f in range(6):
...     boxes = [] if f == 3 else [[10 + 2 * f, 10, 30 + 2 * f, 30]]  # the detector misses frame 3
...     t.update(f, np.array(boxes, np.float32).reshape(-1, 4))
>>> boxes, kinds = t.boxes(3)
>>> kinds, [round(float(v), 1) for v in boxes[0]]
(['interpolated'], [15.0, 9.0, 37.0, 31.0])
>>> t.boxes(0)[1], len(t.summary())
(['detected'], 1)
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import cv2
import numpy as np

__all__ = ["Tracker", "Track", "SceneCuts", "iou"]


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box of ``a`` (n, 4) with every box of ``b`` (m, 4): (n, m).

    >>> iou(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 15, 10], [20, 20, 30, 30]])).round(3).tolist()
    [[0.333, 0.0]]
    """
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def _moved(box: np.ndarray, velocity: np.ndarray, steps: float) -> np.ndarray:
    """``box`` moved ``steps`` frames along ``velocity`` (per-frame change of x1, y1, x2, y2).

    The centre follows the motion; the size follows it too but stays within half
    and twice the size it had, so a box never turns inside out.

    >>> _moved(np.array([0.0, 0, 10, 10]), np.array([2.0, 0, 2, 0]), 10).tolist()
    [20.0, 0.0, 30.0, 10.0]
    >>> _moved(np.array([0.0, 0, 10, 10]), np.array([2.0, 0, 0, 0]), 10).tolist()  # shrinking: at most by half
    [12.5, 0.0, 17.5, 10.0]
    """
    x1, y1, x2, y2 = box
    cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    dx, dy = (velocity[0] + velocity[2]) / 2, (velocity[1] + velocity[3]) / 2
    dw, dh = velocity[2] - velocity[0], velocity[3] - velocity[1]
    cx, cy = cx + dx * steps, cy + dy * steps
    nw = float(np.clip(w + dw * steps, 0.5 * w, 2.0 * w))
    nh = float(np.clip(h + dh * steps, 0.5 * h, 2.0 * h))
    return np.array([cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2], np.float64)


def _grow(box: np.ndarray, ratio: float) -> np.ndarray:
    """``box`` grown by ``ratio`` of its width and height in total (half on each side)."""
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * ratio / 2, (y2 - y1) * ratio / 2
    return np.array([x1 - dx, y1 - dy, x2 + dx, y2 + dy], np.float64)


@dataclass
class Track:
    """One face over time: its detections by frame, and the frames it may cover.

    ``start`` is the first frame of its scene (nothing is painted before it) and
    ``end`` the first frame of the next scene (None while the scene goes on).
    """

    id: int
    start: int
    end: int | None = None
    frames: list[int] = field(default_factory=list)  # detection frames, increasing
    boxes: list[np.ndarray] = field(default_factory=list)
    first: int = -1
    last: int = -1
    detections: int = 0

    def add(self, frame: int, box: np.ndarray) -> None:
        self.frames.append(frame)
        self.boxes.append(np.asarray(box, np.float64))
        if self.first < 0:
            self.first = frame
        self.last = frame
        self.detections += 1

    def velocity(self, i: int, towards: int) -> np.ndarray:
        """Per-frame motion of the box at detection ``i``, from its neighbour on the ``towards`` side (-1, +1)."""
        j = i + towards
        if not 0 <= j < len(self.frames):
            return np.zeros(4)
        span = self.frames[i] - self.frames[j]
        v = (self.boxes[i] - self.boxes[j]) / span
        size = max(self.boxes[i][2] - self.boxes[i][0], self.boxes[i][3] - self.boxes[i][1], 1.0)
        limit = 1.0 * size  # a box jumping further than its size per frame is a mismatch, not motion
        return np.clip(v, -limit, limit)

    def predict(self, frame: int, grow: float, max_grow: float) -> np.ndarray:
        """The box extrapolated from the last detection to ``frame`` (later than it)."""
        i = len(self.frames) - 1
        steps = frame - self.frames[i]
        box = _moved(self.boxes[i], self.velocity(i, -1), steps)
        return _grow(box, min(max_grow, grow * steps))


class Tracker:
    """Link detections frame to frame and say which boxes cover each frame (see the module documentation).

    Parameters
    ----------
    max_gap : int
        Frames without a detection that a track bridges (forward, and inside gaps).
    lookback : int
        Frames before a track's first detection that it also covers.
    grow : float
        Growth of a bridged box per frame away from a detection, as a fraction of its size.
    max_grow : float
        Largest growth of a bridged box.
    min_iou : float
        Overlap of a detection with a track's predicted box that links them.
    max_jump : float
        A detection whose centre lies within this many box sizes of a track's
        predicted box is linked to it too (fast motion, small faces), if its size
        is within half and twice the track's.
    """

    def __init__(
        self,
        max_gap: int = 12,
        lookback: int = 8,
        *,
        grow: float = 0.05,
        max_grow: float = 0.4,
        min_iou: float = 0.2,
        max_jump: float = 1.0,
    ) -> None:
        if max_gap < 0 or lookback < 0:
            raise ValueError("max_gap and lookback must be at least 0")
        self.max_gap = int(max_gap)
        self.lookback = int(lookback)
        self.grow = float(grow)
        self.max_grow = float(max_grow)
        self.min_iou = float(min_iou)
        self.max_jump = float(max_jump)
        self.tracks: list[Track] = []
        self._done: list[dict] = []
        self._next_id = 0
        self._scene_start = 0
        self._last_frame = -1
        self.cuts: list[int] = []

    # -- feeding -------------------------------------------------------------------
    def update(self, frame: int, boxes: np.ndarray, *, cut: bool = False) -> None:
        """Add the detections of ``frame`` (frames in increasing order); ``cut``: a new scene starts at it."""
        if frame <= self._last_frame:
            raise ValueError(f"frames must be fed in increasing order ({frame} after {self._last_frame})")
        self._last_frame = frame
        if cut and frame > 0:
            for t in self.tracks:
                if t.end is None:
                    t.end = frame
            self._scene_start = frame
            self.cuts.append(frame)
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        live = [t for t in self.tracks if t.end is None and frame - t.last <= self.max_gap + 1]
        matched_det: set[int] = set()
        if live and len(boxes):
            pred = np.array([t.predict(frame, self.grow, self.max_grow) for t in live])
            overlap = iou(pred, boxes)
            centres_p = (pred[:, :2] + pred[:, 2:]) / 2
            centres_d = (boxes[:, :2] + boxes[:, 2:]) / 2
            sizes = np.maximum(pred[:, 2] - pred[:, 0], pred[:, 3] - pred[:, 1])
            dist = np.linalg.norm(centres_p[:, None, :] - centres_d[None, :, :], axis=2) / np.maximum(sizes[:, None], 1.0)
            dsizes = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
            ratio = dsizes[None, :] / np.maximum(sizes[:, None], 1.0)
            similar = (ratio > 0.5) & (ratio < 2.0)  # a face does not double or halve in size from one frame to the next
            close = ((overlap >= self.min_iou) | (dist <= self.max_jump)) & similar
            score = np.where(close, overlap + 1.0 / (1.0 + dist), -1.0)
            used_t: set[int] = set()
            for flat in np.argsort(-score, axis=None):
                ti, di = divmod(int(flat), len(boxes))
                if score[ti, di] < 0:
                    break
                if ti in used_t or di in matched_det:
                    continue
                used_t.add(ti)
                matched_det.add(di)
                live[ti].add(frame, boxes[di])
        for di in range(len(boxes)):
            if di not in matched_det:
                t = Track(self._next_id, self._scene_start)
                self._next_id += 1
                t.add(frame, boxes[di])
                self.tracks.append(t)

    # -- querying ------------------------------------------------------------------
    def boxes(self, frame: int) -> tuple[np.ndarray, list[str]]:
        """The boxes covering ``frame`` (one fed already), and how each was found.

        Kinds: ``detected``, ``interpolated`` (inside a gap), ``forward`` (after a
        track's last detection) or ``backward`` (before its first).
        """
        out: list[np.ndarray] = []
        kinds: list[str] = []
        for t in self.tracks:
            if frame < t.start or (t.end is not None and frame >= t.end):
                continue
            i = bisect.bisect_left(t.frames, frame)
            if i < len(t.frames) and t.frames[i] == frame:
                out.append(t.boxes[i])
                kinds.append("detected")
                continue
            prev = i - 1 if i > 0 else None
            nxt = i if i < len(t.frames) else None
            if prev is not None and nxt is not None and t.frames[nxt] - t.frames[prev] - 1 <= self.max_gap:
                f0, f1 = t.frames[prev], t.frames[nxt]
                a = (frame - f0) / (f1 - f0)
                box = t.boxes[prev] * (1 - a) + t.boxes[nxt] * a
                away = min(frame - f0, f1 - frame)
                out.append(_grow(box, min(self.max_grow, self.grow * (away + 1))))
                kinds.append("interpolated")
                continue
            reach = self._reach(t)
            if prev is not None and frame - t.frames[prev] <= min(self.max_gap, reach):
                steps = frame - t.frames[prev]
                box = _moved(t.boxes[prev], t.velocity(prev, -1), steps)
                out.append(_grow(box, min(self.max_grow, self.grow * (steps + 1))))
                kinds.append("forward")
            if nxt is not None and t.frames[nxt] - frame <= min(self.lookback, reach):
                steps = t.frames[nxt] - frame
                box = _moved(t.boxes[nxt], t.velocity(nxt, +1), -steps)
                out.append(_grow(box, min(self.max_grow, self.grow * (steps + 1))))
                kinds.append("backward")
        arr = np.array(out, np.float64).reshape(-1, 4)
        return arr, kinds

    @staticmethod
    def _reach(t: Track) -> int:
        """Frames a track covers beyond its detections: 3 for a face seen once, 3 more per detection.

        A single detection may be a false alarm; a face seen in many frames is
        followed for the whole ``max_gap`` and ``lookback``.
        """
        return 3 * t.detections

    def release(self, before: int) -> None:
        """Frames before ``before`` will not be asked for again: drop what only they needed."""
        keep: list[Track] = []
        for t in self.tracks:
            reach = t.last + self.max_gap
            if t.end is not None:
                reach = min(reach, t.end - 1)
            if reach < before and (t.end is not None or self._last_frame - t.last > self.max_gap + 1):
                self._done.append(self._summary(t))
                continue
            # detections older than the bridging horizon are no longer needed (keep two for the velocity)
            cut = bisect.bisect_left(t.frames, before - self.max_gap - 2)
            cut = min(cut, max(0, len(t.frames) - 2))
            if cut > 0:
                del t.frames[:cut]
                del t.boxes[:cut]
            keep.append(t)
        self.tracks = keep

    @staticmethod
    def _summary(t: Track) -> dict:
        return {"track": t.id, "first": t.first, "last": t.last, "detections": t.detections}

    def summary(self) -> list[dict]:
        """One ``{"track", "first", "last", "detections"}`` per track so far, by id."""
        return sorted(self._done + [self._summary(t) for t in self.tracks], key=lambda d: d["track"])


class SceneCuts:
    """Tell a cut between successive frames from a small grey thumbnail of each.

    A cut is reported when the thumbnails no longer look alike: their normalised
    correlation falls below ``corr`` while their pixels differ by at least
    ``diff`` grey levels on average, or their grey-level histograms differ by at
    least ``hist`` (half the L1 distance of the normalised histograms, 0-1) as
    well. A pan moves a thumbnail by a pixel or two and keeps it correlated; a
    flash changes its levels but not its structure; a new shot changes both.

    >>> cuts = SceneCuts()
    >>> a = np.zeros((90, 160, 3), np.uint8); b = np.full((90, 160, 3), 220, np.uint8)
    >>> cuts(a), cuts(a), cuts(b)
    (False, False, True)
    """

    def __init__(self, corr: float = 0.05, diff: float = 35.0, hist: float = 0.5, size: tuple[int, int] = (64, 36)) -> None:
        self.corr = float(corr)
        self.diff = float(diff)
        self.hist = float(hist)
        self.size = size
        self._prev: np.ndarray | None = None
        self._prev_hist: np.ndarray | None = None

    def __call__(self, rgb: np.ndarray) -> bool:
        small = cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA)
        grey = (cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) if small.ndim == 3 else small).astype(np.float64)
        hist = np.bincount((grey.astype(np.uint8) >> 3).ravel(), minlength=32).astype(np.float64)
        hist /= max(hist.sum(), 1.0)
        cut = False
        if self._prev is not None and self._prev_hist is not None:
            d = float(np.abs(grey - self._prev).mean())
            h = 0.5 * float(np.abs(hist - self._prev_hist).sum())
            a, b = grey - grey.mean(), self._prev - self._prev.mean()
            denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
            corr = float((a * b).sum() / denom) if denom > 1e-6 else (1.0 if h < self.hist else 0.0)
            cut = d >= self.diff and (corr < self.corr or h >= self.hist)
        self._prev, self._prev_hist = grey, hist
        return cut
