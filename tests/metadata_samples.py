"""Image files full of metadata, built in memory for the metadata and save tests.

Pillow writes what it can (EXIF, XMP, ICC, PNG text, WebP chunks); the rest is
built by hand: EXIF blocks with GPS, maker note and IFD1 thumbnail, a Display-P3
ICC profile with a date and device strings, IPTC in Photoshop APP13, JPEG
segments, PNG chunks and trailing bytes.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import zlib
from functools import lru_cache

import numpy as np
import pytest
from PIL import Image

SECRETS = (
    b"Jane Example",  # XMP person / IPTC by-line / EXIF artist
    b"SN-0042-7781",  # serial number
    b"Secret Camera Co",  # maker
    b"trailer-secret",  # bytes after the end
    b"comment-secret",
)


@lru_cache(maxsize=None)
def photo(h: int = 96, w: int = 128) -> np.ndarray:
    """A small real photo (scikit-image's astronaut), RGB uint8."""
    from skimage import data

    im = Image.fromarray(data.astronaut()).resize((w, h), Image.Resampling.BILINEAR)
    a = np.asarray(im).copy()
    a.setflags(write=False)  # shared between tests
    return a


# -- EXIF ----------------------------------------------------------------------


def _encode(typ: int, value) -> bytes:
    if typ == 2:
        return (value if isinstance(value, bytes) else value.encode()) + b"\0"
    if typ in (1, 7):
        return bytes(value)
    vals = value if isinstance(value, (list, tuple)) else [value]
    if typ == 3:
        return struct.pack(f">{len(vals)}H", *vals)
    if typ == 4:
        return struct.pack(f">{len(vals)}I", *vals)
    if typ == 5:
        return b"".join(struct.pack(">II", n, d) for n, d in vals)
    raise ValueError(typ)


_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1}


def tiff_block(ifd0, exif=None, gps=None, ifd1=None, thumbnail: bytes | None = None) -> bytes:
    """A big-endian TIFF structure (an EXIF block without the ``Exif\\0\\0`` header).

    Each IFD is a list of ``(tag, type, value)``; pointers to the Exif and GPS IFDs,
    the IFD1 link and the thumbnail offset/length are filled in here.
    """
    ifd0 = list(ifd0)
    if exif is not None:
        ifd0.append((0x8769, 4, 0))
    if gps is not None:
        ifd0.append((0x8825, 4, 0))
    if thumbnail is not None:
        ifd1 = list(ifd1 or []) + [(0x0201, 4, 0), (0x0202, 4, len(thumbnail))]
    blocks = [("ifd0", ifd0)] + [(n, b) for n, b in (("exif", exif), ("gps", gps), ("ifd1", ifd1)) if b is not None]

    def size(entries) -> int:
        data = sum(len(_encode(t, v)) + len(_encode(t, v)) % 2 for _, t, v in entries if len(_encode(t, v)) > 4)
        return 2 + 12 * len(entries) + 4 + data

    offsets, pos = {}, 8
    for name, entries in blocks:
        offsets[name] = pos
        pos += size(entries)
    offsets["thumb"] = pos
    out = bytearray(b"MM\x00\x2a" + struct.pack(">I", 8))
    for name, entries in blocks:
        fixed = []
        for tag, typ, value in sorted(entries, key=lambda e: e[0]):
            value = {0x8769: offsets.get("exif"), 0x8825: offsets.get("gps"), 0x0201: offsets["thumb"]}.get(tag, value)
            fixed.append((tag, typ, value))
        start = offsets[name]
        data_pos = start + 2 + 12 * len(fixed) + 4
        table, data = bytearray(struct.pack(">H", len(fixed))), bytearray()
        for tag, typ, value in fixed:
            raw = _encode(typ, value)
            count = len(raw) // _TYPE_SIZE[typ]
            if len(raw) <= 4:
                table += struct.pack(">HHI", tag, typ, count) + raw.ljust(4, b"\0")
            else:
                table += struct.pack(">HHII", tag, typ, count, data_pos + len(data))
                data += raw + b"\0" * (len(raw) % 2)
        nxt = offsets["ifd1"] if name == "ifd0" and "ifd1" in offsets else 0
        table += struct.pack(">I", nxt)
        assert len(out) == start
        out += table + data
    if thumbnail is not None:
        out += thumbnail
    return bytes(out)


def thumbnail_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(photo()[::8, ::8]).save(buf, "JPEG", quality=50)
    return buf.getvalue()


def exif_block(orientation: int = 1, *, thumbnail: bool = True) -> bytes:
    """EXIF with camera, owner, serials, dates, a maker note, GPS and an IFD1 thumbnail (with header)."""
    ifd0 = [
        (0x010F, 2, "Secret Camera Co"),
        (0x0110, 2, "Model X"),
        (0x0112, 3, orientation),
        (0x0131, 2, "FirmWare 1.0"),
        (0x0132, 2, "2024:05:01 10:11:12"),
        (0x013B, 2, "Jane Example"),
        (0x8298, 2, "(c) Jane Example"),
    ]
    exif = [
        (0x9003, 2, "2024:05:01 10:11:12"),
        (0x927C, 7, b"SECRETMAKER\0" + bytes(range(64))),
        (0xA430, 2, "Jane Example"),
        (0xA431, 2, "SN-0042-7781"),
        (0xA435, 2, "LENS-99"),
    ]
    gps = [
        (0x0000, 1, [2, 3, 0, 0]),
        (0x0001, 2, "N"),
        (0x0002, 5, [(48, 1), (51, 1), (2958, 100)]),
        (0x0003, 2, "E"),
        (0x0004, 5, [(2, 1), (17, 1), (4020, 100)]),
    ]
    thumb = thumbnail_jpeg() if thumbnail else None
    ifd1 = [(0x0103, 3, 6)] if thumbnail else None
    return b"Exif\0\0" + tiff_block(ifd0, exif, gps, ifd1, thumb)


# -- XMP, IPTC, ICC ---------------------------------------------------------------

XMP = b"""<?xpacket begin='\xef\xbb\xbf' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:aux="http://ns.adobe.com/exif/1.0/aux/"
    exif:GPSLatitude="48,51.493N" exif:GPSLongitude="2,17.670E" aux:SerialNumber="SN-0042-7781">
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:RegionList><rdf:Bag><rdf:li rdf:parseType="Resource">
      <mwg-rs:Name>Jane Example</mwg-rs:Name>
      <mwg-rs:Type>Face</mwg-rs:Type>
      <mwg-rs:Area stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3" stArea:unit="normalized"/>
    </rdf:li></rdf:Bag></mwg-rs:RegionList>
   </mwg-rs:Regions>
   <Iptc4xmpExt:PersonInImage><rdf:Bag><rdf:li>Jane Example</rdf:li></rdf:Bag></Iptc4xmpExt:PersonInImage>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end='w'?>"""


def iptc_resources() -> bytes:
    """Photoshop image resources holding an IPTC record (by-line, city, caption)."""
    iptc = b""
    for ds, value in ((80, b"Jane Example"), (90, b"Paris"), (120, b"Jane at the tower")):
        iptc += bytes([0x1C, 2, ds]) + struct.pack(">H", len(value)) + value
    res = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(iptc)) + iptc
    return res + b"\0" * (len(iptc) % 2)


def _s15(x: float) -> bytes:
    return struct.pack(">i", round(x * 65536))


def p3_profile(*, v4: bool = True) -> bytes:
    """A Display-P3 ICC profile carrying a date, device strings, a creator and a calibration tag."""

    def xyz(x, y, z):
        return b"XYZ " + bytes(4) + _s15(x) + _s15(y) + _s15(z)

    def text(s: str) -> bytes:
        if v4:
            body = s.encode("utf-16-be")
            return b"mluc" + bytes(4) + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(">II", len(body), 28) + body
        return b"text" + bytes(4) + s.encode() + b"\0"

    def desc(s: str) -> bytes:
        if v4:
            return text(s)
        a = s.encode() + b"\0"
        return b"desc" + bytes(4) + struct.pack(">I", len(a)) + a + bytes(78)

    trc = b"para" + bytes(4) + struct.pack(">HH", 3, 0) + b"".join(
        _s15(v) for v in (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
    )
    tags = [
        (b"desc", desc("Display P3 of Jane Example's phone")),
        (b"cprt", text("Copyright Secret Camera Co")),
        (b"dmdd", desc("SN-0042-7781 display")),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.515121, 0.241196, -0.001053)),
        (b"gXYZ", xyz(0.291977, 0.692245, 0.041885)),
        (b"bXYZ", xyz(0.157104, 0.066574, 0.784073)),
        (b"rTRC", trc),
        (b"gTRC", trc),
        (b"bTRC", trc),
        (b"chad", b"sf32" + bytes(4) + b"".join(_s15(v) for v in (
            1.047882, 0.022919, -0.050201, 0.029587, 0.990479, -0.017059, -0.009232, 0.015076, 0.751678))),
        (b"vcgt", b"vcgt" + bytes(4) + b"calibration of Jane's display".ljust(40, b"\0")),
    ]
    table, data = b"", b""
    start = 128 + 4 + 12 * len(tags)
    for sig, body in tags:
        table += sig + struct.pack(">II", start + len(data), len(body))
        data += body + bytes(-len(body) % 4)
    header = bytearray(128)
    header[4:8] = b"appl"
    header[8:12] = bytes([4, 0x20, 0, 0]) if v4 else bytes([2, 0x10, 0, 0])
    header[12:24] = b"mntrRGB XYZ "
    header[24:36] = struct.pack(">6H", 2024, 5, 1, 10, 11, 12)
    header[36:40] = b"acsp"
    header[40:44] = b"APPL"
    header[48:56] = b"APPLSECR"
    header[68:80] = _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    header[80:84] = b"jane"
    header[84:100] = bytes(range(1, 17))
    out = bytes(header) + struct.pack(">I", len(tags)) + table + data
    return struct.pack(">I", len(out)) + out[4:]


# -- containers ---------------------------------------------------------------------


def segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def jpeg_insert(jpeg: bytes, *segments: bytes, trailer: bytes = b"") -> bytes:
    """Put marker segments right after SOI and bytes after EOI."""
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + b"".join(segments) + jpeg[2:] + trailer


def plain_jpeg(pixels: np.ndarray | None = None, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(photo() if pixels is None else pixels).save(buf, "JPEG", quality=90, **kw)
    return buf.getvalue()


def icc_segments(profile: bytes) -> list[bytes]:
    return [segment(0xE2, b"ICC_PROFILE\0\x01\x01" + profile)]


def jumbf() -> bytes:
    """An APP11 payload: a JUMBF superbox labelled c2pa holding a JSON box."""
    uuid = b"c2pa" + bytes.fromhex("00110010800000aa00389b71")  # the C2PA UUID
    jumd = struct.pack(">I", 8 + 16 + 1 + 5) + b"jumd" + uuid + b"\x03" + b"c2pa\0"
    content = b'{"author": "Jane Example"}'
    box = struct.pack(">I", 8 + len(content)) + b"json" + content
    jumb = struct.pack(">I", 8 + len(jumd) + len(box)) + b"jumb" + jumd + box
    return b"JP\x00\x01\x00\x00\x00\x01" + jumb


def rich_jpeg(orientation: int = 1) -> bytes:
    """A JPEG with EXIF (GPS, maker note, serials, thumbnail), XMP with a face region, IPTC,
    a P3 profile, a comment, MPF and JUMBF segments, another APPn, and a video after EOI."""
    return jpeg_insert(
        plain_jpeg(),
        segment(0xE1, exif_block(orientation)),
        segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + XMP),
        *icc_segments(p3_profile()),
        segment(0xE2, b"MPF\0" + b"MM\0\x2a" + bytes(12)),
        segment(0xED, b"Photoshop 3.0\0" + iptc_resources()),
        segment(0xEB, jumbf()),
        segment(0xE9, b"SamsungPrivate\0SN-0042-7781"),
        segment(0xFE, b"comment-secret: shot by Jane Example"),
        trailer=b"\0\0\0\x18ftypmp42" + b"trailer-secret" * 20,
    )


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def png_insert(png: bytes, *chunks: bytes, trailer: bytes = b"") -> bytes:
    """Insert chunks right after IHDR and bytes after IEND."""
    ihdr_end = 8 + 12 + 13
    return png[:ihdr_end] + b"".join(chunks) + png[ihdr_end:] + trailer


def rich_png(orientation: int = 1) -> bytes:
    """A PNG with tEXt/zTXt/iTXt (XMP), eXIf, tIME, iCCP (P3), a private chunk and IDAT/IEND leftovers."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Example")
    info.add_text("Comment", "comment-secret " * 20, zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode("utf-8"))
    buf = io.BytesIO()
    exif = exif_block(orientation, thumbnail=True)
    Image.fromarray(photo()).save(buf, "PNG", pnginfo=info, exif=exif, icc_profile=p3_profile())
    leftover = png_chunk(b"IDAT", b"trailer-secret" * 10) + png_chunk(b"IEND", b"")
    return png_insert(
        buf.getvalue(),
        png_chunk(b"tIME", struct.pack(">HBBBBB", 2024, 5, 1, 10, 11, 12)),
        png_chunk(b"prVW", b"SN-0042-7781 preview"),
        trailer=leftover,
    )


def riff_chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def rich_webp(orientation: int = 1, *, lossless: bool = True) -> bytes:
    """A WebP with EXIF, XMP and ICCP chunks, an unknown chunk and bytes after the RIFF end."""
    buf = io.BytesIO()
    Image.fromarray(photo()).save(
        buf, "WEBP", lossless=lossless, quality=80, exif=exif_block(orientation), xmp=XMP, icc_profile=p3_profile()
    )
    d = buf.getvalue()
    extra = riff_chunk(b"JUNK", b"SN-0042-7781 Secret Camera Co")
    body = d[12:] + extra
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body + b"trailer-secret"


def exiftool_or_skip() -> None:
    """Skip (or fail, with MINFACE_REQUIRE_EXIFTOOL=1) when exiftool is not installed."""
    if shutil.which("exiftool"):
        return
    message = "exiftool is not installed (apt-get install libimage-exiftool-perl)"
    if os.environ.get("MINFACE_REQUIRE_EXIFTOOL") == "1":
        pytest.fail(message + " and MINFACE_REQUIRE_EXIFTOOL=1")
    pytest.skip(message)


def no_secrets(data: bytes) -> list[bytes]:
    """The secret markers still present in ``data``."""
    return [s for s in SECRETS if s in data]


def gif_with_xmp(gif: bytes, xmp: bytes = XMP) -> bytes:
    """Insert an XMP application extension (with its 258-byte 'magic trailer') after the colour table."""
    flags = gif[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    ext = b"\x21\xff\x0bXMP DataXMP" + xmp + b"\x01" + bytes(range(255, -1, -1)) + b"\x00"
    return gif[:pos] + ext + gif[pos:]
