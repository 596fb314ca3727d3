"""TIFF structures: the IFD reader, items for EXIF blocks (GPS, maker notes, thumbnail), orientation EXIF."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from PIL import ExifTags

from ._binary import _Malformed
from ._reports import _bytes_text, _Collector

_EXIF_ID = b"Exif\0"


_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_NUM_FMT = {3: "H", 4: "I", 8: "h", 9: "i", 11: "f", 12: "d", 13: "I"}
_EXIF_IFD, _GPS_IFD, _INTEROP_IFD, _MAKERNOTE, _ORIENTATION = 0x8769, 0x8825, 0xA005, 0x927C, 0x0112

_CAMERA_TAGS = {0x010F: "Make", 0x0110: "Model", 0x0131: "Software", 0xA433: "LensMake", 0xA434: "LensModel"}
_IDENTITY_TAGS = {
    0x013B: "Artist",
    0x8298: "Copyright",
    0x013C: "HostComputer",
    0x010E: "ImageDescription",
    0xA430: "CameraOwnerName",
    0xA431: "BodySerialNumber",
    0xA435: "LensSerialNumber",
    0xA420: "ImageUniqueID",
    0xC62F: "CameraSerialNumber",
    0x9286: "UserComment",
    0x9C9B: "XPTitle",
    0x9C9C: "XPComment",
    0x9C9D: "XPAuthor",
    0x9C9E: "XPKeywords",
    0x9C9F: "XPSubject",
}
_DATE_TAGS = {
    0x0132: "DateTime",
    0x9003: "DateTimeOriginal",
    0x9004: "DateTimeDigitized",
    0x9010: "OffsetTime",
    0x9011: "OffsetTimeOriginal",
    0x9012: "OffsetTimeDigitized",
}


@dataclass
class _Entry:
    tag: int
    type: int
    count: int
    raw: bytes | None  # None: the value lies outside the block


class _Tiff:
    """Bounds-checked reader of TIFF IFDs (an EXIF block is a small TIFF file)."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 8:
            raise _Malformed("shorter than a TIFF header")
        if data[:2] == b"II":
            self.e = "<"
        elif data[:2] == b"MM":
            self.e = ">"
        else:
            raise _Malformed("no TIFF byte-order mark")
        magic = struct.unpack_from(self.e + "H", data, 2)[0]
        if magic != 42:
            raise _Malformed("BigTIFF is not supported" if magic == 43 else f"bad TIFF magic number {magic}")
        self.data = data
        self.first = struct.unpack_from(self.e + "I", data, 4)[0]

    def read_ifd(self, off: int) -> tuple[list[_Entry], int, list[str]]:
        d, n, e = self.data, len(self.data), self.e
        if off < 8 or off + 2 > n:
            raise _Malformed(f"IFD offset {off} is outside the {n}-byte block")
        count = struct.unpack_from(e + "H", d, off)[0]
        fits = (n - off - 2) // 12
        problems = []
        if count > fits:
            problems.append(f"IFD at offset {off} declares {count} entries but only {fits} fit")
            count = fits
        entries = []
        for i in range(count):
            p = off + 2 + 12 * i
            tag, typ, cnt = struct.unpack_from(e + "HHI", d, p)
            size = _TYPE_SIZE.get(typ, 0) * cnt
            if size <= 4:
                raw: bytes | None = d[p + 8 : p + 8 + size]
            else:
                voff = struct.unpack_from(e + "I", d, p + 8)[0]
                raw = d[voff : voff + size] if voff + size <= n else None
                if raw is None:
                    problems.append(f"tag 0x{tag:04X}: value at offset {voff} runs past the end")
            entries.append(_Entry(tag, typ, cnt, raw))
        p = off + 2 + 12 * count
        nxt = struct.unpack_from(e + "I", d, p)[0] if p + 4 <= n else 0
        return entries, nxt, problems

    def value(self, ent: _Entry, limit: int = 32) -> Any:
        raw, typ, e = ent.raw, ent.type, self.e
        if raw is None:
            return None
        if typ == 2:
            text = raw.split(b"\0", 1)[0]
            try:
                s = text.decode("utf-8")
            except UnicodeDecodeError:
                s = text.decode("latin-1")
            return s.strip()[:200]
        if typ in (1, 6, 7):
            return raw
        k = min(ent.count, limit)
        if typ in _NUM_FMT:
            vals: list = list(struct.unpack_from(f"{e}{k}{_NUM_FMT[typ]}", raw))
        elif typ in (5, 10):
            nums = struct.unpack_from(f"{e}{2 * k}{'I' if typ == 5 else 'i'}", raw)
            vals = [None if den == 0 else num / den for num, den in zip(nums[::2], nums[1::2])]
        else:
            return None
        return vals[0] if len(vals) == 1 else vals


def _tag_name(tag: int, gps: bool = False) -> str:
    table = ExifTags.GPSTAGS if gps else ExifTags.TAGS
    return table.get(tag, f"0x{tag:04X}")


def _text_value(t: _Tiff, ent: _Entry) -> Any:
    v = t.value(ent)
    if isinstance(v, bytes):
        if ent.tag in (0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F):  # Windows XP tags: UTF-16LE
            return v.decode("utf-16-le", "replace").rstrip("\0")[:200]
        if ent.tag == 0x9286 and len(v) >= 8:  # UserComment: 8-byte character code + text
            body = v[8:]
            text = body.decode("utf-16", "replace") if v[:8].startswith(b"UNICODE") else _bytes_text(body)
            return text.rstrip("\0 ")[:200]
        return _bytes_text(v)
    return v


def _load_ifds(t: _Tiff, first: int, *, chain: bool, problems: list[str]) -> dict[str, list[_Entry]]:
    """IFD0 (+ its chain as IFD1, IFD2, ... when ``chain``) and the Exif/GPS/Interop sub-IFDs."""
    ifds: dict[str, list[_Entry]] = {}
    seen: set[int] = set()

    def load(name: str, off: int) -> int:
        if off in seen:
            problems.append(f"{name}: IFD offset {off} points back to an earlier IFD")
            return 0
        seen.add(off)
        try:
            entries, nxt, probs = t.read_ifd(off)
        except _Malformed as exc:
            problems.append(f"{name}: {exc}")
            return 0
        problems.extend(f"{name}: {p}" for p in probs)
        ifds[name] = entries
        return nxt

    nxt = load("IFD0", first)
    page = 1
    while nxt and page < (64 if chain else 2):
        nxt = load(f"IFD{page}", nxt)
        page += 1
    for parent in list(ifds):
        for ent in ifds[parent]:
            sub = {_EXIF_IFD: "ExifIFD", _GPS_IFD: "GPS"}.get(ent.tag)
            if sub and parent in ("IFD0",):
                off = t.value(ent)
                if isinstance(off, int):
                    load(sub, off)
                else:
                    problems.append(f"{sub}: unreadable pointer")
    for ent in ifds.get("ExifIFD", []):
        if ent.tag == _INTEROP_IFD:
            off = t.value(ent)
            if isinstance(off, int):
                load("Interop", off)
    return ifds


def _gps_coordinate(t: _Tiff, entries: dict[int, _Entry], val_tag: int, ref_tag: int) -> float | None:
    ent = entries.get(val_tag)
    if ent is None:
        return None
    v = t.value(ent)
    if not isinstance(v, list) or len(v) < 3 or any(x is None for x in v[:3]):
        return None
    deg = v[0] + v[1] / 60 + v[2] / 3600
    ref = entries.get(ref_tag)
    ref_v = t.value(ref) if ref is not None else None
    if isinstance(ref_v, str) and ref_v[:1] in ("S", "W"):
        deg = -deg
    return round(deg, 6)


def _exif_items(tiff: bytes, location: str, size: int, col: _Collector, *, tiff_file: bool = False) -> None:
    """Items for an EXIF block (or, with ``tiff_file``, the tags of a TIFF file)."""
    try:
        t = _Tiff(tiff)
    except _Malformed as exc:
        col.add("exif", location, size, {"error": str(exc)})
        col.warn(f"{location}: unreadable EXIF ({exc})")
        return
    problems: list[str] = []
    ifds = _load_ifds(t, t.first, chain=tiff_file, problems=problems)
    for p in problems[:10]:
        col.warn(f"{location}: {p}")
    if not tiff_file and set(ifds) == {"IFD0"} and [e.tag for e in ifds["IFD0"]] == [_ORIENTATION]:
        col.add("exif", location, size, {"Orientation": t.value(ifds["IFD0"][0])}, sensitive=False)
        return

    main = [n for n in ifds if n in ("IFD0", "ExifIFD", "Interop") or (n == "IFD1" and not tiff_file)]
    details: dict[str, Any] = {}
    n_tags = 0
    for name in main:
        for ent in ifds[name]:
            if tiff_file and name == "IFD0" and ent.tag in _TIFF_STRUCTURE_TAGS | _TIFF_SPECIAL_TAGS:
                continue
            n_tags += 1
            if name == "IFD1":
                continue
            if ent.tag in _CAMERA_TAGS:
                details[_CAMERA_TAGS[ent.tag]] = _text_value(t, ent)
            elif ent.tag in _IDENTITY_TAGS:
                details[_IDENTITY_TAGS[ent.tag]] = _text_value(t, ent)
            elif ent.tag in _DATE_TAGS:
                details[_DATE_TAGS[ent.tag]] = _text_value(t, ent)
            elif ent.tag == _ORIENTATION:
                details["Orientation"] = t.value(ent)
    details = {"tags": n_tags, "ifds": [n for n in ifds if n != "GPS"], **details}
    if problems:
        details["problems"] = len(problems)
    if n_tags or not tiff_file:
        col.add("tiff-tags" if tiff_file else "exif", location, size, details)

    gps = ifds.get("GPS")
    if gps is not None:
        byid = {e.tag: e for e in gps}
        g: dict[str, Any] = {"tags": len(gps)}
        lat = _gps_coordinate(t, byid, 2, 1)
        lon = _gps_coordinate(t, byid, 4, 3)
        if lat is not None and lon is not None:
            g["position"] = f"{lat}, {lon}"
        if 6 in byid:
            g["altitude"] = t.value(byid[6])
        if 29 in byid:
            g["date"] = t.value(byid[29])
        g["names"] = [_tag_name(e.tag, gps=True) for e in gps][:20]
        col.add("gps", f"{location} > GPS IFD", 0, g)
    for ent in ifds.get("ExifIFD", []):
        if ent.tag == _MAKERNOTE:
            size_mn = _TYPE_SIZE.get(ent.type, 1) * ent.count
            head = ent.raw[:12] if ent.raw else b""
            header = _bytes_text(head.split(b"\0")[0]) if head[:1].isalpha() else None
            col.add("makernote", f"{location} > Exif IFD", size_mn, {"make": details.get("Make"), "header": header})
    if not tiff_file and "IFD1" in ifds:
        byid = {e.tag: e for e in ifds["IFD1"]}
        thumb = 0
        if 0x0201 in byid and 0x0202 in byid:
            off, length = t.value(byid[0x0201]), t.value(byid[0x0202])
            if isinstance(off, int) and isinstance(length, int):
                thumb = max(0, min(length, len(tiff) - off))
        elif 0x0117 in byid:
            counts = t.value(byid[0x0117])
            thumb = sum(counts) if isinstance(counts, list) else int(counts or 0)
        if thumb or byid:
            dims = [t.value(byid[k]) for k in (0x0100, 0x0101) if k in byid]
            col.add("exif-thumbnail", f"{location} > IFD1", thumb, {"size": "x".join(map(str, dims)) or None})


# TIFF tags that describe the image data itself (kept by a re-encode in some form)
_TIFF_STRUCTURE_TAGS = frozenset(
    {254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 274, 277, 278, 279, 280, 281, 282, 283, 284, 290, 291, 296}
    | {297, 301, 317, 318, 319, 320, 321, 322, 323, 324, 325, 332, 338, 339, 340, 341, 347, 529, 530, 531, 532}
)
_TIFF_SPECIAL_TAGS = frozenset({700, 33723, 34377, 34675, _EXIF_IFD, _GPS_IFD, 330})


def orientation_exif(orientation: int) -> bytes:
    """A minimal EXIF block (with its ``Exif\\0\\0`` header) holding only the Orientation tag.

    >>> data = orientation_exif(6)
    >>> len(data), data[:6]
    (32, b'Exif\\x00\\x00')
    """
    if not 1 <= int(orientation) <= 8:
        raise ValueError(f"orientation must be 1-8, got {orientation}")
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", _ORIENTATION, 3, 1, int(orientation), 0) + bytes(4)
    return b"Exif\0\0" + b"MM\0\x2a" + struct.pack(">I", 8) + ifd
