"""The audit's second network (BlazeFace) and its per-candidate painted-over rule."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import background, matched, paste_faces

from minface.audit_search import CROWD, CROWD_COUNT, LAX, STRICT, AuditSearch, join
from minface.detect.blazeface import MODEL_FILE, MODEL_SHA256, BlazeFace, tiles
from minface.errors import ModelIntegrityError
from minface.faces import Faces
from minface.verify import audit_faces


@pytest.fixture(scope="module")
def blazeface() -> BlazeFace:
    return BlazeFace(threads=1)


def test_blazeface_finds_faces_from_small_to_large(blazeface):
    s = paste_faces(background("coffee", 640, 480), [(40, 40, 20), (150, 60, 32), (300, 150, 120)])
    found = blazeface(s.image)
    assert matched(np.asarray(s.faces), found.xyxy, 0.3).all(), found.xyxy.tolist()
    assert found.landmarks is not None and found.landmarks.shape == (len(found), 5, 2)
    assert len(blazeface(np.zeros((480, 640, 3), np.uint8))) == 0  # nothing in a blank frame


def test_tiles_reach_the_smallest_face_and_cover_the_image():
    for h, w in ((768, 1024), (4000, 3000), (50, 2000)):
        t = tiles(h, w, 10)
        assert min(s for _, _, s in t) <= 10 / 0.045 + 1  # a 10 px face is 4.5% of the smallest tile
        assert max(s for _, _, s in t) == max(h, w)  # and the largest face fits the last one
        cover = np.zeros((h, w), bool)
        for x, y, s in t[: sum(1 for *_, s in t if s == t[0][2])]:
            cover[y : y + s, x : x + s] = True
        assert cover.all()  # the finest level alone covers every pixel


def test_a_tampered_model_is_refused(monkeypatch):
    from minface.detect import runtimes

    real = runtimes.bundled_model

    def tampered(file: str, sha256: str) -> bytes:
        assert (file, sha256) == (MODEL_FILE, MODEL_SHA256)
        return real("centerface-int8.onnx", sha256)  # another file under this name: its checksum differs

    import importlib

    monkeypatch.setattr(importlib.import_module("minface.detect.blazeface"), "bundled_model", tampered)
    with pytest.raises(ModelIntegrityError):
        BlazeFace()


def test_join_keeps_agreement_and_strong_lone_candidates():
    cf = Faces([[0, 0, 20, 20], [50, 50, 70, 70], [100, 100, 120, 120]], [0.25, 0.6, 0.1])
    bf = Faces([[1, 1, 21, 21], [200, 200, 230, 230], [300, 300, 330, 330]], [0.4, 0.95, 0.5])
    got = {tuple(c["detectors"]): c for c in join(cf, bf)}
    assert set(got) == {("centerface", "blazeface"), ("centerface",), ("blazeface",)}
    assert got[("blazeface",)]["confidence"] == pytest.approx(0.95)  # the weak lone ones are gone
    assert STRICT.passes({"centerface": 0.45, "blazeface": 0.65}) and not STRICT.passes({"centerface": 0.45})
    assert LAX.passes({"centerface": 0.45}) and not STRICT.passes({"centerface": 0.45, "blazeface": 0.65}, 0.2)


def test_a_half_painted_face_with_both_eyes_showing_is_an_alarm():
    s = paste_faces(background("coffee", 320, 240), [(100, 60, 100)])
    box = np.asarray(s.faces[0], np.float64)
    x1, y1, x2, y2 = box.astype(int)
    cand = [{"box": box, "confidence": 0.9, "scores": {"centerface": 0.9}, "detectors": ["centerface"], "landmarks": None}]
    lower = np.zeros(s.image.shape[:2], bool)
    lower[(y1 + y2) // 2 + 5 : y2, x1:x2] = True  # the lower half painted (a neighbour's paint): the eyes show
    painted = s.image.copy()
    painted[lower] = 0
    alarms, redacted = audit_faces(painted, cand, lower)
    assert len(alarms) == 1 and redacted == 0 and 0.3 < alarms[0]["painted"] < 0.6
    upper = np.zeros(s.image.shape[:2], bool)
    upper[y1 : (y1 + y2) // 2 + 10, x1:x2] = True  # the eyes painted: redacted
    covered = s.image.copy()
    covered[upper] = 0
    assert audit_faces(covered, cand, upper) == ([], 1)


def test_agreement_adds_up_where_nothing_was_painted():
    """Both networks on one face: a confident BlazeFace makes up for a low CenterFace, in an unpainted file only."""
    seen = {"centerface": 0.19, "blazeface": 0.56}  # a face in profile, wider-dev's never-scrubbed swimmer
    assert LAX.passes(seen) and not STRICT.passes(seen)
    assert not LAX.passes({"centerface": 0.19, "blazeface": 0.4})  # not enough together
    assert not LAX.passes({"centerface": 0.05, "blazeface": 0.66})  # below what CenterFace reports at all
    assert not LAX.passes(seen, 0.2)  # beside paint, raised as the other bars are


def _crowd(n: int, scores: dict) -> tuple[np.ndarray, list[dict]]:
    img = np.random.default_rng(0).integers(0, 255, (200, 400, 3), dtype=np.uint8)  # texture: no flat paint
    cands = [
        {"box": np.array([10 + 40 * i, 50, 40 + 40 * i, 86], np.float64), "confidence": max(scores.values()),
         "scores": dict(scores), "detectors": list(scores), "landmarks": None}
        for i in range(n)
    ]
    return img, cands


def test_a_crowd_of_low_scored_faces_in_an_unpainted_file_is_not_clean():
    scores = {"centerface": 0.17, "blazeface": 0.36}  # below every per-candidate bar, above the crowd's
    assert not LAX.passes(scores) and CROWD.passes(scores)
    img, cands = _crowd(CROWD_COUNT, scores)
    alarms, _ = audit_faces(img, cands, None, reported=False)
    assert len(alarms) == CROWD_COUNT and all(a["crowd"] for a in alarms)
    assert audit_faces(img, cands[:-1], None, reported=False) == ([], 0)  # one fewer: no crowd
    painted = np.zeros(img.shape[:2], bool)
    painted[150:190, 10:60] = True  # the report says something was painted here: strict bars, no crowd rule
    assert audit_faces(img, cands, painted)[0] == []
    weak, weak_cands = _crowd(2 * CROWD_COUNT, {"centerface": 0.13, "blazeface": 0.31})
    assert audit_faces(weak, weak_cands, None, reported=False)[0] == []  # many, but each too weak


def test_the_audit_search_sees_what_both_networks_see():
    s = paste_faces(background("rocket", 480, 360), [(60, 60, 40), (250, 120, 90)])
    cands = AuditSearch(threads=1)(s.image)
    boxes = np.array([c["box"] for c in cands], np.float32).reshape(-1, 4)
    assert matched(np.asarray(s.faces), boxes, 0.3).all()
    both = [c for c in cands if c["detectors"] == ["centerface", "blazeface"]]
    assert len(both) >= 2 and all(set(c["scores"]) == {"centerface", "blazeface"} for c in both)
