"""minface.distributed on a real LocalCluster: same results as the single-machine batch, any fsspec store,
a worker killed mid-job, resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
fsspec = pytest.importorskip("fsspec")

import cloudpickle  # after the skips: these need Dask
import dask
from distributed import Client, LocalCluster, WorkerPlugin
from PIL import Image
from conftest import dead_temporary
from test_scrub import assert_scrubbed, jpeg_bytes, make_tree, scene

import minface
import minface.distributed as md
from minface.errors import MissingDependencyError

# the worker-side hook of the kill test is defined here: send it to the workers by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

BAD = {"corrupt.jpg": "truncated JPEG"}
SKIPPED = {"notes.txt": "not an image"}  # skipped from its content, on the workers as on one machine


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes, as on a real cluster (each loads its own model)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0") as cluster:
        with Client(cluster, set_as_default=False) as c:
            yield c


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Six photos in nested folders plus two bad files, and the single-machine batch's result on them."""
    root = tmp_path_factory.mktemp("archive")
    src = root / "photos"
    truth = make_tree(src, 6)
    (src / "corrupt.jpg").write_bytes(jpeg_bytes(scene(7).image)[:2500])
    (src / "notes.txt").write_text("meeting notes, not a photo")
    report = root / "reference.jsonl"
    summary = minface.scrub_batch([src], root / "reference", jobs=1, threads=1, preset="fast", report=report)
    assert (summary.ok, summary.failed, summary.skipped) == (6, 1, 1)
    records = {_rel(r["input"], src): r for r in map(json.loads, report.read_text().splitlines())}
    return src, truth, root / "reference", records


def _rel(name: str, base: str | Path) -> str:
    """The path of ``name`` (a path or URL) relative to ``base`` (a path or URL)."""
    name = name.split("://", 1)[-1]
    base = os.fspath(base).split("://", 1)[-1].rstrip("/")
    assert name.startswith(base + "/"), (name, base)
    return name[len(base) + 1 :]


def _comparable(record: dict, base: str) -> dict:
    """A record without what legitimately differs between runs: time and where the files are."""
    out = {k: v for k, v in record.items() if k not in ("seconds", "input", "output")}
    if out.get("error"):
        out["error"] = out["error"].replace(record["input"], "<input>")
    out["wrote"] = record.get("output") is not None
    return out


def _check_against_reference(records: list[dict], read_output, src_url: str, archive) -> None:
    src, truth, reference, ref_records = archive
    by_rel = {_rel(r["input"], src_url): r for r in records}
    assert sorted(by_rel) == sorted(ref_records), "one record per input, none lost or repeated"
    assert len(records) == len(by_rel)
    for rel, ref in ref_records.items():
        assert _comparable(by_rel[rel], src_url) == _comparable(ref, str(src)), rel
    for name, reason in BAD.items():
        assert by_rel[name]["status"] == "error" and reason in by_rel[name]["error"]
    for name, reason in SKIPPED.items():
        assert by_rel[name]["status"] == "skipped" and by_rel[name]["reason"] == reason
        assert by_rel[name]["output"] is None
    for rel in truth:  # JPEG encoding is deterministic for the same pixels: compare what decodes
        mine = np.asarray(Image.open(read_output(rel)))
        theirs = np.asarray(Image.open(reference / rel))
        assert np.array_equal(mine, theirs), rel


def _outputs(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _temporaries(names) -> list[str]:
    return [n for n in map(str, names) if n.endswith((".tmp", md.TEMP_SUFFIX))]


def test_local_folder_same_as_single_machine(client, archive, tmp_path):
    src, truth, _, _ = archive
    out, report = tmp_path / "out", tmp_path / "scrub.jsonl"
    summary = md.scrub(src, out, client=client, preset="fast", partition_size=3, report=report)
    assert (summary.ok, summary.failed, summary.skipped) == (6, 1, 1)
    assert summary.faces == 12 and summary.bytes_in > 0 and summary.bytes_out > 0 and summary.partitions == 3
    assert summary.exit_code == 1 and "6 ok, 1 failed, 1 skipped" in summary.to_text()
    records = [json.loads(line) for line in report.read_text().splitlines()]
    assert all(r["input"].startswith("file://") for r in records)
    assert all(r["output"].startswith("file://") for r in records if r["status"] == "ok")
    _check_against_reference(records, lambda rel: out / rel, src.as_uri(), archive)
    assert _outputs(out) == sorted(truth)  # the tree mirrored, nothing for the bad files, no temporaries


def test_memory_store_threads_and_resume(archive):
    """memory:// lives in one process: in-process workers (two threads sharing one cached model)."""
    src, truth, _, _ = archive
    fs = fsspec.filesystem("memory")
    bucket = f"/archive-{uuid.uuid4().hex[:8]}"
    for p in src.rglob("*"):
        if p.is_file():
            fs.pipe_file(f"{bucket}/photos/{p.relative_to(src).as_posix()}", p.read_bytes())
    src_url, out_url, report = f"memory://{bucket}/photos", f"memory://{bucket}/clean", f"memory://{bucket}/scrub.jsonl"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0") as cluster:
        with Client(cluster) as c:  # the default client: used when none is passed
            summary = md.scrub(src_url, out_url, preset="fast", partition_size=2, report=report)
            assert (summary.ok, summary.failed, summary.skipped) == (6, 1, 1)
            records = [json.loads(line) for line in fs.cat_file(f"{bucket}/scrub.jsonl").decode().splitlines()]
            assert {r["input"].split("://")[0] for r in records} == {"memory"}
            _check_against_reference(
                records, lambda rel: fs.open(f"{bucket}/clean/{rel}", "rb"), src_url, archive
            )
            assert sorted(_rel(k, f"{bucket}/clean") for k in fs.find(f"{bucket}/clean")) == sorted(truth)

            # resume: remove the bad inputs, leave a stale temporary as a killed worker would
            for name in [*BAD, *SKIPPED]:
                fs.rm_file(f"{bucket}/photos/{name}")
            stale = f"{bucket}/clean/day0/{dead_temporary('img0.jpg')}"
            fs.pipe_file(stale, b"half an image")
            before = {k: fs.cat_file(k) for k in fs.find(f"{bucket}/clean")}
            again = md.scrub(src_url, out_url, client=c, preset="fast", report=report)
    assert (again.ok, again.failed, again.skipped, again.temporaries_removed) == (0, 0, 6, 1)
    lines = fs.cat_file(f"{bucket}/scrub.jsonl").decode().splitlines()
    assert len(lines) == 8 + 6  # appended, as the CLI's --report
    assert {json.loads(line)["status"] for line in lines[8:]} == {"skipped"}
    assert not fs.exists(stale)
    after = {k: fs.cat_file(k) for k in fs.find(f"{bucket}/clean")}
    assert after == {k: v for k, v in before.items() if k != stale}  # nothing rewritten


def _die_on_second_commit(marker: str) -> None:
    """Runs in each worker: the first worker to commit its second file leaves half a temporary and dies."""
    from minface.engine import store as s

    real, count = s.FsspecStore.commit, [0]

    def commit(self, path, data, **kw):
        count[0] += 1
        if count[0] == 2:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                self.fs.pipe_file(s.temporary_key(path), data[: len(data) // 2])
                os._exit(1)
        return real(self, path, data, **kw)

    s.FsspecStore.commit = commit


def test_worker_killed_mid_job(client, tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    truth = make_tree(src, 8)
    marker = tmp_path / "died"
    pids = set(client.run(os.getpid).values())
    client.run(_die_on_second_commit, str(marker))
    summary = md.scrub(src, out, client=client, preset="fast", partition_size=4, report=tmp_path / "r.jsonl")
    assert marker.exists(), "no worker died"
    assert set(client.run(os.getpid).values()) != pids  # the nanny started a new worker process
    assert (summary.ok, summary.failed, summary.skipped) == (8, 0, 0)
    assert summary.temporaries_removed >= 1  # the dead worker's half-written temporary
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert sorted(_rel(r["input"], src.as_uri()) for r in records) == sorted(truth)  # none lost, none twice
    assert _outputs(out) == sorted(truth) and not _temporaries(out.rglob("*"))
    for rel, faces in truth.items():
        assert_scrubbed(out / rel, faces)


class _Poison(WorkerPlugin):
    """On every worker, also those started after a death: a file named poison.jpg kills the process."""

    def setup(self, worker) -> None:
        import minface.distributed as d

        real = d.scrub_bytes

        def scrub_bytes(data, *, name, **options):
            if name.endswith("poison.jpg"):
                os._exit(1)
            return real(data, name=name, **options)

        d.scrub_bytes = scrub_bytes


def test_file_that_kills_every_worker_is_isolated(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    truth = make_tree(src, 3)
    (src / "poison.jpg").write_bytes(jpeg_bytes(scene(5).image))
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # give up on a task at its first death
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0") as cluster:
            with Client(cluster, set_as_default=False) as c:
                c.register_plugin(_Poison())
                summary = md.scrub(src, out, client=c, preset="fast", partition_size=4, report=tmp_path / "r.jsonl")
    assert (summary.ok, summary.failed, summary.partitions) == (3, 1, 1 + 4)  # split into single files
    records = {_rel(r["input"], src.as_uri()): r for r in map(json.loads, (tmp_path / "r.jsonl").read_text().splitlines())}
    assert len(records) == 4 and "worker process died on this file" in records["poison.jpg"]["error"]
    assert _outputs(out) == sorted(truth)


def test_cli_glue_glob_and_scheduler_address(client, archive, tmp_path, capsys):
    src, truth, _, _ = archive
    out, report = tmp_path / "out", tmp_path / "r.jsonl"
    common = {"scheduler": client.scheduler.address, "workers": None, "report": str(report), "overwrite": False, "quiet": True}
    assert md.scrub_from_cli([f"{src}/*"], str(out), dry_run=True, **common) == 0
    # the driver lists names only (no reads from the store): what is not an image is told on the workers
    assert not out.exists() and capsys.readouterr().out.count(" -> ") == 8
    assert md.scrub_from_cli([f"{src}/*"], out.as_uri(), preset="fast", **common) == 1
    err = capsys.readouterr().err
    assert "error: " in err and "truncated JPEG" in err and "6 ok, 1 failed, 1 skipped" in err
    assert _outputs(out) == sorted(truth)  # a glob mirrors the tree as the shell-expanded CLI would
    # no scheduler: a LocalCluster of `workers` processes, started and closed by the call
    one = min(truth)
    local = dict(common, scheduler=None, workers=1, overwrite=True, quiet=False)
    assert md.scrub_from_cli([str(src / one)], str(tmp_path / "one"), preset="fast", **local) == 0
    assert "1 worker(s)" in capsys.readouterr().err and _outputs(tmp_path / "one") == [Path(one).name]


def test_options_checked_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="unknown preset"):
        md.scrub(tmp_path, tmp_path / "out", preset="quick")
    with pytest.raises(ValueError, match="unknown method"):
        md.scrub(tmp_path, tmp_path / "out", method="smudge")
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(ValueError, match="not a folder"):
        md.scrub(tmp_path, tmp_path / "file")


def test_missing_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'minface\[dask\]'"):
        md.scrub("photos", "clean")


def test_import_minface_does_not_import_dask():
    code = "import sys, minface; assert 'dask' not in sys.modules and 'distributed' not in sys.modules; minface.distributed.scrub"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_heic_and_files_that_are_not_photos_on_the_cluster(client, tmp_path):
    """The Dask path reads HEIC and skips what is not a photo, as one machine does (the same code decides)."""
    pytest.importorskip("pillow_heif", reason="HEIC needs pip install 'minface[heif]'")
    import hostile_samples as H

    src = tmp_path / "phone"
    src.mkdir()
    (src / "IMG_0001.HEIC").write_bytes(H.heif(exif=H._exif()))
    (src / ".DS_Store").write_bytes(b"\0\0\0\1Bud1" + bytes(40))
    (src / "notes.txt").write_text("Jane Doe, passport 123456789")
    report = tmp_path / "r.jsonl"
    summary = md.scrub(src, tmp_path / "out", client=client, preset="fast", report=report)
    assert (summary.ok, summary.failed, summary.skipped) == (1, 0, 2) and summary.exit_code == 0
    records = {Path(r["input"]).name: r for r in map(json.loads, report.read_text().splitlines())}
    assert records[".DS_Store"]["reason"] == "system file (macOS folder settings)"
    assert records["notes.txt"]["reason"] == "not an image" and records["notes.txt"]["output"] is None
    assert _outputs(tmp_path / "out") == ["IMG_0001.HEIC"]
    assert minface.inspect(tmp_path / "out" / "IMG_0001.HEIC").clean
    (src / "IMG_0002.MOV").unlink(missing_ok=True)
    # the command line's --include/--exclude and --format reach the cluster too
    from minface.cli import main as cli_main

    argv = ["scrub", "-q", "--preset", "fast", "--scheduler", client.scheduler.address, str(src), "-o", str(tmp_path / "png")]
    assert cli_main([*argv, "--exclude", ".*", "--include", "*.heic", "--format", "png"]) == 0
    assert _outputs(tmp_path / "png") == ["IMG_0001.png"]


def test_videos_on_the_cluster(client, tmp_path):
    """The Dask path scrubs videos into MP4 files, a broken one is an error record, and a rerun skips them."""
    pytest.importorskip("av", reason="videos need PyAV: pip install 'minface[video]'")
    pytest.importorskip("skimage")
    import video_samples as V

    frames, boxes = V.moving_face_frames(8, 160, 120, size=48)
    local = tmp_path / "in"
    local.mkdir()
    V.write_video(local / "clip.mov", frames, container="mov", audio=True)
    (local / "broken.mp4").write_bytes((local / "clip.mov").read_bytes()[:3000])
    src, out = str(local), str(tmp_path / "out")
    report = tmp_path / "r.jsonl"
    summary = md.scrub(src, out, client=client, report=report)
    recs = {r["input"].rsplit("/", 1)[-1]: r for r in map(json.loads, report.read_text().splitlines())}
    assert recs["clip.mov"]["status"] == "ok" and recs["clip.mov"]["output"].endswith("/clip.mp4")
    assert recs["clip.mov"]["frames"] == 8 and recs["clip.mov"]["tracks"] >= 1
    assert recs["broken.mp4"]["status"] == "error" and summary.failed == 1
    fs, root = fsspec.core.url_to_fs(out)
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.find(root)) == ["clip.mp4"]
    again = md.scrub(src, out, client=client)
    assert again.skipped >= 1 and again.ok == 0
