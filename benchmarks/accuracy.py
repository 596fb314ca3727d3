"""Coverage recall of minface's presets (and deface) on WIDER FACE images.

    python benchmarks/accuracy.py                      # ../shared/data/wider-dev, all presets
    python benchmarks/accuracy.py --data DIR --presets balanced --limit 50
    python benchmarks/accuracy.py --deface-python /path/to/deface-venv/bin/python
    python benchmarks/accuracy.py --presets balanced --sweep   # recall vs false regions
    python benchmarks/accuracy.py --presets balanced --device cuda --limit 100
    python benchmarks/accuracy.py --presets fast,balanced --turns 0,90,180,270   # photos that lost their tag
    python benchmarks/accuracy.py --presets balanced --yunet 1,2   # with the second detector at 1x and 2x
    python benchmarks/accuracy.py --presets balanced --turns "" --tilts 30,-30,45,-45   # faces between orientations

The data folder holds ``annotations.json`` and the images it names (see the
evaluation data's README). The metric asks what a privacy tool must deliver,
that the face is *painted over*, not that a box matches:

* the redacted region of a detection is the ellipse inscribed in its box grown by
  ``--pad`` (0.3) of the box width/height on each side; a pixel belongs to it
  when its centre lies inside the ellipse;
* a valid ground-truth face (``invalid == 0``, w, h > 0) is *covered* when at least
  70% of its box's pixels lie inside the union of regions;
* recall is reported overall, per WIDER difficulty list and per face size
  (``max(w, h)``: < 16, 16-32, 32-64, >= 64 px);
* false regions are regions that touch no annotated face box (valid or not) —
  many are real but unannotated faces in crowds, so read this as an upper bound;
* ``area %`` is the mean share of each image painted, a guard against winning
  recall with huge regions;
* ``s/img`` is the wall time of ``Detector.__call__`` on the decoded image
  (resize, inference, decoding, fusion), file decoding excluded. deface's is the
  time of its ``CenterFace.__call__``, measured the same way in its own venv.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "wider-dev"
SIZE_BINS = (("<16", 0, 16), ("16-32", 16, 32), ("32-64", 32, 64), (">=64", 64, math.inf))
COLUMNS = ["recall", "easy", "medium", "hard"] + [b[0] for b in SIZE_BINS] + ["false/img", "area %", "s/img"]


def score_image(annotation: dict, boxes: np.ndarray, pad: float) -> tuple[list[tuple[bool, tuple]], int, float]:
    """Per valid face (covered, attributes); number of false regions; painted area share.

    Regions are painted exactly as ``minface.redact`` paints them (pixel centres
    inside the ellipse inscribed in the grown box).
    """
    from minface.redact import region_mask, region_window, regions

    height, width = annotation["height"], annotation["width"]
    regs = regions(np.asarray(boxes, np.float32).reshape(-1, 4), pad=pad)
    painted = region_mask(height, width, regs)
    annotated = np.zeros((height, width), bool)
    for f in annotation["faces"]:
        x, y, w, h = f["box_xywh"]
        if w > 0 and h > 0:
            annotated[max(0, y) : y + h, max(0, x) : x + w] = True
    faces = []
    for f in annotation["faces"]:
        x, y, w, h = f["box_xywh"]
        if f["invalid"] or w <= 0 or h <= 0:
            continue
        covered = painted[max(0, y) : y + h, max(0, x) : x + w].sum() >= 0.7 * w * h
        faces.append((bool(covered), (f["easy"], f["medium"], f["hard"], max(w, h))))
    false = 0
    for box in regs.boxes:
        px = region_window(box, regs.shape, height, width)
        if px is not None and not (px[2] & annotated[px[0], px[1]]).any():
            false += 1
    return faces, false, float(painted.mean())


def tilt_image(image: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """The photo turned by ``degrees`` (counter-clockwise) on a canvas that holds all of it, black
    around; and the 2x3 matrix from the photo's coordinates to the canvas's."""
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s_ = abs(m[0, 0]), abs(m[0, 1])
    cw, ch = int(np.ceil(w * c + h * s_)), int(np.ceil(w * s_ + h * c))
    m[0, 2] += cw / 2 - w / 2
    m[1, 2] += ch / 2 - h / 2
    return cv2.warpAffine(image, m, (cw, ch), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0)), m


def score_tilted(annotation: dict, m: np.ndarray, size: tuple[int, int], boxes: np.ndarray, pad: float) -> tuple[list, int, float]:
    """:func:`score_image` for a photo tilted by ``m`` onto a canvas of ``size`` (w, h): each face is the
    tilted quadrilateral of its box, covered when 70% of its pixels are painted."""
    import cv2

    from minface.redact import region_mask, region_window, regions

    width, height = size
    regs = regions(np.asarray(boxes, np.float32).reshape(-1, 4), pad=pad)
    painted = region_mask(height, width, regs)
    annotated = np.zeros((height, width), np.uint8)
    quads = []
    for f in annotation["faces"]:
        x, y, w, h = f["box_xywh"]
        if w <= 0 or h <= 0:
            quads.append(None)
            continue
        corners = np.array([[x, y, 1], [x + w, y, 1], [x + w, y + h, 1], [x, y + h, 1]], np.float64) @ m.T
        quads.append(np.round(corners).astype(np.int32))
        cv2.fillPoly(annotated, [quads[-1]], 1)
    faces = []
    for f, q in zip(annotation["faces"], quads):
        if f["invalid"] or q is None:
            continue
        mask = np.zeros((height, width), np.uint8)
        cv2.fillPoly(mask, [q], 1)
        area = int(mask.sum())
        covered = area > 0 and painted[mask.astype(bool)].sum() >= 0.7 * area
        x, y, w, h = f["box_xywh"]
        faces.append((bool(covered), (f["easy"], f["medium"], f["hard"], max(w, h))))
    false = 0
    for box in regs.boxes:
        px = region_window(box, regs.shape, height, width)
        if px is not None and not (px[2] & annotated[px[0], px[1]].astype(bool)).any():
            false += 1
    return faces, false, float(painted.mean())


def summarize(per_image: list[tuple[list, int, float]], seconds: list[float]) -> dict[str, float]:
    covered = np.array([c for faces, _, _ in per_image for c, _ in faces])
    attrs = [a for faces, _, _ in per_image for _, a in faces]
    easy, medium, hard = (np.array([a[i] for a in attrs], bool) for i in range(3))
    size = np.array([a[3] for a in attrs], float)
    row = {"recall": covered.mean(), "easy": covered[easy].mean(), "medium": covered[medium].mean()}
    row["hard"] = covered[hard].mean()
    for name, lo, hi in SIZE_BINS:
        row[name] = covered[(size >= lo) & (size < hi)].mean()
    row["false/img"] = float(np.mean([f for _, f, _ in per_image]))
    row["area %"] = 100 * float(np.mean([a for _, _, a in per_image]))
    row["s/img"] = float(np.mean(seconds)) if seconds else float("nan")
    row["faces"] = int(len(covered))
    return row


def turn_image(image: np.ndarray, turn: int) -> np.ndarray:
    """The photo as stored turned by ``turn`` degrees counter-clockwise, with no orientation tag."""
    return np.ascontiguousarray(np.rot90(image, turn // 90)) if turn % 360 else image


def turn_annotation(annotation: dict, turn: int) -> dict:
    """``annotation`` (see the data README) for the image turned by ``turn`` degrees counter-clockwise."""
    from minface.detect.orientation import to_turned, turned_size

    k = (turn // 90) % 4
    if k == 0:
        return annotation
    w, h = annotation["width"], annotation["height"]
    tw, th = turned_size(w, h, k)
    faces = []
    for f in annotation["faces"]:
        x, y, bw, bh = f["box_xywh"]
        c = to_turned(np.array([[x, y], [x + bw, y + bh]], np.float64), k, w, h)
        (x0, y0), (x1, y1) = c.min(axis=0), c.max(axis=0)
        faces.append({**f, "box_xywh": [int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))]})
    return {**annotation, "width": tw, "height": th, "faces": faces}


def run_minface(
    preset: str, items: list[tuple[str, dict]], data: Path, args: argparse.Namespace, turn: int = 0
) -> tuple[list, list]:
    import minface

    detector = minface.Detector(
        preset, backend=args.backend, threads=args.threads, device=args.device, model=args.model, turned=not args.upright_only
    )
    print(f"# {preset}: {detector.description}", file=sys.stderr)
    detector(np.zeros((64, 64, 3), np.uint8))  # load the model before timing
    boxes, seconds = [], []
    for i, (name, _) in enumerate(items):
        image = turn_image(minface.load_image(data / name), turn)
        start = time.perf_counter()
        faces = detector(image)
        seconds.append(time.perf_counter() - start)
        boxes.append(faces.xyxy)
        if args.progress:
            print(f"\r{preset}: {i + 1}/{len(items)}", end="", file=sys.stderr)
    if args.progress:
        print(file=sys.stderr)
    return boxes, seconds


def run_tilted(preset: str, items: list[tuple[str, dict]], data: Path, args: argparse.Namespace, degrees: float) -> dict:
    """One preset on every photo tilted by ``degrees`` (between the four orientations the search tries)."""
    import minface

    detector = minface.Detector(
        preset, backend=args.backend, threads=args.threads, device=args.device, model=args.model, turned=not args.upright_only
    )
    per_image, seconds = [], []
    for name, ann in items:
        image, m = tilt_image(minface.load_image(data / name), degrees)
        start = time.perf_counter()
        faces = detector(image)
        seconds.append(time.perf_counter() - start)
        per_image.append(score_tilted(ann, m, (image.shape[1], image.shape[0]), faces.xyxy, args.pad))
    return summarize(per_image, seconds)


def run_sweep(preset: str, items: list[tuple[str, dict]], data: Path, args: argparse.Namespace) -> dict[str, dict]:
    """Recall and false regions of one preset's search as its threshold curve is scaled.

    The detector runs once with every candidate kept (threshold 0.01); each row keeps
    the candidates scoring at least ``k`` times the preset's size-dependent threshold
    (k = 1 is the preset as shipped). The rows trace the recall/false-region frontier
    the preset's passes allow, so a target can be checked against it.
    """
    import minface
    from minface.detect.fuse import size_threshold
    from minface.detect.presets import PRESETS

    p = PRESETS[preset]
    detector = minface.Detector(preset, backend=args.backend, threads=args.threads, threshold=0.01)
    print(f"# sweep {preset}: {detector.description}", file=sys.stderr)
    found = []
    for i, (name, _) in enumerate(items):
        faces = detector(minface.load_image(data / name))
        sizes = np.maximum(faces.xyxy[:, 2] - faces.xyxy[:, 0], faces.xyxy[:, 3] - faces.xyxy[:, 1])
        found.append((faces.xyxy, faces.scores, size_threshold(p.thresholds, sizes / detector.min_face)))
        if args.progress:
            print(f"\rsweep {preset}: {i + 1}/{len(items)}", end="", file=sys.stderr)
    if args.progress:
        print(file=sys.stderr)
    rows = {}
    for k in (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0):
        boxes = [b[s >= np.minimum(k * t, 0.99)] for b, s, t in found]
        per_image = [score_image(ann, b, args.pad) for (_, ann), b in zip(items, boxes)]
        rows[f"{preset} x{k:g}"] = summarize(per_image, [])
    return rows


def run_deface(python: str, items: list[tuple[str, dict]], data: Path, turn: int = 0) -> tuple[list, list]:
    import tempfile

    runner = Path(__file__).with_name("deface_runner.py")
    with tempfile.TemporaryDirectory(prefix="minface-turned-") as tmp:
        paths = [str(data / name) for name, _ in items]
        if turn % 360:  # lossless turned copies without any tag, as an app that lost it would leave them
            import minface
            from PIL import Image

            for n, p in enumerate(paths):
                paths[n] = f"{tmp}/{n:05d}.png"
                Image.fromarray(turn_image(minface.load_image(p), turn)).save(paths[n])
        out = subprocess.run([python, str(runner), *paths], check=True, capture_output=True, text=True).stdout
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [np.array(r["boxes"], float).reshape(-1, 4) for r in records], [r["seconds"] for r in records]


def format_table(rows: dict[str, dict[str, float]]) -> str:
    head = "| method | " + " | ".join(COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 1)]
    for name, row in rows.items():
        cells = []
        for c in COLUMNS:
            v = row[c]
            cells.append(f"{v:.2f}" if c in ("false/img", "area %") else f"{v:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def load_items(data: Path, limit: int | None) -> list[tuple[str, dict]]:
    annotations = json.loads((data / "annotations.json").read_text())
    items = sorted(annotations.items())
    return items[:limit] if limit else items


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with annotations.json (default: %(default)s)")
    parser.add_argument(
        "--presets", default="fast,balanced,thorough", help="comma-separated presets to run (also balanced-v0)"
    )
    parser.add_argument("--backend", default="auto", help="minface backend (default: auto)")
    parser.add_argument("--threads", type=int, default=None, help="inference threads (default: all CPUs)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--model", choices=["fp32", "int8"], help="weights to run (default: the preset's)")
    parser.add_argument(
        "--yunet",
        metavar="SCALES",
        help="run each preset with the second detector, YuNet, at these scales (e.g. 1,2; 'none' without it)",
    )
    parser.add_argument(
        "--upright-only", action="store_true", help="search as stored only, not turned (the search before four orientations)"
    )
    parser.add_argument(
        "--tilts",
        metavar="DEGREES",
        help="also each preset on every photo tilted by these angles (e.g. 30,-30,45,-45; black canvas around)",
    )
    parser.add_argument(
        "--turns", default="0", help="comma-separated turns in degrees (0,90,180,270): copies turned with no tag (default 0)"
    )
    parser.add_argument("--pad", type=float, default=0.3, help="region growth per side, fraction of the box (default 0.3)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N images (sorted by name)")
    parser.add_argument("--deface-python", help="python of a venv with deface==1.5.0 installed, to add deface's row")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--progress", action="store_true", help="print progress to stderr")
    parser.add_argument(
        "--sweep", action="store_true", help="instead: each preset's recall/false-region frontier (threshold curve scaled)"
    )
    args = parser.parse_args(None if argv is None else list(argv))

    if not (args.data / "annotations.json").is_file():
        print(f"no annotations.json in {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    items = load_items(args.data, args.limit)
    rows: dict[str, dict[str, float]] = {}
    if args.yunet:  # the presets with (or without) the second detector, for with/without tables
        import dataclasses

        from minface.detect import PRESETS

        scales = () if args.yunet == "none" else tuple(float(v) for v in args.yunet.split(","))
        for name in filter(None, args.presets.split(",")):
            PRESETS[name] = dataclasses.replace(PRESETS[name], yunet=scales)
    if "balanced-v0" in args.presets.split(","):  # the first balanced preset, for before/after tables
        sys.path.insert(0, str(Path(__file__).parent))
        from profile_scrub import register_v0

        register_v0()
    if args.sweep:
        for preset in filter(None, args.presets.split(",")):
            rows.update(run_sweep(preset, items, args.data, args))
        print(f"{len(items)} images; threshold curve of each preset scaled by x (x1 = as shipped; s/img not timed)\n")
        print(format_table(rows))
        return 0
    methods: list[tuple[str, int, object]] = []
    turns = [int(t) for t in args.turns.split(",") if t.strip()]
    for turn in turns:
        label = f" @{turn}" if turns != [0] else ""
        if args.deface_python:
            methods.append((f"deface 1.5.0{label}", turn, lambda t=turn: run_deface(args.deface_python, items, args.data, t)))
        for preset in filter(None, args.presets.split(",")):
            methods.append((f"minface {preset}{label}", turn, lambda p=preset, t=turn: run_minface(p, items, args.data, args, t)))
    for name, turn, fn in methods:
        boxes, seconds = fn()  # type: ignore[operator]
        per_image = [score_image(turn_annotation(ann, turn), b, args.pad) for (_, ann), b in zip(items, boxes)]
        rows[name] = summarize(per_image, seconds)
    for tilt in [float(t) for t in args.tilts.split(",")] if args.tilts else []:
        for preset in filter(None, args.presets.split(",")):
            rows[f"minface {preset} tilted {tilt:g}"] = run_tilted(preset, items, args.data, args, tilt)
    faces = next(iter(rows.values()))["faces"] if rows else 0
    print(f"{len(items)} images, {faces} valid faces, region = ellipse in box grown {args.pad} per side\n")
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
