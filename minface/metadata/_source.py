"""Reading a source (path, bytes or file object), telling formats apart, opening headers."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import IO, Union

from PIL import Image

from .. import images as _images
from ..errors import CorruptImageError, ImageError, UnsupportedImageError
from ._binary import _u32be

#: What :func:`inspect` and :func:`strip` accept: a path, bytes or a binary file object.
MetadataSource = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]

#: Largest file read (a photo is far smaller; this only stops absurd inputs early).
MAX_FILE_BYTES = 2 << 30


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
