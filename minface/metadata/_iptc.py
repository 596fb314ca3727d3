"""IPTC datasets and Photoshop image resources (8BIM blocks)."""

from __future__ import annotations

from typing import Any

from ._binary import _u16be, _u32be
from ._exif import _exif_items
from ._icc import _icc_items
from ._reports import _bytes_text, _Collector
from ._xmp import _xmp_items

_IPTC_NAMES = {
    (1, 90): "CodedCharacterSet",
    (2, 5): "ObjectName",
    (2, 25): "Keywords",
    (2, 40): "SpecialInstructions",
    (2, 55): "DateCreated",
    (2, 60): "TimeCreated",
    (2, 62): "DigitalCreationDate",
    (2, 80): "By-line",
    (2, 85): "By-lineTitle",
    (2, 90): "City",
    (2, 92): "Sub-location",
    (2, 95): "Province-State",
    (2, 100): "Country-PrimaryLocationCode",
    (2, 101): "Country-PrimaryLocationName",
    (2, 103): "OriginalTransmissionReference",
    (2, 105): "Headline",
    (2, 110): "Credit",
    (2, 115): "Source",
    (2, 116): "CopyrightNotice",
    (2, 118): "Contact",
    (2, 120): "Caption-Abstract",
    (2, 122): "Writer-Editor",
}


def _iptc_fields(d: bytes, problems: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    pos, n, count = 0, len(d), 0
    while pos + 5 <= n and count < 2000:
        if d[pos] != 0x1C:
            if d[pos:].strip(b"\0"):
                problems.append(f"IPTC: unexpected byte at offset {pos}")
            break
        rec, ds, size = d[pos + 1], d[pos + 2], _u16be(d, pos + 3)
        pos += 5
        if size & 0x8000:
            k = size & 0x7FFF
            if k > 4 or pos + k > n:
                problems.append("IPTC: bad extended dataset length")
                break
            size = int.from_bytes(d[pos : pos + k], "big")
            pos += k
        if pos + size > n:
            problems.append("IPTC: dataset runs past the end")
            size = n - pos
        name = _IPTC_NAMES.get((rec, ds), f"{rec}:{ds}")
        if (rec, ds) != (2, 0):  # 2:0 is the record version
            value = _bytes_text(d[pos : pos + size])
            fields.setdefault(name, []).append(value)
        pos += size
        count += 1
    return {k: v[0] if len(v) == 1 else v[:20] for k, v in fields.items()}


_PS_THUMBS = {0x0409, 0x040C}


def _photoshop_items(d: bytes, location: str, size: int, col: _Collector) -> None:
    """Items for Photoshop image resources (8BIM blocks), IPTC among them."""
    pos, n = 0, len(d)
    resources: list[str] = []
    problems: list[str] = []
    while pos + 12 <= n and len(resources) < 500:
        if d[pos : pos + 4] not in (b"8BIM", b"PHUT", b"AgHg", b"DCSR", b"MeSa"):
            if d[pos:].strip(b"\0"):
                problems.append(f"resource block at offset {pos} has no 8BIM signature")
            break
        rid = _u16be(d, pos + 4)
        nlen = d[pos + 6]
        pos += 7 + nlen + ((1 + nlen) % 2 == 1)
        if pos + 4 > n:
            problems.append("truncated resource header")
            break
        rsize = _u32be(d, pos)
        pos += 4
        body = d[pos : pos + rsize]
        if pos + rsize > n:
            problems.append(f"resource 0x{rid:04X} runs past the end")
        pos += rsize + (rsize & 1)
        resources.append(f"0x{rid:04X}")
        if rid == 0x0404:
            col.add("iptc", f"{location} > IPTC-NAA", len(body), _iptc_fields(body, problems))
        elif rid in _PS_THUMBS:
            col.add("photoshop-thumbnail", f"{location} > 0x{rid:04X}", len(body))
        elif rid == 0x040F:
            _icc_items(body, f"{location} > ICC", len(body), col)
        elif rid == 0x0422:
            _exif_items(body, f"{location} > EXIF", len(body), col)
        elif rid == 0x0424:
            _xmp_items(body, f"{location} > XMP", len(body), col)
    col.add("photoshop", location, size, {"resources": resources[:40]})
    for p in problems[:5]:
        col.warn(f"{location}: {p}")
