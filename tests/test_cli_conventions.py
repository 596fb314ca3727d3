"""One set of conventions across the verbs: skip reasons on the terminal, usage errors for outputs
that cannot be, --max-pixels, --json on stdout, -q/-v, did-you-mean, help that says what is so."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from minface.cli import build_parser
from minface.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent


def _photo(path: Path, value: int = 90, size: tuple[int, int] = (64, 48)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path)
    return path


def _verbs() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _options(p: argparse.ArgumentParser) -> set[str]:
    return {s for a in p._actions for s in a.option_strings}


# -- 1. a skip's reason reaches the terminal, grouped ----------------------------------------


def test_rerun_says_the_output_exists(tmp_path, capsys):
    src = _photo(tmp_path / "a.jpg")
    args = ["scrub", "-q", "--preset", "fast", str(src), "-o", str(tmp_path / "out" / "a.jpg")]
    assert cli_main(args) == 0
    capsys.readouterr()
    assert cli_main(args) == 0
    err = capsys.readouterr().err
    assert "1 skipped" in err and "1 output exists: add --overwrite" in err


def test_videos_without_the_extra_say_how_to_install_it(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "av" else real(name, *a))
    src = tmp_path / "in"
    _photo(src / "a.jpg")
    for n in (1, 2):  # the first bytes of an MP4: a video, whatever its frames
        (src / f"clip{n}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64)
    (src / "notes.txt").write_text("not a photo")
    assert cli_main(["scrub", "-q", "--preset", "fast", "-j", "1", str(src), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "2 videos skipped: pip install 'minface[video]'" in err
    assert "1 skipped: not an image" in err
    # -v names each skipped file as it goes
    assert cli_main(["scrub", "-v", "--preset", "fast", "-j", "1", str(src), "-o", str(tmp_path / "out2")]) == 0
    err = capsys.readouterr().err
    assert re.search(r"skipped: .*clip1\.mp4: video: pip install", err) and re.search(r"skipped: .*notes\.txt", err)


# -- 2. wrong results without an error ------------------------------------------------------


@pytest.mark.parametrize("verb", ["scrub", "strip"])
def test_folder_input_with_a_file_named_output_is_a_usage_error(tmp_path, capsys, monkeypatch, verb):
    monkeypatch.chdir(tmp_path)
    _photo(tmp_path / "folder" / "a.jpg")
    assert cli_main([verb, "-q", "folder", "-o", "out.jpg"]) == 2
    assert "named like a file" in capsys.readouterr().err
    assert not os.path.lexists("out.jpg")
    _photo(tmp_path / "b.jpg")
    assert cli_main([verb, "-q", "b.jpg", "folder/a.jpg", "-o", "out.png"]) == 2  # two inputs: a folder too
    assert not os.path.lexists("out.png")


def test_a_zero_byte_photo_is_an_error(tmp_path, capsys):
    src = tmp_path / "in"
    _photo(src / "a.jpg")
    (src / "IMG_1.jpg").write_bytes(b"")
    (src / "empty").write_bytes(b"")  # not named like a photo: skipped
    report = tmp_path / "r.jsonl"
    assert cli_main(["strip", "-q", str(src), "-o", str(tmp_path / "out"), "--report", str(report)]) == 1
    recs = {Path(r["input"]).name: r for r in map(json.loads, report.read_text().splitlines())}
    assert recs["IMG_1.jpg"]["status"] == "error" and "named like a photo" in recs["IMG_1.jpg"]["error"]
    assert recs["empty"]["status"] == "skipped" and recs["empty"]["reason"] == "empty file"
    assert "IMG_1.jpg" in capsys.readouterr().err
    assert not (tmp_path / "out" / "IMG_1.jpg").exists()


# -- 3. limits you can lift -----------------------------------------------------------------


def test_max_pixels_on_the_command_line_and_in_the_error(tmp_path, capsys):
    src = _photo(tmp_path / "big.png", size=(120, 100))
    out = tmp_path / "out"
    assert cli_main(["strip", "-q", str(src), "-o", str(out), "--max-pixels", "5000"]) == 1
    err = capsys.readouterr().err
    assert "decompression bomb" in err and "--max-pixels" in err
    assert not out.exists() or not list(out.iterdir())
    assert cli_main(["strip", "-q", str(src), "-o", str(out), "--max-pixels", "0.02M"]) == 0
    assert (out / "big.png").exists()
    assert cli_main(["detect", str(src), "--max-pixels", "5000", "--preset", "fast"]) == 1
    assert "--max-pixels" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli_main(["strip", "-q", str(src), "-o", str(out), "--max-pixels", "lots"])
    assert exc.value.code == 2


def test_max_pixels_above_pillows_own_limit_is_honoured(tmp_path, monkeypatch):
    """Pillow refuses twice its MAX_IMAGE_PIXELS at open; a larger max_pixels must lift that too."""
    from PIL import Image as PILImage

    from minface.errors import DecompressionBombError
    from minface.images import load_image

    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 1000)  # Pillow stops at 2000 pixels
    src = _photo(tmp_path / "a.png", size=(100, 100))
    with pytest.raises(DecompressionBombError, match="--max-pixels"):
        load_image(src, max_pixels=5000)
    assert load_image(src, max_pixels=20_000).shape[:2] == (100, 100)


# -- 4. one set of conventions across the verbs ------------------------------------------------


def test_verify_json_lines_on_stdout_and_the_scrub_report_by_its_own_name(tmp_path, capsys):
    out = tmp_path / "out"
    _photo(out / "a.jpg")
    _photo(out / "b.png")
    report = tmp_path / "scrub.jsonl"
    report.write_text("")
    assert cli_main(["verify", "-q", "--preset", "fast", "--json", "--scrub-report", str(report), str(out)]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert sorted(Path(r["input"]).name for r in lines) == ["a.jpg", "b.png"]
    assert "deprecated" not in captured.err
    # `--json FOLDER`: the new --json, then an input
    assert cli_main(["verify", "-q", "--preset", "fast", "--json", str(out)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    # the old spellings still work, with a warning
    lines_file = tmp_path / "v.jsonl"
    argv = ["verify", "-q", "--preset", "fast", str(out), "--report", str(report), "--json", str(lines_file)]
    assert cli_main(argv) == 0
    err = capsys.readouterr().err
    assert "--report FILE is deprecated" in err and "--json FILE is deprecated" in err
    assert len(lines_file.read_text().splitlines()) == 2
    assert cli_main(["verify", "-q", str(out), "--scrub-report", str(tmp_path / "missing.jsonl")]) == 2


def test_specs_json_is_json_lines_as_every_verbs_json(capsys):
    from minface.idphoto import SPECS

    assert cli_main(["specs", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(SPECS)
    assert [json.loads(line)["name"] for line in lines] == list(SPECS)  # one whole object per line
    # every verb's --json says JSON lines in its help, none a JSON list
    helps = {v: next(a.help for a in p._actions if "--json" in a.option_strings)
             for v, p in _verbs().items() if "--json" in _options(p)}
    assert "specs" in helps and all("JSON line" in h and "list" not in h for h in helps.values()), helps


@pytest.mark.parametrize(
    "argv, near",
    [
        (["scrub", "a.jpg", "-o", "out", "--overwirte"], "--overwrite"),
        (["verify", "out", "--scrub-reprot", "r.jsonl"], "--scrub-report"),
        (["crop-id", "a.jpg", "-o", "id.jpg", "--spec", "icao", "--backgroud", "white"], "--background"),
    ],
)
def test_a_mistyped_flag_shows_the_verbs_usage_and_the_nearest_flag(argv, near, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: minface {argv[0]} ")
    assert f"did you mean {near}?" in err


def test_crop_id_takes_folders(tmp_path, capsys):
    src = tmp_path / "selfies"
    _photo(src / "a.jpg")
    _photo(src / "day" / "b.png")
    (src / "notes.txt").write_text("not a photo")
    out = tmp_path / "ids"
    rc = cli_main(["crop-id", "-q", "--preset", "fast", "--spec", "icao", str(src), "-o", str(out)])
    assert rc == 1  # plain grey squares hold no face: refused, each with its reason
    err = capsys.readouterr().err
    assert "a.jpg: no_face" in err and "b.png: no_face" in err and "1 skipped: not an image" in err
    assert "pass format=" not in err
    assert cli_main(["crop-id", "--spec", "icao", str(src), "-o", str(tmp_path / "id.jpg")]) == 2
    assert "named like a file" in capsys.readouterr().err
    # --json: one line per file, the skipped file too
    assert cli_main(["crop-id", "--json", "--preset", "fast", "--spec", "icao", str(src), "-o", str(out)]) == 1
    recs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["status"] for r in recs) == ["error", "error", "skipped"]


def test_report_paths_are_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _photo(tmp_path / "photos" / "a.jpg")
    assert cli_main(["strip", "-q", "photos", "-o", "clean", "--report", "r.jsonl"]) == 0
    rec = json.loads(Path("r.jsonl").read_text())
    assert (rec["input"], rec["output"]) == (os.path.join("photos", "a.jpg"), os.path.join("clean", "a.jpg"))
    assert cli_main(["strip", "-q", str(tmp_path / "photos"), "-o", "clean2", "--report", "r2.jsonl"]) == 0
    rec = json.loads(Path("r2.jsonl").read_text())
    assert rec["input"] == str(tmp_path / "photos" / "a.jpg") and rec["output"] == os.path.join("clean2", "a.jpg")


def test_strip_counts_no_faces(tmp_path, capsys):
    src = _photo(tmp_path / "a.jpg")
    assert cli_main(["strip", "-q", str(src), "-o", str(tmp_path / "o.jpg")]) == 0
    assert "face" not in capsys.readouterr().err


# -- 5. help that says what is so ----------------------------------------------------------


def test_every_verbs_help_runs_and_names_only_flags_that_exist():
    verbs = _verbs()
    for verb, p in verbs.items():
        own = _options(p)
        text = p.format_help()
        named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*[a-z])", text))
        assert named <= own, f"{verb} --help names {sorted(named - own)}, which {verb} does not take"
    strip = verbs["strip"].format_help()
    assert "--device" not in strip and "re-encoded for TIFF and BMP" in " ".join(strip.split())
    crop = verbs["crop-id"].format_help()
    assert "video" not in crop.lower()
    out = subprocess.run([sys.executable, "-m", "minface", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and all(v in out.stdout for v in verbs)


def test_every_flag_the_readme_gives_a_verb_exists():
    verbs = _verbs()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    checked, fenced = 0, False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced:  # the commands in the README's code blocks
            continue
        m = re.search(r"\bminface ([a-z-]+)\b(.*)", line)
        if not m or m.group(1) not in verbs:
            continue
        rest = m.group(2).split("  ")[0]  # the command, not the comment after it
        for flag in re.findall(r"(?<![\w-])(-{1,2}[a-z][a-z-]*)", rest):
            assert flag in _options(verbs[m.group(1)]), f"README: `minface {m.group(1)} ... {flag}`: no such option"
            checked += 1
    assert checked >= 20


def test_detector_docstring_names_every_preset():
    from minface import Detector
    from minface.detect import PRESETS

    doc = Detector.__doc__ or ""
    assert all(f'"{name}"' in doc for name in PRESETS)


# -- 6. set-up -------------------------------------------------------------------------------


def test_readme_first_command_makes_a_venv_with_the_all_extra():
    tomllib = pytest.importorskip("tomllib")

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {re.split(r"[<>=\[]", d)[0] for d in extras["all"]}
    assert {"onnxruntime", "pillow-heif", "av", "tqdm"} <= names
    assert "onnxruntime-gpu" not in names
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = next(line for line in readme.splitlines() if "pip install" in line)
    assert "python3 -m venv" in first and ".[all]" in first and "minface " in first
