"""The exceptions minface raises on purpose.

Every error minface raises deliberately derives from :class:`MinfaceError`.
Errors about a file also derive from :class:`OSError` (like Pillow's), so code
that already catches ``OSError`` around image I/O keeps working.
"""

from __future__ import annotations

__all__ = [
    "MinfaceError",
    "ImageError",
    "UnsupportedImageError",
    "CorruptImageError",
    "DecompressionBombError",
    "MissingDependencyError",
    "ModelIntegrityError",
    "BackendError",
    "MetadataError",
    "ImageWriteError",
]


class MinfaceError(Exception):
    """Base class of every error minface raises on purpose."""


class ImageError(MinfaceError, OSError):
    """An image could not be read."""


class UnsupportedImageError(ImageError):
    """The input is not an image minface can read (empty, unknown format, bad array)."""


class CorruptImageError(ImageError):
    """The file claims to be an image but cannot be decoded (truncated, damaged)."""


class DecompressionBombError(ImageError):
    """The image is larger than the allowed number of pixels (``max_pixels``).

    A small file can declare a gigantic image that would exhaust memory when
    decoded; minface refuses it before decoding any pixel data.
    """


class MissingDependencyError(MinfaceError, ImportError):
    """An optional dependency is not installed; the message says which extra to install."""


class ModelIntegrityError(MinfaceError):
    """The bundled model file is missing or its checksum does not match."""


class BackendError(MinfaceError, RuntimeError):
    """The requested inference backend or device cannot be used."""


class MetadataError(ImageError):
    """Metadata could not be removed with certainty, or a strip request is unsafe.

    Raised, for example, when the destination of :func:`minface.metadata.strip` is
    the source itself without ``in_place=True``, or when the stripped output would
    still carry metadata. No output file is written when it is raised.
    """


class ImageWriteError(ImageError):
    """An image could not be written (unsupported output format or options, encoder failure)."""
