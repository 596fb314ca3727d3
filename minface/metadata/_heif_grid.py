"""A large HEIF/AVIF written as a grid of tiles, each coded on its own: bounded encoder memory.

An HEVC or AV1 encoder given a 60-megapixel picture holds several copies of
it (planes, references, look-ahead): over a gigabyte. Phones write such
pictures as a ``grid`` item of equal tiles instead (512 pixels), and so does
minface for large images: each tile is encoded by itself (:func:`encode_grid`,
a small file each), and :func:`assemble_grid` builds one file from them: a
``grid`` item whose tiles are the tiles' coded images, with an alpha grid
beside it when the tiles have alpha planes. The right and bottom tiles are
padded by repeating the last column and row; the grid's size crops them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np

from ._binary import _Malformed
from ._heif import _ALPHA_AUX, _box, _full_box, _item_data, _layout

__all__ = ["encode_grid", "assemble_grid"]

# properties of a tile's picture that describe the whole picture too (copied to the grid item)
_PICTURE_PROPS = {b"colr", b"pixi", b"clli", b"mdcv", b"cclv", b"amve"}


def encode_grid(pixels: np.ndarray, tile: int, encode: Callable[[np.ndarray], bytes]) -> bytes:
    """``pixels`` coded as a grid of ``tile`` x ``tile`` tiles, each by ``encode`` (array -> a HEIF/AVIF file).

    Only one tile's copy is made at a time; the file is assembled from the coded tiles.
    """
    h, w = pixels.shape[:2]
    rows, cols = -(-h // tile), -(-w // tile)
    files = []
    for r in range(rows):
        for c in range(cols):
            part = pixels[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile]
            ph, pw = tile - part.shape[0], tile - part.shape[1]
            if ph or pw:  # an edge tile: the last row and column repeated (cropped by the grid's size)
                pad = ((0, ph), (0, pw)) + ((0, 0),) * (part.ndim - 2)
                part = np.pad(part, pad, mode="edge")
            files.append(encode(np.ascontiguousarray(part)))
    return assemble_grid(files, rows, cols, w, h)


def _picture(d: bytes) -> tuple[bytes, list[tuple[bool, bytes]], bytes, tuple[list[tuple[bool, bytes]], bytes] | None]:
    """A one-image file's ftyp, its primary's ``(essential, property box)`` list and data, and its alpha plane's."""
    lay = _layout(d)

    def props(item_id: int) -> list[tuple[bool, bytes]]:
        return [(e, lay.props[i - 1][1]) for e, i in lay.assoc.get(item_id, []) if 0 < i <= len(lay.props)]

    alpha = None
    for kind, src, dsts in lay.refs:
        if kind == b"auxl" and lay.primary in dsts and lay.items.get(src) and lay.items[src].aux_type in _ALPHA_AUX:
            alpha = (props(src), _item_data(d, lay, src))
    return lay.ftyp, props(lay.primary), _item_data(d, lay, lay.primary), alpha


def assemble_grid(files: list[bytes], rows: int, cols: int, width: int, height: int) -> bytes:
    """One HEIF/AVIF file whose primary image is the grid of the pictures in ``files`` (row by row).

    Every file holds one picture of the same size and coding (and an alpha plane, or none, for all).

    >>> assemble_grid([], 1, 1, 4, 4)
    Traceback (most recent call last):
    ...
    minface.metadata._binary._Malformed: 1x1 tiles expected, 0 given
    """
    if len(files) != rows * cols or not files:
        raise _Malformed(f"{rows}x{cols} tiles expected, {len(files)} given")
    pictures = [_picture(f) for f in files]
    ftyp = pictures[0][0]
    coding = b"av01" if any(box[4:8] == b"av1C" for _, box in pictures[0][1]) else b"hvc1"
    with_alpha = pictures[0][3] is not None
    if any((p[3] is not None) != with_alpha for p in pictures):
        raise _Malformed("tiles with and without alpha planes")

    boxes: list[bytes] = []  # ipco, deduplicated
    index: dict[bytes, int] = {}

    def prop(box: bytes) -> int:
        if box not in index:
            boxes.append(box)
            index[box] = len(boxes)
        return index[box]

    n = rows * cols
    grid, alpha_grid = 1, 2 + n
    tiles = list(range(2, 2 + n))
    alpha_tiles = list(range(3 + n, 3 + 2 * n)) if with_alpha else []
    big = width > 0xFFFF or height > 0xFFFF
    ispe = _full_box(b"ispe", 0, 0, struct.pack(">II", width, height))
    descriptor = struct.pack(">BBBB", 0, int(big), rows - 1, cols - 1) + struct.pack(">II" if big else ">HH", width, height)

    assoc: dict[int, list[tuple[bool, int]]] = {grid: [(False, prop(ispe))]}
    for essential, box in pictures[0][1]:
        if box[4:8] in _PICTURE_PROPS:
            assoc[grid].append((essential, prop(box)))
    datas: dict[int, bytes] = {}
    for t, (_, props, data, _) in zip(tiles, pictures):
        assoc[t] = [(e, prop(box)) for e, box in props]
        datas[t] = data
    if with_alpha:
        first = pictures[0][3]
        assoc[alpha_grid] = [(False, prop(ispe))] + [
            (e, prop(box)) for e, box in first[0] if box[4:8] in (b"auxC", b"pixi")  # type: ignore[index]
        ]
        for t, p in zip(alpha_tiles, pictures):
            props, data = p[3]  # type: ignore[misc]
            assoc[t] = [(e, prop(box)) for e, box in props]
            datas[t] = data

    items = [grid, *tiles] + ([alpha_grid, *alpha_tiles] if with_alpha else [])
    kinds = {grid: b"grid", alpha_grid: b"grid"}
    hidden = set(tiles) | set(alpha_tiles) | ({alpha_grid} if with_alpha else set())
    infe = b"".join(
        _full_box(b"infe", 3, 1 if i in hidden else 0, struct.pack(">IH", i, 0) + kinds.get(i, coding) + b"\0")
        for i in items
    )
    iinf = _full_box(b"iinf", 1, 0, struct.pack(">I", len(items)) + infe)
    refs = _box(b"dimg", struct.pack(">IH", grid, n) + b"".join(struct.pack(">I", t) for t in tiles))
    if with_alpha:
        refs += _box(b"dimg", struct.pack(">IH", alpha_grid, n) + b"".join(struct.pack(">I", t) for t in alpha_tiles))
        refs += _box(b"auxl", struct.pack(">IHI", alpha_grid, 1, grid))
    iref = _full_box(b"iref", 1, 0, refs)
    wide = len(boxes) > 127
    ipma = _full_box(
        b"ipma", 1, int(wide),
        struct.pack(">I", len(items)) + b"".join(
            struct.pack(">IB", i, len(assoc[i]))
            + b"".join(struct.pack(">H", (e << 15) | k) if wide else bytes([(e << 7) | k]) for e, k in assoc[i])
            for i in items
        ),
    )
    idat = _box(b"idat", descriptor * (2 if with_alpha else 1))
    hdlr = _full_box(b"hdlr", 0, 0, b"\0\0\0\0pict" + bytes(13))
    pitm = _full_box(b"pitm", 1, 0, struct.pack(">I", grid))
    total = sum(len(v) for v in datas.values())
    wide_offsets = total > 0xFFFFFFF0 - (1 << 20)
    size = 8 if wide_offsets else 4

    def meta(at: int) -> bytes:
        rows_ = [struct.pack(">IHHH", grid, 1, 0, 1) + (0).to_bytes(size, "big") + len(descriptor).to_bytes(size, "big")]
        if with_alpha:
            rows_.append(struct.pack(">IHHH", alpha_grid, 1, 0, 1) + len(descriptor).to_bytes(size, "big") + len(descriptor).to_bytes(size, "big"))
        for i in items:
            if i in datas:
                rows_.append(struct.pack(">IHHH", i, 0, 0, 1) + at.to_bytes(size, "big") + len(datas[i]).to_bytes(size, "big"))
                at += len(datas[i])
        iloc = _full_box(b"iloc", 2, 0, bytes([(size << 4) | size, 0]) + struct.pack(">I", len(rows_)) + b"".join(rows_))
        return _full_box(b"meta", 0, 0, hdlr + pitm + iinf + iref + _box(b"iprp", _box(b"ipco", b"".join(boxes)) + ipma) + idat + iloc)

    mdat_head = 16 if total + 8 > 0xFFFFFFFF else 8
    start = len(ftyp) + len(meta(0)) + mdat_head
    body = meta(start)
    payload = b"".join(datas[i] for i in items if i in datas)
    return ftyp + body + _box(b"mdat", payload)
