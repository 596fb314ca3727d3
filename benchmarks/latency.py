"""Latency of one photo in an app: p50/p99 of `Detector.__call__` (and of a whole scrub) on a 12 MP photo.

    python benchmarks/latency.py                      # 4032x3024, fast and balanced, 30 runs each
    python benchmarks/latency.py --size 3024x4032 --runs 50 --presets fast --min-face 24
    python benchmarks/latency.py --device cuda
    python benchmarks/latency.py --crop-id --threads 1  # crop_id on a 1 MP selfie, one core

The photo is synthetic and public domain: scikit-image's rocket photo (NASA)
enlarged to the phone size, with NASA's astronaut portrait pasted at 20 to
600 pixels. The detector is created once (the model loaded once, as an app
does) and called ``--runs`` times on the decoded pixels; ``scrub`` rows time
``minface.scrub_bytes`` on the JPEG bytes (decode, orientation, detection,
redaction, encoding). Percentiles are over the runs, after one warm-up call.

``--crop-id`` times ``minface.crop_id`` (spec ``--spec``, default us-passport) on
a 1 MP selfie instead: the astronaut portrait (head and shoulders, her torso
continued below the photo) at 848x1179, with the detector and the segmentation
model loaded once, as a backend does; it prints p50 and p95 and the time of each
stage of the warm call (from ``cProfile``, which adds a little overhead). It prints
CPU time (``time.process_time``, all threads) beside the wall time: on a shared
machine the wall time also counts the waits for a core, the CPU time does not.

``--selfie`` times warm ``minface.scrub_bytes`` on that selfie as a JPEG, per
preset, after ``--warmup`` calls (default 3: OpenVINO compiles a model for an
input shape on its third call, see ``minface/detect/_openvino.py``), and prints
the megapixels of model input one call reads (all passes and orientations: the
orientation vote decides how many are searched in full) and the faces found.

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/latency.py --selfie --threads 1 --backend openvino --runs 15
    python benchmarks/latency.py --selfie --threads 1 --presets balanced --stages   # and the CPU time per stage
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

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


def selfie() -> np.ndarray:
    """A 1 MP head-and-shoulders photo: the astronaut, her torso continued 200 px, at 848x1179."""
    import cv2
    import skimage.data as data

    a = data.astronaut()
    tall = np.concatenate([a, np.repeat(a[-1:], 200, axis=0)])
    return cv2.resize(tall, (848, 1179), interpolation=cv2.INTER_CUBIC)


def crop_id_latency(runs: int, threads: int | None, device: str, spec: str) -> None:
    import minface

    pixels = selfie()
    det = minface.Detector("balanced", threads=threads, device=device)
    photo = minface.crop_id(pixels, spec, detector=det)  # warm-up: loads the segmentation model too
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        minface.crop_id(pixels, spec, detector=det)
        wall.append(1000 * (time.perf_counter() - t))
        cpu.append(1000 * (time.process_time() - c))
    print(f"crop_id {spec} on a {pixels.shape[1]}x{pixels.shape[0]} selfie, threads={threads}, {runs} runs "
          f"(ok={photo.ok}, failed={photo.failed})")
    for what, xs in (("wall", sorted(wall)), ("CPU (all threads)", sorted(cpu))):
        p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]
        print(f"  {what:<18} p50 {statistics.median(xs):.0f} ms, p95 {p95:.0f} ms")
    print("  CPU time per stage of one call:")
    print_stages(lambda: minface.crop_id(pixels, spec, detector=det), STAGES)


def print_stages(call: Callable[[], object], stages: tuple[str, ...]) -> None:
    """CPU time of the minface functions named ``stages`` during one ``call`` (from cProfile, cumulative)."""
    import cProfile
    import pstats

    prof = cProfile.Profile(time.process_time)
    prof.runcall(call)
    stats = pstats.Stats(prof)
    rows = []
    for (path, _, name), (_, ncalls, _, cum, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "minface" in path and name in stages:
            rows.append((cum * 1000, ncalls, name))
    for ms, n, name in sorted(rows, reverse=True):
        print(f"  {name:<22} {n:>3} call(s) {ms:7.1f} ms")


#: The stages of crop_id shown by --crop-id.
STAGES = (
    "__call__", "_search", "find_subject", "window_faces", "_refine", "evaluate", "replace_background", "refine_alpha",
    "_bystanders", "warp",
)
#: The stages of scrub_bytes shown by --selfie --stages: decoding, the search (its tiles made, the model
#: run, its outputs decoded), fusion, redaction and encoding.
SELFIE_STAGES = ("scrub_bytes", "_read_source", "jpeg_cut_short", "_search", "_run_tiles", "tile", "to_blob",
                 "_candidates", "_finish", "_render", "redact", "encode_image")


def percentiles(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    p99 = xs[min(len(xs) - 1, int(round(0.99 * (len(xs) - 1))))]
    return statistics.median(xs), p99


def selfie_latency(args: argparse.Namespace) -> None:
    """Warm ``scrub_bytes`` on the 1 MP selfie JPEG, per preset: p50 and p95 of wall and CPU time."""
    import cv2

    import minface

    buf = cv2.imencode(".jpg", cv2.cvtColor(selfie(), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])[1]
    jpeg = buf.tobytes()
    print(f"1 MP selfie (848x1179 JPEG, {len(jpeg) // 1024} KB), {args.runs} runs after {args.warmup} warm-up calls, ms\n")
    print("| preset | backend | wall p50 | wall p95 | CPU p50 | CPU p95 | model input MP | faces |")
    print("|---|---|---|---|---|---|---|---|")
    for preset in filter(None, args.presets.split(",")):
        det = minface.Detector(
            preset, min_face=args.min_face, threads=args.threads, device=args.device, backend=args.backend
        )
        for _ in range(args.warmup):
            minface.scrub_bytes(jpeg, detector=det)
        wall, cpu = [], []
        for _ in range(args.runs):
            t, c = time.perf_counter(), time.process_time()
            _, result = minface.scrub_bytes(jpeg, detector=det)
            wall.append(1000 * (time.perf_counter() - t))
            cpu.append(1000 * (time.process_time() - c))
        row = [f"{np.percentile(x, q):.0f}" for x in (wall, cpu) for q in (50, 95)]
        row += [f"{det.last_timings['input_megapixels']:.2f}", str(len(result.faces))]
        print(f"| {preset} | {det.description.split('/')[1]} | " + " | ".join(row) + " |")
        if args.stages:
            print(f"\n  {preset}: CPU time per stage of one call (cProfile; model calls under _run_tiles):")
            print_stages(lambda: minface.scrub_bytes(jpeg, detector=det), SELFIE_STAGES)
            print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="4032x3024", help="photo size WxH (default 4032x3024, 12.2 MP)")
    parser.add_argument("--presets", default="fast,balanced")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--min-face", type=float, default=None, help="override the presets' smallest face")
    parser.add_argument("--threads", type=int, default=None, help="inference threads (default: all CPUs)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", default="auto", help="inference runtime (default auto)")
    parser.add_argument(
        "--selfie", action="store_true", help="time scrub_bytes on a 1 MP selfie JPEG instead (p50/p95, wall and CPU)"
    )
    parser.add_argument("--warmup", type=int, default=3, help="--selfie: untimed calls first (default 3)")
    parser.add_argument("--stages", action="store_true", help="--selfie: also the CPU time of each stage of one call")
    parser.add_argument("--crop-id", action="store_true", help="time crop_id on a 1 MP selfie instead")
    parser.add_argument("--spec", default="us-passport", help="--crop-id: the document spec (default us-passport)")
    args = parser.parse_args()
    if args.crop_id:
        crop_id_latency(args.runs, args.threads, args.device, args.spec)
        return 0

    import minface

    if args.selfie:
        selfie_latency(args)
        return 0
    w, h = (int(v) for v in args.size.lower().split("x"))
    pixels, jpeg = phone_photo(w, h)
    print(f"{w}x{h} ({w * h / 1e6:.1f} MP), {args.runs} runs, times in ms\n")
    print("| preset | what | p50 | p99 | faces found | model input MP |")
    print("|---|---|---|---|---|---|")
    for preset in filter(None, args.presets.split(",")):
        det = minface.Detector(
            preset, min_face=args.min_face, threads=args.threads, device=args.device, backend=args.backend
        )
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
