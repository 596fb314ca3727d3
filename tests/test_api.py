"""The Python API of an app backend: bytes in and bytes out, clear errors, typed options."""

from __future__ import annotations

import dataclasses
import inspect
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import minface
from minface.errors import ImageWriteError, InvalidBoxesError, MinfaceError
from minface.idphoto import SPECS, head_geometry
from minface.jobs import ScrubJob, StripJob
from minface.jobs import strip_batch

README = Path(__file__).resolve().parents[1] / "README.md"


def commented_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(buf, "JPEG", comment=b"Alice's phone")
    return buf.getvalue()


# -- strip: bytes in, bytes out ------------------------------------------------------------


def test_strip_bytes_is_public_and_documented() -> None:
    from minface.metadata import strip_bytes

    assert "strip_bytes" in minface.__all__ and minface.strip_bytes is strip_bytes
    assert "minface.strip_bytes(" in README.read_text(encoding="utf-8")
    clean, report = minface.strip_bytes(commented_jpeg())
    assert minface.inspect(clean).clean and report.removed_kinds == {"comment"}


def test_strip_takes_bytes_and_says_what_to_use_without_a_destination(tmp_path) -> None:
    data = commented_jpeg()
    with pytest.raises(TypeError, match=r"strip_bytes\(data\)"):
        minface.strip(data)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="strip_bytes"):
        minface.strip(data, io.BytesIO())  # type: ignore[arg-type]
    report = minface.strip(data, tmp_path / "clean.jpg")  # the bytes of a file, written to a path
    assert minface.inspect(tmp_path / "clean.jpg").clean and report.pixels_identical
    report = minface.strip(io.BytesIO(data), tmp_path / "from-stream.jpg")
    assert (tmp_path / "from-stream.jpg").read_bytes() == (tmp_path / "clean.jpg").read_bytes()


# -- IdPhoto: to a file object, the dpi header and size limit kept ------------------------


def id_photo(spec: str) -> minface.IdPhoto:
    sp = SPECS[spec]
    noise = np.random.default_rng(0).integers(0, 256, (sp.height_px, sp.width_px, 3), dtype=np.uint8)
    g = head_geometry([[280, 260], [320, 260], [300, 280], [284, 300], [316, 300]])
    return minface.IdPhoto(noise, sp, 0.6, 0.6, 0.0, 300.0, 1.0, (), g, g, (0.0, 0.0, 1.0, 1.0), np.zeros((4, 2)))


def test_id_photo_to_a_file_object_keeps_dpi_and_size_limit(tmp_path) -> None:
    photo = id_photo("us-visa")  # 240 kB at most; noise does not fit at quality 95
    limit, dpi = photo.spec.max_bytes, photo.spec.dpi
    buf = io.BytesIO()
    assert photo.save(buf) is None
    data = buf.getvalue()
    assert data[:2] == b"\xff\xd8" and len(data) <= limit
    assert data[13:18] == b"\x01" + dpi.to_bytes(2, "big") * 2  # JFIF density: dots per inch
    assert photo.to_bytes() == data
    assert Image.open(io.BytesIO(data)).size == (photo.spec.width_px, photo.spec.height_px)
    path = photo.save(tmp_path / "id.jpg")
    assert path == tmp_path / "id.jpg" and path.read_bytes() == data  # the same file both ways
    with open(tmp_path / "opened.jpg", "wb") as fh:
        photo.save(fh)
    assert (tmp_path / "opened.jpg").read_bytes() == data
    sheet = io.BytesIO()
    photo.save_sheet(sheet, "4x6in")
    assert sheet.getvalue()[13:18] == b"\x01" + (300).to_bytes(2, "big") * 2


def test_id_photo_file_object_errors(tmp_path) -> None:
    photo = id_photo("us-visa")
    with open(tmp_path / "text.txt", "w") as fh, pytest.raises(ImageWriteError, match="binary"):
        photo.save(fh)  # type: ignore[arg-type]
    assert (tmp_path / "text.txt").read_bytes() == b""
    if photo.spec.file_format == "JPEG":
        with pytest.raises(ImageWriteError, match="JPEG"):
            photo.to_bytes(format="PNG")
    png = id_photo("icao").to_bytes(format="PNG")
    assert png[:4] == b"\x89PNG"


# -- redact: bad boxes are a clear error ---------------------------------------------------


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        ([[1, 2, 3]], "shape"),
        (np.zeros((2, 2, 4)), "shape"),
        ([1, 2, 3, 4, 5, 6, 7, 8], "shape"),
        ([["a", "b", "c", "d"]], "numbers"),
        ([[0, 0, np.nan, 10]], "finite"),
        ([[30, 30, 10, 10]], r"x2 < x1.*x \+ w"),  # (x, y, w, h) taken for (x1, y1, x2, y2)
        ([[5, 30, 10, 10]], "y2 < y1"),
    ],
)
def test_redact_bad_boxes(boxes, message) -> None:
    img = np.full((40, 40, 3), 200, np.uint8)
    with pytest.raises(InvalidBoxesError, match=message) as exc:
        minface.redact(img, boxes, copy=False)
    assert isinstance(exc.value, MinfaceError) and isinstance(exc.value, ValueError)
    assert (img == 200).all()  # nothing painted
    with pytest.raises(InvalidBoxesError):
        minface.regions(boxes)


def test_redact_good_boxes_still_accepted() -> None:
    img = np.full((40, 40, 3), 200, np.uint8)
    flat = minface.redact(img, [10, 10, 30, 30], pad=0)
    assert (flat == minface.redact(img, np.array([[10, 10, 30, 30]]), pad=0)).all() and flat[20, 20, 0] == 0
    assert (minface.redact(img, []) == img).all() and (minface.redact(img, np.zeros((0, 4))) == img).all()


# -- scrub_batch / strip_batch: options spelled out -----------------------------------------


@pytest.mark.parametrize(("func", "job"), [(minface.scrub_batch, ScrubJob), (strip_batch, StripJob)])
def test_batch_options_are_spelled_out(func, job) -> None:
    params = inspect.signature(func).parameters
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    for f in dataclasses.fields(job):
        assert f.name in params, f.name
        if f.name != "threads":
            assert params[f.name].default == f.default, f.name
        assert params[f.name].annotation != inspect.Parameter.empty
    with pytest.raises(TypeError, match="presett"):
        func([], "out", presett="fast")


def test_detector_docstring_names_every_preset() -> None:
    doc = minface.Detector.__doc__ or ""
    line = next(x for x in doc.splitlines() if x.strip().startswith("preset :"))
    assert all(f'"{name}"' in line for name in minface.PRESETS), line


@pytest.mark.parametrize("option", [{"method": "smudge"}, {"quality": 0}, {"preset": "nope"}])
def test_scrub_batch_refuses_a_bad_option_before_any_file(tmp_path: Path, option: dict) -> None:
    """A bad option is one ValueError up front, not one error record per file; nothing is written."""
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        Image.new("RGB", (32, 32), (i * 40, 90, 90)).save(src / f"p{i}.jpg")
    out = tmp_path / "out"
    report = tmp_path / "r.jsonl"
    with pytest.raises(ValueError):
        minface.scrub_batch([src], out, jobs=1, report=report, **option)
    assert not out.exists() and not report.exists()
