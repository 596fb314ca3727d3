"""Multi-scale, tiled search and the fusion of its candidates.

CenterFace finds faces reliably when they measure roughly 16 to 400 pixels *in
its input*. To find a face of ``min_face`` pixels the image is enlarged so that
face becomes about 16 pixels (the top scale), then searched again at half that
scale, and half again, until the largest face the image can hold fits the
model's range. Each *pass* (a scale, optionally mirrored) only trusts candidates
whose input size lies in the range it is good at.

Enlarged passes are cut into overlapping tiles of at most ``tile_size`` input
pixels a side, so memory stays bounded whatever the image size; a pass other
than the lowest that fits the same area whole (``tile_size`` squared, sides up to
twice ``tile_size``: a 1 MP portrait at 1x) is read in one piece, since tiles
would only add their overlap. The overlap is at
least the largest face the pass trusts, and a tile only keeps candidates whose
centre lies in its own share of the overlap, so every face is seen whole exactly
once per pass.

With ``cascade``, the enlarged top pass is *focused*: it only reads the
neighbourhoods where the pass below it (half its scale) saw something small,
however weak (any candidate of a few input pixels above a 0.05 heatmap value).
Tiny faces are barely visible at half scale but almost never invisible: on
WIDER FACE 99.7% of the faces under 16 px lie in such neighbourhoods, which
cover a fifth of a crowded photo and far less of a portrait, so the most
expensive pass shrinks by a factor of four or more.

Candidates are fused into faces by :mod:`minface.detect.fuse`; which orientations
are searched is decided by :mod:`minface.detect.orientation`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from . import yunet
from .centerface import decode, to_blob
from .orientation import boxes_to_stored, to_stored, to_turned, turned_size

#: Face size (input pixels) from which the model is reliable; sets the top scale.
RELIABLE_MIN = 16.0
#: Largest face (input pixels) the model finds as well as mid-sized ones; sets the lowest scale.
RELIABLE_MAX = 448.0
#: Smallest candidate (input pixels) any pass accepts.
TINY = 8.0
#: Candidates below this heatmap value are never considered.
CANDIDATE_THRESHOLD = 0.05
#: A focused pass trusts faces up to this size (input pixels); smaller ones at the scale below mark where to look.
FOCUS_MAX = 64.0
#: Around each such mark the focused pass reads this far (input pixels of the scale below) in every direction.
FOCUS_RADIUS = 24.0
#: Focused regions are assembled from square cells of this many input pixels.
FOCUS_CELL = 128


#: A runtime: a model input in, the network's output maps out (see :mod:`minface.detect.runtimes`).
Infer = Callable[[np.ndarray], tuple[np.ndarray, ...]]


@dataclass(frozen=True)
class Pass:
    """One search of the whole image at ``scale``, turned ``rot`` quarter turns and then mirrored if ``flip``.

    Candidates are kept when their size in input pixels is in ``[lo, hi)``.
    """

    scale: float
    flip: bool
    lo: float
    hi: float
    focus: bool = False  # only search where the pass at half this scale saw small candidates
    rot: int = 0  # quarter turns counter-clockwise applied to the image first (see orientation.py)
    model: str = "centerface"  # the network that reads it: "centerface" or "yunet"

    def eligible(self, sizes: np.ndarray) -> np.ndarray:
        s = sizes * self.scale
        return (s >= self.lo) & (s < self.hi)


def plan_passes(
    width: int,
    height: int,
    *,
    min_face: float,
    max_scale: float,
    flips: str,
    trust_max: float,
    largest: float = RELIABLE_MAX,
    cascade: bool = False,
) -> list[Pass]:
    """The passes needed for faces from ``min_face`` pixels up to the whole image.

    ``flips`` selects which scales are also searched mirrored: ``"none"``,
    ``"all"``, ``"top"`` (the enlarged, most expensive one), ``"low"`` (all but
    the top) or ``"lowest"`` (the smallest scale only, the cheapest).
    ``trust_max`` is the largest input size any pass but the lowest trusts.
    Scales are halved until a face as large as the image's shorter side measures at
    most ``largest`` input pixels (the model still finds faces of 400-1000 px, a
    little less reliably). With ``cascade`` the top pass is focused (see the
    module notes) and trusts faces up to :data:`FOCUS_MAX` input pixels.
    """
    top = min(max_scale, RELIABLE_MIN / max(min_face, 1.0))
    scales = [top]
    while scales[-1] * min(width, height) > largest and len(scales) < 12:
        scales.append(scales[-1] / 2)
    passes = []
    for i, s in enumerate(scales):
        lowest = i == len(scales) - 1
        focus = cascade and i == 0 and len(scales) > 1
        lo = TINY if i == 0 else RELIABLE_MIN * 0.75
        hi = math.inf if lowest else (FOCUS_MAX if focus else trust_max)
        mirrored = (
            flips == "all"
            or (flips == "top" and i == 0)
            or (flips == "low" and i > 0)
            or (flips == "lowest" and lowest and i > 0)
        )
        passes.append(Pass(s, False, lo, hi, focus))
        if mirrored:
            passes.append(Pass(s, True, lo, hi, focus))
    return passes


def _tiles(length: int, scale: float, tile: int, overlap: float) -> list[tuple[int, int, float, float]]:
    """Split ``[0, length)`` source pixels into windows for a pass at ``scale``.

    Returns ``(start, stop, keep_start, keep_stop)``: the window read, and the
    share of it whose candidate centres this window keeps.
    """
    span = tile / scale  # source pixels per tile
    if length * scale <= tile:
        return [(0, length, -math.inf, math.inf)]
    ov = overlap / scale
    n = math.ceil((length - ov) / (span - ov))
    step = (length - ov) / n
    out = []
    for i in range(n):
        start = int(math.floor(i * step))
        stop = min(length, int(math.ceil(i * step + step + ov)))
        keep0 = -math.inf if i == 0 else i * step + ov / 2
        keep1 = math.inf if i == n - 1 else (i + 1) * step + ov / 2
        out.append((start, stop, keep0, keep1))
    return out


#: A window of the source image read by one inference: ``(x0, y0, x1, y1)`` read, and
#: ``(kx0, ky0, kx1, ky1)`` the area whose candidate centres it keeps.
Window = tuple[int, int, int, int, float, float, float, float]


def full_windows(width: int, height: int, p: Pass, tile_size: int) -> list[Window]:
    """Overlapping tiles covering the whole image for pass ``p``.

    A pass with a bounded trust range (``p.hi`` finite: all but the lowest) is one
    window when its model input (padded to a multiple of 32) fits in ``tile_size ** 2``
    pixels and neither side exceeds ``2 * tile_size``: the memory of one tile,
    without the overlap two tiles would read twice. (The lowest pass is tiled as
    before: read whole, it found other faces on 43 WIDER portraits at ``fast``.)
    """
    iw, ih = max(1, round(width * p.scale)), max(1, round(height * p.scale))
    whole = -(-iw // 32) * 32 * -(-ih // 32) * 32 <= tile_size**2 and max(iw, ih) <= 2 * tile_size
    if whole and math.isfinite(p.hi):
        return [(0, 0, width, height, -math.inf, -math.inf, math.inf, math.inf)]
    overlap = min(p.hi, tile_size / 2) if math.isfinite(p.hi) else tile_size / 2
    return [
        (x0, y0, x1, y1, kx0, ky0, kx1, ky1)
        for y0, y1, ky0, ky1 in _tiles(height, p.scale, tile_size, overlap)
        for x0, x1, kx0, kx1 in _tiles(width, p.scale, tile_size, overlap)
    ]


def focus_windows(width: int, height: int, p: Pass, marks: np.ndarray, radius: float, tile_size: int) -> list[Window]:
    """Windows covering the squares of ``radius`` source pixels around ``marks`` (n, 2).

    The squares are snapped to a grid of :data:`FOCUS_CELL` input pixels; each row of
    marked cells becomes runs of consecutive cells, and equal runs of neighbouring
    rows merge into rectangles. A rectangle is read with a margin of ``p.hi`` input
    pixels (so every face it trusts is seen whole) and keeps the candidates centred
    in its own cells, so no face is found twice.
    """
    if len(marks) == 0:
        return []
    cell = FOCUS_CELL / p.scale
    gw, gh = max(1, math.ceil(width / cell)), max(1, math.ceil(height / cell))
    c0 = np.clip(np.floor((marks - radius) / cell).astype(int), 0, [gw - 1, gh - 1])
    c1 = np.clip(np.floor((marks + radius) / cell).astype(int), 0, [gw - 1, gh - 1])
    diff = np.zeros((gh + 1, gw + 1), np.int32)  # 2-D difference array: mark every covered cell at once
    np.add.at(diff, (c0[:, 1], c0[:, 0]), 1)
    np.add.at(diff, (c0[:, 1], c1[:, 0] + 1), -1)
    np.add.at(diff, (c1[:, 1] + 1, c0[:, 0]), -1)
    np.add.at(diff, (c1[:, 1] + 1, c1[:, 0] + 1), 1)
    grid = diff.cumsum(0).cumsum(1)[:gh, :gw] > 0
    max_cells = max(1, int((tile_size - 2 * p.hi) // FOCUS_CELL))  # keep each read within tile_size
    rects: list[list[int]] = []  # [col0, col1, row0, row1], inclusive
    open_runs: dict[tuple[int, int], list[int]] = {}
    for r in range(gh):
        runs = []
        cols = np.flatnonzero(grid[r])
        if len(cols):
            splits = np.flatnonzero(np.diff(cols) > 1) + 1
            for seg in np.split(cols, splits):
                for a in range(seg[0], seg[-1] + 1, max_cells):
                    runs.append((int(a), int(min(seg[-1], a + max_cells - 1))))
        still_open = {}
        for run in runs:
            rect = open_runs.get(run)
            if rect is not None and rect[3] - rect[2] + 1 < max_cells:
                rect[3] = r
            else:
                rect = [run[0], run[1], r, r]
                rects.append(rect)
            still_open[run] = rect
        open_runs = still_open
    margin = p.hi / p.scale
    out = []
    for a, b, r0, r1 in rects:
        kx0, kx1 = a * cell, min(width, (b + 1) * cell)
        ky0, ky1 = r0 * cell, min(height, (r1 + 1) * cell)
        x0, x1 = max(0, int(kx0 - margin)), min(width, int(math.ceil(kx1 + margin)))
        y0, y1 = max(0, int(ky0 - margin)), min(height, int(math.ceil(ky1 + margin)))
        out.append((x0, y0, x1, y1, kx0, ky0, kx1, ky1))
    return out


@dataclass
class PassResult:
    """Candidates of one pass (source coordinates) and where it saw small ones."""

    boxes: np.ndarray
    scores: np.ndarray
    points: np.ndarray
    marks: np.ndarray  # centres of all candidates under FOCUS_MAX / 2 input pixels, eligible or not
    pixels: int  # input pixels inferred
    vote: float = 0.0  # sum of the squared scores of all its candidates, eligible or not (orientation.py)


@dataclass
class _Tile:
    """One window of one image at one pass; its pixels are made only when the model needs them.

    (Materialising every tile of a pass at once would hold a second copy of a
    large image, more with the overlaps: 1.2 GB more for a 144-megapixel photo.)
    """

    image: int  # index of the image in the batch
    p: Pass
    window: Window
    shape: tuple[int, int]  # (height, width) of the model input: resized, then turned and mirrored
    factors: tuple[float, float]  # source pixels per input pixel (x, y)
    crop: np.ndarray  # the window's part of the stored image: a view, not a copy
    bounds: tuple[int, int, int, int] = (0, 0, 0, 0)  # the crop's box in the stored image
    memo: _ResizeMemo | None = None  # resized crops shared by the turned and mirrored passes of a search

    @property
    def tile(self) -> np.ndarray:
        """RGB uint8: the crop resized by the pass's scale, then turned and mirrored (made anew at each access)."""
        nh, nw = self.shape if self.p.rot % 2 == 0 else self.shape[::-1]
        key = (self.image, *self.bounds, nw, nh)
        tile = self.memo.get(key) if self.memo is not None else None
        if tile is None:
            crop = np.ascontiguousarray(self.crop)
            ch, cw = crop.shape[:2]
            interp = cv2.INTER_AREA if self.p.scale < 1 else cv2.INTER_LINEAR
            tile = crop if (nw, nh) == (cw, ch) else cv2.resize(crop, (nw, nh), interpolation=interp)
            if self.memo is not None and tile is not crop:
                self.memo.put(key, tile)
        # OpenCV's turn and mirror: the same pixels as np.rot90 and [:, ::-1], copied about 8x faster
        if self.p.rot % 4:
            tile = cv2.rotate(tile, _ROTATE[self.p.rot % 4])
        if self.p.flip:
            tile = cv2.flip(tile, 1)
        return tile


#: ``np.rot90(tile, k)`` (k quarter turns counter-clockwise) as OpenCV's rotation codes
_ROTATE = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}


class _ResizeMemo:
    """Resized crops kept for the other orientations and the mirror of the same scale, up to a byte budget.

    The four orientations of the vote (and a pass and its mirror) read the same
    crop at the same scale: it is resized once. Only small tiles are worth
    keeping and the budget bounds the memory, so a large photo's high passes are
    still made tile by tile.
    """

    def __init__(self, budget: int = 32 << 20) -> None:
        self.budget = budget
        self.items: dict[tuple[int, ...], np.ndarray] = {}

    def get(self, key: tuple[int, ...]) -> np.ndarray | None:
        return self.items.get(key)

    def put(self, key: tuple[int, ...], tile: np.ndarray) -> None:
        if tile.nbytes <= self.budget:
            self.items[key] = tile
            self.budget -= tile.nbytes


def _prepare(
    index: int, image: np.ndarray, p: Pass, windows: Sequence[Window], memo: _ResizeMemo | None = None
) -> list[_Tile]:
    """Model inputs of ``windows`` (coordinates of the image turned and mirrored as ``p`` says).

    Each window is cut from the stored image and resized there, and only the small
    tile is turned and mirrored, so no pass copies the whole image; the tiles are
    made only when inferred (:attr:`_Tile.tile`).
    """
    h, w = image.shape[:2]
    tw, th = turned_size(w, h, p.rot)
    tiles = []
    for win in windows:
        x0, y0, x1, y1 = win[:4]
        if p.flip:
            x0, x1 = tw - x1, tw - x0
        corners = to_stored(np.array([[x0, y0], [x1, y1]], np.float64), p.rot, w, h)
        sx0, sy0 = np.rint(corners.min(axis=0)).astype(int)
        sx1, sy1 = np.rint(corners.max(axis=0)).astype(int)
        crop = image[sy0:sy1, sx0:sx1]
        ch, cw = crop.shape[:2]
        nw, nh = max(1, round(cw * p.scale)), max(1, round(ch * p.scale))
        shape = (nh, nw) if p.rot % 2 == 0 else (nw, nh)
        factors = ((win[2] - win[0]) / shape[1], (win[3] - win[1]) / shape[0])
        tiles.append(_Tile(index, p, win, shape, factors, crop, (int(sx0), int(sy0), int(sx1), int(sy1)), memo))
    return tiles


def _candidates(t: _Tile, outputs: tuple[np.ndarray, ...], k: int, shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Decode item ``k`` of a batch's outputs (input ``shape``) for tile ``t``: kept boxes, scores,
    points, marks and vote."""
    if t.p.model == "yunet":
        b, s, pts = yunet.decode(outputs, k, shape[0], shape[1], CANDIDATE_THRESHOLD)
    else:
        hm, sc, off, lm = outputs
        b, s, pts = decode(hm[k], sc[k], off[k], lm[k], CANDIDATE_THRESHOLD)
    x0, y0 = t.window[0], t.window[1]
    kx0, ky0, kx1, ky1 = t.window[4:]
    fx, fy = t.factors
    b = b * np.array([fx, fy, fx, fy], np.float32) + np.array([x0, y0, x0, y0], np.float32)
    pts = pts * np.array([fx, fy], np.float32) + np.array([x0, y0], np.float32)
    cx = (b[:, 0] + b[:, 2]) / 2
    cy = (b[:, 1] + b[:, 3]) / 2
    sizes = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    mine = (cx >= kx0) & (cx < kx1) & (cy >= ky0) & (cy < ky1)
    keep = mine & t.p.eligible(sizes)
    small = mine & (sizes * t.p.scale < FOCUS_MAX / 2)
    vote = np.float32(np.square(s[mine]).sum())
    return b[keep], s[keep], pts[keep], np.stack([cx[small], cy[small]], axis=1), vote


def _run_tiles(
    tiles: Sequence[_Tile],
    infer: Infer | dict[str, Infer],
    batch: int,
    timings: dict[str, float] | None,
) -> list[tuple[np.ndarray, ...]]:
    """Candidates of every tile; tiles of one model whose padded inputs have the same shape share one inference.

    ``infer`` is the runtime of CenterFace, or a runtime per model name.
    """
    clock = time.perf_counter
    runtimes = infer if isinstance(infer, dict) else {"centerface": infer}
    out: list[tuple[np.ndarray, ...] | None] = [None] * len(tiles)
    groups: dict[tuple[str, int, int], list[int]] = {}
    for n, t in enumerate(tiles):
        # what the runtime takes: uint8 pixels or a float blob, inputs padded to a multiple of ``step``
        # a side, and (on a GPU) always ``batch`` tiles per call (see runtimes._OrtRuntime)
        step = int(getattr(runtimes[t.p.model], "shape_step", 32))
        h, w = t.shape
        groups.setdefault((t.p.model, -(-h // step) * step, -(-w // step) * step), []).append(n)
    t_resize = t_infer = t_decode = 0.0
    for (model, *shape), members in groups.items():
        run = runtimes[model]
        layout = getattr(run, "layout", "nchw")
        fixed = bool(getattr(run, "fixed_batch", False))
        for start in range(0, len(members), batch):
            chunk = members[start : start + batch]
            t0 = clock()
            blob = to_blob([tiles[n].tile for n in chunk], layout, tuple(shape), batch if fixed else None)
            t1 = clock()
            outputs = run(blob)
            t2 = clock()
            for k, n in enumerate(chunk):
                out[n] = _candidates(tiles[n], outputs, k, tuple(shape))
            t_resize += t1 - t0
            t_infer += t2 - t1
            t_decode += clock() - t2
    if timings is not None:
        for key, value in (("resize", t_resize), ("inference", t_infer), ("decode", t_decode)):
            timings[key] = timings.get(key, 0.0) + value
    return out  # type: ignore[return-value]


def _pass_result(width: int, height: int, p: Pass, parts: Sequence[tuple[np.ndarray, ...]], pixels: int) -> PassResult:
    """One pass's candidates from its tiles, in the coordinates of the stored image (``width`` x ``height``)."""
    b = np.concatenate([q[0] for q in parts]) if parts else np.zeros((0, 4), np.float32)
    s = np.concatenate([q[1] for q in parts]) if parts else np.zeros(0, np.float32)
    pts = np.concatenate([q[2] for q in parts]) if parts else np.zeros((0, 5, 2), np.float32)
    mk = np.concatenate([q[3] for q in parts]) if parts else np.zeros((0, 2), np.float32)
    vote = float(sum(q[4] for q in parts))
    tw, _ = turned_size(width, height, p.rot)
    if p.flip:  # mirror back: x -> w - x, and swap left/right landmarks
        b = np.stack([tw - b[:, 2], b[:, 1], tw - b[:, 0], b[:, 3]], axis=1)
        pts = pts[:, [1, 0, 2, 4, 3]]
        pts[:, :, 0] = tw - pts[:, :, 0]
        mk = np.stack([tw - mk[:, 0], mk[:, 1]], axis=1)
    if p.rot % 4:  # turn back; each landmark keeps its meaning (the face's own left eye, ...)
        b = boxes_to_stored(b, p.rot, width, height)
        pts = to_stored(pts, p.rot, width, height)
        mk = to_stored(mk, p.rot, width, height)
    return PassResult(b, s, pts, mk, pixels, vote)


def search(
    image: np.ndarray,
    passes: Sequence[Pass],
    infer: Infer | dict[str, Infer],
    tile_size: int,
    timings: dict[str, float] | None = None,
) -> list[PassResult]:
    """Run every pass, lowest scale first, so focused passes know where to look."""
    return search_many([image], [passes], infer, tile_size, timings=timings, batch=1)[0]


def search_many(
    images: Sequence[np.ndarray],
    plans: Sequence[Sequence[Pass]],
    infer: Infer | dict[str, Infer],
    tile_size: int,
    *,
    timings: dict[str, float] | None = None,
    batch: int = 8,
    done: Sequence[dict[Pass, PassResult]] | None = None,
) -> list[list[PassResult]]:
    """:func:`search` for several images at once, batching inference across them.

    Passes run scale by scale, lowest first, for all images together; the tiles
    of one step whose padded inputs have the same shape (every full-image pass
    of images of the same size, for instance) go to the model together, up to
    ``batch`` at a time. On a GPU this is what keeps the device busy; results are
    the same as image by image. ``done`` holds passes already run for each image
    (they are not run again, and focused passes read their marks).
    """
    results: list[dict[Pass, PassResult]] = [dict(d) for d in done] if done is not None else [{} for _ in images]
    steps = sorted({(q.scale, q.rot, q.flip) for i, passes in enumerate(plans) for q in passes if q not in results[i]})
    # (all models of a step go together: tiles of different models never share an inference)
    clock = time.perf_counter
    memo = _ResizeMemo()
    for scale, rot, flip in steps:
        tiles: list[_Tile] = []
        owners: list[tuple[int, Pass, int, int]] = []  # image, pass, first tile, tile count
        t0 = clock()
        for i, (image, passes) in enumerate(zip(images, plans)):
            h, w = image.shape[:2]
            tw, th = turned_size(w, h, rot)
            for p in passes:
                if (p.scale, p.rot, p.flip) != (scale, rot, flip) or p in results[i]:
                    continue
                if p.focus:
                    below = [r for q, r in results[i].items() if q.scale == p.scale / 2 and q.rot == p.rot]
                    marks = np.concatenate([r.marks for r in below]) if below else np.zeros((0, 2))
                    marks = to_turned(marks, p.rot, w, h)
                    if p.flip:
                        marks = np.stack([tw - marks[:, 0], marks[:, 1]], axis=1)
                    windows = focus_windows(tw, th, p, marks, FOCUS_RADIUS / (p.scale / 2), tile_size)
                else:
                    windows = full_windows(tw, th, p, tile_size)
                prepared = _prepare(i, image, p, windows, memo)
                owners.append((i, p, len(tiles), len(prepared)))
                tiles.extend(prepared)
        if timings is not None:
            timings["resize"] = timings.get("resize", 0.0) + clock() - t0
        parts = _run_tiles(tiles, infer, batch, timings)
        for i, p, first, count in owners:
            mine = tiles[first : first + count]
            pixels = sum(-(-t.shape[0] // 32) * 32 * -(-t.shape[1] // 32) * 32 for t in mine)
            h, w = images[i].shape[:2]
            results[i][p] = _pass_result(w, h, p, parts[first : first + count], pixels)
    return [[results[i][p] for p in passes] for i, passes in enumerate(plans)]
