"""JPEG: segment layout, inspection and the lossless rewrite."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from ..errors import MetadataError
from ._binary import _u16be
from ._exif import _EXIF_ID, _exif_items, orientation_exif
from ._icc import _icc_items
from ._iptc import _photoshop_items
from ._reports import _bytes_text, _Collector
from ._trailer import _trailer_item
from ._xmp import _xmp_items

_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_KEEP = _SOF | {0xC4, 0xCC, 0xDB, 0xDD, 0xDC, 0xDE, 0xDF, 0xDA}
_SCAN_END = re.compile(rb"\xff+[^\x00\xd0-\xd7\xff]")
_XMP_ID, _XMP_EXT_ID = b"http://ns.adobe.com/xap/1.0/\0", b"http://ns.adobe.com/xmp/extension/\0"


@dataclass
class _Seg:
    marker: int
    start: int  # offset of the marker
    end: int  # offset after the segment (after the entropy-coded data for SOS)
    body_end: int  # end of the marker segment itself (SOS: end of its header)

    def body(self, d: bytes) -> bytes:
        return d[self.start + 4 : self.body_end]


@dataclass
class _JpegLayout:
    segs: list[_Seg]
    end: int  # offset after EOI (or where the data stopped)
    has_eoi: bool
    stray: int  # bytes outside segments before EOI
    fatal: str | None  # the image data is damaged


def _jpeg_layout(d: bytes) -> _JpegLayout:
    n, pos = len(d), 2
    segs: list[_Seg] = []
    stray = 0
    while pos < n:
        if d[pos] != 0xFF:
            nxt = d.find(b"\xff", pos)
            nxt = n if nxt < 0 else nxt
            stray += nxt - pos
            pos = nxt
            continue
        while pos + 1 < n and d[pos + 1] == 0xFF:
            pos += 1
        if pos + 1 >= n:
            break
        m = d[pos + 1]
        if m == 0xD9:
            segs.append(_Seg(m, pos, pos + 2, pos + 2))
            return _JpegLayout(segs, pos + 2, True, stray, None)
        if m == 0x00 or 0xD0 <= m <= 0xD7 or m == 0x01 or m == 0xD8:
            stray += 2
            pos += 2
            continue
        if pos + 4 > n:
            return _JpegLayout(segs, n, False, stray, f"truncated at offset {pos} (inside a marker)")
        length = _u16be(d, pos + 2)
        end = pos + 2 + length
        if length < 2 or end > n:
            what = f"segment 0x{m:02X} at offset {pos} declares {length} bytes"
            return _JpegLayout(segs, n, False, stray, f"{what}, past the end of the file ({n} bytes)")
        if m == 0xDA:
            found = _SCAN_END.search(d, end)
            stop = found.end() - 2 if found else n
            data_end = found.start() if found else n
            segs.append(_Seg(m, pos, data_end, end))
            if not found:
                return _JpegLayout(segs, n, False, stray, None)
            pos = stop
            continue
        segs.append(_Seg(m, pos, end, end))
        pos = end
    return _JpegLayout(segs, n, False, stray, None)


def _inspect_jpeg(d: bytes, col: _Collector) -> _JpegLayout:
    lay = _jpeg_layout(d)
    if lay.fatal:
        col.warn(f"damaged JPEG: {lay.fatal}")
    icc_parts: list[tuple[int, bytes]] = []
    icc_size = 0
    for s in lay.segs:
        m = s.marker
        if not (0xE0 <= m <= 0xEF or m == 0xFE):
            continue
        body = s.body(d)
        size = s.body_end - s.start
        loc = f"APP{m - 0xE0}" if m != 0xFE else "COM"
        if m == 0xFE:
            col.add("comment", loc, size, {"text": _bytes_text(body, 200)})
        elif m == 0xE0 and body[:5] == b"JFIF\0" and len(body) >= 14:
            units, xd, yd, tw, th = body[7], _u16be(body, 8), _u16be(body, 10), body[12], body[13]
            col.add("jfif", loc, size, {"version": f"{body[5]}.{body[6]:02d}", "density": f"{xd}x{yd} u{units}"}, False)
            if tw and th:
                col.add("jfif-thumbnail", loc, 3 * tw * th, {"size": f"{tw}x{th}"})
        elif m == 0xE0 and body[:5] == b"JFXX\0":
            col.add("jfif-thumbnail", f"{loc} JFXX", size)
        elif m == 0xE1 and body.startswith(_EXIF_ID):
            _exif_items(body[6:], loc, size, col)
        elif m == 0xE1 and body.startswith(_XMP_ID):
            _xmp_items(body[len(_XMP_ID) :], loc, size, col)
        elif m == 0xE1 and body.startswith(_XMP_EXT_ID):
            _xmp_items(body[len(_XMP_EXT_ID) + 40 :], f"{loc} extended XMP", size, col)
        elif m == 0xE2 and body.startswith(b"ICC_PROFILE\0") and len(body) >= 14:
            icc_parts.append((body[12], body[14:]))
            icc_size += size
        elif m == 0xE2 and body.startswith(b"MPF\0"):
            col.add("mpf", loc, size, {"note": "index of secondary images stored after EOI"})
        elif m == 0xED and (body.startswith(b"Photoshop 3.0\0") or body.startswith(b"Adobe_Photoshop2.5:")):
            _photoshop_items(body[body.index(b"\0") + 1 if b"\0" in body[:20] else 19 :], loc, size, col)
        elif m == 0xEB and body[:2] == b"JP":
            col.add("jumbf", loc, size, {"c2pa": b"c2pa" in body[:256]})
        elif m == 0xEE and body.startswith(b"Adobe") and len(body) >= 12:
            col.add("adobe", loc, size, {"transform": body[11]}, sensitive=False)
        else:
            ident = body[:32].split(b"\0", 1)[0]
            col.add("app-segment", loc, size, {"id": _bytes_text(ident, 32) if ident else None})
    if icc_parts:
        profile = b"".join(part for _, part in sorted(icc_parts, key=lambda x: x[0]))
        _icc_items(profile, "APP2 ICC_PROFILE", icc_size, col)
    if lay.stray:
        col.add("stray-bytes", "between segments", lay.stray)
    _trailer_item(d[lay.end :] if lay.has_eoi else b"", "after EOI", col)
    return lay


def _jpeg_icc(d: bytes, lay: _JpegLayout) -> bytes | None:
    parts = []
    for s in lay.segs:
        if s.marker == 0xE2:
            body = s.body(d)
            if body.startswith(b"ICC_PROFILE\0") and len(body) >= 14:
                parts.append((body[12], body[14:]))
    return b"".join(p for _, p in sorted(parts, key=lambda x: x[0])) or None


_JFIF_CANON = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def _app_segment(marker: int, body: bytes) -> bytes:
    if len(body) + 2 > 0xFFFF:
        raise MetadataError("segment too large")
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def _rewrite_jpeg(d: bytes, lay: _JpegLayout, orientation: int | None, icc: bytes | None) -> tuple[bytes, list[str]]:
    notes: list[str] = []
    out = [b"\xff\xd8"]
    bodies = [(s.marker, s.body(d)) for s in lay.segs]
    if any(m == 0xE0 and b[:5] == b"JFIF\0" for m, b in bodies):
        out.append(_JFIF_CANON)
    if orientation:
        out.append(_app_segment(0xE1, orientation_exif(orientation)))
    if icc:
        chunk = 65519
        parts = [icc[i : i + chunk] for i in range(0, len(icc), chunk)]
        if len(parts) > 255:
            raise MetadataError("ICC profile too large for JPEG")
        for i, part in enumerate(parts):
            out.append(_app_segment(0xE2, b"ICC_PROFILE\0" + bytes([i + 1, len(parts)]) + part))
    adobe = next((b for m, b in bodies if m == 0xEE and b.startswith(b"Adobe") and len(b) >= 12), None)
    if adobe is not None:
        out.append(_app_segment(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, adobe[11])))
    for s in lay.segs:
        if s.marker in _JPEG_KEEP:
            out.append(d[s.start : s.end])
    out.append(b"\xff\xd9")
    if not lay.has_eoi:
        notes.append("the end-of-image marker was missing and has been added")
    return b"".join(out), notes
