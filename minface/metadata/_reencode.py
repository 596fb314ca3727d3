"""Re-encoding from decoded pixels, and checking that a stripped file decodes to the source's pixels."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from PIL import Image

from ..io import decode as _images
from ..io import encode as _encode
from ..errors import CorruptImageError, DecompressionBombError, ImageError, ImageWriteError, MetadataError
from ._icc import _icc_decision
from ._source import _open_image
from ._webp import _webp_is_lossy


def _frame_pixels(im: Image.Image) -> np.ndarray:
    """One frame as uint8: 2-D for grayscale, RGB or RGBA otherwise."""
    mode = im.mode
    if mode in ("L", "RGB", "RGBA"):
        return _images.pil_array(im)
    if mode == "1":
        return _images.pil_array(im, "L")
    if mode.startswith("I;16"):
        return _images.pil_array(im, sixteen_bit=True)
    if mode in ("I", "F"):
        a = np.asarray(im)
        return _images._to_uint8(a, False) if a.dtype != np.uint8 else a
    has_alpha = mode in ("LA", "La", "PA", "RGBa") or (mode == "P" and "transparency" in im.info)
    return _images.pil_array(im, "RGBA" if has_alpha else "RGB")


def _decode_frames(d: bytes, fmt: str, name: str, max_pixels: int | None):
    """Upright frames, their durations, the loop count, notes, JPEG tables and subsampling.

    The orientation is read after decoding: Pillow turns TIFF pages upright while
    loading them (and then drops their orientation tag), other formats not.
    """
    im = _open_image(d, fmt, name, max_pixels)
    frames: list[np.ndarray] = []
    durations: list[int] = []
    notes: list[str] = []
    try:
        n = int(getattr(im, "n_frames", 1) or 1)
        indices = list(range(n))
        if fmt == "JPEG":  # a multi-picture JPEG: a JPEG holds one picture
            indices = [im.tell()]
            if n > 1:
                notes.append(f"{n - 1} secondary image(s) dropped")
        elif n > 1 and fmt in ("HEIF", "AVIF"):
            notes.append(f"{n} {'frames' if fmt == 'AVIF' else 'top-level images'} re-encoded")
        loop = im.info.get("loop")
        orientation = None
        for i in indices:
            if n > 1:
                im.seek(i)
            if fmt == "TIFF" and i > 0:
                tags = getattr(im, "tag_v2", {})
                if int(tags.get(254, 0) or 0) & 1:
                    notes.append(f"reduced-resolution page {i + 1} dropped")
                    continue
            im.load()
            if orientation is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    orientation = _images.read_orientation(im)
            frames.append(_images.apply_orientation(_frame_pixels(im), orientation))
            durations.append(int(im.info.get("duration", 0) or 0))
        if im.mode == "CMYK":
            notes.append("CMYK converted to RGB")
        qtables = getattr(im, "quantization", None) if fmt == "JPEG" else None
        sampling = None
        if fmt == "JPEG":
            from PIL import JpegImagePlugin

            sampling = JpegImagePlugin.get_sampling(im)
            sampling = sampling if sampling in (0, 1, 2) else None
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"{name}: {exc} ({_images.BOMB_HINT})") from exc
    except ImageError:
        raise
    except Exception as exc:
        raise CorruptImageError(f"{name}: cannot decode {fmt} data ({exc or type(exc).__name__})") from exc
    finally:
        im.close()
    return frames, durations, loop, notes, qtables, sampling


def _reencode(
    d: bytes,
    fmt: str,
    name: str,
    orientation: int,
    policy: str,
    pil_icc: bytes | None,
    max_pixels: int | None,
    quality: int | None,
) -> tuple[bytes, str, list[str], list[tuple]]:
    """Re-encode from the decoded, upright pixels; returns the bytes, ICC state, notes and the frames' digests."""
    frames, durations, loop, notes, qtables, sampling = _decode_frames(d, fmt, name, max_pixels)
    if not frames:
        raise CorruptImageError(f"{name}: no image to keep")
    icc, state = _icc_decision(pil_icc, policy)
    out_fmt = "JPEG" if fmt == "JPEG" else fmt
    if icc is not None:
        want = b"GRAY" if frames[0].ndim == 2 else b"RGB "
        if icc[16:20] != want or out_fmt in ("GIF", "BMP"):
            icc, state = None, "dropped-unsupported"
            notes.append("the colour profile does not fit the re-encoded pixels and was dropped")
    kw: dict[str, Any] = {"icc_profile": icc, "quality": quality or 90}
    if quality is None and out_fmt in ("HEIF", "AVIF", "WEBP"):  # about the size of the original
        kw["target_bytes"] = len(d)
    if fmt == "WEBP":
        kw["lossless"] = not _webp_is_lossy(d)
    if fmt == "JPEG":
        kw.update(jpeg_qtables=qtables, jpeg_subsampling=sampling, quality=95)
        frames = [f[..., :3] if f.ndim == 3 else f for f in frames]
    if len(frames) > 1 and fmt in ("GIF", "WEBP", "PNG", "AVIF"):
        kw.update(duration=durations, loop=loop)
    digests = [_digest(f) for f in frames]
    frames = _encode._HandedOver(frames)  # the encoder frees each frame once converted
    try:
        out = _encode.encode_image(frames, out_fmt, **kw)
    except ImageWriteError as exc:
        raise ImageWriteError(f"{name}: {exc}") from exc
    return out, state, notes, digests


def _digest(a: np.ndarray) -> tuple:
    """A frame's shape and a SHA-256 of its pixels, computed band by band (no copy of the frame)."""
    import hashlib

    h = hashlib.sha256()
    rows = max(1, (1 << 22) // max(1, a[0].nbytes))
    for y in range(0, a.shape[0], rows):
        h.update(np.ascontiguousarray(a[y : y + rows]).data)
    return a.shape, h.hexdigest()


def _pil_digests(d: bytes, fmt: str, name: str, max_pixels: int | None) -> list[tuple]:
    """``(mode, size, duration, SHA-256)`` of each stored frame, decoded one at a time and hashed in bands."""
    import hashlib

    im = _open_image(d, fmt, name, max_pixels)
    try:
        n = int(getattr(im, "n_frames", 1) or 1) if fmt != "JPEG" else 1
        out = []
        for k in range(n):
            if n > 1:
                im.seek(k)
            try:
                im.load()
            except Exception as exc:
                raise CorruptImageError(f"{name}: cannot decode {fmt} data ({exc})") from exc
            w, h = im.size
            rows = max(1, (1 << 22) // max(1, w * 4))
            digest = hashlib.sha256()
            for y in range(0, h, rows):
                digest.update(im.crop((0, y, w, min(h, y + rows))).tobytes())
            out.append((im.mode, im.size, im.info.get("duration") if n > 1 else None, digest.hexdigest()))
        return out
    finally:
        im.close()


def _verify(
    d: bytes,
    out: bytes,
    fmt: str,
    name: str,
    expected: list[tuple] | None,
    tag: int,
    max_pixels: int | None,
) -> bool:
    """Whether the output decodes to the source's pixels (raises when the output does not decode).

    ``expected``: :func:`_digest` of the upright frames that were re-encoded;
    None for a lossless rewrite, whose stored frames are compared with the
    source's. Frames are decoded one at a time and compared by their SHA-256, so
    a large image is never held twice.
    """
    try:
        o = _open_image(out, fmt, name + " (stripped)", max_pixels)
    except ImageError as exc:
        raise MetadataError(f"{name}: the stripped file does not open ({exc}); nothing written") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if _images.read_orientation(o) != tag:
                raise MetadataError(f"{name}: the stripped file has the wrong orientation; nothing written")
    finally:
        o.close()
    try:
        if expected is None:
            source = _pil_digests(d, fmt, name, max_pixels)
            try:
                return source == _pil_digests(out, fmt, name + " (stripped)", max_pixels)
            except ImageError as exc:
                raise MetadataError(f"{name}: the stripped file does not decode ({exc}); nothing written") from exc
        out_frames = _decode_frames(out, fmt, name, max_pixels)[0]
        return expected == [_digest(f) for f in out_frames]
    except ImageError:
        raise
    except Exception as exc:
        raise MetadataError(f"{name}: the stripped file does not decode ({exc}); nothing written") from exc
