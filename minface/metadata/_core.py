"""inspect, strip and strip_bytes: pick the container's parser and rewrite, check the result."""

from __future__ import annotations

import os
import warnings
import zlib
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from ..io import decode as _images
from ..io.atomic import atomic_write
from ..errors import CorruptImageError, ImageError, ImageWriteError, MetadataError, MissingDependencyError, UnsupportedImageError
from ._binary import _Malformed, _u32le
from ._gif import _gif_layout, _inspect_gif, _rewrite_gif
from ._heif import NotLossless, rewrite_heif
from ._icc import _icc_decision
from ._jpeg import _inspect_jpeg, _jpeg_icc, _jpeg_layout, _rewrite_jpeg
from ._other_formats import _inspect_isobmff_tail, _inspect_pillow_info, _inspect_tiff
from ._png import _inflate, _inspect_png, _png_chunks, _rewrite_png, _zlib_extra
from ._reencode import _reencode, _verify
from ._reports import MetadataItem, MetadataReport, StripReport, _Collector
from ._source import MetadataSource, _open_image, _read_source, not_an_image, sniff_format
from ._trailer import _trailer_item
from ._webp import _inspect_webp, _rewrite_webp, _webp_layout

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
        raise not_an_image(d, name)
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
            im = _open_image(d, fmt, name, None, complete=True)
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


IccPolicy = Literal["clean", "drop"]


def strip_bytes(
    data: bytes,
    *,
    keep_orientation: bool = True,
    icc: IccPolicy = "clean",
    verify: bool = True,
    max_pixels: int | None = _images.DEFAULT_MAX_PIXELS,
    quality: int | None = None,
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
    src: MetadataSource,
    dst: str | os.PathLike | None = None,
    *,
    keep_orientation: bool = True,
    icc: IccPolicy = "clean",
    in_place: bool = False,
    verify: bool = True,
    max_pixels: int | None = _images.DEFAULT_MAX_PIXELS,
    quality: int | None = None,
    output_root: str | os.PathLike | None = None,
) -> StripReport:
    """Write a copy of ``src`` without metadata to ``dst``.

    Parameters
    ----------
    src : path, bytes or binary file object
        The image file; never modified unless ``in_place`` (and then only replaced
        atomically once the clean file is complete). For bytes in and bytes out
        (an app backend), use :func:`strip_bytes`.
    dst : path
        Where to write; written atomically (temporary file in the same folder,
        fsync, rename). Its folder must exist. Required: without it a
        :class:`TypeError` points to :func:`strip_bytes`.
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
    quality : int, optional
        Quality of lossy re-encodes (a HEIF or AVIF the lossless rewrite cannot
        handle, lossy WebP with the orientation applied). Default: the quality
        that keeps the file about as large as the original. A JPEG re-encoded to
        apply its orientation reuses its own quantization tables and chroma
        subsampling instead.
    output_root : path, optional
        The output folder ``dst`` lies in: missing folders below it are created,
        none may be a symbolic link (see :func:`minface.images.atomic_write`).

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
    TypeError
        No ``dst``: ``strip`` writes a file; :func:`strip_bytes` returns the clean bytes.

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
    if dst is None:
        raise TypeError(
            "minface.strip(src, dst) writes a file and needs dst; for the bytes of an image use "
            "minface.strip_bytes(data), which returns (clean_bytes, report)"
        )
    if not isinstance(dst, (str, os.PathLike)):
        raise TypeError(f"dst must be a path, got {type(dst).__name__}; for bytes out use minface.strip_bytes(data)")
    is_path = isinstance(src, (str, os.PathLike))
    dst_path = Path(os.fspath(dst))
    same = False
    if is_path:
        src_path = Path(os.fspath(src))  # type: ignore[arg-type]
        try:
            same = src_path.resolve() == dst_path.resolve() or (
                os.path.exists(dst_path) and os.path.exists(src_path) and os.path.samefile(src_path, dst_path)
            )
        except OSError as exc:  # a destination the file system cannot name (too long, a file as a folder)
            raise ImageWriteError(f"{dst}: cannot write ({exc.strerror or exc})") from exc
    if same and not in_place:
        raise MetadataError(f"{dst}: the destination is the source; pass in_place=True to replace it")
    if icc not in ("clean", "drop"):
        raise ValueError(f"icc must be 'clean' or 'drop', got {icc!r}")
    data, name = _read_source(src_path if is_path else src)
    out, report = _strip(data, name, keep_orientation, icc, verify, max_pixels, quality)
    mode = None
    if same:
        mode = src_path.stat().st_mode & 0o7777
    atomic_write(dst_path, out, mode=mode, root=output_root)
    return _replace_dst(report, os.fspath(dst_path))


def _replace_dst(report: StripReport, dst: str) -> StripReport:
    from dataclasses import replace

    return replace(report, destination=dst)


_LOSSLESS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "HEIF", "AVIF"})


def _strip(
    d: bytes,
    name: str,
    keep_orientation: bool,
    icc_policy: str,
    verify: bool,
    max_pixels: int | None,
    quality: int | None,
) -> tuple[bytes, StripReport]:
    fmt = sniff_format(d)
    if fmt is None:
        raise not_an_image(d, name)
    before = _inspect_bytes(d, name)
    im = _open_image(d, fmt, name, max_pixels, complete=True)
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
        try:
            out, icc_state, more = _strip_lossless(d, fmt, name, tag, icc_policy)
        except NotLossless as exc:  # a HEIF structure the rewrite does not handle: re-encode, and say so
            lossless, tag = False, None
            notes.append(f"re-encoded: {exc}")
    if lossless:
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


def _strip_lossless(d: bytes, fmt: str, name: str, tag: int | None, policy: str) -> tuple[bytes, str, list[str]]:
    if fmt in ("HEIF", "AVIF"):
        try:
            out, state, notes = rewrite_heif(d, policy)
        except _Malformed as exc:
            raise CorruptImageError(f"{name}: damaged {fmt} file ({exc})") from exc
        if (tag or 1) != 1:  # an orientation Pillow took from Exif or XMP (not irot/imir) goes with them
            o = _open_image(out, fmt, name, None)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if _images.read_orientation(o) != tag:
                        raise NotLossless("its orientation is only in its metadata; applied to the pixels")
            finally:
                o.close()
        return out, state, notes
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
