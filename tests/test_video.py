"""Videos: every frame covered (tracking bridges misses), upright, same timing, nothing identifying left."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import minface
from minface.video.tracking import SceneCuts, Tracker

av = pytest.importorskip("av", reason="videos need PyAV: pip install 'minface[video]'")
pytest.importorskip("skimage", reason="the test face comes from scikit-image")

import video_samples as V  # noqa: E402

N = 16  # frames per test clip


def _require(tool: str) -> str | None:
    path = shutil.which(tool)
    if path is None and os.environ.get(f"MINFACE_REQUIRE_{tool.upper()}"):
        pytest.fail(f"{tool} is required (MINFACE_REQUIRE_{tool.upper()} is set)")
    return path


def decode(path: Path) -> tuple[list[np.ndarray], list[Fraction], list[int]]:
    """RGB frames, presentation times and rotations of a video."""
    frames, times, rots = [], [], []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            frames.append(f.to_ndarray(format="rgb24"))
            times.append(f.pts * f.time_base)
            rots.append(int(f.rotation or 0))
    return frames, times, rots


def face_mask(shape: tuple[int, int], box: tuple[int, int, int, int], centre: float = 0.6) -> np.ndarray:
    """The central part of a face box (eyes, nose, mouth) as a boolean mask."""
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * (1 - centre) / 2, (y2 - y1) * (1 - centre) / 2
    m = np.zeros(shape, bool)
    m[int(y1 + my) : int(y2 - my), int(x1 + mx) : int(x2 - mx)] = True
    return m


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A portrait phone video: the sensor's landscape frames (the face lying on its side), a display matrix
    that turns them 90 degrees clockwise, audio; returns the path and the upright frames and face boxes."""
    d = tmp_path_factory.mktemp("clip")
    upright, boxes = V.moving_face_frames(N, 192, 256, size=64, step=5)
    for f in upright:
        f[:12, :12] = (255, 0, 0)  # a red marker at the top-left corner of the picture as shown
    stored = [np.ascontiguousarray(np.rot90(f, 1)) for f in upright]  # 256x192, turned counter-clockwise
    path = d / "IMG_0001.MOV"
    V.write_video(path, stored, audio=True, container="mov")
    V.set_rotation(path, (0, 1, -1, 0))
    return path, upright, boxes


@pytest.fixture(scope="module")
def scrubbed(clip, tmp_path_factory):
    path = clip[0]
    out = tmp_path_factory.mktemp("out") / "IMG_0001.mp4"
    result = minface.scrub(path, out)
    return out, result


def test_face_covered_in_every_frame_and_output_upright(clip, scrubbed):
    _, upright, boxes = clip
    out, result = scrubbed
    assert result.status == "ok" and result.kind == "video" and result.frames == N
    assert result.rotation == 270 and (result.width, result.height) == (192, 256)
    with av.open(str(clip[0])) as c:  # stored sideways, as a phone stores a portrait video
        first = next(c.decode(video=0))
        assert (first.width, first.height, first.rotation) == (256, 192, -90)
    got, _, rots = decode(out)
    assert len(got) == N and set(rots) == {0}  # no rotation left in the output
    for i, (orig, new, box) in enumerate(zip(upright, got, boxes)):
        assert new.shape == (256, 192, 3)
        mask = face_mask(orig.shape[:2], box)
        diff = np.abs(new.astype(int) - orig.astype(int)).mean(axis=2)
        assert diff[mask].mean() > 40, f"frame {i}: the face is not destroyed"
        assert new[mask].mean() < 30, f"frame {i}: the face region is not filled"
        # the picture is upright: away from the face, it matches the picture as players show it
        assert np.median(diff[~mask]) < 8
        assert new[:12, :12, 0].mean() > 180 and new[:12, :12, 1].mean() < 80  # the red marker is top-left
    assert result.tracks >= 1 and result.faces_per_frame["frames_with_faces"] == N


def test_timing_and_frame_count_kept(clip, scrubbed):
    _, in_times, _ = decode(clip[0])
    _, out_times, _ = decode(scrubbed[0])
    assert out_times == in_times


def test_variable_frame_rate_keeps_every_timestamp(tmp_path):
    frames, _ = V.moving_face_frames(10, 160, 120, size=40)
    pts = [0, 40, 70, 140, 180, 300, 320, 333, 400, 500]  # milliseconds, irregular
    src = tmp_path / "vfr.mp4"
    V.write_video(src, frames, pts=pts, time_base=Fraction(1, 1000), fps=25)
    out = tmp_path / "out.mp4"
    minface.scrub(src, out, preset="fast")
    _, t_in, _ = decode(src)
    _, t_out, _ = decode(out)
    assert t_in == [Fraction(p, 1000) for p in pts] and t_out == t_in


def test_audio_dropped_by_default_and_kept_on_request(clip, scrubbed, tmp_path):
    with av.open(str(clip[0])) as c:
        assert len(c.streams.audio) == 1
    with av.open(str(scrubbed[0])) as c:
        assert [s.type for s in c.streams] == ["video"]
    assert scrubbed[1].audio == "dropped"
    out = tmp_path / "with-audio.mp4"
    r = minface.scrub(clip[0], out, keep_audio=True, preset="fast")
    assert r.audio == "kept"
    with av.open(str(out)) as c:
        assert sorted(s.type for s in c.streams) == ["audio", "video"]
        assert c.streams.audio[0].codec_context.name == "aac"
        assert not {k for k in c.streams.audio[0].metadata if k not in ("language", "handler_name", "vendor_id")}
        assert sum(1 for _ in c.decode(audio=0)) > 0


GENERIC = {"major_brand", "minor_version", "compatible_brands", "encoder"}


def _tagged_mov(path: Path) -> list[np.ndarray]:
    frames, _ = V.moving_face_frames(8, 160, 120, size=40)
    meta = {
        "location": "+48.8584+002.2945/",
        "make": "Apple",
        "model": "iPhone 15 Pro",
        "creation_time": "2024-05-01T10:00:00.000000Z",
        "artist": "Alice Smith",
        "com.apple.quicktime.location.ISO6709": "+48.8584+002.2945+035.000/",
        "com.apple.quicktime.make": "Apple",
        "com.apple.quicktime.software": "17.4.1",
    }
    V.write_video(path, frames, container="mov", metadata=meta, audio=True, options={"movflags": "use_metadata_tags"})
    return frames


def test_tags_are_gone(tmp_path):
    src = tmp_path / "tagged.mov"
    _tagged_mov(src)
    with av.open(str(src)) as c:  # the sample really carries them
        assert {"location", "make", "model"} <= set(c.metadata)
    assert "container tag make" in minface.video.leftovers(src, "MOV")
    out = tmp_path / "out.mp4"
    minface.scrub(src, out, preset="fast")
    with av.open(str(out)) as c:
        assert set(c.metadata) <= GENERIC
        assert all(set(s.metadata) <= {"language", "handler_name", "vendor_id"} for s in c.streams)
    assert minface.video.leftovers(out) == []
    blob = out.read_bytes()
    for needle in (b"Apple", b"iPhone", b"+48.85", b"Alice", b"\xa9xyz", b"\xa9mak", b"\xa9day", b"mdta", b"keys"):
        assert needle not in blob


def test_exiftool_and_ffprobe_find_no_tag(tmp_path):
    exiftool, ffprobe = _require("exiftool"), _require("ffprobe")
    if not exiftool and not ffprobe:
        pytest.skip("needs exiftool or ffprobe")
    src = tmp_path / "tagged.mov"
    _tagged_mov(src)
    out = tmp_path / "out.mp4"
    minface.scrub(src, out, preset="fast")
    if exiftool:
        def tags(p: Path) -> dict:
            raw = subprocess.run([exiftool, "-j", "-a", "-G1", "-ee", str(p)], capture_output=True, text=True, check=True)
            return json.loads(raw.stdout)[0]

        before, after = tags(src), tags(out)
        assert any("GPS" in k or "Location" in k for k in before) and any(k.endswith(":Make") for k in before)
        bad = [
            k for k, v in after.items()
            if not k.startswith(("System:", "File:", "ExifTool:"))
            and (
                any(w in k for w in ("GPS", "Location", "Make", "Model", "Software", "Artist", "Author", "Title", "Comment"))
                or ("Date" in k and str(v).strip("0: ") != "")
            )
        ]
        assert bad == [], {k: after[k] for k in bad}
    if ffprobe:
        info = V.ffprobe_json(out)
        assert set(info["format"].get("tags", {})) <= GENERIC
        assert [s["codec_type"] for s in info["streams"]] == ["video"]
        assert not info.get("chapters")
        assert not any(sd for s in info["streams"] for sd in s.get("side_data_list", []) if "rotation" in sd)


@pytest.mark.parametrize("mov", [True, False], ids=["mov-subtitles-chapters", "mkv-subtitles-attachment"])
def test_subtitles_chapters_and_attachments_are_gone(tmp_path, mov):
    if not _require("ffmpeg") or not _require("ffprobe"):
        pytest.skip("ffmpeg is needed to add subtitle tracks, chapters and attachments to the sample")
    frames, _ = V.moving_face_frames(8, 160, 120, size=40)
    plain = tmp_path / "plain.mp4"
    V.write_video(plain, frames, audio=True)
    src = tmp_path / ("tracks.mov" if mov else "tracks.mkv")
    V.add_tracks_with_ffmpeg(plain, src, workdir=tmp_path, mov=mov)
    before = V.ffprobe_json(src)
    kinds = {s["codec_type"] for s in before["streams"]}
    attached = any("filename" in s.get("tags", {}) for s in before["streams"])  # FFmpeg shows a cover image as a stream
    assert "subtitle" in kinds and before["chapters"] and (mov or attached)
    out = tmp_path / "out.mp4"
    r = minface.scrub(src, out, preset="fast")
    assert r.frames == 8
    after = V.ffprobe_json(out)
    assert [s["codec_type"] for s in after["streams"]] == ["video"]
    assert not after["chapters"] and set(after["format"].get("tags", {})) <= GENERIC
    assert b"Alice" not in out.read_bytes() and b"Elm Street" not in out.read_bytes()


class _Missing:
    """A detector that finds faces with a real one but loses them in the given frames."""

    turned = False

    def __init__(self, real, drop: set[int]) -> None:
        self.real, self.drop, self.seen = real, drop, 0

    def detect_batch(self, images, *, batch=8):
        found = self.real.detect_batch(images, batch=batch)
        out = []
        for f in found:
            out.append(minface.Faces.empty(f.image_size) if self.seen in self.drop else f)
            self.seen += 1
        return out


def test_a_missed_frame_does_not_leak(tmp_path):
    frames, boxes = V.moving_face_frames(N, 256, 192, size=64, step=5)
    src = tmp_path / "walk.mp4"
    V.write_video(src, frames)
    drop = {0, 1, 7, 12, 13, 14}  # the first frames (look-back), one frame, three frames in a row
    det = _Missing(minface.Detector("balanced", turned=False), drop)
    out = tmp_path / "out.mp4"
    r = minface.video.scrub_video(src, out, detector=det)
    assert det.seen == N and r.bridged >= len(drop)
    got, _, _ = decode(out)
    for i in sorted(drop):
        mask = face_mask(frames[i].shape[:2], boxes[i])
        assert got[i][mask].mean() < 30, f"frame {i}: the face leaked where the detector missed it"


class _Fixed:
    """A detector that reports one fixed box in the frames before ``until``."""

    turned = False

    def __init__(self, box, until: int) -> None:
        self.box, self.until, self.seen = box, until, 0

    def detect_batch(self, images, *, batch=8):
        out = []
        for im in images:
            h, w = im.shape[:2]
            boxes = [self.box] if self.seen < self.until else []
            out.append(minface.Faces(np.array(boxes, np.float32).reshape(-1, 4), np.ones(len(boxes)), image_size=(w, h)))
            self.seen += 1
        return out


def test_a_scene_cut_ends_the_tracks(tmp_path):
    a = V.background(160, 120, seed=1)
    b = np.full((120, 160, 3), 235, np.uint8)  # another shot: bright and flat
    frames = [a.copy() for _ in range(6)] + [b.copy() for _ in range(6)]
    src = tmp_path / "cut.mp4"
    V.write_video(src, frames)
    out = tmp_path / "out.mp4"
    r = minface.video.scrub_video(src, out, detector=_Fixed((50, 30, 90, 80), until=6), max_gap=12, lookback=8)
    assert r.scene_cuts == 1
    got, _, _ = decode(out)
    region = (slice(40, 70), slice(60, 80))
    assert all(g[region].mean() < 30 for g in got[:6])  # painted in the first shot
    assert all(g[region].mean() > 200 for g in got[6:])  # nothing carried into the second


def test_truncated_video_gets_an_error_record_and_no_output(clip, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    good = src / "good.mov"
    shutil.copy(clip[0], good)
    data = (tmp_path / "x.mp4")
    V.write_video(data, clip[1][:8], options={"movflags": "+faststart"})  # index first: the cut keeps it readable
    raw = data.read_bytes()
    cut = src / "cut.mp4"
    cut.write_bytes(raw[: len(raw) * 6 // 10])
    (src / "short.mov").write_bytes(clip[0].read_bytes()[:5000])  # the index is at the end: lost
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in src.iterdir()}
    report = tmp_path / "r.jsonl"
    from minface.cli import main

    code = main(["scrub", "-q", "-j", "1", str(src), "-o", str(tmp_path / "out"), "--report", str(report)])
    assert code == 1
    recs = {Path(r["input"]).name: r for r in map(json.loads, report.read_text().splitlines())}
    assert recs["good.mov"]["status"] == "ok" and recs["good.mov"]["output"].endswith("good.mp4")
    assert recs["cut.mp4"]["status"] == "error" and "truncated or damaged" in recs["cut.mp4"]["error"]
    assert recs["short.mov"]["status"] == "error" and recs["short.mov"]["output"] is None
    assert sorted(os.listdir(tmp_path / "out")) == ["good.mp4"]  # nothing partial, no temporary left
    assert before == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in src.iterdir()}
    rec = recs["good.mov"]
    assert rec["frames"] == N and rec["fps"] == 15.0 and rec["tracks"] >= 1 and rec["faces_per_frame"]["max"] >= 1
    # resume: a second run skips the finished video
    assert main(["scrub", "-q", "-j", "1", "--preset", "fast", str(good), str(tmp_path / "in" / "cut.mp4"),
                 "-o", str(tmp_path / "out"), "--report", str(report)]) == 1
    last = [json.loads(line) for line in report.read_text().splitlines()][-2:]
    assert {Path(r["input"]).name: r["status"] for r in last} == {"good.mov": "skipped", "cut.mp4": "error"}


def test_limits(clip, tmp_path):
    with pytest.raises(minface.video.VideoLimitError, match="max_pixels"):
        minface.video.scrub_video(clip[0], tmp_path / "a.mp4", max_pixels=100 * 100, preset="fast")
    with pytest.raises(minface.video.VideoLimitError, match="max_seconds"):
        minface.video.scrub_video(clip[0], tmp_path / "b.mp4", max_seconds=0.5, preset="fast")
    assert os.listdir(tmp_path) == []
    from minface.cli import main

    report = tmp_path / "r.jsonl"
    assert main(["scrub", "-q", "--max-video-seconds", "0.5", str(clip[0]), "-o", str(tmp_path / "o"), "--report", str(report)]) == 1
    assert "raise the limit" in json.loads(report.read_text())["error"]


def test_single_video_to_a_named_file_and_verify(clip, scrubbed, tmp_path, capsys):
    from minface.cli import main

    out = tmp_path / "clean.mp4"
    assert main(["scrub", "-q", "--preset", "fast", str(clip[0]), "-o", str(out)]) == 0 and out.is_file()
    report = tmp_path / "v.jsonl"
    assert main(["verify", "-q", "-j", "1", str(scrubbed[0]), "--json", str(report)]) == 0
    rec = json.loads(report.read_text())
    assert rec["status"] == "ok" and rec["kind"] == "video" and len(rec["frames_checked"]) == N
    assert main(["verify", "-q", "-j", "1", str(clip[0])]) == 1  # the original: faces and a rotation
    printed = capsys.readouterr().out
    assert "intact face in frame" in printed and "rotation" in printed


def test_without_pyav_videos_get_the_install_hint(monkeypatch, tmp_path, clip):
    import importlib.util
    import sys

    from minface import walk

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "av" else real(name, *a))
    p = walk.plan([clip[0]], tmp_path / "out", videos=True)
    assert p.tasks == [] and "pip install 'minface[video]'" in p.records[0]["reason"]
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(minface.MissingDependencyError, match=r"minface\[video\]"):
        minface.video.require_av()


# -- the tracker on synthetic box sequences ------------------------------------------


def _feed(tracker: Tracker, seq: list[list[list[float]]], cuts: set[int] = frozenset()) -> None:
    for f, boxes in enumerate(seq):
        tracker.update(f, np.array(boxes, np.float64).reshape(-1, 4), cut=f in cuts)


def _covers(boxes: np.ndarray, target: list[float]) -> bool:
    from minface.video.tracking import iou

    return bool(len(boxes)) and float(iou(np.array([target]), boxes).max()) > 0.5


def test_tracker_bridges_gaps_along_the_motion():
    seq = [[[10 + 4 * f, 20, 40 + 4 * f, 60]] for f in range(20)]
    truth = [s[0] for s in seq]
    for f in (5, 9, 10, 11):
        seq[f] = []
    t = Tracker(max_gap=4, lookback=3)
    _feed(t, seq)
    for f in range(20):
        boxes, kinds = t.boxes(f)
        assert _covers(boxes, truth[f]), f
        assert kinds == (["interpolated"] if f in (5, 9, 10, 11) else ["detected"])
    assert len(t.summary()) == 1


def test_tracker_extends_forward_and_backward_but_not_too_far():
    seq: list[list[list[float]]] = [[] for _ in range(30)]
    for f in range(10, 16):
        seq[f] = [[100 + 2 * f, 50, 140 + 2 * f, 100]]
    t = Tracker(max_gap=5, lookback=3)
    _feed(t, seq)
    assert [f for f in range(30) if len(t.boxes(f)[0])] == list(range(7, 21))
    assert t.boxes(8)[1] == ["backward"] and t.boxes(18)[1] == ["forward"]
    fwd = t.boxes(18)[0][0]
    assert fwd[0] > 100 + 2 * 15  # moved on along the motion
    assert (fwd[2] - fwd[0]) > 40  # and grown


def test_tracker_keeps_two_faces_apart_and_a_cut_resets():
    a = [[10, 10, 50, 60]]
    b = [[200, 10, 240, 60]]
    seq = [a + b] * 5 + [a] + [a + b] * 4 + [[]] * 2
    t = Tracker(max_gap=3, lookback=2)
    _feed(t, seq, cuts={10})
    assert len(t.summary()) == 2
    assert _covers(t.boxes(5)[0], b[0])  # b missed in frame 5: bridged
    assert len(t.boxes(10)[0]) == 0 and len(t.boxes(11)[0]) == 0  # nothing crosses the cut
    assert t.cuts == [10]


def test_tracker_boxes_never_turn_inside_out():
    """A shrinking face, extrapolated far beyond its last detection, still gives valid boxes (a Faces needs them)."""
    seq = [[[100 + 6 * f, 100 + 6 * f, 200 - 6 * f, 200 - 6 * f]] for f in range(6)] + [[]] * 12
    t = Tracker(max_gap=12, lookback=8)
    _feed(t, seq)
    for f in range(len(seq)):
        boxes, _ = t.boxes(f)
        assert len(boxes) == 1 and (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
        minface.Faces(boxes, np.ones(len(boxes)))


def test_tracker_memory_is_released():
    t = Tracker(max_gap=3, lookback=2)
    for f in range(200):
        t.update(f, np.array([[f % 7 * 50, 0, f % 7 * 50 + 20, 20]], np.float64) if f % 3 == 0 else np.zeros((0, 4)))
        t.release(max(0, f - 5))
    assert len(t.tracks) < 10 and sum(len(tr.frames) for tr in t.tracks) < 30
    assert sum(s["detections"] for s in t.summary()) == 67


def test_scene_cuts_ignore_motion_and_find_new_shots():
    cuts = SceneCuts()
    frames, _ = V.moving_face_frames(10, 160, 120, size=40, step=6)
    assert not any(cuts(f) for f in frames)
    assert cuts(np.full((120, 160, 3), 240, np.uint8))


@pytest.mark.parametrize(
    "name, container, codec",
    [("clip.mkv", "matroska", "libx264"), ("clip.webm", "webm", "libvpx-vp9"), ("clip.avi", "avi", "mpeg4")],
)
def test_other_containers_are_read(tmp_path, name, container, codec):
    if codec not in av.codecs_available:
        pytest.skip(f"this PyAV build has no {codec} encoder to make the sample")
    frames, boxes = V.moving_face_frames(8, 160, 120, size=48)
    src = tmp_path / name
    V.write_video(src, frames, container=container, codec=codec)
    out = tmp_path / "out.mp4"
    r = minface.scrub(src, out)
    assert r.status == "ok" and r.frames == 8
    got, _, _ = decode(out)
    assert len(got) == 8 and all(g[face_mask(g.shape[:2], b)].mean() < 40 for g, b in zip(got, boxes))


def test_audio_mp4_cannot_hold_is_reencoded(tmp_path):
    """PCM sound (common in MOV and AVI) is re-encoded to AAC when kept; MP4 players expect it."""
    frames, _ = V.moving_face_frames(8, 160, 120, size=40)
    src = tmp_path / "pcm.mov"
    with av.open(str(src), "w", format="mov") as o:
        vs = o.add_stream("libx264", rate=15)
        vs.width, vs.height, vs.pix_fmt = 160, 120, "yuv420p"
        a = o.add_stream("pcm_s16le", rate=16000)
        a.layout = "mono"
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts = i
            for p in vs.encode(vf):
                o.mux(p)
        for p in vs.encode():
            o.mux(p)
        for s in range(0, 8000, 1000):
            af = av.AudioFrame.from_ndarray(np.full((1, 1000), 300, np.int16), format="s16", layout="mono")
            af.sample_rate, af.pts = 16000, s
            for p in a.encode(af):
                o.mux(p)
        for p in a.encode():
            o.mux(p)
    out = tmp_path / "out.mp4"
    r = minface.scrub(src, out, keep_audio=True, preset="fast")
    assert r.audio == "kept"
    with av.open(str(out)) as c:
        assert [(s.type, s.codec_context.name) for s in c.streams] == [("video", "h264"), ("audio", "aac")]
        assert sum(f.samples for f in c.decode(audio=0)) >= 7000
