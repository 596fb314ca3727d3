"""minface.images.save_image: pixels in, nothing else out.

Each Pillow behaviour that would carry metadata into a re-saved file is shown
first (so the test keeps its point if Pillow changes), then save_image is shown
not to carry it.
"""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

import metadata_samples as S
from minface import metadata as M
from minface.errors import ImageWriteError, MissingDependencyError
from minface.images import atomic_write, encode_image, save_image

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def reopen(path) -> Image.Image:
    im = Image.open(path)
    im.load()
    return im


# -- the Pillow behaviours save_image exists for ---------------------------------------


def test_jpeg_comment_not_carried(tmp_path):
    src = tmp_path / "src.jpg"
    Image.fromarray(S.photo()).save(src, comment=b"comment-secret")
    im = reopen(src)
    assert im.info["comment"] == b"comment-secret"
    buf = io.BytesIO()
    im.save(buf, "JPEG")  # Pillow keeps im.info["comment"]
    assert b"comment-secret" in buf.getvalue()
    dst = save_image(np.asarray(im), tmp_path / "dst.jpg")
    assert b"comment-secret" not in dst.read_bytes() and M.inspect(dst).clean


def test_png_icc_not_carried(tmp_path):
    src = tmp_path / "src.png"
    Image.fromarray(S.photo()).save(src, icc_profile=S.p3_profile())
    im = reopen(src)
    buf = io.BytesIO()
    im.save(buf, "PNG")  # Pillow keeps im.info["icc_profile"]
    assert b"iCCP" in buf.getvalue()
    dst = save_image(np.asarray(im), tmp_path / "dst.png")
    assert b"iCCP" not in dst.read_bytes() and "icc" not in M.inspect(dst).kinds


def test_tiff_icc_xmp_iptc_not_carried(tmp_path):
    src = tmp_path / "src.tif"
    iptc = b"\x1c\x02\x50\x00\x0cJane Example"
    Image.fromarray(S.photo()).save(src, tiffinfo={700: S.XMP, 33723: iptc}, icc_profile=S.p3_profile())
    im = reopen(src)
    buf = io.BytesIO()
    im.save(buf, "TIFF")  # Pillow copies ICC, XMP and IPTC tags from tag_v2
    kinds = M.inspect(buf.getvalue()).kinds
    assert {"icc", "xmp", "iptc"} <= kinds
    dst = save_image(np.asarray(im), tmp_path / "dst.tif")
    assert not {"icc", "xmp", "iptc", "tiff-tags"} & M.inspect(dst).kinds
    assert S.no_secrets(dst.read_bytes()) == []


def test_exif_thumbnail_not_carried(tmp_path):
    src = tmp_path / "src.jpg"
    src.write_bytes(S.jpeg_insert(S.plain_jpeg(), S.segment(0xE1, S.exif_block(6))))
    im = reopen(src)
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=im.info["exif"])  # exif= writes IFD1 and its thumbnail back
    assert "exif-thumbnail" in M.inspect(buf.getvalue()).kinds
    dst = save_image(np.asarray(im), tmp_path / "dst.jpg", exif_orientation=6)
    report = M.inspect(dst)
    assert report.clean and [i.details for i in report.items if i.kind == "exif"] == [{"Orientation": 6}]
    a = np.asarray(ImageOps.exif_transpose(reopen(dst))).astype(int)
    b = np.asarray(ImageOps.exif_transpose(im)).astype(int)
    assert a.shape == b.shape and np.abs(a - b).mean() < 3


def test_rejects_pil_images(tmp_path):
    im = Image.fromarray(S.photo())
    with pytest.raises(ImageWriteError, match="pixel arrays"):
        save_image(im, tmp_path / "x.png")  # type: ignore[arg-type]
    with pytest.raises(ImageWriteError, match="asarray"):
        save_image([np.zeros((2, 2), np.uint8), im], tmp_path / "x.gif")  # type: ignore[list-item]
    assert list(tmp_path.iterdir()) == []


# -- every format -------------------------------------------------------------------


LOSSLESS = [("png", {}), ("tif", {}), ("bmp", {}), ("webp", {"lossless": True}), ("gif", {})]
LOSSY = [("jpg", {}), ("webp", {}), ("avif", {})]


@pytest.mark.parametrize("ext,kw", LOSSLESS)
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_lossless_formats_roundtrip(tmp_path, ext, kw, channels):
    px = S.photo().copy()
    if channels == 1:
        px = px[..., 1].copy()
    elif channels == 4:
        px = np.dstack([px, np.full(px.shape[:2], 255, np.uint8)])
        px[:10, :10, 3] = 0
    if ext == "gif" and px.ndim == 3:
        px[..., :3] = (px[..., :3] // 64) * 64  # at most 256 colours: GIF is exact then
    dst = save_image(px, tmp_path / f"a.{ext}", **kw)
    im = reopen(dst)
    got = np.asarray(im.convert({1: "L", 3: "RGB", 4: "RGBA"}[channels]))
    if channels == 4 and ext in ("gif", "bmp"):
        got, px = got[px[..., 3] > 0], px[px[..., 3] > 0]  # only visible pixels are kept exactly
    assert np.array_equal(got, px)
    assert im.info.get("icc_profile") is None and M.inspect(dst).clean


@pytest.mark.parametrize("ext,kw", LOSSY)
def test_lossy_formats(tmp_path, ext, kw):
    dst = save_image(S.photo(), tmp_path / f"a.{ext}", quality=90, **kw)
    got = np.asarray(reopen(dst).convert("RGB")).astype(int)
    assert got.shape == S.photo().shape and np.abs(got - S.photo()).mean() < 4
    assert M.inspect(dst).clean


def test_heif(tmp_path):
    try:
        dst = save_image(S.photo(), tmp_path / "a.heic")
    except MissingDependencyError as exc:
        assert "minface[heif]" in str(exc)
        pytest.skip("pillow-heif not installed")
    im = reopen(dst)
    assert im.size == (128, 96) and not im.info.get("exif") and not im.info.get("xmp")
    assert M.inspect(dst).clean


def test_animations(tmp_path):
    frames = [(np.roll(S.photo(), 10 * i, axis=1) // 64) * 64 for i in range(3)]
    gif = save_image(frames, tmp_path / "a.gif", duration=[40, 80, 120], loop=0)
    webp = save_image(frames, tmp_path / "a.webp", duration=[40, 80, 120], loop=2, lossless=True)
    for path, loop in ((gif, 0), (webp, 2)):
        im = Image.open(path)
        assert im.n_frames == 3 and im.info["loop"] == loop
        for i, f in enumerate(frames):
            im.seek(i)
            assert np.array_equal(np.asarray(im.convert("RGB")), f)
            assert im.info["duration"] == [40, 80, 120][i]
        assert M.inspect(path).clean
    single = save_image(frames[:1], tmp_path / "one.gif", duration=[70], loop=0)
    assert Image.open(single).info["duration"] == 70
    with pytest.raises(ImageWriteError, match="durations"):
        save_image(frames, tmp_path / "b.gif", duration=[1, 2])
    pages = save_image(frames, tmp_path / "a.tif")
    assert Image.open(pages).n_frames == 3
    with pytest.raises(ImageWriteError, match="frames"):
        save_image(frames, tmp_path / "a.jpg")


def test_many_colours_gif_is_quantized(tmp_path):
    dst = save_image(S.photo(), tmp_path / "a.gif")
    got = np.asarray(reopen(dst).convert("RGB")).astype(int)
    assert np.abs(got - S.photo()).mean() < 12


# -- options -------------------------------------------------------------------------


def test_icc_profile_is_cleaned(tmp_path):
    dst = save_image(S.photo(), tmp_path / "a.jpg", icc_profile=S.p3_profile())
    icc = reopen(dst).info["icc_profile"]
    assert icc == M.clean_icc_profile(S.p3_profile()) and b"Jane" not in icc
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert "icc_profile" not in reopen(save_image(S.photo(), tmp_path / "b.png", icc_profile=srgb)).info
    with pytest.raises(ImageWriteError, match="GRAY|Gray|pixels are"):
        save_image(S.photo()[..., 0], tmp_path / "c.png", icc_profile=S.p3_profile())
    with pytest.raises(ImageWriteError):
        save_image(S.photo(), tmp_path / "d.gif", icc_profile=S.p3_profile())


@pytest.mark.parametrize("ext", ["jpg", "png", "webp", "tif"])
def test_exif_orientation(tmp_path, ext):
    dst = save_image(S.photo(), tmp_path / f"a.{ext}", exif_orientation=8, lossless=ext == "webp")
    im = reopen(dst)
    assert ImageOps.exif_transpose(im).size == (96, 128)
    items = [i for i in M.inspect(dst).items if i.kind == "exif"]
    assert M.inspect(dst).clean and (ext == "tif" or [i.details for i in items] == [{"Orientation": 8}])


def test_option_errors(tmp_path):
    px = S.photo()
    for kwargs in (
        {"format": "xcf"},
        {"quality": 0},
        {"exif_orientation": 9},
        {"format": "gif", "exif_orientation": 6},
        {"format": "jpeg", "lossless": True},
    ):
        with pytest.raises(ImageWriteError):
            save_image(px, tmp_path / "x.png", **kwargs)
    with pytest.raises(ImageWriteError, match="extension"):
        save_image(px, tmp_path / "x.unknown")
    with pytest.raises(ImageWriteError, match="alpha"):
        save_image(np.dstack([px, px[..., :1]]), tmp_path / "x.jpg")
    assert list(tmp_path.iterdir()) == []
    assert encode_image(px, "jpg")[:3] == b"\xff\xd8\xff"
    assert save_image(px, tmp_path / "noext", format="PNG").read_bytes()[:4] == b"\x89PNG"


def test_atomic_write(tmp_path, monkeypatch):
    dst = tmp_path / "a.png"
    dst.write_bytes(b"old")
    real_rename = os.rename

    def fail(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "rename", fail)
    with pytest.raises(ImageWriteError, match="No space"):
        save_image(S.photo(), dst)
    assert dst.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.png"]
    monkeypatch.setattr(os, "rename", real_rename)
    save_image(S.photo(), dst)
    assert dst.read_bytes()[:4] == b"\x89PNG" and [p.name for p in tmp_path.iterdir()] == ["a.png"]
    with pytest.raises(ImageWriteError, match="cannot write"):
        atomic_write(tmp_path / "missing-dir" / "x.bin", b"x")
    atomic_write(tmp_path / "m.bin", b"x", mode=0o600)
    assert (tmp_path / "m.bin").stat().st_mode & 0o777 == 0o600


def test_exiftool_sees_nothing(tmp_path):
    S.exiftool_or_skip()
    px = S.photo()
    paths = [
        save_image(px, tmp_path / "a.jpg", exif_orientation=6, icc_profile=S.p3_profile()),
        save_image(px, tmp_path / "a.png", exif_orientation=3, icc_profile=S.p3_profile()),
        save_image(px, tmp_path / "a.webp", exif_orientation=6, icc_profile=S.p3_profile()),
        save_image(px, tmp_path / "a.tif", icc_profile=S.p3_profile()),
        save_image(px, tmp_path / "a.bmp"),
        save_image([px, px[::-1].copy()], tmp_path / "a.gif", duration=100),
        save_image(px, tmp_path / "a.avif"),
    ]
    residue = M.exiftool_residue(paths)
    assert residue == {os.fspath(p): [] for p in paths}


def test_jpeg_tables_of_the_source_are_used_as_given(tmp_path):
    """Pillow rescales given tables by `quality` when both are passed: a re-encode must keep the size."""
    import io

    import numpy as np
    import skimage.data
    from PIL import Image

    from minface.images import save_image

    buf = io.BytesIO()
    Image.fromarray(skimage.data.astronaut()).save(buf, "JPEG", quality=75)
    src = Image.open(buf)
    tables = [list(t) for t in src.quantization.values()]
    out = save_image(np.asarray(src), tmp_path / "a.jpg", quality=95, jpeg_qtables=tables, jpeg_subsampling=2)
    assert [list(t) for t in Image.open(out).quantization.values()] == tables
    assert out.stat().st_size < 1.2 * len(buf.getvalue())
