from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import STORE_FOR_ORIENTATION, background, jpeg_bytes, matched, paste_faces
from PIL import Image

import minface
from minface import detect, inspect, scrub
from minface.cli import main as cli_main
from minface.errors import MinfaceError
from minface.pipeline import OutputExistsError
from minface.redact import Regions, region_mask, regions

BACKGROUNDS = ["coffee", "rocket", "chelsea", "grass", "brick"]


def scene(i: int = 0, w: int = 420, h: int = 320):
    rng = np.random.default_rng(i)
    x1, y1 = int(rng.integers(10, 120)), int(rng.integers(10, 60))
    x2, y2 = int(rng.integers(230, 300)), int(rng.integers(120, 160))
    return paste_faces(background(BACKGROUNDS[i % len(BACKGROUNDS)], w, h), [(x1, y1, 70), (x2, y2, 100)])


def photo_bytes(pixels: np.ndarray, fmt: str = "JPEG", **kw) -> bytes:
    """A file carrying EXIF with GPS, an artist, a comment: what a phone app would keep."""
    im = Image.fromarray(pixels)
    exif = Image.Exif()
    exif[0x013B] = "Jane Doe"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    buf = io.BytesIO()
    if fmt == "JPEG":
        kw.setdefault("comment", b"customer 4711")
    im.save(buf, fmt, exif=exif.tobytes(), **kw)
    return buf.getvalue()


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def assert_scrubbed(path: Path, truth: np.ndarray) -> None:
    """Decodes, carries no metadata, and no true face still looks like a face.

    The detector may still fire weakly on a painted blob (a dark ellipse under hair is
    head-shaped); what matters is that nothing with a face's detail is found where a face was,
    the same test `minface verify` applies.
    """
    from minface.verify import DETAIL_THRESHOLD, face_detail

    img = minface.load_image(path)
    assert inspect(path).clean, inspect(path).to_text()
    found = detect(img, preset="balanced")
    looks_intact = np.array([face_detail(img, b) >= DETAIL_THRESHOLD for b in found.xyxy], bool)
    still = found[looks_intact]
    assert not matched(truth, still.xyxy, min_iou=0.3).any(), f"{path}: faces still found at {still.xyxy.tolist()}"
    for box in truth:  # and the face itself is painted over
        assert face_detail(img, box) < DETAIL_THRESHOLD


class TestOneFile:
    def test_faces_destroyed_metadata_gone_report_exact(self, tmp_path):
        s = scene(1)
        src = tmp_path / "in.jpg"
        src.write_bytes(photo_bytes(s.image, quality=92))
        before = sha(src)
        dst = tmp_path / "out.jpg"
        result = scrub(src, dst)
        assert sha(src) == before
        assert result.status == "ok" and result.output == str(dst) and result.format == "JPEG"
        assert (result.width, result.height) == (420, 320) and len(result.faces) == 2
        assert_scrubbed(dst, s.faces)
        # the report's regions are exactly what was painted: inside them the fill colour, outside the photo
        out = np.asarray(Image.open(dst)).astype(int)
        boxes = np.array([f["region"]["box"] for f in result.faces])
        mask = region_mask(320, 420, Regions(boxes, "ellipse"))
        np.testing.assert_allclose(boxes, regions(np.array([f["box"] for f in result.faces])).boxes, atol=0.02)
        inner = mask & ~np.pad(~mask, 3, constant_values=True)[3:-3, 3:-3]  # away from JPEG ringing at edges
        assert out[inner].mean() < 6
        assert np.abs(out[~mask] - s.image[~mask]).mean() < 6
        rec = result.to_record()
        assert set(rec) >= {"input", "output", "status", "error", "width", "height", "faces", "seconds"}
        face = rec["faces"][0]
        assert set(face) == {"box", "score", "region"} and face["region"]["shape"] == "ellipse"

    @pytest.mark.parametrize("orientation", [6, 8, 3])
    def test_rotated_phone_photo_comes_out_upright(self, tmp_path, orientation):
        s = scene(2)
        stored = np.ascontiguousarray(STORE_FOR_ORIENTATION[orientation](s.image))
        src = tmp_path / "in.jpg"
        src.write_bytes(jpeg_bytes(stored, orientation=orientation))
        result = scrub(src, tmp_path / "out.jpg")
        out = Image.open(tmp_path / "out.jpg")
        assert out.size == (420, 320) and 0x0112 not in out.getexif()
        assert (result.width, result.height) == (420, 320)
        assert matched(s.faces, np.array([f["box"] for f in result.faces]), min_iou=0.5).all()
        assert_scrubbed(tmp_path / "out.jpg", s.faces)

    @pytest.mark.parametrize(
        "fmt, ext, kw",
        [("PNG", "png", {}), ("WEBP", "webp", {"quality": 90}), ("WEBP", "webp", {"lossless": True}), ("TIFF", "tif", {})],
    )
    def test_formats(self, tmp_path, fmt, ext, kw):
        s = scene(3)
        src = tmp_path / f"in.{ext}"
        src.write_bytes(photo_bytes(s.image, fmt, **kw))
        dst = tmp_path / f"out.{ext}"
        result = scrub(src, dst)
        assert Image.open(dst).format == fmt and result.format == fmt
        assert_scrubbed(dst, s.faces)
        if fmt == "WEBP":
            lossless = b"VP8L" in dst.read_bytes()[:64]
            assert lossless == bool(kw.get("lossless"))

    def test_alpha_is_kept_and_grey_stays_grey(self, tmp_path):
        s = scene(4)
        rgba = np.dstack([s.image, np.full(s.image.shape[:2], 200, np.uint8)])
        Image.fromarray(rgba).save(tmp_path / "a.png")
        scrub(tmp_path / "a.png", tmp_path / "a_out.png")
        out = Image.open(tmp_path / "a_out.png")
        assert out.mode == "RGBA" and np.asarray(out)[:, :, 3].min() == 200
        grey = np.asarray(Image.fromarray(s.image).convert("L"))
        Image.fromarray(grey).save(tmp_path / "g.jpg", quality=95)
        scrub(tmp_path / "g.jpg", tmp_path / "g_out.jpg")
        assert Image.open(tmp_path / "g_out.jpg").mode == "L"

    def test_animated_gif_every_frame(self, tmp_path):
        frames = [scene(i).image for i in range(3)]
        ims = [Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE) for f in frames]
        ims[0].save(tmp_path / "a.gif", save_all=True, append_images=ims[1:], duration=[100, 200, 300], loop=0, comment=b"x")
        result = scrub(tmp_path / "a.gif", tmp_path / "out.gif")
        out = Image.open(tmp_path / "out.gif")
        assert out.n_frames == 3 and result.frames == 3
        assert sorted({f["frame"] for f in result.faces}) == [0, 1, 2]
        durations = []
        for i in range(3):
            out.seek(i)
            durations.append(out.info.get("duration"))
            found = detect(np.asarray(out.convert("RGB")), preset="balanced")
            assert not matched(scene(i).faces, found.xyxy, min_iou=0.3).any()
        assert durations == [100, 200, 300]
        assert inspect(tmp_path / "out.gif").clean

    def test_failures_write_nothing(self, tmp_path):
        bad = tmp_path / "bad.jpg"
        bad.write_bytes(jpeg_bytes(scene(0).image)[:3000])
        with pytest.raises(MinfaceError, match="truncated JPEG|cannot decode"):
            scrub(bad, tmp_path / "out.jpg")
        assert list(tmp_path.iterdir()) == [bad]
        good = tmp_path / "good.jpg"
        good.write_bytes(jpeg_bytes(scene(0).image))
        (tmp_path / "taken.jpg").write_bytes(b"keep me")
        with pytest.raises(OutputExistsError):
            scrub(good, tmp_path / "taken.jpg")
        assert (tmp_path / "taken.jpg").read_bytes() == b"keep me"
        with pytest.raises(OutputExistsError, match="in_place"):
            scrub(good, good)
        before = sha(good)
        scrub(good, good, in_place=True)
        assert sha(good) != before and inspect(good).clean

    def test_methods_and_options(self, tmp_path):
        s = scene(5)
        src = tmp_path / "in.png"
        Image.fromarray(s.image).save(src)
        for method in ("blur", "pixelate"):
            r = scrub(src, tmp_path / f"{method}.png", method=method, shape="rect", pad=0.4)
            assert r.faces[0]["region"]["shape"] == "rect"
        r = scrub(src, tmp_path / "white.png", color=(255, 255, 255), pad=0.0)
        x1, y1, x2, y2 = (int(v) for v in r.faces[0]["box"])
        assert (np.asarray(Image.open(tmp_path / "white.png"))[(y1 + y2) // 2, (x1 + x2) // 2] == 255).all()


# -- many files ----------------------------------------------------------------------


def make_tree(root: Path, n: int = 6) -> dict[str, np.ndarray]:
    """n photos in nested folders; returns relative path -> true face boxes."""
    truth = {}
    for i in range(n):
        rel = Path(f"day{i % 3}") / (f"sub{i % 2}" if i % 2 else "") / f"img{i}.jpg"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        s = scene(i)
        (root / rel).write_bytes(photo_bytes(s.image))
        truth[rel.as_posix()] = s.faces
    return truth


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minface", *args], capture_output=True, text=True, timeout=timeout)


def no_temporaries(root: Path) -> bool:
    return not [p for p in root.rglob("*") if p.name.endswith((".tmp", ".minface-tmp"))]


class TestBatch:
    def test_mixed_folder_bad_files_reported_good_ones_done(self, tmp_path):
        src = tmp_path / "in"
        truth = make_tree(src, 3)
        (src / "corrupt.jpg").write_bytes(jpeg_bytes(scene(7).image)[:2500])
        (src / "empty.png").write_bytes(b"")
        (src / "notes.txt").write_text("meeting notes, not a photo")
        (src / "day0" / "deep" / "deeper").mkdir(parents=True)
        (src / "day0" / "deep" / "deeper" / "bomb.png").write_bytes(_bomb_png())
        hashes = {p: sha(p) for p in src.rglob("*") if p.is_file()}
        report = tmp_path / "report.jsonl"
        out = tmp_path / "out"
        assert cli_main(["scrub", "-q", "--preset", "fast", "-j", "2", str(src), "-o", str(out), "--report", str(report)]) == 1
        records = {Path(r["input"]).name: r for r in map(json.loads, report.read_text().splitlines())}
        assert len(records) == 7
        reasons = {name: records[name]["error"] for name in ("corrupt.jpg", "bomb.png")}
        assert all(records[n]["status"] == "error" and records[n]["output"] is None for n in reasons)
        assert "truncated JPEG" in reasons["corrupt.jpg"]
        assert "decompression bomb" in reasons["bomb.png"] or "max_pixels" in reasons["bomb.png"]
        # a zero-byte photo is a lost upload: an error, by the rule for every file named like a photo
        assert records["empty.png"]["status"] == "error" and records["empty.png"]["output"] is None
        assert "named like a photo (.png), content is not one" in records["empty.png"]["error"]
        # what is not a photo is skipped, never an error, never copied
        assert records["notes.txt"]["status"] == "skipped" and records["notes.txt"]["output"] is None
        assert records["notes.txt"]["reason"] == "not an image"
        made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
        assert made == sorted(truth)
        for rel, faces in truth.items():
            assert_scrubbed(out / rel, faces)
            assert records[Path(rel).name]["status"] == "ok"
        assert all(sha(p) == h for p, h in hashes.items())  # originals untouched
        assert no_temporaries(out)

    def test_batched_files_same_outputs_and_records(self, tmp_path):
        """The GPU path (files detected in batches, decoded/encoded on threads) on CPU: same as file by file."""
        from minface.batch import run_batch
        from minface.jobs import ScrubJob

        src = tmp_path / "in"
        truth = make_tree(src, 5)
        Image.fromarray(scene(9, 300, 200).image).save(src / "day0" / "other.png")
        (src / "corrupt.jpg").write_bytes(jpeg_bytes(scene(7).image)[:2500])
        assert hasattr(ScrubJob(preset="fast", batch=2)(), "many") and not hasattr(ScrubJob(preset="fast")(), "many")
        reports = {}
        for batch, jobs in ((0, 1), (2, 1), (3, 2)):  # (3, 2): two worker processes, each taking units of files
            out, rep = tmp_path / f"out{batch}", tmp_path / f"r{batch}.jsonl"
            job = ScrubJob(preset="fast", batch=batch, threads=2)
            summary = run_batch([src], out, job, jobs=jobs, report=rep, progress=False)
            assert (summary.ok, summary.failed) == (6, 1)
            recs = [json.loads(line) for line in rep.read_text().splitlines()]
            for r in recs:
                r.pop("seconds")
                if r["output"]:
                    r["output"] = Path(r["output"]).relative_to(out).as_posix()
            reports[batch] = sorted(recs, key=lambda r: r["input"])
        assert reports[0] == reports[2] == reports[3]
        for rel, faces in truth.items():
            assert_scrubbed(tmp_path / "out2" / rel, faces)
            for batch in (2, 3):
                assert (tmp_path / "out0" / rel).read_bytes() == (tmp_path / f"out{batch}" / rel).read_bytes()
        assert no_temporaries(tmp_path / "out2") and no_temporaries(tmp_path / "out3")

    def test_rerun_skips_and_overwrite_redoes(self, tmp_path):
        src, out = tmp_path / "in", tmp_path / "out"
        make_tree(src, 2)
        assert cli_main(["scrub", "-q", "--preset", "fast", "-j", "1", str(src), "-o", str(out)]) == 0
        stamp = {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")}
        report = tmp_path / "r.jsonl"
        assert cli_main(["scrub", "-q", "--preset", "fast", "-j", "1", str(src), "-o", str(out), "--report", str(report)]) == 0
        assert [json.loads(x)["status"] for x in report.read_text().splitlines()] == ["skipped", "skipped"]
        assert {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")} == stamp
        assert cli_main(["scrub", "-q", "--preset", "fast", "-j", "1", "--overwrite", str(src), "-o", str(out)]) == 0
        assert {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")} != stamp

    def test_dry_run_writes_nothing(self, tmp_path, capsys):
        src = tmp_path / "in"
        make_tree(src, 2)
        assert cli_main(["scrub", "-q", "--dry-run", str(src), "-o", str(tmp_path / "out")]) == 0
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.jpg"))
        assert capsys.readouterr().out.count(" -> ") == 2

    def test_in_place_resumes_with_its_journal(self, tmp_path):
        src = tmp_path / "in"
        truth = make_tree(src, 2)
        journal = src / ".minface-journal.jsonl"
        assert cli_main(["scrub", "-q", "--preset", "fast", "-j", "1", "--dry-run", "--in-place", str(src)]) == 0
        assert not journal.exists()  # a dry run leaves nothing behind
        broken = src / "broken.jpg"
        broken.write_bytes(b"\xff\xd8\xff\xe0 not a whole JPEG")
        assert cli_main(["scrub", "-q", "--preset", "fast", "-j", "1", "--in-place", str(src)]) == 1
        for rel, faces in truth.items():
            assert_scrubbed(src / rel, faces)
        assert journal.exists()  # a file failed: a rerun needs to know what is done
        stamp = {p: p.stat().st_mtime_ns for p in src.rglob("*.jpg") if p != broken}
        broken.unlink()
        report = tmp_path / "r.jsonl"
        assert cli_main(["scrub", "-q", "--preset", "fast", "--in-place", str(src), "--report", str(report)]) == 0
        assert {json.loads(x)["status"] for x in report.read_text().splitlines()} == {"skipped"}
        assert {p: p.stat().st_mtime_ns for p in src.rglob("*.jpg")} == stamp
        assert not journal.exists()  # finished with nothing pending: no file of minface's is left in the archive
        assert sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()) == sorted(truth)

    def test_report_names_files_as_given(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        truth = make_tree(Path("in"), 2)
        Path("in", "notes.txt").write_text("not a photo")
        Path("in", "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a whole JPEG")
        assert cli_main(["scrub", "-q", "--preset", "fast", "-j", "1", "in", "-o", "out", "--report", "r.jsonl"]) == 1
        recs = {r["input"]: r for r in map(json.loads, Path("r.jsonl").read_text().splitlines())}
        expected = {os.path.join("in", *rel.split("/")) for rel in truth} | {os.path.join("in", "notes.txt"), os.path.join("in", "broken.jpg")}
        assert set(recs) == expected  # relative, as on the command line
        for rel in truth:
            assert recs[os.path.join("in", *rel.split("/"))]["output"] == os.path.join("out", *rel.split("/"))
        assert recs[os.path.join("in", "broken.jpg")]["status"] == "error"
        absolute = tmp_path / "r2.jsonl"
        assert cli_main(["scrub", "-q", "--preset", "fast", "-j", "1", str(tmp_path / "in"), "-o", str(tmp_path / "out2"), "--report", str(absolute)]) == 1
        assert all(os.path.isabs(json.loads(x)["input"]) for x in absolute.read_text().splitlines())

    def test_finished_in_place_run_keeps_the_journal_of_an_unfinished_one(self, tmp_path):
        src = tmp_path / "in"
        make_tree(src, 2)
        assert cli_main(["scrub", "-q", "--preset", "fast", "-j", "1", "--in-place", str(src)]) == 0
        assert not (src / ".minface-journal.jsonl").exists()
        first = sorted(src.rglob("*.jpg"))[0]
        journal = first.parent / ".minface-journal.jsonl"  # the inputs' common folder: the file's own
        journal.write_text(json.dumps({"input": os.path.abspath(src / "elsewhere.jpg"), "size": 1, "mtime_ns": 1}) + "\n")
        assert cli_main(["scrub", "-q", "--preset", "fast", "-j", "1", "--in-place", str(first)]) == 0
        assert journal.exists()  # it names an input of another run, which may still be unfinished

    def test_usage_errors(self, tmp_path):
        for argv in (["scrub", str(tmp_path)], ["scrub", str(tmp_path), "-o", "x", "--in-place"], ["scrub", "-j", "0", str(tmp_path), "-o", "x"]):
            with pytest.raises(SystemExit) as exc:
                cli_main(argv)
            assert exc.value.code == 2
        assert cli_main(["scrub", str(tmp_path), "-o", "x", "--quality", "300"]) == 2

    @pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
    def test_killed_mid_batch_then_rerun(self, tmp_path, sig):
        src, out = tmp_path / "in", tmp_path / "out"
        truth = make_tree(src, 30)  # enough that the batch is still running when the signal comes
        hashes = {p: sha(p) for p in src.rglob("*") if p.is_file()}
        args = [sys.executable, "-m", "minface", "scrub", "-q", "--preset", "fast", "-j", "2", str(src), "-o", str(out)]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list(out.rglob("*.jpg"))) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the batch finished before it could be interrupted"
        os.killpg(proc.pid, sig)  # the whole group: the CLI and its workers
        proc.wait(timeout=60)
        assert proc.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL)
        done_before = len(list(out.rglob("*.jpg")))
        assert done_before < len(truth)
        for p in out.rglob("*.jpg"):  # whatever exists under its final name is whole
            minface.load_image(p)
        result = run_cli("scrub", "-q", "--preset", "fast", "-j", "2", str(src), "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert f"{done_before} skipped" in result.stderr
        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(truth)
        for rel, faces in truth.items():
            assert_scrubbed(out / rel, faces)
        assert no_temporaries(out)
        assert all(sha(p) == h for p, h in hashes.items())


def _bomb_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b"")
