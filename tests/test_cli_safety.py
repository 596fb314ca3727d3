"""The command line against hostile names: globs that expand to options, the output folder as an input,
metadata and file names that are not printable."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
from PIL import Image

from minface.cli import main as cli_main


def _photo(path, value: int = 90) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((48, 64, 3), value, np.uint8)).save(path, "JPEG")


def test_a_file_named_like_an_option_never_turns_it_on(tmp_path, monkeypatch, capsys):
    """`minface scrub * -o out` in a folder that holds a file named --overwrite."""
    monkeypatch.chdir(tmp_path)
    _photo(tmp_path / "a.jpg")
    (tmp_path / "--overwrite").write_text("a file, not an option")
    _photo(tmp_path / "out" / "a.jpg", 10)
    before = (tmp_path / "out" / "a.jpg").read_bytes()
    words = sorted(p.name for p in tmp_path.iterdir() if p.name != "out")  # what the shell makes of *
    assert cli_main(["scrub", *words, "-o", "out", "-q", "--preset", "fast"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "out" / "a.jpg").read_bytes() == before
    # after `--` every word is a file: the one named --overwrite is not a photo, a.jpg's output exists
    assert cli_main(["scrub", "-o", "out", "-q", "-j", "1", "--preset", "fast", "--report", "r.jsonl", "--", *words]) == 0
    records = {os.path.basename(r["input"]): r for r in map(json.loads, open("r.jsonl"))}
    assert records["--overwrite"]["status"] == "skipped" and records["a.jpg"]["reason"] == "output exists"
    assert (tmp_path / "out" / "a.jpg").read_bytes() == before


def test_the_output_folder_is_never_an_input(tmp_path, monkeypatch):
    """`minface scrub * -o out` once out exists: the glob names out too."""
    monkeypatch.chdir(tmp_path)
    _photo(tmp_path / "a.jpg")
    _photo(tmp_path / "out" / "old.jpg")
    assert cli_main(["scrub", "-o", "out", "-q", "-j", "1", "--preset", "fast", "--report", "r.jsonl", "--", "a.jpg", "out"]) == 0
    records = {os.path.basename(r["input"]): r for r in map(json.loads, open("r.jsonl"))}
    assert records["out"]["status"] == "skipped" and "output folder" in records["out"]["reason"]
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")) == ["a.jpg", "old.jpg"]
    # and walking a folder that holds the output folder leaves it out
    assert cli_main(["scrub", "-o", "out", "-q", "-j", "1", "--preset", "fast", "--report", "s.jsonl", "--", "."]) == 0
    assert not any("out/" in r["input"] for r in map(json.loads, open("s.jsonl")))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def test_inspect_escapes_what_is_not_printable(tmp_path):
    """Raw 0xFF bytes and control characters in metadata and in a file name: valid UTF-8 out, no control bytes."""
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, "PNG")
    d = buf.getvalue()
    at = d.index(b"IDAT") - 4
    hostile = _chunk(b"tEXt", b"Comment\0caf\xff\xfe \x1b[31mred\x00") + _chunk(b"zz\x00z", b"\xff\x00")
    name = os.fsdecode(b"caf\xff\x1b[2J.png")
    (tmp_path / name).write_bytes(d[:at] + hostile + d[at:])
    webp = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(webp, "WEBP", lossless=True)
    body = webp.getvalue()[12:] + b"XMP\0" + struct.pack("<I", 6) + b"\xff\xfe<x/>"
    (tmp_path / "x.webp").write_bytes(b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body)
    for extra in ([], ["--json"]):
        out = subprocess.run(
            [sys.executable, "-m", "minface", "inspect", *extra, str(tmp_path)], capture_output=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        text = out.stdout.decode("utf-8")  # strict: raises on any byte that is not UTF-8
        assert not [c for c in text if ord(c) < 32 and c != "\n"], text
        if extra:
            records = [json.loads(line) for line in text.splitlines()]  # JSON lines, as every verb's --json
            assert len(records) == 2
            text = json.dumps(records, ensure_ascii=False)
            assert not [c for r in records for c in r["source"] if ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF]
        assert "xff" in text and "x1b" in text and "XMP\\x00" in text.replace("\\\\", "\\")
