"""Encode pixel arrays to image files: pixels in, one file out, nothing else.

Sits above :mod:`minface.metadata` (it cleans ICC profiles and writes HEIF grids with
it) and below the pipelines.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image

from ..errors import UnsupportedImageError
from ..media import FORMAT_EXTENSIONS
from .atomic import atomic_write
from .decode import _BAND_BYTES, _EXIF_ORIENTATION, _array_to_uint8, require_avif, require_heif


#: Output formats of :func:`save_image` (Pillow names) and the file extensions that select them.
SAVE_FORMATS: dict[str, tuple[str, ...]] = FORMAT_EXTENSIONS
_FORMAT_ALIASES = {"JPG": "JPEG", "TIF": "TIFF", "HEIC": "HEIF", "HIF": "HEIF", "DIB": "BMP"}
_ANIMATED_FORMATS = frozenset({"GIF", "WEBP", "PNG", "TIFF", "AVIF", "HEIF"})  # TIFF pages, HEIF top-level images
_TIMED_FORMATS = frozenset({"GIF", "WEBP", "PNG", "AVIF"})  # frames with durations
_ICC_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "TIFF", "AVIF", "HEIF"})
_ORIENTATION_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "TIFF"})

#: Pixels for :func:`save_image`: one array, or a list of frames for an animation or pages.
Pixels = Union[np.ndarray, "list[np.ndarray]", "tuple[np.ndarray, ...]"]

__all__ = ["Pixels", "SAVE_FORMATS", "encode_image", "save_image"]


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
    from ..errors import ImageWriteError

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
    from ..metadata._exif import orientation_exif
    from ..metadata._icc import clean_icc_profile
    from ..errors import ImageWriteError

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
    icc = clean_icc_profile(icc_profile) if icc_profile else None
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
            kw["exif"] = orientation_exif(int(exif_orientation))

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
    from ..errors import ImageWriteError
    from ..metadata._binary import _Malformed
    from ..metadata._heif_grid import encode_grid

    try:
        return encode_grid(a, GRID_TILE, lambda part: _save([Image.fromarray(part)], fmt, dict(kw)))
    except _Malformed as exc:
        raise ImageWriteError(f"cannot assemble the {fmt} grid: {exc}") from exc


def _save(ims: list, fmt: str, kw: dict) -> bytes:
    from ..errors import ImageWriteError

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
    from ..errors import ImageWriteError

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


