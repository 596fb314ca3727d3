"""A hostile archive through scrub, strip, inspect and crop-id.

Some sixty kinds of file (:mod:`hostile_samples`: damaged and disguised photos,
decompression bombs, a 35-byte GIF with a 12000x12000 screen, 1,500 frames in
50 kB, system files, videos, a FIFO, links) are run through every verb that
reads files, each in its own process. Every run must show: no traceback, no
hang (a time limit), one record per input, no output for an input that failed
or was skipped, originals byte-identical, and a peak memory (resident set) of at
most 1.5 GB. Detection runs with ``--min-face 200`` so the huge canvases cost
seconds, not minutes: memory is set by decoding and encoding, which that does
not change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import hostile_samples as H
import pytest

PEAK_LIMIT_MIB = 1536
TIME_LIMIT = 300
FAST = ["--preset", "fast", "--min-face", "200"]

# runs a command, then prints its peak resident memory (the largest of its processes) on the last line
_MEASURE = """
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:]).returncode
print(f"PEAK_KIB {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(rc)
"""

# crop-id takes one file: one process for all of them, each call as the command line makes it
_CROP_ALL = """
import json, sys, traceback
from pathlib import Path
from minface.cli import main
out = Path(sys.argv[1])
for name in sys.argv[2:]:
    try:
        rc = main(["crop-id", name, "-o", str(out / (Path(name).name + ".jpg")), "--spec", "icao", "--json",
                   "--preset", "fast", "--min-face", "40"])
    except BaseException:
        print("UNCAUGHT " + name, file=sys.stderr)
        traceback.print_exc()
        rc = -1
    print("RESULT " + json.dumps({"input": name, "rc": rc}), flush=True)
"""


def run_measured(args: list[str], cwd: Path) -> tuple[int, str, str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args], cwd=cwd, capture_output=True, text=True, timeout=TIME_LIMIT
    )
    lines = proc.stderr.splitlines()
    peak = int(lines[-1].split()[1]) / 1024
    return proc.returncode, proc.stdout, "\n".join(lines[:-1]), peak


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    expected = H.build(root / "in")
    before = H.regular_files(root / "in")
    assert len(expected) >= 40
    yield root, expected
    assert H.regular_files(root / "in") == before, "an original was changed"


def _records(path: Path, base: Path) -> dict[str, dict]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    # the records name files as the command line did ("in/..."), relative to the run's folder
    by_name = {os.path.relpath(os.path.join(base.parent, r["input"]), base): r for r in records}
    assert len(by_name) == len(records), "one record per input"
    return by_name


def _clean_run(rc: int, err: str, peak: float) -> None:
    assert "Traceback" not in err and "UNCAUGHT" not in err, err[-3000:]
    assert peak <= PEAK_LIMIT_MIB, f"peak memory {peak:.0f} MiB"
    assert rc in (0, 1), err[-2000:]


@pytest.mark.parametrize("verb", ["scrub", "strip"])
def test_batch_verbs(corpus, verb):
    root, expected = corpus
    out, report = root / f"out-{verb}", root / f"{verb}.jsonl"
    extra = FAST if verb == "scrub" else []
    rc, _, err, peak = run_measured(
        [sys.executable, "-m", "minface", verb, "in", "-o", out.name, "-j", "1", "-q", "--report", report.name, *extra],
        root,
    )
    _clean_run(rc, err, peak)
    assert rc == 1  # some inputs are damaged
    records = _records(report, root / "in")
    assert sorted(records) == sorted(expected), "one record per input, none lost"
    if verb == "scrub":
        import importlib.util

        if importlib.util.find_spec("av") is not None:  # scrub reads videos: these header-only ones are damaged
            expected = {n: ("error" if n.startswith("video/") else s) for n, s in expected.items()}
        assert {n: r["status"] for n, r in records.items()} == expected
    made = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    _check_hidden_content(verb, records, out)
    for name, rec in records.items():
        assert (name in made) == (rec["status"] == "ok"), f"{name}: {rec['status']} but output {'made' if name in made else 'missing'}"
        if rec["status"] == "error":
            assert rec["error"], rec
            if "would replace that of" not in rec["error"]:  # (a collision names the other file: clip.avi -> clip.mp4)
                assert name.split("/")[-1] not in rec["error"], rec  # a reason, the path said once
    assert not [p for p in out.rglob("*") if p.name.endswith(".minface-tmp")]


def test_inspect_walks_the_archive(corpus):
    root, expected = corpus
    rc, stdout, err, peak = run_measured([sys.executable, "-m", "minface", "inspect", "--json", "in"], root)
    _clean_run(rc, err, peak)
    records = [json.loads(line) for line in stdout.splitlines()]  # JSON lines, as every verb's --json
    names = [os.path.relpath(os.path.join(root, r["source"]), root / "in") for r in records]  # named as given
    assert sorted(names) == sorted(expected) and len(names) == len(set(names))
    by = dict(zip(names, records))
    for name, status in expected.items():  # not a photo: skipped, never read as one
        if status == "skipped":
            assert by[name]["status"] == "skipped", name


def test_crop_id_every_file(corpus):
    root, expected = corpus
    out = root / "out-crop"
    out.mkdir()
    names = sorted(expected)
    rc, stdout, err, peak = run_measured([sys.executable, "-c", _CROP_ALL, str(out), *[f"in/{n}" for n in names]], root)
    _clean_run(rc, err, peak)
    results = [json.loads(line[7:]) for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert [r["input"] for r in results] == [f"in/{n}" for n in names]
    assert all(r["rc"] in (0, 1) for r in results), results
    made = {p.name for p in out.iterdir()}
    for r in results:  # an output only for what succeeded
        assert (Path(r["input"]).name + ".jpg" in made) == (r["rc"] == 0), r


def _check_hidden_content(verb: str, records: dict[str, dict], out: Path) -> None:
    """What hides where a careless reader does not look is found (scrub) or dropped (strip and scrub)."""
    for name in ("ok/hidden-text.heic", "ok/hidden-text.avif"):
        if name in records:
            assert H.HIDDEN[:8] not in (out / name).read_bytes(), name
    if verb == "scrub":  # (faces in alpha planes: tests/test_planes.py; here faces under 200 px are not searched)
        assert records["ok/animated.avif"]["frames"] == 3
        if "ok/two-images.heic" in records:
            assert records["ok/two-images.heic"]["frames"] == 2
    else:
        if "ok/two-images.heic" in records:
            assert records["ok/two-images.heic"]["method"] == "lossless"
        assert records["ok/animated.avif"]["method"] == "reencoded" and records["ok/animated.avif"]["notes"]


def test_large_heif_and_avif_stay_under_the_memory_limit(tmp_path):
    """A 59 MP HEIC grid and a 67 MP AVIF grid: decoded, painted and written (as grids) in bounded memory."""
    names = H.large_grids(tmp_path / "in")
    rc, _, err, peak = run_measured(
        [sys.executable, "-m", "minface", "scrub", "in", "-o", "out", "-j", "1", "-q", "--report", "r.jsonl", *FAST],
        tmp_path,
    )
    _clean_run(rc, err, peak)
    assert rc == 0
    records = _records(tmp_path / "r.jsonl", tmp_path / "in")
    assert sorted(records) == sorted(names) and {r["status"] for r in records.values()} == {"ok"}
    from PIL import Image

    for name in names:
        with Image.open(tmp_path / "out" / name) as im:
            assert im.size == (records[name]["width"], records[name]["height"]) and im.size[0] * im.size[1] > 58e6
