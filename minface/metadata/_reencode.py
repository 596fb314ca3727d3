"""Re-encoding from decoded pixels, and checking that a stripped file decodes to the source's pixels."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from PIL import Image

from .. import images as _images
from ..errors import CorruptImageError, DecompressionBombError, ImageError, ImageWriteError, MetadataError
from ._icc import _icc_decision
from ._source import _open_image
from ._webp import _webp_is_lossy


def _frame_pixels(im: Image.Image) -> np.ndarray:
    """One frame as uint8: 2-D for grayscale, RGB or RGBA otherwise."""
    mode = im.mode
    if mode in ("L", "RGB", "RGBA"):
        return np.asarray(im)
    if mode == "1":
        return np.asarray(im.convert("L"))
    if mode.startswith("I;16") or mode in ("I", "F"):
        a = np.asarray(im)
        return _images._to_uint8(a, mode != "I" and mode != "F") if a.dtype != np.uint8 else a
    has_alpha = mode in ("LA", "La", "PA", "RGBa") or (mode == "P" and "transparency" in im.info)
    return np.asarray(im.convert("RGBA" if has_alpha else "RGB"))


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
        if fmt in ("HEIF", "JPEG"):
            indices = [im.tell()]
            if n > 1:
                notes.append(f"{n - 1} secondary image(s) dropped")
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
        raise DecompressionBombError(f"{name}: {exc}") from exc
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
    quality: int,
) -> tuple[bytes, str, list[str], list[np.ndarray]]:
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
    kw: dict[str, Any] = {"icc_profile": icc, "quality": quality}
    if fmt == "WEBP":
        kw["lossless"] = not _webp_is_lossy(d)
    if fmt == "JPEG":
        kw.update(jpeg_qtables=qtables, jpeg_subsampling=sampling, quality=95)
        frames = [f[..., :3] if f.ndim == 3 else f for f in frames]
    if len(frames) > 1 and fmt in ("GIF", "WEBP", "PNG", "AVIF"):
        kw.update(duration=durations, loop=loop)
    try:
        out = _images.encode_image(frames if len(frames) > 1 else frames[0], out_fmt, **kw)
    except ImageWriteError as exc:
        raise ImageWriteError(f"{name}: {exc}") from exc
    return out, state, notes, frames


def _verify(
    d: bytes,
    out: bytes,
    fmt: str,
    name: str,
    expected: list[np.ndarray] | None,
    tag: int,
    max_pixels: int | None,
) -> bool:
    """Whether the output decodes to the source's pixels (raises when the output does not decode).

    ``expected``: the upright frames that were re-encoded; None for a lossless
    rewrite, whose stored pixels are compared with the source's frame by frame.
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
        if expected is None:
            i = _open_image(d, fmt, name, max_pixels)
            try:
                try:
                    i.load()
                except Exception as exc:
                    raise CorruptImageError(f"{name}: cannot decode {fmt} data ({exc})") from exc
                n_in = int(getattr(i, "n_frames", 1) or 1) if fmt != "JPEG" else 1
                n_out = int(getattr(o, "n_frames", 1) or 1)
                if n_in != n_out:
                    return False
                for k in range(n_in):
                    if n_in > 1:
                        i.seek(k)
                        o.seek(k)
                    i.load()
                    o.load()
                    if (i.mode, i.size) != (o.mode, o.size) or i.tobytes() != o.tobytes():
                        return False
                    if n_in > 1 and i.info.get("duration") != o.info.get("duration"):
                        return False
                return True
            finally:
                i.close()
        out_frames = _decode_frames(out, fmt, name, max_pixels)[0]
        return len(expected) == len(out_frames) and all(
            a.shape == b.shape and np.array_equal(a, b) for a, b in zip(expected, out_frames)
        )
    except ImageError:
        raise
    except Exception as exc:
        raise MetadataError(f"{name}: the stripped file does not decode ({exc}); nothing written") from exc
    finally:
        o.close()
