"""Whole-CLI throughput: images/s and peak memory of `minface scrub` (and deface) on a folder.

    python benchmarks/throughput.py                                  # 50 WIDER images, default preset
    python benchmarks/throughput.py --presets fast,balanced --deface /path/to/deface-venv/bin/deface
    python benchmarks/throughput.py --data DIR --limit 200 --jobs 2 --repeat 10 --device cuda
    python benchmarks/throughput.py --presets fast,balanced --tree before=../main   # before/after in one run

The first ``--limit`` images (sorted by path) under ``--data`` are linked into a
temporary folder (``--repeat`` links each one several times, for long runs) and
each tool processes that folder from a cold start, as a user would run it:

* ``minface scrub IN -o OUT --preset P`` (worker processes, atomic writes, report off);
* ``deface IN`` (its defaults: threshold 0.2, blur, full resolution), when ``--deface``
  names its executable (deface needs its own venv: it depends on ``opencv-python``).

Figures: wall seconds, images per second, CPU seconds (user + system of the
whole process tree) and peak memory: the largest sum of the resident memory of
the tool's process tree, sampled every 20 ms from /proc (a multi-process tool is
charged for all its processes). ``ratio`` is images/s relative to deface in
the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "wider-dev"
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry}/statm", "rb") as f:
                resident = int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
        pid = int(entry)
        parents[pid] = int(stat[1])
        rss[pid] = resident
    total, stack = 0, [root]
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd``; return wall and CPU seconds, peak tree memory and the exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mib": peak / 2**20,
        "max_process_mib": after.ru_maxrss / 1024,
        "returncode": proc.returncode,
        "stderr": err.decode(errors="replace")[-2000:],
    }


def pick_images(data: Path, limit: int) -> list[Path]:
    exts = {".jpg", ".jpeg", ".png", ".webp"}
    return sorted(p for p in data.rglob("*") if p.suffix.lower() in exts)[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of images (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=50, help="number of distinct images (default 50)")
    parser.add_argument("--repeat", type=int, default=1, help="link each image this many times (default 1)")
    parser.add_argument("--presets", default="balanced", help="comma-separated minface presets (default: balanced)")
    parser.add_argument("--jobs", type=int, default=None, help="minface worker processes (default: all CPUs)")
    parser.add_argument("--device", default="cpu", help="minface --device (cpu or cuda)")
    parser.add_argument("--batch", type=int, help="minface --batch (images per model call with --device cuda)")
    parser.add_argument("--deface", help="path of the deface executable, to run it beside minface")
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="also run minface from this source tree (PYTHONPATH=PATH), rows named NAME: before/after in one run",
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()

    images = pick_images(args.data, args.limit)
    if not images:
        print(f"no images under {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="minface-throughput-") as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for r in range(args.repeat):
            for i, p in enumerate(images):
                (src / f"{r:04d}_{i:05d}{p.suffix.lower()}").symlink_to(p.resolve())
        n = len(images) * args.repeat
        megapixels = sum(_size(p) for p in images) / len(images) / 1e6
        if args.deface:
            work = Path(tmp) / "deface"
            shutil.copytree(src, work, symlinks=True)
            res = measure([args.deface, str(work)])
            rows.append({"tool": "deface 1.5.0", "preset": "defaults", **res})
        trees = [(None, None)] + [tuple(t.split("=", 1)) for t in args.tree]
        for preset in filter(None, args.presets.split(",")):
            for name, path in trees:
                out = Path(tmp) / f"out-{preset}-{name or 'this'}"
                cmd = [sys.executable, "-m", "minface", "scrub", str(src), "-o", str(out), "--preset", preset, "-q"]
                cmd += ["--device", args.device] + (["-j", str(args.jobs)] if args.jobs else [])
                cmd += ["--batch", str(args.batch)] if args.batch else []
                env = None if path is None else {**os.environ, "PYTHONPATH": str(Path(path).resolve())}
                res = measure(cmd, env)
                done = sum(1 for _ in out.rglob("*") if _.is_file()) if out.exists() else 0
                rows.append({"tool": f"minface {name}" if name else "minface", "preset": preset, "outputs": done, **res})
    base = next((r for r in rows if r["tool"].startswith("deface")), None)
    print(f"{n} images ({len(images)} distinct, mean {megapixels:.2f} MP), {os.cpu_count()} CPUs\n")
    print("| tool | preset | wall s | images/s | CPU s | peak MiB (all processes) | ratio vs deface |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        r["images"] = n
        r["images_per_s"] = n / r["wall_s"]
        ratio = f"{r['images_per_s'] / base['images_per_s']:.2f}x" if base else "-"
        flag = "" if r["returncode"] == 0 else f" (exit {r['returncode']})"
        print(
            f"| {r['tool']} | {r['preset']}{flag} | {r['wall_s']:.1f} | {r['images_per_s']:.2f} | {r['cpu_s']:.1f} "
            f"| {r['peak_mib']:.0f} | {ratio} |"
        )
    for r in rows:
        if r["returncode"] != 0:
            print(f"\n{r['tool']} {r['preset']} failed:\n{r['stderr']}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


def _size(p: Path) -> int:
    from PIL import Image

    with Image.open(p) as im:
        return im.size[0] * im.size[1]


if __name__ == "__main__":
    raise SystemExit(main())
