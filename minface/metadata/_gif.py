"""GIF: block layout, inspection and the lossless rewrite."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ._binary import _Malformed
from ._icc import _icc_items
from ._reports import _bytes_text, _Collector
from ._trailer import _trailer_item
from ._xmp import _xmp_items


@dataclass
class _GifLayout:
    head: bytes  # header, screen descriptor, global colour table
    blocks: list[tuple[str, bytes, bytes]]  # (kind, label/ident, raw bytes)
    end: int
    has_trailer: bool
    fatal: str | None


def _gif_subblocks(d: bytes, pos: int) -> int:
    """Offset after a run of data sub-blocks (raises _Malformed when truncated)."""
    n = len(d)
    while True:
        if pos >= n:
            raise _Malformed("truncated data sub-blocks")
        size = d[pos]
        pos += 1
        if size == 0:
            return pos
        pos += size


def _gif_layout(d: bytes) -> _GifLayout:
    n = len(d)
    if n < 13:
        return _GifLayout(d, [], n, False, "truncated header")
    flags = d[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    head = d[:pos]
    blocks: list[tuple[str, bytes, bytes]] = []
    try:
        while pos < n:
            b = d[pos]
            if b == 0x3B:
                return _GifLayout(head, blocks, pos + 1, True, None)
            if b == 0x21 and pos + 1 < n:
                label = d[pos + 1]
                ident = b""
                if label == 0xFF and pos + 2 < n:
                    ident = d[pos + 3 : pos + 3 + d[pos + 2]]
                end = _gif_subblocks(d, pos + 2)
                kind = {0xF9: "gce", 0xFE: "comment", 0x01: "text", 0xFF: "app"}.get(label, "ext")
                blocks.append((kind, ident if label == 0xFF else bytes([label]), d[pos:end]))
                pos = end
            elif b == 0x2C:
                if pos + 10 > n:
                    raise _Malformed("truncated image descriptor")
                lflags = d[pos + 9]
                q = pos + 10 + (3 * (2 << (lflags & 7)) if lflags & 0x80 else 0)
                end = _gif_subblocks(d, q + 1)
                blocks.append(("image", b"", d[pos:end]))
                pos = end
            else:
                raise _Malformed(f"unknown block 0x{b:02X} at offset {pos}")
    except _Malformed as exc:
        if any(k == "image" for k, _, _ in blocks):
            return _GifLayout(head, blocks, pos, False, None)
        return _GifLayout(head, blocks, n, False, str(exc))
    return _GifLayout(head, blocks, n, False, None)


def _inspect_gif(d: bytes, col: _Collector) -> _GifLayout:
    lay = _gif_layout(d)
    if lay.fatal:
        col.warn(f"damaged GIF: {lay.fatal}")
    for kind, ident, raw in lay.blocks:
        if kind == "comment":
            text = b"".join(_gif_payload(raw[2:]))
            col.add("comment", "comment extension", len(raw), {"text": _bytes_text(text, 200)})
        elif kind == "app" and ident in (b"NETSCAPE2.0", b"ANIMEXTS1.0"):
            continue
        elif kind == "app" and ident == b"XMP DataXMP":
            x = raw[14:]
            x = x[: x.find(b"\x01\xff\xfe")] if b"\x01\xff\xfe" in x else x
            _xmp_items(x, "XMP application extension", len(raw), col)
        elif kind == "app" and ident.startswith(b"ICCRGBG1"):
            _icc_items(b"".join(_gif_payload(raw[14:])), "ICC application extension", len(raw), col)
        elif kind in ("app", "text", "ext"):
            what = {"text": "plain-text extension", "ext": "unknown extension"}.get(kind, "application extension")
            col.add("gif-extension", what, len(raw), {"id": _bytes_text(ident, 16) if kind == "app" else None})
    if lay.has_trailer:
        _trailer_item(d[lay.end :], "after GIF trailer", col)
    return lay


def _gif_payload(d: bytes) -> Iterable[bytes]:
    pos = 0
    while pos < len(d) and d[pos]:
        yield d[pos + 1 : pos + 1 + d[pos]]
        pos += 1 + d[pos]


def _rewrite_gif(lay: _GifLayout) -> bytes:
    out = [lay.head]
    pending: bytes | None = None
    for kind, ident, raw in lay.blocks:
        if kind == "gce":
            pending = raw[:8] if len(raw) >= 8 and raw[2] == 4 else None
            if pending is not None:
                pending = pending[:7] + b"\0"
        elif kind == "app" and ident in (b"NETSCAPE2.0", b"ANIMEXTS1.0"):
            sub = next(iter(_gif_payload(raw[14:])), b"")
            if len(sub) >= 3 and sub[0] == 1:
                out.append(b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + sub[1:3] + b"\x00")
        elif kind == "image":
            if pending:
                out.append(pending)
            pending = None
            out.append(raw)
        elif kind == "text":
            pending = None  # its graphic control belonged to the dropped text
    out.append(b"\x3b")
    return b"".join(out)
