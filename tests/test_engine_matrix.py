"""The archive rules, once, over every path of the engine.

The single-machine batch (a local path) and the Dask path over a plain local
path, ``file://`` and ``memory://`` run the same checks: one record per input,
what is not a photo skipped, links never followed or written through, a rerun
after a kill resumes (the killed writer's temporary removed, finished outputs
kept), no temporary left, nothing written outside the output.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from conftest import dead_temporary
from test_scrub import jpeg_bytes, scene

import minface
from minface.engine import store as engine_store

PATHS = ["local", "dask-path", "dask-file", "dask-memory"]


@pytest.fixture(scope="module")
def cluster():
    """One in-process worker thread (memory:// is one process's memory); started only for the Dask paths."""
    pytest.importorskip("distributed")
    pytest.importorskip("fsspec")
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0") as c:
        with Client(c, set_as_default=False) as client:
            yield client


class Archive:
    """A tiny archive on one of the paths: write inputs, run a scrub, read the outputs and the report."""

    def __init__(self, kind: str, tmp: Path, request: pytest.FixtureRequest) -> None:
        self.kind, self.tmp = kind, tmp
        self.src, self.out, self.report = tmp / "in", tmp / "out", tmp / "report.jsonl"
        self.src.mkdir()
        self.client = request.getfixturevalue("cluster") if kind != "local" else None
        if kind == "dask-memory":
            import fsspec

            self.fs = fsspec.filesystem("memory")
            self.bucket = f"/matrix-{uuid.uuid4().hex[:8]}"

    # where things are, as each path names them
    def _url(self, path: Path) -> str:
        if self.kind == "dask-file":
            return path.as_uri()
        if self.kind == "dask-memory":
            return f"memory://{self.bucket}/{path.relative_to(self.tmp).as_posix()}"
        return str(path)

    def put(self, rel: str, data: bytes) -> None:
        (self.src / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.src / rel).write_bytes(data)
        if self.kind == "dask-memory":
            self.fs.pipe_file(f"{self.bucket}/in/{rel}", data)

    def rm(self, rel: str) -> None:
        (self.src / rel).unlink()
        if self.kind == "dask-memory":
            self.fs.rm_file(f"{self.bucket}/in/{rel}")

    def outputs(self) -> dict[str, bytes]:
        """Every file under the output, temporaries included, by relative path."""
        if self.kind == "dask-memory":
            base = f"{self.bucket}/out/"
            return {k.split(base, 1)[1]: self.fs.cat_file(k) for k in self.fs.find(base)}
        return {p.relative_to(self.out).as_posix(): p.read_bytes() for p in self.out.rglob("*") if p.is_file()}

    def leave_temporary(self, rel: str) -> str:
        """Half an output under the name a killed writer leaves."""
        folder, _, name = rel.rpartition("/")
        tmp = f"{folder}/{dead_temporary(name)}" if folder else dead_temporary(name)
        if self.kind == "dask-memory":
            self.fs.pipe_file(f"{self.bucket}/out/{tmp}", b"half an image")
        else:
            (self.out / tmp).parent.mkdir(parents=True, exist_ok=True)
            (self.out / tmp).write_bytes(b"half an image")
        return tmp

    def scrub(self) -> tuple[minface.batch.BatchSummary, list[dict]]:
        before = self.report.read_text().count("\n") if self.report.exists() else 0
        if self.kind == "local":
            summary = minface.scrub_batch([self.src], self.out, jobs=1, threads=1, preset="fast", report=self.report, progress=False)
        else:
            import minface.distributed as md

            summary = md.scrub(
                self._url(self.src), self._url(self.out), client=self.client, preset="fast",
                partition_size=2, report=self.report,
            )
        lines = self.report.read_text().splitlines()[before:]
        return summary, [json.loads(line) for line in lines]

    def rel(self, record: dict) -> str:
        name = record["input"].split("://", 1)[-1]
        base = self._url(self.src).split("://", 1)[-1]
        assert name.startswith(base + "/"), (name, base)
        return name[len(base) + 1 :]


@pytest.fixture(params=PATHS)
def archive(request, tmp_path) -> Archive:
    return Archive(request.param, tmp_path, request)


def _photos(a: Archive, n: int) -> list[str]:
    names = []
    for i in range(n):
        rel = f"day{i % 2}/img{i}.jpg"
        a.put(rel, jpeg_bytes(scene(i).image))
        names.append(rel)
    return names


def test_one_record_per_input_skips_and_nothing_outside_the_output(archive):
    photos = _photos(archive, 3)
    archive.put("notes.txt", b"meeting notes, not a photo")
    archive.put("bad/corrupt.jpg", jpeg_bytes(scene(5).image)[:400])
    outside = sorted(p.name for p in archive.tmp.iterdir())
    summary, records = archive.scrub()
    by = {archive.rel(r): r for r in records}
    assert len(records) == len(by) == 5, "one record per input, none repeated"
    assert (summary.ok, summary.failed, summary.skipped) == (3, 1, 1)
    assert by["notes.txt"]["status"] == "skipped" and by["notes.txt"]["output"] is None
    assert by["bad/corrupt.jpg"]["status"] == "error" and by["bad/corrupt.jpg"]["output"] is None
    assert sorted(archive.outputs()) == sorted(photos), "the tree mirrored, nothing for the bad files, no temporary"
    made = {"report.jsonl"} | ({"out"} if archive.kind != "dask-memory" else set())
    assert sorted(p.name for p in archive.tmp.iterdir()) == sorted({*outside, *made}), "nothing outside the output"

    again, records = archive.scrub()  # a rerun skips what is done, each input once more
    assert (again.ok, again.skipped) == (0, 4) and len(records) == 5
    assert {by_rel["reason"] for by_rel in records if by_rel["status"] == "skipped"} >= {"output exists"}


def test_resume_after_a_kill_removes_the_dead_writers_temporary(archive):
    photos = _photos(archive, 4)
    archive.rm(photos[3])
    first, _ = archive.scrub()  # three done, as a run killed before its last file
    assert first.ok == 3
    done = archive.outputs()
    archive.put(photos[3], jpeg_bytes(scene(3).image))
    stale = archive.leave_temporary(photos[3])
    summary, records = archive.scrub()
    assert (summary.ok, summary.skipped) == (1, 3) and len(records) == 4
    after = archive.outputs()
    assert stale not in after and sorted(after) == sorted(photos), "the killed writer's temporary removed"
    assert {k: after[k] for k in done} == done, "finished outputs are not rewritten"


def test_links_are_never_followed_or_written_through(archive):
    if archive.kind == "dask-memory":
        pytest.skip("memory:// has no links")
    _photos(archive, 1)
    elsewhere = archive.tmp / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.jpg").write_bytes(jpeg_bytes(scene(2).image))
    os.symlink(elsewhere, archive.src / "linked")
    summary, records = archive.scrub()
    assert not any(archive.rel(r).startswith("linked/") for r in records), "a link to a folder is not walked"
    assert summary.ok == 1 and "linked" not in {k.split("/")[0] for k in archive.outputs()}
    assert sorted(p.name for p in elsewhere.iterdir()) == ["x.jpg"]


def test_a_spooled_copy_is_removed_also_after_its_owner_was_killed(tmp_path, monkeypatch):
    """A remote input spooled to a local file (a video for the scrubber) never stays in the temporary folder."""
    import tempfile

    from minface._temp import temporary_folder

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with engine_store.spool(b"a whole video", "clip.mov") as path:
        assert Path(path).read_bytes() == b"a whole video" and Path(path).name == "clip.mov"
    assert not list(tmp_path.iterdir())
    left = tmp_path / dead_temporary("minface-video")  # what a killed worker leaves
    left.mkdir()
    (left / "clip.mov").write_bytes(b"a whole video")
    mine = temporary_folder(tmp_path)  # a live process's: kept
    with engine_store.spool(b"x", "other.mov") as path:  # each new spool sweeps first
        assert Path(path).parent.parent == tmp_path and not left.exists()
    assert sorted(tmp_path.iterdir()) == [mine], "the killed owner's copy removed, the live one's kept"
