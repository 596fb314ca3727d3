"""Reading a source (path, bytes or file object), telling formats apart, opening headers."""

from __future__ import annotations

import os
import warnings
from typing import IO, Union

from PIL import Image

from ..io import decode as _images
from ..errors import ImageError, UnsupportedImageError
from ..media import HEAD_BYTES, image_format

#: What :func:`inspect` and :func:`strip` accept: a path, bytes or a binary file object.
MetadataSource = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]

#: Largest file read (a photo is far smaller; this only stops absurd inputs early).
MAX_FILE_BYTES = 2 << 30


def _read_source(src: MetadataSource) -> tuple[bytes, str]:
    if isinstance(src, (bytes, bytearray, memoryview)):
        data, name = bytes(src), "<bytes>"
    elif isinstance(src, (str, os.PathLike)):
        name = os.fspath(src)  # type: ignore[assignment]
        data = _read_path(name)
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


def _read_path(name: str) -> bytes:
    """A regular file's bytes (a FIFO or device is refused, never waited on)."""
    fd = _images.open_file(name, name)
    with os.fdopen(fd, "rb") as f:
        try:
            size = os.fstat(fd).st_size
            if size > MAX_FILE_BYTES:
                raise UnsupportedImageError(f"{name}: {size:,} bytes is too large for an image file")
            return f.read()
        except ImageError:
            raise
        except OSError as exc:
            raise UnsupportedImageError(f"{name}: cannot read file ({exc.strerror or exc})") from exc


def not_an_image(d: bytes, name: str) -> UnsupportedImageError:
    """The error for bytes :func:`sniff_format` does not recognise, saying what they are when known."""
    try:
        _images.identify(d[:HEAD_BYTES], name)
    except UnsupportedImageError as exc:
        return exc
    return UnsupportedImageError(f"{name}: not a recognised image format")


def sniff_format(d: bytes) -> str | None:
    """The image container of ``d`` from its first bytes (never from a file name), or None.

    >>> sniff_format(b"\\x89PNG\\r\\n\\x1a\\n...."), sniff_format(b"hello")
    ('PNG', None)
    """
    return image_format(d)


def _open_image(d: bytes, fmt: str, name: str, max_pixels: int | None, *, complete: bool = False) -> Image.Image:
    """Open headers with Pillow (format allowlist and decompression-bomb guard; see ``images._open``)."""
    with warnings.catch_warnings():  # damaged metadata makes Pillow warn; it is reported by inspect
        warnings.simplefilter("ignore")
        return _images._open(d, name, max_pixels, complete=complete)
