"""Where the time of `minface scrub` goes, stage by stage, per preset.

    python benchmarks/profile_scrub.py                       # 50 WIDER images, fast and balanced
    python benchmarks/profile_scrub.py --presets balanced,balanced-v0 --limit 100
    python benchmarks/profile_scrub.py --threads 2 --device cuda

Each image goes through the steps of one scrub in one process (as a batch
worker runs them, single-threaded by default): read the file, decode it
(Pillow, orientation applied), then the detector's stages (crop/resize/blob,
model inference, heatmap decoding, fusion of candidates), the redaction, the
encoding (same format, same JPEG tables) and the atomic write. Every stage is
timed with ``time.perf_counter``; the table gives milliseconds per image and
each stage's share.

``balanced-v0`` is the first balanced preset, kept here for before/after
comparisons: fp32 weights, 2x over the whole image, 1x and 0.5x mirrored, no
cascade, 1600-pixel tiles.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "wider-dev"
STAGES = ["read", "decode", "resize", "inference", "heatmap decode", "fuse", "redact", "encode", "write"]


def register_v0() -> None:
    from minface.detect import PRESETS

    PRESETS["balanced-v0"] = dataclasses.replace(
        PRESETS["balanced"],
        name="balanced-v0",
        model="fp32",
        flips="low",
        cascade=False,
        thresholds=((1.25, 0.22), (3.75, 0.18), (8, 0.08)),
    )


def profile(preset: str, images: list[Path], threads: int, device: str, tile: int) -> dict[str, float]:
    from minface.detect import Detector
    from minface.images import atomic_write, encode_image
    from minface.pipeline import OUTPUT_FORMAT, _as_rgb, _read_source
    from minface.redact import redact

    det = Detector(preset, threads=threads, device=device, tile_size=tile)
    det(np.zeros((64, 64, 3), np.uint8))  # load the model before timing
    totals = dict.fromkeys(STAGES, 0.0)
    pixels = 0.0
    clock = time.perf_counter
    with tempfile.TemporaryDirectory() as out:
        for i, path in enumerate(images):
            t0 = clock()
            data = path.read_bytes()
            t1 = clock()
            source = _read_source(data, str(path), None)
            t2 = clock()
            frame = source.frames[0]
            faces = det(frame if frame.ndim == 3 and frame.shape[2] == 3 else _as_rgb(frame))
            t3 = clock()
            red = redact(frame, faces)
            t4 = clock()
            fmt = OUTPUT_FORMAT[source.format]
            blob = encode_image(red, fmt, jpeg_qtables=source.jpeg_qtables, jpeg_subsampling=source.jpeg_subsampling)
            t5 = clock()
            atomic_write(Path(out) / f"{i}{path.suffix}", blob)
            t6 = clock()
            tm = det.last_timings
            totals["read"] += t1 - t0
            totals["decode"] += t2 - t1
            totals["resize"] += tm["resize"]
            totals["inference"] += tm["inference"]
            totals["heatmap decode"] += tm["decode"]
            totals["fuse"] += (t3 - t2) - tm["resize"] - tm["inference"] - tm["decode"]
            totals["redact"] += t4 - t3
            totals["encode"] += t5 - t4
            totals["write"] += t6 - t5
            pixels += tm["input_megapixels"]
    n = len(images)
    row = {k: 1000 * v / n for k, v in totals.items()}
    row["model megapixels"] = pixels / n
    row["detector"] = det.description
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of images (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=50, help="first N images by path (default 50)")
    parser.add_argument("--presets", default="fast,balanced", help="comma-separated presets (also balanced-v0)")
    parser.add_argument("--threads", type=int, default=1, help="inference threads (default 1, as in a batch worker)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tile-size", type=int, default=1024)
    args = parser.parse_args()

    images = sorted(p for p in args.data.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))[: args.limit]
    if not images:
        print(f"no images under {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    register_v0()
    rows = {}
    for preset in filter(None, args.presets.split(",")):
        tile = 1600 if preset == "balanced-v0" else args.tile_size
        rows[preset] = profile(preset, images, args.threads, args.device, tile)
    print(f"{len(images)} images, {args.threads} inference thread(s), ms per image (share of the total)\n")
    print("| stage | " + " | ".join(rows) + " |")
    print("|---|" + "---|" * len(rows))
    totals = {p: sum(r[s] for s in STAGES) for p, r in rows.items()}
    for stage in STAGES:
        cells = [f"{r[stage]:.1f} ({100 * r[stage] / totals[p]:.0f}%)" for p, r in rows.items()]
        print(f"| {stage} | " + " | ".join(cells) + " |")
    print("| **total** | " + " | ".join(f"**{totals[p]:.1f}**" for p in rows) + " |")
    print("| model input MP/image | " + " | ".join(f"{r['model megapixels']:.2f}" for r in rows.values()) + " |")
    for p, r in rows.items():
        print(f"\n{p}: {r['detector']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
