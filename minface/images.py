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

import errno
import io
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Union

import numpy as np
from PIL import Image, UnidentifiedImageError

from ._defaults import DEFAULT_MAX_PIXELS as _DEFAULT_MAX_PIXELS
from ._temp import TEMP_SUFFIX, temporary_name, temporary_target
from .errors import CorruptImageError, DecompressionBombError, UnsupportedImageError
from .media import FORMAT_EXTENSIONS

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
    from . import media

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
    from . import media

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
        from . import media

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
        from . import media

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
                from ._damage import jpeg_cut_short

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
    from ._damage import header_problem

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
    from .metadata._heif_size import decoded_pixels

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


# ---------------------------------------------------------------------------
# Saving: pixels in, one file out, nothing else
# ---------------------------------------------------------------------------

#: Output formats of :func:`save_image` (Pillow names) and the file extensions that select them.
SAVE_FORMATS: dict[str, tuple[str, ...]] = FORMAT_EXTENSIONS
_FORMAT_ALIASES = {"JPG": "JPEG", "TIF": "TIFF", "HEIC": "HEIF", "HIF": "HEIF", "DIB": "BMP"}
_ANIMATED_FORMATS = frozenset({"GIF", "WEBP", "PNG", "TIFF", "AVIF", "HEIF"})  # TIFF pages, HEIF top-level images
_TIMED_FORMATS = frozenset({"GIF", "WEBP", "PNG", "AVIF"})  # frames with durations
_ICC_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "TIFF", "AVIF", "HEIF"})
_ORIENTATION_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "TIFF"})

#: Pixels for :func:`save_image`: one array, or a list of frames for an animation or pages.
Pixels = Union[np.ndarray, "list[np.ndarray]", "tuple[np.ndarray, ...]"]


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


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
        from .errors import MissingDependencyError

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
        from .errors import MissingDependencyError

        raise MissingDependencyError(
            "AVIF images need a Pillow built with AVIF support (the wheels of Pillow 11.3 and newer): "
            "pip install -U pillow"
        )


def save_image(
    pixels: Pixels,
    dst: str | os.PathLike,
    *,
    format: str | None = None,
    quality: int = 90,
    lossless: bool = False,
    icc_profile: bytes | None = None,
    exif_orientation: int | None = None,
    duration: int | list[int] | None = None,
    loop: int | None = 0,
    jpeg_qtables: list | None = None,
    jpeg_subsampling: int | None = None,
    mode: int | None = None,
) -> Path:
    """Write pixels to ``dst`` atomically, with no metadata but what is asked for.

    This is the one writer of minface: it takes pixel arrays, never a
    ``PIL.Image`` (whose ``.info`` would carry comments, ICC profiles, XMP, IPTC and
    EXIF thumbnails into the new file), so nothing can be copied by accident.
    The file is written to a temporary file in the destination folder, flushed to
    disk and then renamed over ``dst``: a reader never sees a partial file.

    Parameters
    ----------
    pixels : numpy.ndarray or list of numpy.ndarray
        ``(H, W)`` grayscale, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA, ``uint8``
        (other dtypes are converted as :func:`load_image` does). A list gives the
        frames of an animation (GIF, WebP, PNG, AVIF), the pages of a TIFF or
        the top-level images of a HEIF (they may differ in size).
    dst : path
        Destination file. Its folder must exist.
    format : str, optional
        ``"JPEG"``, ``"PNG"``, ``"WEBP"``, ``"TIFF"``, ``"BMP"``, ``"GIF"``,
        ``"AVIF"`` or ``"HEIF"`` (the last needs ``pip install 'minface[heif]'``).
        Default: from the extension of ``dst``.
    quality : int
        1-100 for the lossy encoders (JPEG, lossy WebP, AVIF, HEIF). AVIF is
        encoded at libavif speed 8 and HEIF with x265's "ultrafast" preset: both
        several times faster than their defaults at the same quality setting, for
        somewhat larger files.
    lossless : bool
        Lossless WebP. PNG, TIFF (deflate), BMP and GIF are always lossless.
    icc_profile : bytes, optional
        A colour profile to embed. It is first cleaned by
        :func:`minface.metadata.clean_icc_profile` (only the colour-defining tags
        are kept; dates, device and creator fields are dropped); an sRGB profile is
        not written at all, since sRGB is what an untagged image means.
    exif_orientation : int, optional
        2-8: write a minimal EXIF block holding only the Orientation tag (JPEG, PNG,
        WebP, TIFF). 1 or None writes none. Other formats raise: apply the
        orientation to the pixels instead (:func:`apply_orientation`).
    duration, loop : int or list of int, int or None
        Frame duration(s) in milliseconds and loop count (0 = forever, None = play
        once) of an animation.
    jpeg_qtables, jpeg_subsampling : optional
        JPEG quantization tables and chroma subsampling (0 = 4:4:4, 1 = 4:2:2,
        2 = 4:2:0), e.g. those of the JPEG being re-encoded, to limit the loss.
        Tables given replace ``quality``.
    mode : int, optional
        Permission bits of the new file (default: ``0o666`` less the umask).

    Returns
    -------
    pathlib.Path
        ``dst``.

    Raises
    ------
    ImageWriteError
        Unknown format, options the format cannot hold, or a write failure.
    MissingDependencyError
        HEIF without pillow-heif.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> d = tempfile.mkdtemp()
    >>> p = save_image(np.zeros((4, 6, 3), np.uint8), os.path.join(d, "a.png"))
    >>> Image.open(p).size, Image.open(p).info
    ((6, 4), {})
    """
    data = encode_image(
        pixels,
        _save_format(format, dst),
        quality=quality,
        lossless=lossless,
        icc_profile=icc_profile,
        exif_orientation=exif_orientation,
        duration=duration,
        loop=loop,
        jpeg_qtables=jpeg_qtables,
        jpeg_subsampling=jpeg_subsampling,
    )
    atomic_write(dst, data, mode=mode)
    return Path(dst)


def _save_format(format: str | None, dst: str | os.PathLike | None) -> str:
    from .errors import ImageWriteError

    if format is not None:
        name = str(format).upper().lstrip(".")
        name = _FORMAT_ALIASES.get(name, name)
        if name not in SAVE_FORMATS:
            raise ImageWriteError(f"cannot write {format!r} images (formats: {', '.join(SAVE_FORMATS)})")
        return name
    suffix = Path(os.fspath(dst or "")).suffix.lower()
    for name, suffixes in SAVE_FORMATS.items():
        if suffix in suffixes:
            return name
    raise ImageWriteError(f"{dst}: cannot tell the format from the extension {suffix!r}; pass format=")


class _HandedOver(list):
    """Frames a caller hands over to :func:`encode_image`, which empties the list as it converts them.

    A caller that keeps no other reference (the scrub pipeline) so never holds an
    image's pixels twice over: each array is freed once it is a Pillow image.
    """


def encode_image(
    pixels: Pixels,
    format: str,
    *,
    quality: int = 90,
    lossless: bool = False,
    icc_profile: bytes | None = None,
    exif_orientation: int | None = None,
    duration: int | list[int] | None = None,
    loop: int | None = 0,
    jpeg_qtables: list | None = None,
    jpeg_subsampling: int | None = None,
    target_bytes: int | None = None,
) -> bytes:
    """Encode pixels to the bytes of an image file; see :func:`save_image`.

    ``target_bytes`` (lossy HEIF, AVIF and WebP stills): choose the quality so
    the file is about that large (:func:`_quality_for_size`), instead of ``quality``.

    >>> import numpy as np
    >>> encode_image(np.zeros((2, 2), np.uint8), "png")[:4]
    b'\\x89PNG'
    """
    from . import metadata
    from .errors import ImageWriteError

    if isinstance(pixels, Image.Image):
        raise ImageWriteError(
            "save_image takes pixel arrays, not PIL images (their .info carries metadata); "
            "pass numpy.asarray(image)"
        )
    if isinstance(pixels, _HandedOver):
        frames: list = pixels
    else:
        frames = list(pixels) if isinstance(pixels, (list, tuple)) else [pixels]
    fmt = _save_format(format, None)
    if not frames:
        raise ImageWriteError("no frames to write")
    n = len(frames)
    if n > 1 and fmt not in _ANIMATED_FORMATS:
        raise ImageWriteError(f"{fmt} cannot hold {n} frames (one image only)")
    for i, f in enumerate(frames):
        frames[i] = _frame_array(f)
    if n > 1 and fmt in _TIMED_FORMATS and len({a.shape[:2] for a in frames}) > 1:
        raise ImageWriteError("all frames of an animation must have the same size")
    if not 1 <= int(quality) <= 100:
        raise ImageWriteError(f"quality must be 1-100, got {quality}")
    if lossless and fmt in ("JPEG", "AVIF", "HEIF"):
        raise ImageWriteError(f"{fmt} is written lossy here; use PNG, TIFF or lossless WebP")
    if fmt == "JPEG" and any(a.ndim == 3 and a.shape[2] == 4 for a in frames):
        raise ImageWriteError("JPEG has no alpha channel; drop it (pixels[..., :3]) or use PNG/WebP")

    kw: dict = {}
    icc = metadata.clean_icc_profile(icc_profile) if icc_profile else None
    if icc is not None:
        if fmt not in _ICC_FORMATS:
            raise ImageWriteError(f"{fmt} files cannot carry an ICC profile here")
        space = icc[16:20]
        want = b"GRAY" if frames[0].ndim == 2 else b"RGB "
        if space != want:
            raise ImageWriteError(
                f"the ICC profile is for {space.decode('latin-1').strip()} data, the pixels are "
                f"{want.decode().strip()}"
            )
        kw["icc_profile"] = icc
    if exif_orientation not in (None, 1):
        if not (isinstance(exif_orientation, (int, np.integer)) and 2 <= int(exif_orientation) <= 8):
            raise ImageWriteError(f"exif_orientation must be 1-8, got {exif_orientation!r}")
        if fmt not in _ORIENTATION_FORMATS:
            raise ImageWriteError(
                f"{fmt} files get no orientation tag here; apply it to the pixels (apply_orientation)"
            )
        if fmt == "TIFF":
            kw["tiffinfo"] = {_EXIF_ORIENTATION: int(exif_orientation)}
        else:
            kw["exif"] = metadata.orientation_exif(int(exif_orientation))

    if fmt == "JPEG":
        if jpeg_qtables is not None:
            kw["qtables"] = jpeg_qtables  # Pillow would rescale the tables by `quality`: pass one or the other
        else:
            kw["quality"] = int(quality)
        if jpeg_subsampling is not None:
            kw["subsampling"] = int(jpeg_subsampling)
    elif fmt == "PNG":
        kw["compress_level"] = 6
    elif fmt == "WEBP":
        kw.update(lossless=bool(lossless), quality=100 if lossless else int(quality), method=4)
        if lossless:
            kw["exact"] = True
    elif fmt == "TIFF":
        kw["compression"] = "tiff_adobe_deflate"
    elif fmt == "AVIF":
        require_avif()
        kw.update(quality=int(quality), speed=8)  # speed 8: about half the time of the default, same quality
    elif fmt == "HEIF":
        require_heif()
        # x265's "ultrafast" preset: several times faster than the default at the same quality setting
        # (larger files); exif/xmp None because pillow-heif copies them from the image unless told not to
        kw.update(quality=int(quality), exif=None, xmp=None, enc_params={"preset": "ultrafast"})

    if target_bytes and fmt in ("HEIF", "AVIF", "WEBP") and not lossless:  # each frame its share of the bytes
        share = int(target_bytes) * (frames[0].shape[0] * frames[0].shape[1]) // sum(a.shape[0] * a.shape[1] for a in frames)
        kw["quality"] = _quality_for_size(frames[0], fmt, max(1, share), kw)

    if fmt in ("HEIF", "AVIF") and n == 1 and frames[0].shape[0] * frames[0].shape[1] > GRID_PIXELS:
        return _encode_grid(frames.pop(0), fmt, kw)

    has_alpha = False
    ims = []
    while frames:  # convert and drop each array: never the pixels twice over
        a = frames.pop(0)
        if fmt == "GIF":  # fresh palette images whose .info holds only the transparency index
            im, alpha = _gif_image(a)
            has_alpha = has_alpha or alpha
        else:
            im = Image.fromarray(a)
            im.info.clear()  # nothing may ride along (Pillow reads .info when saving)
        del a
        ims.append(im)
    if len(ims) > 1:
        kw.update(save_all=True, append_images=ims[1:])
    if (len(ims) > 1 and fmt in _TIMED_FORMATS) or fmt == "GIF":
        if duration is not None:
            if isinstance(duration, (int, np.integer)):
                kw["duration"] = int(duration)
            else:
                durations = [int(d) for d in duration]
                if len(durations) != len(ims):
                    raise ImageWriteError(f"{len(durations)} durations for {len(ims)} frames")
                kw["duration"] = durations if len(ims) > 1 else durations[0]
        if loop is not None and fmt in ("GIF", "WEBP", "PNG", "AVIF") and len(ims) > 1:
            kw["loop"] = int(loop)
        if fmt == "GIF":
            kw["optimize"] = False
            kw["disposal"] = 2 if has_alpha else 1
    return _save(ims, fmt, kw)


#: HEIF and AVIF stills of more pixels than this are written as grids of GRID_TILE-pixel tiles (as phones do):
#: an encoder given the whole picture would hold over a gigabyte for 60 megapixels.
GRID_PIXELS = 4096 * 4096
GRID_TILE = 1024


def _encode_grid(a: np.ndarray, fmt: str, kw: dict) -> bytes:
    """A large HEIF/AVIF still as a grid of tiles, each encoded alone (:mod:`minface.metadata._heif_grid`)."""
    from .errors import ImageWriteError
    from .metadata._binary import _Malformed
    from .metadata._heif_grid import encode_grid

    try:
        return encode_grid(a, GRID_TILE, lambda part: _save([Image.fromarray(part)], fmt, dict(kw)))
    except _Malformed as exc:
        raise ImageWriteError(f"cannot assemble the {fmt} grid: {exc}") from exc


def _save(ims: list, fmt: str, kw: dict) -> bytes:
    from .errors import ImageWriteError

    buf = io.BytesIO()
    try:
        ims[0].save(buf, format=fmt, **kw)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ImageWriteError(f"cannot encode {fmt}: {exc}") from exc
    finally:
        ims.clear()
    return buf.getvalue()


def _quality_for_size(a: np.ndarray, fmt: str, target: int, kw: dict) -> int:
    """The quality at which ``a`` encodes to about ``target`` bytes in ``fmt`` (10-95).

    A re-encoded photo should cost about what the original did: at a fixed
    quality setting a phone's HEIC grows three times (x265's scale is not the
    phone encoder's). The quality is searched on a sample of the image (16 tiles
    of 256 pixels spread over it; the whole image when it is small), whose bytes
    per pixel predict the whole image's within about a third, by bisection.
    """
    sample = _size_sample(a)
    scale = (a.shape[0] * a.shape[1]) / (sample.shape[0] * sample.shape[1])
    base = {k: v for k, v in kw.items() if k != "quality"}
    im = Image.fromarray(sample)
    lo, hi, best = 10, 95, 10
    while lo <= hi:
        q = (lo + hi) // 2
        if len(_save([im], fmt, {**base, "quality": q})) * scale <= target:
            best, lo = q, q + 1
        else:
            hi = q - 1
        im = Image.fromarray(sample)
    return best


def _size_sample(a: np.ndarray, tile: int = 256, k: int = 4) -> np.ndarray:
    """A mosaic of ``k`` x ``k`` tiles spread over ``a`` (``a`` itself when it is not much larger)."""
    h, w = a.shape[:2]
    if h * w <= 2 * (tile * k) ** 2 or h < tile or w < tile:
        return a
    ys = np.linspace(0, h - tile, k).astype(int)
    xs = np.linspace(0, w - tile, k).astype(int)
    return np.ascontiguousarray(np.concatenate([np.concatenate([a[y : y + tile, x : x + tile] for x in xs], axis=1) for y in ys]))


def _frame_array(a: object) -> np.ndarray:
    """Validate one frame; keep grayscale as 2-D, RGB(A) as 3-D, make it ``uint8``."""
    from .errors import ImageWriteError

    if not isinstance(a, np.ndarray):
        raise ImageWriteError(
            f"save_image takes numpy arrays, got {type(a).__name__}"
            + ("; pass numpy.asarray(image)" if isinstance(a, Image.Image) else "")
        )
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    try:
        if a.ndim == 2:
            return a if a.dtype == np.uint8 else _array_to_uint8(a)[:, :, 0]
        return _array_to_uint8(a, alpha=a.ndim == 3 and a.shape[2] == 4)
    except UnsupportedImageError as exc:
        raise ImageWriteError(str(exc)) from exc


def _gif_image(a: np.ndarray) -> tuple[Image.Image, bool]:
    """A palette image for GIF (exact when the frame has at most 256 colours) and whether it has transparency.

    Works in bands of rows through a 24-bit colour lookup table, so a large frame
    costs its palette indices (one byte a pixel) and a band, not several copies.
    """
    h, w = a.shape[:2]
    rows = max(1, _BAND_BYTES // max(1, w * 4))

    def packed(y: int) -> tuple[np.ndarray, np.ndarray | None]:
        part = a[y : y + rows]
        rgb = np.repeat(part[:, :, None], 3, axis=2) if part.ndim == 2 else part[:, :, :3]
        p = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
        clear = (part[:, :, 3] < 128) if (part.ndim == 3 and part.shape[2] == 4) else None
        return p, clear

    colours = np.zeros(0, np.uint32)
    any_clear = False
    too_many = False
    for y in range(0, h, rows):
        p, clear = packed(y)
        if clear is not None and clear.any():
            any_clear = True
            p = p[~clear]
        colours = np.union1d(colours, np.unique(p))
        if len(colours) > 256:
            too_many = True
            break
    room = 255 if any_clear else 256
    index = np.empty((h, w), np.uint8)
    if not too_many and len(colours) <= room:
        lut = np.zeros(1 << 24, np.uint8)
        lut[colours] = np.arange(len(colours), dtype=np.uint8)
        palette = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], axis=1).astype(np.uint8)
        for y in range(0, h, rows):
            index[y : y + rows] = lut[packed(y)[0]]
        del lut
    else:  # more colours than a GIF frame can hold: one palette from a sample, every band mapped to it (lossy)
        step = max(1, int(np.sqrt(h * w / 1_000_000)))
        rgb_sample = a[::step, ::step] if a.ndim == 2 else a[::step, ::step, :3]
        pal_im = Image.fromarray(np.ascontiguousarray(rgb_sample)).convert("RGB").quantize(colors=room, dither=Image.Dither.NONE)
        palette = np.frombuffer(bytes(pal_im.getpalette() or b"")[: room * 3], np.uint8).reshape(-1, 3)
        for y in range(0, h, rows):
            part = a[y : y + rows]
            band = Image.fromarray(np.ascontiguousarray(part if part.ndim == 2 else part[:, :, :3])).convert("RGB")
            index[y : y + rows] = np.asarray(band.quantize(palette=pal_im, dither=Image.Dither.NONE))
    pal = np.zeros((256, 3), np.uint8)
    pal[: len(palette)] = palette
    if any_clear:
        t = len(palette)
        for y in range(0, h, rows):
            clear = packed(y)[1]
            if clear is not None:
                index[y : y + rows][clear] = t
    im = Image.frombuffer("P", (w, h), index, "raw", "P", 0, 1).copy()
    del index
    im.putpalette(pal.tobytes())
    if any_clear:
        im.info["transparency"] = len(palette)
    return im, any_clear


# folders can be walked without following links (POSIX; not Windows)
_DIR_FD = {os.open, os.rename, os.mkdir, os.stat, os.unlink} <= os.supports_dir_fd


def _link_error(path: str | os.PathLike, inside: bool) -> Exception:
    from .errors import ImageWriteError

    where = " inside the output folder" if inside else ""
    return ImageWriteError(f"{path}: is a symbolic link{where}; minface never writes through or replaces links")


def atomic_write(
    dst: str | os.PathLike,
    data: bytes | bytearray | memoryview,
    *,
    mode: int | None = None,
    root: str | os.PathLike | None = None,
) -> None:
    """Write ``data`` to ``dst`` so that ``dst`` is either the old file or the whole new one.

    The bytes go to a temporary file in the same folder, named as :mod:`minface._temp` says
    (``.<name>.<owner>-<random>.minface-tmp``),
    are flushed and synced to disk, and the temporary file is renamed over ``dst``.
    On any failure the temporary file is removed and ``dst`` is untouched.

    Nothing is ever written through a symbolic link: ``dst`` must not be one (it
    would be replaced, or written through), and with ``root`` neither may any
    folder between ``root`` and ``dst``, which are created when missing. The
    folders are opened one by one without following links, so a link swapped
    in while writing is refused too.

    Parameters
    ----------
    dst : path
        The file to write. Without ``root``, its folder must exist.
    data : bytes
    mode : int, optional
        Permission bits of the new file (default: ``0o666`` less the umask).
    root : path, optional
        The output folder ``dst`` lies in (itself may be a link: the caller chose it).

    Raises
    ------
    ImageWriteError
        The file cannot be written, or a link is in the way.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> atomic_write(os.path.join(d, "sub", "x.bin"), b"abc", root=d)
    >>> open(os.path.join(d, "sub", "x.bin"), "rb").read(), os.listdir(os.path.join(d, "sub"))
    (b'abc', ['x.bin'])
    """
    import stat as stat_

    from .errors import ImageWriteError

    path = Path(os.fspath(dst))
    if root is None:
        base, parts = path.parent, ()
    else:
        rel = os.path.relpath(os.path.abspath(path.parent), os.path.abspath(root))
        if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
            raise ImageWriteError(f"{path}: lies outside the output folder {root}")
        base, parts = Path(root), () if rel == os.curdir else Path(rel).parts
    if not _DIR_FD:  # pragma: no cover - Windows
        _atomic_write_by_path(path, data, mode, base, parts)
        return
    o_dir = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        dir_fd = os.open(base, o_dir)
    except OSError as exc:
        raise ImageWriteError(f"{path}: cannot write in {base} ({exc.strerror or exc})") from exc
    here = base
    try:
        for part in parts:
            here = here / part
            try:
                os.mkdir(part, 0o777, dir_fd=dir_fd)
            except FileExistsError:
                pass
            except OSError as exc:
                raise ImageWriteError(f"{path}: cannot create the folder {here} ({exc.strerror or exc})") from exc
            try:
                nxt = os.open(part, o_dir | os.O_NOFOLLOW, dir_fd=dir_fd)
            except OSError as exc:
                if stat_.S_ISLNK(os.stat(part, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                    raise _link_error(here, True) from exc
                raise ImageWriteError(f"{path}: cannot write in {here} ({exc.strerror or exc})") from exc
            os.close(dir_fd)
            dir_fd = nxt
        try:
            if stat_.S_ISLNK(os.stat(path.name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                raise _link_error(path, root is not None)
        except FileNotFoundError:
            pass
        except OSError as exc:  # a name too long for the file system, a component that is not a folder
            raise ImageWriteError(f"{path}: cannot write ({exc.strerror or exc})") from exc
        for _ in range(100):
            tmp = temporary_name(path.name)
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise ImageWriteError(f"{path}: cannot write in {path.parent} ({exc.strerror or exc})") from exc
        else:  # pragma: no cover
            raise ImageWriteError(f"{path}: cannot find a free temporary name in {path.parent}")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fchmod(f.fileno(), (0o666 & ~_UMASK) if mode is None else mode)
                os.fsync(f.fileno())
            os.rename(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)  # replaces dst, as os.replace
        except BaseException as exc:
            try:
                os.unlink(tmp, dir_fd=dir_fd)
            except OSError:
                pass
            if isinstance(exc, OSError) and not isinstance(exc, ImageWriteError):
                raise ImageWriteError(f"{path}: cannot write ({exc.strerror or exc})") from exc
            raise
        try:  # make the rename itself durable
            os.fsync(dir_fd)
        except OSError:
            pass
    finally:
        os.close(dir_fd)


def _atomic_write_by_path(
    path: Path, data: bytes | bytearray | memoryview, mode: int | None, base: Path, parts: tuple[str, ...]
) -> None:  # pragma: no cover - systems without dir_fd support
    from .errors import ImageWriteError

    here = base
    for part in parts:
        here = here / part
        if here.is_symlink():
            raise _link_error(here, True)
        here.mkdir(exist_ok=True)
    if path.is_symlink():
        raise _link_error(path, bool(parts))
    for _ in range(100):
        tmp = path.parent / temporary_name(path.name)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise ImageWriteError(f"{path}: cannot write in {path.parent} ({exc.strerror or exc})") from exc
    else:
        raise ImageWriteError(f"{path}: cannot find a free temporary name in {path.parent}")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, (0o666 & ~_UMASK) if mode is None else mode)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, ImageWriteError):
            raise ImageWriteError(f"{path}: cannot write ({exc.strerror or exc})") from exc
        raise


__all__ += ["save_image", "encode_image", "atomic_write", "TEMP_SUFFIX", "temporary_target", "SAVE_FORMATS", "require_heif", "require_avif", "identify"]
