"""Temporary files: one naming rule, removed only once their owner is gone, none left by a run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import dead_temporary
from PIL import Image

import minface
from minface import _temp
from minface.batch import run_batch
from minface.errors import ImageWriteError, MinfaceError
from minface.images import atomic_write


def _owner_of(proc: subprocess.Popen) -> _temp.Owner:
    start = _temp._start_time(proc.pid)
    assert start, "the process runs"
    return _temp.Owner(_temp.this_process().host, proc.pid, start)


@pytest.fixture
def other_process():
    """Another live process, as a second run of minface would be."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_a_name_holds_its_owner_and_fits_the_file_system():
    name = _temp.temporary_name("a.jpg")
    assert _temp.temporary_target(name) == "a.jpg" and _temp.temporary_owner(name) == _temp.this_process()
    for target in ("x" * 250, "照片" * 40):  # names the file system takes (up to 255 bytes)
        name = _temp.temporary_name(target)
        assert len(os.fsencode(name)) <= 255 and _temp.is_temporary_of(name, target)
    assert not _temp.is_temporary_of(_temp.temporary_name("a.jpg"), "b.jpg")
    assert _temp.temporary_target(".a.jpg.notes.tmp") is None


def test_only_temporaries_whose_owner_is_gone_are_stale(other_process):
    now = time.time()
    assert not _temp.is_stale(_temp.temporary_name("a.jpg"), now - 1e6)  # this process: at work
    assert not _temp.is_stale(_temp.temporary_name("a.jpg", _owner_of(other_process)), now - 1e6)
    assert _temp.is_stale(dead_temporary("a.jpg"), now)
    other_process.kill()
    other_process.wait()
    assert _temp.is_stale(_temp.temporary_name("a.jpg", _owner_of_dead(other_process.pid)), now)
    # an owner on another machine, or an older name without one: stale only once long unmodified
    far = _temp.temporary_name("a.jpg", _temp.Owner("00000000", 1, 1))
    assert not _temp.is_stale(far, now) and _temp.is_stale(far, now - _temp.UNKNOWN_OWNER_SECONDS - 1)
    legacy = ".a.jpg.k3j4h5g6.minface-tmp"
    assert not _temp.is_stale(legacy, now) and _temp.is_stale(legacy, now - _temp.UNKNOWN_OWNER_SECONDS - 1)
    assert not _temp.is_stale("a.jpg", now - 1e6)


def _owner_of_dead(pid: int) -> _temp.Owner:
    return _temp.Owner(_temp.this_process().host, pid, 12345)


def _photo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((48, 64, 3), 90, np.uint8)).save(path)
    return path


def test_a_second_run_never_removes_the_temporary_of_a_run_at_work(tmp_path, other_process):
    """Two scrubs into one folder: the second one's clean-up leaves the first one's temporary alone."""
    _photo(tmp_path / "in" / "a.jpg")
    out = tmp_path / "out"
    out.mkdir()
    working = out / _temp.temporary_name("clip.mp4", _owner_of(other_process))  # the first run, writing
    working.write_bytes(b"half a video")
    (out / "a.jpg").parent.mkdir(exist_ok=True)
    left = out / dead_temporary("a.jpg")  # a killed run's
    left.write_bytes(b"half an image")
    summary = minface.scrub_batch([tmp_path / "in"], out, jobs=1, preset="fast")
    assert summary.ok == 1
    assert working.read_bytes() == b"half a video" and not left.exists()


class _DiesOnce:
    """A job whose first attempt at ``b.jpg`` leaves a temporary and kills its worker process."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __call__(self):
        return self.run

    def run(self, task) -> dict:
        if task.input.name == "b.jpg":
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                task.output.parent.mkdir(parents=True, exist_ok=True)
                with open(task.output.parent / _temp.temporary_name(task.output.name), "wb") as f:
                    f.write(b"half an image")
                os._exit(1)  # killed mid-write: the pool retries the file
        atomic_write(task.output, task.input.read_bytes(), root=task.root)
        return {"input": os.fspath(task.input), "output": os.fspath(task.output), "status": "ok"}


def test_a_run_whose_worker_was_killed_leaves_no_temporary(tmp_path):
    for n in "abc":
        _photo(tmp_path / "in" / f"{n}.jpg")
    out = tmp_path / "out"
    summary = run_batch([tmp_path / "in"], out, _DiesOnce(str(tmp_path / "died")), jobs=2, progress=False)
    assert (tmp_path / "died").exists(), "no worker died"
    assert (summary.ok, summary.failed) == (3, 0)
    assert sorted(p.name for p in out.rglob("*")) == ["a.jpg", "b.jpg", "c.jpg"]


def test_every_write_error_is_a_minface_error(tmp_path):
    src = _photo(tmp_path / "a.jpg")
    too_long = tmp_path / ("x" * 300 + ".jpg")
    with pytest.raises(ImageWriteError):
        atomic_write(too_long, b"abc")
    with pytest.raises(MinfaceError):
        minface.scrub(src, too_long, preset="fast")
    with pytest.raises(MinfaceError):
        minface.strip(src, too_long)
    not_a_folder = src / "b.jpg"
    with pytest.raises(MinfaceError):
        minface.scrub(src, not_a_folder, preset="fast")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg"]
    from minface.cli import main

    assert main(["scrub", "-q", str(src), "-o", str(tmp_path / "out"), "--report", str(too_long)]) == 2  # no traceback
