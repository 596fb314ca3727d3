"""Decode any image input into an upright RGB(A) ``uint8`` array.

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

This module sits below :mod:`minface.metadata` (which reads its sources through it) and
imports nothing of it at module level.
"""
from __future__ import annotations

import errno
import io
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Union

import numpy as np
from PIL import Image, UnidentifiedImageError

from .._defaults import DEFAULT_MAX_PIXELS as _DEFAULT_MAX_PIXELS
from ..errors import CorruptImageError, DecompressionBombError, UnsupportedImageError

__all__ = [
    "ImageSource",
    "load_image",
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_FORMATS",
    "apply_orientation",
    "decode_image",
    "DecodedImage",
    "identify",
    "require_heif",
    "require_avif",
]

#: Anything :func:`load_image` accepts.
ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes], Image.Image, np.ndarray]

#: Pillow's own hard limit (twice ``PIL.Image.MAX_IMAGE_PIXELS``): about 179 megapixels,
#: above any phone or consumer camera. Raise it per call with ``max_pixels=`` (the command
#: line's ``--max-pixels``); Pillow's own limit is then raised to match.
DEFAULT_MAX_PIXELS = _DEFAULT_MAX_PIXELS

#: How to lift the limit, added to every decompression-bomb message.
BOMB_HINT = "possible decompression bomb; if the file is trusted, raise the limit: --max-pixels N, or max_pixels=N"


def _pillow_allows(max_pixels: int | None) -> None:
    """Raise Pillow's own open-time limit so that it never refuses what ``max_pixels`` allows.

    minface checks ``max_pixels`` itself before decoding; Pillow refuses images over
    twice ``PIL.Image.MAX_IMAGE_PIXELS`` at open, with no hint. The limit only grows.
    """
    current = Image.MAX_IMAGE_PIXELS
    if current is None:
        return
    if max_pixels is None:
        Image.MAX_IMAGE_PIXELS = None
    elif max_pixels > 2 * current:
        Image.MAX_IMAGE_PIXELS = max_pixels // 2 + 1

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
    with _open(src, name, max_pixels, complete=True) as im:
        return _decode_pil(im, name, max_pixels, orient, alpha)


def _name(src: object) -> str:
    if isinstance(src, (str, os.PathLike)):
        return os.fspath(src)  # type: ignore[return-value]
    if isinstance(src, (bytes, bytearray, memoryview)):
        return "<bytes>"
    if isinstance(src, Image.Image):
        return getattr(src, "filename", "") or "<PIL.Image>"
    return str(getattr(src, "name", "<file object>"))


def identify(head: bytes, name: str) -> str:
    """The image format of a file from its first bytes (:mod:`minface.media`); raise when minface cannot read it.

    Also makes sure the format's decoder is there: HEIF needs the ``heif`` extra,
    AVIF a Pillow built with it.

    Raises
    ------
    UnsupportedImageError
        Empty, not an image, a video, or an image format minface does not read.
    MissingDependencyError
        HEIF without pillow-heif, AVIF without a Pillow that reads it.

    >>> identify(b"\\x89PNG\\r\\n\\x1a\\n....", "a.png")
    'PNG'
    >>> identify(b"%PDF-1.7", "scan.pdf")
    Traceback (most recent call last):
    ...
    minface.errors.UnsupportedImageError: scan.pdf: not a recognised image format (PDF document)
    """
    from .. import media

    if not head:
        raise UnsupportedImageError(f"{name}: empty {'input' if name.startswith('<') else 'file'} (0 bytes)")
    kind = media.classify(name, head)
    if kind.kind == "video":
        raise UnsupportedImageError(f"{name}: a video ({kind.format}), not an image (minface.scrub reads videos)")
    if not kind.is_image:
        if kind.format and kind.reason and kind.reason.endswith("not supported"):
            raise UnsupportedImageError(f"{name}: {kind.reason}")
        raise UnsupportedImageError(
            f"{name}: not a recognised image format" + (f" ({kind.format})" if kind.format else "")
        )
    fmt = kind.format or ""
    if fmt == "HEIF":
        require_heif()
    elif fmt == "AVIF":
        require_avif()
    return fmt


def open_file(path: str | os.PathLike, name: str) -> int:
    """A descriptor for reading ``path``, a regular file (:func:`minface.media.open_regular`).

    Raises
    ------
    UnsupportedImageError
        A folder, a FIFO, a device or socket, or a file that cannot be opened.
    """
    from .. import media

    try:
        return media.open_regular(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EISDIR or os.path.isdir(path):
            raise UnsupportedImageError(f"{name}: is a directory, not an image file") from exc
        if reason.startswith("not a regular file"):
            raise UnsupportedImageError(f"{name}: {reason}") from exc
        raise UnsupportedImageError(f"{name}: cannot read file ({reason})") from exc


class _Reader:
    """A source opened for reading once: its first bytes, a file object for Pillow, all of its bytes on demand."""

    def __init__(self, src: ImageSource, name: str) -> None:
        from .. import media

        self.owned = False
        if isinstance(src, (str, os.PathLike)):
            fd = open_file(src, name)
            self.fp: IO[bytes] = os.fdopen(fd, "rb")
            self.owned = True
            try:
                self.size: int | None = os.fstat(fd).st_size
                self.head = os.pread(fd, media.HEAD_BYTES, 0) if hasattr(os, "pread") else self._peek()
            except BaseException:
                self.fp.close()
                raise
            if self.size == 0:
                self.fp.close()
                raise UnsupportedImageError(f"{name}: empty file (0 bytes)")
        elif isinstance(src, (bytes, bytearray, memoryview)):
            data = bytes(src)
            self.fp = io.BytesIO(data)
            self.size = len(data)
            self.head = data[: media.HEAD_BYTES]
        elif hasattr(src, "read"):
            self.fp = src  # type: ignore[assignment]
            self.size = None
            self.head = self._peek()
        else:
            raise UnsupportedImageError(
                f"cannot load an image from {type(src).__name__}; "
                "give a path, bytes, a binary file object, a PIL.Image or a numpy array"
            )

    def _peek(self, n: int = 0) -> bytes:
        from .. import media

        pos = self.fp.tell()
        try:
            self.fp.seek(0)
            return self.fp.read(n or media.HEAD_BYTES) or b""
        finally:
            self.fp.seek(pos)

    def read_all(self) -> bytes:
        if isinstance(self.fp, io.BytesIO):
            return self.fp.getvalue()
        pos = self.fp.tell()
        try:
            self.fp.seek(0)
            return self.fp.read()
        finally:
            self.fp.seek(pos)

    def close(self) -> None:
        if self.owned:
            self.fp.close()


_OPEN_AS: dict[str, tuple[str, ...]] = {}  # Pillow names, when they differ from the sniffed format (JPEG opens MPO too)


def _open(src: ImageSource, name: str, max_pixels: int | None, *, complete: bool = False) -> Image.Image:
    """Open (headers only) with the format and size checks done.

    Only regular files are read (a FIFO is refused, never waited on); the format
    is told from the first bytes and only that Pillow plugin is tried. With
    ``complete``, a JPEG is also checked for image data that ends early
    (:func:`minface._damage.jpeg_cut_short`).
    """
    reader = _Reader(src, name)
    try:
        fmt = identify(reader.head, name)
        _pillow_allows(max_pixels)
        try:
            with warnings.catch_warnings():
                # our own max_pixels check replaces Pillow's bomb warning; plugins also warn
                # about damaged metadata, which never stops minface from reading pixels
                warnings.simplefilter("ignore")
                im = Image.open(reader.fp, formats=list(_OPEN_AS.get(fmt, (fmt,))))
        except Image.DecompressionBombError as exc:
            raise DecompressionBombError(f"{name}: {exc} ({BOMB_HINT})") from exc
        except UnidentifiedImageError as exc:
            raise CorruptImageError(f"{name}: {_header_damage(fmt, reader)}") from exc
        except Exception as exc:  # a damaged header makes plugins raise anything (SyntaxError, struct.error, ...)
            raise CorruptImageError(f"{name}: damaged {fmt} header ({type(exc).__name__}: {exc})") from exc
        if reader.owned:
            im._exclusive_fp = True  # type: ignore[attr-defined]  # Pillow closes the file with the image
        try:
            _check(im, name, max_pixels)
            if max_pixels is not None and fmt in ("HEIF", "AVIF"):
                _check_coded_size(reader.read_all(), im, name, max_pixels)
            if complete and im.format in ("JPEG", "MPO"):
                from .._damage import jpeg_cut_short

                if jpeg_cut_short(reader.read_all()):
                    raise CorruptImageError(
                        f"{name}: truncated JPEG: its image data ends before the last row (premature end of data)"
                    )
        except Exception:
            im.close()
            raise
        return im
    except BaseException:
        reader.close()
        raise


def _header_damage(fmt: str, reader: _Reader) -> str:
    """What is wrong with a file whose first bytes say ``fmt`` but that Pillow cannot open."""
    from .._damage import header_problem

    head = reader.head if len(reader.head) >= 1 << 16 else reader._peek(1 << 20)
    problem = header_problem(fmt, head)
    if problem is not None:
        return problem
    factory = Image.OPEN.get(fmt, (None,))[0]
    if factory is not None:  # the plugin's own complaint says what it found wrong
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                factory(io.BytesIO(head), "").close()
        except Exception as exc:  # noqa: BLE001 - any complaint is the message
            return f"damaged {fmt} header ({exc or type(exc).__name__})"
    return f"damaged {fmt} file (its header cannot be read)"


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
            f"({BOMB_HINT})"
        )


def _check_coded_size(data: bytes, im: Image.Image, name: str, max_pixels: int) -> None:
    """Refuse a HEIF/AVIF whose tiles decode to more than ``max_pixels``, whatever its header (``ispe``) says.

    The decoder decodes every tile of a grid at its coded size before it
    checks that they fit the declared one: a grid declaring 1000x1000 pixels
    can make it decode 900 megapixels (:func:`minface.metadata._heif_size.decoded_pixels`).
    """
    from ..metadata._heif_size import decoded_pixels

    real = decoded_pixels(data)
    if real is not None and real > max_pixels:
        w, h = im.size
        raise DecompressionBombError(
            f"{name}: its images decode to {real:,} pixels as coded (the header says {w}x{h}), over "
            f"max_pixels={max_pixels:,} ({BOMB_HINT})"
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
        raise DecompressionBombError(f"{name}: {exc} ({BOMB_HINT})") from exc
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
    want_alpha = alpha and has_alpha
    if mode.startswith("I;16"):
        arr = pil_array(im, sixteen_bit=True)
    elif mode == "I":
        arr = _to_uint8(np.asarray(im), im.format == "PNG")
    elif mode == "F":
        arr = _to_uint8(np.asarray(im), False)
    else:  # RGB, RGBA, L, P, PA, 1, LA, La, RGBa, CMYK, YCbCr, LAB, HSV, ...
        arr = pil_array(im, "RGBA" if want_alpha else "RGB")
    return _array_to_uint8(arr, alpha=want_alpha)


#: Bytes of Pillow pixels converted at a time by :func:`pil_array`.
_BAND_BYTES = 1 << 22


def pil_array(im: Image.Image, mode: str | None = None, *, sixteen_bit: bool = False) -> np.ndarray:
    """A loaded image's pixels as a new, writable NumPy array, converted to ``mode`` band by band.

    ``numpy.asarray(im)`` holds two more copies of the pixels while it works (a
    list of chunks and their join) and ``im.convert()`` a whole new Pillow image;
    here only a band of a few megabytes is ever copied at a time, so a large
    image costs its array and nothing more. ``sixteen_bit``: 16-bit grey to
    ``uint8`` (rounded, as :func:`load_image` documents).

    >>> pil_array(Image.new("P", (3, 2)), "RGB").shape
    (2, 3, 3)
    """
    w, h = im.size

    def band(y0: int, y1: int) -> np.ndarray:
        part = im if (y0, y1) == (0, h) else im.crop((0, y0, w, y1))
        if mode is not None and part.mode != mode:
            part = part.convert(mode)
        a = np.asarray(part)
        if sixteen_bit:
            a = ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
        return a

    if w * h * 4 <= 4 * _BAND_BYTES:  # a small image: at once (a few copies of a few megabytes)
        a = band(0, h)
        return a if a.flags.writeable and a.flags.c_contiguous else np.array(a)
    rows = max(1, _BAND_BYTES // (w * 4))
    first = band(0, min(h, rows))
    out = np.empty((h,) + first.shape[1:], first.dtype)
    out[: first.shape[0]] = first
    del first
    for y in range(rows, h, rows):
        out[y : y + rows] = band(y, min(h, y + rows))
    return out


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


def require_heif() -> None:
    """Make Pillow read and write HEIF/HEIC through the ``heif`` extra (pillow-heif).

    Raises
    ------
    MissingDependencyError
        pillow-heif is not installed.
    """
    global _HEIF_READY
    if _HEIF_READY:
        return
    try:
        import pillow_heif
    except ImportError as exc:
        from ..errors import MissingDependencyError

        raise MissingDependencyError(
            "HEIF/HEIC images need pillow-heif: pip install 'minface[heif]'"
        ) from exc
    pillow_heif.register_heif_opener()
    _HEIF_READY = True


_HEIF_READY = False


def require_avif() -> None:
    """Make sure Pillow reads and writes AVIF (Pillow 11.3 and newer wheels do).

    Raises
    ------
    MissingDependencyError
        This Pillow was built without AVIF.
    """
    from PIL import features

    if not features.check("avif"):
        from ..errors import MissingDependencyError

        raise MissingDependencyError(
            "AVIF images need a Pillow built with AVIF support (the wheels of Pillow 11.3 and newer): "
            "pip install -U pillow"
        )

