"""Find text lines in a photo, read the ones that can matter, and say which are personal.

:class:`TextFinder` runs the bundled PP-OCR models (:mod:`minface.documents.models`):

1. the DB detector on the photo scaled to at most :attr:`TextFinder.det_side`
   pixels a side, in the photo's own orientation: its quads follow each line at
   whatever angle it lies (cards held at any angle, photos turned without a tag);
2. each line is cut out along its long side, 48 pixels high, turned by 180
   degrees when the direction classifier says it is upside down, and read by
   the CTC recogniser (only lines long enough to hold a number or a label);
3. :func:`minface.documents.classify.classify` names what each line holds;
4. a line that proves a document (an ID number, a card number, an MRZ line, an
   identity-document label) takes every line of its card or page with it (the
   lines linked to it at less than two line heights, transitively), and the
   card's portrait: faces found in the card's region, searched at a scale where
   a small portrait is large enough for the face detector; a card proved by a
   number, an MRZ or two identity labels is painted whole, to its own edges
   (:func:`minface.documents.card.card_outline`), portrait and MRZ included;
5. an identity label with few lines around it (the card's other lines too small
   for the detector at the photo's scale) has its surroundings detected again,
   enlarged, before the lines are grouped.

The result says where each region is and what kind it is, never the text (a
masked value at most).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np

from .classify import PROOF_KINDS, classify
from .ctc import ctc_greedy
from .card import card_outline
from .validators import email_cut, labelled_field
from .db import boxes_from_map

__all__ = ["TextFinder", "TextRegion", "TextResult", "find_text", "TextMode"]

TextMode = Literal["documents", "all"]

#: Lines at least this many heights long are read first: they can hold an ID, card or MRZ line.
LONG_LINE = 6.0
#: Whether a card painted whole to its four edges is searched for its portrait's face too (a card
#: with a side not found, a margin around its lines there, is searched always).
FACES_ON_PAINTED_CARDS = False
#: An identity label with fewer lines than this near it has its surroundings searched again, enlarged.
LONE = 4
#: The surroundings searched: this many label lengths each way ...
AROUND = 4.0
#: ... at most this many pixels a side once enlarged.
AROUND_SIDE = 1280


@dataclass(frozen=True)
class TextRegion:
    """One region: ``quad`` ``(4, 2)`` in pixels (corners along the line: start, end, end+down, start+down)."""

    quad: np.ndarray
    score: float
    kind: str  # see minface.documents.classify.KINDS
    masked: str | None = None
    document: int | None = None  # index of the document (group of lines) it belongs to

    @property
    def height(self) -> float:
        """The line's height (its short side) in pixels."""
        return float(np.linalg.norm(self.quad[3] - self.quad[0]))

    def to_dict(self) -> dict[str, Any]:
        """JSON form: kind, quad, score, masked value (never the text)."""
        return {"kind": self.kind, "quad": np.round(self.quad, 2).tolist(), "score": round(self.score, 4), "masked": self.masked}


@dataclass
class TextResult:
    """What :meth:`TextFinder.find` found in one image."""

    regions: list[TextRegion] = field(default_factory=list)
    lines: int = 0  # text lines the detector found
    read: int = 0  # lines recognised
    documents: int = 0  # documents proved

    def kinds(self) -> dict[str, int]:
        """Regions per kind."""
        out: dict[str, int] = {}
        for r in self.regions:
            out[r.kind] = out.get(r.kind, 0) + 1
        return out


def _rect(quad: np.ndarray) -> tuple[tuple[float, float], tuple[float, float], float]:
    return cv2.minAreaRect(quad.astype(np.float32))


class TextFinder:
    """Text detection and recognition with the bundled models (loaded once, shared by threads).

    Parameters
    ----------
    threads : int, optional
        ONNX Runtime threads (default: the CPUs this process may use).
    det_side : int
        Longest side of the image the detector sees (smaller images are not enlarged).
    max_lines : int
        Most lines recognised per image (the largest, most confident first).
    all_side : int
        The detector's side for ``text="all"`` (detection only, every line painted).
    """

    def __init__(self, threads: int | None = None, det_side: int = 960, max_lines: int = 60, all_side: int = 960) -> None:
        from .models import charset, text_session

        self._det = text_session("det", threads)
        self._rec = text_session("rec", threads)
        self._cls = text_session("cls", threads)
        self._chars = charset()
        self.det_side = det_side
        self.max_lines = max_lines
        self.all_side = all_side
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ detection
    def detect(self, rgb: np.ndarray, side: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Line quads ``(n, 4, 2)`` in pixels of ``rgb`` and their scores.

        The detector sees the photo scaled to ``side`` (default :attr:`det_side`). Its lines are
        reliable when they lie near level or upright; on text turned by about 20
        to 70 degrees (a card held askew) it breaks lines into pieces and joins
        neighbouring lines. So each group of lines at one such angle is searched
        again: its region turned level (and, being smaller than the photo,
        enlarged up to the photo's own resolution), and its lines replace those
        of the first search there.
        """
        h, w = rgb.shape[:2]
        s = min(1.0, (side or self.det_side) / max(h, w))
        quads, scores = self._detect_warped(rgb, s, None)
        keep = np.ones(len(quads), bool)
        more_q, more_s = [quads], [scores]
        for angle, members in self._skews(quads)[:2]:
            again, again_scores, outline = self._detect_level(rgb, quads[members].reshape(-1, 2), angle, side)
            if outline is None:
                continue
            keep &= np.array([cv2.pointPolygonTest(outline, (float(c[0]), float(c[1])), False) < 0 for c in quads.mean(1)], bool)
            more_q.append(again)
            more_s.append(again_scores)
        if len(more_q) == 1:
            return quads, scores
        more_q[0], more_s[0] = quads[keep], scores[keep]
        return np.concatenate(more_q).astype(np.float32), np.concatenate(more_s).astype(np.float32)

    def _detect_warped(self, rgb: np.ndarray, s: float, m: np.ndarray | None, size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The detector on ``rgb`` scaled by ``s`` (``m`` None) or warped by the affine ``m`` to ``size``; quads in photo pixels."""
        h, w = rgb.shape[:2]
        if m is None:
            nh, nw = max(32, int(round(h * s / 32)) * 32), max(32, int(round(w * s / 32)) * 32)
            small = cv2.resize(rgb[:, :, :3], (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        else:
            nw, nh = size
            small = cv2.warpAffine(rgb[:, :, :3], m, (nw, nh), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        x = (small[:, :, ::-1].astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
        del small
        prob = self._det.run(None, {"x": x})[0][0, 0]
        quads, scores = boxes_from_map(prob, 1.0, 1.0)
        if not len(quads):
            return quads, scores
        quads = quads + 0.5  # pixel centres to continuous coordinates
        if m is None:
            return quads * np.array([w / nw, h / nh], np.float32), scores
        inv = cv2.invertAffineTransform(m)
        pts = quads.reshape(-1, 2).astype(np.float64) @ inv[:, :2].T + inv[:, 2]
        return pts.reshape(-1, 4, 2).astype(np.float32), scores

    @staticmethod
    def _skews(quads: np.ndarray, least: float = 15.0) -> list[tuple[float, list[int]]]:
        """Groups of lines turned by ``least`` to ``90 - least`` degrees from level: (angle, line indices), most text first.

        A line's angle is taken modulo 90 degrees (upright and upside-down text
        is read as it is); lines within 8 degrees of a group's angle join it.

        >>> q = np.array([[[0, 0], [40, 40], [33, 47], [-7, 7]]], np.float32)   # a line at 45 degrees
        >>> [(round(a), m) for a, m in TextFinder._skews(np.concatenate([q, q + 60, q + 120]))]
        [(45, [0, 1, 2])]
        """
        if len(quads) < 2:
            return []
        v = quads[:, 1] - quads[:, 0]
        length = np.linalg.norm(v, axis=1)
        height = np.linalg.norm(quads[:, 3] - quads[:, 0], axis=1)
        ok = length >= 1.5 * np.maximum(height, 1e-3)
        ang = np.degrees(np.arctan2(v[:, 1], v[:, 0])) % 90.0
        weight = np.where(ok, length * height, 0.0)
        out = []
        left = ok & (ang >= least) & (ang <= 90 - least)
        while left.sum() >= 2:
            hist = np.zeros(90)
            np.add.at(hist, ang[left].astype(int), weight[left])
            smooth = np.convolve(np.concatenate([hist[-8:], hist, hist[:8]]), np.ones(9), "valid")[4:-4]
            peak = float(np.argmax(smooth)) + 0.5
            near = left & (np.abs(ang - peak) <= 8)
            if near.sum() < 2:
                break
            angle = float(np.average(ang[near], weights=weight[near]))
            # all lines near this angle take part in the region (short ones too), level lines do not
            members = np.flatnonzero((np.abs(ang - angle) <= 8) & (height >= 3))
            out.append((angle, members.tolist()))
            left &= ~near
        return out

    def _detect_level(self, rgb: np.ndarray, pts: np.ndarray, angle: float, side: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The detector on the region around ``pts`` turned by ``angle`` degrees to level: quads, scores, the region's outline."""
        h, w = rgb.shape[:2]
        c = pts.mean(0)
        rot = cv2.getRotationMatrix2D((float(c[0]), float(c[1])), angle, 1.0)
        p = pts.astype(np.float64) @ rot[:, :2].T + rot[:, 2]
        x0, y0 = p.min(0)
        x1, y1 = p.max(0)
        g = 0.08 * max(x1 - x0, y1 - y0) + 16
        x0, y0, x1, y1 = x0 - g, y0 - g, x1 + g, y1 + g
        if x1 - x0 < 32 or y1 - y0 < 32:
            return np.zeros((0, 4, 2), np.float32), np.zeros(0, np.float32), None
        s = min(1.0, (side or self.det_side) / max(x1 - x0, y1 - y0))
        nw, nh = max(32, int(round((x1 - x0) * s / 32)) * 32), max(32, int(round((y1 - y0) * s / 32)) * 32)
        m = np.array([[s, 0, -s * x0], [0, s, -s * y0]], np.float64) @ np.vstack([rot, [0, 0, 1]])
        quads, scores = self._detect_warped(rgb, s, m, (nw, nh))
        inv = cv2.invertAffineTransform(m)
        box = np.array([[0, 0], [nw, 0], [nw, nh], [0, nh]], np.float64) @ inv[:, :2].T + inv[:, 2]
        return quads, scores, box.astype(np.float32)

    # ------------------------------------------------------------------ recognition
    @staticmethod
    def _crop(rgb: np.ndarray, quad: np.ndarray, height: int = 48, max_width: int = 1600) -> np.ndarray:
        length = float(np.linalg.norm(quad[1] - quad[0]))
        tall = max(1.0, float(np.linalg.norm(quad[3] - quad[0])))
        width = int(min(max_width, max(16, round(height * length / tall))))
        dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
        m = cv2.getPerspectiveTransform((quad - 0.5).astype(np.float32), dst - 0.5)
        return cv2.warpPerspective(rgb[:, :, :3], m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    @staticmethod
    def _blob(crops: list[np.ndarray], width: int) -> np.ndarray:
        out = np.zeros((len(crops), 3, 48, width), np.float32)
        for i, c in enumerate(crops):
            if c.shape[1] > width:
                c = cv2.resize(c, (width, 48), interpolation=cv2.INTER_AREA)
            out[i, :, :, : c.shape[1]] = (c[:, :, ::-1].astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)
        return out

    def _upside_down(self, crops: list[np.ndarray]) -> list[bool]:
        """Whether the direction classifier is sure each crop is upside down."""
        small = []
        for c in crops:
            w = min(192, max(1, int(round(48 * c.shape[1] / 48))))
            small.append(cv2.resize(c, (w, 48), interpolation=cv2.INTER_AREA))
        out = [False] * len(crops)
        for start in range(0, len(small), 32):
            probs = self._cls.run(None, {"x": self._blob(small[start : start + 32], 192)})[0]
            for k, p in enumerate(probs):
                out[start + k] = bool(p[1] > 0.9 and p[1] > p[0])
        return out

    def read(self, rgb: np.ndarray, quads: np.ndarray) -> list[tuple[str, float]]:
        """The text of each line (quads as :meth:`detect` gives them) and its confidence."""
        return [(t, c) for t, c, _ in self._read(rgb, quads)]

    def _read(self, rgb: np.ndarray, quads: np.ndarray) -> list[tuple[str, float, bool]]:
        """Text, confidence, and whether the line reads from the quad's corner 2 to 3 (it lies upside down)."""
        if len(quads) == 0:
            return []
        crops = [self._crop(rgb, q) for q in quads]
        flipped = self._upside_down(crops)
        crops = [cv2.rotate(c, cv2.ROTATE_180) if f else c for c, f in zip(crops, flipped)]
        out = self._recognise(crops)
        # the direction classifier errs on short or unusual lines: an unsure reading is tried turned too
        unsure = [i for i, (t, c) in enumerate(out) if c < 0.85]
        if unsure:
            again = self._recognise([cv2.rotate(crops[i], cv2.ROTATE_180) for i in unsure])
            for i, res in zip(unsure, again):
                if res[1] > out[i][1]:
                    out[i] = res
                    flipped[i] = not flipped[i]
        return [(t, c, f) for (t, c), f in zip(out, flipped)]

    def _recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        order = np.argsort([c.shape[1] for c in crops])
        out: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        for start in range(0, len(order), 8):
            idx = order[start : start + 8]
            width = max(crops[i].shape[1] for i in idx)
            probs = self._rec.run(None, {"x": self._blob([crops[i] for i in idx], width)})[0]
            for i, res in zip(idx, ctc_greedy(probs, self._chars)):
                out[i] = res
        return out

    @staticmethod
    def _chains(quads: np.ndarray, heights: np.ndarray, idx: np.ndarray, gap: float = 3.0) -> list[list[int]]:
        """Runs of lines on one baseline (a card number the detector split into groups), in reading order."""
        idx = [int(i) for i in idx]
        dirs = {i: (quads[i][1] - quads[i][0]) / max(1e-3, float(np.linalg.norm(quads[i][1] - quads[i][0]))) for i in idx}
        nxt: dict[int, int] = {}
        prev: set[int] = set()
        for i in idx:
            d, h = dirs[i], heights[i]
            best, best_dist = None, None
            for j in idx:
                if j == i or j in prev or not 0.7 <= heights[j] / max(h, 1e-3) <= 1.4 or float(d @ dirs[j]) < 0.95:
                    continue
                v = quads[j][0] - quads[i][1]  # end of i to start of j
                along, across = float(v @ d), abs(float(v @ np.array([-d[1], d[0]])))
                if -0.5 * h <= along <= gap * h and across <= 0.4 * h and (best_dist is None or along < best_dist):
                    best, best_dist = j, along
            if best is not None:
                nxt[i] = best
                prev.add(best)
        chains = []
        for i in idx:
            if i in prev:
                continue
            chain = [i]
            while chain[-1] in nxt and len(chain) < 8:
                chain.append(nxt[chain[-1]])
            if len(chain) > 1:
                chains.append(chain)
        return chains

    # ------------------------------------------------------------------ the whole search
    def find(self, rgb: np.ndarray, text: TextMode = "documents", portraits: Any = None) -> TextResult:
        """Regions of ``rgb`` (``(H, W, 3)`` uint8) to destroy.

        ``text="documents"``: personal numbers, identity-document fields, and every
        line of a proved document; ``"all"``: every text region (detection only).
        ``portraits``: a callable ``rgb -> (n, 4) boxes`` searching a card region for
        faces (default: none), whose hits are ``document_portrait`` regions.
        """
        if rgb.ndim == 2:
            rgb = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB)
        quads, scores = self.detect(rgb, self.all_side if text == "all" else None)
        result = TextResult(lines=len(quads))
        if len(quads) == 0:
            return result
        heights = np.linalg.norm(quads[:, 3] - quads[:, 0], axis=1)
        lengths = np.linalg.norm(quads[:, 1] - quads[:, 0], axis=1)
        if text == "all":
            result.regions = [TextRegion(q, float(s), "text") for q, s in zip(quads, scores)]
            return result
        # lines that can hold a number or a label: at least 5 px high and about two characters long
        cand = np.flatnonzero((heights >= 5) & (lengths >= 1.5 * heights))
        cand = cand[np.argsort(-(scores[cand] * lengths[cand] * heights[cand]))][: self.max_lines]
        kinds: dict[int, tuple[str, str | None]] = {}
        texts: dict[int, str] = {}

        def read(lines: np.ndarray) -> None:
            for i, (txt, conf, flip) in zip(lines, self._read(rgb, quads[lines])):
                texts[int(i)] = txt
                if flip:  # corners in reading order: the line starts at corner 0
                    quads[i] = quads[i][[2, 3, 0, 1]]
                c = classify(txt)
                if c is not None:
                    kinds[int(i)] = c

        # long lines first (ID, card and MRZ lines, phones, addresses): the lines of a document
        # they prove are painted whatever they say, so they are not read
        long = lengths[cand] >= LONG_LINE * heights[cand]
        read(cand[long])
        proved = self._groups(quads, heights, [i for i, (k, _) in kinds.items() if k in PROOF_KINDS])
        taken = {i for g in proved for i in g}
        rest = np.array([i for i in cand[~long] if int(i) not in taken], np.int64)
        if len(rest):
            read(rest)
        # an identity label with few lines around it: the card's other lines are too small for the
        # detector at the photo's scale (a card held far from the camera); its surroundings are searched enlarged
        more_q, more_s = self._search_around(rgb, quads, heights, kinds)
        if len(more_q):
            first = len(quads)
            quads, scores = np.concatenate([quads, more_q]), np.concatenate([scores, more_s])
            heights = np.linalg.norm(quads[:, 3] - quads[:, 0], axis=1)
            lengths = np.linalg.norm(quads[:, 1] - quads[:, 0], axis=1)
            new = np.arange(first, len(quads))
            new = new[(heights[new] >= 5) & (lengths[new] >= 1.5 * heights[new])]
            read(new[np.argsort(-(lengths[new] * heights[new]))][: self.max_lines])
            result.lines = len(quads)
        cand = np.array(sorted(texts), np.int64)
        for chain in self._chains(quads, heights, cand):
            c = classify("  ".join(texts[i] for i in chain))
            if c is None or c[0] == "document_text":  # an address split at its dots: the pieces run on
                c = classify("".join(texts[i] for i in chain))
            if c is not None and c[0] != "document_text":
                for i in chain:
                    kinds[i] = c
        result.read = len(cand)
        groups = self._groups(quads, heights, [i for i, (k, _) in kinds.items() if k in PROOF_KINDS or k == "document_text"])
        member: dict[int, int] = {}
        for g, lines in enumerate(groups):
            for i in lines:
                member.setdefault(i, g)
        mrz = self._mrz_blocks(quads, [i for i, (k, _) in kinds.items() if k == "mrz"], texts)
        for i in sorted(set(kinds) | set(member)):
            kind, masked = kinds.get(i, ("document_text", None))
            quad = quads[i]
            if kind == "email" and email_cut(texts.get(i, "")):
                quad = self._run_on(quad, texts.get(i, ""), 8)
            if kind == "mrz":
                quad = mrz.get(i, quad)
                if i in member:
                    quad = self._across_page(quad, quads[groups[member[i]]])
            result.regions.append(TextRegion(quad, float(scores[i]), kind, masked, member.get(i)))
        result.documents = len(groups)
        painted: set[int] = set()
        for g, lines in enumerate(groups):
            if self._is_card([kinds[i][0] for i in lines if i in kinds], [texts[i] for i in lines if i in texts]):
                # a card known by few lines (an MRZ alone): its MRZ's full length says how wide it is
                shape = np.stack([mrz.get(i, quads[i]) for i in lines]) if len(lines) < LONE else quads[lines]
                proof = [k for k, i in enumerate(lines) if i in kinds and kinds[i][0] in PROOF_KINDS]
                anchor = max(proof, key=lambda k: float(np.linalg.norm(shape[k][1] - shape[k][0]))) if proof else None
                outline = card_outline(rgb, shape, heights[lines], anchor)
                if outline is not None:
                    result.regions.append(TextRegion(outline.quad, 1.0, "document", None, g))
                    if outline.edges == 4:  # the card is known to its edges: its portrait is painted with it
                        painted.add(g)
        if portraits is not None:
            for g, lines in enumerate(groups):
                if g in painted and not FACES_ON_PAINTED_CARDS:
                    continue
                for box in self._portraits(rgb, quads[lines], portraits):
                    x0, y0, x1, y1 = box
                    q = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
                    result.regions.append(TextRegion(q, 1.0, "document_portrait", None, g))
        return result

    def _search_around(self, rgb: np.ndarray, quads: np.ndarray, heights: np.ndarray, kinds: dict[int, tuple[str, str | None]]) -> tuple[np.ndarray, np.ndarray]:
        """New lines around the largest identity label that has fewer than :data:`LONE` lines near it.

        The region (:data:`AROUND` label lengths each way) is detected again
        enlarged so that the label is about 40 pixels high (at most three times,
        and :data:`AROUND_SIDE` pixels a side): a passport's title is large,
        its MRZ lines are small. Lines whose centre lies in a line already
        found are left out.
        """
        none = np.zeros((0, 4, 2), np.float32), np.zeros(0, np.float32)
        labels = [i for i, (k, _) in kinds.items() if k == "document_text"]
        if not labels:
            return none
        lone = [i for g in self._groups(quads, heights, labels) if len(g) < LONE for i in g if i in kinds and kinds[i][0] == "document_text"]
        if not lone:
            return none
        i = max(lone, key=lambda j: float(heights[j]))
        h, w = rgb.shape[:2]
        first = min(1.0, self.det_side / max(h, w))
        c = quads[i].mean(0)
        reach = AROUND * float(np.linalg.norm(quads[i][1] - quads[i][0]))
        x0, y0 = max(0, int(c[0] - reach)), max(0, int(c[1] - reach))
        x1, y1 = min(w, int(c[0] + reach)), min(h, int(c[1] + reach))
        if x1 - x0 < 32 or y1 - y0 < 32:
            return none
        s = min(3.0, max(1.0, 40.0 / max(float(heights[i]), 1.0)), AROUND_SIDE / max(x1 - x0, y1 - y0))
        if s < 1.3 * first:  # no finer than the first search
            return none
        nw, nh = max(32, int(round((x1 - x0) * s / 32)) * 32), max(32, int(round((y1 - y0) * s / 32)) * 32)
        m = np.array([[nw / (x1 - x0), 0, -nw / (x1 - x0) * x0], [0, nh / (y1 - y0), -nh / (y1 - y0) * y0]], np.float64)
        found, scores = self._detect_warped(rgb, s, m, (nw, nh))
        if not len(found):
            return none
        centres = found.mean(1)
        old = [q.astype(np.float32) for q in quads]
        keep = np.array([all(cv2.pointPolygonTest(q, (float(p[0]), float(p[1])), False) < 0 for q in old) for p in centres], bool)
        return found[keep].astype(np.float32), scores[keep].astype(np.float32)

    @staticmethod
    def _is_card(kinds: list[str], texts: list[str]) -> bool:
        """Whether a group of lines is a proved identity document or card: a proving line, or two identity labels.

        >>> TextFinder._is_card(["document_text"], ["姓名 王伟"]), TextFinder._is_card([], ["PASSPORT", "Surname/Nom"])
        (False, True)
        """
        if any(k in PROOF_KINDS for k in kinds):
            return True
        return len({label for t in texts if (label := labelled_field(t))}) >= 2

    @staticmethod
    def _run_on(quad: np.ndarray, text: str, chars: int) -> np.ndarray:
        """A line (corners in reading order) painted on past its end by ``chars`` characters of its own pitch.

        >>> q = np.array([[0, 0], [40, 0], [40, 8], [0, 8]], np.float32)
        >>> TextFinder._run_on(q, "ab@cdefghi", 5)[:2].tolist()
        [[0.0, 0.0], [60.0, 0.0]]
        """
        n = max(1, len(re.sub(r"\s+", "", text)))
        q = quad.astype(np.float64)
        extra = (q[1] - q[0]) * chars / n
        return np.array([q[0], q[1] + extra, q[2] + extra, q[3]], np.float32)

    @staticmethod
    def _mrz_blocks(quads: np.ndarray, idx: list[int], texts: dict[int, str]) -> dict[int, np.ndarray]:
        """Each MRZ line (or piece of one) stretched over its whole block: the full length of an MRZ line.

        The lines of an MRZ block are parallel, left-aligned and of one length (30,
        36 or 44 characters at a fixed pitch); the detector often stops where the
        ``<`` filler starts, or splits a line there. Pieces of one block (parallel,
        alike in height, at most three heights apart across) are put on rows; the
        block's span along its lines is the union of its pieces, grown to the
        character count the longest row implies at the pitch the pieces show: from
        the start of line 1 when a piece begins as line 1 does (document code and
        state, :func:`minface.documents.validators.mrz_line_start`), else at both
        ends by what is missing. ``quads`` are in reading order (corner 0 starts the text).

        >>> q = np.array([[100, 0], [140, 0], [140, 5], [100, 5]], np.float32)   # 20 characters of a TD1 line
        >>> TextFinder._mrz_blocks(q[None], [0], {0: "IDUTOD23145890<12345"})[0][:2].tolist()
        [[100.0, 0.0], [160.0, 0.0]]
        >>> TextFinder._mrz_blocks(q[None], [0], {0: "D23145890<<<12345678"})[0][:2].tolist()   # start, format unknown
        [[52.0, 0.0], [188.0, 0.0]]
        """
        from .validators import mrz_format, mrz_line_start

        if not idx:
            return {}
        q = {i: quads[i].astype(np.float64) for i in idx}
        d = {i: (q[i][1] - q[i][0]) / max(1e-6, float(np.linalg.norm(q[i][1] - q[i][0]))) for i in idx}
        h = {i: max(1e-3, float(np.linalg.norm(q[i][3] - q[i][0]))) for i in idx}
        parent = {i: i for i in idx}

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for a in idx:
            for b in idx:
                if a >= b or float(d[a] @ d[b]) < 0.97 or not 0.7 <= h[a] / h[b] <= 1.4:
                    continue
                v = q[b].mean(0) - q[a].mean(0)
                across = abs(float(v @ np.array([-d[a][1], d[a][0]])))
                if across <= 3.0 * max(h[a], h[b]) and abs(float(v @ d[a])) <= 40 * max(h[a], h[b]):
                    parent[root(a)] = root(b)
        blocks: dict[int, list[int]] = {}
        for i in idx:
            blocks.setdefault(root(i), []).append(i)
        out: dict[int, np.ndarray] = {}
        for members in blocks.values():
            ref = max(members, key=lambda i: float(np.linalg.norm(q[i][1] - q[i][0])))
            o, u = q[ref][0], d[ref]
            n = np.array([-u[1], u[0]])
            if float((q[ref][3] - q[ref][0]) @ n) < 0:
                n = -n
            span = {i: ((q[i] - o) @ u, (q[i] - o) @ n) for i in members}
            # rows: pieces whose centres lie within half a height across
            rows: list[list[int]] = []
            for i in sorted(members, key=lambda i: float(span[i][1].mean())):
                if rows and abs(float(span[i][1].mean()) - float(span[rows[-1][0]][1].mean())) <= 0.5 * h[i]:
                    rows[-1].append(i)
                else:
                    rows.append([i])
            chars = {i: len(re.sub(r"\s+", "", texts.get(i, ""))) for i in members}
            pitches = [float(np.linalg.norm(q[i][1] - q[i][0])) / chars[i] for i in members if chars[i] >= 6]
            lo = min(float(span[i][0].min()) for i in members)
            hi = max(float(span[i][0].max()) for i in members)
            if pitches:
                count = max(sum(chars[i] for i in row) for row in rows)
                first = min(rows[0], key=lambda i: float(span[i][0].min()))
                full = max(count, mrz_format(texts.get(first, ""), len(rows))) * float(np.median(pitches))
                if mrz_line_start(texts.get(first, "")):
                    lo = float(span[first][0].min())
                    hi = max(hi, lo + full)
                elif hi - lo < full:
                    grow = full - (hi - lo)
                    lo, hi = lo - grow, hi + grow
            for row in rows:
                top = min(float(span[i][1].min()) for i in row)
                bottom = max(float(span[i][1].max()) for i in row)
                quad = np.array([o + lo * u + top * n, o + hi * u + top * n, o + hi * u + bottom * n, o + lo * u + bottom * n], np.float32)
                for i in row:
                    out[i] = quad
        return out

    @staticmethod
    def _mrz_length(quad: np.ndarray, text: str) -> np.ndarray:
        """An MRZ line read with fewer characters than an MRZ line has (30, 36, 44): grown at both ends by what is missing.

        The detector often stops where the ``<`` filler starts; which end that is
        depends on the reading direction, so both ends grow.

        >>> q = np.array([[100, 0], [120, 0], [120, 5], [100, 5]], np.float32)
        >>> TextFinder._mrz_length(q, "I<UTO<<<<<<<<<<")[:2].tolist()   # 15 of 30 characters
        [[80.0, 0.0], [140.0, 0.0]]
        """
        n = len(re.sub(r"\s+", "", text))
        if n == 0:
            return quad
        target = next((t for t in (30, 36, 44) if t >= n), n)
        if target == n:
            return quad
        q = quad.astype(np.float64)
        d = q[1] - q[0]
        extra = d * (target / n - 1.0)
        return np.array([q[0] - extra, q[1] + extra, q[2] + extra, q[3] - extra], np.float32)

    @staticmethod
    def _across_page(quad: np.ndarray, page: np.ndarray) -> np.ndarray:
        """An MRZ line stretched along itself over its page's lines: the detector often stops where the ``<`` filler starts.

        >>> q = np.array([[10, 0], [30, 0], [30, 5], [10, 5]], np.float32)
        >>> page = np.stack([q, q + np.array([-8, -20], np.float32), q + np.array([40, -10], np.float32)])
        >>> TextFinder._across_page(q, page)[:2].tolist()
        [[2.0, 0.0], [70.0, 0.0]]
        """
        q = quad.astype(np.float64)
        d = q[1] - q[0]
        length = float(np.linalg.norm(d))
        if length < 1e-6:
            return quad
        d /= length
        t = (page.reshape(-1, 2) - q[0]) @ d
        lo, hi = min(0.0, float(t.min())), max(length, float(t.max()))
        return np.array([q[0] + lo * d, q[0] + hi * d, q[3] + hi * d, q[3] + lo * d], np.float32)

    @staticmethod
    def _groups(quads: np.ndarray, heights: np.ndarray, seeds: list[int], reach: float = 2.0) -> list[list[int]]:
        """The lines of each document: seeds and every line linked to them (rects grown by ``reach`` heights meet)."""
        n = len(quads)
        rects = []
        for q, h in zip(quads, heights):
            (cx, cy), (rw, rh), a = _rect(q)
            g = 2 * reach * float(h)
            rects.append(((cx, cy), (rw + g, rh + g), a))
        seen: set[int] = set()
        groups = []
        for s in seeds:
            if s in seen:
                continue
            group, todo = [], [s]
            seen.add(s)
            while todo:
                i = todo.pop()
                group.append(i)
                for j in range(n):
                    if j in seen or not (0.3 <= heights[j] / max(heights[i], 1e-3) <= 3.5):
                        continue
                    kind, _ = cv2.rotatedRectangleIntersection(rects[i], rects[j])
                    if kind != cv2.INTERSECT_NONE:
                        seen.add(j)
                        todo.append(j)
            groups.append(sorted(group))
        return groups

    @staticmethod
    def _portraits(rgb: np.ndarray, quads: np.ndarray, search: Any) -> list[np.ndarray]:
        """Faces in the region of a document's lines (grown to hold a portrait beside them)."""
        h, w = rgb.shape[:2]
        pts = quads.reshape(-1, 2)
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        g = 0.6 * max(x1 - x0, y1 - y0)
        cx0, cy0 = int(max(0, x0 - g)), int(max(0, y0 - g))
        cx1, cy1 = int(min(w, x1 + g)), int(min(h, y1 + g))
        if cx1 - cx0 < 16 or cy1 - cy0 < 16:
            return []
        crop = rgb[cy0:cy1, cx0:cx1, :3]
        side = max(crop.shape[:2])
        s = 1024 / side if side > 1024 else min(2.0, 640 / side)
        if s != 1.0:
            crop = cv2.resize(crop, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        boxes = np.asarray(search(np.ascontiguousarray(crop)), np.float32).reshape(-1, 4)
        out = []
        for b in boxes:
            b = b / s + np.array([cx0, cy0, cx0, cy0], np.float32)
            bw, bh = b[2] - b[0], b[3] - b[1]
            # a portrait photo is larger than the face in it: the whole photo goes (head, shoulders, frame)
            out.append(np.array([b[0] - 0.45 * bw, b[1] - 0.45 * bh, b[2] + 0.45 * bw, b[3] + 0.6 * bh], np.float32))
        return out


_shared: dict[tuple, TextFinder] = {}
_shared_lock = threading.Lock()


def shared_finder(threads: int | None = None) -> TextFinder:
    """One :class:`TextFinder` per process and thread count."""
    key = (threads,)
    with _shared_lock:
        f = _shared.get(key)
        if f is None:
            f = _shared[key] = TextFinder(threads)
        return f


def find_text(image: np.ndarray, text: TextMode = "documents", *, threads: int | None = None) -> TextResult:
    """Find the personal text in an RGB image (``(H, W, 3)`` uint8): :meth:`TextFinder.find` with a shared finder.

    >>> import numpy as np
    >>> find_text(np.full((64, 64, 3), 255, np.uint8)).regions
    []
    """
    return shared_finder(threads).find(image, text)
