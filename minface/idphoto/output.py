"""Ready to print: the spec's dpi in the JFIF header, size limits met, print sheets with cut marks.

The JFIF header's density field tells a printer the photo's physical size (600
pixels at 300 dpi print as 2 inches); it identifies no one, so it is the one
field written (``minface inspect`` lists it as ``jfif``, not as metadata to
remove). Where an authority limits the file size (the US visa and Diversity
Visa photos: 240 kB), the highest JPEG quality that fits is chosen.

A print sheet holds as many copies as fit on the paper at 300 dpi, with at least
:data:`SHEET_GAP_MM` between them and around them, and cut marks: short lines
in the gaps continuing each photo's edges, never drawn on a photo.

Examples
--------
>>> paper_size("4x6in"), paper_size("10x15cm")
((101.6, 152.4), (100.0, 150.0))
>>> import numpy as np
>>> from minface.idphoto import SPECS
>>> sheet = sheet_pixels(np.zeros((600, 600, 3), np.uint8), SPECS["us-passport"], "4x6in")
>>> sheet.shape  # portrait: two 2x2 in photos, one above the other
(1800, 1200, 3)
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

from ..errors import ImageWriteError
from ..images import _save_format, atomic_write, encode_image
from .specs import Spec

__all__ = ["SHEET_DPI", "SHEET_GAP_MM", "PAPERS", "paper_size", "sheet_layout", "sheet_pixels", "save_photo", "save_sheet", "photo_bytes", "jpeg_bytes"]

#: Resolution of print sheets.
SHEET_DPI = 300
#: Smallest gap between copies and around them on a sheet, millimetres (room to cut, and for the marks).
SHEET_GAP_MM = 2.0
#: Cut mark length (at most; less where the gap is narrower), millimetres.
MARK_MM = 3.0
#: Lowest JPEG quality tried to meet a file size limit.
MIN_QUALITY = 30
#: Common photo papers, width x height in millimetres.
PAPERS = {"4x6in": (101.6, 152.4), "10x15cm": (100.0, 150.0), "5x7in": (127.0, 177.8), "13x18cm": (130.0, 180.0)}

_INCH = 25.4
_PAPER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*x\s*(\d+(?:\.\d+)?)\s*(in|cm|mm)\s*$", re.IGNORECASE)


def paper_size(paper: str) -> tuple[float, float]:
    """Width and height in millimetres of ``"4x6in"``, ``"10x15cm"``, ``"89x127mm"``, ...

    Raises
    ------
    ValueError
        Not a size of that form.
    """
    m = _PAPER.match(str(paper))
    if not m:
        raise ValueError(f"paper size must look like 4x6in, 10x15cm or 89x127mm, got {paper!r}")
    unit = {"in": _INCH, "cm": 10.0, "mm": 1.0}[m.group(3).lower()]
    w, h = float(m.group(1)) * unit, float(m.group(2)) * unit
    if not (w > 0 and h > 0):
        raise ValueError(f"paper size must be positive, got {paper!r}")
    return (round(min(w, h), 4), round(max(w, h), 4))


def _px(mm: float) -> int:
    return int(round(mm / _INCH * SHEET_DPI))


def sheet_layout(spec: Spec, paper: str) -> tuple[tuple[int, int], list[tuple[int, int]], tuple[int, int]]:
    """Sheet size, top-left corners of the copies and the copy size, all in pixels at 300 dpi.

    The paper is used in the orientation that holds more copies (portrait on a tie).

    Raises
    ------
    ValueError
        Not even one copy fits.
    """
    pw, ph = paper_size(paper)
    cw, ch = _px(spec.width_mm), _px(spec.height_mm)
    gap = _px(SHEET_GAP_MM)
    best = None
    for sw, sh in ((_px(pw), _px(ph)), (_px(ph), _px(pw))):
        nx, ny = (sw - gap) // (cw + gap), (sh - gap) // (ch + gap)
        if nx * ny > (0 if best is None else best[0]):
            best = (nx * ny, sw, sh, nx, ny)
    if best is None:
        raise ValueError(f"a {spec.width_mm:g}x{spec.height_mm:g} mm photo does not fit on {paper} paper with cut marks")
    _, sw, sh, nx, ny = best
    gx, gy = (sw - nx * cw) / (nx + 1), (sh - ny * ch) / (ny + 1)
    corners = [(int(round(gx + i * (cw + gx))), int(round(gy + j * (ch + gy)))) for j in range(ny) for i in range(nx)]
    return (sw, sh), corners, (cw, ch)


def sheet_pixels(photo: np.ndarray, spec: Spec, paper: str = "4x6in") -> np.ndarray:
    """A white print sheet of copies of ``photo`` with cut marks, at :data:`SHEET_DPI`.

    Parameters
    ----------
    photo : numpy.ndarray
        The ID photo (RGB ``uint8``), resampled to 300 dpi if its spec has another resolution.
    spec : Spec
        Its specification (the printed size).
    paper : str
        ``"4x6in"`` (default), ``"10x15cm"``, or any ``WxH`` in ``in``, ``cm`` or ``mm``.
    """
    (sw, sh), corners, (cw, ch) = sheet_layout(spec, paper)
    if photo.shape[:2] != (ch, cw):
        interp = cv2.INTER_AREA if photo.shape[0] > ch else cv2.INTER_CUBIC
        photo = cv2.resize(photo, (cw, ch), interpolation=interp)
    sheet = np.full((sh, sw, 3), 255, np.uint8)
    for x, y in corners:
        sheet[y : y + ch, x : x + cw] = photo
    occupied = np.zeros((sh, sw), bool)
    for x, y in corners:
        occupied[y : y + ch, x : x + cw] = True
    mark = _px(MARK_MM)
    ink = np.array([0, 0, 0], np.uint8)
    for x, y in corners:
        for cx in (x, x + cw):  # vertical marks above and below, on the cut line (2 px: one each side)
            for y0, y1 in ((y - mark, y - 1), (y + ch + 1, y + ch + mark)):
                _line(sheet, occupied, slice(max(0, y0), min(sh, y1 + 1)), slice(max(0, cx - 1), min(sw, cx + 1)), ink)
        for cy in (y, y + ch):  # horizontal marks left and right
            for x0, x1 in ((x - mark, x - 1), (x + cw + 1, x + cw + mark)):
                _line(sheet, occupied, slice(max(0, cy - 1), min(sh, cy + 1)), slice(max(0, x0), min(sw, x1 + 1)), ink)
    return sheet


def _line(sheet: np.ndarray, occupied: np.ndarray, rows: slice, cols: slice, ink: np.ndarray) -> None:
    """Ink the block, except where a photo is (marks stop at the photos)."""
    free = ~occupied[rows, cols]
    sheet[rows, cols][free] = ink


def _set_density(data: bytes, dpi: int) -> bytes:
    """JPEG bytes with ``dpi`` in the JFIF header (units: dots per inch)."""
    if data[2:4] != b"\xff\xe0" or data[6:11] != b"JFIF\x00":
        raise ImageWriteError("the JPEG encoder wrote no JFIF header to put the resolution in")
    d = int(dpi).to_bytes(2, "big")
    return data[:13] + b"\x01" + d + d + data[18:]


def jpeg_bytes(pixels: np.ndarray, dpi: int, quality: int = 95, max_bytes: int | None = None) -> tuple[bytes, int]:
    """JPEG bytes of ``pixels`` with ``dpi`` in the JFIF header, and the quality used.

    With ``max_bytes``, the highest quality up to ``quality`` whose file fits
    (binary search, down to :data:`MIN_QUALITY`).

    Examples
    --------
    >>> import numpy as np
    >>> noise = np.random.default_rng(0).integers(0, 256, (600, 600, 3), dtype=np.uint8)
    >>> data, q = jpeg_bytes(noise, 300, 95, max_bytes=240_000)
    >>> len(data) <= 240_000, q < 95, data[13:18]
    (True, True, b'\\x01\\x01,\\x01,')
    """
    def encode(q: int) -> bytes:
        return _set_density(encode_image(pixels, "JPEG", quality=q), dpi)

    data = encode(quality)
    if max_bytes is None or len(data) <= max_bytes:
        return data, quality
    lo, hi, best = MIN_QUALITY, quality - 1, None
    while lo <= hi:
        q = (lo + hi) // 2
        candidate = encode(q)
        if len(candidate) <= max_bytes:
            best, lo = (candidate, q), q + 1
        else:
            hi = q - 1
    if best is None:
        raise ImageWriteError(f"no JPEG quality from {MIN_QUALITY} up fits the photo in {max_bytes:,} bytes")
    return best


def photo_bytes(pixels: np.ndarray, spec: Spec, *, quality: int = 95, format: str = "JPEG") -> bytes:
    """The file bytes of an ID photo: see :meth:`IdPhoto.to_bytes <minface.IdPhoto.to_bytes>`."""
    fmt = _save_format(format, None)
    if spec.file_format is not None and fmt != spec.file_format:
        raise ImageWriteError(f"{spec.name} photos must be {spec.file_format} files, not {fmt}")
    if not 1 <= int(quality) <= 100:
        raise ImageWriteError(f"quality must be 1-100, got {quality}")
    if fmt == "JPEG":
        return jpeg_bytes(pixels, spec.dpi, int(quality), spec.max_bytes)[0]
    data = encode_image(pixels, fmt, quality=quality)
    if spec.max_bytes is not None and len(data) > spec.max_bytes:
        raise ImageWriteError(f"the {fmt} file has {len(data):,} bytes; {spec.name} allows {spec.max_bytes:,}")
    return data


def save_photo(
    pixels: np.ndarray, dst: str | os.PathLike | BinaryIO, spec: Spec, *, quality: int = 95, format: str | None = None
) -> Path | None:
    """Write an ID photo to a path or a binary file object: see :meth:`IdPhoto.save <minface.IdPhoto.save>`."""
    if _is_file_object(dst):
        data = photo_bytes(pixels, spec, quality=quality, format=format or "JPEG")
        _write_to(dst, data)  # type: ignore[arg-type]
        return None
    data = photo_bytes(pixels, spec, quality=quality, format=_save_format(format, dst))  # type: ignore[arg-type]
    atomic_write(dst, data)  # type: ignore[arg-type]
    return Path(dst)  # type: ignore[arg-type]


def _is_file_object(dst: object) -> bool:
    return hasattr(dst, "write") and not isinstance(dst, (str, bytes, os.PathLike))


def _write_to(fh: BinaryIO, data: bytes) -> None:
    """Write all of ``data`` to a binary file object (a text one is refused before anything is written)."""
    if isinstance(fh, io.TextIOBase):
        raise ImageWriteError("the file object is opened in text mode; open it in binary mode ('wb'), or pass an io.BytesIO")
    try:
        fh.write(data)
    except TypeError as exc:  # a text stream that is no io.TextIOBase
        raise ImageWriteError(f"cannot write bytes to the file object ({exc}); open it in binary mode") from exc


def save_sheet(sheet: np.ndarray, dst: str | os.PathLike | BinaryIO, *, quality: int = 95, format: str | None = None) -> Path | None:
    """Write a print sheet (JPEG with :data:`SHEET_DPI` in its header, or any format minface writes).

    ``dst`` is a path (written atomically; the format from its extension unless
    ``format`` is given) or a binary file object (JPEG unless ``format`` is given).
    """
    fmt = _save_format(format or ("JPEG" if _is_file_object(dst) else None), None if _is_file_object(dst) else dst)  # type: ignore[arg-type]
    data = jpeg_bytes(sheet, SHEET_DPI, quality)[0] if fmt == "JPEG" else encode_image(sheet, fmt, quality=quality)
    if _is_file_object(dst):
        _write_to(dst, data)  # type: ignore[arg-type]
        return None
    atomic_write(dst, data)  # type: ignore[arg-type]
    return Path(dst)  # type: ignore[arg-type]
