"""Synthetic videos for the video tests: written by PyAV, tagged and turned by hand.

The astronaut's face (scikit-image) is pasted at a known place in every frame
and moves; :func:`set_rotation` writes a display matrix into an MP4/MOV track
header (what phones do for portrait videos) without any external tool.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

FACE_BOX = (175, 30, 255, 125)  # x1, y1, x2, y2 of the astronaut's face in skimage.data.astronaut()


def face_patch(size: int = 48) -> np.ndarray:
    """The astronaut's face, resized to ``size`` pixels wide (RGB uint8)."""
    import cv2
    from skimage import data

    x1, y1, x2, y2 = FACE_BOX
    face = data.astronaut()[y1 - 10 : y2 + 10, x1 - 10 : x2 + 10]
    h = int(round(size * face.shape[0] / face.shape[1]))
    return cv2.resize(face, (size, h), interpolation=cv2.INTER_AREA)


def background(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth textured background (compresses well, no face in it)."""
    yy, xx = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(seed)
    base = np.stack(
        [
            120 + 60 * np.sin(xx / 23.0 + seed),
            110 + 50 * np.cos(yy / 17.0),
            100 + 40 * np.sin((xx + yy) / 31.0),
        ],
        axis=2,
    )
    return np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)


def moving_face_frames(n: int, width: int = 256, height: int = 192, size: int = 64, step: int = 4):
    """``n`` frames with the face moving right by ``step`` px a frame; also the face's box per frame."""
    bg = background(width, height)
    face = face_patch(size)
    fh, fw = face.shape[:2]
    frames, boxes = [], []
    for i in range(n):
        x = 20 + step * i
        y = (height - fh) // 2
        f = bg.copy()
        f[y : y + fh, x : x + fw] = face
        frames.append(f)
        boxes.append((x, y, x + fw, y + fh))
    return frames, boxes


def write_video(
    path: str | Path,
    frames: list[np.ndarray],
    *,
    fps: int = 15,
    codec: str = "libx264",
    container: str | None = None,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    audio: bool = False,
    metadata: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
) -> None:
    """Encode ``frames`` (RGB) to ``path``; ``pts`` in ``time_base`` for variable frame rates."""
    import av

    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", format=container, container_options=options or {}) as out:
        if metadata:
            out.metadata.update(metadata)
        vs = out.add_stream(codec, rate=fps)
        vs.width, vs.height = w, h
        vs.pix_fmt = "yuv420p"
        tb = time_base or Fraction(1, fps)
        vs.codec_context.time_base = tb
        vs.time_base = tb
        a_stream = None
        if audio:
            a_stream = out.add_stream("aac", rate=16000)
            a_stream.layout = "mono"
        for i, arr in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            frame.pts = pts[i] if pts is not None else i
            frame.time_base = tb
            for p in vs.encode(frame):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        if a_stream is not None:
            seconds = len(frames) / fps
            n = int(16000 * seconds)
            t = np.arange(n) / 16000
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, n, 1024):
                chunk = tone[start : start + 1024][None, :]
                af = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                af.sample_rate = 16000
                af.pts = start
                af.time_base = Fraction(1, 16000)
                for p in a_stream.encode(af):
                    out.mux(p)
            for p in a_stream.encode():
                out.mux(p)


def _boxes(data: bytes, start: int, end: int):
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        yield kind, pos, header, size
        pos += size


def set_rotation(path: str | Path, matrix: tuple[int, int, int, int]) -> None:
    """Write the 2x2 part ``(a, b, c, d)`` (in units of 1.0) of the video track's display matrix.

    ``(0, 1, -1, 0)`` is what a phone writes for a video shot upright (the
    sensor's frames stored landscape): players turn it 90 degrees clockwise.
    """
    data = bytearray(Path(path).read_bytes())
    for kind, pos, header, size in _boxes(data, 0, len(data)):
        if kind != b"moov":
            continue
        for k2, p2, h2, s2 in _boxes(data, pos + header, pos + size):
            if k2 != b"trak":
                continue
            tkhd = None
            is_video = False
            for k3, p3, h3, s3 in _boxes(data, p2 + h2, p2 + s2):
                if k3 == b"tkhd":
                    tkhd = p3
                if k3 == b"mdia" and b"vide" in data[p3 : p3 + s3]:
                    is_video = True
            if tkhd is None or not is_video:
                continue
            version = data[tkhd + 8]
            off = tkhd + 8 + 4 + (32 if version == 1 else 20) + 8 + 8  # after dates/ids/duration, reserved, layer.. volume
            w = struct.unpack(">I", data[off + 36 : off + 40])[0] >> 16
            h = struct.unpack(">I", data[off + 40 : off + 44])[0] >> 16
            a, b, c, d = matrix
            tx = h if (a, b, c, d) == (0, 1, -1, 0) else (w if (a, b, c, d) == (0, -1, 1, 0) else 0)
            ty = w if (a, b, c, d) == (0, -1, 1, 0) else 0
            vals = [a << 16, b << 16, 0, c << 16, d << 16, 0, tx << 16, ty << 16, 1 << 30]
            data[off : off + 36] = b"".join(struct.pack(">i", v) for v in vals)
            Path(path).write_bytes(bytes(data))
            return
    raise ValueError("no video track header found")


def ffmpeg() -> str | None:
    return shutil.which("ffmpeg")


def ffprobe_json(path: str | Path) -> dict:
    """ffprobe's view of ``path``: format, streams (with side data) and chapters."""
    import json

    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "-show_chapters", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def add_tracks_with_ffmpeg(src: Path, dst: Path, *, workdir: Path, mov: bool = True) -> None:
    """Copy ``src`` into ``dst`` with a subtitle track, chapters, tags (and, for MKV, an attachment)."""
    srt = workdir / "subs.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nAlice Smith at home\n\n", encoding="utf-8")
    meta = workdir / "chapters.txt"
    meta.write_text(
        ";FFMETADATA1\ntitle=Family trip\nartist=Alice Smith\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\n"
        "title=Arrival at 12 Elm Street\n",
        encoding="utf-8",
    )
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-i", str(srt), "-i", str(meta)]
    cmd += ["-map", "0", "-map", "1", "-map_metadata", "2", "-map_chapters", "2", "-c", "copy"]
    if mov:
        cmd += ["-c:s", "mov_text", "-metadata:s:s:0", "language=eng", "-metadata:s:s:0", "handler_name=Alice subs"]
    else:
        cover = workdir / "cover.jpg"
        from PIL import Image

        Image.fromarray(face_patch(32)).save(cover)
        cmd += ["-c:s", "srt", "-attach", str(cover), "-metadata:s:t", "mimetype=image/jpeg"]
    cmd += ["-metadata", "make=Apple", "-metadata", "model=iPhone 15 Pro", "-metadata", "location=+48.8584+002.2945/"]
    cmd += ["-metadata", "creation_time=2024-05-01T10:00:00Z", "-metadata:s:v:0", "title=Alice's video"]
    if mov:
        cmd += ["-movflags", "use_metadata_tags"]
    cmd.append(str(dst))
    subprocess.run(cmd, check=True, capture_output=True)
