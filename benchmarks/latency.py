"""Latency of one photo in an app: p50/p99 of `Detector.__call__` (and of a whole scrub) on a 12 MP photo.

    python benchmarks/latency.py                      # 4032x3024, fast and balanced, 30 runs each
    python benchmarks/latency.py --size 3024x4032 --runs 50 --presets fast --min-face 24
    python benchmarks/latency.py --device cuda

The photo is synthetic and public domain: scikit-image's rocket photo (NASA)
enlarged to the phone size, with NASA's astronaut portrait pasted at 20 to
600 pixels. The detector is created once (the model loaded once, as an app
does) and called ``--runs`` times on the decoded pixels; ``scrub`` rows time
``minface.scrub_bytes`` on the JPEG bytes (decode, orientation, detection,
redaction, encoding). Percentiles are over the runs, after one warm-up call.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np


def phone_photo(width: int, height: int) -> tuple[np.ndarray, bytes]:
    import cv2
    import skimage.data as data
    from PIL import Image

    bg = cv2.resize(data.rocket(), (width, height), interpolation=cv2.INTER_CUBIC)
    head = data.astronaut()[10:230, 130:320]
    rng = np.random.default_rng(0)
    for size in (20, 32, 48, 80, 140, 260, 600):
        s = size / 123  # the face is about 123 px high in the crop
        patch = cv2.resize(head, (max(1, int(head.shape[1] * s)), max(1, int(head.shape[0] * s))))
        y = int(rng.integers(0, height - patch.shape[0]))
        x = int(rng.integers(0, width - patch.shape[1]))
        bg[y : y + patch.shape[0], x : x + patch.shape[1]] = patch
    buf = io.BytesIO()
    Image.fromarray(bg).save(buf, "JPEG", quality=90)
    return bg, buf.getvalue()


def percentiles(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    p99 = xs[min(len(xs) - 1, int(round(0.99 * (len(xs) - 1))))]
    return statistics.median(xs), p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="4032x3024", help="photo size WxH (default 4032x3024, 12.2 MP)")
    parser.add_argument("--presets", default="fast,balanced")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--min-face", type=float, default=None, help="override the presets' smallest face")
    parser.add_argument("--threads", type=int, default=None, help="inference threads (default: all CPUs)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import minface

    w, h = (int(v) for v in args.size.lower().split("x"))
    pixels, jpeg = phone_photo(w, h)
    print(f"{w}x{h} ({w * h / 1e6:.1f} MP), {args.runs} runs, times in ms\n")
    print("| preset | what | p50 | p99 | faces found | model input MP |")
    print("|---|---|---|---|---|---|")
    for preset in filter(None, args.presets.split(",")):
        det = minface.Detector(preset, min_face=args.min_face, threads=args.threads, device=args.device)
        faces = det(pixels)  # warm-up
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            det(pixels)
            times.append(1000 * (time.perf_counter() - t))
        p50, p99 = percentiles(times)
        mp = det.last_timings["input_megapixels"]
        print(f"| {preset} | Detector | {p50:.0f} | {p99:.0f} | {len(faces)} | {mp:.1f} |")
        times = []
        for _ in range(max(3, args.runs // 3)):
            t = time.perf_counter()
            minface.scrub_bytes(jpeg, detector=det)
            times.append(1000 * (time.perf_counter() - t))
        p50, p99 = percentiles(times)
        print(f"| {preset} | scrub_bytes (JPEG in, JPEG out) | {p50:.0f} | {p99:.0f} | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
