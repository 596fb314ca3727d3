"""What is damaged in an image file: headers Pillow refuses, JPEG image data cut short.

Two questions the loader (:mod:`minface.images`) asks when a file is not what it
claims to be:

* :func:`header_problem`: a file whose first bytes say PNG, JPEG, GIF, ... but
  that Pillow cannot open. The answer names what is wrong (a bad IHDR checksum,
  a width of 0, a 0x0 frame) instead of "not a recognised image format".
* :func:`jpeg_cut_short`: a JPEG whose compressed image data stops early and is
  followed by an end-of-image marker. Decoders accept it silently (libjpeg only
  warns "premature end of data") and fill the missing rows with flat grey; a
  scrub would then report ``ok`` for a damaged photo. The check decodes the file
  at 1/8 scale with its end-of-image marker removed: a complete scan delivers
  every row, a short one leaves the last rows unwritten.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
import zlib

__all__ = ["header_problem", "jpeg_cut_short"]


def header_problem(fmt: str, head: bytes) -> str | None:
    """Why a file that starts like ``fmt`` cannot be opened, from its first bytes; None if unknown.

    >>> import zlib, struct
    >>> ihdr = struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)
    >>> png = b"\\x89PNG\\r\\n\\x1a\\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    >>> header_problem("PNG", png)
    'damaged PNG header: the IHDR chunk declares a width of 0'
    """
    try:
        if fmt == "PNG":
            return _png_problem(head)
        if fmt == "JPEG":
            return _jpeg_problem(head)
        if fmt == "GIF":
            w, h = struct.unpack("<HH", head[6:10])
            if len(head) < 13:
                return "damaged GIF header: the file ends inside the screen descriptor"
            if w == 0 or h == 0:
                return f"damaged GIF header: the screen is {w}x{h}"
        if fmt == "BMP":
            if len(head) < 26:
                return "damaged BMP header: the file ends inside the header"
            w, h = struct.unpack("<ii", head[18:26]) if head[14] != 12 else struct.unpack("<hh", head[18:22])
            if w <= 0 or h == 0:
                return f"damaged BMP header: it declares {w}x{h} pixels"
        if fmt == "WEBP":
            return _webp_problem(head)
    except (struct.error, IndexError):
        return f"damaged {fmt} header: the file ends inside it"
    return None


def _png_problem(d: bytes) -> str | None:
    if len(d) < 33:
        return "damaged PNG header: the file ends inside the IHDR chunk"
    length, kind = struct.unpack(">I4s", d[8:16])
    if kind != b"IHDR":
        return f"damaged PNG header: the first chunk is {kind!r}, not IHDR"
    if length != 13:
        return f"damaged PNG header: the IHDR chunk is {length} bytes long, not 13"
    body = d[16:29]
    crc = struct.unpack(">I", d[29:33])[0]
    w, h, depth, colour, compression, filt, interlace = struct.unpack(">IIBBBBB", body)
    if w == 0 or h == 0:
        what = "width" if w == 0 else "height"
        return f"damaged PNG header: the IHDR chunk declares a {what} of 0"
    if colour not in (0, 2, 3, 4, 6) or depth not in (1, 2, 4, 8, 16):
        return f"damaged PNG header: colour type {colour} with bit depth {depth} does not exist"
    if compression or filt or interlace > 1:
        return "damaged PNG header: unknown compression, filter or interlace method in IHDR"
    if zlib.crc32(d[12:29]) & 0xFFFFFFFF != crc:
        return "damaged PNG header: the IHDR chunk's checksum (CRC) does not match its content"
    return None


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_problem(d: bytes) -> str | None:
    pos = 2
    while pos + 4 <= len(d):
        if d[pos] != 0xFF:
            return f"damaged JPEG header: no marker at offset {pos}"
        m = d[pos + 1]
        if m == 0xFF:
            pos += 1
            continue
        if m in (0xD8, 0x01) or 0xD0 <= m <= 0xD7:
            pos += 2
            continue
        if m == 0xD9:
            return "damaged JPEG: it ends before any image data"
        length = struct.unpack(">H", d[pos + 2 : pos + 4])[0]
        if length < 2:
            return f"damaged JPEG header: segment 0x{m:02X} at offset {pos} declares {length} bytes"
        if m in _SOF:
            if pos + 10 > len(d):
                return "damaged JPEG header: the file ends inside the frame header (SOF)"
            h, w, n = struct.unpack(">HHB", d[pos + 5 : pos + 10])
            if w == 0 or h == 0:
                return f"damaged JPEG header: the frame header (SOF) declares {w}x{h} pixels"
            if n not in (1, 3, 4):
                return f"damaged JPEG header: the frame header (SOF) declares {n} colour components"
            if length != 8 + 3 * n:
                return f"damaged JPEG header: the frame header (SOF) is {length} bytes long for {n} components"
            return None
        if m == 0xDA:
            return "damaged JPEG header: image data (SOS) before the frame header (SOF)"
        pos += 2 + length
    return "damaged JPEG header: the file ends before the frame header (SOF)"


def _webp_problem(d: bytes) -> str | None:
    if len(d) < 30:
        return "damaged WebP header: the file ends inside it"
    chunk = d[12:16]
    if chunk == b"VP8 ":
        if d[23:26] != b"\x9d\x01\x2a":
            return "damaged WebP header: the VP8 frame has no start code"
        w, h = (struct.unpack("<H", d[26:28])[0] & 0x3FFF), (struct.unpack("<H", d[28:30])[0] & 0x3FFF)
        if w == 0 or h == 0:
            return f"damaged WebP header: the VP8 frame declares {w}x{h} pixels"
    elif chunk == b"VP8L":
        if d[20] != 0x2F:
            return "damaged WebP header: the VP8L image has no signature byte"
    elif chunk != b"VP8X":
        return f"damaged WebP header: unknown first chunk {chunk!r}"
    return None


def jpeg_cut_short(data: bytes) -> bool:
    """Whether a sequential JPEG's image data stops before its last row.

    Progressive and multi-scan JPEGs are not checked (their decoder reads every
    scan before the first row; an early end only lowers their detail), nor are
    files Pillow does not open (they fail elsewhere). Costs a decode at 1/8
    scale.

    >>> import numpy as np
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)).save(buf, "JPEG")
    >>> d = buf.getvalue()
    >>> jpeg_cut_short(d), jpeg_cut_short(d[: len(d) // 2] + b"\\xff\\xd9")
    (False, True)
    """
    from PIL import Image

    from .metadata._jpeg import _jpeg_layout

    lay = _jpeg_layout(data)
    scans = [s for s in lay.segs if s.marker == 0xDA]
    frames = [s for s in lay.segs if s.marker in _SOF]
    if len(scans) != 1 or not frames or frames[0].marker not in (0xC0, 0xC1):
        return False
    body = frames[0].body(data)
    if len(body) < 6 or body[5] != len(body[6:]) // 3 or len(body[6:]) // 3 != _scan_components(scans[0].body(data)):
        return False  # a single scan that does not carry every component: not one we can judge
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _rows_missing(Image, data[: scans[0].end] + _PADDING)
    except (AttributeError, TypeError, ValueError, OSError, SyntaxError):
        return False  # Pillow internals changed or the file does not open: the full decode decides


# What replaces the end-of-image marker. A marker would make the decoder fill every missing row;
# with no bytes at all it would hold back the last rows of a complete scan, waiting for the bits
# it reads ahead (up to 8 bytes). Zero bytes free those rows, and decode as at most a few blocks
# of a scan cut short, far less than the row of blocks whose absence is tested.
_PADDING = bytes(16)


def _scan_components(sos: bytes) -> int:
    return sos[0] if sos else 0


def _rows_missing(image_module, data: bytes) -> bool:  # noqa: ANN001 - PIL.Image
    """Decode at 1/8 scale with no end-of-image marker; True when the last row is never written."""
    im = image_module.open(io.BytesIO(data))
    try:
        if im.mode not in ("L", "RGB", "CMYK"):
            return False
        w, h = im.size
        im.draft(im.mode, (math.ceil(w / 8), math.ceil(h / 8)))
        if len(im.tile) != 1:
            return False
        decoder_name, extents, offset, args = im.tile[0][:4]
        im.load_prepare()
        dw, dh = im.size
        bands = len(im.mode)
        sentinel = bytes(((i * (37 + 64 * b) + 11 * b + 5) & 0xFF) for i in range(dw) for b in range(bands))
        im.im.paste(image_module.frombytes(im.mode, (dw, 1), sentinel).im, (0, dh - 1, dw, dh))
        decoder = image_module._getdecoder(im.mode, decoder_name, args, getattr(im, "decoderconfig", ()))
        decoder.setimage(im.im, extents)
        consumed, err = decoder.decode(data[offset:])
        if consumed < 0:  # the decoder finished: every row was delivered
            return False
        if err < 0:
            raise OSError(f"decoder error {err}")
        last = image_module.Image()._new(im.im.crop((0, dh - 1, dw, dh))).tobytes()
        return last == sentinel
    finally:
        im.tile = []
        im.close()
