"""HEIF/HEIC and AVIF (ISO base media files): the lossless rewrite that keeps the primary image only.

A HEIF file is a ``meta`` box that lists *items* (the coded image or its
tiles, a grid that assembles them, thumbnails, depth and gain maps, an Exif
block, an XMP packet), their *properties* (decoder configuration, size,
rotation, colour) and where their bytes lie; the bytes are in ``mdat``. The
rewrite builds a new file from the primary image and what decodes it:

* the primary item and every other top-level image (a burst, a second
  picture: content, not metadata), the items they are derived from (``dimg``:
  the tiles of a grid) and their alpha planes (``auxl`` with an alpha
  ``auxC``);
* of their coded data, only what a decoder needs: the HEVC NAL units of coded
  slices, VPS, SPS and PPS (SEI, filler data, delimiters, reserved and
  unspecified types are dropped: any of them can carry text), the AV1 OBUs of
  sequence and frame headers, frames and tile groups (metadata, padding,
  temporal delimiters and reserved types dropped); the decoded pixels are
  identical (checked);
* the properties those items use: ``hvcC``/``av1C`` (holding the same NAL
  units and OBUs only), ``ispe``, ``pixi``, ``irot``, ``imir``, ``clap``,
  ``pasp``, ``auxC``, ``colr`` (an ``nclx`` as is; an ICC profile cleaned like
  every other profile) and the HDR colour volume boxes;
* ``ftyp`` keeps only the still-image brands (HEIF, MIAF, AVIF and their
  profiles), minor version 0; item names are emptied; ``hdlr`` and ``dinf``
  are replaced by canonical ones.

Dropped: Exif and XMP items, thumbnails, depth maps, HDR gain maps and other
auxiliary images, item groups, ``free``/``uuid`` boxes and anything after the
last box. An image sequence (``moov``: an animated AVIF), or a structure the
rewrite does not understand (a protected item, an essential property it does
not know, an item type it does not know) raises :class:`NotLossless`; the
caller then re-encodes every frame, and says so.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ._binary import _Malformed
from ._icc import _icc_decision

__all__ = ["NotLossless", "rewrite_heif"]


class NotLossless(Exception):
    """The file cannot be rewritten losslessly here (the caller re-encodes it)."""


# item types that code or assemble the primary image
_IMAGE_ITEMS = {b"hvc1", b"av01", b"grid", b"iovl", b"iden", b"jpeg"}
# properties kept (when their item is kept); colr is handled apart
_KEEP_PROPS = {
    b"hvcC", b"av1C", b"jpgC", b"ispe", b"pixi", b"irot", b"imir", b"clap", b"pasp", b"auxC", b"lsel",
    b"a1op", b"a1lx", b"rloc", b"clli", b"mdcv", b"cclv", b"amve",
}
_ALPHA_AUX = {b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", b"urn:mpeg:hevc:2015:auxid:1"}
# HEVC NAL unit types a decoder needs: coded slices (0-9 non-IRAP, 16-21 IRAP), VPS, SPS, PPS. Dropped:
# reserved and unspecified types (10-15, 22-31, 41-63, any of which can carry arbitrary bytes), access
# unit delimiters, end of sequence/stream, filler data and SEI (user data, encoder notes, time codes)
_HEVC_DECODER_NALS = frozenset(range(0, 10)) | frozenset(range(16, 22)) | {32, 33, 34}
# AV1 OBU types a decoder needs: sequence header, frame header, tile group, frame, redundant frame
# header, tile list. Dropped: temporal delimiters, metadata (ITU-T T.35 user data, ...), padding, reserved
_AV1_DECODER_OBUS = frozenset({1, 3, 4, 6, 7, 8})
# ftyp brands of still images (HEIF, MIAF, AVIF and their profiles); every other brand is dropped
_STILL_BRANDS = {
    b"heic", b"heix", b"heim", b"heis", b"mif1", b"mif2", b"miaf", b"avif", b"MA1A", b"MA1B",
    b"MiHE", b"MiHA", b"MiHB", b"MiHM", b"MiPr", b"MiAC", b"MiCm", b"jpeg",
}


@dataclass
class _Box:
    type: bytes
    start: int
    body: int  # offset of the payload (after size, type and, for full boxes, nothing: callers skip version/flags)
    end: int


def _boxes(d: bytes, start: int, end: int, *, top: bool = False) -> list[_Box]:
    """The boxes in ``d[start:end]``; at the ``top`` level, bytes after the last whole box are a trailer (dropped)."""
    out, pos = [], start
    while pos < end:
        if pos + 8 > end:
            if top:
                break
            raise _Malformed(f"a box header at offset {pos} runs past its parent")
        size, kind = struct.unpack(">I4s", d[pos : pos + 8])
        head = 8
        if size == 1:
            if pos + 16 > end:
                raise _Malformed("truncated 64-bit box size")
            size, head = struct.unpack(">Q", d[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            if top and out:
                break
            raise _Malformed(f"box {kind!r} at offset {pos} runs past its parent")
        out.append(_Box(kind, pos, pos + head, pos + size))
        pos += size
    return out


@dataclass
class _Item:
    id: int
    type: bytes
    flags: int
    protected: bool
    aux_type: bytes = b""


@dataclass
class _Layout:
    ftyp: bytes
    primary: int
    items: dict[int, _Item]
    locations: dict[int, tuple[int, int, list[tuple[int, int]]]]  # id -> (method, base, [(offset, length)])
    refs: list[tuple[bytes, int, list[int]]]
    props: list[tuple[bytes, bytes]]  # (type, whole box)
    assoc: dict[int, list[tuple[bool, int]]]  # id -> [(essential, 1-based property index)]
    idat: bytes
    dropped_boxes: list[bytes] = field(default_factory=list)


def _full(d: bytes, b: _Box) -> tuple[int, int, int]:
    """``(version, flags, payload offset)`` of a full box."""
    if b.body + 4 > b.end:
        raise _Malformed(f"{b.type!r} box too short")
    v = d[b.body]
    return v, int.from_bytes(d[b.body + 1 : b.body + 4], "big"), b.body + 4


def _uint(d: bytes, pos: int, size: int) -> int:
    if size == 0:
        return 0
    return int.from_bytes(d[pos : pos + size], "big")


def _layout(d: bytes) -> _Layout:
    top = _boxes(d, 0, len(d), top=True)
    if not top or top[0].type != b"ftyp":
        raise _Malformed("no ftyp box first")
    metas = [b for b in top if b.type == b"meta"]
    if len(metas) != 1:
        raise _Malformed(f"{len(metas)} meta boxes")
    meta = metas[0]
    _, _, pos = _full(d, meta)
    children = {}
    for b in _boxes(d, pos, meta.end):
        children.setdefault(b.type, []).append(b)
    for need in (b"hdlr", b"pitm", b"iinf", b"iloc"):
        if need not in children:
            raise _Malformed(f"no {need.decode()} box")
    _, _, p = _full(d, children[b"hdlr"][0])
    if d[p + 4 : p + 8] != b"pict":
        raise NotLossless("the meta box does not describe a picture")
    v, _, p = _full(d, children[b"pitm"][0])
    primary = _uint(d, p, 2 if v == 0 else 4)
    items = _item_infos(d, children[b"iinf"][0])
    locations = _item_locations(d, children[b"iloc"][0])
    refs = _item_refs(d, children[b"iref"][0]) if b"iref" in children else []
    props: list[tuple[bytes, bytes]] = []
    assoc: dict[int, list[tuple[bool, int]]] = {}
    if b"iprp" in children:
        for b in _boxes(d, children[b"iprp"][0].body, children[b"iprp"][0].end):
            if b.type == b"ipco":
                props = [(c.type, d[c.start : c.end]) for c in _boxes(d, b.body, b.end)]
            elif b.type == b"ipma":
                _item_assoc(d, b, assoc)
    idat = b""
    if b"idat" in children:
        box = children[b"idat"][0]
        idat = d[box.body : box.end]
    for item in items.values():  # the kind of auxiliary image, for the alpha test
        for _, index in assoc.get(item.id, []):
            if 0 < index <= len(props) and props[index - 1][0] == b"auxC":
                body = props[index - 1][1]
                item.aux_type = body[12:].split(b"\0", 1)[0]
    dropped = [b.type for b in top if b.type not in (b"ftyp", b"meta", b"mdat")]
    return _Layout(d[top[0].start : top[0].end], primary, items, locations, refs, props, assoc, idat, dropped)


def _item_infos(d: bytes, iinf: _Box) -> dict[int, _Item]:
    v, _, p = _full(d, iinf)
    p += 2 if v == 0 else 4
    items = {}
    for b in _boxes(d, p, iinf.end):
        if b.type != b"infe":
            continue
        ver, flags, q = _full(d, b)
        if ver < 2:
            raise NotLossless(f"an item info entry of version {ver}")
        size = 2 if ver == 2 else 4
        item_id = _uint(d, q, size)
        protection = _uint(d, q + size, 2)
        kind = d[q + size + 2 : q + size + 6]
        items[item_id] = _Item(item_id, kind, flags, protection != 0)
    return items


def _item_locations(d: bytes, iloc: _Box) -> dict[int, tuple[int, int, list[tuple[int, int]]]]:
    v, _, p = _full(d, iloc)
    if v > 2:
        raise NotLossless(f"iloc version {v}")
    off_size, len_size = d[p] >> 4, d[p] & 15
    base_size, idx_size = d[p + 1] >> 4, (d[p + 1] & 15) if v in (1, 2) else 0
    p += 2
    count = _uint(d, p, 2 if v < 2 else 4)
    p += 2 if v < 2 else 4
    out = {}
    for _ in range(count):
        item_id = _uint(d, p, 2 if v < 2 else 4)
        p += 2 if v < 2 else 4
        method = 0
        if v in (1, 2):
            method = _uint(d, p, 2) & 15
            p += 2
        if _uint(d, p, 2) != 0:
            raise NotLossless("an item stored in another file")
        p += 2
        base = _uint(d, p, base_size)
        p += base_size
        n = _uint(d, p, 2)
        p += 2
        extents = []
        for _ in range(n):
            p += idx_size
            off = _uint(d, p, off_size)
            p += off_size
            length = _uint(d, p, len_size)
            p += len_size
            extents.append((off, length))
        if p > iloc.end:
            raise _Malformed("iloc runs past its box")
        out[item_id] = (method, base, extents)
    return out


def _item_refs(d: bytes, iref: _Box) -> list[tuple[bytes, int, list[int]]]:
    v, _, p = _full(d, iref)
    size = 2 if v == 0 else 4
    out = []
    for b in _boxes(d, p, iref.end):
        q = b.body
        src = _uint(d, q, size)
        n = _uint(d, q + size, 2)
        q += size + 2
        out.append((b.type, src, [_uint(d, q + i * size, size) for i in range(n)]))
    return out


def _item_assoc(d: bytes, ipma: _Box, assoc: dict[int, list[tuple[bool, int]]]) -> None:
    v, flags, p = _full(d, ipma)
    n = _uint(d, p, 4)
    p += 4
    for _ in range(n):
        item_id = _uint(d, p, 2 if v < 1 else 4)
        p += 2 if v < 1 else 4
        k = d[p]
        p += 1
        for _ in range(k):
            if flags & 1:
                raw = _uint(d, p, 2)
                p += 2
                assoc.setdefault(item_id, []).append((bool(raw >> 15), raw & 0x7FFF))
            else:
                raw = d[p]
                p += 1
                assoc.setdefault(item_id, []).append((bool(raw >> 7), raw & 0x7F))
        if p > ipma.end:
            raise _Malformed("ipma runs past its box")


def _item_data(d: bytes, lay: _Layout, item_id: int) -> bytes:
    if item_id not in lay.locations:
        return b""
    method, base, extents = lay.locations[item_id]
    if method == 0:
        source = d
    elif method == 1:
        source = lay.idat
    else:
        raise NotLossless("an item built from other items' data (iloc construction method 2)")
    parts = []
    for off, length in extents:
        start = base + off
        if length == 0:  # "to the end of the source"
            length = len(source) - start
        if start < 0 or start + length > len(source):
            raise _Malformed(f"the data of item {item_id} lies past the end of the file")
        parts.append(source[start : start + length])
    return b"".join(parts)


def _top_level(lay: _Layout) -> list[int]:
    """The images a viewer shows (the primary first): not hidden, not a thumbnail, an auxiliary image or a tile."""
    below = {s for k, s, _ in lay.refs if k in (b"thmb", b"auxl")} | {t for k, _, ts in lay.refs if k == b"dimg" for t in ts}
    others = [
        i for i, item in lay.items.items()
        if i != lay.primary and item.type in _IMAGE_ITEMS and not item.flags & 1 and i not in below
    ]
    return [lay.primary, *others]


def _kept_items(lay: _Layout) -> list[int]:
    if lay.primary not in lay.items:
        raise _Malformed("the primary item is not listed")
    keep = _top_level(lay)
    todo = list(keep)
    while todo:  # what the kept images are derived from (grid tiles, overlay inputs) and their alpha planes
        cur = todo.pop()
        for kind, src, dsts in lay.refs:
            found = []
            if kind == b"dimg" and src == cur:
                found = dsts
            elif kind == b"auxl" and cur in dsts and lay.items.get(src) and lay.items[src].aux_type in _ALPHA_AUX:
                found = [src]  # an alpha plane (itself a grid of alpha tiles, maybe)
            for t in found:
                if t not in keep:
                    keep.append(t)
                    todo.append(t)
    for item_id in keep:
        item = lay.items.get(item_id)
        if item is None:
            raise _Malformed(f"item {item_id} is referenced but not listed")
        if item.protected:
            raise NotLossless("a protected (encrypted) image item")
        if item.type not in _IMAGE_ITEMS:
            raise NotLossless(f"an image item of type {item.type!r}")
    return [i for i in lay.items if i in keep]  # in the file's order, which viewers follow


def _box(kind: bytes, payload: bytes) -> bytes:
    if len(payload) + 8 > 0xFFFFFFFF:
        return struct.pack(">I4sQ", 1, kind, len(payload) + 16) + payload
    return struct.pack(">I4s", len(payload) + 8, kind) + payload


def _full_box(kind: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return _box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def _clean_hvcc(box: bytes) -> tuple[bytes, int]:
    """An ``hvcC`` box holding only the NAL units a decoder needs (VPS, SPS, PPS), and the NAL length size."""
    body = box[8:]
    if len(body) < 23:
        raise _Malformed("hvcC too short")
    length_size = (body[21] & 3) + 1
    n, p = body[22], 23
    arrays = []
    for _ in range(n):
        if p + 3 > len(body):
            raise _Malformed("hvcC array runs past its box")
        head = body[p]
        count = struct.unpack(">H", body[p + 1 : p + 3])[0]
        q = p + 3
        units = []
        for _ in range(count):
            if q + 2 > len(body):
                raise _Malformed("hvcC NAL unit runs past its box")
            size = struct.unpack(">H", body[q : q + 2])[0]
            unit = body[q + 2 : q + 2 + size]
            q += 2 + size
            if q > len(body) or not unit:
                raise _Malformed("hvcC NAL unit runs past its box")
            if (unit[0] >> 1) & 0x3F in _HEVC_DECODER_NALS and (head & 0x3F) in _HEVC_DECODER_NALS:
                units.append(struct.pack(">H", size) + unit)
        if units:
            arrays.append(bytes([head]) + struct.pack(">H", len(units)) + b"".join(units))
        p = q
    return _box(b"hvcC", body[:22] + bytes([len(arrays)]) + b"".join(arrays)), length_size


def _decoder_nals(data: bytes, length_size: int) -> bytes:
    """HEVC item data (length-prefixed NAL units) with only the NAL units a decoder needs."""
    out, p = [], 0
    while p < len(data):
        if p + length_size > len(data):
            raise _Malformed("a NAL unit length runs past the item data")
        size = int.from_bytes(data[p : p + length_size], "big")
        end = p + length_size + size
        if end > len(data) or size == 0:
            raise _Malformed("a NAL unit runs past the item data")
        if (data[p + length_size] >> 1) & 0x3F in _HEVC_DECODER_NALS:
            out.append(data[p:end])
        p = end
    return b"".join(out)


def _leb128(d: bytes, p: int) -> tuple[int, int]:
    value = 0
    for i in range(8):
        if p + i >= len(d):
            raise _Malformed("an AV1 OBU size runs past the data")
        byte = d[p + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, p + i + 1
    raise _Malformed("an AV1 OBU size longer than 8 bytes")


def _decoder_obus(data: bytes) -> bytes:
    """AV1 data (a sequence of OBUs) with only the OBUs a decoder needs (:data:`_AV1_DECODER_OBUS`)."""
    out, p = [], 0
    while p < len(data):
        head = data[p]
        if head & 0x80:
            raise _Malformed("an AV1 OBU with its forbidden bit set")
        kind, has_ext, has_size = (head >> 3) & 15, bool(head & 4), bool(head & 2)
        q = p + 1 + has_ext
        if has_size:
            size, q = _leb128(data, q)
            end = q + size
        else:  # the last OBU: it runs to the end of the data
            end = len(data)
        if end > len(data):
            raise _Malformed("an AV1 OBU runs past the data")
        if kind in _AV1_DECODER_OBUS:
            out.append(data[p:end])
        p = end
    return b"".join(out)


def _clean_av1c(box: bytes) -> bytes:
    """An ``av1C`` box whose configuration OBUs are only what a decoder needs (the sequence header)."""
    body = box[8:]
    if len(body) < 4:
        raise _Malformed("av1C too short")
    return _box(b"av1C", body[:4] + _decoder_obus(body[4:]))


def _clean_ftyp(ftyp: bytes, primary_type: bytes) -> bytes:
    """The ``ftyp`` of the rewritten file: the still-image brands it had, minor version 0, nothing else."""
    body = ftyp[8:]
    if len(body) < 8:
        raise _Malformed("ftyp too short")
    major = body[:4]
    brands = [body[i : i + 4] for i in range(8, len(body) - 3, 4)]
    if major not in _STILL_BRANDS:
        major = b"avif" if primary_type == b"av01" else b"heic"
    kept = [b for b in dict.fromkeys([major, b"mif1", *brands]) if b in _STILL_BRANDS]
    return _box(b"ftyp", major + b"\0\0\0\0" + b"".join(kept))


def rewrite_heif(d: bytes, icc_policy: str) -> tuple[bytes, str, list[str]]:
    """The file with only its images (every top-level one) and what decodes them; returns ``(bytes, icc state, notes)``.

    Raises
    ------
    NotLossless
        A structure this rewrite does not handle (the caller re-encodes).
    _Malformed
        The container is damaged.
    """
    lay = _layout(d)
    if b"moov" in lay.dropped_boxes:  # an animation or burst: its frames are content, re-encoded one by one
        raise NotLossless("an image sequence (moov): every frame re-encoded")
    keep = _kept_items(lay)
    notes = []
    shown = len(_top_level(lay))
    if shown > 1:
        notes.append(f"{shown} top-level images kept")
    dropped_items = [i for i in lay.items if i not in keep]
    if dropped_items:
        kinds = sorted({lay.items[i].type.decode("latin-1").strip() for i in dropped_items})
        notes.append(f"{len(dropped_items)} item(s) dropped ({', '.join(kinds)})")

    # properties: the ones kept items use, renumbered; the ICC profile cleaned
    new_props: list[bytes] = []
    new_index: dict[int, int] = {}
    icc_state = "none"
    length_sizes: dict[int, int] = {}
    new_assoc: dict[int, list[tuple[bool, int]]] = {}
    for item_id in keep:
        for essential, index in lay.assoc.get(item_id, []):
            if index == 0 or index > len(lay.props):
                continue
            kind, box = lay.props[index - 1]
            if index not in new_index:
                if kind == b"colr":
                    box, icc_state = _clean_colr(box, icc_policy, icc_state)
                elif kind == b"hvcC":
                    box, length_sizes[index] = _clean_hvcc(box)
                elif kind == b"av1C":
                    box = _clean_av1c(box)
                elif kind not in _KEEP_PROPS:
                    if essential:
                        raise NotLossless(f"an essential property {kind!r} this rewrite does not know")
                    continue
                if box is None:
                    continue
                new_props.append(box)
                new_index[index] = len(new_props)
            new_assoc.setdefault(item_id, []).append((essential, new_index[index]))

    # item data: only the NAL units (HEVC) and OBUs (AV1) a decoder needs
    datas = {}
    for item_id in keep:
        data = _item_data(d, lay, item_id)
        if lay.items[item_id].type == b"hvc1":
            sizes = [length_sizes[i] for _, i in lay.assoc.get(item_id, []) if i in length_sizes]
            if not sizes:
                raise _Malformed(f"HEVC item {item_id} has no decoder configuration (hvcC)")
            data = _decoder_nals(data, sizes[0])
        elif lay.items[item_id].type == b"av01":
            data = _decoder_obus(data)
        datas[item_id] = data

    big = max([item_id for item_id in keep] + [0]) > 0xFFFF
    id_size, id_fmt = (4, ">I") if big else (2, ">H")
    hdlr = _full_box(b"hdlr", 0, 0, b"\0\0\0\0pict" + b"\0" * 12 + b"\0")
    dinf = _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1) + _full_box(b"url ", 0, 1, b"")))
    pitm = _full_box(b"pitm", 1 if big else 0, 0, struct.pack(id_fmt, lay.primary))
    infes = b"".join(
        _full_box(b"infe", 3 if big else 2, lay.items[i].flags & 1, struct.pack(id_fmt, i) + b"\0\0" + lay.items[i].type + b"\0")
        for i in keep
    )
    iinf = _full_box(b"iinf", 0 if len(keep) < 0x10000 else 1, 0, struct.pack(">H" if len(keep) < 0x10000 else ">I", len(keep)) + infes)
    refs = [(k, s, [t for t in ts if t in keep]) for k, s, ts in lay.refs if s in keep and k in (b"dimg", b"auxl", b"prem")]
    refs = [(k, s, ts) for k, s, ts in refs if ts]
    iref = b""
    if refs:
        iref = _full_box(
            b"iref", 1 if big else 0, 0,
            b"".join(_box(k, struct.pack(id_fmt, s) + struct.pack(">H", len(ts)) + b"".join(struct.pack(id_fmt, t) for t in ts)) for k, s, ts in refs),
        )
    wide = len(new_props) > 127
    entries = []
    for item_id in keep:
        links = new_assoc.get(item_id, [])
        packed = b"".join(
            struct.pack(">H", (e << 15) | i) if wide else bytes([(e << 7) | i]) for e, i in links
        )
        entries.append(struct.pack(id_fmt, item_id) + bytes([len(links)]) + packed)
    ipma = _full_box(b"ipma", 1 if big else 0, 1 if wide else 0, struct.pack(">I", len(entries)) + b"".join(entries))
    iprp = _box(b"iprp", _box(b"ipco", b"".join(new_props)) + ipma)

    total = sum(len(v) for v in datas.values())
    off_size = 8 if total > 0xFFFFFFF0 - 65536 else 4

    def iloc_box(base: int) -> bytes:
        rows, at = [], base
        for item_id in keep:
            data = datas[item_id]
            row = struct.pack(id_fmt, item_id) + struct.pack(">HH", 0, 0)  # construction method 0, this file
            if data:
                row += struct.pack(">H", 1) + at.to_bytes(off_size, "big") + len(data).to_bytes(4 if off_size == 4 else 8, "big")
                at += len(data)
            else:
                row += struct.pack(">H", 0)
            rows.append(row)
        sizes = bytes([(off_size << 4) | (4 if off_size == 4 else 8), 0])
        count = struct.pack(">I" if big else ">H", len(keep))
        return _full_box(b"iloc", 2 if big else 1, 0, sizes + count + b"".join(rows))

    def meta_box(base: int) -> bytes:
        return _full_box(b"meta", 0, 0, hdlr + dinf + pitm + iinf + iref + iprp + iloc_box(base))

    ftyp = _clean_ftyp(lay.ftyp, lay.items[lay.primary].type)
    mdat_head = 16 if total + 8 > 0xFFFFFFFF else 8
    probe = meta_box(0)  # its size does not depend on the offsets (fixed widths)
    base = len(ftyp) + len(probe) + mdat_head
    meta = meta_box(base)
    if len(meta) != len(probe):  # pragma: no cover - the widths are fixed
        raise _Malformed("the item locations changed size")
    payload = b"".join(datas[i] for i in keep)
    return ftyp + meta + _box(b"mdat", payload), icc_state, notes


def _clean_colr(box: bytes, policy: str, state: str) -> tuple[bytes | None, str]:
    """A ``colr`` property: ``nclx`` as is; an ICC profile cleaned (or dropped: None)."""
    kind = box[8:12]
    if kind == b"nclx":
        return box, state
    if kind in (b"prof", b"rICC"):
        icc, new_state = _icc_decision(box[12:], policy)
        if icc is None:
            return None, new_state
        return _box(b"colr", kind + icc), new_state
    return None, state
