"""ICC profiles: parsing, the sRGB test, clean_icc_profile and what strip does with a profile."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from ._binary import _Malformed, _u16be, _u32be
from ._reports import _Collector

_ICC_KEEP_TAGS = frozenset(
    {b"wtpt", b"bkpt", b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC", b"kTRC", b"chad", b"gamt", b"cicp"}
    | {b"A2B0", b"A2B1", b"A2B2", b"B2A0", b"B2A1", b"B2A2", b"D2B0", b"D2B1", b"D2B2", b"D2B3"}
    | {b"B2D0", b"B2D1", b"B2D2", b"B2D3"}
)
_ICC_KEEP_TYPES = frozenset({b"XYZ ", b"curv", b"para", b"sf32", b"mft1", b"mft2", b"mAB ", b"mBA ", b"cicp"})
_ICC_CLASSES = frozenset({b"mntr", b"scnr", b"prtr", b"spac"})
_ICC_D50 = np.array([0.9642, 1.0, 0.8249])
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
_D65 = (0.3127, 0.3290)
_KNOWN_RGB = {
    "sRGB": (((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)), _D65),
    "Display P3": (((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), _D65),
    "Adobe RGB (1998)": (((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)), _D65),
    "Rec. 2020": (((0.708, 0.292), (0.170, 0.797), (0.131, 0.046)), _D65),
    "ProPhoto RGB": (((0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001)), (0.3457, 0.3585)),
}


def _colorants_d50(primaries: tuple, white: tuple) -> np.ndarray:
    """Columns: the D50-adapted XYZ of the red, green and blue primaries (as an ICC profile stores them)."""

    def xyz(x: float, y: float) -> np.ndarray:
        return np.array([x / y, 1.0, (1 - x - y) / y])

    m = np.stack([xyz(*p) for p in primaries], axis=1)
    w = xyz(*white)
    m = m * np.linalg.solve(m, w)
    cone = np.diag((_BRADFORD @ _ICC_D50) / (_BRADFORD @ w))
    return np.linalg.inv(_BRADFORD) @ cone @ _BRADFORD @ m


_KNOWN_COLORANTS = {name: _colorants_d50(*spec) for name, spec in _KNOWN_RGB.items()}
_X = np.linspace(0.0, 1.0, 256)
_SRGB_TRC = np.where(_X >= 0.04045, ((_X + 0.055) / 1.055) ** 2.4, _X / 12.92)


def _s15(d: bytes, p: int) -> float:
    return int.from_bytes(d[p : p + 4], "big", signed=True) / 65536.0


def _icc_parse(p: bytes) -> dict[str, Any]:
    if len(p) < 132 or p[36:40] != b"acsp":
        raise _Malformed("not an ICC profile")
    n = min(_u32be(p, 0), len(p))
    count = _u32be(p, 128)
    if count > 1000 or 132 + 12 * count > n:
        raise _Malformed(f"ICC tag table of {count} entries does not fit")
    tags: dict[bytes, tuple[int, int]] = {}
    for i in range(count):
        q = 132 + 12 * i
        sig, off, size = p[q : q + 4], _u32be(p, q + 4), _u32be(p, q + 8)
        if off + size <= n and size >= 8:
            tags.setdefault(sig, (off, size))
    date = struct.unpack(">6H", p[24:36])
    return {
        "size": n,
        "cmm": p[4:8],
        "version": p[8:12],
        "class": p[12:16],
        "space": p[16:20],
        "pcs": p[20:24],
        "date": date,
        "platform": p[40:44],
        "flags": p[44:48],
        "manufacturer": p[48:52],
        "model": p[52:56],
        "attributes": p[56:64],
        "intent": _u32be(p, 64) & 0xFFFF,
        "illuminant": p[68:80],
        "creator": p[80:84],
        "id": p[84:100],
        "tags": tags,
    }


def _icc_text(p: bytes, off: int, size: int) -> str | None:
    body = p[off : off + size]
    kind = body[:4]
    try:
        if kind == b"desc" and len(body) >= 12:
            n = _u32be(body, 8)
            return body[12 : 12 + max(0, n)].split(b"\0", 1)[0].decode("latin-1")[:200]
        if kind == b"text":
            return body[8:].split(b"\0", 1)[0].decode("latin-1")[:200]
        if kind == b"mluc" and len(body) >= 28:
            length, offset = _u32be(body, 20), _u32be(body, 24)
            return body[offset : offset + length].decode("utf-16-be", "replace").rstrip("\0")[:200]
    except Exception:
        return None
    return None


def _sig(b: bytes) -> str | None:
    if not b.strip(b"\0 "):
        return None
    return b.decode("latin-1").strip() if all(32 <= c < 127 for c in b) else b.hex()


def _trc(p: bytes, off: int, size: int) -> np.ndarray | None:
    """A tone curve sampled at 256 points, or None."""
    body = p[off : off + size]
    if body[:4] == b"curv" and len(body) >= 12:
        n = _u32be(body, 8)
        if n == 0:
            return _X.copy()
        if n == 1:
            return _X ** (_u16be(body, 12) / 256.0)
        if len(body) < 12 + 2 * n:
            return None
        table = np.frombuffer(body[12 : 12 + 2 * n], ">u2").astype(np.float64) / 65535.0
        return np.interp(_X, np.linspace(0, 1, n), table)
    if body[:4] == b"para" and len(body) >= 16:
        ftype = _u16be(body, 8)
        nparams = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}.get(ftype)
        if nparams is None or len(body) < 12 + 4 * nparams:
            return None
        g, a, b, c, d, e, f = ([_s15(body, 12 + 4 * i) for i in range(nparams)] + [0.0] * 7)[:7]
        with np.errstate(all="ignore"):
            if ftype == 0:
                y = _X**g
            elif ftype == 1:
                y = np.where(_X >= -b / a, np.maximum(a * _X + b, 0) ** g, 0.0)
            elif ftype == 2:
                y = np.where(_X >= -b / a, np.maximum(a * _X + b, 0) ** g + c, c)
            elif ftype == 3:
                y = np.where(_X >= d, np.maximum(a * _X + b, 0) ** g, c * _X)
            else:
                y = np.where(_X >= d, np.maximum(a * _X + b, 0) ** g + e, c * _X + f)
        return y if np.all(np.isfinite(y)) else None
    return None


def _icc_space_name(p: bytes, info: dict[str, Any]) -> str:
    """A generic name for the profile's colour space: a known RGB space, else its colour space."""
    space = info["space"]
    tags = info["tags"]
    if space == b"RGB " and all(t in tags for t in (b"rXYZ", b"gXYZ", b"bXYZ")):
        cols = []
        for t in (b"rXYZ", b"gXYZ", b"bXYZ"):
            off, _ = tags[t]
            if p[off : off + 4] != b"XYZ ":
                break
            cols.append([_s15(p, off + 8 + 4 * i) for i in range(3)])
        else:
            m = np.array(cols).T
            for name, ref in _KNOWN_COLORANTS.items():
                if np.max(np.abs(m - ref)) < 0.005:
                    return name
        return "RGB"
    return {b"GRAY": "Gray", b"CMYK": "CMYK", b"Lab ": "Lab", b"YCbr": "YCbCr"}.get(space, "Colour")


def _is_srgb(p: bytes, info: dict[str, Any]) -> bool:
    if _icc_space_name(p, info) != "sRGB":
        return False
    for t in (b"rTRC", b"gTRC", b"bTRC"):
        if t not in info["tags"]:
            return False
        y = _trc(p, *info["tags"][t])
        if y is None or np.max(np.abs(y - _SRGB_TRC)) > 0.01:
            return False
    return True


def _icc_text_tag(text: str, v4: bool) -> bytes:
    if v4:
        body = text.encode("utf-16-be")
        return b"mluc" + bytes(4) + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(">II", len(body), 28) + body
    return b"text" + bytes(4) + text.encode("ascii") + b"\0"


def _icc_desc_tag(text: str, v4: bool) -> bytes:
    if v4:
        return _icc_text_tag(text, True)
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_)) + ascii_ + bytes(4 + 4 + 2 + 1 + 67)


def clean_icc_profile(profile: bytes | None) -> bytes | None:
    """Rebuild an ICC profile from its colour-defining tags only.

    The result has a blank header (no date, CMM, platform, device maker or model,
    creator or profile ID), a generic description naming the colour space, the
    copyright ``"CC0"``, and only these tags, copied with their reserved bytes
    zeroed: white and black point, colorants, tone curves, chromatic adaptation,
    gamut and colour lookup tables (A2B*, B2A*, D2B*, B2D*) and ``cicp``.
    Cleaning a clean profile returns it unchanged.

    Parameters
    ----------
    profile : bytes
        An ICC profile (display, input, output or colour-space class).

    Returns
    -------
    bytes or None
        The clean profile; None when the profile describes sRGB (an untagged image
        means sRGB), is damaged, or defines no colours.

    Examples
    --------
    >>> from PIL import ImageCms
    >>> srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    >>> clean_icc_profile(srgb) is None
    True
    """
    if not profile:
        return None
    try:
        info = _icc_parse(bytes(profile))
    except _Malformed:
        return None
    p = bytes(profile)
    if info["class"] not in _ICC_CLASSES:
        return None
    tags = info["tags"]
    kept = [
        (sig, off, size)
        for sig, (off, size) in tags.items()
        if sig in _ICC_KEEP_TAGS and p[off : off + 4] in _ICC_KEEP_TYPES
    ]
    names = {sig for sig, _, _ in kept}
    matrix = {b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC"} <= names
    usable = (
        b"A2B0" in names
        or (info["space"] == b"RGB " and matrix)
        or (info["space"] == b"GRAY" and b"kTRC" in names)
    )
    if not usable or _is_srgb(p, info):
        return None
    v4 = info["version"][0] >= 4
    entries: list[tuple[bytes, bytes]] = [
        (b"desc", _icc_desc_tag(_icc_space_name(p, info), v4)),
        (b"cprt", _icc_text_tag("CC0", v4)),
    ]
    for sig, off, size in sorted(kept):
        body = bytearray(p[off : off + size])
        body[4:8] = bytes(4)
        entries.append((sig, bytes(body)))
    table = bytearray()
    data = bytearray()
    start = 128 + 4 + 12 * len(entries)
    placed: dict[bytes, int] = {}
    for sig, body in entries:
        if body not in placed:
            placed[body] = start + len(data)
            data += body + bytes(-len(body) % 4)
        table += sig + struct.pack(">II", placed[body], len(body))
    out = bytearray(128)
    out[8:12] = info["version"]
    out[12:16] = info["class"]
    out[16:20] = info["space"]
    out[20:24] = info["pcs"]
    out[36:40] = b"acsp"
    out[64:68] = struct.pack(">I", info["intent"] if info["intent"] <= 3 else 0)
    out[68:80] = info["illuminant"]
    out += struct.pack(">I", len(entries)) + table + data
    out[0:4] = struct.pack(">I", len(out))
    return bytes(out)


def _icc_items(p: bytes, location: str, size: int, col: _Collector) -> None:
    try:
        info = _icc_parse(p)
    except _Malformed as exc:
        col.add("icc", location, size, {"error": str(exc)})
        col.warn(f"{location}: unreadable ICC profile ({exc})")
        return
    tags = info["tags"]

    def text(sig: bytes) -> str | None:
        return _icc_text(p, *tags[sig]) if sig in tags else None

    date = info["date"]
    details = {
        "name": _icc_space_name(p, info),
        "description": text(b"desc"),
        "copyright": text(b"cprt"),
        "device_maker": text(b"dmnd") or _sig(info["manufacturer"]),
        "device_model": text(b"dmdd") or _sig(info["model"]),
        "created": "%04d-%02d-%02d %02d:%02d:%02d" % date if any(date) else None,
        "cmm": _sig(info["cmm"]),
        "creator": _sig(info["creator"]),
        "platform": _sig(info["platform"]),
        "profile_id": info["id"].hex() if any(info["id"]) else None,
        "version": f"{info['version'][0]}.{info['version'][1] >> 4}",
        "tags": [s.decode("latin-1") for s in tags][:40],
    }
    sensitive = clean_icc_profile(p) != p
    col.add("icc", location, size, details, sensitive=sensitive)


def _icc_decision(profile: bytes | None, policy: str) -> tuple[bytes | None, str]:
    if not profile:
        return None, "none"
    if policy == "drop":
        return None, "dropped"
    clean = clean_icc_profile(profile)
    if clean is not None:
        return clean, "cleaned"
    try:
        info = _icc_parse(profile)
        if _is_srgb(profile, info):
            return None, "dropped-srgb"
    except _Malformed:
        pass
    return None, "dropped-unsupported"
