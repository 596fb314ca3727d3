"""Bytes after the end of the image (motion-photo videos, secondary images, leftovers)."""

from __future__ import annotations

from ._reports import _bytes_text, _Collector


def _trailer_item(tail: bytes, location: str, col: _Collector) -> None:
    if not tail:
        return
    head = tail[:64]
    if not tail.strip(b"\0"):
        what = "zero padding"
    elif b"\xff\xd8\xff" in head:
        what = "JPEG image (MPF secondary image, gain map or preview)"
    elif b"ftyp" in head or b"ftypmp4" in tail[:4096] or b"ftypisom" in tail[:4096]:
        what = "MP4 video (motion photo)"
    elif b"IDAT" in tail[:1 << 20] or b"IEND" in tail[-64:]:
        what = "PNG data (leftover of an overwritten larger image)"
    elif b"SEFH" in tail[-64:] or b"SEFT" in tail[-64:]:
        what = "Samsung trailer"
    elif tail[:4] == b"\x00\x00\x00\x00" and b"mdat" in head:
        what = "video data"
    else:
        what = "unknown data"
    col.add("trailer", location, len(tail), {"content": what, "starts": _bytes_text(head[:16], 16)})
