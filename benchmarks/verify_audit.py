"""Is `minface verify` an audit a privacy officer can act on? Scrub, audit, and score the audit.

    python benchmarks/verify_audit.py                       # 40 WIDER photos scrubbed with --preset fast
    python benchmarks/verify_audit.py --limit 100 --scrub-preset fast --jobs 2
    python benchmarks/verify_audit.py --limit 400 --scrub-preset fast --cache /tmp/audit-cache

With ``--cache DIR`` the audit runs in this process's workers, not as the
``minface verify`` command: each plane's raw detections (CenterFace's and
BlazeFace's, before the audit's bars) are kept in DIR under the plane's hash,
and :func:`minface.verify.verify_file` applies the rule to them. A rerun after a
change of the rule (bars, paint, file-level decision) then searches nothing; a
change of the search itself needs a new DIR. The scrubs are kept in DIR too
(one per preset and ``--limit``). The times are then not the command's: the
time row comes from a run without ``--cache``.

The first ``--limit`` annotated photos (by name) are scrubbed with
``minface scrub --preset P --report R`` and the outputs are audited with
``minface verify OUT --report R --json V``, both as a user runs them (whole
commands, timed from start to exit). Scored against the annotations:

* a face is *left intact* when less than 70% of its box lies inside the regions the
  scrub report says were painted (the coverage rule of ``benchmarks/accuracy.py``);
* a *clear* face is valid, not in an extreme pose, not heavily occluded and at
  least 24 px (``max(w, h)``): the faces an audit must not miss;
* an alarm *lies on* an intact face when its centre lies inside the face's box or
  the face's centre inside the alarm's box (any annotated face left intact counts,
  whatever its size);
* reported: the share of clear intact faces flagged, the share of alarms lying on
  an intact face (precision), alarms per photo, files flagged, verify's exit code,
  and verify's wall time against the scrub's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "wider-dev"
#: Lower edges of the face-size bins (longer box side, pixels) of the per-bin figures.
SIZE_BINS = (10, 16, 24, 48)


_cpu: dict[str, float] = {}


def _children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def _run(cmd: list[str], what: str = "") -> tuple[float, int, str]:
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    _cpu[what] = _children_cpu() - cpu  # CPU seconds of the command and its workers (a loaded machine stretches wall)
    return time.perf_counter() - start, proc.returncode, proc.stderr[-2000:]


class CachedSearch:
    """:class:`minface.audit_search.AuditSearch` whose raw detections per plane are kept in ``folder``."""

    def __init__(self, folder: Path, blazeface: bool = True) -> None:
        from minface.audit_search import AuditSearch

        self.folder = folder
        self.search = AuditSearch(threads=1)
        self.use_blazeface = blazeface  # False: CenterFace's detections alone (as verify --no-blazeface)

    def raw(self, plane: np.ndarray):  # noqa: ANN201 - (CenterFace's Faces, BlazeFace's Faces)
        key = hashlib.sha1(np.ascontiguousarray(plane).tobytes() + repr(plane.shape).encode()).hexdigest()
        path = self.folder / f"{key}.pkl"
        if path.is_file():
            return pickle.loads(path.read_bytes())
        found = (self.search.detector(plane), self.search._blaze(plane))
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(found))
        os.replace(tmp, path)
        return found

    def __call__(self, plane: np.ndarray, **bars: float) -> list[dict]:
        from minface.audit_search import join

        cf, bf = self.raw(plane)
        return join(cf, bf if self.use_blazeface else None, **{**self.search.bars, **bars})


_cached: CachedSearch | None = None
_regions: dict = {}


def _init_worker(folder: str, report: str, blazeface: bool) -> None:
    global _cached, _regions
    from minface.verify import load_regions

    _cached = CachedSearch(Path(folder), blazeface)
    _regions = load_regions(report)


def _audit_one(path: str) -> dict:
    from minface.verify import verify_file

    res = verify_file(path, detector=_cached, regions=_regions.get(os.path.abspath(path)), check_metadata=False)
    rec = res.to_record()
    rec["status"] = "ok" if res.status == "clean" else "leak"
    return rec


def audit_cached(files: list[Path], report: Path, folder: Path, jobs: int, out: Path, blazeface: bool = True) -> None:
    """Audit ``files`` as ``minface verify --scrub-report report`` does, with the search cached in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with multiprocessing.get_context("spawn").Pool(jobs, _init_worker, (str(folder), str(report), blazeface)) as pool:
        records = pool.map(_audit_one, [str(f) for f in files], chunksize=1)
    out.write_text("".join(json.dumps(r) + "\n" for r in records))


def _on(alarm: np.ndarray, face: np.ndarray) -> bool:
    ax, ay = (alarm[0] + alarm[2]) / 2, (alarm[1] + alarm[3]) / 2
    fx, fy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    return bool(
        (face[0] <= ax <= face[2] and face[1] <= ay <= face[3]) or (alarm[0] <= fx <= alarm[2] and alarm[1] <= fy <= alarm[3])
    )


def score(items: list[tuple[str, dict]], names: dict[str, str], scrub_report: Path, verify_json: Path) -> dict:
    from minface.redact import Regions, region_mask

    painted: dict[str, Regions] = {}
    for line in scrub_report.read_text().splitlines():
        rec = json.loads(line)
        boxes = [f["region"]["box"] for f in rec.get("faces") or []]
        shape = (rec.get("faces") or [{}])[0].get("region", {}).get("shape", "ellipse") if boxes else "ellipse"
        painted[Path(rec["input"]).name] = Regions(np.asarray(boxes, np.float64).reshape(-1, 4), shape)
    alarms: dict[str, np.ndarray] = {}
    scores: dict[str, np.ndarray] = {}
    codes = {}
    kinds: dict[str, list[str]] = {}
    by_kind: dict[str, list[int]] = {}
    for line in verify_json.read_text().splitlines():
        rec = json.loads(line)
        name = Path(rec["input"]).name
        found = rec.get("intact_faces") or []
        alarms[name] = np.asarray([f["box"] for f in found], np.float64).reshape(-1, 4)
        scores[name] = np.asarray([f.get("confidence", f.get("score", 0.0)) for f in found], np.float64)
        kinds[name] = ["+".join(f.get("detectors") or ["centerface"]) for f in found]
        codes[name] = rec.get("status")
    clear = flagged = n_alarms = on_face = files_flagged = with_face = with_face_clean = 0
    bins = {lo: [0, 0] for lo in SIZE_BINS}
    for key, ann in items:
        name = names[key]
        h, w = ann["height"], ann["width"]
        mask = region_mask(h, w, painted.get(name, Regions(np.zeros((0, 4)), "ellipse")))
        intact = []
        is_clear = []
        for f in ann["faces"]:
            x, y, bw, bh = f["box_xywh"]
            if bw <= 0 or bh <= 0:
                continue
            covered = mask[max(0, y) : y + bh, max(0, x) : x + bw].sum() >= 0.7 * bw * bh
            if covered:
                continue
            intact.append(np.array([x, y, x + bw, y + bh], np.float64))
            is_clear.append(not f["invalid"] and f["pose"] == 0 and f["occlusion"] < 2 and max(bw, bh) >= 24)
        a = alarms.get(name, np.zeros((0, 4)))
        valid = [f for f in ann["faces"] if not f["invalid"] and max(f["box_xywh"][2:]) >= 10]
        if valid:
            with_face += 1
            with_face_clean += not len(a) and codes.get(name) == "ok"
        for face in intact:
            size = max(face[2] - face[0], face[3] - face[1])
            lo = max(b for b in SIZE_BINS if b <= size) if size >= SIZE_BINS[0] else None
            if lo is not None:
                bins[lo][1] += 1
                bins[lo][0] += any(_on(al, face) for al in a)
        n_alarms += len(a)
        files_flagged += bool(len(a))
        for al, kind in zip(a, kinds.get(name, [])):
            hit = any(_on(al, face) for face in intact)
            on_face += hit
            by_kind.setdefault(kind, [0, 0])
            by_kind[kind][0] += hit
            by_kind[kind][1] += 1
        for face, c in zip(intact, is_clear):
            if c:
                clear += 1
                flagged += any(_on(al, face) for al in a)
    return {
        "photos": len(items),
        "clear intact faces": clear,
        "flagged": flagged / clear if clear else float("nan"),
        "alarms": n_alarms,
        "precision": on_face / n_alarms if n_alarms else float("nan"),
        "alarms/photo": n_alarms / len(items),
        "files flagged": files_flagged,
        "files flagged %": 100.0 * files_flagged / len(items),
        "photos with a face >= 10 px": with_face,
        "of those called clean": with_face_clean,
        **{f"alarms by {k} on a face": f"{v[0]}/{v[1]}" for k, v in sorted(by_kind.items())},
        **{f"intact {lo}-{hi} px flagged": f"{v[0]}/{v[1]}" for (lo, v), hi in zip(bins.items(), [*SIZE_BINS[1:], "inf"])},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with annotations.json (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=40, help="first N annotated photos by name (default 40)")
    parser.add_argument("--scrub-preset", default="fast", help="preset of the scrub being audited (default fast; 'none': the originals)")
    parser.add_argument("--jobs", type=int, default=None, help="-j for both commands (default: all CPUs)")
    parser.add_argument("--verify-args", default="", help="extra arguments for minface verify, e.g. '--preset balanced'")
    parser.add_argument("--raw", action="store_true", help="also print the row as JSON")
    parser.add_argument("--html", action="store_true", help="also write verify's review page (timed with it)")
    parser.add_argument("--cache", type=Path, help="keep the search's raw detections (and the scrubs) in DIR (see above)")
    args = parser.parse_args()
    if not (args.data / "annotations.json").is_file():
        print(f"no annotations.json in {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    items = sorted(json.loads((args.data / "annotations.json").read_text()).items())[: args.limit]
    jobs = ["-j", str(args.jobs)] if args.jobs else []
    with tempfile.TemporaryDirectory(prefix="minface-audit-") as scratch:
        tmp = Path(scratch) if args.cache is None else args.cache / f"{args.scrub_preset}-{args.limit}"
        src, out = tmp / "in", tmp / "out"
        src.mkdir(parents=True, exist_ok=True)
        names = {}
        for i, (key, _) in enumerate(items):
            names[key] = f"{i:04d}.jpg"
            if not (src / names[key]).exists():
                (src / names[key]).symlink_to((args.data / key).resolve())
        report, audit = tmp / "scrub.jsonl", tmp / "verify.jsonl"
        t_scrub = float("nan")
        if args.scrub_preset == "none":  # the originals, never scrubbed: every photo with a face must be flagged
            out = src
            report.write_text("".join(json.dumps({"input": str(src / n), "output": str(src / n), "status": "ok", "faces": []}) + "\n" for n in names.values()))
        elif args.cache is None or not report.is_file():
            cmd = [sys.executable, "-m", "minface", "scrub", "-q", str(src), "-o", str(out), "--preset", args.scrub_preset]
            t_scrub, rc, err = _run(cmd + ["--report", str(report)] + jobs, "scrub")
            if rc != 0:
                print(err, file=sys.stderr)
                return 1
        if args.cache is not None:
            start = time.perf_counter()
            files = sorted(p for p in out.iterdir() if p.suffix == ".jpg")
            blazeface = "--no-blazeface" not in args.verify_args.split()  # the only --verify-args read here
            audit_cached(files, report, args.cache / "search", args.jobs or os.cpu_count() or 1, audit, blazeface)
            t_verify = time.perf_counter() - start
            rc_verify = int(any(json.loads(line)["status"] != "ok" for line in audit.read_text().splitlines()))
        else:
            cmd = [sys.executable, "-m", "minface", "verify", "-q", str(out), "--scrub-report", str(report), "--json", str(audit)]
            cmd += args.verify_args.split() + jobs + (["--html", str(tmp / "review.html")] if args.html else [])
            t_verify, rc_verify, err = _run(cmd, "verify")
            if rc_verify not in (0, 1):
                print(err, file=sys.stderr)
                return 1
        row = score(items, names, report, audit)
    row.update({"scrub s": t_scrub, "verify s": t_verify, "verify/scrub": t_verify / t_scrub, "verify exit": rc_verify})
    if "scrub" in _cpu and "verify" in _cpu:
        row.update({"scrub cpu s": _cpu["scrub"], "verify cpu s": _cpu["verify"], "verify/scrub cpu": _cpu["verify"] / _cpu["scrub"]})
    if args.raw:
        print(json.dumps(row))
    print(f"scrub --preset {args.scrub_preset}, then verify {args.verify_args or '(defaults)'}\n")
    print("| " + " | ".join(row) + " |")
    print("|" + "---|" * len(row))
    print("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
