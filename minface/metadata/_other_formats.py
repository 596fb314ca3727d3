"""TIFF files, BMP, HEIF/AVIF: inspected through their tags or Pillow (strip re-encodes them)."""

from __future__ import annotations

from PIL import Image

from ..errors import ImageError, MissingDependencyError
from ._binary import _Malformed, _u32be
from ._exif import _EXIF_ID, _exif_items, _load_ifds, _Tiff
from ._icc import _icc_items
from ._iptc import _iptc_fields, _photoshop_items
from ._reports import _Collector
from ._source import _open_image
from ._trailer import _trailer_item
from ._xmp import _xmp_items


def _inspect_tiff(d: bytes, col: _Collector) -> None:
    try:
        t = _Tiff(d)
    except _Malformed as exc:
        col.warn(f"damaged TIFF: {exc}")
        return
    _exif_items(d, "IFD0", 0, col, tiff_file=True)
    problems: list[str] = []
    ifds = _load_ifds(t, t.first, chain=True, problems=problems)
    for ent in ifds.get("IFD0", []):
        loc = f"IFD0 tag {ent.tag}"
        raw = ent.raw or b""
        if ent.tag == 700:
            _xmp_items(raw, "IFD0 XMP (700)", len(raw), col)
        elif ent.tag == 33723:
            col.add("iptc", "IFD0 IPTC (33723)", len(raw), _iptc_fields(raw, problems))
        elif ent.tag == 34377:
            _photoshop_items(raw, "IFD0 Photoshop (34377)", len(raw), col)
        elif ent.tag == 34675:
            _icc_items(raw, "IFD0 ICC (34675)", len(raw), col)
        elif ent.tag == 330:
            col.add("thumbnail-page", f"{loc} SubIFDs", 0, {"count": ent.count})
    for name, entries in ifds.items():
        if name in ("IFD0", "ExifIFD", "GPS", "Interop"):
            continue
        byid = {e.tag: e for e in entries}
        sub = t.value(byid[254]) if 254 in byid else 0
        if isinstance(sub, int) and sub & 1:
            counts = t.value(byid[279]) if 279 in byid else t.value(byid[325]) if 325 in byid else 0
            size = sum(counts) if isinstance(counts, list) else int(counts or 0)
            col.add("thumbnail-page", name, size, {"note": "reduced-resolution copy of the image"})


def _inspect_pillow_info(d: bytes, fmt: str, name: str, col: _Collector) -> Image.Image | None:
    """Metadata Pillow (or pillow-heif) exposes, for containers parsed no further here."""
    try:
        im = _open_image(d, fmt, name, None)
    except MissingDependencyError:
        raise
    except ImageError as exc:
        col.warn(str(exc))
        return None
    info = im.info
    exif = info.get("exif")
    if exif:
        exif = bytes(exif)
        _exif_items(exif[6:] if exif.startswith(_EXIF_ID) else exif, "EXIF", len(exif), col)
    xmp = info.get("xmp")
    if xmp:
        xmp = xmp.encode("utf-8") if isinstance(xmp, str) else bytes(xmp)
        _xmp_items(xmp, "XMP", len(xmp), col)
    icc = info.get("icc_profile")
    if icc:
        _icc_items(bytes(icc), "ICC profile", len(icc), col)
    for i, t in enumerate(info.get("thumbnails") or []):
        col.add("heif-thumbnail", f"thumbnail {i + 1}", 0, {"size": t})
    for key in ("depth_images", "aux"):
        value = info.get(key)
        if value:
            col.add("auxiliary-image", key, 0, {"count": len(value)})
    for meta in info.get("metadata") or []:
        col.add("heif-metadata", str(meta.get("type", "?")), len(meta.get("data") or b""))
    n = int(getattr(im, "n_frames", 1) or 1)
    if fmt == "HEIF" and n > 1:
        # more pictures (a burst, a second shot): content, kept by strip and scrubbed by scrub, not metadata
        col.add("secondary-image", "top-level images", 0, {"count": n - 1}, sensitive=False)
    return im


def _inspect_isobmff_tail(d: bytes, col: _Collector) -> None:
    pos, n = 0, len(d)
    while pos + 8 <= n:
        size = _u32be(d, pos)
        if size == 1 and pos + 16 <= n:
            size = int.from_bytes(d[pos + 8 : pos + 16], "big")
        elif size == 0:
            return
        if size < 8 or pos + size > n:
            col.warn(f"box {d[pos + 4 : pos + 8]!r} at offset {pos} runs past the end")
            return
        pos += size
    _trailer_item(d[pos:], "after the last box", col)
