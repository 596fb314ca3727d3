"""Videos: frames per second, per-frame recall and peak memory of `minface scrub` beside deface.

    python benchmarks/video.py --deface /path/to/deface-venv/bin/deface
    python benchmarks/video.py --images 8 --frames 24 --size 1280x720 --preset balanced --json video.json

The clip is built from WIDER FACE photos (``--data``, default ``../shared/data/wider-dev``):
for each of ``--images`` photos (every k-th one with at least one valid face of
16 px or more, in the annotations' order), ``--frames`` frames of a camera that
pans across the photo and zooms in (a 16:9 window from 80% to 65% of the photo's
width, its centre moving across the middle half of the free width), resized to
``--size``. The photo's
annotated boxes go through the same transform, so every face's box is known in
every frame. The clip is written once as H.264 (CRF 16, close to lossless) and
both tools read that file.

* **fps**: frames divided by the wall time of the whole command, from a cold
  start, as a user runs it: ``minface scrub CLIP -o OUT.mp4 [--preset P]`` and
  ``deface CLIP -o OUT.mp4`` (its defaults: threshold 0.2, blur, full resolution,
  libx264). Peak memory: the largest resident memory of the command's process
  tree (see ``benchmarks/throughput.py``).
* **per-frame recall**: a ground-truth face (valid, at least half of its box in
  the frame, at least 8 px) counts as covered in a frame when at least 70% of its
  box (clipped to the frame) is painted, as in ``benchmarks/accuracy.py``.
  minface's painted pixels are read from its output video: it is run a second
  time with ``--color #FF00FF``, and a pixel is painted when it decoded as
  magenta. deface's are its detections on each frame of the same decoded clip
  (``benchmarks/deface_runner.py``, its ``CenterFace`` at full resolution,
  threshold 0.2), painted as deface paints them: the ellipse inscribed in the box
  grown by 0.3 of its size on each side (its ``--mask-scale 1.3``).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import measure  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "wider-dev"
SIZE_BINS = (("<16", 0, 16), ("16-32", 16, 32), ("32-64", 32, 64), (">=64", 64, math.inf))


def pick_images(data: Path, count: int) -> list[tuple[Path, list[list[float]]]]:
    ann = json.loads((data / "annotations.json").read_text())
    usable = []
    for name, a in ann.items():
        faces = [f["box_xywh"] for f in a["faces"] if not f["invalid"] and f["box_xywh"][2] > 0 and f["box_xywh"][3] > 0]
        if any(max(w, h) >= 16 for _, _, w, h in faces):
            usable.append((data / name, faces))
    step = max(1, len(usable) // count)
    return usable[::step][:count]


def build_clip(items, frames: int, size: tuple[int, int], path: Path, fps: int = 30):
    """Write the pan-and-zoom clip; return the ground-truth boxes (x1, y1, x2, y2) per frame."""
    import av
    import cv2
    from PIL import Image

    W, H = size
    truth: list[np.ndarray] = []
    with av.open(str(path), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        vs.options = {"crf": "16", "preset": "veryfast"}
        n = 0
        for image_path, faces in items:
            img = np.asarray(Image.open(image_path).convert("RGB"))
            ih, iw = img.shape[:2]
            boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in faces], np.float64)
            for k in range(frames):
                a = k / max(1, frames - 1)
                cw = min(iw, ih * W / H) * (0.8 - 0.15 * a)
                ch = cw * H / W
                cx = cw / 2 + (iw - cw) * (0.25 + 0.5 * a)
                cy = ih / 2
                x0, y0 = cx - cw / 2, cy - ch / 2
                s = W / cw
                m = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]])
                frame = cv2.warpAffine(img, m, (W, H), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_REFLECT)
                truth.append((boxes - [x0, y0, x0, y0]) * s)
                vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
                vf.pts = n
                n += 1
                for p in vs.encode(vf):
                    out.mux(p)
        for p in vs.encode():
            out.mux(p)
    return truth


def decode(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def ellipse_mask(h: int, w: int, boxes: np.ndarray, pad: float = 0.3) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    mask = np.zeros((h, w), bool)
    for x1, y1, x2, y2 in boxes:
        bw, bh = x2 - x1, y2 - y1
        x1, x2, y1, y2 = x1 - pad * bw, x2 + pad * bw, y1 - pad * bh, y2 + pad * bh
        a, b = (x2 - x1) / 2, (y2 - y1) / 2
        if a <= 0 or b <= 0:
            continue
        mask |= ((xx + 0.5 - (x1 + x2) / 2) / a) ** 2 + ((yy + 0.5 - (y1 + y2) / 2) / b) ** 2 <= 1
    return mask


def score(truth: list[np.ndarray], painted: list[np.ndarray]) -> dict:
    covered, sizes = [], []
    for boxes, mask in zip(truth, painted):
        h, w = mask.shape
        for x1, y1, x2, y2 in boxes:
            area = (x2 - x1) * (y2 - y1)
            cx1, cy1, cx2, cy2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
            if cx2 <= cx1 or cy2 <= cy1:
                continue
            inside = (cx2 - cx1) * (cy2 - cy1)
            side = max(cx2 - cx1, cy2 - cy1)
            if inside < 0.5 * area or side < 8:
                continue
            r0, r1, c0, c1 = int(round(cy1)), int(round(cy2)), int(round(cx1)), int(round(cx2))
            window = mask[r0:r1, c0:c1]
            covered.append(bool(window.size) and window.mean() >= 0.7)
            sizes.append(side)
    c, s = np.array(covered), np.array(sizes)
    row = {"faces": int(len(c)), "recall": float(c.mean())}
    for name, lo, hi in SIZE_BINS:
        sel = (s >= lo) & (s < hi)
        row[name] = float(c[sel].mean()) if sel.any() else float("nan")
    row["area %"] = float(100 * np.mean([m.mean() for m in painted]))
    return row


def magenta(frame: np.ndarray) -> np.ndarray:
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    return (r > 170) & (b > 170) & (g < 110)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--deface", help="the deface executable (in its own venv); without it only minface runs")
    ap.add_argument("--images", type=int, default=6)
    ap.add_argument("--frames", type=int, default=30, help="frames per photo (30: one second each at 30 fps)")
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--preset", default=None, help="minface preset (default: the CLI's default)")
    ap.add_argument("--min-face", type=float, default=None, help="minface --min-face (default: the CLI's default)")
    ap.add_argument("--upright-only", action="store_true", help="minface --upright-only (frames searched only as shown)")
    ap.add_argument("--json", type=Path, help="write the figures as JSON to this file")
    ap.add_argument("--keep", type=Path, help="keep the clip and the outputs in this folder")
    args = ap.parse_args()
    if not (args.data / "annotations.json").is_file():
        print(f"no evaluation data at {args.data} (see its README); nothing to measure", file=sys.stderr)
        return 0
    W, H = (int(v) for v in args.size.lower().split("x"))
    minface_cli = str(Path(sys.executable).with_name("minface"))
    work_ctx = tempfile.TemporaryDirectory(prefix="minface-video-bench-") if args.keep is None else None
    work = Path(work_ctx.name) if work_ctx else args.keep
    work.mkdir(parents=True, exist_ok=True)
    clip = work / "clip.mp4"
    items = pick_images(args.data, args.images)
    truth = build_clip(items, args.frames, (W, H), clip)
    frames = decode(clip)
    n = len(frames)
    print(f"clip: {n} frames of {W}x{H} from {len(items)} photos, {sum(len(t) for t in truth)} face boxes", file=sys.stderr)
    preset = ["--preset", args.preset] if args.preset else []
    if args.min_face is not None:
        preset += ["--min-face", f"{args.min_face:g}"]
    if args.upright_only:
        preset += ["--upright-only"]
    results: dict[str, dict] = {}
    commands: dict[str, str] = {}

    cmd = [minface_cli, "scrub", str(clip), "-o", str(work / "minface.mp4"), "--overwrite", "-q", *preset]
    run = measure(cmd)
    if run["returncode"]:
        raise SystemExit(f"minface failed: {run['stderr']}")
    commands["minface"] = " ".join(cmd)
    cmd = [minface_cli, "scrub", str(clip), "-o", str(work / "minface-magenta.mp4"), "--overwrite", "-q", "--color", "#FF00FF", *preset]
    subprocess.run(cmd, check=True)
    out = decode(work / "minface-magenta.mp4")
    assert len(out) == n, f"minface wrote {len(out)} frames for {n}"
    row = score(truth, [magenta(f) for f in out])
    row.update(fps=n / run["wall_s"], wall_s=run["wall_s"], cpu_s=run["cpu_s"], peak_mib=run["peak_mib"])
    label = "minface " + (args.preset or "default") + (f" min-face {args.min_face:g}" if args.min_face is not None else "")
    label += " upright-only" if args.upright_only else ""
    results[label] = row

    if args.deface:
        cmd = [args.deface, str(clip), "-o", str(work / "deface.mp4")]
        run = measure(cmd)
        if run["returncode"]:
            raise SystemExit(f"deface failed: {run['stderr']}")
        commands["deface"] = " ".join(cmd)
        pngs = work / "frames"
        pngs.mkdir(exist_ok=True)
        import cv2

        paths = []
        for i, f in enumerate(frames):
            p = pngs / f"{i:05d}.png"
            cv2.imwrite(str(p), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
            paths.append(str(p))
        python = str(Path(args.deface).with_name("python"))
        runner = Path(__file__).with_name("deface_runner.py")
        text = subprocess.run([python, str(runner), *paths], check=True, capture_output=True, text=True).stdout
        dets = [np.array(json.loads(line)["boxes"], float).reshape(-1, 4) for line in text.splitlines() if line.startswith("{")]
        row = score(truth, [ellipse_mask(H, W, d) for d in dets])
        row.update(fps=n / run["wall_s"], wall_s=run["wall_s"], cpu_s=run["cpu_s"], peak_mib=run["peak_mib"])
        results["deface 1.5 defaults"] = row

    cols = ["faces", "recall"] + [b[0] for b in SIZE_BINS] + ["area %", "fps", "wall_s", "cpu_s", "peak_mib"]
    print("| tool | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name, row in results.items():
        cells = []
        for c in cols:
            v = row[c]
            cells.append(str(v) if isinstance(v, int) else ("-" if v != v else (f"{v:.3f}" if c in ("recall", "<16", "16-32", "32-64", ">=64") else f"{v:.1f}")))
        print(f"| {name} | " + " | ".join(cells) + " |")
    if "deface 1.5 defaults" in results:
        m, d = results[label], results["deface 1.5 defaults"]
        print(f"\nfps ratio minface/deface: {m['fps'] / d['fps']:.2f}; recall {m['recall']:.3f} vs {d['recall']:.3f}")
    for k, v in commands.items():
        print(f"{k}: {v}")
    if args.json:
        args.json.write_text(json.dumps({"clip": {"frames": n, "size": [W, H], "photos": len(items)}, "results": results,
                                         "commands": commands}, indent=2))
    if work_ctx:
        work_ctx.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
