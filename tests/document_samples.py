"""Synthetic documents in photos, rendered with Pillow, with exact ground truth.

Every sample is a JPEG photo of one or two documents (a Chinese resident ID
card, front or back; a bank card; a passport data page with a TD3 MRZ; a TD1
or TD2 identity card; a form or letter with phone numbers and e-mail
addresses) and, for every printed field, its quadrilateral in the pixels of
the photo after every warp: the document's perspective, a rotation at any
angle, compositing into a scene, and a quarter turn of the whole photo for
photos that lost their orientation tag. Blur, noise, lighting and JPEG
compression change pixels, never geometry, so the quadrilaterals stay exact.

The numbers are random and format-valid (:mod:`document_numbers`: GB 11643
check digit and a real date for ID numbers, Luhn for card numbers except some
UnionPay ``62`` numbers, ICAO 9303 check digits for MRZ lines); names and
addresses are drawn from small syllable lists: no real person's data. Card portraits are crops of
NASA's astronaut portrait (``skimage.data.astronaut()``, public domain) unless
the caller passes other faces; their face box is ground truth too.

Scenes (``SCENES``): ``alone`` (the card fills the photo), ``table`` (on a
textured surface), ``kyc`` (a card composited next to the largest face of a
photo: the caller passes the photos, see :func:`kyc_photos`), ``two`` (two
documents on a table) and ``turned`` (an ``alone`` or ``table`` photo turned
by 90 or 270 degrees, without an orientation tag).

Coordinates are continuous pixels: pixel ``(i, j)`` covers ``[i, i+1) x [j, j+1)``.

>>> s = make_sample(3, seed=0, scene="table")
>>> s.jpeg[:2], s.image.shape[2], all(f.inside(s.width, s.height) for f in s.fields)
(b'\\xff\\xd8', 3, True)
"""

from __future__ import annotations

import functools
import io
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from document_numbers import (
    BANK_NAMES,
    BANK_SYLLABLES,
    COUNTRIES,
    COUNTRY_NAMES,
    ETHNIC_GROUPS,
    PLACE_SYLLABLES,
    WORDS_CN,
    WORDS_EN,
    date_text,
    document_dates,
    group_digits,
    latin_word,
    passport_number,
    pick,
    random_card_number,
    random_email,
    random_id_number,
    random_person,
    random_phone,
    td1_mrz,
    td2_mrz,
    td3_mrz,
)

#: Field kinds, as the engine reports the regions it paints (``text``: text that proves no document).
KINDS = ("id_number", "bank_card", "mrz", "phone", "email", "document_text", "document_portrait", "text")
#: Kinds whose value is a personal number: what an OCR must not read on an output.
NUMBER_KINDS = ("id_number", "bank_card", "mrz", "phone", "email")
DOCUMENT_KINDS = ("id_front", "id_back", "bank_card", "passport", "td1", "td2", "form")
SCENES = ("alone", "table", "kyc", "two", "turned")
#: Share of each scene in :func:`make_set` (``kyc`` falls back to ``table`` without photos).
SCENE_WEIGHTS = {"alone": 0.22, "table": 0.26, "kyc": 0.2, "two": 0.16, "turned": 0.16}
#: Share of each document kind in single-document scenes.
DOCUMENT_WEIGHTS = {"id_front": 0.2, "id_back": 0.08, "bank_card": 0.2, "passport": 0.14, "td1": 0.08, "td2": 0.08, "form": 0.22}
#: Physical size (mm) of each document.
DOCUMENT_MM = {
    "id_front": (85.6, 54.0),
    "id_back": (85.6, 54.0),
    "bank_card": (85.6, 54.0),
    "td1": (85.6, 54.0),
    "td2": (105.0, 74.0),
    "passport": (125.0, 88.0),
    "form": (148.0, 210.0),
}
#: The astronaut's face box (x0, y0, x1, y1) in ``skimage.data.astronaut()``.
ASTRONAUT_FACE = (178.0, 56.0, 272.0, 179.0)

_FONT_FILES = {
    "cjk": ("wqy/wqy-microhei.ttc", 0),
    "cjk_mono": ("wqy/wqy-microhei.ttc", 1),
    "sans": ("dejavu/DejaVuSans.ttf", 0),
    "sans_bold": ("dejavu/DejaVuSans-Bold.ttf", 0),
    "sans_cond": ("dejavu/DejaVuSansCondensed.ttf", 0),
    "serif": ("dejavu/DejaVuSerif.ttf", 0),
    "serif_bold": ("dejavu/DejaVuSerif-Bold.ttf", 0),
    "mono": ("dejavu/DejaVuSansMono.ttf", 0),
    "mono_bold": ("dejavu/DejaVuSansMono-Bold.ttf", 0),
    "lib_sans": ("liberation/LiberationSans-Regular.ttf", 0),
    "lib_sans_bold": ("liberation/LiberationSans-Bold.ttf", 0),
    "lib_serif": ("liberation/LiberationSerif-Regular.ttf", 0),
    "lib_mono": ("liberation/LiberationMono-Regular.ttf", 0),
    "lib_mono_bold": ("liberation/LiberationMono-Bold.ttf", 0),
}
_FONT_ROOTS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
#: Fonts a sample cannot do without (Debian: fonts-wqy-microhei, fonts-dejavu-core).
REQUIRED_FONTS = ("cjk", "sans", "mono")


# --------------------------------------------------------------------------- fonts


@functools.lru_cache(maxsize=None)
def font_path(name: str) -> tuple[str, int] | None:
    """The file and face index of font ``name`` (a key of the font table), or None when absent."""
    rel, index = _FONT_FILES[name]
    for root in _FONT_ROOTS:
        for candidate in (root / rel, root / Path(rel).name):
            if candidate.is_file():
                return str(candidate), index
        if root.is_dir():
            for found in root.rglob(Path(rel).name):
                return str(found), index
    return None


def missing_fonts() -> list[str]:
    """The required fonts that are not installed (empty when documents can be rendered)."""
    return [n for n in REQUIRED_FONTS if font_path(n) is None]


def require_fonts() -> None:
    """Skip the calling test when the fonts are missing (a failure with ``MINFACE_REQUIRE_FONTS=1``, as in CI)."""
    import os

    import pytest

    missing = missing_fonts()
    if missing:
        message = f"fonts not installed: {', '.join(missing)} (apt-get install fonts-wqy-microhei fonts-dejavu-core)"
        if os.environ.get("MINFACE_REQUIRE_FONTS") == "1":
            pytest.fail(message + " and MINFACE_REQUIRE_FONTS=1")
        pytest.skip(message)


#: What stands in for a font that is not installed (the random draws stay the same on every machine).
_FALLBACK = {
    "cjk_mono": "cjk", "sans_bold": "sans", "sans_cond": "sans", "serif": "sans", "serif_bold": "sans_bold",
    "mono_bold": "mono", "lib_sans": "sans", "lib_sans_bold": "sans_bold", "lib_serif": "serif",
    "lib_mono": "mono", "lib_mono_bold": "mono_bold",
}


@functools.lru_cache(maxsize=512)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    wanted = name
    while font_path(name) is None and name in _FALLBACK:
        name = _FALLBACK[name]
    found = font_path(name)
    if found is None:
        raise FileNotFoundError(f"font {wanted!r} ({_FONT_FILES[wanted][0]}) is not installed")
    return ImageFont.truetype(found[0], max(6, int(size)), index=found[1])


# --------------------------------------------------------------------------- geometry


def rect_quad(box: Sequence[float]) -> np.ndarray:
    """The corners (top-left, top-right, bottom-right, bottom-left) of box ``(x0, y0, x1, y1)``."""
    x0, y0, x1, y1 = box
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def apply_h(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Points ``(n, 2)`` mapped by the 3x3 homography ``h`` (continuous pixel coordinates)."""
    pts = np.asarray(pts, np.float64).reshape(-1, 2)
    p = np.c_[pts, np.ones(len(pts))] @ h.T
    return p[:, :2] / p[:, 2:3]


def _shift(dx: float, dy: float) -> np.ndarray:
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64)


def cv_homography(h: np.ndarray) -> np.ndarray:
    """``h`` (continuous coordinates) as OpenCV's warps take it (pixel centres at integers)."""
    return _shift(-0.5, -0.5) @ h @ _shift(0.5, 0.5)


def warp(src: np.ndarray, h: np.ndarray, size: tuple[int, int], *, border=0, interpolation=cv2.INTER_LINEAR) -> np.ndarray:
    """``src`` warped by ``h`` (continuous coordinates) onto a ``size = (width, height)`` canvas."""
    return cv2.warpPerspective(src, cv_homography(h), size, flags=interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def turn_matrix(k: int, width: int, height: int) -> np.ndarray:
    """Homography of ``np.rot90(image, k)`` for an image of ``width x height`` (k = 1: counter-clockwise)."""
    k %= 4
    if k == 0:
        return np.eye(3)
    if k == 1:  # (x, y) -> (y, W - x)
        return np.array([[0, 1, 0], [-1, 0, width], [0, 0, 1]], np.float64)
    if k == 2:
        return np.array([[-1, 0, width], [0, -1, height], [0, 0, 1]], np.float64)
    return np.array([[0, -1, height], [1, 0, 0], [0, 0, 1]], np.float64)  # (x, y) -> (H - y, x)


def quad_mask(quad: np.ndarray, width: int, height: int) -> np.ndarray:
    """Boolean mask of the pixels whose centre lies inside ``quad``."""
    mask = np.zeros((height, width), np.uint8)
    pts = np.round((np.asarray(quad, np.float64) - 0.5) * 16).astype(np.int32)
    cv2.fillPoly(mask, [pts], 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def quad_area(quad: np.ndarray) -> float:
    """Area of a polygon (shoelace)."""
    x, y = np.asarray(quad, np.float64).T
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def grow_quad(quad: np.ndarray, margin: float) -> np.ndarray:
    """``quad`` grown by ``margin`` pixels along its own two axes (a rotated rectangle grows exactly)."""
    q = np.asarray(quad, np.float64)
    u = (q[1] - q[0]) + (q[2] - q[3])
    v = (q[3] - q[0]) + (q[2] - q[1])
    u /= max(np.linalg.norm(u), 1e-9)
    v /= max(np.linalg.norm(v), 1e-9)
    signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64)
    return q + margin * (signs[:, :1] * u + signs[:, 1:] * v)


def quad_height(quad: np.ndarray) -> float:
    """Mean length of a quadrilateral's left and right sides (the line height of a text quad)."""
    q = np.asarray(quad, np.float64)
    return float((np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2)


# --------------------------------------------------------------------------- ground truth


@dataclass
class Field:
    """One printed field (or portrait) and its exact quadrilateral.

    ``secret`` is the normalized value an OCR must not read (national digits of a
    phone, the ID or card number's characters, an MRZ line, an e-mail address);
    empty for text that holds no personal number.
    """

    kind: str
    quad: np.ndarray  # (4, 2) top-left, top-right, bottom-right, bottom-left
    value: str = ""
    secret: str = ""
    document: int = 0
    #: portraits: the face inside the portrait
    face: np.ndarray | None = None

    def mapped(self, h: np.ndarray, document: int | None = None) -> Field:
        return Field(
            self.kind,
            apply_h(h, self.quad),
            self.value,
            self.secret,
            self.document if document is None else document,
            None if self.face is None else apply_h(h, self.face),
        )

    def box(self) -> tuple[float, float, float, float]:
        x, y = self.quad[:, 0], self.quad[:, 1]
        return float(x.min()), float(y.min()), float(x.max()), float(y.max())

    def inside(self, width: int, height: int) -> bool:
        x0, y0, x1, y1 = self.box()
        return x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height

    def height(self) -> float:
        return quad_height(self.quad)


@dataclass
class Document:
    """A flat document: its pixels, its fields in its own pixels, and the ink of its text."""

    kind: str
    image: np.ndarray  # RGB uint8
    fields: list[Field]
    ink: np.ndarray  # uint8 (255: a text stroke), same size as image
    corner_radius: float = 0.0

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]


@dataclass
class Placement:
    """Where a document lies in the photo: its kind, homography (document -> photo) and outline."""

    kind: str
    homography: np.ndarray
    size: tuple[int, int]  # the flat document's width and height
    quad: np.ndarray  # the document's outline in the photo


@dataclass
class Sample:
    """One photo and its ground truth, all in pixels of the upright photo that is handed to a scrubber."""

    index: int
    scene: str
    jpeg: bytes
    image: np.ndarray  # the decoded JPEG (RGB): what a scrubber reads
    fields: list[Field]
    documents: list[Placement]
    #: faces of the photo (KYC) as quads; card portraits' faces are in their fields
    faces: list[np.ndarray] = field(default_factory=list)
    turned: int = 0  # quarter turns applied to the whole photo (no orientation tag)
    quality: int = 90
    ink: np.ndarray | None = None  # text ink in the photo, when asked for

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def height(self) -> int:
        return self.image.shape[0]

    def face_quads(self) -> list[np.ndarray]:
        """Every face: the photo's and the card portraits'."""
        return self.faces + [f.face for f in self.fields if f.face is not None]

    def truth(self) -> dict:
        """The ground truth as JSON-ready data (values included: they are synthetic)."""
        return {
            "index": self.index,
            "scene": self.scene,
            "width": self.width,
            "height": self.height,
            "turned": self.turned,
            "documents": [{"kind": d.kind, "quad": d.quad.round(2).tolist()} for d in self.documents],
            "fields": [
                {"kind": f.kind, "document": f.document, "quad": f.quad.round(2).tolist(), "value": f.value}
                | ({"face": f.face.round(2).tolist()} if f.face is not None else {})
                for f in self.fields
            ],
            "faces": [q.round(2).tolist() for q in self.faces],
        }


# --------------------------------------------------------------------------- drawing


class _Canvas:
    """A document being drawn: pixels, ink layer and fields, in millimetres scaled by ``ppm`` (px per mm)."""

    def __init__(self, kind: str, rng: np.random.Generator, ppm: float, background: np.ndarray):
        self.kind = kind
        self.rng = rng
        self.ppm = ppm
        self.image = Image.fromarray(background)
        self.draw = ImageDraw.Draw(self.image)
        self.ink = Image.new("L", self.image.size, 0)
        self.fields: list[Field] = []

    def px(self, mm: float) -> float:
        return mm * self.ppm

    def text(
        self,
        x_mm: float,
        y_mm: float,
        text: str,
        font: str,
        size_mm: float,
        color,
        kind: str | None = "document_text",
        *,
        secret: str = "",
        emboss: bool = False,
        spacing: float = 0.0,
        anchor: str = "la",
    ) -> tuple[float, float, float, float]:
        """Draw ``text`` with its top-left at (x, y) mm; record a field of ``kind`` on its ink box.

        ``spacing`` adds that many em between characters (mono fonts for MRZ keep
        their pitch). Returns the ink box in pixels.
        """
        f = _font(font, round(self.px(size_mm)))
        if spacing:
            mask = self._spaced_mask(text, f, spacing)
        else:
            left, top, right, bottom = f.getbbox(text, anchor=anchor)
            mask = Image.new("L", (right - left + 4, bottom - top + 4), 0)
            ImageDraw.Draw(mask).text((2 - left, 2 - top), text, font=f, fill=255, anchor=anchor)
        bbox = mask.getbbox()
        if bbox is None:
            return (0, 0, 0, 0)
        mask = mask.crop(bbox)
        ox, oy = int(round(self.px(x_mm))), int(round(self.px(y_mm)))
        boxes = []
        if emboss:  # raised digits: a light edge above-left, a dark one below-right
            d = max(1, int(round(f.size / 22)))
            light = tuple(min(255, int(c) + 90) for c in color[:3])
            dark = tuple(max(0, int(c) - 110) for c in color[:3])
            for (dx, dy), col in (((-d, -d), light), ((d, d), dark)):
                self.image.paste(col, (ox + dx, oy + dy), mask)
                boxes.append((ox + dx, oy + dy, ox + dx + mask.width, oy + dy + mask.height))
        self.image.paste(tuple(int(c) for c in color[:3]), (ox, oy), mask)
        boxes.append((ox, oy, ox + mask.width, oy + mask.height))
        ink_mask = Image.new("L", self.ink.size, 0)
        for bx in boxes:
            ink_mask.paste(mask, bx[:2], mask)
        self.ink.paste(255, (0, 0), ink_mask)
        box = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
        box = (max(0, box[0]), max(0, box[1]), min(self.ink.width, box[2]), min(self.ink.height, box[3]))
        if kind is not None:
            self.fields.append(Field(kind, rect_quad(box), text, secret))
        return box

    @staticmethod
    def _spaced_mask(text: str, f: ImageFont.FreeTypeFont, spacing: float) -> Image.Image:
        pitch = f.getlength("M") + spacing * f.size
        ascent, descent = f.getmetrics()
        mask = Image.new("L", (int(pitch * len(text) + f.size), ascent + descent + 4), 0)
        d = ImageDraw.Draw(mask)
        for i, c in enumerate(text):
            d.text((2 + i * pitch, 2), c, font=f, fill=255)
        return mask

    def width_of(self, text: str, font: str, size_mm: float) -> float:
        """Advance width of ``text`` in mm."""
        return _font(font, round(self.px(size_mm))).getlength(text) / self.ppm

    def portrait(self, x_mm: float, y_mm: float, w_mm: float, h_mm: float, faces, *, tone: str = "color") -> None:
        """Paste a portrait (a crop around a face) and record it with its face box."""
        w, h = int(round(self.px(w_mm))), int(round(self.px(h_mm)))
        crop, face = portrait_crop(self.rng, faces, w, h)
        if tone == "gray":
            crop = np.repeat(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
        elif tone == "light":
            crop = (crop.astype(np.float32) * 0.75 + 60).clip(0, 255).astype(np.uint8)
        ox, oy = int(round(self.px(x_mm))), int(round(self.px(y_mm)))
        self.image.paste(Image.fromarray(crop), (ox, oy))
        fx0, fy0, fx1, fy1 = face
        self.fields.append(Field("document_portrait", rect_quad((ox, oy, ox + w, oy + h)), face=rect_quad((ox + fx0, oy + fy0, ox + fx1, oy + fy1))))

    def finish(self, corner_mm: float = 0.0) -> Document:
        return Document(self.kind, np.asarray(self.image).copy(), self.fields, np.asarray(self.ink).copy(), self.px(corner_mm))


def _ramp(w: int, h: int, angle: float) -> np.ndarray:
    """A linear ramp from 0 to 1 across a ``w x h`` image along ``angle`` (float32, computed small and resized)."""
    sw, sh = max(2, min(w, 64)), max(2, min(h, 64))
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    t = xx / (sw - 1) * w * math.cos(angle) + yy / (sh - 1) * h * math.sin(angle)
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    return cv2.resize(t, (w, h), interpolation=cv2.INTER_LINEAR)


def _gradient(w: int, h: int, c0, c1, rng: np.random.Generator) -> np.ndarray:
    """A linear blend from colour ``c0`` to ``c1`` at a random angle."""
    t = _ramp(w, h, rng.uniform(0, math.pi))
    return np.dstack([cv2.convertScaleAbs(t, alpha=float(b) - float(a), beta=float(a)) for a, b in zip(c0, c1)])


@functools.lru_cache(maxsize=1)
def _noise_tile() -> np.ndarray:
    """A fixed 512 x 512 tile of Gaussian noise (int8, standard deviation 20)."""
    return np.clip(np.round(np.random.default_rng(12345).standard_normal((512, 512, 3)) * 20), -127, 127).astype(np.int8)


def add_noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``img`` plus Gaussian noise of ``sigma`` (a randomly shifted tile: fast on large photos)."""
    h, w = img.shape[:2]
    tile = np.roll(_noise_tile(), (int(rng.integers(512)), int(rng.integers(512))), (0, 1))
    noise = np.tile(tile, (-(-h // 512), -(-w // 512), 1))[:h, :w]
    if img.ndim == 2:
        noise = noise[..., 0]
    return cv2.addWeighted(img, 1.0, np.ascontiguousarray(noise), sigma / 20, 0.0, dtype=cv2.CV_8U)


def _guilloche(img: np.ndarray, rng: np.random.Generator, color, *, rosettes: int = 2, waves: int = 14, alpha: float = 0.35) -> np.ndarray:
    """Security-print-like curves (rosettes and wave bands) drawn faintly over ``img``."""
    h, w = img.shape[:2]
    layer = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(layer)
    t = np.linspace(0, 2 * math.pi, 1500)
    lw = max(1, int(round(min(w, h) / 400)))
    for _ in range(rosettes):
        cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
        big = rng.uniform(0.15, 0.45) * min(w, h)
        k, m = int(rng.integers(5, 19)), int(rng.integers(3, 9))
        for j in range(int(rng.integers(4, 9))):
            r = big * (0.6 + 0.08 * j) + big * 0.25 * np.cos(k * t + j * 0.3)
            x = cx + r * np.cos(t) + big * 0.1 * np.cos(m * t)
            y = cy + r * np.sin(t) + big * 0.1 * np.sin(m * t)
            d.line(list(zip(x.tolist(), y.tolist())), fill=255, width=lw)
    xs = np.linspace(0, w, 400)
    period, amp = rng.uniform(0.08, 0.3) * w, rng.uniform(0.01, 0.05) * h
    for j in range(waves):
        y0 = (j + rng.uniform(0, 1)) * h / waves
        y = y0 + amp * np.sin(2 * math.pi * xs / period + j * 0.7)
        d.line(list(zip(xs.tolist(), y.tolist())), fill=180, width=lw)
    a = np.asarray(layer, np.float32) * (alpha / 255)
    ink = np.empty_like(img)
    ink[:] = np.asarray(color, np.uint8)
    return cv2.blendLinear(img, ink, 1 - a, a)


def _rounded_alpha(w: int, h: int, radius: float) -> np.ndarray:
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, w - 1, h - 1), radius=max(0, int(radius)), fill=255)
    return np.asarray(mask)


def astronaut_faces() -> list[tuple[np.ndarray, tuple[float, float, float, float]]]:
    """The astronaut portrait and its face box: the default source of card portraits."""
    from skimage import data

    return [(data.astronaut(), ASTRONAUT_FACE)]


@functools.lru_cache(maxsize=1)
def _default_faces():
    return astronaut_faces()


def portrait_crop(rng: np.random.Generator, faces, w: int, h: int) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """A ``w x h`` head-and-shoulders crop around a random face of ``faces``, and the face box in it."""
    src, (fx0, fy0, fx1, fy1) = faces[int(rng.integers(len(faces)))]
    fw = fx1 - fx0
    share = rng.uniform(0.45, 0.65)  # face width / portrait width
    cw = fw / share
    ch = cw * h / w
    cx = (fx0 + fx1) / 2 + rng.uniform(-0.06, 0.06) * cw
    cy0 = fy0 - ch * rng.uniform(0.14, 0.24)
    if rng.random() < 0.5:
        src, cx = src[:, ::-1], src.shape[1] - cx  # mirrored: another "person"
        fx0, fx1 = src.shape[1] - fx1, src.shape[1] - fx0
    x0, y0 = cx - cw / 2, cy0
    s = w / cw
    m = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]], np.float64)
    m_cv = m.copy()
    m_cv[:, 2] += m[:, :2] @ [0.5, 0.5] - 0.5
    bg = tuple(int(v) for v in rng.integers(170, 240, 3))
    crop = cv2.warpAffine(np.ascontiguousarray(src), m_cv, (w, h), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=bg)
    face = ((fx0 - x0) * s, (fy0 - y0) * s, (fx1 - x0) * s, (fy1 - y0) * s)
    face = (max(0.0, face[0]), max(0.0, face[1]), min(float(w), face[2]), min(float(h), face[3]))
    return crop, face


# --------------------------------------------------------------------------- documents


def _light(rng, lo=205, hi=250):
    return tuple(int(v) for v in rng.integers(lo, hi, 3))


def _dark(rng, hi=70):
    base = int(rng.integers(0, hi))
    return tuple(int(np.clip(base + rng.integers(-15, 25), 0, 255)) for _ in range(3))


def _id_front(rng, ppm, faces) -> Document:
    w, h = (int(round(v * ppm)) for v in DOCUMENT_MM["id_front"])
    bg = _gradient(w, h, _light(rng, 215, 250), _light(rng, 200, 245), rng)
    bg = _guilloche(bg, rng, tuple(int(v) for v in rng.integers(120, 220, 3)), alpha=rng.uniform(0.15, 0.4))
    c = _Canvas("id_front", rng, ppm, bg)
    person = random_person(rng)
    number = random_id_number(rng, person)
    j = lambda s=1.0: rng.uniform(-s, s)  # noqa: E731 - layout jitter in mm
    label_col = tuple(int(v) for v in rng.integers(40, 120, 3)) if rng.random() < 0.7 else (30, 90, 160)
    value_col = _dark(rng)
    ls, vs = rng.uniform(2.6, 3.3), rng.uniform(3.2, 4.0)
    x_label, x_value = 6 + j(), 16 + j()
    portrait_left = rng.random() < 0.2
    if portrait_left:  # a variant layout: portrait on the left, fields to its right
        c.portrait(4 + j(0.5), 7 + j(0.5), 25, 31, faces, tone=pick(rng, ["color", "color", "gray", "light"]))
        x_label, x_value = x_label + 27, x_value + 27
    else:
        c.portrait(56 + j(0.8), 6 + j(0.8), 25, 31, faces, tone=pick(rng, ["color", "color", "gray", "light"]))
    cjk = pick(rng, ("cjk", "cjk", "cjk_mono"))
    y = 6 + j(0.5)
    c.text(x_label, y + 0.4, "姓名", cjk, ls, label_col)
    c.text(x_value, y, person.name_cn, cjk, vs, value_col)
    y += 7 + j(0.4)
    c.text(x_label, y + 0.4, "性别", cjk, ls, label_col)
    c.text(x_value, y, "男" if person.sex == "M" else "女", cjk, vs, value_col)
    c.text(x_value + 10, y + 0.4, "民族", cjk, ls, label_col)
    c.text(x_value + 19, y, pick(rng, ETHNIC_GROUPS), cjk, vs, value_col)
    y += 7 + j(0.4)
    c.text(x_label, y + 0.4, "出生", cjk, ls, label_col)
    b = person.birth
    sep = pick(rng, [" ", "  "])
    c.text(x_value, y, f"{b.year}{sep}年{sep}{b.month}{sep}月{sep}{b.day}{sep}日", cjk, vs, value_col)
    y += 7 + j(0.4)
    c.text(x_label, y + 0.4, "住址", cjk, ls, label_col)
    per_line = int(rng.integers(10, 13)) if not portrait_left else int(rng.integers(9, 11))
    lines = [person.address[i : i + per_line] for i in range(0, len(person.address), per_line)][:3]
    for line in lines:
        c.text(x_value, y, line, cjk, vs * 0.95, value_col)
        y += vs * 1.35
    number_font = pick(rng, ("mono_bold", "mono", "sans_bold", "lib_mono_bold", "cjk_mono"))
    ns = rng.uniform(3.8, 4.6)
    y_num = 54 - 7.5 + j(0.6)
    c.text(6 + j(0.6), y_num + 0.5, "公民身份号码", cjk, ls, label_col)
    c.text(6 + c.width_of("公民身份号码", cjk, ls) + rng.uniform(3, 6), y_num, number, number_font, ns, value_col, "id_number", secret=number, spacing=rng.uniform(0, 0.12))
    return c.finish(3.2)


def _id_back(rng, ppm, faces) -> Document:
    w, h = (int(round(v * ppm)) for v in DOCUMENT_MM["id_back"])
    bg = _gradient(w, h, _light(rng, 210, 250), _light(rng, 200, 245), rng)
    bg = _guilloche(bg, rng, tuple(int(v) for v in rng.integers(120, 220, 3)), rosettes=3, alpha=rng.uniform(0.15, 0.4))
    c = _Canvas("id_back", rng, ppm, bg)
    j = lambda s=1.0: rng.uniform(-s, s)  # noqa: E731
    # a generic emblem: concentric rings and a star (no real emblem)
    cx, cy, r = c.px(14 + j()), c.px(14 + j()), c.px(8.5)
    red = (int(rng.integers(170, 220)), int(rng.integers(20, 60)), int(rng.integers(20, 60)))
    c.draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=max(1, int(c.px(0.8))))
    star = [(cx + r * 0.6 * math.cos(math.pi / 2 + k * 4 * math.pi / 5), cy - r * 0.6 * math.sin(math.pi / 2 + k * 4 * math.pi / 5)) for k in range(5)]
    c.draw.polygon(star, fill=red)
    cjk = pick(rng, ("cjk", "cjk_mono"))
    title = _dark(rng, 60)
    c.text(30 + j(), 8 + j(0.5), "中华人民共和国", cjk, rng.uniform(4.5, 5.5), title)
    c.text(30 + j(), 18 + j(0.5), "居民身份证", cjk, rng.uniform(6.5, 8.0), title)
    ls, vs = rng.uniform(2.6, 3.2), rng.uniform(3.0, 3.8)
    label_col, value_col = tuple(int(v) for v in rng.integers(40, 120, 3)), _dark(rng)
    person = random_person(rng)
    city = person.address.split("市")[0].replace(person.province, "")[:2] or "安平"
    x_label, x_value = 14 + j(), 30 + j()
    y = 36 + j(0.6)
    c.text(x_label, y + 0.3, "签发机关", cjk, ls, label_col)
    c.text(x_value, y, f"{city}市公安局{pick(rng, PLACE_SYLLABLES)}{pick(rng, PLACE_SYLLABLES)}分局", cjk, vs, value_col)
    y += 8 + j(0.4)
    issued = date(2005, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 19)))
    years = pick(rng, [10, 20, 20, 0])
    until = "长期" if years == 0 else f"{issued.year + years}.{issued.month:02d}.{issued.day:02d}"
    c.text(x_label, y + 0.3, "有效期限", cjk, ls, label_col)
    c.text(x_value, y, f"{issued:%Y.%m.%d}-{until}", cjk if years == 0 else pick(rng, (cjk, "sans", "mono")), vs, value_col)
    return c.finish(3.2)


def _bank_card(rng, ppm, faces) -> Document:
    w, h = (int(round(v * ppm)) for v in DOCUMENT_MM["bank_card"])
    palette = [((20, 40, 110), (40, 90, 180)), ((15, 15, 20), (60, 60, 70)), ((150, 110, 40), (220, 190, 110)),
               ((140, 20, 30), (210, 60, 60)), ((10, 90, 60), (60, 160, 110)), ((200, 200, 205), (235, 235, 240)),
               ((90, 30, 120), (150, 80, 190))]
    c0, c1 = pick(rng, palette)
    bg = _gradient(w, h, c0, c1, rng)
    dark_card = np.mean(c0) < 150
    bg = _guilloche(bg, rng, (255, 255, 255) if dark_card else (60, 60, 60), rosettes=int(rng.integers(0, 3)), waves=int(rng.integers(0, 12)), alpha=rng.uniform(0.05, 0.2))
    c = _Canvas("bank_card", rng, ppm, bg)
    j = lambda s=1.0: rng.uniform(-s, s)  # noqa: E731
    fg = (int(rng.integers(225, 256)),) * 3 if dark_card else _dark(rng, 50)
    if rng.random() < 0.5:
        bank = "".join(pick(rng, BANK_SYLLABLES) for _ in range(2)) + "银行"
        c.text(6 + j(), 4.5 + j(0.5), bank, pick(rng, ("cjk", "cjk_mono")), rng.uniform(3.8, 5.0), fg)
    else:
        bank = pick(rng, BANK_NAMES) + " BANK"
        c.text(6 + j(), 4.5 + j(0.5), bank, pick(rng, ("sans_bold", "serif_bold", "lib_sans_bold")), rng.uniform(3.2, 4.2), fg)
    chip = (c.px(8 + j(0.8)), c.px(17 + j(0.8)))
    c.draw.rounded_rectangle((chip[0], chip[1], chip[0] + c.px(11), chip[1] + c.px(8.5)), radius=int(c.px(1.2)), fill=(212, 175, 90), outline=(150, 120, 60), width=max(1, int(c.px(0.25))))
    number, groups = random_card_number(rng)
    emboss = rng.random() < 0.5
    printed = group_digits(number, groups, " " * int(rng.integers(1, 3)))
    size = rng.uniform(4.2, 5.4) if len(number) <= 16 else rng.uniform(3.6, 4.4)
    font = pick(rng, ("mono_bold", "sans_bold", "lib_mono_bold", "mono", "lib_sans_bold"))
    num_col = (int(rng.integers(200, 240)),) * 3 if emboss else fg
    if emboss and not dark_card:
        num_col = (int(rng.integers(150, 190)),) * 3
    x0 = 6.5 + j(0.8)
    while c.width_of(printed, font, size) > 85.6 - x0 - 3:
        size *= 0.95
    c.text(x0, 30 + j(1.0), printed, font, size, num_col, "bank_card", secret=number, emboss=emboss)
    latin = pick(rng, ("sans", "mono", "lib_sans", "sans_cond"))
    person = random_person(rng, chinese=rng.random() < 0.8)
    small = rng.uniform(2.0, 2.6)
    c.text(x0 + 18 + j(3), 39 + j(0.5), "VALID THRU", latin, small * 0.7, fg)
    exp = f"{int(rng.integers(1, 13)):02d}/{int(rng.integers(25, 35))}"
    c.text(x0 + 31 + j(3), 38.5 + j(0.5), exp, pick(rng, ("mono_bold", "mono", "sans")), small * 1.3, num_col, emboss=emboss)
    name = f"{person.surname_latin} {person.given_latin}" if rng.random() < 0.6 else person.name_latin
    c.text(x0, 46 + j(0.8), name, pick(rng, ("mono_bold", "sans", "mono", "lib_sans")), small * 1.3, num_col, emboss=emboss)
    # the network mark: two overlapping discs, sometimes with a word under it
    mx, my = c.px(70 + j()), c.px(41 + j())
    r = c.px(4.5)
    c.draw.ellipse((mx - r, my - r, mx + r, my + r), fill=(210, 40, 40))
    c.draw.ellipse((mx + 0.9 * r, my - r, mx + 2.9 * r, my + r), fill=(240, 170, 40))
    if rng.random() < 0.5:
        c.text(66, 47.5, pick(rng, ["UnionPay", "银联", "DEBIT", "CREDIT"]), pick(rng, ("sans_bold", "cjk")), 2.4, fg)
    return c.finish(3.2)


def _mrz_block(c: _Canvas, lines: list[str], y_mm: float, width_mm: float, font: str, rng) -> None:
    """MRZ lines spread over ``width_mm`` at OCR-B pitch, with a pale band behind them."""
    n = len(lines[0])
    probe = _font(font, 100)
    advance = probe.getlength("M") / 100  # em per character
    size = rng.uniform(0.9, 1.0) * width_mm / n / advance
    pitch_mm = width_mm / n
    spacing = max(0.0, (pitch_mm - advance * size) / size)
    line_gap = size * rng.uniform(1.35, 1.6)
    col = _dark(rng, 40)
    x = (c.image.width / c.ppm - width_mm) / 2 + rng.uniform(-0.5, 0.5)
    for i, line in enumerate(lines):
        c.text(x, y_mm + i * line_gap, line, font, size, col, "mrz", secret=line, spacing=spacing)


def _passport(rng, ppm, faces) -> Document:
    w, h = (int(round(v * ppm)) for v in DOCUMENT_MM["passport"])
    bg = _gradient(w, h, _light(rng, 215, 250), _light(rng, 195, 240), rng)
    bg = _guilloche(bg, rng, tuple(int(v) for v in rng.integers(110, 210, 3)), rosettes=3, waves=20, alpha=rng.uniform(0.15, 0.35))
    c = _Canvas("passport", rng, ppm, bg)
    j = lambda s=1.0: rng.uniform(-s, s)  # noqa: E731
    state = pick(rng, COUNTRIES)
    chinese = state == "CHN"
    person = random_person(rng, chinese=chinese or rng.random() < 0.3)
    number = passport_number(rng)
    issued, expiry = document_dates(rng)
    latin = pick(rng, ("sans", "sans_cond", "lib_sans", "serif"))
    bold = pick(rng, ("sans_bold", "lib_sans_bold", "serif_bold", "mono_bold"))
    cjk = pick(rng, ("cjk", "cjk_mono"))
    label_col, value_col = tuple(int(v) for v in rng.integers(50, 130, 3)), _dark(rng)
    c.text(8 + j(), 4 + j(0.5), ("护照 " if chinese else "") + "PASSPORT", cjk if chinese else bold, rng.uniform(4.0, 5.0), label_col)
    c.text(50 + j(2), 4.5 + j(0.5), COUNTRY_NAMES[state], latin, rng.uniform(2.6, 3.2), label_col)
    c.portrait(7 + j(0.8), 16 + j(0.8), 33, 42, faces, tone=pick(rng, ["color", "color", "gray"]))
    ls, vs = rng.uniform(2.1, 2.5), rng.uniform(3.0, 3.5)
    labels = [
        ("类型/Type" if chinese else "Type/Type", "P"),
        ("国家码/Country code" if chinese else "Code", state.replace("<", "")),
        ("护照号/Passport No." if chinese else "Passport No.", number),
        ("姓/Surname" if chinese else "Surname/Nom", person.surname_latin + (f" {person.name_cn[:1]}" if chinese and rng.random() < 0.5 else "")),
        ("名/Given names" if chinese else "Given names/Prénoms", person.given_latin),
        ("性别/Sex" if chinese else "Sex/Sexe", person.sex),
        ("出生日期/Date of birth" if chinese else "Date of birth/Date de naissance", date_text(person.birth, rng)),
        ("出生地点/Place of birth" if chinese else "Place of birth/Lieu de naissance", person.province[:2] if chinese else latin_word(rng)),
        ("签发日期/Date of issue" if chinese else "Date of issue/Date de délivrance", date_text(issued, rng)),
        ("有效期至/Date of expiry" if chinese else "Date of expiry/Date d'expiration", date_text(expiry, rng)),
    ]
    x0 = 45 + j()
    y = 15 + j(0.5)
    pitch = rng.uniform(5.9, 6.3)
    for i, (label, value) in enumerate(labels):
        if i < 3:  # type, code and number share the first row
            col, yy = x0 + (0, 17, 38)[i], y
        else:
            col, yy = x0, y + (i - 2) * pitch
        c.text(col, yy, label, cjk if chinese else latin, ls, label_col)
        value_font = cjk if any(ord(ch) > 0x2E80 for ch in value) else bold
        c.text(col, yy + ls * 1.05, value, value_font, vs, value_col)
    lines = td3_mrz("P", state, person.surname_latin, person.given_latin, number, state, person.birth, person.sex, expiry)
    _mrz_block(c, lines, 88 - 15 + j(0.5), 125 - 10, pick(rng, ("mono", "mono_bold", "lib_mono")), rng)
    return c.finish(1.0)


def _td2(rng, ppm, faces) -> Document:
    w, h = (int(round(v * ppm)) for v in DOCUMENT_MM["td2"])
    bg = _gradient(w, h, _light(rng, 210, 250), _light(rng, 195, 240), rng)
    bg = _guilloche(bg, rng, tuple(int(v) for v in rng.integers(110, 210, 3)), alpha=rng.uniform(0.15, 0.35))
    c = _Canvas("td2", rng, ppm, bg)
    j = lambda s=1.0: rng.uniform(-s, s)  # noqa: E731
    state = pick(rng, COUNTRIES)
    person = random_person(rng, chinese=rng.random() < 0.3)
    number = passport_number(rng)
    issued, expiry = document_dates(rng)
    latin = pick(rng, ("sans", "sans_cond", "lib_sans", "serif"))
    bold = pick(rng, ("sans_bold", "lib_sans_bold", "serif_bold"))
    label_col, value_col = tuple(int(v) for v in rng.integers(50, 130, 3)), _dark(rng)
    c.text(6 + j(), 4 + j(0.5), pick(rng, ["IDENTITY CARD", "RESIDENCE PERMIT", "CARTE D'IDENTITE"]), bold, rng.uniform(3.6, 4.4), label_col)
    c.portrait(5 + j(0.6), 13 + j(0.6), 27, 34, faces, tone=pick(rng, ["color", "gray"]))
    ls, vs = rng.uniform(2.0, 2.4), rng.uniform(2.9, 3.4)
    rows = [("Surname", person.surname_latin), ("Given names", person.given_latin), ("Date of birth", date_text(person.birth, rng)),
            ("Sex", person.sex), ("Document No.", number), ("Date of expiry", date_text(expiry, rng))]
    y = 13 + j(0.5)
    for label, value in rows:
        c.text(37 + j(0.5), y, label, latin, ls, label_col)
        c.text(37 + j(0.5), y + ls * 1.05, value, bold, vs, value_col)
        y += rng.uniform(6.0, 6.6)
    lines = td2_mrz("I", state, person.surname_latin, person.given_latin, number, state, person.birth, person.sex, expiry)
    _mrz_block(c, lines, 74 - 13 + j(0.4), 105 - 8, pick(rng, ("mono", "mono_bold", "lib_mono")), rng)
    return c.finish(3.0)


def _td1(rng, ppm, faces) -> Document:
    """The back of a TD1 identity card: an address, the issuing authority and the 3x30 MRZ."""
    w, h = (int(round(v * ppm)) for v in DOCUMENT_MM["td1"])
    bg = _gradient(w, h, _light(rng, 210, 250), _light(rng, 195, 240), rng)
    bg = _guilloche(bg, rng, tuple(int(v) for v in rng.integers(110, 210, 3)), alpha=rng.uniform(0.15, 0.35))
    c = _Canvas("td1", rng, ppm, bg)
    j = lambda s=1.0: rng.uniform(-s, s)  # noqa: E731
    state = pick(rng, COUNTRIES)
    person = random_person(rng, chinese=rng.random() < 0.3)
    number = passport_number(rng)
    issued, expiry = document_dates(rng)
    latin = pick(rng, ("sans", "sans_cond", "lib_sans"))
    bold = pick(rng, ("sans_bold", "lib_sans_bold"))
    label_col, value_col = tuple(int(v) for v in rng.integers(50, 130, 3)), _dark(rng)
    ls, vs = rng.uniform(2.0, 2.4), rng.uniform(2.7, 3.2)
    y = 5 + j(0.5)
    for label, value in [("Address", f"{int(rng.integers(1, 200))} {latin_word(rng).title()} Street"),
                         ("Authority", f"{latin_word(rng).title()} City Office"), ("Date of issue", date_text(issued, rng))]:
        c.text(6 + j(0.5), y, label, latin, ls, label_col)
        c.text(6 + j(0.5), y + ls * 1.05, value, bold, vs, value_col)
        y += rng.uniform(6.2, 7.0)
    lines = td1_mrz("ID", state, person.surname_latin, person.given_latin, number, state, person.birth, person.sex, expiry)
    _mrz_block(c, lines, 54 - 17.5 + j(0.4), 85.6 - 7, pick(rng, ("mono", "mono_bold", "lib_mono")), rng)
    return c.finish(3.2)


def _form(rng, ppm, faces) -> Document:
    """A form or a letter with phone numbers and e-mail addresses among ordinary lines."""
    w, h = (int(round(v * ppm)) for v in DOCUMENT_MM["form"])
    paper = _light(rng, 235, 256)
    bg = np.empty((h, w, 3), np.uint8)
    bg[:] = paper
    c = _Canvas("form", rng, ppm, bg)
    j = lambda s=1.0: rng.uniform(-s, s)  # noqa: E731
    chinese = rng.random() < 0.55
    font = pick(rng, ("cjk", "cjk_mono")) if chinese else pick(rng, ("sans", "serif", "lib_sans", "lib_serif", "sans_cond"))
    ink_col = _dark(rng, 60) if rng.random() < 0.8 else (20, 40, 120)
    size = rng.uniform(4.0, 5.2)
    pitch = size * rng.uniform(1.6, 2.1)
    person = random_person(rng, chinese=chinese or rng.random() < 0.5)
    x, y = 14 + j(2), 14 + j(2)
    title = pick(rng, ["客户登记表", "会员信息表", "联系人信息", "申请表"]) if chinese else pick(rng, ["Customer registration", "Contact details", "Application form", "Delivery note"])
    c.text(x, y, title, font, size * 1.4, ink_col, "text")
    y += pitch * 1.6
    rows: list[tuple[str, str, str, str]] = []  # label, value, kind, secret
    name = person.name_cn if chinese else person.name_latin
    rows.append(("姓名：" if chinese else "Name: ", name, "text", ""))
    for _ in range(int(rng.integers(1, 4))):
        printed, national = random_phone(rng)
        rows.append((pick(rng, ["手机：", "电话：", "联系电话："]) if chinese else pick(rng, ["Mobile: ", "Phone: ", "Tel: "]), printed, "phone", national))
    for _ in range(int(rng.integers(1, 4))):
        email = random_email(rng, person)
        rows.append(("邮箱：" if chinese else pick(rng, ["E-mail: ", "Email: "]), email, "email", email.lower()))
    rows.append(("地址：" if chinese else "Address: ", person.address[:16] if chinese else f"{int(rng.integers(1, 200))} {latin_word(rng).title()} Road", "text", ""))
    filler = []
    for _ in range(int(rng.integers(3, 7))):
        if chinese:
            filler.append("".join(pick(rng, WORDS_CN) for _ in range(int(rng.integers(8, 18)))))
        else:
            filler.append(" ".join(pick(rng, WORDS_EN) for _ in range(int(rng.integers(4, 9)))).capitalize())
    order = rng.permutation(len(rows)).tolist() if rng.random() < 0.5 else list(range(len(rows)))
    rule = rng.random() < 0.5
    for i in order:
        label, value, kind, secret = rows[i]
        box = c.text(x, y, label, font, size, ink_col, "text")
        gap = c.width_of(label, font, size) + rng.uniform(0.5, 3)
        c.text(x + gap, y, value, font if kind == "text" else pick(rng, (font, "sans", "mono", "serif")), size, ink_col, kind, secret=secret)
        if rule:
            yy = box[3] + c.px(1.2)
            c.draw.line((c.px(x), yy, w - c.px(12), yy), fill=(150, 150, 150), width=max(1, int(c.px(0.2))))
        y += pitch
    y += pitch * 0.5
    for line in filler:
        if y > 210 - 14:
            break
        c.text(x, y, line, font, size * 0.9, ink_col, "text")
        y += pitch * 0.9
    return c.finish(0.0)


_RENDERERS = {"id_front": _id_front, "id_back": _id_back, "bank_card": _bank_card, "passport": _passport, "td1": _td1, "td2": _td2, "form": _form}


def render_document(kind: str, rng: np.random.Generator, *, width: int = 900, faces=None) -> Document:
    """One flat document of ``kind`` about ``width`` pixels wide; ``faces`` feed its portrait.

    ``faces`` is a list of ``(RGB image, face box)``; default: the astronaut.
    """
    if kind not in _RENDERERS:
        raise ValueError(f"unknown document kind {kind!r}; one of {', '.join(DOCUMENT_KINDS)}")
    if missing_fonts():
        raise FileNotFoundError(f"fonts not installed: {', '.join(missing_fonts())} (fonts-wqy-microhei, fonts-dejavu-core)")
    ppm = width / DOCUMENT_MM[kind][0]
    return _RENDERERS[kind](rng, ppm, faces or _default_faces())


# --------------------------------------------------------------------------- scenes


def table_texture(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A textured surface: wood grain, fabric, stone, a plain desk or a tinted scikit-image texture."""
    kind = pick(rng, ["wood", "fabric", "stone", "plain", "skimage"])
    sw, sh = (width + 1) // 2, (height + 1) // 2  # drawn at half size, then enlarged
    if kind == "wood":
        yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32) * 2
        base = np.asarray(pick(rng, [(150, 100, 60), (110, 70, 40), (190, 150, 100), (90, 60, 45)]), np.float32)
        a = rng.uniform(0, math.pi)
        u = xx * math.cos(a) + yy * math.sin(a)
        v = -xx * math.sin(a) + yy * math.cos(a)
        grain = np.sin(v / rng.uniform(5, 14) + 3 * np.sin(u / rng.uniform(80, 240)) + 1.5 * np.sin(u / 37 + v / 53))
        tex = base * (1 + 0.12 * grain[..., None])
    elif kind == "fabric":
        yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32) * 2
        base = np.asarray(rng.integers(40, 200, 3), np.float32)
        p = rng.uniform(3.5, 6)
        weave = np.sin(xx / p) * np.sin(yy / p)
        tex = base * (1 + 0.08 * weave[..., None])
    elif kind == "stone":
        base = np.asarray(rng.integers(90, 200, 1).repeat(3) + rng.integers(-15, 15, 3), np.float32)
        small = rng.normal(0, 1, (max(2, height // 24), max(2, width // 24))).astype(np.float32)
        blob = cv2.resize(small, (sw, sh), interpolation=cv2.INTER_CUBIC)
        tex = base * (1 + 0.1 * blob[..., None])
    elif kind == "skimage":
        from skimage import data

        g = getattr(data, pick(rng, ["brick", "grass", "gravel"]))().astype(np.float32)
        g = cv2.resize(g, (sw, sh), interpolation=cv2.INTER_LINEAR)
        tex = g[..., None] * np.asarray(rng.uniform(0.6, 1.1, 3), np.float32)
    else:
        tex = np.broadcast_to(np.asarray(rng.integers(60, 230, 3), np.float32), (sh, sw, 3))
    tex = cv2.resize(np.ascontiguousarray(tex.clip(0, 255).astype(np.uint8)), (width, height), interpolation=cv2.INTER_LINEAR)
    return add_noise(tex, 3.0, rng)


def _document_homography(rng: np.random.Generator, size: tuple[int, int], target_w: float, center: tuple[float, float], *, angle: float, tilt: float) -> np.ndarray:
    """Document pixels -> photo: scale to ``target_w``, a perspective ``tilt`` (share of the size), rotate, move."""
    w, h = size
    src = rect_quad((0, 0, w, h)).astype(np.float32)
    jitter = rng.uniform(-tilt, tilt, (4, 2)) * np.array([w, h])
    # a consistent perspective (one edge farther than the other) plus corner noise
    side = rng.uniform(-tilt, tilt)
    dst = src + jitter * 0.4
    dst[[0, 1], 0] += np.array([1, -1]) * side * w * (1 if rng.random() < 0.5 else 0)
    dst[[1, 2], 1] += np.array([1, -1]) * side * h * (1 if rng.random() < 0.5 else 0)
    h_persp = cv2.getPerspectiveTransform(src, dst.astype(np.float32)).astype(np.float64)
    s = target_w / w
    c, sn = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    rot = np.array([[s * c, -s * sn, 0], [s * sn, s * c, 0], [0, 0, 1]], np.float64)
    h0 = rot @ _shift(-w / 2, -h / 2) @ h_persp
    return _shift(center[0], center[1]) @ h0


def _composite(canvas: np.ndarray, ink: np.ndarray | None, doc: Document, h: np.ndarray, rng, *, shadow: bool) -> None:
    """Warp ``doc`` into ``canvas`` (in place) with antialiased, rounded edges and a soft shadow."""
    height, width = canvas.shape[:2]
    w, hh = doc.size
    alpha = _rounded_alpha(w, hh, doc.corner_radius)
    # the document's bounding window in the canvas: warp only there
    quad = apply_h(h, rect_quad((0, 0, w, hh)))
    pad = 24
    x0, y0 = max(0, int(quad[:, 0].min()) - pad), max(0, int(quad[:, 1].min()) - pad)
    x1, y1 = min(width, int(math.ceil(quad[:, 0].max())) + pad), min(height, int(math.ceil(quad[:, 1].max())) + pad)
    hw = _shift(-x0, -y0) @ h
    size = (x1 - x0, y1 - y0)
    scale = math.sqrt(abs(np.linalg.det(h[:2, :2]))) if abs(h[2, 0]) + abs(h[2, 1]) < 1e-12 else math.sqrt(quad_area(quad) / (w * hh))
    interp = cv2.INTER_AREA if scale < 0.8 else cv2.INTER_LINEAR
    if interp == cv2.INTER_AREA:  # warpPerspective has no area filter: pre-shrink the document
        f = max(scale * 1.25, 0.05)
        small_w, small_h = max(1, int(round(w * f))), max(1, int(round(hh * f)))
        img = cv2.resize(doc.image, (small_w, small_h), interpolation=cv2.INTER_AREA)
        al = cv2.resize(alpha, (small_w, small_h), interpolation=cv2.INTER_AREA)
        ik = cv2.resize(doc.ink, (small_w, small_h), interpolation=cv2.INTER_AREA) if ink is not None else None
        hw = hw @ np.diag([w / small_w, hh / small_h, 1.0])
    else:
        img, al, ik = doc.image, alpha, doc.ink if ink is not None else None
    region = canvas[y0:y1, x0:x1]
    if shadow:
        a_sh = warp(al, _shift(rng.uniform(3, 10), rng.uniform(3, 10)) @ hw, size).astype(np.float32) / 255
        a_sh = 1 - cv2.GaussianBlur(a_sh, (0, 0), rng.uniform(3, 8)) * rng.uniform(0.25, 0.5)
        region = cv2.multiply(region, cv2.merge([a_sh, a_sh, a_sh]), dtype=cv2.CV_8U)
    warped = warp(img, hw, size)
    a = warp(al, hw, size).astype(np.float32) / 255
    canvas[y0:y1, x0:x1] = cv2.blendLinear(warped, region, a, 1 - a)
    if ink is not None and ik is not None:
        wi = warp(ik, hw, size)
        np.maximum(ink[y0:y1, x0:x1], wi, out=ink[y0:y1, x0:x1])


def _lighting(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uneven light: a brightness ramp, a colour cast and sometimes a soft glare spot."""
    h, w = img.shape[:2]
    sw, sh = max(2, min(w, 96)), max(2, min(h, 96))
    gain = rng.uniform(0.8, 1.12) + rng.uniform(0, 0.3) * (_ramp(sw, sh, rng.uniform(0, 2 * math.pi)) - 0.5)
    glare = np.zeros((sh, sw), np.float32)
    if rng.random() < 0.25:
        yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
        cx, cy, r = rng.uniform(0, sw), rng.uniform(0, sh), rng.uniform(0.08, 0.25) * max(sw, sh)
        glare = rng.uniform(30, 70) * np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)))
    cast = rng.uniform(0.92, 1.08, 3)
    gain3 = cv2.resize(np.dstack([gain * c for c in cast]).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    out = cv2.multiply(img, gain3, dtype=cv2.CV_32F)
    if glare.any():
        out += cv2.resize(glare, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    return cv2.convertScaleAbs(out)  # non-negative: a saturating cast


def _degrade(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Camera defects: Gaussian or a little motion blur, sensor noise."""
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.3))
    elif rng.random() < 0.15:
        n = int(rng.integers(3, 6))
        k = np.zeros((n, n), np.float32)
        k[n // 2] = 1 / n
        m = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1)
        img = cv2.filter2D(img, -1, cv2.warpAffine(k, m, (n, n)))
    sigma = rng.uniform(0, 7)
    return add_noise(img, sigma, rng) if sigma > 0.5 else img


def kyc_photos(data: str | Path, *, min_face: int = 48) -> list[tuple[Path, np.ndarray]]:
    """Photos of a WIDER-style folder (``annotations.json``) with a face of at least ``min_face`` px wide.

    Returns ``(path, boxes)`` pairs, ``boxes`` being every annotated face
    ``(x0, y0, x1, y1)`` with the largest first. Empty when the folder is absent.
    """
    data = Path(data)
    ann_path = data / "annotations.json"
    if not ann_path.is_file():
        return []
    out = []
    for name, a in sorted(json.loads(ann_path.read_text()).items()):
        boxes = [(x, y, x + w, y + h) for x, y, w, h in (f["box_xywh"] for f in a["faces"]) if w > 0 and h > 0]
        big = [b for b, f in zip(boxes, a["faces"]) if not f["invalid"] and b[2] - b[0] >= min_face]
        if big:
            boxes.sort(key=lambda b: -(b[2] - b[0]))
            out.append((data / name, np.asarray(boxes, np.float64)))
    return out


def photo_faces(photos: Sequence[tuple[Path, np.ndarray]], *, min_face: int = 80, limit: int = 24) -> list[tuple[np.ndarray, tuple[float, float, float, float]]]:
    """Large faces of ``photos`` as portrait sources (``(RGB image, face box)``), at most ``limit``."""
    out = []
    for path, boxes in photos:
        b = boxes[0]
        if b[2] - b[0] >= min_face:
            out.append((np.asarray(Image.open(path).convert("RGB")), tuple(float(v) for v in b)))
            if len(out) >= limit:
                break
    return out


def _overlaps(q: np.ndarray, others: Sequence[np.ndarray]) -> bool:
    qf = q.astype(np.float32)
    for o in others:
        area, _ = cv2.intersectConvexConvex(qf, np.asarray(o, np.float32))
        if area > 0:
            return True
    return False


def _place(rng, width: int, height: int, size_wh, target_w: float, angle: float, tilt: float, avoid: Sequence[np.ndarray], *, min_w: float = 240, tries: int = 25) -> np.ndarray | None:
    """A homography placing a document wholly inside the photo and clear of the ``avoid`` quads.

    The document shrinks (down to ``min_w`` pixels wide) when it finds no room; None when it never does.
    """
    w = target_w
    while True:
        for _ in range(tries):
            hh = w * size_wh[1] / size_wh[0]
            reach = 0.5 * math.hypot(w, hh) * (1 + tilt)
            cx = rng.uniform(min(reach, width / 2), max(width - reach, width / 2))
            cy = rng.uniform(min(reach, height / 2), max(height - reach, height / 2))
            h = _document_homography(rng, size_wh, w, (cx, cy), angle=angle, tilt=tilt)
            q = apply_h(h, rect_quad((0, 0, *size_wh)))
            if q[:, 0].min() < 2 or q[:, 1].min() < 2 or q[:, 0].max() > width - 2 or q[:, 1].max() > height - 2:
                continue
            if not _overlaps(q, avoid):
                return h
        if w * 0.85 < min_w:
            return None
        w *= 0.85


def _angle(rng: np.random.Generator) -> float:
    r = rng.random()
    if r < 0.45:
        return rng.uniform(-8, 8)
    if r < 0.7:
        return rng.uniform(-30, 30)
    return rng.uniform(-180, 180)


def _doc_width(kind: str, target_w: float, rng) -> int:
    """Render width: about the size it will have in the photo (a mild resample, as a camera sees it)."""
    return int(max(260, min(2400, target_w * rng.uniform(1.0, 1.3))))


def make_sample(
    index: int,
    *,
    seed: int = 0,
    scene: str | None = None,
    documents: Sequence[str] | None = None,
    photos: Sequence[tuple[Path, np.ndarray]] | None = None,
    faces=None,
    augment: bool = True,
    with_ink: bool = False,
) -> Sample:
    """Sample ``index`` of the set drawn with ``seed`` (the same for any set size).

    Parameters
    ----------
    scene, documents
        Force the scene (one of ``SCENES``) and the document kinds (one or two of
        ``DOCUMENT_KINDS``); default: drawn at random.
    photos
        ``kyc_photos(...)`` for ``kyc`` scenes; without photos a ``kyc`` scene is a ``table`` one.
    faces
        Portrait sources ``(RGB image, face box)``; default: the astronaut.
    augment
        Blur, noise, lighting (geometry is drawn either way).
    with_ink
        Also return the text ink warped into the photo (for tests of the ground truth).
    """
    rng = np.random.default_rng([seed, index])
    if scene is None:
        scene = _pick_weighted(rng, SCENE_WEIGHTS)
    if scene == "kyc" and not photos:
        scene = "table"
    turned = 0
    base_scene = scene
    if scene == "turned":
        base_scene = pick(rng, ["alone", "table"])
        turned = pick(rng, [1, 3])
    if documents is None:
        if base_scene == "two":
            documents = pick(rng, [("id_front", "id_back"), ("id_front", "bank_card"), ("bank_card", "bank_card"), ("td1", "bank_card"), ("passport", "bank_card"),
                                   ("id_back", "bank_card"), ("form", "bank_card"), ("id_front", "form")])
        elif base_scene == "kyc":
            documents = (pick(rng, ["id_front", "id_front", "bank_card", "passport", "td2", "id_back"]),)
        else:
            documents = (_pick_weighted(rng, DOCUMENT_WEIGHTS),)
    documents = tuple(documents)
    placed: list[tuple[Document, np.ndarray]] = []
    photo_face_quads: list[np.ndarray] = []
    if base_scene == "kyc":
        for _ in range(8):  # a photo with room for the card beside the face
            canvas, photo_face_quads, avoid, card_w = _kyc_canvas(rng, photos)
            height, width = canvas.shape[:2]
            kind = documents[0]
            tw = card_w * (DOCUMENT_MM[kind][0] / 85.6) ** 0.5
            doc = render_document(kind, rng, width=_doc_width(kind, tw, rng), faces=faces)
            h = _place(rng, width, height, doc.size, tw, rng.uniform(-25, 25), rng.uniform(0.02, 0.1), avoid, min_w=min(240, 0.5 * tw))
            if h is not None:
                placed.append((doc, h))
                break
        else:
            raise RuntimeError("no KYC photo with room for a card beside the face")
    elif base_scene == "alone":
        kind = documents[0]
        ratio = DOCUMENT_MM[kind][0] / DOCUMENT_MM[kind][1]
        tw = rng.uniform(700, 1400) if kind != "form" else rng.uniform(900, 1500)
        angle, tilt = _angle(rng), rng.uniform(0.0, 0.12)
        c, sn = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
        th = tw / ratio
        fill = rng.uniform(0.75, 0.92)
        width = int((tw * c + th * sn) / fill * (1 + tilt))
        height = int((tw * sn + th * c) / fill * (1 + tilt))
        canvas = _gradient(width, height, _light(rng, 60, 240), _light(rng, 60, 240), rng)
        doc = render_document(kind, rng, width=_doc_width(kind, tw, rng), faces=faces)
        h = _place(rng, width, height, doc.size, tw, angle, tilt, [], min_w=0.3 * tw)
        if h is None:  # cannot happen with this canvas, kept as a guard
            h = _document_homography(rng, doc.size, 0.7 * tw, (width / 2, height / 2), angle=angle, tilt=0)
        placed.append((doc, h))
    else:  # table / two
        width, height = pick(rng, [(1600, 1200), (2000, 1500), (1920, 1080), (1440, 1080), (1200, 1600), (2048, 1536)])
        canvas = table_texture(width, height, rng)
        taken: list[np.ndarray] = []
        for kind in documents:
            share = rng.uniform(0.45, 0.8) if len(documents) == 1 else rng.uniform(0.35, 0.5)
            tw = share * min(width, height) * (DOCUMENT_MM[kind][0] / 85.6) ** 0.5
            doc = render_document(kind, rng, width=_doc_width(kind, tw, rng), faces=faces)
            h = None
            for _ in range(4):
                h = _place(rng, width, height, doc.size, tw, _angle(rng), rng.uniform(0.0, 0.12), taken, min_w=0.4 * tw)
                if h is not None:
                    break
            if h is None:  # no room at these angles: upright, small
                h = _place(rng, width, height, doc.size, 0.4 * tw, 0.0, 0.0, taken, min_w=120, tries=200)
            if h is None:
                raise RuntimeError("no room for the documents")
            taken.append(grow_quad(apply_h(h, rect_quad((0, 0, *doc.size))), 8))
            placed.append((doc, h))
    ink = np.zeros(canvas.shape[:2], np.uint8) if with_ink else None
    fields: list[Field] = []
    placements: list[Placement] = []
    for i, (doc, h) in enumerate(placed):
        _composite(canvas, ink, doc, h, rng, shadow=base_scene != "alone" or rng.random() < 0.5)
        fields += [f.mapped(h, i) for f in doc.fields]
        placements.append(Placement(doc.kind, h, doc.size, apply_h(h, rect_quad((0, 0, *doc.size)))))
    if augment:
        canvas = _lighting(canvas, rng)
        canvas = _degrade(canvas, rng)
    if turned:
        t = turn_matrix(turned, canvas.shape[1], canvas.shape[0])
        canvas = np.ascontiguousarray(np.rot90(canvas, turned))
        if ink is not None:
            ink = np.ascontiguousarray(np.rot90(ink, turned))
        fields = [f.mapped(t) for f in fields]
        placements = [Placement(p.kind, t @ p.homography, p.size, apply_h(t, p.quad)) for p in placements]
        photo_face_quads = [apply_h(t, q) for q in photo_face_quads]
    quality = int(rng.integers(70, 96))
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, "JPEG", quality=quality)
    jpeg = buf.getvalue()
    image = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    return Sample(index, scene, jpeg, image, fields, placements, photo_face_quads, turned, quality, ink)


def _pick_weighted(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.asarray([weights[k] for k in keys], np.float64)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _kyc_canvas(rng, photos):
    """A selfie framing around the largest face of a random photo: canvas, face quads, quads to avoid, card width."""
    path, boxes = photos[int(rng.integers(len(photos)))]
    img = np.asarray(Image.open(path).convert("RGB"))
    fw = boxes[0][2] - boxes[0][0]
    s = rng.uniform(150, 300) / fw
    s = float(np.clip(s, 0.5, 3.0))
    s = min(s, math.sqrt(4.0e6 / (img.shape[0] * img.shape[1])))
    big = cv2.resize(img, (int(img.shape[1] * s), int(img.shape[0] * s)), interpolation=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA)
    fb = boxes * s
    face = fb[0]
    fws = face[2] - face[0]
    # frame: 4 to 6 face widths wide around the face, inside the photo
    cw = min(big.shape[1], int(fws * rng.uniform(4.0, 6.0)))
    ch = min(big.shape[0], int(cw * rng.uniform(0.75, 1.33)))
    cx = (face[0] + face[2]) / 2 + rng.uniform(-0.8, 0.8) * fws
    cy = (face[1] + face[3]) / 2 + rng.uniform(0.2, 0.9) * fws
    x0 = int(np.clip(cx - cw / 2, 0, big.shape[1] - cw))
    y0 = int(np.clip(cy - ch / 2, 0, big.shape[0] - ch))
    canvas = np.ascontiguousarray(big[y0 : y0 + ch, x0 : x0 + cw])
    quads = []
    for b in fb:
        q = rect_quad((b[0] - x0, b[1] - y0, b[2] - x0, b[3] - y0))
        if q[:, 0].max() > 0 and q[:, 1].max() > 0 and q[:, 0].min() < cw and q[:, 1].min() < ch:
            quads.append(np.clip(q, 0, [cw, ch]))
    avoid = [grow_quad(quads[0], 0.2 * fws)] if quads else []
    card_w = min(fws * rng.uniform(1.1, 2.0), 0.8 * cw)
    return canvas, quads, avoid, max(card_w, min(300.0, 0.8 * cw))


def make_set(n: int, *, seed: int = 0, photos=None, faces=None, scenes: Sequence[str] | None = None) -> Iterator[Sample]:
    """``n`` samples (``make_sample(i, seed=seed, ...)`` for i < n), scenes drawn by ``SCENE_WEIGHTS`` or cycling ``scenes``."""
    for i in range(n):
        scene = scenes[i % len(scenes)] if scenes else None
        yield make_sample(i, seed=seed, scene=scene, photos=photos, faces=faces)
