"""Real archives: HEIC photos, files that are not photos, and what a hostile corpus found.

Each test here is a regression test for one failure of an earlier version:
FIFOs that hung the walk, a truncated JPEG reported ok, damaged headers
misnamed, an in-place clean-up that deleted a user's file, in-place runs that
replaced links or wrote outside the inputs, outputs written through links,
walk errors without a record, workers that outlived their parent, SIGTERM,
an output folder equal to the input, ``-o file.jpg`` becoming a folder, a
script without a ``__main__`` guard, network lookups, and the output papercuts.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import hostile_samples as H
import numpy as np
import pytest
from conftest import STORE_FOR_ORIENTATION, background, dead_temporary, matched, paste_faces
from PIL import Image

import minface
from minface import media
from minface.io import decode
from minface.engine.records import Progress as _Progress
from minface.cli import main as cli_main
from minface.errors import CorruptImageError, MissingDependencyError, UnsupportedImageError

ROOT = Path(__file__).resolve().parents[1]
FACES = [(60, 50, 80), (260, 90, 110)]


def scene(w: int = 420, h: int = 320) -> np.ndarray:
    return paste_faces(background("rocket", w, h), FACES).image


def jpeg(pixels: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=92, **kw)
    return buf.getvalue()


def cli(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "minface", *args], capture_output=True, text=True, timeout=timeout, **kw
    )


def records(path: Path) -> dict[str, dict]:
    return {Path(r["input"]).name: r for r in map(json.loads, path.read_text().splitlines())}


def photos(folder: Path, n: int = 2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = folder / f"img{i}.jpg"
        p.write_bytes(jpeg(np.roll(scene(), 40 * i, axis=1)))
        out.append(p)
    return out


# -- FIFOs, links, walk errors ---------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("verb", ["strip", "inspect", "scrub"])
def test_fifo_in_the_tree_never_blocks(tmp_path, verb):
    photos(tmp_path / "in", 1)
    os.mkfifo(tmp_path / "in" / "pipe.jpg")
    args = [verb, str(tmp_path / "in")]
    args += ["--json"] if verb == "inspect" else ["-o", str(tmp_path / "out"), "-j", "1", "--report", str(tmp_path / "r.jsonl")]
    args += ["--preset", "fast"] if verb == "scrub" else []
    result = cli(*args, timeout=90)  # a read of the FIFO would block forever: the time limit fails the test
    assert result.returncode == 0, result.stderr
    if verb == "inspect":
        recs = {Path(r["source"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    else:
        recs = records(tmp_path / "r.jsonl")
        assert not (tmp_path / "out" / "pipe.jpg").exists()
    assert recs["pipe.jpg"]["status"] == "skipped" and recs["pipe.jpg"]["reason"] == "not a regular file (FIFO)"
    assert recs["img0.jpg"]["status"] == "ok"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifo_given_to_the_api_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(UnsupportedImageError, match=r"not a regular file \(FIFO\)"):
        minface.load_image(fifo)
    with pytest.raises(UnsupportedImageError, match=r"not a regular file \(FIFO\)"):
        minface.inspect(fifo)


def test_walk_errors_are_records_not_silence(tmp_path, monkeypatch):
    from minface.engine.plan import local as walk  # the walk of the local disk

    photos(tmp_path / "in" / "ok", 1)
    locked = tmp_path / "in" / "locked"
    locked.mkdir()
    (locked / "hidden.jpg").write_bytes(jpeg(scene()))
    real = os.scandir

    def scandir(path):  # a folder the user may not list (what chmod 000 does to anyone but root)
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(walk.os, "scandir", scandir)
    plan = walk.plan([tmp_path / "in"], tmp_path / "out")
    errors = [r for r in plan.records if r["status"] == "error"]
    assert [Path(r["input"]).name for r in errors] == ["locked"]
    assert "permission denied" in errors[0]["error"]
    assert [t.input.name for t in plan.tasks] == ["img0.jpg"]


@pytest.mark.skipif(os.name == "nt" or not hasattr(os, "geteuid") or os.geteuid() == 0, reason="permissions do not stop root")
def test_unreadable_folder_fails_the_run(tmp_path):
    photos(tmp_path / "in", 1)
    (tmp_path / "in" / "locked").mkdir()
    os.chmod(tmp_path / "in" / "locked", 0)
    try:
        assert cli_main(["strip", "-q", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--report", str(tmp_path / "r.jsonl")]) == 1
    finally:
        os.chmod(tmp_path / "in" / "locked", 0o755)
    assert records(tmp_path / "r.jsonl")["locked"]["status"] == "error"


def test_path_longer_than_the_system_allows_is_an_error(tmp_path, capsys):
    limit = os.pathconf(tmp_path, "PC_PATH_MAX") if hasattr(os, "pathconf") else 4096
    photos(tmp_path / "in", 1)
    fd = os.open(tmp_path / "in", os.O_RDONLY)
    depth = 0
    try:  # nested folders made relative to each other, until the absolute path is too long
        while len(os.fsencode(tmp_path / "in")) + depth * 201 <= limit + 300:
            os.mkdir("d" * 200, dir_fd=fd)
            nxt = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
            depth += 1
        with os.fdopen(os.open("deep.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as f:
            fd = -1
            f.write(jpeg(scene()))
    finally:
        if fd >= 0:
            os.close(fd)
    report = tmp_path / "r.jsonl"
    rc = cli_main(["strip", "-q", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--report", str(report)])
    assert rc == 1
    recs = [json.loads(line) for line in report.read_text().splitlines()]
    errors = [r for r in recs if r["status"] == "error"]
    assert errors and all("too long" in r["error"] for r in errors), errors
    assert [Path(r["input"]).name for r in recs if r["status"] == "ok"] == ["img0.jpg"]
    shutil.rmtree(tmp_path / "in", ignore_errors=True)


def test_in_place_removes_only_temporaries_minface_made(tmp_path):
    (a,) = photos(tmp_path / "in", 1)
    mine = tmp_path / "in" / f".{a.name}.notes.tmp"  # a user's own file, named like a temporary
    mine.write_text("my notes on this photo")
    stale = tmp_path / "in" / dead_temporary(a.name)  # what a killed run of minface leaves
    stale.write_bytes(b"half an image")
    assert cli_main(["scrub", "-q", "-j", "1", "--preset", "fast", "--in-place", str(a)]) == 0
    assert mine.read_text() == "my notes on this photo"
    assert not stale.exists()


def test_in_place_never_replaces_a_link_nor_writes_outside_the_inputs(tmp_path):
    target = tmp_path / "elsewhere" / "deep" / "target.jpg"
    target.parent.mkdir(parents=True)
    target.write_bytes(jpeg(scene()))
    before = target.read_bytes()
    folder = tmp_path / "photos"
    (real,) = photos(folder, 1)
    link = folder / "link.jpg"
    link.symlink_to(target)
    report = tmp_path / "r.jsonl"
    rc = cli_main(["scrub", "-q", "-j", "1", "--preset", "fast", "--in-place", str(link), str(real), "--report", str(report)])
    assert rc == 0
    assert link.is_symlink() and target.read_bytes() == before
    recs = records(report)
    assert recs["link.jpg"]["status"] == "skipped" and "link" in recs["link.jpg"]["reason"]
    assert recs["img0.jpg"]["status"] == "ok"
    assert not (folder / ".minface-journal.jsonl").exists()  # the run finished: its journal is removed
    assert sorted(p.name for p in target.parent.iterdir()) == ["target.jpg"]
    with pytest.raises(minface.ImageWriteError, match="symbolic link"):
        minface.scrub(link, link, in_place=True, preset="fast")
    assert link.is_symlink()


def test_outputs_never_go_through_links_in_the_output_tree(tmp_path):
    src = tmp_path / "in"
    photos(src / "sub", 1)
    photos(src, 1)
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(outside)  # a link someone left in the output folder
    victim = tmp_path / "victim.jpg"
    victim.write_bytes(b"not yours to overwrite")
    (out / "img0.jpg").symlink_to(victim)
    report = tmp_path / "r.jsonl"
    rc = cli_main(["scrub", "-q", "-j", "1", "--preset", "fast", "--overwrite", str(src), "-o", str(out), "--report", str(report)])
    assert rc == 1
    assert list(outside.iterdir()) == [] and victim.read_bytes() == b"not yours to overwrite"
    recs = [json.loads(line) for line in report.read_text().splitlines()]
    assert [r["status"] for r in recs] == ["error", "error"]
    assert all("symbolic link" in r["error"] for r in recs)


# -- what is not a photo ----------------------------------------------------------------


def test_an_archive_of_photos_and_other_files_exits_zero(tmp_path, capsys):
    src = tmp_path / "in"
    photos(src, 2)
    (src / "notes.txt").write_text("Alice Smith, ID 123456789")
    (src / ".DS_Store").write_bytes(b"\0\0\0\1Bud1" + bytes(40))
    (src / "Thumbs.db").write_bytes(H.ole())
    report = tmp_path / "r.jsonl"
    assert cli_main(["scrub", "-j", "1", "--preset", "fast", str(src), "-o", str(tmp_path / "out"), "--report", str(report)]) == 0
    err = capsys.readouterr().err
    assert "4 file(s)" not in err and "5 file(s): 2 ok, 0 failed, 3 skipped" in err
    recs = records(report)
    assert {n: r["reason"] for n, r in recs.items() if r["status"] == "skipped"} == {
        "notes.txt": "not an image",
        ".DS_Store": "system file (macOS folder settings)",
        "Thumbs.db": "system file (Windows thumbnail cache)",
    }
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["img0.jpg", "img1.jpg"]  # nothing else copied


def test_a_video_is_scrubbed_by_scrub_and_skipped_by_strip(tmp_path):
    """A header-only MOV: scrub reads videos, so it is a damaged video (an error); strip skips videos."""
    pytest.importorskip("av", reason="videos need PyAV: pip install 'minface[video]'")
    src = tmp_path / "in"
    photos(src, 1)
    (src / "clip.mov").write_bytes(H.mp4(b"qt  "))
    for verb, code, expect in (("scrub", 1, "error"), ("strip", 0, "skipped")):
        report = tmp_path / f"{verb}.jsonl"
        argv = [verb, "-q", "-j", "1", str(src), "-o", str(tmp_path / verb), "--report", str(report)]
        assert cli_main(argv + (["--preset", "fast"] if verb == "scrub" else [])) == code
        recs = records(report)
        assert recs["clip.mov"]["status"] == expect and recs["clip.mov"]["output"] is None
        if verb == "strip":
            assert recs["clip.mov"]["reason"] == media.VIDEO_REASON
        assert sorted(p.name for p in (tmp_path / verb).iterdir()) == ["img0.jpg"]


def test_include_and_exclude(tmp_path):
    src = tmp_path / "in"
    photos(src / "2024", 2)
    photos(src / "drafts", 1)
    (src / "2024" / "img0.png").write_bytes(H._save(scene(), "PNG"))
    report = tmp_path / "r.jsonl"
    argv = ["strip", "-q", str(src), "-o", str(tmp_path / "out"), "--report", str(report)]
    assert cli_main([*argv, "--include", "*.JPG", "--exclude", "drafts", "--exclude", "2024/img1*"]) == 0
    made = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert made == ["2024/img0.jpg"]
    recs = [json.loads(line) for line in report.read_text().splitlines()]
    reasons = sorted((Path(r["input"]).name, r.get("reason")) for r in recs if r["status"] == "skipped")
    assert reasons == [
        ("drafts", "excluded by --exclude drafts"),
        ("img0.png", "not matched by --include"),
        ("img1.jpg", "excluded by --exclude 2024/img1*"),
    ]


# -- damaged files ------------------------------------------------------------------------


def test_truncated_jpeg_followed_by_an_end_marker_fails(tmp_path):
    data = H.jpeg_cut_then_eoi(scene(), keep=0.6)
    with pytest.raises(CorruptImageError, match="truncated JPEG.*premature end of data"):
        minface.load_image(data)
    bad = tmp_path / "in" / "cut.jpg"
    bad.parent.mkdir()
    bad.write_bytes(data)
    report = tmp_path / "r.jsonl"
    assert cli_main(["scrub", "-q", "-j", "1", "--preset", "fast", str(bad.parent), "-o", str(tmp_path / "out"), "--report", str(report)]) == 1
    rec = records(report)["cut.jpg"]
    assert rec["status"] == "error" and "truncated" in rec["error"] and not (tmp_path / "out" / "cut.jpg").exists()
    assert not minface.inspect(data).clean or "truncated" in " ".join(minface.inspect(data).warnings)


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (H.png_bad_crc, r"damaged PNG header: the IHDR chunk's checksum \(CRC\) does not match"),
        (H.png_width_zero, "damaged PNG header: the IHDR chunk declares a width of 0"),
        (H.jpeg_sof_zero, r"damaged JPEG header: the frame header \(SOF\) declares 0x0 pixels"),
        (H.gif_zero_screen, None),  # Pillow sizes it by its image: a correct result is fine too
    ],
)
def test_damaged_headers_say_what_is_damaged(make, says):
    data = make()
    if says is None:
        assert minface.load_image(data).shape[:2] == (8, 8)
        return
    for call in (minface.load_image, lambda d: minface.metadata.strip_bytes(d)):
        with pytest.raises(CorruptImageError, match=says) as info:
            call(data)
        assert "not a recognised image format" not in str(info.value)


# -- the command line ---------------------------------------------------------------------


def test_output_folder_equal_to_the_input_is_a_usage_error(tmp_path, capsys):
    photos(tmp_path / "same", 1)
    for verb in ("scrub", "strip"):
        assert cli_main([verb, "-q", str(tmp_path / "same"), "-o", str(tmp_path / "same")]) == 2
        assert "is the input folder" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "same").iterdir()) == ["img0.jpg"]


def test_one_file_to_an_output_file_name(tmp_path, capsys):
    (a,) = photos(tmp_path / "in", 1)
    assert cli_main(["scrub", "-q", "-j", "1", "--preset", "fast", str(a), "-o", str(tmp_path / "b.jpg")]) == 0
    assert (tmp_path / "b.jpg").is_file() and Image.open(tmp_path / "b.jpg").format == "JPEG"
    assert cli_main(["scrub", "-q", "-j", "1", "--preset", "fast", str(a), "-o", str(tmp_path / "c.png")]) == 0
    assert Image.open(tmp_path / "c.png").format == "PNG"  # the name's extension picks the format
    assert cli_main(["strip", "-q", str(a), "-o", str(tmp_path / "d.jpg")]) == 0
    assert (tmp_path / "d.jpg").is_file()
    assert cli_main(["strip", "-q", str(a), "-o", str(tmp_path / "e.png")]) == 2  # strip keeps the format
    assert "strip keeps the format" in capsys.readouterr().err and not (tmp_path / "e.png").exists()


def test_scrub_batch_from_a_script_without_a_main_guard(tmp_path):
    photos(tmp_path / "in", 3)
    script = tmp_path / "scrub_archive.py"
    script.write_text(
        "import minface\n"
        "summary = minface.scrub_batch(['in'], 'out', jobs=2, preset='fast', report='r.jsonl')\n"
        "print(summary.to_text())\n"
    )
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "3 ok, 0 failed" in result.stdout
    assert "died" not in (tmp_path / "r.jsonl").read_text()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_workers_never_outlive_the_parent(tmp_path, sig):
    src = tmp_path / "in"
    for i in range(16):
        (src / f"img{i:02d}.jpg").parent.mkdir(exist_ok=True)
        (src / f"img{i:02d}.jpg").write_bytes(jpeg(np.roll(scene(840, 640), 13 * i, axis=1)))
    out = tmp_path / "out"
    args = [sys.executable, "-m", "minface", "scrub", "-q", "-j", "2", "--preset", "balanced", str(src), "-o", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob("*.jpg")) and proc.poll() is None:
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert proc.poll() is None and workers, "the batch finished before it could be stopped"
    os.kill(proc.pid, sig)  # the parent only, as `kill`, `timeout` and systemd do
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGTERM:
        assert proc.returncode == 143 and "interrupted" in err and "Traceback" not in err
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "worker processes outlived the parent"
    for p in out.glob("*.jpg"):  # what was finished is whole and kept
        minface.load_image(p)
    assert not list(out.glob(".*.minface-tmp")) or sig == signal.SIGKILL


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses strace")
def test_a_scrub_opens_no_network_socket(tmp_path):
    """strace -f -e trace=network: no AF_INET/AF_INET6 socket in any process; no telemetry state under HOME."""
    strace = shutil.which("strace")
    if strace is None:
        if os.environ.get("MINFACE_REQUIRE_STRACE"):
            pytest.fail("strace is required here (MINFACE_REQUIRE_STRACE) but is not installed")
        pytest.skip("strace is not installed (apt-get install strace)")
    photos(tmp_path / "in", 4)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    env.pop("ORT_DISABLE_TELEMETRY", None)  # minface must switch it off itself
    trace = tmp_path / "trace.txt"
    probe = subprocess.run([strace, "-f", "-o", str(trace), "true"], capture_output=True)
    if probe.returncode != 0:
        why = f"strace cannot trace here: {probe.stderr.decode(errors='replace').strip()}"
        pytest.fail(why) if os.environ.get("MINFACE_REQUIRE_STRACE") else pytest.skip(why)
    result = subprocess.run(
        [strace, "-f", "-qq", "-e", "trace=network", "-o", str(trace), sys.executable, "-m", "minface", "scrub",
         "-q", "-j", "2", "--preset", "fast", str(tmp_path / "in"), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=240, env=env,
    )
    assert result.returncode == 0, result.stderr
    calls = trace.read_text()
    assert "AF_INET" not in calls and "AF_INET6" not in calls, [c for c in calls.splitlines() if "AF_INET" in c]
    assert not (home / ".cache" / "Microsoft").exists(), "ONNX Runtime kept telemetry state"


def test_error_lines_name_the_file_once(tmp_path, capsys):
    src = tmp_path / "in"
    photos(src, 1)
    (src / "cut.jpg").write_bytes(jpeg(scene())[:3000])
    assert cli_main(["strip", "-q", str(src), "-o", str(tmp_path / "out")]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0].count("cut.jpg") == 1, lines


def test_progress_lines_off_a_terminal_and_errors_above_the_counter(monkeypatch):
    class Log(io.StringIO):
        def isatty(self) -> bool:
            return False

    log = Log()
    monkeypatch.setattr(sys, "stderr", log)
    bar = _Progress(200, True, "scrub", every=0.0)
    for _ in range(3):
        bar.update("ok")
    bar.close()
    lines = log.getvalue().splitlines()
    assert lines and lines[0].startswith("scrub: 1/200 files (0%)") and "files/s" in lines[0] and "left" in lines[0]

    class Terminal(Log):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the plain counter
    bar = _Progress(2, True, "scrub")
    bar.update("ok")
    bar.write("error: a.jpg: truncated")
    bar.update("ok")
    bar.close()
    assert "\r\x1b[Kerror: a.jpg: truncated\n" in term.getvalue()  # the counter's line is cleared first


def test_inspect_json_into_a_closed_pipe(tmp_path):
    photos(tmp_path / "in", 3)
    cmd = f'"{sys.executable}" -m minface inspect --json "{tmp_path / "in"}" | head -c 10'
    result = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr


def test_inspect_and_detect_walk_folders(tmp_path, capsys):
    src = tmp_path / "in"
    photos(src / "sub", 2)
    (src / "notes.txt").write_text("not a photo")
    assert cli_main(["inspect", str(src)]) == 0
    out = capsys.readouterr().out
    assert out.count("JPEG 420x320") == 2 and "notes.txt" not in out
    assert cli_main(["detect", "--json", "--preset", "fast", str(src)]) == 0
    recs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted((Path(r["input"]).name, r["status"]) for r in recs) == [
        ("img0.jpg", "ok"), ("img1.jpg", "ok"), ("notes.txt", "skipped"),
    ]
    # the two pasted faces, confidently (a score near the threshold differs between runtimes and models)
    assert all(sum(f["score"] >= 0.5 for f in r["faces"]) == 2 for r in recs if r["status"] == "ok")


def test_one_colour_vocabulary(tmp_path, capsys):
    (a,) = photos(tmp_path / "in", 1)
    assert cli_main(["scrub", "-q", "-j", "1", "--preset", "fast", "--color", "white", str(a), "-o", str(tmp_path / "w.png")]) == 0
    painted = np.asarray(Image.open(tmp_path / "w.png"))
    x, y, h = FACES[1]
    assert painted[y + h // 2, x + h // 3].tolist() == [255, 255, 255]
    with pytest.raises(SystemExit) as usage:
        cli_main(["scrub", "-q", "--color", "no-such-colour", str(a), "-o", str(tmp_path / "x.jpg")])
    assert usage.value.code == 2 and "unknown colour" in capsys.readouterr().err
    # crop-id: a background colour is --background; --pad means growth only, and only in scrub
    with pytest.raises(SystemExit) as usage:
        cli_main(["crop-id", str(a), "-o", str(tmp_path / "id.jpg"), "--spec", "icao", "--pad", "white"])
    assert usage.value.code == 2
    assert cli_main(["crop-id", str(a), "-o", str(tmp_path / "id.jpg"), "--spec", "icao", "--background", "white"]) in (0, 1)
    assert "unreadable" not in capsys.readouterr().err
    from minface.idphoto.crop import _check_colour

    assert _check_colour("white", "background") == (255, 255, 255) == _check_colour("#fff", "background")
    assert _check_colour((255, 255, 255), "background") == (255, 255, 255)
    with pytest.raises(ValueError, match="unknown colour"):
        _check_colour("not a colour", "background")


def test_readme_set_up_leaves_nothing_untracked():
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    result = subprocess.run(["git", "check-ignore", "scrubbed/group.jpg", "scrubbed.jsonl"], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.split() == ["scrubbed/group.jpg", "scrubbed.jsonl"]


# -- HEIC, HEIF and AVIF everywhere ----------------------------------------------------------

pillow_heif = pytest.importorskip("pillow_heif", reason="HEIC needs pip install 'minface[heif]'")


def heic_portrait(tmp_path: Path, name: str = "IMG_0001.HEIC") -> tuple[Path, np.ndarray]:
    """A phone-style HEIC: the pixels stored turned, an orientation (irot) that turns them upright, Exif with GPS."""
    upright = paste_faces(background("coffee", 480, 640), [(150, 120, 160)])
    stored = np.ascontiguousarray(STORE_FOR_ORIENTATION[6](upright.image))
    pillow_heif.register_heif_opener()
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(stored).save(path, "HEIF", quality=85, exif=H._exif(6), xmp=b"<x:xmpmeta>Jane Doe</x:xmpmeta>")
    return path, upright.faces


def test_heic_through_every_verb(tmp_path, capsys):
    path, truth = heic_portrait(tmp_path / "in")
    pixels = minface.load_image(path)
    assert pixels.shape == (640, 480, 3)  # upright
    found = minface.detect(pixels, preset="fast")
    assert matched(truth, found.xyxy).all()
    assert cli_main(["detect", "--json", "--preset", "fast", str(path)]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert (rec["width"], rec["height"]) == (480, 640) and matched(truth, np.array([f["box"] for f in rec["faces"]])).all()
    # scrub: HEIC in, HEIC out (about as large), faces gone, no metadata
    out = tmp_path / "out"
    assert cli_main(["scrub", "-q", "-j", "1", "--preset", "fast", str(tmp_path / "in"), "-o", str(out), "--report", str(tmp_path / "r.jsonl")]) == 0
    scrubbed = out / path.name
    assert Image.open(scrubbed).format == "HEIF" and minface.inspect(scrubbed).clean
    assert 0.5 * path.stat().st_size < scrubbed.stat().st_size < 1.5 * path.stat().st_size
    from minface.verify import DETAIL_THRESHOLD, face_detail

    img = minface.load_image(scrubbed)
    again = minface.detect(img, preset="fast")
    intact = np.array([b for b in again.xyxy if face_detail(img, b) >= DETAIL_THRESHOLD]).reshape(-1, 4)
    assert not matched(truth, intact, min_iou=0.3).any()
    from minface.verify import verify_file

    audit = verify_file(path, detector=minface.Detector("fast"))  # the original: its face and metadata are found
    assert audit.status == "leak" and audit.intact_faces and audit.metadata
    # crop-id reads it (the face is too small for a passport photo: a reason, not "unreadable")
    assert cli_main(["crop-id", str(path), "-o", str(tmp_path / "id.jpg"), "--spec", "us-passport", "--json", "--preset", "fast"]) in (0, 1)
    assert json.loads(capsys.readouterr().out.splitlines()[0]).get("reason") != "unreadable"
    # --format jpeg: the output's extension changes with it
    assert cli_main(["scrub", "-q", "-j", "1", "--preset", "fast", "--format", "jpeg", str(tmp_path / "in"), "-o", str(tmp_path / "jpg")]) == 0
    assert [p.name for p in (tmp_path / "jpg").iterdir()] == ["IMG_0001.jpg"]
    assert Image.open(tmp_path / "jpg" / "IMG_0001.jpg").size == (480, 640)


def test_heic_strip_is_lossless_and_not_larger(tmp_path):
    path, _ = heic_portrait(tmp_path)
    report = minface.strip(path, tmp_path / "clean.heic")
    assert report.method == "lossless" and report.pixels_identical
    assert report.bytes_out <= report.bytes_in  # the coded image is copied, not re-encoded three times larger
    assert {"exif", "gps", "xmp"} <= report.removed_kinds and minface.inspect(tmp_path / "clean.heic").clean
    assert np.array_equal(minface.load_image(tmp_path / "clean.heic"), minface.load_image(path))


def test_heic_without_the_extra_names_it(tmp_path, monkeypatch):
    path, _ = heic_portrait(tmp_path)
    monkeypatch.setattr(decode, "_HEIF_READY", False)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r"minface\[heif\]"):
        minface.load_image(path)
    report = tmp_path / "r.jsonl"
    assert cli_main(["strip", "-q", str(path), "-o", str(tmp_path / "out"), "--report", str(report)]) == 1
    assert "minface[heif]" in records(report)[path.name]["error"]


def test_phone_archive(tmp_path):
    """HEIC, JPEG with and without orientation, PNG, WebP and non-photo files: exit 0, every photo ok, no metadata."""
    src = tmp_path / "DCIM"
    heic_portrait(src / "100APPLE", "IMG_0001.HEIC")
    face = scene()
    (src / "100APPLE" / "IMG_0002.JPG").write_bytes(H._save(np.rot90(face, 1).copy(), "JPEG", exif=H._exif(6)))
    (src / "100APPLE" / "IMG_0003.JPG").write_bytes(H._save(face, "JPEG", exif=H._exif()))
    (src / "Screenshots").mkdir()
    (src / "Screenshots" / "shot.png").write_bytes(H._save(face, "PNG", exif=H._exif()))
    (src / "WhatsApp" / "Media").mkdir(parents=True)
    (src / "WhatsApp" / "Media" / "IMG-2024-WA0001.webp").write_bytes(H._save(face, "WEBP", exif=H._exif()))
    try:  # the Live Photo's video: scrubbed when PyAV is installed, else skipped with the install hint
        import av  # noqa: F401
        import video_samples as V

        V.write_video(src / "100APPLE" / "IMG_0004.MOV", [face[:240, :320]] * 4, container="mov", audio=True)
        video = "ok"
    except ImportError:
        (src / "100APPLE" / "IMG_0004.MOV").write_bytes(H.mp4(b"qt  "))
        video = "skipped"
    (src / ".DS_Store").write_bytes(b"\0\0\0\1Bud1" + bytes(40))
    (src / "Thumbs.db").write_bytes(H.ole())
    (src / "readme.txt").write_text("Jane Doe, passport 123456789")
    out, report = tmp_path / "clean", tmp_path / "r.jsonl"
    assert cli_main(["scrub", "-q", "-j", "2", "--preset", "fast", str(src), "-o", str(out), "--report", str(report)]) == 0
    recs = [json.loads(line) for line in report.read_text().splitlines()]
    statuses = {Path(r["input"]).name: r["status"] for r in recs}
    assert statuses == {
        "IMG_0001.HEIC": "ok", "IMG_0002.JPG": "ok", "IMG_0003.JPG": "ok", "shot.png": "ok",
        "IMG-2024-WA0001.webp": "ok", "IMG_0004.MOV": video, ".DS_Store": "skipped",
        "Thumbs.db": "skipped", "readme.txt": "skipped",
    }
    made = sorted(p for p in out.rglob("*") if p.is_file() and p.suffix != ".mp4")
    assert len(made) == 5 and all(minface.inspect(p).clean for p in made)
    if video == "ok":
        assert minface.video.leftovers(out / "100APPLE" / "IMG_0004.mp4") == []
    assert Image.open(out / "100APPLE" / "IMG_0002.JPG").size == (420, 320)  # upright, no tag needed
    from metadata_samples import exiftool_or_skip

    from minface.metadata import exiftool_residue

    exiftool_or_skip()
    residue = exiftool_residue(made)
    assert all(not tags for tags in residue.values()), residue
