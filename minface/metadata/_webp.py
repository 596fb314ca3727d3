"""WebP (RIFF): chunk layout, inspection and the lossless rewrite."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import CorruptImageError, MetadataError
from ._binary import _u32le
from ._exif import _EXIF_ID, _exif_items, orientation_exif
from ._icc import _icc_items
from ._reports import _Collector
from ._trailer import _trailer_item
from ._xmp import _xmp_items


@dataclass
class _Riff:
    chunks: list[tuple[bytes, int, int, bytes]]  # fourcc, start, end, data
    end: int
    fatal: str | None


def _riff_chunks(d: bytes, start: int, end: int) -> tuple[list[tuple[bytes, int, int, bytes]], str | None]:
    pos, chunks = start, []
    while pos + 8 <= end:
        fourcc, size = d[pos : pos + 4], _u32le(d, pos + 4)
        stop = pos + 8 + size
        if stop > end:
            return chunks, f"chunk {fourcc!r} at offset {pos} declares {size} bytes, past the end"
        chunks.append((fourcc, pos, stop + (size & 1), d[pos + 8 : stop]))
        pos = stop + (size & 1)
    return chunks, None


def _webp_layout(d: bytes) -> _Riff:
    size = _u32le(d, 4)
    end = 8 + size
    fatal = None
    if end > len(d):
        fatal = f"RIFF size {size} runs past the end of the file ({len(d)} bytes)"
        end = len(d)
    chunks, problem = _riff_chunks(d, 12, end)
    return _Riff(chunks, end, fatal or problem)


def _inspect_webp(d: bytes, col: _Collector) -> _Riff:
    lay = _webp_layout(d)
    if lay.fatal:
        col.warn(f"damaged WebP: {lay.fatal}")
    for fourcc, start, end, data in lay.chunks:
        loc, size = f"{fourcc.decode('latin-1').strip()} chunk", end - start
        if fourcc == b"EXIF":
            _exif_items(data[6:] if data.startswith(_EXIF_ID) else data, loc, size, col)
        elif fourcc == b"XMP ":
            _xmp_items(data, loc, size, col)
        elif fourcc == b"ICCP":
            _icc_items(data, loc, size, col)
        elif fourcc == b"ANMF":
            subs, _ = _riff_chunks(data, 16, len(data))
            for sub, s0, s1, _ in subs:
                if sub not in (b"ALPH", b"VP8 ", b"VP8L"):
                    col.add("riff-chunk", f"ANMF > {sub.decode('latin-1')}", s1 - s0)
        elif fourcc not in (b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM"):
            col.add("riff-chunk", loc, size, {"type": fourcc.decode("latin-1")})
    _trailer_item(d[lay.end :], "after RIFF end", col)
    return lay


def _webp_is_lossy(d: bytes) -> bool:
    for fourcc, _, _, data in _webp_layout(d).chunks:
        if fourcc == b"VP8 ":
            return True
        if fourcc == b"ANMF" and any(s == b"VP8 " for s, _, _, _ in _riff_chunks(data, 16, len(data))[0]):
            return True
    return False


def _riff_chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


def _rewrite_webp(d: bytes, lay: _Riff, orientation: int | None, icc: bytes | None) -> bytes:
    by = [(c[0], c[3]) for c in lay.chunks]
    vp8x = next((data for fourcc, data in by if fourcc == b"VP8X"), None)
    body: list[bytes] = []
    if vp8x is None:
        bit = next(((f, x) for f, x in by if f in (b"VP8 ", b"VP8L")), None)
        if bit is None:
            raise CorruptImageError("WebP file without image data")
        if orientation or icc:
            raise MetadataError("simple WebP files cannot carry an orientation or profile")  # never: no source
        body.append(_riff_chunk(*bit))
    else:
        if len(vp8x) < 10:
            raise CorruptImageError("damaged WebP VP8X chunk")
        flags = vp8x[0] & 0x12  # keep the alpha and animation bits, recompute the others
        if icc:
            flags |= 0x20
        if orientation:
            flags |= 0x08
        body.append(_riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + vp8x[4:10]))
        if icc:
            body.append(_riff_chunk(b"ICCP", icc))
        for fourcc, data in by:
            if fourcc == b"ANIM":
                body.append(_riff_chunk(fourcc, data))
            elif fourcc == b"ANMF":
                subs, _ = _riff_chunks(data, 16, len(data))
                frame = data[:16] + b"".join(
                    _riff_chunk(s, x) for s, _, _, x in subs if s in (b"ALPH", b"VP8 ", b"VP8L")
                )
                body.append(_riff_chunk(b"ANMF", frame))
            elif fourcc in (b"ALPH", b"VP8 ", b"VP8L"):
                body.append(_riff_chunk(fourcc, data))
        if orientation:
            body.append(_riff_chunk(b"EXIF", orientation_exif(orientation)[6:]))
    payload = b"WEBP" + b"".join(body)
    return b"RIFF" + struct.pack("<I", len(payload)) + payload
