"""One file: load (orientation applied) -> detect -> redact -> save from pixels only.

:func:`scrub` is the main job of minface for a single image. The output has
the input's format, every detected face destroyed, and no metadata at all (an
ICC colour profile is kept in cleaned form, so colours stay right). A file that
fails any step produces no output: the new file is written to a temporary name
and renamed into place only when complete.
"""

from __future__ import annotations

import io
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from .engine.records import error_record
from .detect import Detector, detect
from .errors import DecompressionBombError, MinfaceError, UnsupportedImageError
from .io.atomic import atomic_write
from .io.decode import BOMB_HINT, DEFAULT_MAX_PIXELS, ImageSource, _open, _pil_to_uint8, apply_orientation, pil_array, read_orientation
from .io.encode import _HandedOver, encode_image
from .planes import merge_planes, paint_alpha, searched_planes
from .colors import Color
from .redact import DEFAULT_PAD, Method, Shape, redact, regions
from .results import OutputExistsError, ScrubResult, check_destination as _check_destination, text_mode as _text_mode

__all__ = ["scrub", "scrub_bytes", "scrub_many", "ScrubResult", "OutputExistsError", "OUTPUT_FORMAT"]

#: Format written for each format read (multi-picture JPEGs lose their secondary images, with a note).
OUTPUT_FORMAT = {
    "JPEG": "JPEG",
    "MPO": "JPEG",
    "PNG": "PNG",
    "WEBP": "WEBP",
    "TIFF": "TIFF",
    "BMP": "BMP",
    "GIF": "GIF",
    "AVIF": "AVIF",
    "HEIF": "HEIF",
}
_ALPHA_FORMATS = {"PNG", "WEBP", "TIFF", "GIF", "AVIF", "HEIF"}


@dataclass
class _Source:
    frames: list[np.ndarray]  # upright uint8: (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA
    format: str
    durations: list[int] | None
    loop: int | None
    icc: bytes | None
    lossless: bool
    jpeg_qtables: list | None
    jpeg_subsampling: int | None
    size: int | None = None  # bytes of the input file, when known
    notes: list[str] = field(default_factory=list)  # what the output does not keep, said in the record


def _read_source(src: ImageSource, name: str, max_pixels: int | None, out_format: str | None = None) -> _Source:
    """Decode every frame upright, with what re-encoding needs; memory: the frames' pixels and a band.

    ``max_pixels`` bounds the pixels of all frames together (an animation of many
    small frames costs as much memory as one large image).
    """
    if isinstance(src, (np.ndarray, Image.Image)):
        raise UnsupportedImageError("scrub reads files (path, bytes or file object); for arrays use redact()")
    with _open(src, name, max_pixels, complete=True) as im:
        fmt = im.format or "PNG"
        size = _source_size(src)
        n = int(getattr(im, "n_frames", 1) or 1)
        notes = []
        if n > 1 and fmt not in ("GIF", "WEBP", "PNG", "AVIF", "HEIF"):  # AVIF: frames; HEIF: top-level images
            if fmt == "MPO":  # a JPEG holds one picture: the others (previews, a stereo pair) are not written
                notes.append(f"{n - 1} secondary picture(s) of the multi-picture JPEG dropped (a JPEG holds one)")
                n = 1
            else:
                raise UnsupportedImageError(f"{name}: {fmt} with {n} pages/frames is not supported")
        total = _frames_pixels(im, n)
        if max_pixels is not None and total > max_pixels:
            raise DecompressionBombError(
                f"{name}: {n} frames of {im.size[0]}x{im.size[1]} = {total:,} pixels "
                f"exceed max_pixels={max_pixels:,} in total ({BOMB_HINT})"
            )
        grey = im.mode in ("L", "LA", "1", "I;16", "I", "F") and not im.info.get("transparency")
        keep_alpha = (out_format or OUTPUT_FORMAT.get(fmt)) in _ALPHA_FORMATS and (
            im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
        )
        frames, durations = [], []
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                first = im.tell()  # a HEIF's primary image, which need not be its first: first again
                for i in [first, *(k for k in range(n) if k != first)]:
                    if n > 1:
                        im.seek(i)
                    im.load()
                    if not frames:  # the first (primary) picture's orientation and colour profile
                        orientation, icc = read_orientation(im), im.info.get("icc_profile") or None
                    if n == 1 and not (grey and im.mode == "L"):
                        frame = _pil_to_uint8(im, keep_alpha)
                    else:
                        frame = pil_array(im, "L" if grey and n == 1 else ("RGBA" if keep_alpha else "RGB"))
                    if grey and frame.ndim == 3 and frame.shape[2] == 3:
                        frame = np.ascontiguousarray(frame[:, :, 0])
                    frames.append(frame)
                    durations.append(int(im.info.get("duration", 0) or 0))
        except MinfaceError:
            raise
        except MemoryError as exc:
            raise DecompressionBombError(f"{name}: not enough memory to decode {n} frame(s) of {im.size}") from exc
        except Exception as exc:
            from .errors import CorruptImageError

            raise CorruptImageError(f"{name}: cannot decode {fmt} data ({exc or type(exc).__name__})") from exc
        if icc and icc[16:20] != (b"GRAY" if frames[0].ndim == 2 else b"RGB "):
            icc = None  # e.g. a CMYK profile: Pillow converted the pixels to RGB, the profile no longer applies
        qtables = getattr(im, "quantization", None) if fmt in ("JPEG", "MPO") else None
        subsampling = None
        if qtables is not None:
            from PIL import JpegImagePlugin

            subsampling = JpegImagePlugin.get_sampling(im)
            subsampling = subsampling if subsampling in (0, 1, 2) else None
        loop = im.info.get("loop") if n > 1 else None
        lossless = fmt == "WEBP" and _webp_is_lossless(src)
    if orientation != 1:
        frames = [apply_orientation(f, orientation) for f in frames]
    return _Source(
        frames,
        fmt,
        durations if n > 1 and fmt != "HEIF" else None,
        loop,
        icc,
        lossless,
        [list(t) for t in qtables.values()] if qtables else None,
        subsampling,
        size,
        notes,
    )


def _frames_pixels(im: Image.Image, n: int) -> int:
    """Pixels of the first ``n`` frames; the top-level images of a HEIF each have their own size."""
    if n > 1 and im.format == "HEIF":
        try:
            return sum(int(f.size[0]) * int(f.size[1]) for f in list(im._heif_file)[:n])  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - fall back to the first image's size
            pass
    return n * im.size[0] * im.size[1]


def _source_size(src: ImageSource) -> int | None:
    if isinstance(src, (bytes, bytearray, memoryview)):
        return len(src)
    if isinstance(src, (str, os.PathLike)):
        try:
            return os.stat(src).st_size
        except OSError:
            return None
    return None


def _webp_is_lossless(src: ImageSource) -> bool:
    """Whether a WebP file's image chunk is VP8L (lossless); reads the RIFF chunk list."""
    try:
        if isinstance(src, (str, os.PathLike)):
            with open(src, "rb") as f:
                head = f.read(1 << 16)
        elif isinstance(src, (bytes, bytearray, memoryview)):
            head = bytes(src[: 1 << 16])
        else:
            pos = src.tell()  # type: ignore[union-attr]
            src.seek(0)  # type: ignore[union-attr]
            head = src.read(1 << 16)  # type: ignore[union-attr]
            src.seek(pos)  # type: ignore[union-attr]
    except OSError:
        return False
    pos = 12
    while pos + 8 <= len(head):
        kind = head[pos : pos + 4]
        size = int.from_bytes(head[pos + 4 : pos + 8], "little")
        if kind in (b"VP8L", b"VP8 ", b"ANMF"):
            return kind == b"VP8L" or (kind == b"ANMF" and b"VP8L" in head[pos + 24 : pos + 40])
        pos += 8 + size + (size & 1)
    return False


def _name(src: ImageSource) -> str:
    if isinstance(src, (str, os.PathLike)):
        return os.fspath(src)  # type: ignore[return-value]
    return "<bytes>" if isinstance(src, (bytes, bytearray, memoryview)) else str(getattr(src, "name", "<file>"))


def scrub(
    src: str | os.PathLike | bytes | io.BufferedIOBase,
    dst: str | os.PathLike,
    *,
    detector: Detector | None = None,
    preset: str = "balanced",
    min_face: float | None = None,
    method: Method = "fill",
    shape: Shape = "ellipse",
    pad: float = DEFAULT_PAD,
    color: Color = (0, 0, 0),
    blocks: int = 6,
    strength: float = 0.25,
    quality: int | None = None,
    format: str | None = None,
    overwrite: bool = False,
    in_place: bool = False,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    output_root: str | os.PathLike | None = None,
    video_quality: int | None = None,
    keep_audio: bool = False,
    documents: bool = False,
    text: str | None = None,
) -> ScrubResult:
    """Write a copy of ``src`` to ``dst`` with every face destroyed and no metadata.

    A video file (told by its content: MP4, MOV, M4V, MKV, WebM, AVI) is
    scrubbed frame by frame into an MP4 by :func:`minface.video.scrub_video`
    (``pip install 'minface[video]'``), and the result is a
    :class:`~minface.video.scrub.VideoScrubResult`.

    Parameters
    ----------
    src : path, bytes or binary file object
        JPEG, PNG, WebP, TIFF, BMP, GIF (animated: every frame), AVIF, HEIF
        (``minface[heif]``). The EXIF orientation is applied, so the output is
        upright and needs no orientation tag.
    dst : path
        Output file, written in the input's format (a multi-picture JPEG becomes a
        plain JPEG) unless ``format`` says otherwise. Its folder must exist (or
        lie below ``output_root``). It is never written through a symbolic link.
    detector : Detector, optional
        A detector to reuse; default: a shared one for ``preset`` and ``min_face``.
    method, shape, pad, color, blocks, strength
        How faces are destroyed (:func:`minface.redact.redact`).
    quality : int, optional
        Quality of lossy outputs (JPEG, lossy WebP, AVIF, HEIF). Default: a JPEG is
        re-encoded with its own quantization tables; a HEIF, AVIF or lossy WebP at
        the quality that makes it about as large as the input; others use 90.
    format : str, optional
        Output format: ``"JPEG"``, ``"PNG"``, ``"WEBP"``, ``"HEIF"``, ... or
        ``"same"`` (default: the input's).
    overwrite : bool
        Replace an existing ``dst`` (atomically). Default: refuse.
    in_place : bool
        Allow ``dst`` to be ``src``: the original is replaced only once the new file
        is complete.
    max_pixels : int or None
        Decompression-bomb guard (all frames together).
    output_root : path, optional
        The output folder ``dst`` lies in: missing folders below it are created,
        and none of them may be a symbolic link (see :func:`minface.images.atomic_write`).
    video_quality, keep_audio
        Videos only: the H.264 constant rate factor (0-51, default 20) and
        whether the audio is kept (default: dropped).
    documents : bool
        Also destroy documents in the photo (:mod:`minface.documents`): ID numbers,
        card numbers, MRZ lines, phones, e-mails, identity-document fields, every
        line of a proved document and its portrait (needs ONNX Runtime).
    text : {None, "all"}
        ``"all"``: destroy every text region the detector finds (plates, badges,
        screens, signs), without reading it.

    Returns
    -------
    ScrubResult
        ``status="ok"``, with every face and the region painted over it.

    Raises
    ------
    minface.MinfaceError
        Any failure (unreadable input, bad options, write error); nothing is written.

    Examples
    --------
    >>> import tempfile, os, minface
    >>> from importlib import resources
    >>> example = resources.files("minface") / "examples" / "group.jpg"
    >>> out = os.path.join(tempfile.mkdtemp(), "group.jpg")
    >>> result = minface.scrub(example, out, preset="fast")
    >>> result.status, len(result.faces) >= 5
    ('ok', True)
    >>> from PIL import Image
    >>> len(Image.open(out).getexif()), "comment" in Image.open(out).info
    (0, False)
    """
    start = time.perf_counter()
    name = _name(src)
    video = _video_format(src)
    if video is not None:
        from .video.scrub import scrub_video

        return scrub_video(
            src,  # type: ignore[arg-type]
            dst,
            detector=detector,
            preset=preset,
            min_face=min_face,
            method=method,
            shape=shape,
            pad=pad,
            color=color,
            blocks=blocks,
            strength=strength,
            video_quality=video_quality,
            keep_audio=keep_audio,
            overwrite=overwrite,
            output_root=output_root,
            format=video,
            documents=documents,
            text=text,
        )
    mode = _check_destination(src, dst, overwrite, in_place)
    style = dict(method=method, shape=shape, pad=pad, color=color, blocks=blocks, strength=strength, quality=quality, format=format)
    data, result = _scrub_source(src, name, detector, preset, min_face, max_pixels, style, _text_mode(documents, text))
    atomic_write(dst, data, mode=mode, root=output_root)
    del data
    result.output = os.fspath(dst)
    result.seconds = round(time.perf_counter() - start, 4)
    return result


def _video_format(src: Any) -> str | None:
    """The video format of a file path (sniffed from its content), or None for anything else."""
    if not isinstance(src, (str, os.PathLike)):
        return None
    from .media import classify, read_head

    try:
        kind = classify(src, read_head(src))
    except OSError:
        return None
    return kind.format if kind.kind == "video" else None


def scrub_bytes(
    data: bytes,
    *,
    name: str = "<bytes>",
    detector: Detector | None = None,
    preset: str = "balanced",
    min_face: float | None = None,
    method: Method = "fill",
    shape: Shape = "ellipse",
    pad: float = DEFAULT_PAD,
    color: Color = (0, 0, 0),
    blocks: int = 6,
    strength: float = 0.25,
    quality: int | None = None,
    format: str | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    documents: bool = False,
    text: str | None = None,
) -> tuple[bytes, ScrubResult]:
    """:func:`scrub` from bytes to bytes, for storage that is not a local file system.

    Returns the output file's bytes and the result (its ``output`` is None:
    the caller decides where the bytes go). Raises on any failure.
    ``documents`` and ``text`` are those of :func:`scrub`.

    >>> from importlib import resources
    >>> data = (resources.files("minface") / "examples" / "group.jpg").read_bytes()
    >>> out, result = scrub_bytes(data, preset="fast")
    >>> out[:2], result.format, len(result.faces) >= 5
    (b'\\xff\\xd8', 'JPEG', True)
    """
    start = time.perf_counter()
    style = dict(method=method, shape=shape, pad=pad, color=color, blocks=blocks, strength=strength, quality=quality, format=format)
    out, result = _scrub_source(data, name, detector, preset, min_face, max_pixels, style, _text_mode(documents, text))
    result.seconds = round(time.perf_counter() - start, 4)
    return out, result


def _scrub_source(
    src: ImageSource,
    name: str,
    detector: Detector | None,
    preset: str,
    min_face: float | None,
    max_pixels: int | None,
    style: dict[str, Any],
    text_mode: str | None = None,
) -> tuple[bytes, ScrubResult]:
    """Decode, detect and redact every frame, encode; the shared core of scrub and scrub_bytes."""
    source = _read_source(src, name, max_pixels, _out_format(style.get("format")))
    faces, texts = [], []
    search = detector if detector is not None else (lambda rgb: detect(rgb, preset=preset, min_face=min_face))
    for f in source.frames:  # each plane searched (minface.planes), an RGB copy of one at a time
        found = []
        for plane, rgb in searched_planes(f):
            found.append((plane, search(rgb)))
            if text_mode is not None and plane == "colour":
                from .documents.finder import shared_finder

                texts.append(shared_finder().find(rgb, text_mode, portraits=lambda crop: search(crop).xyxy))
            del rgb
        faces.append(merge_planes(found))
    return _render(source, faces, name, texts=texts or None, **style)


def _out_format(fmt: str | None) -> str | None:
    """The output format asked for (``None`` or ``"same"``: the input's); raises on an unknown one."""
    if fmt is None or str(fmt).lower() == "same":
        return None
    from .io.encode import _save_format

    return _save_format(fmt, None)


def _render(
    source: _Source,
    faces_per_frame: list,
    name: str,
    *,
    method: Method = "fill",
    shape: Shape = "ellipse",
    pad: float = DEFAULT_PAD,
    color: Any = (0, 0, 0),
    blocks: int = 6,
    strength: float = 0.25,
    quality: int | None = None,
    format: str | None = None,
    texts: list | None = None,
) -> tuple[bytes, ScrubResult]:
    """Redact the detected faces (and ``texts``' regions) of every frame and encode the file; the record of what was painted.

    The frames are painted in place and handed over to the encoder, which frees
    each once converted: ``source.frames`` is empty afterwards. Peak memory is
    the frames plus one encoder copy, not three copies of the image.
    """
    out_format = _out_format(format) or OUTPUT_FORMAT[source.format]
    h, w = source.frames[0].shape[:2]
    n = len(source.frames)
    faces_out: list[dict[str, Any]] = []
    regions_out: list[dict[str, Any]] = []
    detector_name = None
    paint = dict(method=method, shape=shape, pad=pad, color=color, blocks=blocks, strength=strength)
    for i, (frame, (faces, planes)) in enumerate(zip(source.frames, faces_per_frame)):
        source.frames[i] = paint_alpha(redact(frame, faces, copy=False, **paint), faces, **paint)
        del frame
        if texts is not None and i < len(texts):
            from .documents.paint import paint_text

            for entry in paint_text(source.frames[i], texts[i], method=method, color=color, blocks=blocks, strength=strength):
                if n > 1:
                    entry["frame"] = i
                regions_out.append(entry)
        regs = regions(faces, pad=pad, shape=shape).to_list()
        for rec, reg, plane in zip(faces.to_list(), regs, planes):
            item = {"box": rec["box"], "score": rec["score"], "region": reg}
            if plane != "colour":
                item["plane"] = plane
            if n > 1:
                item["frame"] = i
            faces_out.append(item)
        detector_name = faces.detector
    jpeg = out_format == "JPEG"
    same = out_format == OUTPUT_FORMAT[source.format]
    frames, source.frames = _HandedOver(source.frames), []
    data = encode_image(
        frames,
        out_format,
        quality=quality or 90,
        lossless=source.lossless and out_format == "WEBP",
        icc_profile=source.icc,
        duration=source.durations,
        loop=source.loop if source.loop is not None else 0,
        jpeg_qtables=source.jpeg_qtables if jpeg and same and quality is None else None,
        jpeg_subsampling=source.jpeg_subsampling if jpeg and same else None,
        target_bytes=source.size if same and quality is None and out_format in _MATCHED_FORMATS else None,
    )
    result = ScrubResult(
        input=name,
        output=None,
        status="ok",
        width=w,
        height=h,
        faces=faces_out,
        format=out_format,
        frames=n,
        detector=detector_name,
        notes=list(source.notes),
        regions=regions_out,
    )
    return data, result


#: Lossy outputs re-encoded to about the input's size when no quality is given (JPEG reuses its tables instead).
_MATCHED_FORMATS = frozenset({"HEIF", "AVIF", "WEBP"})


def scrub_many(
    pairs: list[tuple[str | os.PathLike, str | os.PathLike]],
    detector: Detector,
    *,
    batch: int = 8,
    io_threads: int = 1,
    overwrite: bool = False,
    in_place: bool = False,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    output_root: str | os.PathLike | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """Scrub several ``(src, dst)`` files, detecting in batches across them (the GPU path).

    Same outputs and records as :func:`scrub` file by file; a file that fails
    gets an error record (and no output) without affecting the others.
    ``io_threads`` decode and encode files in parallel with each other (the
    codecs release the GIL). ``options``: ``method``, ``shape``, ``pad``,
    ``color``, ``blocks``, ``strength``, ``quality``, ``format``.

    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> from minface import Detector
    >>> d = tempfile.mkdtemp()
    >>> for n in "ab":
    ...     Image.fromarray(np.full((48, 64, 3), 90, np.uint8)).save(f"{d}/{n}.png")
    >>> recs = scrub_many([(f"{d}/{n}.png", f"{d}/{n}-out.png") for n in "ab"], Detector("fast"))
    >>> [r["status"] for r in recs]
    ['ok', 'ok']
    """
    from concurrent.futures import ThreadPoolExecutor

    unknown = set(options) - set(_STYLE_DEFAULTS)
    if unknown:
        raise TypeError(f"scrub_many: unknown options {sorted(unknown)}")
    style = {k: options.get(k, d) for k, d in _STYLE_DEFAULTS.items()}
    records: list[dict[str, Any] | None] = [None] * len(pairs)
    start = time.perf_counter()

    modes: dict[int, int | None] = {}

    def read(i: int) -> _Source | None:
        src, dst = pairs[i]
        try:
            modes[i] = _check_destination(src, dst, overwrite, in_place)
            return _read_source(src, _name(src), max_pixels, _out_format(style["format"]))
        except Exception as exc:  # one bad file must not stop the others
            records[i] = error_record(_name(src), exc, time.perf_counter() - start)
            return None

    def write(i: int, source: _Source, faces: list) -> None:
        src, dst = pairs[i]
        try:
            data, result = _render(source, faces, _name(src), **style)
            atomic_write(dst, data, mode=modes.get(i), root=output_root)
            result.output = os.fspath(dst)
            result.seconds = round(time.perf_counter() - start, 4)
            records[i] = result.to_record()
        except Exception as exc:
            records[i] = error_record(_name(src), exc, time.perf_counter() - start)

    with ThreadPoolExecutor(max(1, io_threads)) as pool:
        read_back = list(pool.map(read, range(len(pairs))))
        sources = {i: s for i, s in enumerate(read_back) if s is not None}
        planes = {(i, k): list(searched_planes(f)) for i, s in sources.items() for k, f in enumerate(s.frames)}
        flat = [(i, k, p) for (i, k) in sorted(planes) for p in range(len(planes[i, k]))]
        try:
            found = detector.detect_batch([planes[i, k][p][1] for i, k, p in flat], batch=batch)
        except Exception as exc:  # e.g. out of device memory on a big batch: one image at a time, failures per file
            warnings.warn(f"detection in batches failed ({exc}); detecting one image at a time", RuntimeWarning, stacklevel=2)
            found = []
            for i, k, p in flat:
                try:
                    found.append(detector(planes[i, k][p][1]))
                except Exception as exc:
                    records[i] = error_record(_name(pairs[i][0]), exc, time.perf_counter() - start)
                    found.append(None)
        per_frame: dict[tuple[int, int], list] = {}
        for (i, k, p), faces in zip(flat, found):
            per_frame.setdefault((i, k), []).append((planes[i, k][p][0], faces))
        del planes
        per_file: dict[int, list] = {}
        for (i, k), parts in sorted(per_frame.items()):
            if records[i] is None:
                per_file.setdefault(i, []).append(merge_planes(parts))
        todo = [i for i in sources if records[i] is None]
        list(pool.map(lambda i: write(i, sources[i], per_file[i]), todo))
    return records  # type: ignore[return-value]


_STYLE_DEFAULTS: dict[str, Any] = {
    "method": "fill",
    "shape": "ellipse",
    "pad": DEFAULT_PAD,
    "color": (0, 0, 0),
    "blocks": 6,
    "strength": 0.25,
    "quality": None,
    "format": None,
}
