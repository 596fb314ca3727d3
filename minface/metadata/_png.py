"""PNG: chunk layout, text chunks, inspection and the lossless rewrite."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from ..errors import CorruptImageError
from ._binary import _Malformed, _u32be
from ._exif import _EXIF_ID, _exif_items, orientation_exif
from ._icc import _icc_items
from ._iptc import _iptc_fields, _photoshop_items
from ._reports import _bytes_text, _Collector
from ._trailer import _trailer_item
from ._xmp import _xmp_items

_INFLATE_LIMIT = 64 << 20  # most bytes decompressed from one zTXt/iTXt/iCCP chunk


_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_PNG_KEEP = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"acTL", b"fcTL", b"fdAT"})
_PNG_COLOUR = {b"gAMA": 4, b"cHRM": 32, b"sRGB": 1, b"cICP": 4}
_PNG_HARMLESS = frozenset(
    {b"pHYs", b"bKGD", b"sBIT", b"hIST", b"sPLT", b"oFFs", b"pCAL", b"sCAL", b"sTER", b"mDCv", b"cLLi", b"tIME"}
)


@dataclass
class _Chunk:
    type: bytes
    start: int
    end: int  # after the CRC
    data: bytes


def _png_chunks(d: bytes) -> tuple[list[_Chunk], int, bool, str | None]:
    """Chunks, the offset after IEND, whether IEND was found, and a fatal problem."""
    pos, n = 8, len(d)
    chunks: list[_Chunk] = []
    while pos + 12 <= n:
        length = _u32be(d, pos)
        ctype = d[pos + 4 : pos + 8]
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > n:
            return chunks, n, False, f"chunk {ctype!r} at offset {pos} declares {length} bytes, past the end"
        if not ctype.isalpha():
            return chunks, n, False, f"invalid chunk type {ctype!r} at offset {pos}"
        chunks.append(_Chunk(ctype, pos, end, d[pos + 8 : pos + 8 + length]))
        pos = end
        if ctype == b"IEND":
            return chunks, pos, True, None
    return chunks, n, False, "truncated: no IEND chunk"


def _inflate(data: bytes, limit: int = _INFLATE_LIMIT) -> bytes:
    z = zlib.decompressobj()
    out = z.decompress(data, limit)
    if z.unconsumed_tail:
        raise _Malformed(f"decompresses to more than {limit:,} bytes")
    return out


def _raw_profile(text: bytes) -> bytes:
    """The bytes of an ImageMagick 'Raw profile type ...' text chunk (hex after two header lines)."""
    lines = text.strip().split(b"\n")
    return bytes.fromhex(b"".join(lines[2:]).decode("ascii"))


def _png_text_item(ctype: bytes, data: bytes, col: _Collector) -> None:
    loc = ctype.decode("latin-1")
    keyword, _, rest = data.partition(b"\0")
    kw = keyword.decode("latin-1")[:79]
    try:
        if ctype == b"zTXt":
            value = _inflate(rest[1:])
        elif ctype == b"iTXt":
            flag = rest[:1] == b"\x01"
            rest = rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _tkw, _, rest = rest.partition(b"\0")
            value = _inflate(rest) if flag else rest
        else:
            value = rest
    except (zlib.error, _Malformed) as exc:
        col.add("png-text", f"{loc} {kw}", len(data) + 12, {"error": str(exc)})
        col.warn(f"{loc} {kw}: {exc}")
        return
    size = len(data) + 12
    low = kw.lower()
    try:
        if kw == "XML:com.adobe.xmp" or low == "raw profile type xmp":
            _xmp_items(_raw_profile(value) if low.startswith("raw") else value, f"{loc} {kw}", size, col)
            return
        if low in ("raw profile type exif", "raw profile type app1"):
            raw = _raw_profile(value)
            _exif_items(raw[6:] if raw.startswith(_EXIF_ID) else raw, f"{loc} {kw}", size, col)
            return
        if low in ("raw profile type iptc", "raw profile type 8bim"):
            raw = _raw_profile(value)
            if raw.startswith(b"8BIM"):
                _photoshop_items(raw, f"{loc} {kw}", size, col)
            else:
                col.add("iptc", f"{loc} {kw}", size, _iptc_fields(raw, []))
            return
        if low in ("raw profile type icc", "raw profile type icm"):
            _icc_items(_raw_profile(value), f"{loc} {kw}", size, col)
            return
    except (ValueError, IndexError) as exc:
        col.warn(f"{loc} {kw}: unreadable raw profile ({exc})")
    col.add("png-text", loc, size, {"keyword": kw, "text": _bytes_text(value, 120)})


def _inspect_png(d: bytes, col: _Collector) -> tuple[list[_Chunk], int, bool, str | None]:
    chunks, end, has_iend, fatal = _png_chunks(d)
    if fatal:
        col.warn(f"damaged PNG: {fatal}")
    for c in chunks:
        t, size, loc = c.type, c.end - c.start, c.type.decode("latin-1")
        if t in _PNG_KEEP:
            continue
        if t in (b"tEXt", b"zTXt", b"iTXt"):
            _png_text_item(t, c.data, col)
        elif t == b"eXIf":
            _exif_items(c.data[6:] if c.data.startswith(_EXIF_ID) else c.data, loc, size, col)
        elif t == b"iCCP":
            name, _, rest = c.data.partition(b"\0")
            try:
                _icc_items(_inflate(rest[1:]), f"iCCP {name.decode('latin-1')[:40]}", size, col)
            except (zlib.error, _Malformed) as exc:
                col.add("icc", loc, size, {"error": str(exc)})
                col.warn(f"iCCP: {exc}")
        elif t == b"tIME" and len(c.data) == 7:
            y, mo, dd, h, mi, s = struct.unpack(">HBBBBB", c.data)
            col.add("png-time", loc, size, {"modified": f"{y:04d}-{mo:02d}-{dd:02d} {h:02d}:{mi:02d}:{s:02d}"})
        elif t in _PNG_COLOUR:
            col.add("colour", loc, size, {"bytes": len(c.data)}, sensitive=len(c.data) != _PNG_COLOUR[t])
        elif t == b"caBX":
            col.add("jumbf", loc, size, {"c2pa": True})
        else:
            col.add("png-chunk", loc, size, {"type": loc, "private": t[:1].islower() and t not in _PNG_HARMLESS})
    if has_iend:
        _trailer_item(d[end:], "after IEND", col)
    return chunks, end, has_iend, fatal


def _png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def _zlib_extra(stream: bytes) -> int | None:
    """Bytes after the end of the zlib stream (None when the stream is damaged or unfinished)."""
    z = zlib.decompressobj()
    pos, step = 0, 1 << 20
    try:
        while not z.eof:
            if z.unconsumed_tail:
                z.decompress(z.unconsumed_tail, step)
                continue
            if pos >= len(stream):
                return None
            z.decompress(stream[pos : pos + step], step)
            pos += step
    except zlib.error:
        return None
    return len(z.unused_data) + len(stream) - min(pos, len(stream))


def _rewrite_png(
    chunks: list[_Chunk], orientation: int | None, icc: bytes | None
) -> tuple[bytes, list[str], int]:
    notes: list[str] = []
    idat = b"".join(c.data for c in chunks if c.type == b"IDAT")
    extra = _zlib_extra(idat)
    if extra is None:
        raise CorruptImageError("damaged PNG image data (the zlib stream is broken or unfinished)")
    if extra:
        notes.append(f"{extra} bytes hidden after the end of the image data removed")
    out = [_PNG_SIG]
    wrote_idat = False
    for c in chunks:
        if c.type == b"iCCP":
            if icc:
                out.append(_png_chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(icc, 9)))
                icc = None
            continue
        if c.type in _PNG_COLOUR:
            if len(c.data) == _PNG_COLOUR[c.type]:
                out.append(_png_chunk(c.type, c.data))
            continue
        if c.type not in _PNG_KEEP:
            continue
        if c.type == b"IDAT":
            if wrote_idat:
                continue
            if orientation:
                out.append(_png_chunk(b"eXIf", orientation_exif(orientation)[6:]))
            body = idat[: len(idat) - extra]
            out += [_png_chunk(b"IDAT", body[i : i + (1 << 20)]) for i in range(0, len(body), 1 << 20)]
            wrote_idat = True
            continue
        out.append(_png_chunk(c.type, c.data))
    return b"".join(out), notes, extra
