"""What decoding a HEIF/AVIF really costs: the coded sizes of its items, whatever their headers say.

A grid's declared size (``ispe``) can lie; the decoder allocates what each
tile's own parameter set (HEVC SPS, AV1 sequence header) says. The
decompression-bomb guard of :func:`minface.images.load_image` asks
:func:`decoded_pixels` before anything is decoded.
"""

from __future__ import annotations

import struct

from ._binary import _Malformed
from ._heif import _ALPHA_AUX, NotLossless, _item_data, _layout, _leb128, _top_level

__all__ = ["decoded_pixels"]


class _Bits:
    """A reader of the bits of an RBSP (emulation prevention bytes already removed)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise _Malformed("a parameter set ends early")
            value = (value << 1) | ((self.data[byte] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while not self.u(1):
            zeros += 1
            if zeros > 31:
                raise _Malformed("an exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.u(zeros)


def _rbsp(nal: bytes) -> bytes:
    return nal.replace(b"\0\0\3", b"\0\0")


def _hevc_size(hvcc: bytes) -> tuple[int, int] | None:
    """The coded picture size in an ``hvcC``'s SPS (what the decoder allocates), or None."""
    body = hvcc[8:]
    if len(body) < 23:
        return None
    p = 23
    for _ in range(body[22]):
        if p + 3 > len(body):
            return None
        count = struct.unpack(">H", body[p + 1 : p + 3])[0]
        q = p + 3
        for _ in range(count):
            size = struct.unpack(">H", body[q : q + 2])[0]
            unit = body[q + 2 : q + 2 + size]
            q += 2 + size
            if unit and (unit[0] >> 1) & 0x3F == 33:
                try:
                    return _sps_size(_rbsp(unit[2:]))
                except _Malformed:
                    return None
        p = q
    return None


def _sps_size(rbsp: bytes) -> tuple[int, int]:
    r = _Bits(rbsp)
    r.u(4)  # sps_video_parameter_set_id
    sub_layers = r.u(3)
    r.u(1)
    r.u(88)  # general profile: space, tier, idc, compatibility flags, constraint flags
    r.u(8)  # general_level_idc
    present = [(r.u(1), r.u(1)) for _ in range(sub_layers)]
    if sub_layers:
        r.u(2 * (8 - sub_layers))
    for profile, level in present:
        r.u(88 * profile + 8 * level)
    r.ue()  # sps_seq_parameter_set_id
    if r.ue() == 3:  # chroma_format_idc 4:4:4
        r.u(1)
    return r.ue(), r.ue()


def _av1_size(data: bytes) -> tuple[int, int] | None:
    """The largest frame size in the first sequence header of AV1 data (OBUs), or None."""
    p = 0
    try:
        while p < len(data):
            head = data[p]
            q = p + 1 + bool(head & 4)
            size, q = _leb128(data, q) if head & 2 else (len(data) - q, q)
            if (head >> 3) & 15 == 1:
                return _sequence_size(data[q : q + size])
            p = q + size
    except _Malformed:
        return None
    return None


def _sequence_size(obu: bytes) -> tuple[int, int]:
    r = _Bits(obu)
    r.u(3)  # seq_profile
    r.u(1)  # still_picture
    if r.u(1):  # reduced_still_picture_header
        r.u(5)
    else:
        timing = r.u(1)
        model = False
        if timing:
            r.u(64)
            if r.u(1):  # equal_picture_interval: num_ticks_per_picture_minus_1, uvlc
                zeros = 0
                while not r.u(1):
                    zeros += 1
                    if zeros > 31:
                        raise _Malformed("a uvlc code longer than 32 bits")
                r.u(zeros)
            model = bool(r.u(1))
            if model:
                delay_bits = r.u(5) + 1
                r.u(32 + 5 + 5)
        display = r.u(1)
        for _ in range(r.u(5) + 1):
            r.u(12)
            if r.u(5) > 7:
                r.u(1)
            if model and r.u(1):
                r.u(2 * delay_bits + 1)
            if display and r.u(1):
                r.u(4)
    wbits, hbits = r.u(4) + 1, r.u(4) + 1
    return r.u(wbits) + 1, r.u(hbits) + 1


def decoded_pixels(d: bytes) -> int | None:
    """The pixels decoding the images of a HEIF/AVIF costs, from what its tiles really are.

    A grid's declared size (``ispe``) can lie: the decoder decodes every tile at
    the size its own parameter set (HEVC SPS, AV1 sequence header) says, and
    only then finds that they do not fit. So each coded item counts at the
    larger of its ``ispe`` and its coded size, a grid at the larger of its
    canvas and its tiles together, an image with an alpha plane at the larger
    of the two; every top-level image counts. None when the container cannot
    be read here (the decoder then says what is wrong).
    """
    try:
        lay = _layout(d)
    except (_Malformed, NotLossless, struct.error, IndexError, ValueError):
        return None
    props = lay.props

    def declared(item_id: int) -> tuple[int, int]:
        for _, index in lay.assoc.get(item_id, []):
            if 0 < index <= len(props) and props[index - 1][0] == b"ispe" and len(props[index - 1][1]) >= 20:
                return struct.unpack(">II", props[index - 1][1][12:20])
        return 0, 0

    def coded(item_id: int) -> int:
        w, h = declared(item_id)
        for _, index in lay.assoc.get(item_id, []):
            if 0 < index <= len(props):
                kind, box = props[index - 1]
                size = _hevc_size(box) if kind == b"hvcC" else _av1_size(box[12:]) if kind == b"av1C" else None
                if size is not None:
                    w, h = max(w, size[0]), max(h, size[1])
        if lay.items[item_id].type == b"av01":  # the sequence header is usually in the coded data
            try:
                size = _av1_size(_item_data(d, lay, item_id)[:4096])
            except (_Malformed, NotLossless):
                size = None
            if size is not None:
                w, h = max(w, size[0]), max(h, size[1])
        return w * h

    def cost(item_id: int, depth: int = 0) -> int:
        item = lay.items.get(item_id)
        if item is None or depth > 8:
            return 0
        inputs = [t for k, s, ts in lay.refs if k == b"dimg" and s == item_id for t in ts]
        if not inputs:
            return coded(item_id)
        w, h = declared(item_id)
        if item.type == b"grid":
            try:
                grid = _item_data(d, lay, item_id)
                if len(grid) >= 8:
                    big = grid[1] & 1
                    w, h = struct.unpack(">II" if big else ">HH", grid[4 : 12 if big else 8])
            except (_Malformed, NotLossless, struct.error):
                pass
        return max(w * h, sum(cost(t, depth + 1) for t in inputs))

    total = 0
    for item_id in _top_level(lay):
        alphas = [
            cost(src) for kind, src, dsts in lay.refs
            if kind == b"auxl" and item_id in dsts and lay.items.get(src) and lay.items[src].aux_type in _ALPHA_AUX
        ]
        total += max([cost(item_id), *alphas])  # an alpha plane larger than its image is what decoding costs
    return total
