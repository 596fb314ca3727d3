from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources

import pytest

from minface.cli import main

EXAMPLE = resources.files("minface") / "examples" / "group.jpg"


def test_detect_json_on_the_bundled_example(capsys):
    assert main(["detect", "--json", "--preset", "fast", str(EXAMPLE)]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["status"] == "ok" and (rec["width"], rec["height"]) == (1200, 800)
    assert len(rec["faces"]) >= 5 and all(len(f["box"]) == 4 for f in rec["faces"])


def test_detect_table_and_failure_exit_code(tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    assert main(["detect", "--preset", "fast", str(EXAMPLE), str(bad)]) == 1
    captured = capsys.readouterr()
    assert "face(s) in 1200x800" in captured.out
    assert "bad.jpg" in captured.err and "not a recognised image format" in captured.err


@pytest.mark.parametrize(
    "argv",
    [[], ["detect"], ["detect", "--preset", "turbo", "x.jpg"], ["detect", "--threshold", "7", "x.jpg"], ["nope"]],
)
def test_usage_errors_exit_2(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2


def test_help_and_version_run_as_a_module():
    out = subprocess.run([sys.executable, "-m", "minface", "--help"], capture_output=True, text=True, check=True).stdout
    assert "detect" in out and "exit codes" in out
    out = subprocess.run([sys.executable, "-m", "minface", "presets"], capture_output=True, text=True, check=True).stdout
    assert "balanced" in out
