"""HEIF/HEIC and AVIF (ISO base media files): the lossless rewrite that keeps the primary image only.

A HEIF file is a ``meta`` box that lists *items* (the coded image or its
tiles, a grid that assembles them, thumbnails, depth and gain maps, an Exif
block, an XMP packet), their *properties* (decoder configuration, size,
rotation, colour) and where their bytes lie; the bytes are in ``mdat``. The
rewrite builds a new file from the primary image and what decodes it:

* the primary item, the items it is derived from (``dimg``: the tiles of a
  grid) and an alpha plane (``auxl`` with an alpha ``auxC``), with their data
  copied unchanged, so the decoded pixels are identical (checked);
* the properties those items use: ``hvcC``/``av1C`` (without SEI NAL units,
  which may carry encoder notes), ``ispe``, ``pixi``, ``irot``, ``imir``,
  ``clap``, ``pasp``, ``auxC``, ``colr`` (an ``nclx`` as is; an ICC profile
  cleaned like every other profile) and the HDR colour volume boxes;
* item names are emptied; ``hdlr`` and ``dinf`` are replaced by canonical
  ones; SEI NAL units inside the HEVC data are dropped too.

Dropped: Exif and XMP items, thumbnails, depth maps, HDR gain maps and other
auxiliary images, item groups, image sequences (``moov``), ``free``/``uuid``
boxes and anything after the last box. A structure the rewrite does not
understand (a protected item, an essential property it does not know, an item
type it does not know) raises :class:`NotLossless`; the caller then re-encodes.
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
_SEI = {39, 40}  # HEVC prefix and suffix SEI NAL unit types


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


def _kept_items(lay: _Layout) -> list[int]:
    if lay.primary not in lay.items:
        raise _Malformed("the primary item is not listed")
    keep = [lay.primary]
    todo = [lay.primary]
    while todo:  # what the primary image is derived from (grid tiles, overlay inputs)
        cur = todo.pop()
        for kind, src, dsts in lay.refs:
            if kind == b"dimg" and src == cur:
                for t in dsts:
                    if t not in keep:
                        keep.append(t)
                        todo.append(t)
    for kind, src, dsts in lay.refs:  # an alpha plane of a kept image
        item = lay.items.get(src)
        if kind == b"auxl" and item is not None and item.aux_type in _ALPHA_AUX and any(t in keep for t in dsts):
            if src not in keep:
                keep.append(src)
    for item_id in keep:
        item = lay.items.get(item_id)
        if item is None:
            raise _Malformed(f"item {item_id} is referenced but not listed")
        if item.protected:
            raise NotLossless("a protected (encrypted) image item")
        if item.type not in _IMAGE_ITEMS:
            raise NotLossless(f"an image item of type {item.type!r}")
    return sorted(keep)


def _box(kind: bytes, payload: bytes) -> bytes:
    if len(payload) + 8 > 0xFFFFFFFF:
        return struct.pack(">I4sQ", 1, kind, len(payload) + 16) + payload
    return struct.pack(">I4s", len(payload) + 8, kind) + payload


def _full_box(kind: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return _box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def _clean_hvcc(box: bytes) -> tuple[bytes, int]:
    """An ``hvcC`` box without SEI NAL arrays, and the NAL length size its items use."""
    body = box[8:]
    if len(body) < 23:
        raise _Malformed("hvcC too short")
    length_size = (body[21] & 3) + 1
    n, p = body[22], 23
    arrays = []
    for _ in range(n):
        if p + 3 > len(body):
            raise _Malformed("hvcC array runs past its box")
        kind = body[p] & 0x3F
        count = struct.unpack(">H", body[p + 1 : p + 3])[0]
        q = p + 3
        for _ in range(count):
            size = struct.unpack(">H", body[q : q + 2])[0]
            q += 2 + size
        if q > len(body):
            raise _Malformed("hvcC NAL unit runs past its box")
        if kind not in _SEI:
            arrays.append(body[p:q])
        p = q
    return _box(b"hvcC", body[:22] + bytes([len(arrays)]) + b"".join(arrays)), length_size


def _drop_sei(data: bytes, length_size: int) -> bytes:
    """HEVC item data (length-prefixed NAL units) without SEI NAL units."""
    out, p = [], 0
    while p < len(data):
        if p + length_size > len(data):
            raise _Malformed("a NAL unit length runs past the item data")
        size = int.from_bytes(data[p : p + length_size], "big")
        end = p + length_size + size
        if end > len(data) or size == 0:
            raise _Malformed("a NAL unit runs past the item data")
        if (data[p + length_size] >> 1) & 0x3F not in _SEI:
            out.append(data[p:end])
        p = end
    return b"".join(out)


def rewrite_heif(d: bytes, icc_policy: str) -> tuple[bytes, str, list[str]]:
    """The file with only its primary image; returns ``(bytes, icc state, notes)``.

    Raises
    ------
    NotLossless
        A structure this rewrite does not handle (the caller re-encodes).
    _Malformed
        The container is damaged.
    """
    lay = _layout(d)
    keep = _kept_items(lay)
    notes = []
    dropped_items = [i for i in lay.items if i not in keep]
    if dropped_items:
        kinds = sorted({lay.items[i].type.decode("latin-1").strip() for i in dropped_items})
        notes.append(f"{len(dropped_items)} item(s) dropped ({', '.join(kinds)})")
    if b"moov" in lay.dropped_boxes:
        notes.append("the image sequence (moov) was dropped")

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
                elif kind not in _KEEP_PROPS:
                    if essential:
                        raise NotLossless(f"an essential property {kind!r} this rewrite does not know")
                    continue
                if box is None:
                    continue
                new_props.append(box)
                new_index[index] = len(new_props)
            new_assoc.setdefault(item_id, []).append((essential, new_index[index]))

    # item data, SEI NAL units dropped from HEVC items
    datas = {}
    for item_id in keep:
        data = _item_data(d, lay, item_id)
        if lay.items[item_id].type == b"hvc1":
            sizes = [length_sizes[i] for _, i in lay.assoc.get(item_id, []) if i in length_sizes]
            if not sizes:
                raise _Malformed(f"HEVC item {item_id} has no decoder configuration (hvcC)")
            data = _drop_sei(data, sizes[0])
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

    mdat_head = 16 if total + 8 > 0xFFFFFFFF else 8
    probe = meta_box(0)  # its size does not depend on the offsets (fixed widths)
    base = len(lay.ftyp) + len(probe) + mdat_head
    meta = meta_box(base)
    if len(meta) != len(probe):  # pragma: no cover - the widths are fixed
        raise _Malformed("the item locations changed size")
    payload = b"".join(datas[i] for i in keep)
    return lay.ftyp + meta + _box(b"mdat", payload), icc_state, notes


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
