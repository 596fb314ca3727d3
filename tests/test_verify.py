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
    assert cli_main(["verify", "-q", "-j", "1", str(out), "--scrub-report", str(report)]) == 0
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
    assert cli_main(["verify", "-q", "-j", "1", str(out), "--scrub-report", str(report)]) == 0


def test_a_report_with_relative_names_works_from_another_folder(tmp_path, monkeypatch, capsys):
    """Reports name files as the scrub's command line did; verify run elsewhere still finds the paint."""
    from minface.verify import load_regions

    work = tmp_path / "work"
    (work / "in").mkdir(parents=True)
    Image.fromarray(scene(13, 640, 480).image).save(work / "in" / "a.png")
    monkeypatch.chdir(work)
    argv = ["scrub", "-q", "-j", "1", "--method", "pixelate", "--blocks", "10", "in", "-o", "out", "--report", "scrub.jsonl"]
    assert cli_main(argv) == 0
    rec = json.loads((work / "scrub.jsonl").read_text().splitlines()[0])
    assert rec["output"] == "out/a.png"  # as given
    monkeypatch.chdir(tmp_path)  # the audit runs from another folder
    assert len(load_regions("work/scrub.jsonl")[str(work / "out" / "a.png")]) == 2
    assert cli_main(["verify", "-q", "-j", "1", "work/out", "--report", "work/scrub.jsonl"]) == 0
    assert "not scrubbed" not in capsys.readouterr().err


# -- the review page -----------------------------------------------------------------


def _chromium() -> str:
    """Debian's chromium; a skip (or, with MINFACE_REQUIRE_CHROMIUM=1 as in CI, a failure) without it."""
    import os

    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    message = "headless Chromium is not installed (apt-get install chromium)"
    if os.environ.get("MINFACE_REQUIRE_CHROMIUM") == "1":
        pytest.fail(message + " and MINFACE_REQUIRE_CHROMIUM=1")
    pytest.skip(message)


def test_review_page_ranks_alarms_and_embeds_only_the_outputs(scrubbed, tmp_path):
    _, _, out, report = scrubbed
    audit = tmp_path / "audit"
    shutil.copytree(out, audit)
    (audit / "leaked.jpg").write_bytes(photo_bytes(scene(11).image))
    page, lines = tmp_path / "review.html", tmp_path / "v.jsonl"
    assert cli_main(["verify", "-q", "-j", "1", str(audit), "--scrub-report", str(report), "--json", str(lines), "--html", str(page)]) == 1
    html = page.read_text()
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    leaked = next(r for r in records if r["input"].endswith("leaked.jpg"))
    confidences = [a["confidence"] for a in leaked["intact_faces"]]
    assert confidences == sorted(confidences, reverse=True) and len(confidences) == 2
    assert html.count('class="card"') == 1 and html.count('<rect class="alarm"') == 2  # the one flagged file
    assert "leaked.jpg" in html and "metadata left: " in html
    assert "http://" not in html and "https://" not in html and "<script" not in html  # nothing to fetch, nothing to run
    assert str(report.parent / "in") not in html  # the originals never appear
    assert '<table class="counts">' in html and "--preset thorough --overwrite" in html  # counts per folder, next step
    saved = tmp_path / "review.faces.txt"
    assert saved.read_text().split() == [leaked["input"]] and "review.faces.txt" in html  # the list, ready to paste


def test_review_page_renders_in_headless_chromium(tmp_path):
    """The page, opened in a real browser: the picture is drawn and each alarm is outlined in red."""
    import subprocess

    from minface.review import write_review

    chromium = _chromium()
    s = scene(11, 640, 480)
    Image.fromarray(s.image).save(tmp_path / "out.png")
    box = [float(v) for v in s.faces[0]]
    record = {"input": str(tmp_path / "out.png"), "status": "leak", "metadata": [], "intact_faces": [{"box": box, "score": 0.9, "confidence": 0.9}]}
    other = Image.fromarray(np.full((480, 640, 3), 128, np.uint8))
    other.save(tmp_path / "grey.png")
    second = {"input": str(tmp_path / "grey.png"), "status": "leak", "metadata": [], "intact_faces": [{"box": box, "score": 0.5, "confidence": 0.5}]}
    write_review([second, record], tmp_path / "review.html")
    shot = tmp_path / "shot.png"
    cmd = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--hide-scrollbars", "--window-size=800,900", f"--screenshot={shot}", (tmp_path / "review.html").as_uri(),
    ]  # fmt: skip
    subprocess.run(cmd, capture_output=True, timeout=120)
    assert shot.is_file(), "chromium wrote no screenshot"
    px = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    red = (px[..., 0] > 200) & (px[..., 1] < 60) & (px[..., 2] < 60)
    assert red.sum() > 100  # the outline
    ys, xs = np.nonzero(red)
    left, right = xs < 400, xs >= 400  # the grid: two cards side by side, the most confident one first (left)
    assert left.sum() > 50 and right.sum() > 50 and abs(np.median(ys[left]) - np.median(ys[right])) < 20
    ys, xs = ys[left], xs[left]
    w, h = xs.max() - xs.min(), ys.max() - ys.min()
    # the outline has the face's proportions (the picture is drawn at its own size, 640 px wide)
    assert abs(w / h - (box[2] - box[0]) / (box[3] - box[1])) < 0.25
    picture = px[ys.min() : ys.max(), xs.min() : xs.max()]
    assert picture.std() > 20  # the photo itself is drawn inside, not a blank page


def test_paint_excuses_its_edges_but_not_an_intact_neighbour(tmp_path):
    """With the scrub report: detections on the rim of a painted face are no alarm; the face beside it is."""
    from minface.redact import regions
    from minface.verify import verify_file

    from conftest import background, paste_faces

    s = paste_faces(background("coffee", 640, 480), [(200, 150, 80), (275, 160, 80), (420, 300, 60)])  # two side by side
    faces = np.asarray(s.faces)
    painted_one, other = faces[0], faces[1:]
    out = redact(s.image, painted_one[None], method="fill")
    Image.fromarray(out).save(tmp_path / "half.png")
    regs = regions(painted_one[None].astype(np.float32), pad=0.3)
    res = verify_file(tmp_path / "half.png", regions=regs, check_metadata=False)
    boxes = np.array([a["box"] for a in res.intact_faces], np.float32).reshape(-1, 4)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    for f in other:  # every face left intact is flagged
        assert ((centres >= f[:2]) & (centres <= f[2:])).all(axis=1).any(), (f.tolist(), boxes.tolist())
    # and nothing is flagged on the painted face or its rim
    x1, y1, x2, y2 = regs.boxes[0]
    assert not ((centres[:, 0] > x1) & (centres[:, 0] < x2) & (centres[:, 1] > y1) & (centres[:, 1] < y2)).any()


def test_inputs_the_scrub_left_without_output_are_not_scrubbed(scrubbed, tmp_path, capsys):
    """Failed inputs and unreadable report lines are listed as not scrubbed (summary, JSON lines, page) and exit 1."""
    _, _, out, report = scrubbed
    partial = tmp_path / "scrub.jsonl"
    failed = {"input": "/photos/bad.heic", "output": None, "status": "error", "error": "damaged tile"}
    skipped = {"input": "/photos/notes.txt", "output": None, "status": "skipped", "error": None, "reason": "not an image"}
    gone = {"input": "/photos/gone.jpg", "output": str(tmp_path / "gone.jpg"), "status": "ok", "faces": []}
    partial.write_text(report.read_text() + "".join(json.dumps(r) + "\n" for r in (failed, skipped, gone)) + "[1]\n\xff{")
    lines, page = tmp_path / "v.jsonl", tmp_path / "review.html"
    argv = ["verify", "-q", "-j", "1", str(out), "--report", str(partial), "--json", str(lines), "--html", str(page)]
    assert cli_main(argv) == 1
    err = capsys.readouterr().err
    assert "not scrubbed: /photos/bad.heic: the scrub failed: damaged tile" in err and "notes.txt" not in err
    assert "3 clean" in err and "4 input(s) of the scrub report not scrubbed" in err
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    missing = [r for r in records if r["status"] == "not scrubbed"]
    n = len(report.read_text().splitlines())
    names = [r["input"].rsplit("/", 1)[-1] for r in missing]
    assert names == ["bad.heic", "gone.jpg", f"scrub.jsonl:{n + 4}", f"scrub.jsonl:{n + 5}"]
    assert "bad.heic" in page.read_text() and "Not scrubbed (4)" in page.read_text()
    assert (tmp_path / "review.not-scrubbed.txt").read_text().split()[:2] == ["/photos/bad.heic", "/photos/gone.jpg"]
    assert cli_main(["verify", "-q", "-j", "1", str(out), "--report", str(report)]) == 0  # the full report: all done


def test_max_pixels_limits_what_verify_decodes(scrubbed, tmp_path, capsys):
    """``verify --max-pixels N`` / ``verify_file(max_pixels=)``: scrub's bomb limit, with the hint to lift it."""
    from minface import Faces
    from minface.errors import DecompressionBombError

    _, _, out, report = scrubbed
    one = sorted(out.rglob("*.jpg"))[0]
    nothing = lambda plane: Faces.empty((plane.shape[1], plane.shape[0]))  # noqa: E731 - a search that finds nothing
    with pytest.raises(DecompressionBombError, match="--max-pixels"):
        verify_file(one, detector=nothing, max_pixels=5000)
    assert verify_file(one, detector=nothing, max_pixels=None, check_metadata=False).status == "clean"
    capsys.readouterr()
    assert cli_main(["verify", "-q", "-j", "1", str(out), "--max-pixels", "5000"]) == 1
    err = capsys.readouterr().err
    assert "decompression bomb" in err and "--max-pixels" in err and "3 unreadable" in err
    args = ["verify", "-q", "-j", "1", str(out), "--scrub-report", str(report)]
    assert cli_main(args + ["--max-pixels", "0.1M"]) == 1  # 420x320: refused
    assert "3 unreadable" in capsys.readouterr().err
    assert cli_main(args + ["--max-pixels", "0"]) == 0  # no limit
    assert "3 clean" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli_main(["verify", str(out), "--max-pixels", "lots"])
    assert exc.value.code == 2


def test_review_page_says_which_alarms_are_one_of_a_crowd(tmp_path):
    from minface.review import review_html

    img = tmp_path / "crowd.jpg"
    img.write_bytes(photo_bytes(scene(3).image))
    alarm = {"box": [10, 10, 30, 30], "confidence": 0.2, "detectors": ["centerface"]}
    rec = {"input": str(img), "status": "leak", "intact_faces": [{**alarm, "crowd": True}, {**alarm, "box": [50, 10, 70, 30]}]}
    page = review_html([rec])
    assert page.count("one of a crowd") == 1
