"""Inspect and strip image metadata: the only module of minface that reads or writes it.

:func:`inspect` lists what a file carries besides its pixels: EXIF (GPS, maker
notes, serial numbers, owner and artist, dates, orientation, the IFD1
thumbnail), XMP (with face regions and person names), IPTC and other Photoshop
resources, ICC profiles (with their dates, device and creator fields), comments,
other APPn segments (MPF, JUMBF/C2PA, ...), PNG text, time and private chunks,
WebP EXIF/XMP/ICCP chunks, GIF comment and application extensions, and bytes
after the end of the image (motion-photo videos, MPF secondary images,
aCropalypse leftovers). The containers (JPEG segments, PNG chunks, RIFF/WebP
chunks, GIF blocks, TIFF IFDs) are parsed here with bounds checks; damaged
metadata is reported, never fatal.

:func:`strip` and :func:`strip_bytes` write a copy that keeps only the pixels:

* **JPEG, PNG, WebP and GIF are rewritten losslessly**: the compressed image data
  is copied unchanged and only the segments a decoder needs are kept, so the
  decoded pixels are identical (checked after every strip when ``verify=True``).

  - JPEG: SOI, DQT, SOF*, DHT, DAC, DRI, DNL, SOS with its entropy-coded data, EOI.
    A JFIF APP0 is replaced by a canonical one (version 1.01, no density, no
    thumbnail) when the original had one, and an Adobe APP14 by a canonical one
    holding only its colour-transform byte (it decides how the decoder turns
    YCCK/CMYK or RGB data into colours). Every other APPn, every COM and
    everything after EOI is dropped; so is anything between segments.
  - PNG: IHDR, PLTE, tRNS, IDAT, IEND, the APNG chunks acTL/fcTL/fdAT, and the
    colour chunks gAMA, cHRM, sRGB and cICP (a few fixed-size numbers each, needed
    to show the colours as intended). Text, time, eXIf, pHYs, bKGD, sBIT and all
    private chunks are dropped, as are bytes hidden in IDAT after the end of the
    zlib stream and anything after IEND.
  - WebP: VP8/VP8L (+ALPH), or VP8X with ANIM/ANMF frames (unknown sub-chunks
    removed); the VP8X flags are recomputed. EXIF, XMP, unknown chunks and bytes
    after the RIFF end are dropped.
  - GIF: header, screen descriptor, colour tables, graphic control extensions,
    the NETSCAPE/ANIMEXTS loop extension and the image blocks, so every frame
    keeps its duration, disposal and transparency, and the loop count is kept.
    Comment, plain-text and other application extensions (XMP, ICC) are dropped.

* **TIFF, BMP, HEIF/HEIC and AVIF are re-encoded** from the decoded pixels with
  nothing else (TIFF with lossless deflate, BMP as is, HEIF and AVIF lossy at
  ``quality``). Reduced-resolution TIFF pages (thumbnails) are dropped; of a HEIF
  file only the primary image is kept (no thumbnails, depth maps or bursts).
  Re-encoded images are 8 bits per channel.

* **Orientation** (``keep_orientation=True``, the default): a non-upright photo
  keeps its orientation as a minimal EXIF block that holds only the Orientation
  tag (JPEG APP1, PNG eXIf, WebP EXIF chunk). That keeps the rewrite lossless and
  the tag says nothing about the photographer. With ``keep_orientation=False`` the
  orientation is applied to the pixels instead and no EXIF is written; for JPEG
  and lossy WebP that means re-encoding (with the original JPEG quantization
  tables, to limit the loss). Formats that are re-encoded anyway (TIFF, BMP,
  HEIF, AVIF) always get the orientation applied to their pixels. The
  orientation read is the one :func:`minface.load_image` and
  ``PIL.ImageOps.exif_transpose`` use (EXIF, else XMP ``tiff:Orientation``).

* **ICC profiles** (``icc="clean"``, the default): a profile is rebuilt by
  :func:`clean_icc_profile` from its colour-defining tags only (white point,
  colorants, tone curves, chromatic adaptation, colour lookup tables), with a
  blank header (no date, platform, device maker or model, creator, profile ID)
  and a generic description naming the colour space ("Display P3",
  "Adobe RGB (1998)", ... or just "RGB"). A wide-gamut photo so keeps its exact
  colours. A profile that describes sRGB is dropped, since an untagged image is
  sRGB, and so is a profile that is damaged or defines no colours.
  ``icc="drop"`` drops every profile (the colours of wide-gamut photos shift).

Malformed metadata (bad IFD offsets, zero-denominator rationals, truncated
segments, huge XMP) does not matter to the lossless rewrite, which never parses
it; a damaged image container raises :class:`~minface.errors.CorruptImageError`
and nothing is written. Outputs are written atomically (temporary file, fsync,
rename) and the source is never modified unless ``in_place=True``.

>>> import io, numpy as np
>>> from PIL import Image
>>> buf = io.BytesIO()
>>> Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, "JPEG", comment=b"Alice's phone")
>>> [item.kind for item in inspect(buf.getvalue()).items]
['jfif', 'comment']
>>> clean, report = strip_bytes(buf.getvalue())
>>> inspect(clean).clean, report.pixels_identical
(True, True)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import warnings
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, Union

import numpy as np
from PIL import ExifTags, Image

from . import images as _images
from .errors import (
    CorruptImageError,
    DecompressionBombError,
    ImageError,
    ImageWriteError,
    MetadataError,
    MissingDependencyError,
    UnsupportedImageError,
)

__all__ = [
    "MetadataItem",
    "MetadataReport",
    "StripReport",
    "inspect",
    "strip",
    "strip_bytes",
    "sniff_format",
    "clean_icc_profile",
    "orientation_exif",
    "exiftool_residue",
    "EXIFTOOL_ALLOWED",
]

#: What :func:`inspect` and :func:`strip` accept: a path, bytes or a binary file object.
MetadataSource = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]

#: Largest file read (a photo is far smaller; this only stops absurd inputs early).
MAX_FILE_BYTES = 2 << 30
_XMP_SCAN_LIMIT = 16 << 20  # XMP beyond this is counted, not searched
_INFLATE_LIMIT = 64 << 20  # most bytes decompressed from one zTXt/iTXt/iCCP chunk


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MetadataItem:
    """One piece of metadata found in a file.

    Attributes
    ----------
    kind : str
        What it is: ``exif``, ``gps``, ``makernote``, ``exif-thumbnail``, ``xmp``,
        ``face-regions``, ``iptc``, ``photoshop``, ``photoshop-thumbnail``, ``icc``,
        ``comment``, ``jfif``, ``jfif-thumbnail``, ``adobe``, ``mpf``, ``jumbf``,
        ``app-segment``, ``png-text``, ``png-time``, ``png-chunk``, ``colour``,
        ``riff-chunk``, ``gif-extension``, ``tiff-tags``, ``thumbnail-page``,
        ``heif-thumbnail``, ``auxiliary-image``, ``secondary-image``, ``trailer``,
        ``stray-bytes``.
    location : str
        Where in the container (``"APP1"``, ``"tEXt"``, ``"EXIF chunk"``, ...).
    size : int
        Bytes it occupies in the file (0 when it is part of a larger item).
    sensitive : bool
        False only for what :func:`strip` keeps on purpose: an EXIF block holding
        only the orientation, an ICC profile already in clean form, colour chunks,
        the JFIF and Adobe decoding headers.
    details : dict
        What was read from it (JSON-compatible values).
    """

    kind: str
    location: str
    size: int
    sensitive: bool = True
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dictionary."""
        return {
            "kind": self.kind,
            "location": self.location,
            "size": self.size,
            "sensitive": self.sensitive,
            "details": _jsonable(dict(self.details)),
        }

    def summary(self, width: int = 100) -> str:
        """The details on one line, shortened to ``width`` characters."""
        parts = []
        for key, value in self.details.items():
            if value in (None, "", [], {}):
                continue
            if isinstance(value, Mapping):
                value = ", ".join(f"{k}={_short(v)}" for k, v in value.items())
            elif isinstance(value, (list, tuple)):
                value = ", ".join(_short(v) for v in value)
            parts.append(f"{key}={_short(value)}")
        text = "; ".join(parts)
        return text if len(text) <= width else text[: width - 3] + "..."


@dataclass(frozen=True)
class MetadataReport:
    """What :func:`inspect` found in one file.

    Attributes
    ----------
    source : str
        The file name (or ``"<bytes>"``).
    format : str or None
        ``JPEG``, ``PNG``, ``WEBP``, ``GIF``, ``TIFF``, ``BMP``, ``HEIF`` or ``AVIF``.
    file_size : int
        Bytes in the file.
    image_size : (int, int) or None
        Width and height as stored, when the header could be read.
    orientation : int
        The EXIF orientation a viewer applies (1 = upright).
    items : tuple of MetadataItem
        Everything found, in file order.
    warnings : tuple of str
        Damaged metadata and other oddities (never fatal to inspect).
    """

    source: str
    format: str | None
    file_size: int
    image_size: tuple[int, int] | None
    orientation: int
    items: tuple[MetadataItem, ...]
    warnings: tuple[str, ...] = ()

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds of all items."""
        return frozenset(item.kind for item in self.items)

    @property
    def sensitive(self) -> tuple[MetadataItem, ...]:
        """The items :func:`strip` removes."""
        return tuple(item for item in self.items if item.sensitive)

    @property
    def clean(self) -> bool:
        """True when nothing but decoding and colour information is left."""
        return not self.sensitive

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dictionary."""
        return {
            "source": self.source,
            "format": self.format,
            "file_size": self.file_size,
            "image_size": list(self.image_size) if self.image_size else None,
            "orientation": self.orientation,
            "clean": self.clean,
            "items": [item.to_dict() for item in self.items],
            "warnings": list(self.warnings),
        }

    def to_text(self) -> str:
        """A readable table."""
        size = f"{self.image_size[0]}x{self.image_size[1]}" if self.image_size else "?"
        n_sens = len(self.sensitive)
        state = "clean" if self.clean else f"{n_sens} item{'s' if n_sens != 1 else ''} to remove"
        lines = [f"{self.source}: {self.format or '?'} {size}, {self.file_size:,} bytes, {state}"]
        if self.items:
            rows = [
                (("  " if i.sensitive else "= ") + i.kind, i.location, f"{i.size:,}" if i.size else "-", i.summary())
                for i in self.items
            ]
            w0 = max(len(r[0]) for r in rows)
            w1 = max(len(r[1]) for r in rows)
            w2 = max(len(r[2]) for r in rows)
            lines.append(f"  {'KIND':<{w0}}  {'WHERE':<{w1}}  {'BYTES':>{w2}}  DETAILS")
            lines += [f"  {a:<{w0}}  {b:<{w1}}  {c:>{w2}}  {d}".rstrip() for a, b, c, d in rows]
            if any(not i.sensitive for i in self.items):
                lines.append("  (= kept by strip: decoding or colour information only)")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


@dataclass(frozen=True)
class StripReport:
    """What :func:`strip` did to one file.

    Attributes
    ----------
    source, destination : str, str or None
        File names (``destination`` is None for :func:`strip_bytes`).
    format : str
        The container, kept by the output.
    method : str
        ``"lossless"`` (container rewritten, image data copied) or ``"reencoded"``.
    removed : tuple of MetadataItem
        What was removed, with the bytes each occupied.
    kept : tuple of MetadataItem
        What the output still carries on purpose (orientation tag, clean ICC
        profile, colour chunks, decoding headers).
    bytes_in, bytes_out : int
        File sizes.
    orientation : int
        The orientation of the source (1 = upright).
    orientation_handling : str
        ``"none"`` (upright), ``"tag"`` (kept as an orientation-only EXIF) or
        ``"applied"`` (pixels turned upright).
    icc : str
        ``"none"``, ``"cleaned"`` (replaced by a clean copy), ``"dropped-srgb"``,
        ``"dropped"`` (on request, or damaged) or ``"dropped-unsupported"``.
    pixels_identical : bool or None
        Whether the decoded output equals the decoded source (as displayed);
        None when not verified.
    notes : tuple of str
        Anything worth knowing (a missing EOI added, frames dropped, ...).
    """

    source: str
    destination: str | None
    format: str
    method: str
    removed: tuple[MetadataItem, ...]
    kept: tuple[MetadataItem, ...]
    bytes_in: int
    bytes_out: int
    orientation: int
    orientation_handling: str
    icc: str
    pixels_identical: bool | None
    notes: tuple[str, ...] = ()

    @property
    def removed_bytes(self) -> int:
        """Bytes of metadata removed (items nested in others count once)."""
        return sum(item.size for item in self.removed)

    @property
    def removed_kinds(self) -> frozenset[str]:
        """Kinds of the removed items."""
        return frozenset(item.kind for item in self.removed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dictionary."""
        return {
            "source": self.source,
            "destination": self.destination,
            "format": self.format,
            "method": self.method,
            "removed": [item.to_dict() for item in self.removed],
            "removed_bytes": self.removed_bytes,
            "kept": [item.to_dict() for item in self.kept],
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "orientation": self.orientation,
            "orientation_handling": self.orientation_handling,
            "icc": self.icc,
            "pixels_identical": self.pixels_identical,
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        """A short readable summary."""
        kinds: dict[str, int] = {}
        for item in self.removed:
            kinds[item.kind] = kinds.get(item.kind, 0) + item.size
        removed = ", ".join(f"{k} ({v:,} B)" if v else k for k, v in kinds.items()) or "nothing"
        same = {True: "pixels identical", False: "pixels changed", None: "not verified"}[self.pixels_identical]
        lines = [
            f"{self.source} -> {self.destination or '<bytes>'}: {self.format} {self.method}, "
            f"{self.bytes_in:,} -> {self.bytes_out:,} bytes, {same}",
            f"  removed: {removed}",
        ]
        if self.orientation != 1:
            lines.append(f"  orientation {self.orientation}: {self.orientation_handling}")
        if self.icc != "none":
            lines.append(f"  icc: {self.icc}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _short(value: Any, width: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(_jsonable(value), ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return _bytes_text(bytes(value))
    if isinstance(value, float):
        return round(value, 6) if np.isfinite(value) else None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _bytes_text(b: bytes, limit: int = 80) -> str:
    """Printable text of ``b`` when it is text, else a byte count."""
    b = b.rstrip(b"\0")
    if b and sum(32 <= c < 127 or c in (9, 10, 13) for c in b[:256]) >= 0.9 * min(len(b), 256):
        text = b[:limit].decode("latin-1")
        return text + ("..." if len(b) > limit else "")
    return f"<{len(b)} bytes>"


class _Collector:
    def __init__(self) -> None:
        self.items: list[MetadataItem] = []
        self.warnings: list[str] = []

    def add(self, kind: str, location: str, size: int, details: dict | None = None, sensitive: bool = True) -> None:
        self.items.append(MetadataItem(kind, location, int(size), sensitive, _jsonable(details or {})))

    def warn(self, message: str) -> None:
        if message not in self.warnings and len(self.warnings) < 50:
            self.warnings.append(message)


class _Malformed(Exception):
    """A structure could not be parsed (internal; turned into warnings or errors)."""


def _u16be(d: bytes, p: int) -> int:
    return (d[p] << 8) | d[p + 1]


def _u32be(d: bytes, p: int) -> int:
    return int.from_bytes(d[p : p + 4], "big")


def _u32le(d: bytes, p: int) -> int:
    return int.from_bytes(d[p : p + 4], "little")


# ---------------------------------------------------------------------------
# Reading sources and telling formats apart
# ---------------------------------------------------------------------------


def _read_source(src: MetadataSource) -> tuple[bytes, str]:
    if isinstance(src, (bytes, bytearray, memoryview)):
        data, name = bytes(src), "<bytes>"
    elif isinstance(src, (str, os.PathLike)):
        name = os.fspath(src)  # type: ignore[assignment]
        path = Path(name)
        if path.is_dir():
            raise UnsupportedImageError(f"{name}: is a directory, not an image file")
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise UnsupportedImageError(f"{name}: {size:,} bytes is too large for an image file")
            data = path.read_bytes()
        except OSError as exc:
            if isinstance(exc, ImageError):
                raise
            raise UnsupportedImageError(f"{name}: cannot read file ({exc.strerror or exc})") from exc
    elif hasattr(src, "read"):
        name = str(getattr(src, "name", "<file object>"))
        data = src.read(MAX_FILE_BYTES + 1)  # type: ignore[union-attr]
        if not isinstance(data, (bytes, bytearray)):
            raise UnsupportedImageError(f"{name}: file object must be opened in binary mode")
        if len(data) > MAX_FILE_BYTES:
            raise UnsupportedImageError(f"{name}: too large for an image file")
        data = bytes(data)
    else:
        raise UnsupportedImageError(
            f"cannot read metadata from {type(src).__name__}; give a path, bytes or a binary file object"
        )
    if not data:
        raise UnsupportedImageError(f"{name}: empty input (0 bytes)")
    return data, name


_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}


def sniff_format(d: bytes) -> str | None:
    """The image container of ``d`` from its first bytes (never from a file name), or None.

    >>> sniff_format(b"\\x89PNG\\r\\n\\x1a\\n...."), sniff_format(b"hello")
    ('PNG', None)
    """
    if d[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if d[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if d[:4] == b"RIFF" and d[8:12] == b"WEBP":
        return "WEBP"
    if d[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if d[:4] in (b"II*\0", b"MM\0*"):
        return "TIFF"
    if d[:2] == b"BM" and len(d) >= 26:
        return "BMP"
    if d[4:8] == b"ftyp" and len(d) >= 16:
        size = min(_u32be(d, 0), len(d), 4096)
        brands = {d[8:12]} | {d[i : i + 4] for i in range(16, max(16, size) - 3, 4)}
        if brands & _AVIF_BRANDS:
            return "AVIF"
        if brands & _HEIF_BRANDS:
            return "HEIF"
    return None


def _open_image(d: bytes, fmt: str, name: str, max_pixels: int | None) -> Image.Image:
    """Open headers with Pillow (format allowlist and decompression-bomb guard)."""
    if fmt == "HEIF":
        _images.require_heif()
    try:
        with warnings.catch_warnings():  # damaged metadata makes Pillow warn; it is reported by inspect
            warnings.simplefilter("ignore")
            return _images._open(d, name, max_pixels)
    except UnsupportedImageError as exc:
        if "not a recognised image format" not in str(exc):
            raise
        raise CorruptImageError(f"{name}: damaged {fmt} file (its header cannot be read)") from exc


# ---------------------------------------------------------------------------
# TIFF structures (EXIF blocks and TIFF files)
# ---------------------------------------------------------------------------

_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_NUM_FMT = {3: "H", 4: "I", 8: "h", 9: "i", 11: "f", 12: "d", 13: "I"}
_EXIF_IFD, _GPS_IFD, _INTEROP_IFD, _MAKERNOTE, _ORIENTATION = 0x8769, 0x8825, 0xA005, 0x927C, 0x0112

_CAMERA_TAGS = {0x010F: "Make", 0x0110: "Model", 0x0131: "Software", 0xA433: "LensMake", 0xA434: "LensModel"}
_IDENTITY_TAGS = {
    0x013B: "Artist",
    0x8298: "Copyright",
    0x013C: "HostComputer",
    0x010E: "ImageDescription",
    0xA430: "CameraOwnerName",
    0xA431: "BodySerialNumber",
    0xA435: "LensSerialNumber",
    0xA420: "ImageUniqueID",
    0xC62F: "CameraSerialNumber",
    0x9286: "UserComment",
    0x9C9B: "XPTitle",
    0x9C9C: "XPComment",
    0x9C9D: "XPAuthor",
    0x9C9E: "XPKeywords",
    0x9C9F: "XPSubject",
}
_DATE_TAGS = {
    0x0132: "DateTime",
    0x9003: "DateTimeOriginal",
    0x9004: "DateTimeDigitized",
    0x9010: "OffsetTime",
    0x9011: "OffsetTimeOriginal",
    0x9012: "OffsetTimeDigitized",
}


@dataclass
class _Entry:
    tag: int
    type: int
    count: int
    raw: bytes | None  # None: the value lies outside the block


class _Tiff:
    """Bounds-checked reader of TIFF IFDs (an EXIF block is a small TIFF file)."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 8:
            raise _Malformed("shorter than a TIFF header")
        if data[:2] == b"II":
            self.e = "<"
        elif data[:2] == b"MM":
            self.e = ">"
        else:
            raise _Malformed("no TIFF byte-order mark")
        magic = struct.unpack_from(self.e + "H", data, 2)[0]
        if magic != 42:
            raise _Malformed("BigTIFF is not supported" if magic == 43 else f"bad TIFF magic number {magic}")
        self.data = data
        self.first = struct.unpack_from(self.e + "I", data, 4)[0]

    def read_ifd(self, off: int) -> tuple[list[_Entry], int, list[str]]:
        d, n, e = self.data, len(self.data), self.e
        if off < 8 or off + 2 > n:
            raise _Malformed(f"IFD offset {off} is outside the {n}-byte block")
        count = struct.unpack_from(e + "H", d, off)[0]
        fits = (n - off - 2) // 12
        problems = []
        if count > fits:
            problems.append(f"IFD at offset {off} declares {count} entries but only {fits} fit")
            count = fits
        entries = []
        for i in range(count):
            p = off + 2 + 12 * i
            tag, typ, cnt = struct.unpack_from(e + "HHI", d, p)
            size = _TYPE_SIZE.get(typ, 0) * cnt
            if size <= 4:
                raw: bytes | None = d[p + 8 : p + 8 + size]
            else:
                voff = struct.unpack_from(e + "I", d, p + 8)[0]
                raw = d[voff : voff + size] if voff + size <= n else None
                if raw is None:
                    problems.append(f"tag 0x{tag:04X}: value at offset {voff} runs past the end")
            entries.append(_Entry(tag, typ, cnt, raw))
        p = off + 2 + 12 * count
        nxt = struct.unpack_from(e + "I", d, p)[0] if p + 4 <= n else 0
        return entries, nxt, problems

    def value(self, ent: _Entry, limit: int = 32) -> Any:
        raw, typ, e = ent.raw, ent.type, self.e
        if raw is None:
            return None
        if typ == 2:
            text = raw.split(b"\0", 1)[0]
            try:
                s = text.decode("utf-8")
            except UnicodeDecodeError:
                s = text.decode("latin-1")
            return s.strip()[:200]
        if typ in (1, 6, 7):
            return raw
        k = min(ent.count, limit)
        if typ in _NUM_FMT:
            vals: list = list(struct.unpack_from(f"{e}{k}{_NUM_FMT[typ]}", raw))
        elif typ in (5, 10):
            nums = struct.unpack_from(f"{e}{2 * k}{'I' if typ == 5 else 'i'}", raw)
            vals = [None if den == 0 else num / den for num, den in zip(nums[::2], nums[1::2])]
        else:
            return None
        return vals[0] if len(vals) == 1 else vals


def _tag_name(tag: int, gps: bool = False) -> str:
    table = ExifTags.GPSTAGS if gps else ExifTags.TAGS
    return table.get(tag, f"0x{tag:04X}")


def _text_value(t: _Tiff, ent: _Entry) -> Any:
    v = t.value(ent)
    if isinstance(v, bytes):
        if ent.tag in (0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F):  # Windows XP tags: UTF-16LE
            return v.decode("utf-16-le", "replace").rstrip("\0")[:200]
        if ent.tag == 0x9286 and len(v) >= 8:  # UserComment: 8-byte character code + text
            body = v[8:]
            text = body.decode("utf-16", "replace") if v[:8].startswith(b"UNICODE") else _bytes_text(body)
            return text.rstrip("\0 ")[:200]
        return _bytes_text(v)
    return v


def _load_ifds(t: _Tiff, first: int, *, chain: bool, problems: list[str]) -> dict[str, list[_Entry]]:
    """IFD0 (+ its chain as IFD1, IFD2, ... when ``chain``) and the Exif/GPS/Interop sub-IFDs."""
    ifds: dict[str, list[_Entry]] = {}
    seen: set[int] = set()

    def load(name: str, off: int) -> int:
        if off in seen:
            problems.append(f"{name}: IFD offset {off} points back to an earlier IFD")
            return 0
        seen.add(off)
        try:
            entries, nxt, probs = t.read_ifd(off)
        except _Malformed as exc:
            problems.append(f"{name}: {exc}")
            return 0
        problems.extend(f"{name}: {p}" for p in probs)
        ifds[name] = entries
        return nxt

    nxt = load("IFD0", first)
    page = 1
    while nxt and page < (64 if chain else 2):
        nxt = load(f"IFD{page}", nxt)
        page += 1
    for parent in list(ifds):
        for ent in ifds[parent]:
            sub = {_EXIF_IFD: "ExifIFD", _GPS_IFD: "GPS"}.get(ent.tag)
            if sub and parent in ("IFD0",):
                off = t.value(ent)
                if isinstance(off, int):
                    load(sub, off)
                else:
                    problems.append(f"{sub}: unreadable pointer")
    for ent in ifds.get("ExifIFD", []):
        if ent.tag == _INTEROP_IFD:
            off = t.value(ent)
            if isinstance(off, int):
                load("Interop", off)
    return ifds


def _gps_coordinate(t: _Tiff, entries: dict[int, _Entry], val_tag: int, ref_tag: int) -> float | None:
    ent = entries.get(val_tag)
    if ent is None:
        return None
    v = t.value(ent)
    if not isinstance(v, list) or len(v) < 3 or any(x is None for x in v[:3]):
        return None
    deg = v[0] + v[1] / 60 + v[2] / 3600
    ref = entries.get(ref_tag)
    ref_v = t.value(ref) if ref is not None else None
    if isinstance(ref_v, str) and ref_v[:1] in ("S", "W"):
        deg = -deg
    return round(deg, 6)


def _exif_items(tiff: bytes, location: str, size: int, col: _Collector, *, tiff_file: bool = False) -> None:
    """Items for an EXIF block (or, with ``tiff_file``, the tags of a TIFF file)."""
    try:
        t = _Tiff(tiff)
    except _Malformed as exc:
        col.add("exif", location, size, {"error": str(exc)})
        col.warn(f"{location}: unreadable EXIF ({exc})")
        return
    problems: list[str] = []
    ifds = _load_ifds(t, t.first, chain=tiff_file, problems=problems)
    for p in problems[:10]:
        col.warn(f"{location}: {p}")
    if not tiff_file and set(ifds) == {"IFD0"} and [e.tag for e in ifds["IFD0"]] == [_ORIENTATION]:
        col.add("exif", location, size, {"Orientation": t.value(ifds["IFD0"][0])}, sensitive=False)
        return

    main = [n for n in ifds if n in ("IFD0", "ExifIFD", "Interop") or (n == "IFD1" and not tiff_file)]
    details: dict[str, Any] = {}
    n_tags = 0
    for name in main:
        for ent in ifds[name]:
            if tiff_file and name == "IFD0" and ent.tag in _TIFF_STRUCTURE_TAGS | _TIFF_SPECIAL_TAGS:
                continue
            n_tags += 1
            if name == "IFD1":
                continue
            if ent.tag in _CAMERA_TAGS:
                details[_CAMERA_TAGS[ent.tag]] = _text_value(t, ent)
            elif ent.tag in _IDENTITY_TAGS:
                details[_IDENTITY_TAGS[ent.tag]] = _text_value(t, ent)
            elif ent.tag in _DATE_TAGS:
                details[_DATE_TAGS[ent.tag]] = _text_value(t, ent)
            elif ent.tag == _ORIENTATION:
                details["Orientation"] = t.value(ent)
    details = {"tags": n_tags, "ifds": [n for n in ifds if n != "GPS"], **details}
    if problems:
        details["problems"] = len(problems)
    if n_tags or not tiff_file:
        col.add("tiff-tags" if tiff_file else "exif", location, size, details)

    gps = ifds.get("GPS")
    if gps is not None:
        byid = {e.tag: e for e in gps}
        g: dict[str, Any] = {"tags": len(gps)}
        lat = _gps_coordinate(t, byid, 2, 1)
        lon = _gps_coordinate(t, byid, 4, 3)
        if lat is not None and lon is not None:
            g["position"] = f"{lat}, {lon}"
        if 6 in byid:
            g["altitude"] = t.value(byid[6])
        if 29 in byid:
            g["date"] = t.value(byid[29])
        g["names"] = [_tag_name(e.tag, gps=True) for e in gps][:20]
        col.add("gps", f"{location} > GPS IFD", 0, g)
    for ent in ifds.get("ExifIFD", []):
        if ent.tag == _MAKERNOTE:
            size_mn = _TYPE_SIZE.get(ent.type, 1) * ent.count
            head = ent.raw[:12] if ent.raw else b""
            header = _bytes_text(head.split(b"\0")[0]) if head[:1].isalpha() else None
            col.add("makernote", f"{location} > Exif IFD", size_mn, {"make": details.get("Make"), "header": header})
    if not tiff_file and "IFD1" in ifds:
        byid = {e.tag: e for e in ifds["IFD1"]}
        thumb = 0
        if 0x0201 in byid and 0x0202 in byid:
            off, length = t.value(byid[0x0201]), t.value(byid[0x0202])
            if isinstance(off, int) and isinstance(length, int):
                thumb = max(0, min(length, len(tiff) - off))
        elif 0x0117 in byid:
            counts = t.value(byid[0x0117])
            thumb = sum(counts) if isinstance(counts, list) else int(counts or 0)
        if thumb or byid:
            dims = [t.value(byid[k]) for k in (0x0100, 0x0101) if k in byid]
            col.add("exif-thumbnail", f"{location} > IFD1", thumb, {"size": "x".join(map(str, dims)) or None})


# TIFF tags that describe the image data itself (kept by a re-encode in some form)
_TIFF_STRUCTURE_TAGS = frozenset(
    {254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 274, 277, 278, 279, 280, 281, 282, 283, 284, 290, 291, 296}
    | {297, 301, 317, 318, 319, 320, 321, 322, 323, 324, 325, 332, 338, 339, 340, 341, 347, 529, 530, 531, 532}
)
_TIFF_SPECIAL_TAGS = frozenset({700, 33723, 34377, 34675, _EXIF_IFD, _GPS_IFD, 330})


# ---------------------------------------------------------------------------
# XMP, IPTC / Photoshop resources, ICC profiles, trailers
# ---------------------------------------------------------------------------

_XMP_NOTABLE = re.compile(
    rb"(?<![\w:])((?:exif:GPS(?:Latitude|Longitude|Altitude|TimeStamp))|dc:(?:creator|rights|description|title|subject)"
    rb"|xmp:(?:CreateDate|ModifyDate|CreatorTool|MetadataDate)|photoshop:(?:DateCreated|City|State|Country|Credit"
    rb"|AuthorsPosition|CaptionWriter|Source)|aux:(?:SerialNumber|LensSerialNumber|OwnerName)"
    rb"|exifEX:(?:BodySerialNumber|CameraOwnerName|LensSerialNumber)|xmpMM:(?:DocumentID|OriginalDocumentID"
    rb"|InstanceID|History|DerivedFrom)|GCamera:(?:MicroVideo\w*|MotionPhoto\w*)|Container:Directory"
    rb"|Iptc4xmpCore:(?:Location|CreatorContactInfo)|Iptc4xmpExt:(?:PersonInImage\w*|LocationShown|LocationCreated)"
    rb"|tiff:(?:Make|Model|Orientation|Artist)|hdrgm:\w+|MicrosoftPhoto:\w+|lr:hierarchicalSubject"
    rb"|mwg-rs:Regions|MP:RegionInfo|crs:\w+)(?=[\s=>/])"
)
_XMP_NAMES = [
    re.compile(rb'(?:mwg-rs:Name|MPReg:PersonDisplayName|MP:PersonDisplayName)\s*=\s*"([^"<]{1,200})"'),
    re.compile(rb"<(?:mwg-rs:Name|MPReg:PersonDisplayName)>([^<]{1,200})</"),
]
_XMP_PERSON_IN_IMAGE = re.compile(rb"<Iptc4xmpExt:PersonInImage>(.{0,20000}?)</Iptc4xmpExt:PersonInImage>", re.S)
_XMP_LI = re.compile(rb"<rdf:li[^>]{0,200}>([^<]{1,200})</rdf:li>")
_XMP_FACE = re.compile(rb'mwg-rs:Type\s*=\s*"Face"|<mwg-rs:Type>Face</mwg-rs:Type>')
_XMP_ORIENT = re.compile(rb'tiff:Orientation\s*=\s*"(\d)"|<tiff:Orientation>(\d)</tiff:Orientation>')
_XMP_NS = re.compile(rb"xmlns:([\w.-]{1,40})\s*=")


def _xmp_items(x: bytes, location: str, size: int, col: _Collector) -> None:
    """Items for an XMP packet: the packet and, when present, its face regions."""
    if len(x) > _XMP_SCAN_LIMIT:
        col.warn(f"{location}: {len(x):,}-byte XMP, only the first {_XMP_SCAN_LIMIT:,} bytes searched")
    text = x[:_XMP_SCAN_LIMIT]
    notable = sorted({m.decode("latin-1") for m in _XMP_NOTABLE.findall(text)})
    details: dict[str, Any] = {
        "bytes": len(x),
        "namespaces": sorted({m.decode("latin-1") for m in _XMP_NS.findall(text)})[:30],
        "properties": notable[:40],
    }
    o = _XMP_ORIENT.search(text)
    if o:
        details["orientation"] = int(o.group(1) or o.group(2))
    col.add("xmp", location, size, details)

    names: list[str] = []
    for rx in _XMP_NAMES:
        names += [m.decode("utf-8", "replace").strip() for m in rx.findall(text)]
    for block in _XMP_PERSON_IN_IMAGE.findall(text):
        names += [m.decode("utf-8", "replace").strip() for m in _XMP_LI.findall(block)]
    faces = len(_XMP_FACE.findall(text))
    regions = text.count(b"<mwg-rs:Area") + text.count(b"MPReg:Rectangle=") + text.count(b"<MPReg:Rectangle>")
    if faces or regions or names:
        unique = list(dict.fromkeys(n for n in names if n))
        col.add(
            "face-regions",
            f"{location} > regions",
            0,
            {"regions": max(regions, faces), "faces": faces, "person_names": unique[:50]},
        )


_IPTC_NAMES = {
    (1, 90): "CodedCharacterSet",
    (2, 5): "ObjectName",
    (2, 25): "Keywords",
    (2, 40): "SpecialInstructions",
    (2, 55): "DateCreated",
    (2, 60): "TimeCreated",
    (2, 62): "DigitalCreationDate",
    (2, 80): "By-line",
    (2, 85): "By-lineTitle",
    (2, 90): "City",
    (2, 92): "Sub-location",
    (2, 95): "Province-State",
    (2, 100): "Country-PrimaryLocationCode",
    (2, 101): "Country-PrimaryLocationName",
    (2, 103): "OriginalTransmissionReference",
    (2, 105): "Headline",
    (2, 110): "Credit",
    (2, 115): "Source",
    (2, 116): "CopyrightNotice",
    (2, 118): "Contact",
    (2, 120): "Caption-Abstract",
    (2, 122): "Writer-Editor",
}


def _iptc_fields(d: bytes, problems: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    pos, n, count = 0, len(d), 0
    while pos + 5 <= n and count < 2000:
        if d[pos] != 0x1C:
            if d[pos:].strip(b"\0"):
                problems.append(f"IPTC: unexpected byte at offset {pos}")
            break
        rec, ds, size = d[pos + 1], d[pos + 2], _u16be(d, pos + 3)
        pos += 5
        if size & 0x8000:
            k = size & 0x7FFF
            if k > 4 or pos + k > n:
                problems.append("IPTC: bad extended dataset length")
                break
            size = int.from_bytes(d[pos : pos + k], "big")
            pos += k
        if pos + size > n:
            problems.append("IPTC: dataset runs past the end")
            size = n - pos
        name = _IPTC_NAMES.get((rec, ds), f"{rec}:{ds}")
        if (rec, ds) != (2, 0):  # 2:0 is the record version
            value = _bytes_text(d[pos : pos + size])
            fields.setdefault(name, []).append(value)
        pos += size
        count += 1
    return {k: v[0] if len(v) == 1 else v[:20] for k, v in fields.items()}


_PS_THUMBS = {0x0409, 0x040C}


def _photoshop_items(d: bytes, location: str, size: int, col: _Collector) -> None:
    """Items for Photoshop image resources (8BIM blocks), IPTC among them."""
    pos, n = 0, len(d)
    resources: list[str] = []
    problems: list[str] = []
    while pos + 12 <= n and len(resources) < 500:
        if d[pos : pos + 4] not in (b"8BIM", b"PHUT", b"AgHg", b"DCSR", b"MeSa"):
            if d[pos:].strip(b"\0"):
                problems.append(f"resource block at offset {pos} has no 8BIM signature")
            break
        rid = _u16be(d, pos + 4)
        nlen = d[pos + 6]
        pos += 7 + nlen + ((1 + nlen) % 2 == 1)
        if pos + 4 > n:
            problems.append("truncated resource header")
            break
        rsize = _u32be(d, pos)
        pos += 4
        body = d[pos : pos + rsize]
        if pos + rsize > n:
            problems.append(f"resource 0x{rid:04X} runs past the end")
        pos += rsize + (rsize & 1)
        resources.append(f"0x{rid:04X}")
        if rid == 0x0404:
            col.add("iptc", f"{location} > IPTC-NAA", len(body), _iptc_fields(body, problems))
        elif rid in _PS_THUMBS:
            col.add("photoshop-thumbnail", f"{location} > 0x{rid:04X}", len(body))
        elif rid == 0x040F:
            _icc_items(body, f"{location} > ICC", len(body), col)
        elif rid == 0x0422:
            _exif_items(body, f"{location} > EXIF", len(body), col)
        elif rid == 0x0424:
            _xmp_items(body, f"{location} > XMP", len(body), col)
    col.add("photoshop", location, size, {"resources": resources[:40]})
    for p in problems[:5]:
        col.warn(f"{location}: {p}")


# -- ICC ----------------------------------------------------------------------

_ICC_KEEP_TAGS = frozenset(
    {b"wtpt", b"bkpt", b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC", b"kTRC", b"chad", b"gamt", b"cicp"}
    | {b"A2B0", b"A2B1", b"A2B2", b"B2A0", b"B2A1", b"B2A2", b"D2B0", b"D2B1", b"D2B2", b"D2B3"}
    | {b"B2D0", b"B2D1", b"B2D2", b"B2D3"}
)
_ICC_KEEP_TYPES = frozenset({b"XYZ ", b"curv", b"para", b"sf32", b"mft1", b"mft2", b"mAB ", b"mBA ", b"cicp"})
_ICC_CLASSES = frozenset({b"mntr", b"scnr", b"prtr", b"spac"})
_ICC_D50 = np.array([0.9642, 1.0, 0.8249])
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
_D65 = (0.3127, 0.3290)
_KNOWN_RGB = {
    "sRGB": (((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)), _D65),
    "Display P3": (((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), _D65),
    "Adobe RGB (1998)": (((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)), _D65),
    "Rec. 2020": (((0.708, 0.292), (0.170, 0.797), (0.131, 0.046)), _D65),
    "ProPhoto RGB": (((0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001)), (0.3457, 0.3585)),
}


def _colorants_d50(primaries: tuple, white: tuple) -> np.ndarray:
    """Columns: the D50-adapted XYZ of the red, green and blue primaries (as an ICC profile stores them)."""

    def xyz(x: float, y: float) -> np.ndarray:
        return np.array([x / y, 1.0, (1 - x - y) / y])

    m = np.stack([xyz(*p) for p in primaries], axis=1)
    w = xyz(*white)
    m = m * np.linalg.solve(m, w)
    cone = np.diag((_BRADFORD @ _ICC_D50) / (_BRADFORD @ w))
    return np.linalg.inv(_BRADFORD) @ cone @ _BRADFORD @ m


_KNOWN_COLORANTS = {name: _colorants_d50(*spec) for name, spec in _KNOWN_RGB.items()}
_X = np.linspace(0.0, 1.0, 256)
_SRGB_TRC = np.where(_X >= 0.04045, ((_X + 0.055) / 1.055) ** 2.4, _X / 12.92)


def _s15(d: bytes, p: int) -> float:
    return int.from_bytes(d[p : p + 4], "big", signed=True) / 65536.0


def _icc_parse(p: bytes) -> dict[str, Any]:
    if len(p) < 132 or p[36:40] != b"acsp":
        raise _Malformed("not an ICC profile")
    n = min(_u32be(p, 0), len(p))
    count = _u32be(p, 128)
    if count > 1000 or 132 + 12 * count > n:
        raise _Malformed(f"ICC tag table of {count} entries does not fit")
    tags: dict[bytes, tuple[int, int]] = {}
    for i in range(count):
        q = 132 + 12 * i
        sig, off, size = p[q : q + 4], _u32be(p, q + 4), _u32be(p, q + 8)
        if off + size <= n and size >= 8:
            tags.setdefault(sig, (off, size))
    date = struct.unpack(">6H", p[24:36])
    return {
        "size": n,
        "cmm": p[4:8],
        "version": p[8:12],
        "class": p[12:16],
        "space": p[16:20],
        "pcs": p[20:24],
        "date": date,
        "platform": p[40:44],
        "flags": p[44:48],
        "manufacturer": p[48:52],
        "model": p[52:56],
        "attributes": p[56:64],
        "intent": _u32be(p, 64) & 0xFFFF,
        "illuminant": p[68:80],
        "creator": p[80:84],
        "id": p[84:100],
        "tags": tags,
    }


def _icc_text(p: bytes, off: int, size: int) -> str | None:
    body = p[off : off + size]
    kind = body[:4]
    try:
        if kind == b"desc" and len(body) >= 12:
            n = _u32be(body, 8)
            return body[12 : 12 + max(0, n)].split(b"\0", 1)[0].decode("latin-1")[:200]
        if kind == b"text":
            return body[8:].split(b"\0", 1)[0].decode("latin-1")[:200]
        if kind == b"mluc" and len(body) >= 28:
            length, offset = _u32be(body, 20), _u32be(body, 24)
            return body[offset : offset + length].decode("utf-16-be", "replace").rstrip("\0")[:200]
    except Exception:
        return None
    return None


def _sig(b: bytes) -> str | None:
    if not b.strip(b"\0 "):
        return None
    return b.decode("latin-1").strip() if all(32 <= c < 127 for c in b) else b.hex()


def _trc(p: bytes, off: int, size: int) -> np.ndarray | None:
    """A tone curve sampled at 256 points, or None."""
    body = p[off : off + size]
    if body[:4] == b"curv" and len(body) >= 12:
        n = _u32be(body, 8)
        if n == 0:
            return _X.copy()
        if n == 1:
            return _X ** (_u16be(body, 12) / 256.0)
        if len(body) < 12 + 2 * n:
            return None
        table = np.frombuffer(body[12 : 12 + 2 * n], ">u2").astype(np.float64) / 65535.0
        return np.interp(_X, np.linspace(0, 1, n), table)
    if body[:4] == b"para" and len(body) >= 16:
        ftype = _u16be(body, 8)
        nparams = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}.get(ftype)
        if nparams is None or len(body) < 12 + 4 * nparams:
            return None
        g, a, b, c, d, e, f = ([_s15(body, 12 + 4 * i) for i in range(nparams)] + [0.0] * 7)[:7]
        with np.errstate(all="ignore"):
            if ftype == 0:
                y = _X**g
            elif ftype == 1:
                y = np.where(_X >= -b / a, np.maximum(a * _X + b, 0) ** g, 0.0)
            elif ftype == 2:
                y = np.where(_X >= -b / a, np.maximum(a * _X + b, 0) ** g + c, c)
            elif ftype == 3:
                y = np.where(_X >= d, np.maximum(a * _X + b, 0) ** g, c * _X)
            else:
                y = np.where(_X >= d, np.maximum(a * _X + b, 0) ** g + e, c * _X + f)
        return y if np.all(np.isfinite(y)) else None
    return None


def _icc_space_name(p: bytes, info: dict[str, Any]) -> str:
    """A generic name for the profile's colour space: a known RGB space, else its colour space."""
    space = info["space"]
    tags = info["tags"]
    if space == b"RGB " and all(t in tags for t in (b"rXYZ", b"gXYZ", b"bXYZ")):
        cols = []
        for t in (b"rXYZ", b"gXYZ", b"bXYZ"):
            off, _ = tags[t]
            if p[off : off + 4] != b"XYZ ":
                break
            cols.append([_s15(p, off + 8 + 4 * i) for i in range(3)])
        else:
            m = np.array(cols).T
            for name, ref in _KNOWN_COLORANTS.items():
                if np.max(np.abs(m - ref)) < 0.005:
                    return name
        return "RGB"
    return {b"GRAY": "Gray", b"CMYK": "CMYK", b"Lab ": "Lab", b"YCbr": "YCbCr"}.get(space, "Colour")


def _is_srgb(p: bytes, info: dict[str, Any]) -> bool:
    if _icc_space_name(p, info) != "sRGB":
        return False
    for t in (b"rTRC", b"gTRC", b"bTRC"):
        if t not in info["tags"]:
            return False
        y = _trc(p, *info["tags"][t])
        if y is None or np.max(np.abs(y - _SRGB_TRC)) > 0.01:
            return False
    return True


def _icc_text_tag(text: str, v4: bool) -> bytes:
    if v4:
        body = text.encode("utf-16-be")
        return b"mluc" + bytes(4) + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(">II", len(body), 28) + body
    return b"text" + bytes(4) + text.encode("ascii") + b"\0"


def _icc_desc_tag(text: str, v4: bool) -> bytes:
    if v4:
        return _icc_text_tag(text, True)
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_)) + ascii_ + bytes(4 + 4 + 2 + 1 + 67)


def clean_icc_profile(profile: bytes | None) -> bytes | None:
    """Rebuild an ICC profile from its colour-defining tags only.

    The result has a blank header (no date, CMM, platform, device maker or model,
    creator or profile ID), a generic description naming the colour space, the
    copyright ``"CC0"``, and only these tags, copied with their reserved bytes
    zeroed: white and black point, colorants, tone curves, chromatic adaptation,
    gamut and colour lookup tables (A2B*, B2A*, D2B*, B2D*) and ``cicp``.
    Cleaning a clean profile returns it unchanged.

    Parameters
    ----------
    profile : bytes
        An ICC profile (display, input, output or colour-space class).

    Returns
    -------
    bytes or None
        The clean profile; None when the profile describes sRGB (an untagged image
        means sRGB), is damaged, or defines no colours.

    Examples
    --------
    >>> from PIL import ImageCms
    >>> srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    >>> clean_icc_profile(srgb) is None
    True
    """
    if not profile:
        return None
    try:
        info = _icc_parse(bytes(profile))
    except _Malformed:
        return None
    p = bytes(profile)
    if info["class"] not in _ICC_CLASSES:
        return None
    tags = info["tags"]
    kept = [
        (sig, off, size)
        for sig, (off, size) in tags.items()
        if sig in _ICC_KEEP_TAGS and p[off : off + 4] in _ICC_KEEP_TYPES
    ]
    names = {sig for sig, _, _ in kept}
    matrix = {b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC"} <= names
    usable = (
        b"A2B0" in names
        or (info["space"] == b"RGB " and matrix)
        or (info["space"] == b"GRAY" and b"kTRC" in names)
    )
    if not usable or _is_srgb(p, info):
        return None
    v4 = info["version"][0] >= 4
    entries: list[tuple[bytes, bytes]] = [
        (b"desc", _icc_desc_tag(_icc_space_name(p, info), v4)),
        (b"cprt", _icc_text_tag("CC0", v4)),
    ]
    for sig, off, size in sorted(kept):
        body = bytearray(p[off : off + size])
        body[4:8] = bytes(4)
        entries.append((sig, bytes(body)))
    table = bytearray()
    data = bytearray()
    start = 128 + 4 + 12 * len(entries)
    placed: dict[bytes, int] = {}
    for sig, body in entries:
        if body not in placed:
            placed[body] = start + len(data)
            data += body + bytes(-len(body) % 4)
        table += sig + struct.pack(">II", placed[body], len(body))
    out = bytearray(128)
    out[8:12] = info["version"]
    out[12:16] = info["class"]
    out[16:20] = info["space"]
    out[20:24] = info["pcs"]
    out[36:40] = b"acsp"
    out[64:68] = struct.pack(">I", info["intent"] if info["intent"] <= 3 else 0)
    out[68:80] = info["illuminant"]
    out += struct.pack(">I", len(entries)) + table + data
    out[0:4] = struct.pack(">I", len(out))
    return bytes(out)


def _icc_items(p: bytes, location: str, size: int, col: _Collector) -> None:
    try:
        info = _icc_parse(p)
    except _Malformed as exc:
        col.add("icc", location, size, {"error": str(exc)})
        col.warn(f"{location}: unreadable ICC profile ({exc})")
        return
    tags = info["tags"]

    def text(sig: bytes) -> str | None:
        return _icc_text(p, *tags[sig]) if sig in tags else None

    date = info["date"]
    details = {
        "name": _icc_space_name(p, info),
        "description": text(b"desc"),
        "copyright": text(b"cprt"),
        "device_maker": text(b"dmnd") or _sig(info["manufacturer"]),
        "device_model": text(b"dmdd") or _sig(info["model"]),
        "created": "%04d-%02d-%02d %02d:%02d:%02d" % date if any(date) else None,
        "cmm": _sig(info["cmm"]),
        "creator": _sig(info["creator"]),
        "platform": _sig(info["platform"]),
        "profile_id": info["id"].hex() if any(info["id"]) else None,
        "version": f"{info['version'][0]}.{info['version'][1] >> 4}",
        "tags": [s.decode("latin-1") for s in tags][:40],
    }
    sensitive = clean_icc_profile(p) != p
    col.add("icc", location, size, details, sensitive=sensitive)


# -- trailers -------------------------------------------------------------------


def _trailer_item(tail: bytes, location: str, col: _Collector) -> None:
    if not tail:
        return
    head = tail[:64]
    if not tail.strip(b"\0"):
        what = "zero padding"
    elif b"\xff\xd8\xff" in head:
        what = "JPEG image (MPF secondary image, gain map or preview)"
    elif b"ftyp" in head or b"ftypmp4" in tail[:4096] or b"ftypisom" in tail[:4096]:
        what = "MP4 video (motion photo)"
    elif b"IDAT" in tail[:1 << 20] or b"IEND" in tail[-64:]:
        what = "PNG data (leftover of an overwritten larger image)"
    elif b"SEFH" in tail[-64:] or b"SEFT" in tail[-64:]:
        what = "Samsung trailer"
    elif tail[:4] == b"\x00\x00\x00\x00" and b"mdat" in head:
        what = "video data"
    else:
        what = "unknown data"
    col.add("trailer", location, len(tail), {"content": what, "starts": _bytes_text(head[:16], 16)})


# ---------------------------------------------------------------------------
# JPEG
# ---------------------------------------------------------------------------

_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_KEEP = _SOF | {0xC4, 0xCC, 0xDB, 0xDD, 0xDC, 0xDE, 0xDF, 0xDA}
_SCAN_END = re.compile(rb"\xff+[^\x00\xd0-\xd7\xff]")
_EXIF_ID, _XMP_ID, _XMP_EXT_ID = b"Exif\0", b"http://ns.adobe.com/xap/1.0/\0", b"http://ns.adobe.com/xmp/extension/\0"


@dataclass
class _Seg:
    marker: int
    start: int  # offset of the marker
    end: int  # offset after the segment (after the entropy-coded data for SOS)
    body_end: int  # end of the marker segment itself (SOS: end of its header)

    def body(self, d: bytes) -> bytes:
        return d[self.start + 4 : self.body_end]


@dataclass
class _JpegLayout:
    segs: list[_Seg]
    end: int  # offset after EOI (or where the data stopped)
    has_eoi: bool
    stray: int  # bytes outside segments before EOI
    fatal: str | None  # the image data is damaged


def _jpeg_layout(d: bytes) -> _JpegLayout:
    n, pos = len(d), 2
    segs: list[_Seg] = []
    stray = 0
    while pos < n:
        if d[pos] != 0xFF:
            nxt = d.find(b"\xff", pos)
            nxt = n if nxt < 0 else nxt
            stray += nxt - pos
            pos = nxt
            continue
        while pos + 1 < n and d[pos + 1] == 0xFF:
            pos += 1
        if pos + 1 >= n:
            break
        m = d[pos + 1]
        if m == 0xD9:
            segs.append(_Seg(m, pos, pos + 2, pos + 2))
            return _JpegLayout(segs, pos + 2, True, stray, None)
        if m == 0x00 or 0xD0 <= m <= 0xD7 or m == 0x01 or m == 0xD8:
            stray += 2
            pos += 2
            continue
        if pos + 4 > n:
            return _JpegLayout(segs, n, False, stray, f"truncated at offset {pos} (inside a marker)")
        length = _u16be(d, pos + 2)
        end = pos + 2 + length
        if length < 2 or end > n:
            what = f"segment 0x{m:02X} at offset {pos} declares {length} bytes"
            return _JpegLayout(segs, n, False, stray, f"{what}, past the end of the file ({n} bytes)")
        if m == 0xDA:
            found = _SCAN_END.search(d, end)
            stop = found.end() - 2 if found else n
            data_end = found.start() if found else n
            segs.append(_Seg(m, pos, data_end, end))
            if not found:
                return _JpegLayout(segs, n, False, stray, None)
            pos = stop
            continue
        segs.append(_Seg(m, pos, end, end))
        pos = end
    return _JpegLayout(segs, n, False, stray, None)


def _inspect_jpeg(d: bytes, col: _Collector) -> _JpegLayout:
    lay = _jpeg_layout(d)
    if lay.fatal:
        col.warn(f"damaged JPEG: {lay.fatal}")
    icc_parts: list[tuple[int, bytes]] = []
    icc_size = 0
    for s in lay.segs:
        m = s.marker
        if not (0xE0 <= m <= 0xEF or m == 0xFE):
            continue
        body = s.body(d)
        size = s.body_end - s.start
        loc = f"APP{m - 0xE0}" if m != 0xFE else "COM"
        if m == 0xFE:
            col.add("comment", loc, size, {"text": _bytes_text(body, 200)})
        elif m == 0xE0 and body[:5] == b"JFIF\0" and len(body) >= 14:
            units, xd, yd, tw, th = body[7], _u16be(body, 8), _u16be(body, 10), body[12], body[13]
            col.add("jfif", loc, size, {"version": f"{body[5]}.{body[6]:02d}", "density": f"{xd}x{yd} u{units}"}, False)
            if tw and th:
                col.add("jfif-thumbnail", loc, 3 * tw * th, {"size": f"{tw}x{th}"})
        elif m == 0xE0 and body[:5] == b"JFXX\0":
            col.add("jfif-thumbnail", f"{loc} JFXX", size)
        elif m == 0xE1 and body.startswith(_EXIF_ID):
            _exif_items(body[6:], loc, size, col)
        elif m == 0xE1 and body.startswith(_XMP_ID):
            _xmp_items(body[len(_XMP_ID) :], loc, size, col)
        elif m == 0xE1 and body.startswith(_XMP_EXT_ID):
            _xmp_items(body[len(_XMP_EXT_ID) + 40 :], f"{loc} extended XMP", size, col)
        elif m == 0xE2 and body.startswith(b"ICC_PROFILE\0") and len(body) >= 14:
            icc_parts.append((body[12], body[14:]))
            icc_size += size
        elif m == 0xE2 and body.startswith(b"MPF\0"):
            col.add("mpf", loc, size, {"note": "index of secondary images stored after EOI"})
        elif m == 0xED and (body.startswith(b"Photoshop 3.0\0") or body.startswith(b"Adobe_Photoshop2.5:")):
            _photoshop_items(body[body.index(b"\0") + 1 if b"\0" in body[:20] else 19 :], loc, size, col)
        elif m == 0xEB and body[:2] == b"JP":
            col.add("jumbf", loc, size, {"c2pa": b"c2pa" in body[:256]})
        elif m == 0xEE and body.startswith(b"Adobe") and len(body) >= 12:
            col.add("adobe", loc, size, {"transform": body[11]}, sensitive=False)
        else:
            ident = body[:32].split(b"\0", 1)[0]
            col.add("app-segment", loc, size, {"id": _bytes_text(ident, 32) if ident else None})
    if icc_parts:
        profile = b"".join(part for _, part in sorted(icc_parts, key=lambda x: x[0]))
        _icc_items(profile, "APP2 ICC_PROFILE", icc_size, col)
    if lay.stray:
        col.add("stray-bytes", "between segments", lay.stray)
    _trailer_item(d[lay.end :] if lay.has_eoi else b"", "after EOI", col)
    return lay


def _jpeg_icc(d: bytes, lay: _JpegLayout) -> bytes | None:
    parts = []
    for s in lay.segs:
        if s.marker == 0xE2:
            body = s.body(d)
            if body.startswith(b"ICC_PROFILE\0") and len(body) >= 14:
                parts.append((body[12], body[14:]))
    return b"".join(p for _, p in sorted(parts, key=lambda x: x[0])) or None


_JFIF_CANON = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def _app_segment(marker: int, body: bytes) -> bytes:
    if len(body) + 2 > 0xFFFF:
        raise MetadataError("segment too large")
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def _rewrite_jpeg(d: bytes, lay: _JpegLayout, orientation: int | None, icc: bytes | None) -> tuple[bytes, list[str]]:
    notes: list[str] = []
    out = [b"\xff\xd8"]
    bodies = [(s.marker, s.body(d)) for s in lay.segs]
    if any(m == 0xE0 and b[:5] == b"JFIF\0" for m, b in bodies):
        out.append(_JFIF_CANON)
    if orientation:
        out.append(_app_segment(0xE1, orientation_exif(orientation)))
    if icc:
        chunk = 65519
        parts = [icc[i : i + chunk] for i in range(0, len(icc), chunk)]
        if len(parts) > 255:
            raise MetadataError("ICC profile too large for JPEG")
        for i, part in enumerate(parts):
            out.append(_app_segment(0xE2, b"ICC_PROFILE\0" + bytes([i + 1, len(parts)]) + part))
    adobe = next((b for m, b in bodies if m == 0xEE and b.startswith(b"Adobe") and len(b) >= 12), None)
    if adobe is not None:
        out.append(_app_segment(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, adobe[11])))
    for s in lay.segs:
        if s.marker in _JPEG_KEEP:
            out.append(d[s.start : s.end])
    out.append(b"\xff\xd9")
    if not lay.has_eoi:
        notes.append("the end-of-image marker was missing and has been added")
    return b"".join(out), notes


# ---------------------------------------------------------------------------
# PNG
# ---------------------------------------------------------------------------

_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_PNG_KEEP = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"acTL", b"fcTL", b"fdAT"})
_PNG_COLOUR = {b"gAMA": 4, b"cHRM": 32, b"sRGB": 1, b"cICP": 4}
_PNG_HARMLESS = frozenset(
    {b"pHYs", b"bKGD", b"sBIT", b"hIST", b"sPLT", b"oFFs", b"pCAL", b"sCAL", b"sTER", b"mDCv", b"cLLi", b"tIME"}
)


@dataclass
class _Chunk:
    type: bytes
    start: int
    end: int  # after the CRC
    data: bytes


def _png_chunks(d: bytes) -> tuple[list[_Chunk], int, bool, str | None]:
    """Chunks, the offset after IEND, whether IEND was found, and a fatal problem."""
    pos, n = 8, len(d)
    chunks: list[_Chunk] = []
    while pos + 12 <= n:
        length = _u32be(d, pos)
        ctype = d[pos + 4 : pos + 8]
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > n:
            return chunks, n, False, f"chunk {ctype!r} at offset {pos} declares {length} bytes, past the end"
        if not ctype.isalpha():
            return chunks, n, False, f"invalid chunk type {ctype!r} at offset {pos}"
        chunks.append(_Chunk(ctype, pos, end, d[pos + 8 : pos + 8 + length]))
        pos = end
        if ctype == b"IEND":
            return chunks, pos, True, None
    return chunks, n, False, "truncated: no IEND chunk"


def _inflate(data: bytes, limit: int = _INFLATE_LIMIT) -> bytes:
    z = zlib.decompressobj()
    out = z.decompress(data, limit)
    if z.unconsumed_tail:
        raise _Malformed(f"decompresses to more than {limit:,} bytes")
    return out


def _raw_profile(text: bytes) -> bytes:
    """The bytes of an ImageMagick 'Raw profile type ...' text chunk (hex after two header lines)."""
    lines = text.strip().split(b"\n")
    return bytes.fromhex(b"".join(lines[2:]).decode("ascii"))


def _png_text_item(ctype: bytes, data: bytes, col: _Collector) -> None:
    loc = ctype.decode("latin-1")
    keyword, _, rest = data.partition(b"\0")
    kw = keyword.decode("latin-1")[:79]
    try:
        if ctype == b"zTXt":
            value = _inflate(rest[1:])
        elif ctype == b"iTXt":
            flag = rest[:1] == b"\x01"
            rest = rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _tkw, _, rest = rest.partition(b"\0")
            value = _inflate(rest) if flag else rest
        else:
            value = rest
    except (zlib.error, _Malformed) as exc:
        col.add("png-text", f"{loc} {kw}", len(data) + 12, {"error": str(exc)})
        col.warn(f"{loc} {kw}: {exc}")
        return
    size = len(data) + 12
    low = kw.lower()
    try:
        if kw == "XML:com.adobe.xmp" or low == "raw profile type xmp":
            _xmp_items(_raw_profile(value) if low.startswith("raw") else value, f"{loc} {kw}", size, col)
            return
        if low in ("raw profile type exif", "raw profile type app1"):
            raw = _raw_profile(value)
            _exif_items(raw[6:] if raw.startswith(_EXIF_ID) else raw, f"{loc} {kw}", size, col)
            return
        if low in ("raw profile type iptc", "raw profile type 8bim"):
            raw = _raw_profile(value)
            if raw.startswith(b"8BIM"):
                _photoshop_items(raw, f"{loc} {kw}", size, col)
            else:
                col.add("iptc", f"{loc} {kw}", size, _iptc_fields(raw, []))
            return
        if low in ("raw profile type icc", "raw profile type icm"):
            _icc_items(_raw_profile(value), f"{loc} {kw}", size, col)
            return
    except (ValueError, IndexError) as exc:
        col.warn(f"{loc} {kw}: unreadable raw profile ({exc})")
    col.add("png-text", loc, size, {"keyword": kw, "text": _bytes_text(value, 120)})


def _inspect_png(d: bytes, col: _Collector) -> tuple[list[_Chunk], int, bool, str | None]:
    chunks, end, has_iend, fatal = _png_chunks(d)
    if fatal:
        col.warn(f"damaged PNG: {fatal}")
    for c in chunks:
        t, size, loc = c.type, c.end - c.start, c.type.decode("latin-1")
        if t in _PNG_KEEP:
            continue
        if t in (b"tEXt", b"zTXt", b"iTXt"):
            _png_text_item(t, c.data, col)
        elif t == b"eXIf":
            _exif_items(c.data[6:] if c.data.startswith(_EXIF_ID) else c.data, loc, size, col)
        elif t == b"iCCP":
            name, _, rest = c.data.partition(b"\0")
            try:
                _icc_items(_inflate(rest[1:]), f"iCCP {name.decode('latin-1')[:40]}", size, col)
            except (zlib.error, _Malformed) as exc:
                col.add("icc", loc, size, {"error": str(exc)})
                col.warn(f"iCCP: {exc}")
        elif t == b"tIME" and len(c.data) == 7:
            y, mo, dd, h, mi, s = struct.unpack(">HBBBBB", c.data)
            col.add("png-time", loc, size, {"modified": f"{y:04d}-{mo:02d}-{dd:02d} {h:02d}:{mi:02d}:{s:02d}"})
        elif t in _PNG_COLOUR:
            col.add("colour", loc, size, {"bytes": len(c.data)}, sensitive=len(c.data) != _PNG_COLOUR[t])
        elif t == b"caBX":
            col.add("jumbf", loc, size, {"c2pa": True})
        else:
            col.add("png-chunk", loc, size, {"type": loc, "private": t[:1].islower() and t not in _PNG_HARMLESS})
    if has_iend:
        _trailer_item(d[end:], "after IEND", col)
    return chunks, end, has_iend, fatal


def _png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def _zlib_extra(stream: bytes) -> int | None:
    """Bytes after the end of the zlib stream (None when the stream is damaged or unfinished)."""
    z = zlib.decompressobj()
    pos, step = 0, 1 << 20
    try:
        while not z.eof:
            if z.unconsumed_tail:
                z.decompress(z.unconsumed_tail, step)
                continue
            if pos >= len(stream):
                return None
            z.decompress(stream[pos : pos + step], step)
            pos += step
    except zlib.error:
        return None
    return len(z.unused_data) + len(stream) - min(pos, len(stream))


def _rewrite_png(
    chunks: list[_Chunk], orientation: int | None, icc: bytes | None
) -> tuple[bytes, list[str], int]:
    notes: list[str] = []
    idat = b"".join(c.data for c in chunks if c.type == b"IDAT")
    extra = _zlib_extra(idat)
    if extra is None:
        raise CorruptImageError("damaged PNG image data (the zlib stream is broken or unfinished)")
    if extra:
        notes.append(f"{extra} bytes hidden after the end of the image data removed")
    out = [_PNG_SIG]
    wrote_idat = False
    for c in chunks:
        if c.type == b"iCCP":
            if icc:
                out.append(_png_chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(icc, 9)))
                icc = None
            continue
        if c.type in _PNG_COLOUR:
            if len(c.data) == _PNG_COLOUR[c.type]:
                out.append(_png_chunk(c.type, c.data))
            continue
        if c.type not in _PNG_KEEP:
            continue
        if c.type == b"IDAT":
            if wrote_idat:
                continue
            if orientation:
                out.append(_png_chunk(b"eXIf", orientation_exif(orientation)[6:]))
            body = idat[: len(idat) - extra]
            out += [_png_chunk(b"IDAT", body[i : i + (1 << 20)]) for i in range(0, len(body), 1 << 20)]
            wrote_idat = True
            continue
        out.append(_png_chunk(c.type, c.data))
    return b"".join(out), notes, extra


# ---------------------------------------------------------------------------
# WebP (RIFF)
# ---------------------------------------------------------------------------


@dataclass
class _Riff:
    chunks: list[tuple[bytes, int, int, bytes]]  # fourcc, start, end, data
    end: int
    fatal: str | None


def _riff_chunks(d: bytes, start: int, end: int) -> tuple[list[tuple[bytes, int, int, bytes]], str | None]:
    pos, chunks = start, []
    while pos + 8 <= end:
        fourcc, size = d[pos : pos + 4], _u32le(d, pos + 4)
        stop = pos + 8 + size
        if stop > end:
            return chunks, f"chunk {fourcc!r} at offset {pos} declares {size} bytes, past the end"
        chunks.append((fourcc, pos, stop + (size & 1), d[pos + 8 : stop]))
        pos = stop + (size & 1)
    return chunks, None


def _webp_layout(d: bytes) -> _Riff:
    size = _u32le(d, 4)
    end = 8 + size
    fatal = None
    if end > len(d):
        fatal = f"RIFF size {size} runs past the end of the file ({len(d)} bytes)"
        end = len(d)
    chunks, problem = _riff_chunks(d, 12, end)
    return _Riff(chunks, end, fatal or problem)


def _inspect_webp(d: bytes, col: _Collector) -> _Riff:
    lay = _webp_layout(d)
    if lay.fatal:
        col.warn(f"damaged WebP: {lay.fatal}")
    for fourcc, start, end, data in lay.chunks:
        loc, size = f"{fourcc.decode('latin-1').strip()} chunk", end - start
        if fourcc == b"EXIF":
            _exif_items(data[6:] if data.startswith(_EXIF_ID) else data, loc, size, col)
        elif fourcc == b"XMP ":
            _xmp_items(data, loc, size, col)
        elif fourcc == b"ICCP":
            _icc_items(data, loc, size, col)
        elif fourcc == b"ANMF":
            subs, _ = _riff_chunks(data, 16, len(data))
            for sub, s0, s1, _ in subs:
                if sub not in (b"ALPH", b"VP8 ", b"VP8L"):
                    col.add("riff-chunk", f"ANMF > {sub.decode('latin-1')}", s1 - s0)
        elif fourcc not in (b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM"):
            col.add("riff-chunk", loc, size, {"type": fourcc.decode("latin-1")})
    _trailer_item(d[lay.end :], "after RIFF end", col)
    return lay


def _webp_is_lossy(d: bytes) -> bool:
    for fourcc, _, _, data in _webp_layout(d).chunks:
        if fourcc == b"VP8 ":
            return True
        if fourcc == b"ANMF" and any(s == b"VP8 " for s, _, _, _ in _riff_chunks(data, 16, len(data))[0]):
            return True
    return False


def _riff_chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


def _rewrite_webp(d: bytes, lay: _Riff, orientation: int | None, icc: bytes | None) -> bytes:
    by = [(c[0], c[3]) for c in lay.chunks]
    vp8x = next((data for fourcc, data in by if fourcc == b"VP8X"), None)
    body: list[bytes] = []
    if vp8x is None:
        bit = next(((f, x) for f, x in by if f in (b"VP8 ", b"VP8L")), None)
        if bit is None:
            raise CorruptImageError("WebP file without image data")
        if orientation or icc:
            raise MetadataError("simple WebP files cannot carry an orientation or profile")  # never: no source
        body.append(_riff_chunk(*bit))
    else:
        if len(vp8x) < 10:
            raise CorruptImageError("damaged WebP VP8X chunk")
        flags = vp8x[0] & 0x12  # keep the alpha and animation bits, recompute the others
        if icc:
            flags |= 0x20
        if orientation:
            flags |= 0x08
        body.append(_riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + vp8x[4:10]))
        if icc:
            body.append(_riff_chunk(b"ICCP", icc))
        for fourcc, data in by:
            if fourcc == b"ANIM":
                body.append(_riff_chunk(fourcc, data))
            elif fourcc == b"ANMF":
                subs, _ = _riff_chunks(data, 16, len(data))
                frame = data[:16] + b"".join(
                    _riff_chunk(s, x) for s, _, _, x in subs if s in (b"ALPH", b"VP8 ", b"VP8L")
                )
                body.append(_riff_chunk(b"ANMF", frame))
            elif fourcc in (b"ALPH", b"VP8 ", b"VP8L"):
                body.append(_riff_chunk(fourcc, data))
        if orientation:
            body.append(_riff_chunk(b"EXIF", orientation_exif(orientation)[6:]))
    payload = b"WEBP" + b"".join(body)
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


# ---------------------------------------------------------------------------
# GIF
# ---------------------------------------------------------------------------


@dataclass
class _GifLayout:
    head: bytes  # header, screen descriptor, global colour table
    blocks: list[tuple[str, bytes, bytes]]  # (kind, label/ident, raw bytes)
    end: int
    has_trailer: bool
    fatal: str | None


def _gif_subblocks(d: bytes, pos: int) -> int:
    """Offset after a run of data sub-blocks (raises _Malformed when truncated)."""
    n = len(d)
    while True:
        if pos >= n:
            raise _Malformed("truncated data sub-blocks")
        size = d[pos]
        pos += 1
        if size == 0:
            return pos
        pos += size


def _gif_layout(d: bytes) -> _GifLayout:
    n = len(d)
    if n < 13:
        return _GifLayout(d, [], n, False, "truncated header")
    flags = d[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    head = d[:pos]
    blocks: list[tuple[str, bytes, bytes]] = []
    try:
        while pos < n:
            b = d[pos]
            if b == 0x3B:
                return _GifLayout(head, blocks, pos + 1, True, None)
            if b == 0x21 and pos + 1 < n:
                label = d[pos + 1]
                ident = b""
                if label == 0xFF and pos + 2 < n:
                    ident = d[pos + 3 : pos + 3 + d[pos + 2]]
                end = _gif_subblocks(d, pos + 2)
                kind = {0xF9: "gce", 0xFE: "comment", 0x01: "text", 0xFF: "app"}.get(label, "ext")
                blocks.append((kind, ident if label == 0xFF else bytes([label]), d[pos:end]))
                pos = end
            elif b == 0x2C:
                if pos + 10 > n:
                    raise _Malformed("truncated image descriptor")
                lflags = d[pos + 9]
                q = pos + 10 + (3 * (2 << (lflags & 7)) if lflags & 0x80 else 0)
                end = _gif_subblocks(d, q + 1)
                blocks.append(("image", b"", d[pos:end]))
                pos = end
            else:
                raise _Malformed(f"unknown block 0x{b:02X} at offset {pos}")
    except _Malformed as exc:
        if any(k == "image" for k, _, _ in blocks):
            return _GifLayout(head, blocks, pos, False, None)
        return _GifLayout(head, blocks, n, False, str(exc))
    return _GifLayout(head, blocks, n, False, None)


def _inspect_gif(d: bytes, col: _Collector) -> _GifLayout:
    lay = _gif_layout(d)
    if lay.fatal:
        col.warn(f"damaged GIF: {lay.fatal}")
    for kind, ident, raw in lay.blocks:
        if kind == "comment":
            text = b"".join(_gif_payload(raw[2:]))
            col.add("comment", "comment extension", len(raw), {"text": _bytes_text(text, 200)})
        elif kind == "app" and ident in (b"NETSCAPE2.0", b"ANIMEXTS1.0"):
            continue
        elif kind == "app" and ident == b"XMP DataXMP":
            x = raw[14:]
            x = x[: x.find(b"\x01\xff\xfe")] if b"\x01\xff\xfe" in x else x
            _xmp_items(x, "XMP application extension", len(raw), col)
        elif kind == "app" and ident.startswith(b"ICCRGBG1"):
            _icc_items(b"".join(_gif_payload(raw[14:])), "ICC application extension", len(raw), col)
        elif kind in ("app", "text", "ext"):
            what = {"text": "plain-text extension", "ext": "unknown extension"}.get(kind, "application extension")
            col.add("gif-extension", what, len(raw), {"id": _bytes_text(ident, 16) if kind == "app" else None})
    if lay.has_trailer:
        _trailer_item(d[lay.end :], "after GIF trailer", col)
    return lay


def _gif_payload(d: bytes) -> Iterable[bytes]:
    pos = 0
    while pos < len(d) and d[pos]:
        yield d[pos + 1 : pos + 1 + d[pos]]
        pos += 1 + d[pos]


def _rewrite_gif(lay: _GifLayout) -> bytes:
    out = [lay.head]
    pending: bytes | None = None
    for kind, ident, raw in lay.blocks:
        if kind == "gce":
            pending = raw[:8] if len(raw) >= 8 and raw[2] == 4 else None
            if pending is not None:
                pending = pending[:7] + b"\0"
        elif kind == "app" and ident in (b"NETSCAPE2.0", b"ANIMEXTS1.0"):
            sub = next(iter(_gif_payload(raw[14:])), b"")
            if len(sub) >= 3 and sub[0] == 1:
                out.append(b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + sub[1:3] + b"\x00")
        elif kind == "image":
            if pending:
                out.append(pending)
            pending = None
            out.append(raw)
        elif kind == "text":
            pending = None  # its graphic control belonged to the dropped text
    out.append(b"\x3b")
    return b"".join(out)


# ---------------------------------------------------------------------------
# TIFF files, BMP, HEIF/AVIF (inspected through their tags or Pillow)
# ---------------------------------------------------------------------------


def _inspect_tiff(d: bytes, col: _Collector) -> None:
    try:
        t = _Tiff(d)
    except _Malformed as exc:
        col.warn(f"damaged TIFF: {exc}")
        return
    _exif_items(d, "IFD0", 0, col, tiff_file=True)
    problems: list[str] = []
    ifds = _load_ifds(t, t.first, chain=True, problems=problems)
    for ent in ifds.get("IFD0", []):
        loc = f"IFD0 tag {ent.tag}"
        raw = ent.raw or b""
        if ent.tag == 700:
            _xmp_items(raw, "IFD0 XMP (700)", len(raw), col)
        elif ent.tag == 33723:
            col.add("iptc", "IFD0 IPTC (33723)", len(raw), _iptc_fields(raw, problems))
        elif ent.tag == 34377:
            _photoshop_items(raw, "IFD0 Photoshop (34377)", len(raw), col)
        elif ent.tag == 34675:
            _icc_items(raw, "IFD0 ICC (34675)", len(raw), col)
        elif ent.tag == 330:
            col.add("thumbnail-page", f"{loc} SubIFDs", 0, {"count": ent.count})
    for name, entries in ifds.items():
        if name in ("IFD0", "ExifIFD", "GPS", "Interop"):
            continue
        byid = {e.tag: e for e in entries}
        sub = t.value(byid[254]) if 254 in byid else 0
        if isinstance(sub, int) and sub & 1:
            counts = t.value(byid[279]) if 279 in byid else t.value(byid[325]) if 325 in byid else 0
            size = sum(counts) if isinstance(counts, list) else int(counts or 0)
            col.add("thumbnail-page", name, size, {"note": "reduced-resolution copy of the image"})


def _inspect_pillow_info(d: bytes, fmt: str, name: str, col: _Collector) -> Image.Image | None:
    """Metadata Pillow (or pillow-heif) exposes, for containers parsed no further here."""
    try:
        im = _open_image(d, fmt, name, None)
    except MissingDependencyError:
        raise
    except ImageError as exc:
        col.warn(str(exc))
        return None
    info = im.info
    exif = info.get("exif")
    if exif:
        exif = bytes(exif)
        _exif_items(exif[6:] if exif.startswith(_EXIF_ID) else exif, "EXIF", len(exif), col)
    xmp = info.get("xmp")
    if xmp:
        xmp = xmp.encode("utf-8") if isinstance(xmp, str) else bytes(xmp)
        _xmp_items(xmp, "XMP", len(xmp), col)
    icc = info.get("icc_profile")
    if icc:
        _icc_items(bytes(icc), "ICC profile", len(icc), col)
    for i, t in enumerate(info.get("thumbnails") or []):
        col.add("heif-thumbnail", f"thumbnail {i + 1}", 0, {"size": t})
    for key in ("depth_images", "aux"):
        value = info.get(key)
        if value:
            col.add("auxiliary-image", key, 0, {"count": len(value)})
    for meta in info.get("metadata") or []:
        col.add("heif-metadata", str(meta.get("type", "?")), len(meta.get("data") or b""))
    n = int(getattr(im, "n_frames", 1) or 1)
    if fmt == "HEIF" and n > 1:
        col.add("secondary-image", "top-level images", 0, {"count": n - 1})
    return im


def _inspect_isobmff_tail(d: bytes, col: _Collector) -> None:
    pos, n = 0, len(d)
    while pos + 8 <= n:
        size = _u32be(d, pos)
        if size == 1 and pos + 16 <= n:
            size = int.from_bytes(d[pos + 8 : pos + 16], "big")
        elif size == 0:
            return
        if size < 8 or pos + size > n:
            col.warn(f"box {d[pos + 4 : pos + 8]!r} at offset {pos} runs past the end")
            return
        pos += size
    _trailer_item(d[pos:], "after the last box", col)


# ---------------------------------------------------------------------------
# inspect
# ---------------------------------------------------------------------------


def inspect(src: MetadataSource) -> MetadataReport:
    """List the metadata a file carries.

    Parameters
    ----------
    src : path, bytes or binary file object
        A JPEG, PNG, WebP, GIF, TIFF, BMP, HEIF/HEIC (``heif`` extra) or AVIF file.

    Returns
    -------
    MetadataReport
        The items found; damaged metadata shows up in ``warnings``.

    Raises
    ------
    UnsupportedImageError
        Not an image file minface reads.

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> exif = Image.Exif(); exif[0x8298] = "(c) Bob"
    >>> Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(buf, "PNG", exif=exif)
    >>> report = inspect(buf.getvalue())
    >>> report.format, [(i.kind, i.location, i.details["Copyright"]) for i in report.items]
    ('PNG', [('exif', 'eXIf', '(c) Bob')])
    """
    data, name = _read_source(src)
    return _inspect_bytes(data, name)


def _inspect_bytes(d: bytes, name: str) -> MetadataReport:
    fmt = sniff_format(d)
    if fmt is None:
        raise UnsupportedImageError(f"{name}: not a recognised image format (starts with {d[:8]!r})")
    col = _Collector()
    im: Image.Image | None = None
    try:
        if fmt == "JPEG":
            _inspect_jpeg(d, col)
        elif fmt == "PNG":
            _inspect_png(d, col)
        elif fmt == "WEBP":
            _inspect_webp(d, col)
        elif fmt == "GIF":
            _inspect_gif(d, col)
        elif fmt == "TIFF":
            _inspect_tiff(d, col)
        elif fmt in ("HEIF", "AVIF"):
            im = _inspect_pillow_info(d, fmt, name, col)
            _inspect_isobmff_tail(d, col)
        elif fmt == "BMP":
            im = _inspect_pillow_info(d, fmt, name, col)
            declared = _u32le(d, 2)
            if 26 <= declared < len(d):
                _trailer_item(d[declared:], "after the declared file size", col)
    except (MissingDependencyError, UnsupportedImageError):
        raise
    except Exception as exc:  # a parser bug on hostile input must not hide the rest
        col.warn(f"metadata parsing stopped: {type(exc).__name__}: {exc}")
    size, orientation = None, 1
    try:
        if im is None:
            im = _open_image(d, fmt, name, None)
        size = im.size
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            orientation = _images.read_orientation(im)
    except MissingDependencyError:
        if fmt == "HEIF":
            col.warn("HEIF image details need pillow-heif: pip install 'minface[heif]'")
    except ImageError as exc:
        col.warn(str(exc))
    finally:
        if im is not None:
            im.close()
    return MetadataReport(name, fmt, len(d), size, orientation, tuple(col.items), tuple(col.warnings))


# ---------------------------------------------------------------------------
# strip
# ---------------------------------------------------------------------------


def orientation_exif(orientation: int) -> bytes:
    """A minimal EXIF block (with its ``Exif\\0\\0`` header) holding only the Orientation tag.

    >>> data = orientation_exif(6)
    >>> len(data), data[:6]
    (32, b'Exif\\x00\\x00')
    """
    if not 1 <= int(orientation) <= 8:
        raise ValueError(f"orientation must be 1-8, got {orientation}")
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", _ORIENTATION, 3, 1, int(orientation), 0) + bytes(4)
    return b"Exif\0\0" + b"MM\0\x2a" + struct.pack(">I", 8) + ifd


IccPolicy = Literal["clean", "drop"]


def strip_bytes(
    data: bytes,
    *,
    keep_orientation: bool = True,
    icc: IccPolicy = "clean",
    verify: bool = True,
    max_pixels: int | None = _images.DEFAULT_MAX_PIXELS,
    quality: int = 90,
    name: str = "<bytes>",
) -> tuple[bytes, StripReport]:
    """Remove all metadata from the bytes of an image file.

    See the module documentation for what is kept per format, and :func:`strip`
    for the parameters.

    Returns
    -------
    bytes, StripReport
        The clean file and what was done.

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> exif = Image.Exif(); exif[0x0112] = 6; exif[0x013B] = "Alice"
    >>> Image.fromarray(np.zeros((4, 8, 3), np.uint8)).save(buf, "PNG", exif=exif)
    >>> out, report = strip_bytes(buf.getvalue())
    >>> report.method, report.orientation_handling, sorted(report.removed_kinds)
    ('lossless', 'tag', ['exif'])
    >>> inspect(out).items[0].details
    {'Orientation': 6}
    """
    if icc not in ("clean", "drop"):
        raise ValueError(f"icc must be 'clean' or 'drop', got {icc!r}")
    d = bytes(data)
    if not d:
        raise UnsupportedImageError(f"{name}: empty input (0 bytes)")
    return _strip(d, name, keep_orientation, icc, verify, max_pixels, quality)


def strip(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    keep_orientation: bool = True,
    icc: IccPolicy = "clean",
    in_place: bool = False,
    verify: bool = True,
    max_pixels: int | None = _images.DEFAULT_MAX_PIXELS,
    quality: int = 90,
) -> StripReport:
    """Write a copy of ``src`` without metadata to ``dst``.

    Parameters
    ----------
    src : path
        The image file; never modified unless ``in_place`` (and then only replaced
        atomically once the clean file is complete).
    dst : path
        Where to write; written atomically (temporary file in the same folder,
        fsync, rename). Its folder must exist.
    keep_orientation : bool
        True (default): keep a non-upright orientation as an EXIF block holding only
        the Orientation tag, so the rewrite stays lossless. False: apply it to the
        pixels (re-encoding JPEG and lossy WebP) and write no EXIF at all.
    icc : {"clean", "drop"}
        ``"clean"`` (default): replace the colour profile by a clean copy holding
        only its colour-defining tags (:func:`clean_icc_profile`); sRGB profiles
        are dropped. ``"drop"``: drop every profile.
    in_place : bool
        Allow ``dst`` to be ``src``.
    verify : bool
        Decode the output and compare its pixels with the source's (default).
        Lossless rewrites that do not decode identically are refused.
    max_pixels : int or None
        Decompression-bomb guard, as in :func:`minface.load_image`.
    quality : int
        Quality of lossy re-encodes (HEIF, AVIF, lossy WebP with the orientation
        applied). A JPEG re-encoded to apply its orientation reuses its own
        quantization tables and chroma subsampling instead.

    Returns
    -------
    StripReport

    Raises
    ------
    MetadataError
        ``dst`` is ``src`` without ``in_place=True``, or metadata would remain.
    UnsupportedImageError, CorruptImageError, DecompressionBombError
        The source cannot be read as an image.
    ImageWriteError
        The output cannot be written.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from PIL import Image
    >>> d = tempfile.mkdtemp()
    >>> src, dst = os.path.join(d, "in.jpg"), os.path.join(d, "out.jpg")
    >>> Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(src, comment=b"hello")
    >>> report = strip(src, dst)
    >>> sorted(report.removed_kinds), inspect(dst).clean
    (['comment'], True)
    """
    src_path, dst_path = Path(os.fspath(src)), Path(os.fspath(dst))
    same = src_path.resolve() == dst_path.resolve() or (
        dst_path.exists() and src_path.exists() and os.path.samefile(src_path, dst_path)
    )
    if same and not in_place:
        raise MetadataError(f"{dst}: the destination is the source; pass in_place=True to replace it")
    if icc not in ("clean", "drop"):
        raise ValueError(f"icc must be 'clean' or 'drop', got {icc!r}")
    data, name = _read_source(src_path)
    out, report = _strip(data, name, keep_orientation, icc, verify, max_pixels, quality)
    mode = None
    if same:
        mode = src_path.stat().st_mode & 0o7777
    _images.atomic_write(dst_path, out, mode=mode)
    return _replace_dst(report, os.fspath(dst_path))


def _replace_dst(report: StripReport, dst: str) -> StripReport:
    from dataclasses import replace

    return replace(report, destination=dst)


_LOSSLESS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})


def _strip(
    d: bytes,
    name: str,
    keep_orientation: bool,
    icc_policy: str,
    verify: bool,
    max_pixels: int | None,
    quality: int,
) -> tuple[bytes, StripReport]:
    fmt = sniff_format(d)
    if fmt is None:
        raise UnsupportedImageError(f"{name}: not a recognised image format (starts with {d[:8]!r})")
    before = _inspect_bytes(d, name)
    im = _open_image(d, fmt, name, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            orientation = _images.read_orientation(im)
        pil_icc = im.info.get("icc_profile")
    finally:
        im.close()
    notes: list[str] = []
    lossless = fmt in _LOSSLESS and (orientation == 1 or (keep_orientation and fmt != "GIF"))
    tag = orientation if (lossless and orientation != 1) else None

    frames: list[np.ndarray] = []
    if lossless:
        out, icc_state, more = _strip_lossless(d, fmt, name, tag, icc_policy)
        method = "lossless"
    else:
        out, icc_state, more, frames = _reencode(
            d, fmt, name, orientation, icc_policy, pil_icc, max_pixels, quality
        )
        method = "reencoded"
    notes += more

    identical: bool | None = None
    if verify:
        identical = _verify(d, out, fmt, name, frames if not lossless else None, tag or 1, max_pixels)
        if lossless and not identical:
            raise MetadataError(f"{name}: the stripped {fmt} does not decode to the same pixels; nothing written")
    after = _inspect_bytes(out, name)
    if after.sensitive:
        left = ", ".join(sorted({i.kind for i in after.sensitive}))
        raise MetadataError(f"{name}: metadata would remain after stripping ({left}); nothing written")
    kept_kinds = {i.kind for i in after.items}
    removed = [i for i in before.items if i.sensitive or i.kind not in kept_kinds]
    if fmt == "PNG" and lossless:
        extra = _zlib_extra(b"".join(c.data for c in _png_chunks(d)[0] if c.type == b"IDAT")) or 0
        if extra:
            removed.append(MetadataItem("stray-bytes", "IDAT after the zlib stream", extra))
    handling = "none" if orientation == 1 else ("tag" if tag else "applied")
    report = StripReport(
        source=name,
        destination=None,
        format=fmt,
        method=method,
        removed=tuple(removed),
        kept=tuple(after.items),
        bytes_in=len(d),
        bytes_out=len(out),
        orientation=orientation,
        orientation_handling=handling,
        icc=icc_state,
        pixels_identical=identical,
        notes=tuple(notes),
    )
    return out, report


def _icc_decision(profile: bytes | None, policy: str) -> tuple[bytes | None, str]:
    if not profile:
        return None, "none"
    if policy == "drop":
        return None, "dropped"
    clean = clean_icc_profile(profile)
    if clean is not None:
        return clean, "cleaned"
    try:
        info = _icc_parse(profile)
        if _is_srgb(profile, info):
            return None, "dropped-srgb"
    except _Malformed:
        pass
    return None, "dropped-unsupported"


def _strip_lossless(d: bytes, fmt: str, name: str, tag: int | None, policy: str) -> tuple[bytes, str, list[str]]:
    if fmt == "JPEG":
        lay = _jpeg_layout(d)
        if lay.fatal:
            raise CorruptImageError(f"{name}: damaged JPEG ({lay.fatal})")
        if not any(s.marker == 0xDA for s in lay.segs):
            raise CorruptImageError(f"{name}: JPEG without image data (no SOS segment)")
        icc, state = _icc_decision(_jpeg_icc(d, lay), policy)
        out, notes = _rewrite_jpeg(d, lay, tag, icc)
        return out, state, notes
    if fmt == "PNG":
        chunks, _end, has_iend, fatal = _png_chunks(d)
        if fatal or not has_iend:
            raise CorruptImageError(f"{name}: damaged PNG ({fatal})")
        profile = None
        for c in chunks:
            if c.type == b"iCCP":
                try:
                    profile = _inflate(c.data.partition(b"\0")[2][1:])
                except (zlib.error, _Malformed):
                    profile = b"damaged"
        icc, state = _icc_decision(profile, policy)
        out, notes, _extra = _rewrite_png(chunks, tag, icc)
        return out, state, notes
    if fmt == "WEBP":
        lay = _webp_layout(d)
        if lay.fatal:
            raise CorruptImageError(f"{name}: damaged WebP ({lay.fatal})")
        profile = next((c[3] for c in lay.chunks if c[0] == b"ICCP"), None)
        icc, state = _icc_decision(profile, policy)
        return _rewrite_webp(d, lay, tag, icc), state, []
    lay_g = _gif_layout(d)
    if lay_g.fatal:
        raise CorruptImageError(f"{name}: damaged GIF ({lay_g.fatal})")
    notes = [] if lay_g.has_trailer else ["the GIF trailer was missing and has been added"]
    state = "dropped" if any(k == "app" and i.startswith(b"ICCRGBG1") for k, i, _ in lay_g.blocks) else "none"
    return _rewrite_gif(lay_g), state, notes


def _frame_pixels(im: Image.Image) -> np.ndarray:
    """One frame as uint8: 2-D for grayscale, RGB or RGBA otherwise."""
    mode = im.mode
    if mode in ("L", "RGB", "RGBA"):
        return np.asarray(im)
    if mode == "1":
        return np.asarray(im.convert("L"))
    if mode.startswith("I;16") or mode in ("I", "F"):
        a = np.asarray(im)
        return _images._to_uint8(a, mode != "I" and mode != "F") if a.dtype != np.uint8 else a
    has_alpha = mode in ("LA", "La", "PA", "RGBa") or (mode == "P" and "transparency" in im.info)
    return np.asarray(im.convert("RGBA" if has_alpha else "RGB"))


def _decode_frames(d: bytes, fmt: str, name: str, max_pixels: int | None):
    """Upright frames, their durations, the loop count, notes, JPEG tables and subsampling.

    The orientation is read after decoding: Pillow turns TIFF pages upright while
    loading them (and then drops their orientation tag), other formats not.
    """
    im = _open_image(d, fmt, name, max_pixels)
    frames: list[np.ndarray] = []
    durations: list[int] = []
    notes: list[str] = []
    try:
        n = int(getattr(im, "n_frames", 1) or 1)
        indices = list(range(n))
        if fmt in ("HEIF", "JPEG"):
            indices = [im.tell()]
            if n > 1:
                notes.append(f"{n - 1} secondary image(s) dropped")
        loop = im.info.get("loop")
        orientation = None
        for i in indices:
            if n > 1:
                im.seek(i)
            if fmt == "TIFF" and i > 0:
                tags = getattr(im, "tag_v2", {})
                if int(tags.get(254, 0) or 0) & 1:
                    notes.append(f"reduced-resolution page {i + 1} dropped")
                    continue
            im.load()
            if orientation is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    orientation = _images.read_orientation(im)
            frames.append(_images.apply_orientation(_frame_pixels(im), orientation))
            durations.append(int(im.info.get("duration", 0) or 0))
        if im.mode == "CMYK":
            notes.append("CMYK converted to RGB")
        qtables = getattr(im, "quantization", None) if fmt == "JPEG" else None
        sampling = None
        if fmt == "JPEG":
            from PIL import JpegImagePlugin

            sampling = JpegImagePlugin.get_sampling(im)
            sampling = sampling if sampling in (0, 1, 2) else None
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"{name}: {exc}") from exc
    except ImageError:
        raise
    except Exception as exc:
        raise CorruptImageError(f"{name}: cannot decode {fmt} data ({exc or type(exc).__name__})") from exc
    finally:
        im.close()
    return frames, durations, loop, notes, qtables, sampling


def _reencode(
    d: bytes,
    fmt: str,
    name: str,
    orientation: int,
    policy: str,
    pil_icc: bytes | None,
    max_pixels: int | None,
    quality: int,
) -> tuple[bytes, str, list[str], list[np.ndarray]]:
    frames, durations, loop, notes, qtables, sampling = _decode_frames(d, fmt, name, max_pixels)
    if not frames:
        raise CorruptImageError(f"{name}: no image to keep")
    icc, state = _icc_decision(pil_icc, policy)
    out_fmt = "JPEG" if fmt == "JPEG" else fmt
    if icc is not None:
        want = b"GRAY" if frames[0].ndim == 2 else b"RGB "
        if icc[16:20] != want or out_fmt in ("GIF", "BMP"):
            icc, state = None, "dropped-unsupported"
            notes.append("the colour profile does not fit the re-encoded pixels and was dropped")
    kw: dict[str, Any] = {"icc_profile": icc, "quality": quality}
    if fmt == "WEBP":
        kw["lossless"] = not _webp_is_lossy(d)
    if fmt == "JPEG":
        kw.update(jpeg_qtables=qtables, jpeg_subsampling=sampling, quality=95)
        frames = [f[..., :3] if f.ndim == 3 else f for f in frames]
    if fmt == "JPEG" and frames[0].ndim == 3 and frames[0].shape[2] == 4:
        frames = [f[..., :3] for f in frames]
    if len(frames) > 1 and fmt in ("GIF", "WEBP", "PNG", "AVIF"):
        kw.update(duration=durations, loop=loop)
    try:
        out = _images.encode_image(frames if len(frames) > 1 else frames[0], out_fmt, **kw)
    except ImageWriteError as exc:
        raise ImageWriteError(f"{name}: {exc}") from exc
    return out, state, notes, frames


def _verify(
    d: bytes,
    out: bytes,
    fmt: str,
    name: str,
    expected: list[np.ndarray] | None,
    tag: int,
    max_pixels: int | None,
) -> bool:
    """Whether the output decodes to the source's pixels (raises when the output does not decode).

    ``expected``: the upright frames that were re-encoded; None for a lossless
    rewrite, whose stored pixels are compared with the source's frame by frame.
    """
    try:
        o = _open_image(out, fmt, name + " (stripped)", max_pixels)
    except ImageError as exc:
        raise MetadataError(f"{name}: the stripped file does not open ({exc}); nothing written") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if _images.read_orientation(o) != tag:
                raise MetadataError(f"{name}: the stripped file has the wrong orientation; nothing written")
        if expected is None:
            i = _open_image(d, fmt, name, max_pixels)
            try:
                try:
                    i.load()
                except Exception as exc:
                    raise CorruptImageError(f"{name}: cannot decode {fmt} data ({exc})") from exc
                n_in = int(getattr(i, "n_frames", 1) or 1) if fmt != "JPEG" else 1
                n_out = int(getattr(o, "n_frames", 1) or 1)
                if n_in != n_out:
                    return False
                for k in range(n_in):
                    if n_in > 1:
                        i.seek(k)
                        o.seek(k)
                    i.load()
                    o.load()
                    if (i.mode, i.size) != (o.mode, o.size) or i.tobytes() != o.tobytes():
                        return False
                    if n_in > 1 and i.info.get("duration") != o.info.get("duration"):
                        return False
                return True
            finally:
                i.close()
        out_frames = _decode_frames(out, fmt, name, max_pixels)[0]
        return len(expected) == len(out_frames) and all(
            a.shape == b.shape and np.array_equal(a, b) for a, b in zip(expected, out_frames)
        )
    except ImageError:
        raise
    except Exception as exc:
        raise MetadataError(f"{name}: the stripped file does not decode ({exc}); nothing written") from exc
    finally:
        o.close()


# ---------------------------------------------------------------------------
# Cross-check with exiftool
# ---------------------------------------------------------------------------

#: What exiftool may still report in a stripped file, by group (``exiftool -G1``).
#: Groups mapped to None describe the file or are computed (always allowed); the
#: others allow only the listed tags, which describe how the pixels are stored
#: (dimensions, bit depth, compression, colour) or the orientation tag and clean
#: ICC profile minface keeps on purpose.
EXIFTOOL_ALLOWED: dict[str, frozenset[str] | None] = {
    "ExifTool": frozenset({"ExifToolVersion"}),
    "System": None,
    "File": None,
    "Composite": None,
    "JFIF": frozenset({"JFIFVersion", "ResolutionUnit", "XResolution", "YResolution"}),
    "Adobe": frozenset({"DCTEncodeVersion", "APP14Flags0", "APP14Flags1", "ColorTransform"}),
    "IFD0": frozenset(
        {
            "Orientation", "ImageWidth", "ImageHeight", "BitsPerSample", "Compression",
            "PhotometricInterpretation", "StripOffsets", "SamplesPerPixel", "RowsPerStrip",
            "StripByteCounts", "PlanarConfiguration", "Predictor", "ExtraSamples", "SampleFormat",
            "TileWidth", "TileLength", "TileOffsets", "TileByteCounts", "ColorMap", "FillOrder",
            "XResolution", "YResolution", "ResolutionUnit", "SubfileType", "YCbCrSubSampling",
            "YCbCrPositioning", "ReferenceBlackWhite", "YCbCrCoefficients",
        }
    ),
    "PNG": frozenset(
        {
            "ImageWidth", "ImageHeight", "BitDepth", "ColorType", "Compression", "Filter", "Interlace",
            "Gamma", "SRGBRendering", "WhitePointX", "WhitePointY", "RedX", "RedY", "GreenX", "GreenY",
            "BlueX", "BlueY", "Palette", "Transparency", "AnimationFrames", "AnimationPlays",
            "ColorPrimaries", "TransferCharacteristics", "MatrixCoefficients", "VideoFullRangeFlag",
            "ProfileName",
        }
    ),
    "RIFF": frozenset(
        {
            "ImageWidth", "ImageHeight", "VP8Version", "HorizontalScale", "VerticalScale", "AlphaIsUsed",
            "WebP_Flags", "AnimationLoopCount", "BackgroundColor", "Duration", "AlphaPreprocessing",
            "AlphaFiltering", "AlphaCompression",
        }
    ),
    "GIF": frozenset(
        {
            "GIFVersion", "ImageWidth", "ImageHeight", "HasColorMap", "ColorResolutionDepth",
            "BitsPerPixel", "BackgroundColor", "AnimationIterations", "FrameCount", "Duration",
            "TransparentColor", "PixelAspectRatio",
        }
    ),
    "QuickTime": frozenset(
        {
            "MajorBrand", "MinorVersion", "CompatibleBrands", "HandlerType", "PrimaryItemReference",
            "HEVCConfigurationVersion", "GeneralProfileSpace", "GeneralTierFlag", "GeneralProfileIDC",
            "GenProfileCompatibilityFlags", "ConstraintIndicatorFlags", "GeneralLevelIDC",
            "MinSpatialSegmentationIDC", "ParallelismType", "ChromaFormat", "BitDepthLuma",
            "BitDepthChroma", "AverageFrameRate", "ConstantFrameRate", "NumTemporalLayers",
            "TemporalIDNested", "ColorProfiles", "ColorPrimaries", "TransferCharacteristics",
            "MatrixCoefficients", "VideoFullRangeFlag", "ImageSpatialExtent", "CleanAperture",
            "ImagePixelDepth", "MediaDataSize", "MediaDataOffset", "AV1ConfigurationVersion",
            "ChromaSamplePosition", "Rotation", "ImageRotation", "ImageMirror",
        }
    ),
    "Meta": frozenset({"PrimaryItemReference"}),
    "ICC-header": frozenset(
        {
            "ProfileCMMType", "ProfileVersion", "ProfileClass", "ColorSpaceData", "ProfileConnectionSpace",
            "ProfileDateTime", "ProfileFileSignature", "PrimaryPlatform", "CMMFlags", "DeviceManufacturer",
            "DeviceModel", "DeviceAttributes", "RenderingIntent", "ConnectionSpaceIlluminant",
            "ProfileCreator", "ProfileID",
        }
    ),
    "ICC_Profile": frozenset(
        {
            "ProfileDescription", "ProfileCopyright", "MediaWhitePoint", "MediaBlackPoint",
            "RedMatrixColumn", "GreenMatrixColumn", "BlueMatrixColumn", "RedTRC", "GreenTRC", "BlueTRC",
            "GrayTRC", "ChromaticAdaptation", "AToB0", "AToB1", "AToB2", "BToA0", "BToA1", "BToA2",
            "Gamut", "ColorPrimaries", "TransferCharacteristics", "MatrixCoefficients", "VideoFullRangeFlag",
        }
    ),
}

#: ICC header fields that must be blank in a stripped file (exiftool -n values).
_EXIFTOOL_BLANK = {
    "ProfileCMMType": ("", 0, "0"),
    "ProfileDateTime": ("0000:00:00 00:00:00", "", 0),
    "PrimaryPlatform": ("", 0, "0"),
    "DeviceManufacturer": ("", 0, "0"),
    "DeviceModel": ("", 0, "0"),
    "ProfileCreator": ("", 0, "0"),
    "ProfileID": (0, "0", "", "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"),
}
_GENERIC_ICC_NAMES = set(_KNOWN_RGB) | {"RGB", "Gray", "CMYK", "Lab", "YCbCr", "Colour"}


def exiftool_residue(
    paths: Iterable[str | os.PathLike], *, exiftool: str | None = None, timeout: float | None = None
) -> dict[str, list[str]]:
    """What exiftool still finds in files beyond :data:`EXIFTOOL_ALLOWED`.

    Runs ``exiftool -j -a -G1 -n`` once over all ``paths`` (at most ``timeout``
    seconds; ``subprocess.TimeoutExpired`` past it). Use it on stripped files to
    check them with an independent tool, or on originals to see what they carry.

    Returns
    -------
    dict
        For each path, the unexpected ``Group:Tag`` names (an empty list when
        clean). Identifying ICC header fields count when they are not blank, and
        an ICC description when it is not one of minface's generic names.

    Raises
    ------
    MissingDependencyError
        exiftool is not installed (Debian/Ubuntu: ``apt-get install
        libimage-exiftool-perl``; macOS: ``brew install exiftool``).
    """
    tool = exiftool or shutil.which("exiftool")
    if not tool:
        raise MissingDependencyError(
            "exiftool is not installed (apt-get install libimage-exiftool-perl, or brew install exiftool)"
        )
    files = [os.fspath(p) for p in paths]
    if not files:
        return {}
    proc = subprocess.run(
        [tool, "-j", "-a", "-G1", "-n", "-charset", "filename=utf8", "--", *files],
        capture_output=True,
        check=False,
        timeout=timeout,
    )
    try:
        records = json.loads(proc.stdout.decode("utf-8", "replace") or "[]")
    except json.JSONDecodeError as exc:
        raise MetadataError(f"exiftool output is not JSON: {proc.stderr[:200]!r}") from exc
    result: dict[str, list[str]] = {f: [] for f in files}
    by_name = {os.path.abspath(f): f for f in files}
    for rec in records:
        src = by_name.get(os.path.abspath(rec.get("SourceFile", "")), rec.get("SourceFile", ""))
        bad = result.setdefault(src, [])
        for key, value in rec.items():
            if key == "SourceFile" or ":" not in key:
                continue
            group, tag = key.split(":", 1)
            allowed = EXIFTOOL_ALLOWED.get(group, frozenset())
            if allowed is None:
                continue
            if tag not in allowed:
                bad.append(key)
            elif tag in _EXIFTOOL_BLANK and value not in _EXIFTOOL_BLANK[tag]:
                bad.append(f"{key}={value}")
            elif tag == "ProfileDescription" and value not in _GENERIC_ICC_NAMES:
                bad.append(f"{key}={value}")
            elif tag == "ProfileCopyright" and value not in ("CC0", ""):
                bad.append(f"{key}={value}")
    return result
