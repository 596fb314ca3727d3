"""Hostile videos, generated: mirrored display matrices, size switches, truncations, edit lists, audio only.

Every clip is small (at most 64 frames of a few hundred pixels) and written by
PyAV (or by the system ``ffmpeg`` where only it can make the kind, such as an
edit list); :mod:`video_samples` supplies the face and the writer.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

import video_samples as V

#: The 2x2 part (a, b, c, d) of a display matrix for each way a frame can be shown mirrored or turned,
#: and how a shown frame is stored (rows, columns) for a player to show it so.
MATRICES = {
    "hflip": ((-1, 0, 0, 1), lambda f: f[:, ::-1]),
    "vflip": ((1, 0, 0, -1), lambda f: f[::-1]),
    "transpose": ((0, 1, 1, 0), lambda f: f.swapaxes(0, 1)),
    "antitranspose": ((0, -1, -1, 0), lambda f: f[::-1, ::-1].swapaxes(0, 1)),
    "cw90": ((0, 1, -1, 0), lambda f: np.rot90(f, 1)),
}


def shown_frames(n: int, width: int = 192, height: int = 144, faces: int = 2):
    """``n`` frames as a player shows them, ``faces`` faces moving in each; and each frame's face boxes."""
    bg = V.background(width, height)
    patch = V.face_patch(48)
    fh, fw = patch.shape[:2]
    frames, boxes = [], []
    for i in range(n):
        f = bg.copy()
        here = []
        for j in range(faces):
            x = 8 + j * (fw + 24) + 2 * i
            y = (height - fh) // 2 + (j % 2) * 6
            f[y : y + fh, x : x + fw] = patch
            here.append((x, y, x + fw, y + fh))
        frames.append(f)
        boxes.append(here)
    return frames, boxes


def mirrored_clip(path: Path, kind: str, n: int = 12):
    """An MP4 whose display matrix is ``kind`` (see :data:`MATRICES`): stored so that players show
    :func:`shown_frames`. Returns those frames and boxes."""
    matrix, store = MATRICES[kind]
    shown, boxes = shown_frames(n)
    stored = [np.ascontiguousarray(store(f)) for f in shown]
    V.write_video(path, stored)
    V.set_rotation(path, matrix)
    return shown, boxes


def sideways_clip(path: Path, n: int = 12):
    """An MP4 without any display matrix whose frames lie on their side (a lost rotation); its shown
    frames are the stored ones. Returns the frames and the face boxes in them."""
    upright, boxes = shown_frames(n, 192, 144, faces=1)
    stored = [np.ascontiguousarray(np.rot90(f, 1)) for f in upright]  # turned a quarter counter-clockwise
    V.write_video(path, stored)
    h, w = upright[0].shape[:2]
    turned = [[(y1, w - x2, y2, w - x1) for x1, y1, x2, y2 in bs] for bs in boxes]
    return stored, turned


def size_switch_ts(path: Path, small: tuple[int, int] = (64, 48), large: tuple[int, int] = (640, 480), n: int = 6) -> None:
    """An MPEG-TS that declares ``small`` frames and switches to ``large`` ones half way (two streams concatenated)."""
    import av

    with open(path, "wb") as out_file:
        for size in (small, large):
            tmp = path.with_suffix(f".{size[0]}.ts")
            w, h = size
            with av.open(str(tmp), "w", format="mpegts") as out:
                vs = out.add_stream("libx264", rate=15)
                vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
                for i in range(n):
                    f = av.VideoFrame.from_ndarray(V.background(w, h, seed=i), format="rgb24")
                    f.pts = i
                    for p in vs.encode(f):
                        out.mux(p)
                for p in vs.encode():
                    out.mux(p)
            out_file.write(tmp.read_bytes())
            tmp.unlink()


def plain_clip(path: Path, n: int = 60, *, container: str | None = None, options: dict | None = None, size=(96, 64)) -> None:
    """``n`` frames of a moving background (no face), for the truncation cases (VP9 in WebM, else H.264)."""
    w, h = size
    frames = [np.roll(V.background(w, h), 3 * i, axis=1) for i in range(n)]
    codec = "libvpx-vp9" if container == "webm" else "libx264"
    V.write_video(path, frames, container=container, options=options, codec=codec)


def truncated(src: Path, dst: Path, keep: float = 0.4) -> None:
    """The first ``keep`` of ``src``'s bytes (a download cut off, a file still being written)."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])


def vfr_gap_mkv(path: Path, face_at: int = 9) -> int:
    """A variable-frame-rate MKV: 10 frames, a gap of 100 s between frames 8 and 9, the face only in
    frame ``face_at``. Returns the number of frames."""
    frames, _ = shown_frames(10, faces=1)
    plain = V.background(*frames[0].shape[1::-1])
    frames = [f if i == face_at else plain.copy() for i, f in enumerate(frames)]
    pts = [i * 67 for i in range(9)] + [100_000 + 8 * 67]
    V.write_video(path, frames, container="matroska", pts=pts, time_base=Fraction(1, 1000))
    return len(frames)


def edit_list_mp4(src: Path, dst: Path, start: float = 1.3) -> None:
    """``ffmpeg -ss START -i SRC -c copy DST``: an MP4 cut without re-encoding, so with an edit list."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", str(start), "-i", str(src), "-c", "copy", str(dst)],
        check=True,
        capture_output=True,
    )


def audio_only(path: Path, container: str, codec: str) -> None:
    """A file with one short audio stream and no video (``.m4a``, ``.mka``, audio-only ``.webm``)."""
    import av

    with av.open(str(path), "w", format=container) as out:
        a = out.add_stream(codec, rate=48000)
        a.layout = "mono"
        t = np.arange(48000 // 2) / 48000
        tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        fmt = a.codec_context.format.name if a.codec_context.format else "fltp"
        for start in range(0, len(tone), 960):
            chunk = tone[start : start + 960][None, :]
            af = av.AudioFrame.from_ndarray(chunk.astype(np.float32), format="fltp" if fmt.endswith("p") else "flt", layout="mono")
            af.sample_rate = 48000
            af.pts = start
            af.time_base = Fraction(1, 48000)
            for p in a.encode(af):
                out.mux(p)
        for p in a.encode():
            out.mux(p)


def one_pixel_wide(path: Path, height: int = 32, n: int = 4) -> None:
    """An AVI file of raw RGB frames 1 pixel wide (4:2:0 video cannot hold them)."""
    import av

    with av.open(str(path), "w", format="avi") as out:
        vs = out.add_stream("rawvideo", rate=15)
        vs.width, vs.height, vs.pix_fmt = 1, height, "rgb24"
        for i in range(n):
            f = av.VideoFrame.from_ndarray(np.full((height, 1, 3), 40 * i, np.uint8), format="rgb24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)


def unfinished_mkv(path: Path, frames: int = 60, keep: float = 0.5) -> None:
    """A Matroska file as a recorder leaves it while still writing: streamed (no duration, no index yet)
    and cut at ``keep`` of its bytes (``ffmpeg ... -f matroska -`` into a file)."""
    data = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=15", "-frames:v", str(frames),
         "-c:v", "libx264", "-g", "15", "-f", "matroska", "-"],
        check=True,
        capture_output=True,
    ).stdout
    path.write_bytes(data[: int(len(data) * keep)])


def animation(path: Path, fmt: str, face_frames: tuple[int, ...] = (2, 3), n: int = 4) -> None:
    """An animated GIF, WebP, PNG or AVIF of ``n`` frames with the face in ``face_frames`` only."""
    from PIL import Image

    shown, _ = shown_frames(n, 160, 120, faces=1)
    frames = [Image.fromarray(shown[i] if i in face_frames else V.background(160, 120, seed=i)) for i in range(n)]
    options = {"GIF": {}, "WEBP": {"lossless": True}, "PNG": {}, "AVIF": {"quality": 90}}[fmt]
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **options)
