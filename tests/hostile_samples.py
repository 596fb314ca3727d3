"""A hostile archive, made by the tests: damaged, disguised, huge and not-a-photo files.

:func:`build` writes one file (or FIFO, or link) per kind into a folder and
returns what ``minface scrub`` must make of each: ``ok``, ``error`` or
``skipped``. Every file is generated here; nothing comes from outside.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from conftest import background, paste_faces
from PIL import Image

#: A face on a background: what the valid samples show.
FACE = paste_faces(background("coffee", 320, 240), [(120, 60, 90)]).image


def _save(pixels, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt, **kw)
    return buf.getvalue()


def _exif(orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x013B] = "Jane Doe"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    if orientation:
        exif[0x0112] = orientation
    return exif.tobytes()


def chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    """A PNG chunk (with its right CRC unless one is given)."""
    c = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", c & 0xFFFFFFFF)


def png_header(width: int, height: int, *, crc: int | None = None) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr, crc)


def png_bad_crc() -> bytes:
    good = _save(FACE, "PNG")
    return good[:29] + bytes([good[29] ^ 0xFF]) + good[30:]


def png_width_zero() -> bytes:
    return png_header(0, 100) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def jpeg_sof_zero() -> bytes:
    """A JPEG whose frame header (SOF0) declares 0x0 pixels."""
    d = bytearray(_save(FACE, "JPEG"))
    sof = d.index(b"\xff\xc0")
    d[sof + 5 : sof + 9] = b"\0\0\0\0"
    return bytes(d)


def jpeg_cut_then_eoi(pixels=FACE, keep: float = 0.5) -> bytes:
    d = _save(pixels, "JPEG", quality=92)
    return d[: int(len(d) * keep)] + b"\xff\xd9"


def jpeg_huge_header() -> bytes:
    """A 70 kB-ish JPEG whose header says 12000x12000 (the image data stops long before)."""
    d = bytearray(_save(np.full((64, 64, 3), 90, np.uint8), "JPEG"))
    sof = d.index(b"\xff\xc0")
    d[sof + 5 : sof + 9] = struct.pack(">HH", 12000, 12000)
    return bytes(d[:-2]) + bytes(70_000) + b"\xff\xd9"


def gif_huge_screen() -> bytes:
    """35 bytes: a 12000x12000 logical screen holding one 1x1 image."""
    head = b"GIF89a" + struct.pack("<HH", 12000, 12000) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
    return head + b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00" + b"\x02\x02\x44\x01\x00" + b"\x3b"


def gif_many_frames(n: int = 1500, size: int = 320) -> bytes:
    """About 50 kB: ``n`` frames of ``size`` x ``size`` (a lot of pixels once decoded)."""
    frames = [Image.fromarray(np.full((size, size), i % 256, np.uint8), "L") for i in range(n)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=20)
    return buf.getvalue()


def gif_zero_screen() -> bytes:
    d = bytearray(_save(np.zeros((8, 8), np.uint8), "GIF"))
    d[6:10] = b"\0\0\0\0"
    return bytes(d)


def webp_zero_size() -> bytes:
    d = bytearray(_save(FACE, "WEBP", quality=80))
    if d[12:16] == b"VP8 ":
        d[26:30] = b"\0\0\0\0"
    return bytes(d)


def large_grids(folder: Path) -> list[str]:
    """A 59 MP HEIC grid (15 x 15 tiles of 512, as phones write them) and a 67 MP AVIF grid, each with faces."""
    tile = paste_faces(background("flat", 512, 512), [(200, 150, 120)]).image
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for name, data in (("large.heic", heic_grid(tile, 15, 15)), ("large.avif", heic_grid(tile, 16, 16, avif=True))):
        if data is not None:
            (folder / name).write_bytes(data)
            names.append(name)
    return names


def heif(pixels=FACE, **kw) -> bytes | None:
    try:
        import pillow_heif
    except ImportError:
        return None
    pillow_heif.register_heif_opener()
    return _save(pixels, "HEIF", quality=80, **kw)


#: Text a hostile HEIF/AVIF hides where exiftool does not look (strip must not keep it).
HIDDEN = b"Jane Doe, ID 110101199003077534"


def _rebuilt(data: bytes, **patches) -> bytes:
    """``data`` rebuilt by minface's HEIF writer with some of its cleaning steps replaced (to plant content)."""
    from unittest import mock

    from minface.metadata import _heif

    with mock.patch.multiple(_heif, **patches):
        return _heif.rewrite_heif(data, "clean")[0]


def _brands_ftyp(major: bytes) -> bytes:
    """An ``ftyp`` with the hidden text spread over extra compatible brands and the minor version."""
    text = HIDDEN + b" " * (-len(HIDDEN) % 4)
    body = major + text[:4] + major + b"mif1" + text
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body


def heic_hidden_text() -> bytes | None:
    """A HEIC hiding text in an unspecified NAL unit (type 48) of its coded data and of its ``hvcC``, and in
    extra ``ftyp`` brands: a decoder ignores all of it."""
    base = heif(FACE)
    if base is None:
        return None
    from minface.metadata import _heif

    nal = bytes([48 << 1, 1]) + HIDDEN  # NAL header: type 48 (unspecified), layer 0, temporal id 0

    def planted_data(data: bytes, length_size: int) -> bytes:
        return _real_nals(data, length_size) + len(nal).to_bytes(length_size, "big") + nal

    def planted_hvcc(box: bytes):
        clean, length_size = _real_hvcc(box)
        body = clean[8:]
        body = body[:22] + bytes([body[22] + 1]) + body[23:] + bytes([48]) + struct.pack(">HH", 1, len(nal)) + nal
        return struct.pack(">I", 8 + len(body)) + b"hvcC" + body, length_size

    _real_nals, _real_hvcc = _heif._decoder_nals, _heif._clean_hvcc
    return _rebuilt(
        base, _decoder_nals=planted_data, _clean_hvcc=planted_hvcc, _clean_ftyp=lambda f, t: _brands_ftyp(b"heic")
    )


def avif_hidden_text() -> bytes:
    """An AVIF hiding text in AV1 metadata and padding OBUs (coded data and ``av1C``) and in ``ftyp`` brands."""
    from minface.metadata import _heif

    base = _save(FACE, "AVIF", quality=70)
    payload = b"\x04" + HIDDEN  # metadata_type 4: ITU-T T.35 (registered user data)
    metadata = bytes([(5 << 3) | 2, len(payload)]) + payload  # OBU type 5, with a size field
    padding = bytes([(15 << 3) | 2, len(HIDDEN)]) + HIDDEN  # OBU type 15: padding

    def planted_data(data: bytes) -> bytes:
        return _real_obus(data) + metadata + padding

    def planted_av1c(box: bytes) -> bytes:
        body = _real_av1c(box)[8:] + metadata
        return struct.pack(">I", 8 + len(body)) + b"av1C" + body

    _real_obus, _real_av1c = _heif._decoder_obus, _heif._clean_av1c
    return _rebuilt(
        base, _decoder_obus=planted_data, _clean_av1c=planted_av1c, _clean_ftyp=lambda f, t: _brands_ftyp(b"avif")
    )


def heic_two_images() -> bytes | None:
    """A HEIC with two top-level images (a burst): both are pictures, both must be kept and scrubbed."""
    if heif(FACE) is None:
        return None
    buf = io.BytesIO()
    Image.fromarray(FACE).save(buf, "HEIF", quality=80, save_all=True, append_images=[Image.fromarray(FACE[:, ::-1].copy())])
    return buf.getvalue()


def avif_animated() -> bytes:
    """An animated AVIF (an image sequence): the face in every frame."""
    frames = [Image.fromarray(np.roll(FACE, 10 * i, axis=1)) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "AVIF", save_all=True, append_images=frames[1:], duration=100, quality=70)
    return buf.getvalue()


def heic_grid(tile: np.ndarray, rows: int, cols: int, *, declared: tuple[int, int] | None = None, avif: bool = False) -> bytes | None:
    """A HEIC (or an AVIF) whose primary image is a grid of ``rows`` x ``cols`` copies of one coded ``tile``
    (as phones write them, 512-pixel tiles), cheap to make at any size. ``declared``: the grid's ``ispe`` says
    this size instead of the real one (a grid whose header lies)."""
    single = _save(tile, "AVIF", quality=60, speed=8) if avif else heif(tile)
    if single is None:
        return None
    from minface.metadata import _heif

    lay = _heif._layout(single)
    props = {kind: box for kind, box in lay.props}
    coding, config = (b"av01", b"av1C") if avif else (b"hvc1", b"hvcC")
    data = _heif._item_data(single, lay, lay.primary)
    th, tw = tile.shape[:2]
    width, height = cols * tw, rows * th
    dw, dh = declared or (width, height)
    box, full = _heif._box, _heif._full_box
    ispe_grid = full(b"ispe", 0, 0, struct.pack(">II", dw, dh))
    more = [props[k] for k in (b"pixi", b"colr") if k in props]
    ipco = box(b"ipco", props[config] + props[b"ispe"] + ispe_grid + b"".join(more))
    n = rows * cols
    grid_id, tiles = 1, list(range(2, 2 + n))
    extra = list(range(4, 4 + len(more)))  # pixi, colr: indices after hvcC, the tile's ispe and the grid's
    entries = [struct.pack(">IB", grid_id, 1 + len(extra)) + bytes([0x83]) + bytes(0x80 | i for i in extra)]
    entries += [struct.pack(">IB", t, 2 + len(extra)) + bytes([0x81, 0x82]) + bytes(0x80 | i for i in extra) for t in tiles]
    ipma = full(b"ipma", 1, 0, struct.pack(">I", len(entries)) + b"".join(entries))
    descriptor = struct.pack(">BBBBII", 0, 1, rows - 1, cols - 1, dw, dh)  # version 0, 32-bit sizes
    infe = [full(b"infe", 3, 0, struct.pack(">IH", grid_id, 0) + b"grid" + b"\0")]
    infe += [full(b"infe", 3, 1, struct.pack(">IH", t, 0) + coding + b"\0") for t in tiles]  # hidden tiles
    iinf = full(b"iinf", 1, 0, struct.pack(">I", len(infe)) + b"".join(infe))
    iref = full(b"iref", 1, 0, box(b"dimg", struct.pack(">IH", grid_id, n) + b"".join(struct.pack(">I", t) for t in tiles)))
    hdlr = full(b"hdlr", 0, 0, b"\0\0\0\0pict" + bytes(13))
    pitm = full(b"pitm", 1, 0, struct.pack(">I", grid_id))
    idat = box(b"idat", descriptor)

    def meta(at: int) -> bytes:
        rows_ = [struct.pack(">IHHHII", grid_id, 1, 0, 1, 0, len(descriptor))]  # in idat
        rows_ += [struct.pack(">IHHHII", t, 0, 0, 1, at, len(data)) for t in tiles]  # one shared extent
        iloc = full(b"iloc", 2, 0, bytes([0x44, 0x00]) + struct.pack(">I", len(rows_)) + b"".join(rows_))
        return full(b"meta", 0, 0, hdlr + pitm + iinf + iref + box(b"iprp", ipco + ipma) + idat + iloc)

    ftyp = box(b"ftyp", b"avif\0\0\0\0mif1avifmiaf" if avif else b"heic\0\0\0\0mif1heic")
    head = len(ftyp) + len(meta(0)) + 8
    return ftyp + meta(head) + box(b"mdat", data)


def apng() -> bytes:
    frames = [Image.fromarray(np.roll(FACE, 10 * i, axis=1)) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:], duration=100)
    return buf.getvalue()


def tiff_pages() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(FACE).save(buf, "TIFF", save_all=True, append_images=[Image.fromarray(FACE[::2, ::2])])
    return buf.getvalue()


def ole() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"thumbnail of a face, as Thumbs.db keeps it"


def mp4(brand: bytes = b"isom") -> bytes:
    return struct.pack(">I", 24) + b"ftyp" + brand + b"\0\0\2\0" + brand + b"mp41" + struct.pack(">I", 8) + b"mdat"


def webm() -> bytes:
    return bytes.fromhex("1a45dfa39f4286810142f7810142f2810442f381084282847765626d42878102428581021853806701")


def avi() -> bytes:
    return b"RIFF" + struct.pack("<I", 100) + b"AVI LIST" + bytes(88)


def build(folder: Path) -> dict[str, str]:
    """Write the hostile archive into ``folder``; return ``{relative name: expected scrub status}``.

    Kinds the platform cannot make (a FIFO on Windows, HEIC without
    pillow-heif) are left out.
    """
    face_jpeg = _save(FACE, "JPEG", quality=92)
    samples: dict[str, tuple[bytes, str]] = {
        # photos that must come out scrubbed
        "ok/plain.jpg": (face_jpeg, "ok"),
        "ok/rotated-6.jpg": (_save(np.rot90(FACE, 1).copy(), "JPEG", exif=_exif(6)), "ok"),
        "ok/progressive.jpg": (_save(FACE, "JPEG", progressive=True), "ok"),
        "ok/grey.jpg": (_save(FACE[..., 0].copy(), "JPEG"), "ok"),
        "ok/cmyk.jpg": (_save_mode(FACE, "CMYK", "JPEG"), "ok"),
        "ok/corrupt-exif.jpg": (_with_app1(face_jpeg, b"Exif\0\0MM\0\x2a\x7f\xff\xff\xf0" + bytes(20)), "ok"),
        "ok/named-png-is-jpeg.png": (face_jpeg, "ok"),
        "ok/trailer-after-eoi.jpg": (face_jpeg + b"a secret after the end", "ok"),
        "ok/palette.png": (_save_mode(FACE, "P", "PNG", transparency=0), "ok"),
        "ok/sixteen-bit.png": (_save_i16(), "ok"),
        "ok/trailer-after-iend.png": (_save(FACE, "PNG") + b"a secret after IEND", "ok"),
        "ok/animated.png": (apng(), "ok"),
        "ok/animated.gif": (_save_gif_anim(), "ok"),
        "ok/lossy.webp": (_save(FACE, "WEBP", quality=80, exif=_exif()), "ok"),
        "bad/pages.tif": (tiff_pages(), "error"),  # several pages: refused with a reason
        "ok/with-trailer.bmp": (_save(FACE, "BMP") + b"trailing secret", "ok"),
        "ok/huge-screen.gif": (gif_huge_screen(), "ok"),
        "ok/many-frames.gif": (gif_many_frames(), "ok"),
        # damaged photos: an error with a reason, no output
        "bad/empty-named.jpg": (b"", "error"),  # a lost upload: named like a photo, content is not one
        "bad/text-named.jpg": (b"Alice Smith, passport 123456789\n" * 4, "error"),
        "bad/cut.jpg": (face_jpeg[: len(face_jpeg) // 2], "error"),
        "bad/cut-then-eoi.jpg": (jpeg_cut_then_eoi(), "error"),
        "bad/sof-0x0.jpg": (jpeg_sof_zero(), "error"),
        "bad/header-only.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", "error"),
        "bad/huge-header.jpg": (jpeg_huge_header(), "error"),
        "bad/ihdr-crc.png": (png_bad_crc(), "error"),
        "bad/width-0.png": (png_width_zero(), "error"),
        "bad/cut.png": (_save(FACE, "PNG")[:-200], "error"),
        "bad/bomb.png": (png_header(60_000, 60_000) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""), "error"),
        "bad/cut.gif": (_save_gif_anim()[:300], "error"),
        "ok/zero-screen.gif": (gif_zero_screen(), "ok"),  # Pillow sizes it by its image: a correct result
        "bad/cut.webp": (_save(FACE, "WEBP")[:200], "error"),
        "bad/vp8-0x0.webp": (webp_zero_size(), "error"),
        "bad/bad-ifd.tif": (b"II*\0" + struct.pack("<I", 0xFFFFFF00) + bytes(32), "error"),
        "bad/bad-header.bmp": (b"BM" + bytes(12) + struct.pack("<I", 40) + struct.pack("<ii", 0, 0) + bytes(40), "error"),
        "bad/psd.psd": (b"8BPS\0\1" + bytes(40), "error"),
        "bad/jpeg2000.jp2": (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(40), "error"),
        # not photos: skipped, never copied
        "other/notes.txt": (b"Alice Smith, ID 123456789, account 12345678\n", "skipped"),
        "other/.DS_Store": (b"\x00\x00\x00\x01Bud1" + bytes(100), "skipped"),
        "other/Thumbs.db": (ole(), "skipped"),
        "other/._IMG_0001.JPG": (b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X" + bytes(60), "skipped"),
        "other/desktop.ini": (b"[.ShellClassInfo]\r\nIconResource=x\r\n", "skipped"),
        "other/scan.pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "skipped"),
        "other/archive.zip": (b"PK\x03\x04" + bytes(40), "skipped"),
        "other/empty": (b"", "skipped"),
        "video/clip.mp4": (mp4(), "skipped"),
        "video/live.mov": (mp4(b"qt  "), "skipped"),
        "video/clip.webm": (webm(), "skipped"),
        "video/clip.avi": (avi(), "skipped"),
    }
    heic = heif(exif=_exif())
    if heic is not None:
        samples["ok/photo.heic"] = (heic, "ok")
        samples["bad/cut.heic"] = (heic[: len(heic) // 3], "error")
    samples["ok/photo.avif"] = (_save(FACE, "AVIF", quality=70, exif=_exif()), "ok")
    # content where a careless reader does not look: alpha planes, text in coded data, more pictures
    alpha_face = np.dstack([np.full_like(FACE, 200), FACE[..., 1]])
    samples["ok/face-in-alpha.png"] = (_save(alpha_face, "PNG"), "ok")
    samples["ok/face-in-alpha.webp"] = (_save(alpha_face, "WEBP", lossless=True), "ok")
    samples["ok/hidden-text.avif"] = (avif_hidden_text(), "ok")
    samples["ok/animated.avif"] = (avif_animated(), "ok")
    lying = heic_grid(np.full((512, 512, 3), 90, np.uint8), 30, 30, declared=(1000, 1000))
    if heic is not None:
        samples["ok/face-in-alpha.heic"] = (heif(alpha_face), "ok")
        samples["ok/hidden-text.heic"] = (heic_hidden_text(), "ok")
        samples["ok/two-images.heic"] = (heic_two_images(), "ok")
        samples["bad/lying-grid.heic"] = (lying, "error")  # 236 MP of tiles behind a 1000x1000 header
    expected = {}
    for name, (data, status) in samples.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected[name] = status
    long_name = "x" * 200 + ".jpg"
    (folder / "ok" / long_name).write_bytes(face_jpeg)
    expected[f"ok/{long_name}"] = "ok"
    (folder / "links").mkdir()
    os.symlink("../other", folder / "links" / "to-folder")
    expected["links/to-folder"] = "skipped"
    os.symlink("nowhere.jpg", folder / "links" / "broken.jpg")
    expected["links/broken.jpg"] = "skipped"
    os.symlink("../ok/plain.jpg", folder / "links" / "to-photo.jpg")
    expected["links/to-photo.jpg"] = "ok"
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "other" / "pipe.jpg")
        expected["other/pipe.jpg"] = "skipped"
    return expected


def _with_app1(jpeg: bytes, body: bytes) -> bytes:
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def _save_mode(pixels, mode: str, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buf, fmt, **kw)
    return buf.getvalue()


def _save_i16() -> bytes:
    grey = (FACE[..., 1].astype(np.uint16) * 257).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, "PNG")
    return buf.getvalue()


def _save_gif_anim() -> bytes:
    frames = [Image.fromarray(np.roll(FACE, 20 * i, axis=1)).convert("P") for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    return buf.getvalue()


def regular_files(folder: Path) -> dict[str, bytes]:
    """The bytes of every regular file under ``folder`` (never opening a FIFO, never following a link)."""
    out = {}
    for dirpath, _, names in os.walk(folder):
        for n in names:
            p = Path(dirpath) / n
            st = os.lstat(p)
            if not os.path.islink(p) and (st.st_mode & 0o170000) == 0o100000:
                out[p.relative_to(folder).as_posix()] = p.read_bytes()
    return out


__all__ = ["FACE", "build", "regular_files"]
