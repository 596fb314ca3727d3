"""Documents in photos: validators, the bundled text models, and scrub(documents=True) on rendered cards."""

from __future__ import annotations

import io
import json
import re
import tracemalloc

import numpy as np
import pytest
from conftest import background
from PIL import Image

import document_samples as ds
import minface
from minface.documents import classify, validators as v
from minface.errors import ModelIntegrityError

pytest.importorskip("onnxruntime")

FILL = (255, 0, 255)
SECRETS = ("id_number", "bank_card", "mrz", "phone", "email")


def test_validators_pass_specimens_and_fail_a_digit_off():
    assert v.is_id_number("11010519491231002X") and not v.is_id_number("11010519491231012X")
    assert v.luhn_valid("4111111111111111") and not v.luhn_valid("4111111111111121")
    assert v.is_card_number("6222 0212 3456 7897")
    assert v.mrz_check_digit("L898902C3") == "6" and v.mrz_check_digit("L898902C4") != "6"
    assert v.is_phone("13812345678") and not v.is_phone("12812345678")
    assert v.is_email("a.b@example.org") and not v.is_email("a.b@example")
    assert classify("OPEN 24 HOURS") is None and classify("4111111111111111")[0] == "bank_card"


def _painted_share(out: np.ndarray, quad: np.ndarray) -> float:
    near = np.abs(out.astype(np.int16) - np.array(FILL, np.int16)).max(axis=2) <= 60
    m = ds.quad_mask(quad, out.shape[1], out.shape[0])
    return float(near[m].mean()) if m.any() else 1.0


def _scrub_sample(sample) -> tuple[np.ndarray, dict]:
    out, result = minface.scrub_bytes(sample.jpeg, documents=True, color=FILL, preset="fast")
    return np.asarray(Image.open(io.BytesIO(out)).convert("RGB")), result.to_record()


def _check_destroyed(sample, pixels: np.ndarray, record: dict) -> None:
    secrets = [f for f in sample.fields if f.kind in SECRETS]
    assert secrets
    for f in secrets:
        assert _painted_share(pixels, f.quad) >= 0.9, (f.kind, _painted_share(pixels, f.quad))
    text = json.dumps(record)
    for f in secrets:
        assert f.secret not in text and re.sub(r"\s", "", f.secret) not in text
    assert {r["kind"] for r in record["regions"]} & set(SECRETS)


@pytest.mark.parametrize("kind", ["id_front", "bank_card"])
def test_a_rendered_card_has_every_number_destroyed_and_no_text_in_the_report(kind):
    ds.require_fonts()
    sample = ds.make_sample(3, seed=11, scene="alone", documents=[kind], augment=False)
    pixels, record = _scrub_sample(sample)
    _check_destroyed(sample, pixels, record)


def test_the_same_card_turned_90_degrees_without_a_tag():
    ds.require_fonts()
    sample = ds.make_sample(3, seed=11, scene="turned", documents=["id_front"], augment=False)
    assert sample.turned % 2 == 1
    pixels, record = _scrub_sample(sample)
    _check_destroyed(sample, pixels, record)


def test_a_photo_without_text_gets_no_text_painted():
    img = background("coffee", 640, 480)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=92)
    _, result = minface.scrub_bytes(buf.getvalue(), documents=True, preset="fast")
    assert result.regions == []
    _, result = minface.scrub_bytes(buf.getvalue(), preset="fast")
    assert result.regions == []


def test_a_tampered_text_model_checksum_is_a_clear_error(monkeypatch):
    from minface.documents import models

    spec = models.TEXT_MODELS["cls"]
    monkeypatch.setitem(models.TEXT_MODELS, "cls", models.TextModel(spec.name, spec.file, "0" * 64, spec.size))
    models.text_model_bytes.cache_clear()
    try:
        with pytest.raises(ModelIntegrityError, match="sha256"):
            models.text_model_bytes("cls")
    finally:
        models.text_model_bytes.cache_clear()


def test_text_search_memory_is_bounded_on_a_12000_pixel_photo():
    from minface.documents import find_text

    rgb = np.full((12000, 12000, 3), 200, np.uint8)
    rgb[5000:5200, 2000:9000] = 20  # a dark bar: a line-shaped region to cut out and read
    find_text(np.full((64, 64, 3), 255, np.uint8))  # models loaded outside the measurement
    tracemalloc.start()
    try:
        find_text(rgb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 120 * 2**20, peak  # the photo is 412 MiB: the search works on a scaled copy and crops


def test_verify_documents_reports_a_readable_number_left_and_exits_1(tmp_path):
    ds.require_fonts()
    from minface.cli import main

    sample = ds.make_sample(3, seed=11, scene="alone", documents=["bank_card"], augment=False)
    (tmp_path / "card.jpg").write_bytes(sample.jpeg)
    report = tmp_path / "v.jsonl"
    assert main(["verify", str(tmp_path / "card.jpg"), "--documents", "--no-metadata", "--preset", "fast", "-q", "-j", "1", "--json", str(report)]) == 1
    rec = json.loads(report.read_text().splitlines()[0])
    assert rec["documents"] and rec["documents"][0]["kind"] == "bank_card"
    assert all(f.secret.replace(" ", "") not in report.read_text() for f in sample.fields if f.kind == "bank_card")


def test_inspect_documents_says_a_photo_shows_a_document(tmp_path, capsys):
    ds.require_fonts()
    from minface.cli import main

    sample = ds.make_sample(3, seed=11, scene="alone", documents=["bank_card"], augment=False)
    (tmp_path / "card.jpg").write_bytes(sample.jpeg)
    assert main(["inspect", "--json", "--documents", str(tmp_path / "card.jpg")]) == 0
    rec = json.loads(capsys.readouterr().out.splitlines()[0])
    assert rec["documents"]["documents"] >= 1 and rec["documents"]["kinds"].get("bank_card")


def test_video_frames_have_the_card_number_destroyed(tmp_path):
    ds.require_fonts()
    av = pytest.importorskip("av")
    from minface.video import scrub_video

    doc = ds.render_document("bank_card", np.random.default_rng(5), width=520)
    h, w = doc.image.shape[:2]
    frame = np.full((h + 80, w + 80, 3), 90, np.uint8)
    frame[40 : 40 + h, 40 : 40 + w] = doc.image
    src, dst = tmp_path / "card.mp4", tmp_path / "out.mp4"
    with av.open(str(src), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=10)
        vs.width, vs.height, vs.pix_fmt = frame.shape[1] // 2 * 2, frame.shape[0] // 2 * 2, "yuv420p"
        vs.options = {"crf": "12"}
        for i in range(7):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[: vs.height, : vs.width]), format="rgb24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
    result = scrub_video(src, dst, documents=True, color=FILL, preset="fast")
    assert result.documents.get("bank_card") and result.documents["frames_searched"] < 7
    numbers = [f for f in doc.fields if f.kind == "bank_card"]
    with av.open(str(dst)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 7
    for pixels in frames:
        for f in numbers:
            assert _painted_share(pixels, f.quad + 40) >= 0.9


def _write_clip(path, frames) -> None:
    import av

    with av.open(str(path), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=10)
        vs.height, vs.width = frames[0].shape[0] // 2 * 2, frames[0].shape[1] // 2 * 2
        vs.pix_fmt, vs.options = "yuv420p", {"crf": "12"}
        for i, frame in enumerate(frames):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[: vs.height, : vs.width]), format="rgb24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)


def test_a_card_moving_between_searched_frames_leaks_no_number(tmp_path):
    """Frames between two text searches are painted where the lines moved to, not only where they were."""
    ds.require_fonts()
    pytest.importorskip("av")
    from minface.video import scrub_video

    doc = ds.render_document("bank_card", np.random.default_rng(5), width=520)
    h, w = doc.image.shape[:2]
    numbers = [f for f in doc.fields if f.kind == "bank_card"]
    step = 0.8 * max(f.height() for f in numbers)  # per frame: a line moves past its own paint between searches
    frames, offsets = [], []
    for i in range(11):
        dy = int(round(20 + i * step))
        frame = np.full((h + 40 + int(11 * step) + 20, w + 80, 3), 90, np.uint8)
        frame[dy : dy + h, 40 : 40 + w] = doc.image
        frames.append(frame)
        offsets.append(np.array([40, dy], np.float32))
    src, dst = tmp_path / "moving.mp4", tmp_path / "out.mp4"
    _write_clip(src, frames)
    result = scrub_video(src, dst, documents=True, color=FILL, preset="fast", text_every=5)
    assert result.documents["frames_searched"] == 3
    import av

    with av.open(str(dst)) as c:
        out = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(out) == len(frames)
    for i, pixels in enumerate(out):
        for f in numbers:
            assert _painted_share(pixels, f.quad + offsets[i]) >= 0.9, (i, _painted_share(pixels, f.quad + offsets[i]))


def _tilted(kind: str, angle: float, seed: int = 2):
    """A document turned by ``angle`` degrees on a plain photo: JPEG bytes and its fields in the photo's pixels."""
    import cv2

    doc = ds.render_document(kind, np.random.default_rng(seed), width=900)
    w, h = doc.size
    side = int(1.25 * np.hypot(w, h))
    rot = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), [0, 0, 1]])
    hom = np.array([[1, 0, side / 2 - w / 2], [0, 1, side / 2 - h / 2], [0, 0, 1]], np.float64) @ rot
    canvas = np.full((side, side, 3), 120, np.uint8)
    warped = ds.warp(doc.image, hom, (side, side), border=(120, 120, 120))
    inside = ds.warp(np.full(doc.image.shape[:2], 255, np.uint8), hom, (side, side)) > 127
    canvas[inside] = warped[inside]
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, "JPEG", quality=90)
    return buf.getvalue(), [f.mapped(hom) for f in doc.fields]


def test_a_form_held_at_40_degrees_has_every_phone_and_email_destroyed():
    """The detector breaks lines at such angles into pieces: the region is searched again turned level."""
    ds.require_fonts()
    jpeg, fields = _tilted("form", 40.0)
    out, result = minface.scrub_bytes(jpeg, documents=True, color=FILL, preset="fast")
    pixels = np.asarray(Image.open(io.BytesIO(out)).convert("RGB"))
    secrets = [f for f in fields if f.kind in ("phone", "email")]
    assert len(secrets) >= 2
    for f in secrets:
        assert _painted_share(pixels, f.quad) >= 0.9, (f.kind, _painted_share(pixels, f.quad))


def test_an_mrz_block_cut_at_its_filler_is_painted_to_its_full_length(monkeypatch):
    """The detector often stops an MRZ line where its ``<`` filler starts: the block's rows are stretched to the format's length."""
    ds.require_fonts()
    from minface.documents.finder import TextFinder, shared_finder

    jpeg, fields = _tilted("passport", 8.0, seed=4)
    lines = [f for f in fields if f.kind == "mrz"]
    assert len(lines) == 2
    cut = []
    for f in lines:  # each line as a detector can leave it: its first 45%, grown as the detector grows its quads
        q = f.quad.astype(np.float64)
        end, down = q[0] + 0.45 * (q[1] - q[0]), q[3] + 0.45 * (q[2] - q[3])
        cut.append(ds.grow_quad(np.array([q[0], end, down, q[3]], np.float32), 0.2 * f.height()))
    monkeypatch.setattr(TextFinder, "detect", lambda self, rgb, side=None: (np.stack(cut).astype(np.float32), np.ones(len(cut), np.float32)))
    pixels = np.array(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    found = shared_finder().find(pixels)
    assert {r.kind for r in found.regions} <= {"mrz", "document"} and "mrz" in {r.kind for r in found.regions}
    found.regions = [r for r in found.regions if r.kind == "mrz"]  # the lines alone, not the page painted with them
    from minface.documents.paint import paint_text

    paint_text(pixels, found, color=FILL)
    for f in lines:
        assert _painted_share(pixels, f.quad) >= 0.9, _painted_share(pixels, f.quad)


def test_a_card_whose_face_the_detector_cannot_find_has_its_portrait_painted():
    """A proved card is painted to its own edges: its photo goes even when no face is found on it."""
    ds.require_fonts()
    jpeg, fields = _tilted("id_front", 12.0, seed=5)
    blind = lambda rgb: minface.Faces.empty((rgb.shape[1], rgb.shape[0]))  # noqa: E731 - finds no face
    out, result = minface.scrub_bytes(jpeg, documents=True, color=FILL, detector=blind)
    pixels = np.asarray(Image.open(io.BytesIO(out)).convert("RGB"))
    portraits = [f for f in fields if f.kind == "document_portrait"]
    assert portraits and not result.faces
    for f in portraits:
        assert _painted_share(pixels, f.face) >= 0.9
    assert "document" in {r["kind"] for r in result.to_record()["regions"]}


def test_a_card_outline_follows_the_card_edges_not_the_lines():
    """On a light card on a darker table the outline is the card's (lines in its left half), within a few pixels."""
    from minface.documents.card import card_outline

    img = np.full((600, 800, 3), 90, np.uint8)
    img[100:420, 150:658] = 225  # an ID-1 card, 508 x 320 px
    quads = np.array([[[170 + 0, y], [170 + 260, y], [170 + 260, y + 20], [170, y + 20]] for y in (130, 180, 230, 370)], np.float32)
    out, edges = card_outline(img, quads, np.full(4, 20.0))
    assert edges == 4
    x0, y0 = out.min(0)
    x1, y1 = out.max(0)
    assert 130 <= x0 <= 150 and 80 <= y0 <= 100 and 658 <= x1 <= 680 and 420 <= y1 <= 442, out
    # a large print nearby at the same angle (a shirt's letters) is not the card's
    shirt = np.array([[[420, 470], [760, 470], [760, 560], [420, 560]]], np.float32)
    out, _ = card_outline(img, np.concatenate([quads, shirt]), np.concatenate([np.full(4, 20.0), [90.0]]))
    assert out.max(0)[1] <= 442 and out.max(0)[0] <= 680, out
    # no edge around the lines (a card as plain as its table): the outline keeps close to the lines
    plain = np.full((600, 800, 3), 225, np.uint8)
    out, edges = card_outline(plain, quads, np.full(4, 20.0))
    assert edges == 0 and out.min(0)[0] >= 120 and out.max(0)[0] <= 480 and out.max(0)[1] <= 440, out
