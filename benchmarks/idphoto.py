"""How many ordinary photos of one person give a compliant ID photo, judged independently.

For each photo ``minface.crop_id`` (default spec ``us-passport``, defaults
otherwise) either refuses, with a reason, or makes a photo. Each photo is then
judged on what the issue asks of an ID photo, without minface's own
measurements:

* *size*: exactly the spec's pixels;
* *head* and *eyes*: the head height (the top of the hair: the first row over
  the face's width that is not the plain background colour; the chin: MediaPipe
  face mesh point 152) and the eye line (the mesh's irises) within the spec's
  ranges (a tolerance of 1% of the height for the hair and chin estimates);
* *centred*: the mesh's face centre within 5% of the width from the middle;
* *plain*: at least 98% of the photo's border above the eye line (the top 4% of
  its rows, the outer 4% of its columns) within 6 grey levels of the background
  colour;
* *clean*: ``minface.inspect`` finds nothing to strip (and exiftool, when installed,
  no tag beyond the file's structure).

The face mesh (``mediapipe==0.10.21``) runs in its own virtual environment
(``--judge-python``, see ``benchmarks/idphoto_judge.py``); without it only the
size, plainness and metadata are judged and minface's own checks are reported.

Photos: ``--images DIR`` (every image in it), or by default the WIDER FACE
validation subset in ``../shared/data/wider-dev`` reduced to photos of one
person: exactly one face of at least ``--min-face`` pixels (110) and no other
face more than 60% of its height.

    python benchmarks/idphoto.py --judge-python /path/to/mediapipe-venv/bin/python --out id-photos/
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "wider-dev"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".tif", ".tiff", ".bmp"}


def single_face_photos(data: Path, min_face: float) -> list[Path]:
    annotations = json.loads((data / "annotations.json").read_text())
    out = []
    for name, ann in sorted(annotations.items()):
        heights = sorted((f["box_xywh"][3] for f in ann["faces"] if not f["invalid"]), reverse=True)
        if heights and heights[0] >= min_face and (len(heights) == 1 or heights[1] < 0.6 * heights[0]):
            out.append(data / name)
    return out


def hair_top(image: np.ndarray, colour: np.ndarray, centre_x: float, half: float) -> int | None:
    x0, x1 = max(0, int(centre_x - half)), min(image.shape[1], int(centre_x + half))
    off = np.abs(image[:, x0:x1].astype(int) - colour).max(axis=2) > 24
    rows = np.flatnonzero(off.any(axis=1))
    return int(rows[0]) if rows.size else None


def plain(image: np.ndarray, colour: np.ndarray, eyes_y: float) -> float:
    """Fraction of the border above the eye line (the top 4% of rows, the outer 4% of columns) that is the colour."""
    h, w = image.shape[:2]
    band = max(2, round(0.04 * min(h, w)))
    zone = np.zeros((h, w), bool)
    zone[:band] = True
    zone[: int(eyes_y), :band] = True
    zone[: int(eyes_y), -band:] = True
    close = np.abs(image.astype(int) - colour).max(axis=2) <= 6
    return float(close[zone].mean())


def exiftool_tags(path: Path) -> list[str] | None:
    exe = shutil.which("exiftool")
    if exe is None:
        return None
    out = subprocess.run([exe, "-j", "-G1", "-a", str(path)], capture_output=True, text=True, check=False).stdout
    tags = json.loads(out)[0] if out.strip() else {}
    structure = ("File:", "System:", "ExifTool:", "JFIF:", "Composite:", "SourceFile")
    return [k for k in tags if not k.startswith(structure)]


def judge(photos: list[dict], python: str | None) -> None:
    """Add the independent verdicts to each made photo's record."""
    import minface

    meshes = {}
    made = [p for p in photos if p.get("output")]
    if python:
        files = [p["input"] for p in photos] + [p["output"] for p in made]
        run = subprocess.run(
            [python, str(ROOT / "benchmarks" / "idphoto_judge.py"), *files], capture_output=True, text=True, check=True
        )
        meshes = {r["image"]: r for r in map(json.loads, run.stdout.splitlines())}
        for p in photos:  # how far the person faces away in the original, as the mesh sees it
            m = meshes.get(p["input"], {})
            p["input_yaw"] = m.get("yaw") if m.get("found") else None
    for p in made:
        spec = minface.idphoto.SPECS[p["spec"]]
        img = minface.load_image(p["output"])
        h, w = img.shape[:2]
        colour = np.array(p["background"])
        verdict = {"size": (w, h) == (spec.width_px, spec.height_px), "clean": minface.inspect(p["output"]).clean}
        tags = exiftool_tags(Path(p["output"]))
        if tags is not None:
            verdict["clean"] = verdict["clean"] and not tags
        mesh = meshes.get(p["output"])
        if mesh is not None and mesh["found"]:
            cx, (_, ey), (_, chin_y) = mesh["face_centre_x"], mesh["eyes"], mesh["chin"]
            half_face = abs(chin_y - ey) * 0.75
            top = hair_top(img, colour, cx, 0.6 * half_face)
            head = (chin_y - top) / h if top is not None else float("nan")
            eye = (h - ey) / h
            lo, hi = spec.head_ratio
            verdict["head"] = bool(lo - 0.01 <= head <= hi + 0.01)
            if spec.eye_ratio is not None:
                verdict["eyes"] = bool(spec.eye_ratio[0] - 0.01 <= eye <= spec.eye_ratio[1] + 0.01)
            verdict["centred"] = bool(abs(cx - w / 2) <= 0.05 * w)
            verdict["plain"] = plain(img, colour, ey) >= 0.98
            p["measured"] = {"head": round(head, 4), "eye_line": round(eye, 4), "centre": round((cx - w / 2) / w, 4), "mesh_yaw": mesh["yaw"]}
        elif python:
            verdict["face_found"] = False
        p["verdict"] = verdict
        p["compliant"] = all(verdict.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, help="a folder of photos (default: single-face photos of --data)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="WIDER FACE subset (default: %(default)s)")
    parser.add_argument("--min-face", type=float, default=110, help="smallest annotated face height, px (default 110)")
    parser.add_argument("--spec", default="us-passport", help="document spec (default us-passport)")
    parser.add_argument("--judge-python", help="python of a venv with mediapipe==0.10.21, to judge head, eyes, centring")
    parser.add_argument("--out", type=Path, help="keep the photos made here (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="write one record per photo here")
    parser.add_argument("--limit", type=int, help="only the first N photos")
    parser.add_argument(
        "--frontal", type=float, default=10, help="also report photos whose person turns at most this many degrees (10)"
    )
    args = parser.parse_args()

    import minface

    if args.images:
        if not args.images.is_dir():
            parser.exit(2, f"{args.images}: not a folder\n")
        inputs = sorted(p for p in args.images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    else:
        if not (args.data / "annotations.json").exists():
            parser.exit(2, f"{args.data}: no annotations.json; give --data or --images\n")
        inputs = single_face_photos(args.data, args.min_face)
    inputs = inputs[: args.limit]
    out = args.out or Path(tempfile.mkdtemp(prefix="idphoto-"))
    out.mkdir(parents=True, exist_ok=True)
    detector = minface.Detector("balanced")
    records, seconds = [], []
    for i, path in enumerate(inputs):
        record: dict = {"input": str(path), "spec": args.spec}
        start = time.perf_counter()
        try:
            photo = minface.crop_id(path, args.spec, detector=detector)
            seconds.append(time.perf_counter() - start)
            target = out / f"{i:04d}-{path.stem}.jpg"
            photo.save(target)
            record.update(
                output=str(target),
                ok=photo.ok,
                failed=photo.failed,
                checks={c.name: round(c.value, 4) for c in photo.checks},
                background=list(photo.background or (255, 255, 255)),
                redacted=photo.redacted,
            )
        except minface.IdPhotoError as exc:
            record.update(output=None, reason=exc.reason)
        records.append(record)
        print(f"[{i + 1}/{len(inputs)}] {path.name}: {record.get('reason') or ('ok' if record['ok'] else 'checks failed: ' + ','.join(record['failed']))}", file=sys.stderr)
    judge(records, args.judge_python)

    made = [r for r in records if r.get("output")]
    reasons = collections.Counter(r["reason"] for r in records if not r.get("output"))
    print(f"{len(inputs)} photos, spec {args.spec}: {len(made)} made, {sum(reasons.values())} refused ({dict(reasons)})")
    print(f"minface's own checks: {sum(r['ok'] for r in made)} of {len(made)} compliant; failed checks: "
          f"{dict(collections.Counter(f for r in made for f in r['failed']))}")
    painted = [r for r in made if r.get("redacted")]
    print(f"other faces painted: {sum(r['redacted'] for r in painted)} in {len(painted)} of {len(made)} photos"
          + (f" ({', '.join(Path(r['input']).name for r in painted)})" if painted else ""))
    if made:
        judged = collections.Counter(k for r in made for k, v in r["verdict"].items() if not v)
        compliant = sum(r["compliant"] for r in made)
        agree = sum(r["compliant"] == r["ok"] for r in made)
        print(f"independent judge: {compliant} of {len(made)} made photos pass size/head/eyes/centred/plain/clean "
              f"(failures: {dict(judged)}); minface's verdict agrees on {agree} of {len(made)}")
        both = sum(r["compliant"] and r["ok"] for r in made)
        print(f"compliant by both: {both} of {len(inputs)} photos ({both / len(inputs):.0%})")
        frontal = [r for r in records if r.get("input_yaw") is not None and abs(r["input_yaw"]) <= args.frontal]
        if frontal:
            f_made = [r for r in frontal if r.get("output")]
            f_reasons = collections.Counter(r["reason"] for r in frontal if not r.get("output"))
            print(
                f"facing the camera (|yaw| <= {args.frontal:g} deg by the mesh, {len(frontal)} photos): "
                f"{len(f_made)} made, refused {dict(f_reasons)}; {sum(r['compliant'] for r in f_made)} pass the "
                f"judge, {sum(r['ok'] for r in f_made)} pass minface's checks "
                f"(failed: {dict(collections.Counter(f for r in f_made for f in r['failed']))})"
            )
        print(f"seconds per crop_id: median {np.median(seconds):.3f}, p90 {np.percentile(seconds, 90):.3f}")
    print(f"photos in {out}")
    if args.json:
        args.json.write_text("".join(json.dumps(r) + "\n" for r in records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
