"""The reports (MetadataItem, MetadataReport, StripReport) and the collector the parsers fill."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._text import printable


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
        the JFIF and Adobe decoding headers, the further top-level images of a
        HEIF (pictures, kept and scrubbed like the first).
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

    Examples
    --------
    >>> import io, numpy as np, minface
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, "JPEG", comment=b"Alice's phone")
    >>> report = minface.inspect(buf.getvalue())
    >>> report.clean, [i.kind for i in report.sensitive], report.to_dict()["image_size"]
    (False, ['comment'], [8, 8])
    >>> print(report.to_text().splitlines()[0])
    <bytes>: JPEG 8x8, 648 bytes, 1 item to remove
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
        lines = [f"{printable(self.source)}: {self.format or '?'} {size}, {self.file_size:,} bytes, {state}"]
        if self.items:  # what a file says never reaches a terminal raw (control characters escaped)
            rows = [
                (("  " if i.sensitive else "= ") + i.kind, printable(i.location), f"{i.size:,}" if i.size else "-", printable(i.summary()))
                for i in self.items
            ]
            w0 = max(len(r[0]) for r in rows)
            w1 = max(len(r[1]) for r in rows)
            w2 = max(len(r[2]) for r in rows)
            lines.append(f"  {'KIND':<{w0}}  {'WHERE':<{w1}}  {'BYTES':>{w2}}  DETAILS")
            lines += [f"  {a:<{w0}}  {b:<{w1}}  {c:>{w2}}  {d}".rstrip() for a, b, c, d in rows]
            if any(not i.sensitive for i in self.items):
                lines.append("  (= kept by strip: decoding or colour information only)")
        lines += [f"  warning: {printable(w)}" for w in self.warnings]
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

    Examples
    --------
    >>> import io, numpy as np, minface
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, "JPEG", comment=b"Alice's phone")
    >>> clean, report = minface.strip_bytes(buf.getvalue())
    >>> print(report.to_text())
    <bytes> -> <bytes>: JPEG lossless, 648 -> 631 bytes, pixels identical
      removed: comment (17 B)
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
