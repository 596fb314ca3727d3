from __future__ import annotations

import numpy as np
import pytest

from minface import Faces


def sample() -> Faces:
    return Faces(
        [[10, 20, 50, 70], [0, 0, 8, 8], [90, 60, 110, 80]],
        [0.9, 0.4, 0.7],
        np.arange(30, dtype=float).reshape(3, 5, 2),
        image_size=(100, 80),
        detector="test",
    )


def test_arrays_are_typed_copied_and_read_only():
    src = np.array([[1, 2, 3, 4]], np.float64)
    f = Faces(src, [0.5])
    assert f.xyxy.dtype == np.float32 and f.scores.dtype == np.float32
    src[0, 0] = 99
    assert f.xyxy[0, 0] == 1
    with pytest.raises(ValueError):
        f.xyxy[0, 0] = 5
    with pytest.raises(AttributeError):
        f.xyxy = np.zeros((0, 4))  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"xyxy": [[1, 2, 3]], "scores": [0.1]}, r"shape \(n, 4\)"),
        ({"xyxy": [[1, 2, 3, 4]], "scores": [0.1, 0.2]}, "1 boxes but 2 scores"),
        ({"xyxy": [[5, 2, 3, 4]], "scores": [0.1]}, "x2 >= x1"),
        ({"xyxy": [[1, 2, 3, np.nan]], "scores": [0.1]}, "NaN"),
        ({"xyxy": [[1, 2, 3, 4]], "scores": [0.1], "landmarks": np.zeros((1, 4, 2))}, r"\(n, 5, 2\)"),
        ({"xyxy": [[1, 2, 3, 4]], "scores": [0.1], "landmarks": np.zeros((2, 5, 2))}, "landmark sets"),
        ({"xyxy": [[1, 2, 3, 4]], "scores": [0.1], "image_size": (0, 5)}, "positive"),
    ],
)
def test_validation(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        Faces(**kwargs)


def test_empty_is_valid():
    for f in (Faces.empty((10, 10)), Faces([], []), Faces(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)))):
        assert len(f) == 0 and f.xyxy.shape == (0, 4) and f.sizes.shape == (0,)
        assert len(f.pad(0.3)) == 0 and f.to_list() == []


def test_indexing_returns_new_faces():
    f = sample()
    one = f[1]
    assert isinstance(one, Faces) and len(one) == 1 and one.scores[0] == pytest.approx(0.4)
    assert one.image_size == (100, 80) and one.detector == "test" and one.landmarks.shape == (1, 5, 2)
    assert len(f[-1]) == 1 and f[-1].scores[0] == pytest.approx(0.7)
    assert f[f.scores > 0.5].scores.tolist() == pytest.approx([0.9, 0.7])
    assert f[[2, 0]].scores.tolist() == pytest.approx([0.7, 0.9])
    assert len(f[1:]) == 2
    with pytest.raises(IndexError):
        f[3]
    with pytest.raises(IndexError):
        f[np.array([True, False])]


def test_geometry_helpers():
    f = sample()
    assert f.widths.tolist() == [40, 8, 20] and f.heights.tolist() == [50, 8, 20]
    assert f.sizes.tolist() == [50, 8, 20]
    assert f.centers[0].tolist() == [30, 45]
    s = f.scale(2.0)
    assert s.xyxy[0].tolist() == [20, 40, 100, 140] and s.image_size == (200, 160)
    assert s.landmarks[0, 0].tolist() == [0, 2]
    p = f.pad(0.5)
    assert p.xyxy[0].tolist() == [-10, -5, 70, 95]
    assert f.pad((0.5, 0.0)).xyxy[0].tolist() == [-10, 20, 70, 70]
    assert f.pad(pixels=2).xyxy[1].tolist() == [-2, -2, 10, 10]
    assert f.pad(-0.9).xyxy[1].tolist() == [4, 4, 4, 4]  # shrinks to the centre, not past it
    c = p.clip()
    assert c.xyxy[0].tolist() == [0, 0, 70, 80]
    assert (f.xyxy == sample().xyxy).all()  # helpers never modify the original


def test_clip_needs_a_size():
    with pytest.raises(ValueError, match="image_size"):
        Faces([[0, 0, 1, 1]], [1.0]).clip()


def test_concat_and_records():
    f = sample()
    both = Faces.concat([f[:1], f[1:]])
    assert (both.xyxy == f.xyxy).all() and both.image_size == f.image_size
    rec = f.to_list()[0]
    assert rec["box"] == [10.0, 20.0, 50.0, 70.0] and rec["score"] == pytest.approx(0.9)
    assert len(rec["landmarks"]) == 5
    with pytest.raises(ValueError, match="different image sizes"):
        Faces.concat([f, Faces.empty((5, 5))])
    assert "n=3" in repr(f)
