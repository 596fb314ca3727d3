"""minface.metadata: inspect finds everything, strip removes everything and keeps the pixels."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import struct

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

import metadata_samples as S
from minface import metadata as M
from minface.cli import main as cli_main
from minface.errors import CorruptImageError, MetadataError, MinfaceError, UnsupportedImageError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on the damaged samples

SENSITIVE_KINDS = {
    "exif", "gps", "makernote", "exif-thumbnail", "xmp", "face-regions", "iptc", "photoshop", "comment",
    "mpf", "jumbf", "app-segment", "png-text", "png-time", "png-chunk", "riff-chunk", "trailer",
}


def decoded(data: bytes) -> list[tuple[str, tuple[int, int], bytes]]:
    """Every frame as stored (mode, size, raw bytes)."""
    out = []
    with Image.open(io.BytesIO(data)) as im:
        for i in range(getattr(im, "n_frames", 1) if im.format != "MPO" else 1):
            im.seek(i)
            im.load()
            out.append((im.mode, im.size, im.tobytes()))
    return out


def displayed(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


RICH = {"jpeg": S.rich_jpeg, "png": S.rich_png, "webp": S.rich_webp}


# -- inspect -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(RICH))
def test_inspect_finds_everything(fmt):
    report = M.inspect(RICH[fmt](6))
    kinds = report.kinds
    assert {"exif", "gps", "makernote", "exif-thumbnail", "xmp", "face-regions", "icc", "trailer"} <= kinds
    faces = next(i for i in report.items if i.kind == "face-regions")
    assert faces.details["faces"] == 1 and faces.details["person_names"] == ["Jane Example"]
    exif = next(i for i in report.items if i.kind == "exif")
    assert exif.details["BodySerialNumber"] == "SN-0042-7781"
    assert exif.details["Artist"] == "Jane Example" and exif.details["Orientation"] == 6
    assert exif.details["DateTimeOriginal"] == "2024:05:01 10:11:12"
    gps = next(i for i in report.items if i.kind == "gps")
    assert gps.details["position"] == "48.858217, 2.2945"
    icc = next(i for i in report.items if i.kind == "icc")
    assert icc.sensitive and icc.details["name"] == "Display P3"
    assert icc.details["created"] == "2024-05-01 10:11:12" and "Jane" in icc.details["description"]
    assert report.orientation == 6 and not report.clean
    if fmt == "jpeg":
        assert {"iptc", "photoshop", "comment", "mpf", "jumbf", "app-segment"} <= kinds
        iptc = next(i for i in report.items if i.kind == "iptc")
        assert iptc.details == {"By-line": "Jane Example", "City": "Paris", "Caption-Abstract": "Jane at the tower"}
        assert next(i for i in report.items if i.kind == "trailer").details["content"].startswith("MP4")
    if fmt == "png":
        assert {"png-text", "png-time", "png-chunk"} <= kinds
        assert "PNG data" in next(i for i in report.items if i.kind == "trailer").details["content"]
    if fmt == "webp":
        assert "riff-chunk" in kinds


def test_report_rendering_and_json():
    report = M.inspect(S.rich_jpeg())
    text = report.to_text()
    assert "gps" in text and "face-regions" in text and "KIND" in text
    assert str(report) == text
    doc = json.loads(json.dumps(report.to_dict()))
    assert doc["format"] == "JPEG" and doc["clean"] is False
    assert {i["kind"] for i in doc["items"]} == set(report.kinds)
    with pytest.raises(AttributeError):
        report.items = ()  # type: ignore[misc]  # frozen


def test_inspect_sources(tmp_path):
    data = S.rich_jpeg()
    p = tmp_path / "a.jpg"
    p.write_bytes(data)
    assert M.inspect(p).kinds == M.inspect(data).kinds == M.inspect(io.BytesIO(data)).kinds
    assert M.inspect(str(p)).source == str(p)
    with pytest.raises(UnsupportedImageError, match="empty"):
        M.inspect(b"")
    with pytest.raises(UnsupportedImageError, match="not a recognised"):
        M.inspect(b"hello world, not an image")
    with pytest.raises(UnsupportedImageError, match="directory"):
        M.inspect(tmp_path)


def test_inspect_gif_and_tiff():
    frames = [Image.fromarray(S.photo()[::2, ::2]).quantize(64) for _ in range(2)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], comment=b"comment-secret", loop=0)
    kinds = M.inspect(S.gif_with_xmp(buf.getvalue())).kinds
    assert {"comment", "xmp", "face-regions"} <= kinds
    buf = io.BytesIO()
    Image.fromarray(S.photo()).save(
        buf, "TIFF", tiffinfo={315: "Jane Example", 700: S.XMP, 33723: b"\x1c\x02\x50\x00\x0cJane Example"},
        icc_profile=S.p3_profile(),
    )
    report = M.inspect(buf.getvalue())
    assert {"tiff-tags", "xmp", "face-regions", "iptc", "icc"} <= report.kinds
    assert next(i for i in report.items if i.kind == "tiff-tags").details["Artist"] == "Jane Example"


# -- lossless strip ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(RICH))
@pytest.mark.parametrize("orientation", [1, 6])
def test_strip_lossless_removes_everything_and_keeps_pixels(fmt, orientation):
    data = RICH[fmt](orientation)
    out, report = M.strip_bytes(data)
    assert report.method == "lossless" and report.pixels_identical is True
    assert decoded(out) == decoded(data)
    after = M.inspect(out)
    assert after.clean and not (after.kinds & SENSITIVE_KINDS - {"exif"})
    assert S.no_secrets(out) == []
    assert report.removed_kinds >= {"gps", "makernote", "exif-thumbnail", "xmp", "face-regions", "trailer"}
    assert report.removed_bytes > 2000 and report.bytes_out < report.bytes_in
    assert report.icc == "cleaned"
    if orientation == 1:
        assert "exif" not in after.kinds and report.orientation_handling == "none"
    else:
        exif = next(i for i in after.items if i.kind == "exif")
        assert exif.details == {"Orientation": 6} and not exif.sensitive
        assert report.orientation_handling == "tag"
    assert np.array_equal(displayed(out), displayed(data))
    json.dumps(report.to_dict())


def test_jpeg_keeps_only_decoding_segments():
    out, _ = M.strip_bytes(S.rich_jpeg())
    markers, pos = [], 2
    while pos < len(out):
        m = out[pos + 1]
        markers.append(m)
        if m == 0xD9:
            break
        length = struct.unpack(">H", out[pos + 2 : pos + 4])[0]
        pos += 2 + length
        if m == 0xDA:  # skip entropy-coded data
            while not (out[pos] == 0xFF and out[pos + 1] not in (0x00, *range(0xD0, 0xD8))):
                pos += 1
    assert set(markers) <= {0xE0, 0xE2, 0xDB, 0xC0, 0xC4, 0xDA, 0xD9}
    assert out.endswith(b"\xff\xd9") and out.count(b"\xff\xe2") == 1


def test_adobe_cmyk_jpeg_is_lossless():
    cmyk = Image.fromarray(S.photo()).convert("CMYK")
    buf = io.BytesIO()
    cmyk.save(buf, "JPEG", quality=90)
    data = S.jpeg_insert(buf.getvalue(), S.segment(0xFE, b"comment-secret"))
    out, report = M.strip_bytes(data)
    assert report.pixels_identical and decoded(out) == decoded(data)
    assert b"Adobe" in out and b"comment-secret" not in out


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_displayed_the_same(orientation):
    data = S.rich_jpeg(orientation)
    out, report = M.strip_bytes(data)
    assert np.array_equal(displayed(out), displayed(data))
    assert report.orientation == orientation
    flat, report2 = M.strip_bytes(data, keep_orientation=False)
    assert "exif" not in M.inspect(flat).kinds
    a, b = displayed(flat).astype(int), displayed(data).astype(int)
    assert a.shape == b.shape and np.abs(a - b).mean() < 2.0  # re-encoded with the original tables
    assert report2.orientation_handling == ("none" if orientation == 1 else "applied")
    assert report2.method == ("lossless" if orientation == 1 else "reencoded")


def test_png_orientation_applied_is_exact():
    data = S.rich_png(8)
    out, report = M.strip_bytes(data, keep_orientation=False)
    assert report.method == "reencoded" and report.pixels_identical
    assert np.array_equal(displayed(out), displayed(data))
    assert M.inspect(out).clean and "exif" not in M.inspect(out).kinds


def test_xmp_only_orientation_becomes_exif_tag():
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' \
          b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="3"/></rdf:RDF></x:xmpmeta>'
    buf = io.BytesIO()
    Image.fromarray(S.photo()).save(buf, "PNG")
    data = S.png_insert(buf.getvalue(), S.png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp))
    out, report = M.strip_bytes(data)
    assert report.orientation == 3 and report.orientation_handling == "tag"
    assert np.array_equal(displayed(out), displayed(data))


def test_icc_clean_copy_keeps_colours():
    p3 = S.p3_profile()
    clean = M.clean_icc_profile(p3)
    assert clean is not None and M.clean_icc_profile(clean) == clean  # idempotent
    assert clean[24:36] == bytes(12) and clean[40:56] == bytes(16) and clean[80:100] == bytes(20)
    assert b"Jane" not in clean and b"SN-0042" not in clean and b"vcgt" not in clean
    srgb = ImageCms.createProfile("sRGB")
    im = Image.fromarray(S.photo())
    convert = [
        ImageCms.profileToProfile(im, ImageCms.ImageCmsProfile(io.BytesIO(p)), srgb) for p in (p3, clean)
    ]
    assert np.array_equal(np.asarray(convert[0]), np.asarray(convert[1]))
    assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(clean))).strip() == "Display P3"
    v2 = M.clean_icc_profile(S.p3_profile(v4=False))
    assert v2 is not None and v2[8] == 2 and b"desc" in v2


def test_icc_srgb_and_drop_policies():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert M.clean_icc_profile(srgb) is None
    assert M.clean_icc_profile(b"garbage" * 30) is None
    data = S.jpeg_insert(S.plain_jpeg(), *S.icc_segments(srgb))
    out, report = M.strip_bytes(data)
    assert report.icc == "dropped-srgb" and "icc" not in M.inspect(out).kinds
    out, report = M.strip_bytes(S.rich_jpeg(), icc="drop")
    assert report.icc == "dropped" and "icc" not in M.inspect(out).kinds
    with pytest.raises(ValueError):
        M.strip_bytes(S.rich_jpeg(), icc="keep")  # type: ignore[arg-type]


def test_gif_animation_kept_exactly():
    frames = [Image.fromarray(np.roll(S.photo(), 8 * i, axis=1)).quantize(64) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=[70, 120, 200], loop=3,
                   comment=b"comment-secret")
    data = S.gif_with_xmp(buf.getvalue()) + b"trailer-secret"
    out, report = M.strip_bytes(data)
    assert report.method == "lossless" and report.pixels_identical
    assert decoded(out) == decoded(data)
    with Image.open(io.BytesIO(out)) as im:
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
        assert durations == [70, 120, 200] and im.info["loop"] == 3
    assert S.no_secrets(out) == [] and M.inspect(out).clean


def test_webp_animation_kept():
    frames = [Image.fromarray(np.roll(S.photo(), 8 * i, axis=1)) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=[50, 80, 120], loop=2,
                   lossless=True, exif=S.exif_block(), xmp=S.XMP)
    out, report = M.strip_bytes(buf.getvalue())
    assert report.pixels_identical and decoded(out) == decoded(buf.getvalue())
    with Image.open(io.BytesIO(out)) as im:
        assert im.n_frames == 3 and im.info["loop"] == 2
    assert M.inspect(out).clean and S.no_secrets(out) == []


# -- re-encoded formats ------------------------------------------------------------------


def test_tiff_reencoded_without_tags():
    buf = io.BytesIO()
    Image.fromarray(S.photo()).save(
        buf, "TIFF", tiffinfo={315: "Jane Example", 305: "Secret Camera Co", 700: S.XMP, 274: 6},
        icc_profile=S.p3_profile(),
    )
    data = buf.getvalue()
    out, report = M.strip_bytes(data)
    assert report.method == "reencoded" and report.pixels_identical and report.orientation_handling == "applied"
    assert M.inspect(out).clean and S.no_secrets(out) == []
    assert np.array_equal(displayed(out), displayed(data))
    assert report.icc == "cleaned" and "icc" in M.inspect(out).kinds


def test_bmp_reencoded_avif_rewritten_losslessly():
    buf = io.BytesIO()
    Image.fromarray(S.photo()).save(buf, "BMP")
    out, report = M.strip_bytes(buf.getvalue() + b"trailer-secret")
    assert report.pixels_identical and b"trailer-secret" not in out
    buf = io.BytesIO()
    Image.fromarray(S.photo()).save(buf, "AVIF", exif=S.exif_block(), xmp=S.XMP, icc_profile=S.p3_profile())
    data = buf.getvalue() + b"trailer-secret"
    assert {"exif", "xmp", "icc"} <= M.inspect(data).kinds
    out, report = M.strip_bytes(data)
    assert report.method == "lossless" and report.pixels_identical and report.icc == "cleaned"
    assert M.inspect(out).clean and S.no_secrets(out) == [] and b"trailer-secret" not in out
    assert len(out) <= len(data)  # the coded image is copied, never re-encoded larger


def test_heif_rewritten_losslessly_without_exif_or_xmp():
    pillow_heif = pytest.importorskip("pillow_heif", reason="needs pip install 'minface[heif]'")
    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.fromarray(S.photo()).save(buf, "HEIF", exif=S.exif_block(6), xmp=S.XMP, quality=90)
    data = buf.getvalue()
    assert {"exif", "xmp"} <= M.inspect(data).kinds
    out, report = M.strip_bytes(data)
    assert report.method == "lossless" and report.format == "HEIF" and report.pixels_identical
    assert M.inspect(out).clean and S.no_secrets(out) == []
    assert len(out) <= len(data)
    with Image.open(io.BytesIO(out)) as im:
        assert not im.info.get("exif") and not im.info.get("xmp")
        assert im.size == Image.open(io.BytesIO(data)).size == (96, 128)  # turned upright by the decoder


# -- malformed input -------------------------------------------------------------------


def _jpeg_with_exif(tiff: bytes) -> bytes:
    return S.jpeg_insert(S.plain_jpeg(), S.segment(0xE1, b"Exif\0\0" + tiff), S.segment(0xFE, b"comment-secret"))


MALFORMED = {
    "bad IFD offset": lambda: _jpeg_with_exif(b"MM\0\x2a\x7f\xff\xff\xf0" + bytes(20)),
    "bad value offset": lambda: _jpeg_with_exif(
        b"MM\0\x2a\0\0\0\x08\0\x01" + struct.pack(">HHII", 0x013B, 2, 400, 0x10000000) + bytes(4)
    ),
    "zero-denominator rational": lambda: _jpeg_with_exif(
        S.tiff_block([(0x011A, 5, [(72, 0)]), (0x013B, 2, "Jane Example")], gps=[(2, 5, [(1, 0), (2, 0), (3, 0)])])
    ),
    "IFD loop": lambda: _jpeg_with_exif(
        b"MM\0\x2a\0\0\0\x08\0\x01" + struct.pack(">HHII", 0x8769, 4, 1, 8) + b"\0\0\0\x08"
    ),
    "truncated APP1": lambda: _jpeg_with_exif(S.exif_block()[6:200]),
    "not TIFF in APP1": lambda: _jpeg_with_exif(b"XX garbage Jane Example"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_metadata_is_stripped(case):
    data = MALFORMED[case]()
    report = M.inspect(data)
    assert "exif" in report.kinds
    out, strip_report = M.strip_bytes(data)
    assert out != data and strip_report.pixels_identical
    assert M.inspect(out).clean and b"comment-secret" not in out and b"Jane Example" not in out


def test_zero_denominator_is_reported_not_fatal():
    report = M.inspect(MALFORMED["zero-denominator rational"]())
    assert next(i for i in report.items if i.kind == "gps").details["tags"] == 1


def test_segment_running_past_the_end_is_a_clear_error():
    jpeg = S.plain_jpeg()
    bad = jpeg[:2] + b"\xff\xe1\xff\xf0Exif\0\0MM" + jpeg[2:200]
    assert "damaged JPEG" in " ".join(M.inspect(bad).warnings)
    with pytest.raises(CorruptImageError, match="damaged"):
        M.strip_bytes(bad)
    with pytest.raises(CorruptImageError):
        M.strip_bytes(S.rich_png()[:-300])  # cut inside the IEND leftovers / image data
    with pytest.raises(CorruptImageError):
        M.strip_bytes(S.rich_webp()[:500])


def test_missing_eoi():
    data = S.plain_jpeg()[:-2]
    with pytest.raises(CorruptImageError):  # Pillow cannot decode it, so it cannot be verified
        M.strip_bytes(data)
    out, report = M.strip_bytes(data, verify=False)
    assert out.endswith(b"\xff\xd9") and any("end-of-image" in n for n in report.notes)


def test_huge_xmp():
    xmp = S.XMP.replace(b"</x:xmpmeta>", b"<!--" + b"x" * (5 << 20) + b"--></x:xmpmeta>")
    buf = io.BytesIO()
    Image.fromarray(S.photo()).save(buf, "PNG")
    data = S.png_insert(buf.getvalue(), S.png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp))
    assert len(data) > 5 << 20
    report = M.inspect(data)
    assert "face-regions" in report.kinds
    out, strip_report = M.strip_bytes(data)
    assert len(out) < 40_000 and M.inspect(out).clean and strip_report.pixels_identical
    ext = [  # the same in JPEG: extended-XMP segments, 64 kB each
        S.segment(0xE1, b"http://ns.adobe.com/xmp/extension/\0" + b"0" * 32 + struct.pack(">II", len(xmp), i)
                  + xmp[i : i + 60000])
        for i in range(0, len(xmp), 60000)
    ]
    data = S.jpeg_insert(S.plain_jpeg(), *ext)
    out, _ = M.strip_bytes(data)
    assert len(out) < 20_000 and M.inspect(out).clean


def test_idat_hidden_bytes_removed():
    buf = io.BytesIO()
    Image.fromarray(S.photo()).save(buf, "PNG")
    png = buf.getvalue()
    pos = png.index(b"IDAT") - 4
    length = struct.unpack(">I", png[pos : pos + 4])[0]
    idat = png[pos + 8 : pos + 8 + length] + b"trailer-secret"
    data = png[:pos] + S.png_chunk(b"IDAT", idat) + png[pos + 12 + length :]
    out, report = M.strip_bytes(data)
    assert b"trailer-secret" not in out and report.pixels_identical
    assert "stray-bytes" in report.removed_kinds


def test_random_damage_never_crashes():
    data = S.rich_jpeg()
    rng = random.Random(1)
    for _ in range(60):
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(2, 2400)] = rng.randrange(256)
        try:
            M.inspect(bytes(b))
            out, _ = M.strip_bytes(bytes(b))
        except MinfaceError:
            continue
        assert M.inspect(out).clean and b"comment-secret" not in out and b"trailer-secret" not in out


# -- files on disk: atomic, never the source -----------------------------------------


def test_strip_file_atomic_and_never_touches_source(tmp_path):
    src = tmp_path / "in.jpg"
    src.write_bytes(S.rich_jpeg(6))
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    dst = tmp_path / "out.jpg"
    report = M.strip(src, dst)
    assert report.destination == str(dst) and M.inspect(dst).clean
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jpg", "out.jpg"]  # no temporary files left
    assert (dst.stat().st_mode & 0o777) == (0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_strip_in_place_needs_consent(tmp_path):
    src = tmp_path / "in.png"
    src.write_bytes(S.rich_png())
    os.chmod(src, 0o640)
    before = src.read_bytes()
    with pytest.raises(MetadataError, match="in_place"):
        M.strip(src, src)
    with pytest.raises(MetadataError):
        M.strip(src, tmp_path / "." / "in.png")
    assert src.read_bytes() == before
    M.strip(src, src, in_place=True)
    assert M.inspect(src).clean and (src.stat().st_mode & 0o777) == 0o640


def test_failure_leaves_no_output(tmp_path, monkeypatch):
    src = tmp_path / "in.jpg"
    src.write_bytes(S.rich_jpeg())
    dst = tmp_path / "out.jpg"

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "rename", boom)
    with pytest.raises(OSError, match="No space"):
        M.strip(src, dst)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jpg"]
    monkeypatch.undo()
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(S.plain_jpeg()[:300])
    with pytest.raises(MinfaceError):
        M.strip(bad, tmp_path / "bad-out.jpg")
    assert not (tmp_path / "bad-out.jpg").exists()


# -- exiftool agrees ------------------------------------------------------------------


def test_exiftool_finds_nothing_after_strip(tmp_path):
    S.exiftool_or_skip()
    sources = {
        "rich.jpg": S.rich_jpeg(6),
        "rich.png": S.rich_png(6),
        "rich.webp": S.rich_webp(6),
        "lossy.webp": S.rich_webp(1, lossless=False),
    }
    buf = io.BytesIO()
    Image.fromarray(S.photo()).save(buf, "TIFF", tiffinfo={315: "Jane Example", 700: S.XMP}, icc_profile=S.p3_profile())
    sources["rich.tif"] = buf.getvalue()
    buf = io.BytesIO()
    frames = [Image.fromarray(S.photo()).quantize(32)] * 2
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], comment=b"comment-secret")
    sources["rich.gif"] = S.gif_with_xmp(buf.getvalue())
    paths_in, paths_out = [], []
    for name, data in sources.items():
        (tmp_path / name).write_bytes(data)
        M.strip(tmp_path / name, tmp_path / f"clean-{name}")
        paths_in.append(tmp_path / name)
        paths_out.append(tmp_path / f"clean-{name}")
    before = M.exiftool_residue(paths_in)
    assert all(before[os.fspath(p)] for p in paths_in)  # the check can see metadata at all
    jpeg_before = " ".join(before[os.fspath(tmp_path / "rich.jpg")])
    for group in ("GPS:", "IFD1:", "XMP-mwg-rs:", "ICC-header:ProfileDateTime", "IPTC:", "ExifIFD:"):
        assert group in jpeg_before
    after = M.exiftool_residue(paths_out)
    assert after == {os.fspath(p): [] for p in paths_out}


# -- CLI -----------------------------------------------------------------------------


def test_cli_inspect(tmp_path, capsys):
    p = tmp_path / "a.jpg"
    p.write_bytes(S.rich_jpeg())
    assert cli_main(["inspect", str(p)]) == 0
    out = capsys.readouterr().out
    assert "face-regions" in out and "gps" in out
    assert cli_main(["inspect", "--json", str(p), str(tmp_path / "missing.jpg")]) == 1
    doc = [json.loads(line) for line in capsys.readouterr().out.splitlines()]  # JSON lines, as every verb's --json
    assert [d["status"] for d in doc] == ["ok", "error"]


def test_cli_strip_tree(tmp_path, capsys):
    src = tmp_path / "photos"
    (src / "2024" / "may").mkdir(parents=True)
    (src / "a.jpg").write_bytes(S.rich_jpeg())
    (src / "2024" / "b.png").write_bytes(S.rich_png())
    (src / "2024" / "may" / "c.webp").write_bytes(S.rich_webp())
    (src / "2024" / "notes.txt").write_text("not an image")
    single = tmp_path / "single.jpg"
    single.write_bytes(S.rich_jpeg(3))
    out = tmp_path / "clean"
    report = tmp_path / "report.jsonl"
    # the folder's layout is mirrored below the inputs' common folder; the text file is reported, not copied
    assert cli_main(["strip", "-q", str(src), str(single), "-o", str(out), "--report", str(report)]) == 0
    err = capsys.readouterr().err
    assert "notes.txt" not in err  # a skip, not an error
    assert "5 file(s): 4 ok, 0 failed, 1 skipped" in err
    made = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs)
    assert made == ["photos/2024/b.png", "photos/2024/may/c.webp", "photos/a.jpg", "single.jpg"]
    assert all(M.inspect(out / m).clean for m in made)
    records = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(r["status"] for r in records) == ["ok", "ok", "ok", "ok", "skipped"]
    ok = [r for r in records if r["status"] == "ok"]
    assert all(r["removed"] and r["pixels_identical"] for r in ok)

    # a rerun skips what is done
    assert cli_main(["strip", "-q", str(src / "a.jpg"), "-o", str(out / "photos")]) == 0
    assert "1 skipped" in capsys.readouterr().err

    broken = tmp_path / "broken.jpg"
    broken.write_bytes(S.plain_jpeg()[:200])
    assert cli_main(["strip", "-q", str(broken), str(single), "-o", str(tmp_path / "o2")]) == 1
    assert not (tmp_path / "o2" / "broken.jpg").exists() and (tmp_path / "o2" / "single.jpg").exists()
    assert cli_main(["strip", "-q", str(tmp_path / "notes.txt"), "-o", str(tmp_path / "o3")]) == 1


def test_cli_usage_errors(tmp_path):
    with pytest.raises(SystemExit) as exc:
        cli_main(["strip", str(tmp_path)])  # no -o
    assert exc.value.code == 2
    f = tmp_path / "file"
    f.write_text("x")
    assert cli_main(["strip", str(tmp_path), "-o", str(f)]) == 2
