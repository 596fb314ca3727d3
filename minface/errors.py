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
    "InvalidBoxesError",
    "IdPhotoError",
    "NoFaceError",
    "AmbiguousFaceError",
    "FaceTooSmallError",
    "FaceCutOffError",
    "BodyCutOffError",
    "CropOutsideImageError",
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


class InvalidBoxesError(MinfaceError, ValueError):
    """Face boxes that cannot be painted: not ``(n, 4)`` numbers, not finite, or with ``x2 < x1`` / ``y2 < y1``.

    Raised by :func:`minface.redact` and :func:`minface.regions` before any pixel
    is touched (a box given as ``(x, y, w, h)`` instead of ``(x1, y1, x2, y2)``
    would otherwise paint the wrong place, or nothing). Also a :class:`ValueError`.
    """


class IdPhotoError(MinfaceError):
    """An ID photo could not be made from the image; ``reason`` says why in one word.

    Raised by :func:`minface.crop_id` instead of returning a photo that would not
    meet the document's specification. ``reason`` is one of ``"no_face"``,
    ``"ambiguous_face"``, ``"face_too_small"``, ``"face_cut_off"``,
    ``"body_cut_off"``, ``"crop_outside_image"``, ``"no_landmarks"`` or ``"infeasible"``.
    """

    reason = "infeasible"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class NoFaceError(IdPhotoError):
    """No face was found in the image."""

    reason = "no_face"


class AmbiguousFaceError(IdPhotoError):
    """Several faces of similar size: ``face="largest"`` cannot tell which one is meant.

    Pass the index of the face to use (``face=`` in Python, ``--face`` on the command line).
    """

    reason = "ambiguous_face"


class FaceTooSmallError(IdPhotoError):
    """The face has too few pixels for the document's output resolution (it would be upscaled too much)."""

    reason = "face_too_small"


class FaceCutOffError(IdPhotoError):
    """The head itself (chin, or the top of the head) is cut by the image edge: it cannot be invented."""

    reason = "face_cut_off"


class BodyCutOffError(IdPhotoError):
    """The photo would show neck or shoulders where the image has ended: they cannot be invented."""

    reason = "body_cut_off"


class CropOutsideImageError(IdPhotoError):
    """With the original background kept, the crop reaches past the image edge (nothing can fill it)."""

    reason = "crop_outside_image"
