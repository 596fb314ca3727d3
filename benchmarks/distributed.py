"""Scaling of ``minface.distributed.scrub`` on a Dask LocalCluster: 1 worker vs 2 workers.

    python benchmarks/distributed.py                         # first 200 WIDER images, preset balanced
    python benchmarks/distributed.py --data DIR --limit 100 --preset fast --workers 1,2,4

The first ``--limit`` images (sorted by path) under ``--data`` are scrubbed, read
in place and written to a temporary folder, by a fresh LocalCluster of N
single-threaded worker processes for each N in ``--workers``. Each worker loads
its model before the clock starts (a job on a long-lived cluster pays that once).

Figures per cluster: wall seconds and images/s of the whole job (planning,
listing, partitions, report), the CPU seconds of the worker processes (user +
system, all their threads: inference, decoding, encoding, I/O, Dask's own) and
of the driver, and the CPU cost per image. ``efficiency`` is images/s with N
workers / (N x images/s with 1 worker). A paper estimate for one million
images follows, from the 1-worker figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "wider-dev"

# this file is named like Dask's package: keep its folder off the import path (and off the workers', which copy it)
sys.path[:] = [p for p in sys.path if Path(p or os.getcwd()).resolve() != Path(__file__).resolve().parent]


def pick_images(data: Path, limit: int) -> list[Path]:
    exts = {".jpg", ".jpeg", ".png", ".webp"}
    return sorted(p for p in data.rglob("*") if p.suffix.lower() in exts)[:limit]


def _megapixels(paths: list[Path]) -> float:
    from PIL import Image

    total = 0
    for p in paths:
        with Image.open(p) as im:
            total += im.size[0] * im.size[1]
    return total / len(paths) / 1e6


def _process_cpu() -> float:
    """CPU seconds (user + system) of the calling process: runs on each worker."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _load_model(preset: str) -> str:
    """Load the worker's cached detector (what the first partition would do)."""
    from minface.distributed import _cached_detector
    from minface.jobs import ScrubJob

    return _cached_detector(ScrubJob(preset=preset, threads=1)).description


def run(images: list[Path], workers: int, preset: str, partition_size: int | None, tmp: Path) -> dict:
    from distributed import Client, LocalCluster

    import minface.distributed as md

    out = tmp / f"out-{workers}"
    with LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as cluster, Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(workers)
        detectors = set(client.run(_load_model, preset).values())
        cpu0 = client.run(_process_cpu)
        driver0 = _process_cpu()
        start = time.perf_counter()
        summary = md.scrub(
            [str(p) for p in images],
            str(out),
            client=client,
            preset=preset,
            partition_size=partition_size,
            report=str(tmp / f"report-{workers}.jsonl"),
        )
        wall = time.perf_counter() - start
        driver = _process_cpu() - driver0
        cpu1 = client.run(_process_cpu)
    worker_cpu = sum(cpu1[w] - cpu0[w] for w in cpu1 if w in cpu0)
    return {
        "workers": workers,
        "ok": summary.ok,
        "failed": summary.failed,
        "faces": summary.faces,
        "partitions": summary.partitions,
        "wall_s": wall,
        "images_per_s": summary.ok / wall,
        "worker_cpu_s": worker_cpu,
        "cpu_s_per_image": worker_cpu / max(1, summary.ok),
        "file_s_per_image": summary.file_seconds / max(1, summary.ok),
        "driver_cpu_s": driver,
        "detector": ", ".join(sorted(detectors)),
        "errors": summary.errors[:5],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of images (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=200, help="number of images (default 200)")
    parser.add_argument("--preset", default="balanced", help="detection preset (default: balanced)")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default: 1,2)")
    parser.add_argument("--partition-size", type=int, help="files per task (default: minface's choice)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()

    try:
        import distributed  # noqa: F401
        import fsspec  # noqa: F401
    except ImportError:
        print("this benchmark needs Dask and fsspec: pip install '.[dask]'", file=sys.stderr)
        return 2
    images = pick_images(args.data, args.limit) if args.data.is_dir() else []
    if not images:
        print(f"no images under {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    megapixels = _megapixels(images)
    rows = []
    with tempfile.TemporaryDirectory(prefix="minface-distributed-") as tmp:
        for n in counts:
            rows.append(run(images, n, args.preset, args.partition_size, Path(tmp)))
    one = next((r for r in rows if r["workers"] == 1), None)
    print(
        f"{len(images)} images (mean {megapixels:.2f} MP), preset {args.preset}, {os.cpu_count()} CPUs; "
        f"LocalCluster, 1 thread per worker; detector {rows[0]['detector']}\n"
    )
    print("| workers | wall s | images/s | efficiency | worker CPU s | CPU s/image | driver CPU s | partitions | ok / failed |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        r["efficiency"] = r["images_per_s"] / (r["workers"] * one["images_per_s"]) if one else None
        eff = f"{r['efficiency']:.2f}" if r["efficiency"] is not None else "-"
        print(
            f"| {r['workers']} | {r['wall_s']:.1f} | {r['images_per_s']:.2f} | {eff} | {r['worker_cpu_s']:.1f} "
            f"| {r['cpu_s_per_image']:.3f} | {r['driver_cpu_s']:.1f} | {r['partitions']} | {r['ok']} / {r['failed']} |"
        )
    for r in rows:
        for name, reason in r["errors"]:
            print(f"error ({r['workers']} workers): {name}: {reason}", file=sys.stderr)
    if one:
        eff = min((r["efficiency"] for r in rows if r["workers"] > 1), default=1.0)
        rate = one["images_per_s"]
        big = 12.0 / megapixels
        print(
            f"\nPaper estimate for 1,000,000 images from the 1-worker run: {one['cpu_s_per_image']:.3f} CPU s/image, "
            f"{rate:.2f} images/s per single-threaded worker (one core); partitions are independent, so hours scale "
            f"as 1 / workers (measured efficiency with {max(r['workers'] for r in rows)} workers on this host: "
            f"{eff:.2f}). 12 MP photos cost about {big:.0f}x as much per image at the same min_face.\n"
        )
        print(
            f"| workers (1 core each) | hours, {megapixels:.1f} MP | hours at efficiency {eff:.2f} "
            f"| hours, 12 MP | core-hours, {megapixels:.1f} MP / 12 MP |"
        )
        print("|---|---|---|---|---|")
        for w in (10, 50, 200):
            hours = 1e6 / (w * rate) / 3600
            print(
                f"| {w} | {hours:.1f} | {hours / max(eff, 1e-9):.1f} | {hours * big:.0f} "
                f"| {hours * w:.0f} / {hours * w * big:.0f} |"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
