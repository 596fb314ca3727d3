"""HEIF and AVIF beyond one plain picture: hidden text in the coded data, several images, sequences."""

from __future__ import annotations

import io

import hostile_samples as H
import numpy as np
import pytest
from PIL import Image

import minface
import minface.metadata as M


def _frames(data_or_path) -> list[np.ndarray]:
    im = Image.open(io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path)
    out = []
    for k in range(getattr(im, "n_frames", 1)):
        im.seek(k)
        out.append(np.asarray(im.convert("RGB")))
    return out


def _need_heif():
    pillow_heif = pytest.importorskip("pillow_heif", reason="needs pip install 'minface[heif]'")
    pillow_heif.register_heif_opener()


@pytest.mark.parametrize("make", [H.heic_hidden_text, H.avif_hidden_text], ids=["heic", "avif"])
def test_strip_keeps_only_what_a_decoder_needs(make):
    """Text in an unspecified HEVC NAL unit, AV1 metadata and padding OBUs, hvcC/av1C and ftyp brands."""
    if make is H.heic_hidden_text:
        _need_heif()
    data = make()
    assert H.HIDDEN in data and _frames(data)  # planted, and the file decodes
    out, report = M.strip_bytes(data)
    assert report.method == "lossless" and report.pixels_identical
    for part in (H.HIDDEN, H.HIDDEN[:8], H.HIDDEN[-8:], H.HIDDEN[:4]):
        assert part not in out
    assert out[4:8] == b"ftyp" and out[12:16] == b"\0\0\0\0"  # minor version zeroed


def test_scrub_drops_the_hidden_text_too(tmp_path):
    _need_heif()
    src = tmp_path / "in.heic"
    src.write_bytes(H.heic_hidden_text())
    minface.scrub(src, tmp_path / "out.heic", preset="fast")
    assert H.HIDDEN[:8] not in (tmp_path / "out.heic").read_bytes()


def test_strip_keeps_every_top_level_image_losslessly():
    _need_heif()
    data = H.heic_two_images()
    out, report = M.strip_bytes(data)
    assert report.method == "lossless" and report.pixels_identical
    assert any("2 top-level images" in n for n in report.notes)
    assert [f.shape for f in _frames(out)] == [f.shape for f in _frames(data)]
    assert M.inspect(out).clean


def test_strip_of_an_animated_avif_re_encodes_every_frame_and_says_so():
    data = H.avif_animated()
    out, report = M.strip_bytes(data)
    assert report.method == "reencoded" and any("3 frames" in n for n in report.notes), report.notes
    assert len(_frames(out)) == 3


@pytest.mark.parametrize("kind", ["avif", "heic"])
def test_scrub_paints_every_frame_and_every_top_level_image(tmp_path, kind):
    if kind == "heic":
        _need_heif()
    data = H.avif_animated() if kind == "avif" else H.heic_two_images()
    n = len(_frames(data))
    src, dst = tmp_path / f"in.{kind}", tmp_path / f"out.{kind}"
    src.write_bytes(data)
    result = minface.scrub(src, dst, preset="balanced")
    assert result.frames == n and sorted({f["frame"] for f in result.faces}) == list(range(n))
    assert len(_frames(dst)) == n


def test_a_multi_picture_jpeg_says_it_drops_its_second_picture(tmp_path):
    src = tmp_path / "in.jpg"
    Image.fromarray(H.FACE).save(src, "MPO", save_all=True, append_images=[Image.fromarray(H.FACE[::-1].copy())])
    result = minface.scrub(src, tmp_path / "out.jpg", preset="fast")
    assert result.status == "ok" and result.notes and "dropped" in result.notes[0]


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_a_large_still_is_written_as_a_grid_of_tiles(monkeypatch, fmt, channels):
    """Large HEIF/AVIF outputs are grids of separately coded tiles (bounded encoder memory), decoding right."""
    if fmt == "HEIF":
        _need_heif()
    from minface.io import encode as images  # the encoder's own grid limits
    from minface.metadata._heif import _layout

    y, x = np.mgrid[0:300, 0:450]
    smooth = np.dstack([(x / 2) % 256, (y / 1.5) % 256, (x + y) % 256, 255 - (x / 2) % 256]).astype(np.uint8)
    pixels = smooth[..., 0] if channels == 1 else smooth[..., :channels].copy()
    monkeypatch.setattr(images, "GRID_PIXELS", 100 * 100)
    monkeypatch.setattr(images, "GRID_TILE", 128)
    data = images.encode_image(pixels, fmt, quality=90)
    lay = _layout(data)
    assert lay.items[lay.primary].type == b"grid" and len(lay.items) >= 13  # 3 x 4 tiles of 128
    im = Image.open(io.BytesIO(data))
    assert im.size == (450, 300)
    out = np.asarray(im.convert({1: "L", 3: "RGB", 4: "RGBA"}[channels])).astype(int)
    assert np.abs(out - pixels).mean() < 4
    assert M.inspect(data).clean
    stripped, report = M.strip_bytes(data)  # and strip takes it apart and puts it together again, losslessly
    assert report.method == "lossless" and report.pixels_identical



@pytest.mark.parametrize("avif", [False, True], ids=["heic", "avif"])
def test_a_grid_whose_header_lies_is_refused_before_decoding(tmp_path, avif):
    """900 tiles of 512 pixels (236 MP) behind a grid that declares 1000x1000: refused, nothing decoded."""
    if not avif:
        _need_heif()
    from minface.errors import DecompressionBombError

    data = H.heic_grid(np.full((512, 512, 3), 90, np.uint8), 30, 30, declared=(1000, 1000), avif=avif)
    with pytest.raises(DecompressionBombError, match="235,929,600 pixels as coded"):
        minface.load_image(data)
    with pytest.raises(DecompressionBombError):
        M.strip_bytes(data)
    src = tmp_path / "lying.heic"
    src.write_bytes(data)
    with pytest.raises(DecompressionBombError):
        minface.scrub(src, tmp_path / "out.heic")
    assert minface.load_image(H.heic_grid(np.full((64, 64, 3), 90, np.uint8), 2, 3, avif=avif)).shape == (128, 192, 3)
