"""Tune a preset's thresholds on cached searches: run the model once, score many settings.

    python benchmarks/recall_tune.py collect --preset balanced --turns 0,90,180,270 --cache CACHE
    python benchmarks/recall_tune.py score --preset balanced --turns 0,90,180,270 --cache CACHE
    python benchmarks/recall_tune.py score --preset balanced --cache CACHE --set "thresholds=((1,0.2),(10,0.09))"
    python benchmarks/recall_tune.py deface --deface-python /path/to/deface-venv/bin/python --cache CACHE

``collect`` runs the preset's search (:meth:`Detector._search`: every pass, in the
orientations the vote chose) on every ``wider-dev`` photo, as stored and turned
with no tag, and pickles what each pass saw into ``CACHE`` (outside the project),
with the CPU seconds of each search. ``score`` then runs only the fusion and the
thresholds (:meth:`Detector._finish`) on those candidates, with the preset's fields
changed by ``--set`` (Python literals), and prints the recall table of
``benchmarks/accuracy.py`` for the two halves of the data, even and odd index
(tune on one, check on the other) and all of it, plus ``prof>=64``: the faces of 64 px and more
in an atypical pose (WIDER's ``pose`` 1, mostly profiles).

Fields that change what is searched (scales, cascade, the vote's ``turn_alpha``)
need a new ``collect``; the others (thresholds, ``rule``, the turned-orientation
scales and minima) are scored from the cache.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import math
import pickle
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from accuracy import DEFAULT_DATA, load_items, score_image, summarize, turn_annotation, turn_image  # noqa: E402

if TYPE_CHECKING:
    from minface.detect.presets import Preset

COLUMNS = ["recall", "easy", "<16", "16-32", "32-64", ">=64", "prof>=64", "false/img", "cpu s/img"]


def _cache_file(cache: Path, preset: str, turn: int) -> Path:
    return cache / f"{preset}@{turn}.pkl"


def collect(args: argparse.Namespace) -> None:
    """Run the search of ``args.preset`` on every photo and turn; pickle the looks."""
    import minface

    items = load_items(args.data, args.limit)[args.start :: args.every]
    detector = minface.Detector(args.preset, threads=args.threads, turned=True)
    detector.preset = _changed(args)
    detector(np.zeros((64, 64, 3), np.uint8))
    args.cache.mkdir(parents=True, exist_ok=True)
    for turn in args.turns:
        out = []
        for i, (name, _) in enumerate(items):
            image = turn_image(minface.load_image(args.data / name), turn)
            t0 = time.process_time()
            (looks,) = detector._search([image], 1, {}, True)
            out.append((name, image.shape[:2], looks, time.process_time() - t0))
            if args.progress:
                print(f"\r{args.preset}@{turn}: {i + 1}/{len(items)}", end="", file=sys.stderr)
        if args.progress:
            print(file=sys.stderr)
        with open(_cache_file(args.cache, args.label or args.preset, turn), "wb") as f:
            pickle.dump(out, f)


def _changed(args: argparse.Namespace) -> Preset:
    """The preset named by ``args.preset`` with the fields ``args.set`` changes."""
    from minface.detect import PRESETS

    changes = {k: ast.literal_eval(v) for k, v in (s.split("=", 1) for s in args.set)}
    return dataclasses.replace(PRESETS[args.preset], **changes)


def collect_deface(args: argparse.Namespace) -> None:
    """deface 1.5.0's boxes (its own detector, its defaults) on every photo and turn, pickled."""
    from accuracy import run_deface

    items = load_items(args.data, args.limit)
    args.cache.mkdir(parents=True, exist_ok=True)
    for turn in args.turns:
        boxes, seconds = run_deface(args.deface_python, items, args.data, turn)
        with open(_cache_file(args.cache, "deface", turn), "wb") as f:
            pickle.dump([(name, b, s) for (name, _), b, s in zip(items, boxes, seconds)], f)


def score_deface(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Recall rows of deface's cached boxes, per half of the data."""
    annotations = dict(load_items(args.data, None))
    rows: dict[str, dict[str, float]] = {}
    for turn in args.turns:
        with open(_cache_file(args.cache, "deface", turn), "rb") as f:
            cached = pickle.load(f)
        halves: dict[str, list] = {"even": [], "odd": []}
        index = {name: i for i, (name, _) in enumerate(load_items(args.data, None))}
        for name, boxes, seconds in cached:
            i = index[name]
            ann = turn_annotation(annotations[name], turn)
            valid = [f for f in ann["faces"] if not f["invalid"] and f["box_xywh"][2] > 0 and f["box_xywh"][3] > 0]
            halves["even" if i % 2 == 0 else "odd"].append(
                (score_image(ann, boxes, args.pad), [f["pose"] == 1 for f in valid], seconds)
            )
        halves["all"] = halves["even"] + halves["odd"]
        for half, got in halves.items():
            row = summarize([g[0] for g in got], [])
            row["prof>=64"] = profile_recall([g[0] for g in got], [g[1] for g in got])
            row["cpu s/img"] = math.nan  # deface_runner times its detector call in wall seconds only
            if got:
                rows[f"deface 1.5.0 @{turn} {half}"] = row
    return rows


def profile_recall(per_image: list[tuple[list, int, float]], profiles: list[list[bool]]) -> float:
    """Recall of the faces of 64 px and more in an atypical pose."""
    hits = [c for (faces, _, _), prof in zip(per_image, profiles) for (c, a), p in zip(faces, prof) if p and a[3] >= 64]
    return float(np.mean(hits)) if hits else math.nan


def score(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Recall rows of the cached searches finished with the (changed) preset, per half of the data."""
    import minface

    annotations = dict(load_items(args.data, None))
    detector = minface.Detector(args.preset, threads=1)
    detector.preset = _changed(args)
    rows: dict[str, dict[str, float]] = {}
    for turn in args.turns:
        with open(_cache_file(args.cache, args.cached or args.preset, turn), "rb") as f:
            cached = pickle.load(f)
        index = {name: i for i, (name, _) in enumerate(load_items(args.data, None))}
        halves: dict[str, list] = {"even": [], "odd": []}
        for name, (h, w), looks, cpu in cached:
            i = index[name]
            faces = detector._finish(np.empty((h, w, 3), np.uint8), looks, {})
            ann = turn_annotation(annotations[name], turn)
            valid = [f for f in ann["faces"] if not f["invalid"] and f["box_xywh"][2] > 0 and f["box_xywh"][3] > 0]
            halves["even" if i % 2 == 0 else "odd"].append(
                (score_image(ann, faces.xyxy, args.pad), [f["pose"] == 1 for f in valid], cpu)
            )
        halves["all"] = halves["even"] + halves["odd"]
        for half, got in halves.items():
            row = summarize([g[0] for g in got], [])
            row["prof>=64"] = profile_recall([g[0] for g in got], [g[1] for g in got])
            row["cpu s/img"] = float(np.mean([g[2] for g in got]))
            if got:
                rows[f"{args.label or args.preset} @{turn} {half}"] = row
    return rows


def format_rows(rows: dict[str, dict[str, float]]) -> str:
    lines = ["| run | " + " | ".join(COLUMNS) + " |", "|" + "---|" * (len(COLUMNS) + 1)]
    for name, row in rows.items():
        cells = [f"{row[c]:.2f}" if c in ("false/img", "cpu s/img") else f"{row[c]:.3f}" for c in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["collect", "score", "deface"])
    parser.add_argument("--preset", default="balanced")
    parser.add_argument("--cache", type=Path, required=True, help="folder for the pickled searches (not in the project)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--turns", default="0", type=lambda s: [int(t) for t in s.split(",")])
    parser.add_argument("--limit", type=int)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pad", type=float, default=0.3)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="change a preset field")
    parser.add_argument("--label", help="name of the rows and of a collected cache (default: the preset)")
    parser.add_argument("--cached", help="score: the label of the cache to read (default: the preset)")
    parser.add_argument("--start", type=int, default=0, help="collect: first photo (0: even half with --every 2)")
    parser.add_argument("--every", type=int, default=1, help="collect: every Nth photo")
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--deface-python", help="deface mode: python of a venv with deface==1.5.0 (collects when given)")
    args = parser.parse_args()
    if not (args.data / "annotations.json").is_file():
        print(f"no annotations.json in {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    if args.mode == "collect":
        collect(args)
    elif args.mode == "deface":
        if args.deface_python:
            collect_deface(args)
        print(format_rows(score_deface(args)))
    else:
        print(format_rows(score(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
