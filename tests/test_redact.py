from __future__ import annotations

import numpy as np
import pytest
from conftest import astronaut, background, paste_faces
from PIL import Image

from minface import Faces
from minface.redact import METHODS, Regions, redact, region_mask, regions

BOX = np.array([[30.0, 20.0, 70.0, 80.0]])


def noisy(h=100, w=120, c=3) -> np.ndarray:
    shape = (h, w) if c == 0 else (h, w, c)
    return np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", ["ellipse", "rect"])
def test_exactly_the_region_changes_and_input_is_untouched(method, shape):
    img = noisy()
    before = img.copy()
    out = redact(img, BOX, method=method, shape=shape, seed=0)
    np.testing.assert_array_equal(img, before)
    mask = region_mask(100, 120, regions(BOX, shape=shape))
    changed = (out != img).any(axis=2)
    assert not changed[~mask].any()  # nothing outside the region
    assert changed[mask].mean() > 0.97  # (nearly) every pixel inside: a pixel may keep its value by chance


def test_region_geometry():
    r = regions(BOX, pad=0.3)
    np.testing.assert_allclose(r.boxes, [[18, 2, 82, 98]])
    ell = region_mask(100, 120, r)
    rect = region_mask(100, 120, Regions(r.boxes, "rect"))
    assert rect.sum() == 64 * 96 and ell.sum() < rect.sum()
    assert ell[50, 50] and not ell[3, 19]  # centre in, corner out
    assert abs(ell.sum() - np.pi * 32 * 48) < 0.02 * ell.sum()
    assert regions(Faces(BOX, [1.0]), pad=(0.5, 0.0)).boxes.tolist() == [[10.0, 20.0, 90.0, 80.0]]
    assert region_mask(10, 10, regions(np.array([[-50, -50, -20, -20]]))).sum() == 0


def test_regions_past_the_border_are_clipped_when_painted():
    out = redact(noisy(), np.array([[-20.0, -10.0, 40.0, 50.0]]), pad=0)
    assert (out[0:5, 0:5] == 0).all()


def test_fill_colour_and_grey_and_alpha_images():
    out = redact(noisy(), BOX, color=(10, 200, 30), pad=0)
    assert out[50, 50].tolist() == [10, 200, 30]
    grey = redact(noisy(c=0), BOX, color=(255, 255, 255), pad=0)
    assert grey.shape == (100, 120) and grey[50, 50] == 255
    rgba = noisy(c=4)
    out = redact(rgba, BOX, pad=0)
    assert out[50, 50, :3].tolist() == [0, 0, 0] and out[50, 50, 3] == rgba[50, 50, 3]  # alpha untouched


def test_pil_in_pil_out():
    im = Image.fromarray(noisy())
    out = redact(im, BOX)
    assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == im.size
    assert np.asarray(im)[50, 50].tolist() != [0, 0, 0] and np.asarray(out)[50, 50].tolist() == [0, 0, 0]
    assert redact(im.convert("P"), BOX).mode == "RGB"


def test_pixelate_blocks_are_means_sized_to_the_face():
    img = noisy(200, 200)
    small = np.array([[90.0, 90.0, 110.0, 110.0]])
    big = np.array([[20.0, 20.0, 180.0, 180.0]])
    for box, size in ((small, 20), (big, 160)):
        out = redact(img, box, method="pixelate", shape="rect", pad=0, blocks=4, noise=0)
        x1, y1, x2, y2 = box[0].astype(int)
        patch = out[y1:y2, x1:x2, 0].astype(float)
        block = size // 4
        assert len(np.unique(patch[:block, :block])) == 1  # one value per block
        assert patch[0, 0] == pytest.approx(img[y1 : y1 + block, x1 : x1 + block, 0].mean(), abs=1)


def test_blur_is_sized_to_the_face_and_noised():
    img = noisy(300, 300)
    box = np.array([[50.0, 50.0, 250.0, 250.0]])
    out = redact(img, box, method="blur", shape="rect", pad=0, noise=0).astype(float)
    assert out[60:240, 60:240].std() < 0.1 * img.std()  # a 15 px kernel would leave far more
    a = redact(img, box, method="blur", seed=1).astype(int)
    b = redact(img, box, method="blur", seed=2).astype(int)
    assert (a != b).mean() > 0.5  # noise differs run to run


def test_many_faces_at_once():
    img = noisy(400, 400)
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 380, (150, 2))
    boxes = np.c_[xy, xy + rng.uniform(4, 20, (150, 2))]
    for method in METHODS:
        out = redact(img, boxes, method=method, seed=0)
        mask = region_mask(400, 400, regions(boxes))
        assert not (out != img).any(axis=2)[~mask].any()


@pytest.mark.parametrize("method", ["fill", "blur"])
def test_redacted_face_is_no_longer_found(method):
    # (a mosaic keeps enough structure for the detector to find some faces again: see the module docs)
    from minface import detect

    scene = paste_faces(background("coffee", 640, 480), [(100, 80, 90), (380, 150, 140)])
    faces = detect(scene.image, preset="balanced")
    assert len(faces) == 2
    for seed in range(3):
        assert len(detect(redact(scene.image, faces, method=method, seed=seed), preset="balanced")) == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown method"):
        redact(noisy(), BOX, method="swirl")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown shape"):
        redact(noisy(), BOX, shape="star")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="uint8"):
        redact(noisy().astype(np.float32), BOX)
    with pytest.raises(ValueError, match="blocks"):
        redact(noisy(), BOX, method="pixelate", blocks=1)


def test_no_faces_returns_an_equal_copy():
    img = astronaut()
    out = redact(img, Faces.empty())
    assert out is not img and (out == img).all()
