from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image
from test_scrub import make_tree, photo_bytes, scene

from minface import redact
from minface.cli import main as cli_main
from minface.verify import DETAIL_THRESHOLD, PAINTED_SHARE, face_detail, painted_share, verify_file


@pytest.fixture(scope="module")
def scrubbed(tmp_path_factory):
    root = tmp_path_factory.mktemp("verify")
    src, out = root / "in", root / "out"
    make_tree(src, 3)
    report = root / "scrub.jsonl"
    assert cli_main(["scrub", "-q", "-j", "1", str(src), "-o", str(out), "--report", str(report)]) == 0
    return root, src, out, report


def test_clean_outputs_pass(scrubbed, capsys):
    _, _, out, report = scrubbed
    assert cli_main(["verify", "-q", "-j", "1", str(out)]) == 0
    assert cli_main(["verify", "-q", "-j", "1", str(out), "--report", str(report)]) == 0
    assert "3 clean" in capsys.readouterr().err


def test_an_intact_face_and_leftover_metadata_are_reported(scrubbed, tmp_path, capsys):
    _, src, out, _ = scrubbed
    audit = tmp_path / "audit"
    shutil.copytree(out, audit)
    leaked = audit / "leaked.jpg"
    leaked.write_bytes(photo_bytes(scene(11).image))  # never scrubbed: faces and GPS
    lines = tmp_path / "verify.jsonl"
    assert cli_main(["verify", "-q", "-j", "1", str(audit), "--json", str(lines)]) == 1
    text = capsys.readouterr()
    assert "leaked.jpg: intact face at" in text.out and "leaked.jpg: metadata left:" in text.out
    records = {rec["input"].rsplit("/", 1)[-1]: rec for rec in map(json.loads, lines.read_text().splitlines())}
    assert len(records["leaked.jpg"]["intact_faces"]) == 2 and "gps" in records["leaked.jpg"]["metadata"]
    assert sum(not r["intact_faces"] and not r["metadata"] for r in records.values()) == 3


def test_detail_separates_painted_from_intact():
    s = scene(12)
    faces = np.asarray(s.faces)
    intact = [face_detail(s.image, b) for b in faces]
    assert min(intact) > 2 * DETAIL_THRESHOLD
    assert max(painted_share(s.image, b) for b in faces) < PAINTED_SHARE / 2
    for method in ("fill", "blur"):
        out = redact(s.image, faces, method=method, seed=0)
        assert max(face_detail(out, b) for b in faces) < DETAIL_THRESHOLD


def test_mosaic_is_reported_as_still_looking_like_a_face(tmp_path):
    s = scene(13, 640, 480)
    mosaic = redact(s.image, s.faces, method="pixelate", blocks=8, noise=0)
    Image.fromarray(mosaic).save(tmp_path / "m.png")
    res = verify_file(tmp_path / "m.png", check_metadata=False)
    assert res.status == "leak" and res.intact_faces


def test_report_regions_excuse_detections_inside_them(tmp_path, capsys):
    """A mosaic still looks like a face; with the scrub report, verify knows it was painted on purpose."""
    from minface.verify import load_regions

    src, out, report = tmp_path / "in", tmp_path / "out", tmp_path / "scrub.jsonl"
    src.mkdir()
    Image.fromarray(scene(13, 640, 480).image).save(src / "a.png")
    argv = ["scrub", "-q", "-j", "1", "--method", "pixelate", "--blocks", "10", str(src), "-o", str(out), "--report", str(report)]
    assert cli_main(argv) == 0
    assert len(load_regions(report)[str(out / "a.png")]) == 2
    assert cli_main(["verify", "-q", "-j", "1", str(out)]) == 1
    assert cli_main(["verify", "-q", "-j", "1", str(out), "--report", str(report)]) == 0
