"""Destroy faces in an image: pure functions, array in and array out.

A face's *region* is its box grown by ``pad`` of the box's width and height on
every side (so forehead, hair line, ears and chin are covered), painted as the
ellipse inscribed in that grown box (``shape="ellipse"``) or the whole box
(``shape="rect"``). A pixel is painted when its centre lies inside the region.
:func:`regions` returns exactly the boxes that are painted, for audit reports.

Methods
-------
``fill`` (default)
    A solid colour. Nothing of the face survives: the only method that is
    irreversible for a face recognizer as well as for the eye.
``pixelate``
    ``blocks`` blocks across the face (the count is relative to the face, not a
    fixed pixel size), each block the *mean* of its pixels, plus noise. The
    weakest method: a face detector still finds many mosaicked faces, even at
    3-6 blocks, so a recognizer has something to work with.
``blur``
    A Gaussian blur whose sigma is ``strength`` times the face size, plus noise
    so the blur cannot simply be deconvolved.

In minface's tests a face blurred with the default ``strength`` is no longer
found by the detector; a mosaicked one often is. Blur and mosaic keep some
information: McPherson, Shokri and Shmatikov (2016, "Defeating Image
Obfuscation with Deep Learning") re-identified faces behind fixed-size mosaics
and blurs far above chance. Sizing them to the face and adding noise makes
them much stronger than fixed kernels, but only ``fill`` leaves nothing to
learn from, which is why it is the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar, Union

import cv2
import numpy as np
from PIL import Image

from ._defaults import DEFAULT_PAD as _DEFAULT_PAD
from .colors import Color, parse_color
from .errors import InvalidBoxesError
from .faces import Faces

__all__ = ["redact", "regions", "check_boxes", "region_mask", "region_window", "Regions", "METHODS", "SHAPES", "DEFAULT_PAD"]

METHODS = ("fill", "pixelate", "blur")
SHAPES = ("ellipse", "rect")
#: Growth of the face box on each side, as a fraction of its width and height.
DEFAULT_PAD = _DEFAULT_PAD

Method = Literal["fill", "pixelate", "blur"]
Shape = Literal["ellipse", "rect"]
ImageT = TypeVar("ImageT", np.ndarray, Image.Image)
BoxesLike = Union[Faces, np.ndarray]


@dataclass(frozen=True)
class Regions:
    """The painted regions: boxes ``(n, 4)`` and their shape (ellipse inscribed, or rect)."""

    boxes: np.ndarray
    shape: str

    def __len__(self) -> int:
        return len(self.boxes)

    def to_list(self) -> list[dict]:
        """JSON-ready ``{"shape", "box"}`` per region (boxes may extend past the image)."""
        return [{"shape": self.shape, "box": [round(float(v), 2) for v in b]} for b in self.boxes]


def regions(faces: BoxesLike, *, pad: float | tuple[float, float] = DEFAULT_PAD, shape: Shape = "ellipse") -> Regions:
    """The regions :func:`redact` paints for ``faces`` (a `Faces` or an ``(n, 4)`` box array).

    >>> regions(np.array([[10, 10, 30, 50]]), pad=0.5).boxes.tolist()
    [[0.0, -10.0, 40.0, 70.0]]
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of {', '.join(SHAPES)}")
    return Regions(_as_faces(faces).pad(pad).xyxy.astype(np.float64), shape)


def _as_faces(faces: BoxesLike) -> Faces:
    if isinstance(faces, Faces):
        return faces
    boxes = check_boxes(faces)
    return Faces(boxes, np.ones(len(boxes), np.float32))


def check_boxes(boxes: object) -> np.ndarray:
    """``boxes`` as a float32 ``(n, 4)`` array of ``(x1, y1, x2, y2)``, or :class:`InvalidBoxesError`.

    One box may be given flat (``[x1, y1, x2, y2]``); an empty sequence is no box.

    >>> check_boxes([10, 20, 30, 40]).tolist()
    [[10.0, 20.0, 30.0, 40.0]]
    >>> check_boxes([[10, 20, 5, 40]])
    Traceback (most recent call last):
    ...
    minface.errors.InvalidBoxesError: box 0 is [10.0, 20.0, 5.0, 40.0]: x2 < x1; boxes are (x1, y1, x2, y2) in pixels (from (x, y, w, h): x2 = x + w, y2 = y + h)
    """
    try:
        arr = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidBoxesError(f"face boxes must be numbers, shape (n, 4) as (x1, y1, x2, y2): {exc}") from None
    if arr.size == 0:
        return np.zeros((0, 4), np.float32)
    if arr.ndim == 1 and arr.shape[0] == 4:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise InvalidBoxesError(f"face boxes must have shape (n, 4) as (x1, y1, x2, y2), got shape {arr.shape}")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidBoxesError(f"box {i} is {arr[i].tolist()}: face boxes must be finite numbers")
    for axis, name in ((0, "x2 < x1"), (1, "y2 < y1")):
        flipped = arr[:, axis + 2] < arr[:, axis]
        if flipped.any():
            i = int(np.flatnonzero(flipped)[0])
            raise InvalidBoxesError(
                f"box {i} is {arr[i].tolist()}: {name}; boxes are (x1, y1, x2, y2) in pixels "
                "(from (x, y, w, h): x2 = x + w, y2 = y + h)"
            )
    return arr.astype(np.float32)


def region_window(box: np.ndarray, shape: str, height: int, width: int) -> tuple[slice, slice, np.ndarray] | None:
    """The pixels one region paints: ``(rows, cols, mask)`` of its window inside the image, or None.

    >>> rows, cols, m = region_window(np.array([0.0, 0.0, 6.0, 6.0]), "ellipse", 10, 10)
    >>> rows, cols, m[0].astype(int).tolist()
    (slice(0, 6, None), slice(0, 6, None), [0, 1, 1, 1, 1, 0])
    """
    x1, y1, x2, y2 = box
    if not (x2 > x1 and y2 > y1):
        return None
    c0, c1 = max(0, int(np.ceil(x1 - 0.5))), min(width, int(np.floor(x2 - 0.5)) + 1)
    r0, r1 = max(0, int(np.ceil(y1 - 0.5))), min(height, int(np.floor(y2 - 0.5)) + 1)
    if c0 >= c1 or r0 >= r1:
        return None
    rows, cols = slice(r0, r1), slice(c0, c1)
    if shape == "rect":
        return rows, cols, np.ones((r1 - r0, c1 - c0), bool)
    a, b = (x2 - x1) / 2, (y2 - y1) / 2
    xx = ((np.arange(c0, c1) + 0.5 - (x1 + x2) / 2) / a) ** 2
    yy = ((np.arange(r0, r1) + 0.5 - (y1 + y2) / 2) / b) ** 2
    return rows, cols, (yy[:, None] + xx[None, :]) <= 1.0


def region_mask(height: int, width: int, regs: Regions) -> np.ndarray:
    """Boolean ``(height, width)`` mask of the pixels whose centre lies in any region.

    >>> m = region_mask(4, 6, Regions(np.array([[1.0, 0.0, 5.0, 4.0]]), "rect"))
    >>> m.astype(int).tolist()[0]
    [0, 1, 1, 1, 1, 0]
    """
    mask = np.zeros((height, width), bool)
    for box in regs.boxes:
        local = region_window(box, regs.shape, height, width)
        if local is not None:
            rows, cols, m = local
            mask[rows, cols] |= m
    return mask


def redact(
    image: ImageT,
    faces: BoxesLike,
    *,
    method: Method = "fill",
    shape: Shape = "ellipse",
    pad: float | tuple[float, float] = DEFAULT_PAD,
    color: Color = (0, 0, 0),
    blocks: int = 6,
    strength: float = 0.25,
    noise: float = 12.0,
    seed: int | None = None,
    copy: bool = True,
) -> ImageT:
    """Return a copy of ``image`` with every face in ``faces`` destroyed.

    Parameters
    ----------
    image : numpy.ndarray or PIL.Image.Image
        ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` ``uint8`` array, or a PIL image.
        The result has the same type and shape; alpha is left untouched. PIL
        images in modes other than L, LA, RGB and RGBA (palette, CMYK, ...) come
        back as RGB or RGBA. The input is never modified (unless ``copy=False``).
    faces : Faces or array of shape (n, 4)
        Boxes ``(x1, y1, x2, y2)`` in pixels of ``image`` (one box may be given flat).
    method : {"fill", "pixelate", "blur"}
    shape : {"ellipse", "rect"}
    pad : float or (float, float)
        Growth of each box on every side, as a fraction of its width (and height).
    color : (r, g, b) or str
        Colour for ``fill``: ``(r, g, b)``, a name (``"white"``), ``"#RRGGBB"`` or
        ``"R,G,B"`` (:func:`minface.colors.parse_color`).
    blocks : int
        ``pixelate``: number of blocks across the face's longer side.
    strength : float
        ``blur``: Gaussian sigma as a fraction of the face's longer side.
    noise : float
        ``pixelate``/``blur``: standard deviation of the Gaussian noise added, in grey levels.
    seed : int, optional
        Seed for the noise (default: unpredictable, as it should be in production).
    copy : bool
        False: paint into ``image`` itself (a writable ``uint8`` array) and return
        it, for callers that own the pixels and cannot afford a second copy.

    Raises
    ------
    InvalidBoxesError
        ``faces`` is not ``(n, 4)`` finite numbers with ``x1 <= x2`` and ``y1 <= y2``
        (:func:`check_boxes`); nothing is painted.
    ValueError
        An unknown ``method`` or ``shape``, or an image that is not ``uint8`` ``(H, W[, C])``.

    Examples
    --------
    >>> img = np.full((40, 40, 3), 200, np.uint8)
    >>> out = redact(img, np.array([[10, 10, 30, 30]]), pad=0)
    >>> int(out[20, 20, 0]), int(img[20, 20, 0]), int(out[2, 2, 0])
    (0, 200, 200)
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if blocks < 2:
        raise ValueError(f"blocks must be at least 2, got {blocks}")
    options = (method, shape, pad, parse_color(color), blocks, strength, noise, seed)
    if isinstance(image, Image.Image):
        im = image
        if im.mode not in ("L", "LA", "RGB", "RGBA"):  # palette, CMYK, 16-bit...: paint real colours
            im = im.convert("RGBA" if "transparency" in im.info or im.mode.endswith("A") else "RGB")
        return Image.fromarray(_redact_array(np.array(im), faces, *options), im.mode)  # type: ignore[return-value]
    if not copy and isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.flags.writeable:
        return _redact_array(image, faces, *options)  # type: ignore[return-value]
    return _redact_array(np.array(image, copy=True), faces, *options)  # type: ignore[return-value]


def _redact_array(
    out: np.ndarray,
    faces: BoxesLike,
    method: str,
    shape: Shape,
    pad: float | tuple[float, float],
    color: tuple[int, int, int],
    blocks: int,
    strength: float,
    noise: float,
    seed: int | None,
) -> np.ndarray:
    if out.dtype != np.uint8 or out.ndim not in (2, 3):
        raise ValueError(f"redact needs a uint8 (H, W[, C]) image, got {out.dtype} {out.shape}")
    h, w = out.shape[:2]
    face_boxes = _as_faces(faces).xyxy
    regs = regions(face_boxes, pad=pad, shape=shape)
    color_channels = out if out.ndim == 2 else out[:, :, : 1 if out.shape[2] == 2 else min(3, out.shape[2])]
    rng = np.random.default_rng(seed)
    if method == "fill":
        mask = region_mask(h, w, regs)
        value = np.asarray(color, np.uint8)
        if color_channels.ndim == 2 or color_channels.shape[2] == 1:  # grey: the colour's luma
            value = np.uint8(round(float(value @ np.array([0.299, 0.587, 0.114]))))
        color_channels[mask] = value
        return out
    for box, face in zip(regs.boxes, face_boxes):
        local = region_window(box, shape, h, w)
        if local is None:
            continue
        rows, cols, m = local
        patch = color_channels[rows, cols]
        size = float(max(face[2] - face[0], face[3] - face[1], 1.0))
        if method == "pixelate":
            # block grid anchored on the region, `blocks` blocks across the face's longer side
            step = max(1.0, size / blocks)
            nby = max(1, round(patch.shape[0] / step))
            nbx = max(1, round(patch.shape[1] / step))
            means = cv2.resize(patch, (nbx, nby), interpolation=cv2.INTER_AREA)  # area average = block mean
            new = cv2.resize(means, (patch.shape[1], patch.shape[0]), interpolation=cv2.INTER_NEAREST)
        else:
            sigma = max(1.0, strength * size)
            new = cv2.GaussianBlur(patch, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)
        new = new.reshape(patch.shape).astype(np.float32)
        if noise > 0:
            new += rng.normal(0.0, noise, new.shape).astype(np.float32)
        new = np.clip(new + 0.5, 0, 255).astype(np.uint8)
        patch[m] = new[m]
    return out
