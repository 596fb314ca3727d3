"""Faces in the alpha channel: searched and painted by scrub, checked by verify (minface.planes)."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from conftest import background, matched, paste_faces
from PIL import Image

import minface
from minface import planes
from minface.redact import region_mask, regions
from minface.verify import DETAIL_THRESHOLD, face_detail, verify_file

SCENE = paste_faces(background("flat", 320, 240), [(120, 60, 100)])
GREY = SCENE.image[..., 1].copy()  # the face as a grey image: what the alpha plane holds
PLAIN = np.full((240, 320, 3), 200, np.uint8)


def _rgba(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.dstack([colour, alpha])


def _encode(pixels: np.ndarray, fmt: str, mode: str | None = None, **kw) -> bytes:
    im = Image.fromarray(pixels)
    if mode is not None:
        im = im.convert(mode)
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _palette_with_alpha() -> bytes:
    """A palette PNG whose transparency (tRNS) holds the face: 64 grey levels of alpha, the colours plain."""
    levels = (GREY // 4).astype(np.uint8)
    im = Image.fromarray(levels, "P")
    im.putpalette(bytes([200, 200, 200] * 256))
    im.info["transparency"] = bytes(min(255, 4 * i + 2) for i in range(256))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _heic_alpha() -> bytes | None:
    try:
        import pillow_heif
    except ImportError:
        return None
    pillow_heif.register_heif_opener()
    return _encode(_rgba(PLAIN, GREY), "HEIF", quality=90)


def _apng_alpha() -> bytes:
    frames = [Image.fromarray(_rgba(PLAIN, GREY)), Image.fromarray(_rgba(PLAIN, np.roll(GREY, 1, axis=1)))]
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:], duration=100)
    return buf.getvalue()


KINDS = {
    "rgba.png": lambda: _encode(_rgba(PLAIN, GREY), "PNG"),
    "rgba.webp": lambda: _encode(_rgba(PLAIN, GREY), "WEBP", lossless=True),
    "la.png": lambda: _encode(_rgba(PLAIN[..., :1], GREY), "PNG", mode="LA"),
    "palette.png": _palette_with_alpha,
    "alpha.heic": _heic_alpha,
    "animated.png": _apng_alpha,
}


def _alpha_of(path) -> list[np.ndarray]:
    with Image.open(path) as im:
        out = []
        for k in range(getattr(im, "n_frames", 1)):
            im.seek(k)
            out.append(np.asarray(im.convert("RGBA"))[..., 3].copy())
        return out


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_face_only_in_the_alpha_plane_is_found_painted_and_audited(tmp_path, kind):
    data = KINDS[kind]()
    if data is None:
        pytest.skip("HEIF needs pillow-heif")
    src, dst = tmp_path / kind, tmp_path / f"out-{kind}"
    src.write_bytes(data)
    assert verify_file(src, check_metadata=False).status == "leak"  # verify looks at the alpha too
    result = minface.scrub(src, dst, preset="balanced")
    assert result.status == "ok"
    found = np.array([f["box"] for f in result.faces], np.float32).reshape(-1, 4)
    assert matched(SCENE.faces, found).all(), result.faces
    assert {f.get("plane") for f in result.faces} == {"alpha"}
    for alpha in _alpha_of(dst):  # every frame
        for box in SCENE.faces:
            assert face_detail(alpha, box) < DETAIL_THRESHOLD  # nothing of the face is left in the alpha
    assert verify_file(dst, check_metadata=False).status == "clean"


def test_a_semi_transparent_face_is_painted_in_colour_and_alpha(tmp_path):
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    src.write_bytes(_encode(_rgba(SCENE.image, GREY), "PNG"))
    result = minface.scrub(src, dst, preset="balanced")
    assert len(result.faces) == 1 and "plane" not in result.faces[0]  # one face, found in the colour planes
    out = np.asarray(Image.open(dst))
    for box in SCENE.faces:
        assert face_detail(out[..., :3], box) < DETAIL_THRESHOLD and face_detail(out[..., 3], box) < DETAIL_THRESHOLD


def test_a_face_hidden_under_transparent_pixels_is_painted(tmp_path):
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    src.write_bytes(_encode(_rgba(SCENE.image, np.zeros_like(GREY)), "PNG"))  # invisible, yet in the file
    result = minface.scrub(src, dst, preset="balanced")
    assert matched(SCENE.faces, np.array([f["box"] for f in result.faces]).reshape(-1, 4)).all()
    out = np.asarray(Image.open(dst))
    assert face_detail(out[..., :3], SCENE.faces[0]) < DETAIL_THRESHOLD


@pytest.mark.parametrize("method", ["pixelate", "blur"])
def test_other_methods_reach_the_alpha_plane(tmp_path, method):
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    src.write_bytes(_encode(_rgba(PLAIN, GREY), "PNG"))
    result = minface.scrub(src, dst, preset="balanced", method=method)
    assert [f.get("plane") for f in result.faces] == ["alpha"]
    alpha = np.asarray(Image.open(dst))[..., 3].astype(int)
    mask = region_mask(240, 320, regions(np.array([result.faces[0]["box"]])))
    # the record's box is rounded: a pixel on the region's rim may fall either side
    rim = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert (alpha[~rim] == GREY[~rim]).all() and np.abs(alpha[mask] - GREY[mask]).mean() > 5
    if method == "blur":  # a mosaic often still looks like a face, and verify says so (minface.verify)
        assert verify_file(dst, check_metadata=False).status == "clean"


def test_an_alpha_plane_of_one_value_costs_no_search():
    opaque = _rgba(SCENE.image, np.full_like(GREY, 255))
    assert [name for name, _ in planes.searched_planes(opaque)] == ["colour"]
    assert [name for name, _ in planes.searched_planes(_rgba(PLAIN, GREY))] == ["colour", "alpha"]
    assert [name for name, _ in planes.searched_planes(GREY)] == ["colour"]


def test_the_gpu_batch_path_searches_the_alpha_too(tmp_path):
    src = tmp_path / "in.png"
    src.write_bytes(_encode(_rgba(PLAIN, GREY), "PNG"))
    (rec,) = minface.pipeline.scrub_many([(src, tmp_path / "out.png")], minface.Detector("balanced"))
    assert rec["status"] == "ok" and [f.get("plane") for f in rec["faces"]] == ["alpha"]
    assert verify_file(tmp_path / "out.png", check_metadata=False).status == "clean"
