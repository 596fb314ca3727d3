"""Read any image input into an upright RGB ``uint8`` array.

Every entry point of minface goes through :func:`load_image`, so every caller
gets the same guarantees:

* paths, bytes, binary file objects, ``PIL.Image.Image`` and NumPy arrays;
* the format is sniffed from the bytes (Pillow), never trusted from the extension,
  and limited to photo formats (:data:`SUPPORTED_FORMATS`);
* the EXIF orientation is applied, so a phone portrait is upright;
* the pixel count is checked against ``max_pixels`` *before* any pixel is decoded
  (decompression-bomb guard);
* grayscale, palette, RGBA, CMYK, 16-bit and float images become RGB ``uint8``;
* failures raise subclasses of :class:`minface.errors.ImageError` (an ``OSError``)
  with a readable reason.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Union

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import CorruptImageError, DecompressionBombError, UnsupportedImageError

__all__ = [
    "ImageSource",
    "load_image",
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_FORMATS",
    "apply_orientation",
]

#: Anything :func:`load_image` accepts.
ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes], Image.Image, np.ndarray]

#: Pillow's own hard limit (twice ``PIL.Image.MAX_IMAGE_PIXELS``): about 179 megapixels,
#: above any phone or consumer camera. Raise it per call with ``max_pixels=``; values
#: above it also need ``PIL.Image.MAX_IMAGE_PIXELS`` raised, because Pillow checks first.
DEFAULT_MAX_PIXELS = 2 * 89_478_485

#: Pillow format names minface decodes. HEIF needs the ``heif`` extra (pillow-heif).
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "TIFF", "BMP", "GIF", "AVIF", "HEIF"})

_EXIF_ORIENTATION = 0x0112

# EXIF orientation -> function turning the stored pixels upright (same as ImageOps.exif_transpose)
_ORIENT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: a.swapaxes(0, 1)[:, ::-1],
    7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
    8: lambda a: a.swapaxes(0, 1)[::-1],
}


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Turn stored pixels upright for an EXIF ``orientation`` (1-8; others mean upright).

    Returns a C-contiguous array (``pixels`` itself when nothing changes).

    >>> a = np.arange(6).reshape(2, 3)
    >>> apply_orientation(a, 6).tolist()  # stored rotated: displayed turned 90 degrees clockwise
    [[3, 0], [4, 1], [5, 2]]
    """
    fn = _ORIENT.get(int(orientation))
    return pixels if fn is None else np.ascontiguousarray(fn(pixels))


@dataclass(frozen=True)
class DecodedImage:
    """Pixels plus what was learnt while decoding (internal; used by scrub and reports)."""

    pixels: np.ndarray  # upright RGB (or RGBA when asked) uint8
    format: str | None  # Pillow format name, None for arrays / in-memory images without one
    orientation: int  # EXIF orientation that was applied (1 = none)
    n_frames: int


def load_image(
    src: ImageSource,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    orient: bool = True,
) -> np.ndarray:
    """Load ``src`` as an upright RGB ``uint8`` array of shape ``(height, width, 3)``.

    Parameters
    ----------
    src : path, bytes, binary file object, PIL.Image.Image or numpy.ndarray
        Arrays are taken as RGB (not OpenCV's BGR) and already upright: ``(H, W)``
        grayscale, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA; ``uint8``, ``uint16``,
        ``bool`` or float in ``[0, 1]``. A ``uint8`` RGB array is returned as is
        (no copy). For animated files the first frame is used.
    max_pixels : int or None
        Refuse images with more pixels than this before decoding them
        (:class:`~minface.errors.DecompressionBombError`). ``None`` disables the
        check (only for trusted input).
    orient : bool
        Apply the EXIF orientation of files and PIL images (default). Pass False to
        get the pixels as stored.

    Raises
    ------
    UnsupportedImageError
        Empty input, an unknown or unsupported format, or an unusable array.
    CorruptImageError
        A truncated or damaged file.
    DecompressionBombError
        More than ``max_pixels`` pixels.

    Examples
    --------
    >>> import numpy as np
    >>> load_image(np.zeros((4, 6), np.uint8)).shape
    (4, 6, 3)
    >>> load_image(b"")
    Traceback (most recent call last):
    ...
    minface.errors.UnsupportedImageError: <bytes>: empty input (0 bytes)
    """
    return decode_image(src, max_pixels=max_pixels, orient=orient).pixels


def decode_image(
    src: ImageSource,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    orient: bool = True,
    alpha: bool = False,
) -> DecodedImage:
    """Like :func:`load_image`, with the decoding details; ``alpha=True`` keeps an alpha channel."""
    if isinstance(src, np.ndarray):
        return DecodedImage(_array_to_uint8(src, alpha=alpha), None, 1, 1)
    if isinstance(src, Image.Image):
        return _decode_pil(src, _name(src), max_pixels, orient, alpha)
    name = _name(src)
    with _open(src, name, max_pixels) as im:
        return _decode_pil(im, name, max_pixels, orient, alpha)


def _name(src: object) -> str:
    if isinstance(src, (str, os.PathLike)):
        return os.fspath(src)  # type: ignore[return-value]
    if isinstance(src, (bytes, bytearray, memoryview)):
        return "<bytes>"
    if isinstance(src, Image.Image):
        return getattr(src, "filename", "") or "<PIL.Image>"
    return str(getattr(src, "name", "<file object>"))


def _open(src: ImageSource, name: str, max_pixels: int | None) -> Image.Image:
    """Open (headers only) with the format and size checks done."""
    fp: str | IO[bytes]
    if isinstance(src, (str, os.PathLike)):
        path = Path(src)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise UnsupportedImageError(f"{name}: cannot read file ({exc.strerror or exc})") from exc
        if path.is_dir():
            raise UnsupportedImageError(f"{name}: is a directory, not an image file")
        if size == 0:
            raise UnsupportedImageError(f"{name}: empty file (0 bytes)")
        fp = os.fspath(path)
    elif isinstance(src, (bytes, bytearray, memoryview)):
        if len(src) == 0:
            raise UnsupportedImageError(f"{name}: empty input (0 bytes)")
        fp = io.BytesIO(bytes(src))
    elif hasattr(src, "read"):
        fp = src  # type: ignore[assignment]
    else:
        raise UnsupportedImageError(
            f"cannot load an image from {type(src).__name__}; "
            "give a path, bytes, a binary file object, a PIL.Image or a numpy array"
        )
    try:
        with warnings.catch_warnings():
            # our own max_pixels check replaces Pillow's bomb warning; plugins also warn
            # about damaged metadata, which never stops minface from reading pixels
            warnings.simplefilter("ignore")
            im = Image.open(fp)
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"{name}: {exc}") from exc
    except UnidentifiedImageError as exc:
        head = _head(fp)
        if head == b"":
            raise UnsupportedImageError(f"{name}: empty input (0 bytes)") from exc
        raise UnsupportedImageError(f"{name}: not a recognised image format (starts with {head!r})") from exc
    except Exception as exc:  # a damaged header makes plugins raise anything (SyntaxError, struct.error, ...)
        raise CorruptImageError(f"{name}: damaged image header ({type(exc).__name__}: {exc})") from exc
    try:
        _check(im, name, max_pixels)
    except Exception:
        im.close()
        raise
    return im


def _head(fp: str | IO[bytes]) -> bytes:
    try:
        if isinstance(fp, str):
            with open(fp, "rb") as f:
                return f.read(8)
        fp.seek(0)
        return fp.read(8)
    except Exception:
        return b"?"


def _check(im: Image.Image, name: str, max_pixels: int | None) -> None:
    fmt = im.format
    if fmt is not None and fmt not in SUPPORTED_FORMATS:
        raise UnsupportedImageError(
            f"{name}: {fmt} images are not supported (supported: {', '.join(sorted(SUPPORTED_FORMATS))})"
        )
    w, h = im.size
    if w <= 0 or h <= 0:
        raise CorruptImageError(f"{name}: image declares an empty size {w}x{h}")
    if max_pixels is not None and w * h > max_pixels:
        raise DecompressionBombError(
            f"{name}: image of {w}x{h} = {w * h:,} pixels exceeds max_pixels={max_pixels:,} "
            "(possible decompression bomb; raise max_pixels if the file is trusted)"
        )


def read_orientation(im: Image.Image) -> int:
    """The EXIF orientation (1-8) of an opened image; 1 when absent or unreadable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns on corrupt EXIF; we fall back to upright
            value = im.getexif().get(_EXIF_ORIENTATION, 1)
        value = int(value[0] if isinstance(value, (tuple, list)) else value)
    except Exception:  # corrupt EXIF must not stop the pixels from loading
        return 1
    return value if 1 <= value <= 8 else 1


def _decode_pil(
    im: Image.Image, name: str, max_pixels: int | None, orient: bool, alpha: bool
) -> DecodedImage:
    _check(im, name, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damaged-metadata warnings; real decode errors still raise
            n_frames = int(getattr(im, "n_frames", 1) or 1)
            if n_frames > 1:
                im.seek(0)
            im.load()  # before anything else reads the file: Pillow may load lazily and hide errors
            pixels = _pil_to_uint8(im, alpha)
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"{name}: {exc}") from exc
    except MemoryError as exc:
        raise DecompressionBombError(f"{name}: not enough memory to decode {im.size[0]}x{im.size[1]}") from exc
    except Exception as exc:  # truncated data, broken streams, plugin bugs on damaged input
        reason = str(exc) or type(exc).__name__
        raise CorruptImageError(f"{name}: cannot decode {im.format or 'image'} data ({reason})") from exc
    orientation = read_orientation(im) if orient else 1
    return DecodedImage(apply_orientation(pixels, orientation), im.format, orientation, n_frames)


def _pil_to_uint8(im: Image.Image, alpha: bool) -> np.ndarray:
    mode = im.mode
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info)
    if mode in ("RGB", "RGBA", "L"):
        arr = np.asarray(im)
    elif mode.startswith("I;16") or mode == "I":
        arr = _to_uint8(np.asarray(im), im.format == "PNG" or mode != "I")
    elif mode == "F":
        arr = _to_uint8(np.asarray(im), False)
    else:  # P, PA, 1, LA, La, RGBa, CMYK, YCbCr, LAB, HSV, ...
        arr = np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
    return _array_to_uint8(arr, alpha=alpha and has_alpha)


def _to_uint8(a: np.ndarray, sixteen_bit: bool) -> np.ndarray:
    """Integer or float pixels of unknown range to ``uint8``."""
    if a.dtype.kind == "f":
        a = np.nan_to_num(a.astype(np.float64))
        hi = float(a.max()) if a.size else 1.0
        scale = 255.0 if hi <= 1.0 else 1.0
        return np.clip(a * scale + 0.5, 0, 255).astype(np.uint8)
    if sixteen_bit or (a.size and int(a.max()) > 255):
        return np.clip((a.astype(np.float64) / 257.0).round(), 0, 255).astype(np.uint8)
    return np.clip(a, 0, 255).astype(np.uint8)


def _array_to_uint8(a: np.ndarray, *, alpha: bool = False) -> np.ndarray:
    """Validate an array and return RGB (or RGBA with ``alpha``) ``uint8``, C-contiguous."""
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise UnsupportedImageError(
            f"image array must be (H, W), (H, W, 3) or (H, W, 4); got shape {a.shape}"
        )
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise UnsupportedImageError(f"image array is empty (shape {a.shape})")
    if a.dtype == np.uint8:
        pass
    elif a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype == np.uint16:
        a = _to_uint8(a, True)
    elif a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise UnsupportedImageError("float image array contains NaN or infinity")
        if a.size and (a.min() < 0 or a.max() > 1):
            raise UnsupportedImageError(
                "float image arrays must hold values in [0, 1]; "
                f"got [{float(a.min()):g}, {float(a.max()):g}] (convert to uint8 first)"
            )
        a = np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif a.dtype.kind in "iu" and a.size and a.min() >= 0 and a.max() <= 255:
        a = a.astype(np.uint8)
    else:
        raise UnsupportedImageError(f"unsupported image array dtype {a.dtype} (use uint8)")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 4 if alpha else 3, axis=2)
        if alpha:
            a[:, :, 3] = 255
    elif a.shape[2] == 4 and not alpha:
        a = a[:, :, :3]
    elif a.shape[2] == 3 and alpha:
        a = np.concatenate([a, np.full(a.shape[:2] + (1,), 255, np.uint8)], axis=2)
    return np.ascontiguousarray(a)
