"""Documents in photos: are the ID numbers, card numbers, MRZ lines, phones, e-mails and card portraits destroyed?

    python benchmarks/documents.py --n 200 --modes none,truth,faces     # the two sanity modes and a faces-only scrub
    python benchmarks/documents.py --n 200                              # minface --documents and --text all
    python benchmarks/documents.py --n 200 --modes documents --via cli  # the same through `minface scrub`
    python benchmarks/documents.py --n 50 --ocr off --no-timing --wider 0 --json out.json
    python benchmarks/documents.py --n 200 --modes documents --keep /tmp/docs   # inputs, outputs and misses, to look at

The set is rendered by ``tests/document_samples.py`` (seeded by ``--seed``;
sample ``i`` is the same for any ``--n``): Chinese ID cards (front and back),
bank cards, passport data pages, TD1/TD2 cards and forms with phones and
e-mails, in five scenes (card alone, on a table, KYC selfie built from
``wider-dev`` photos, two cards, photo turned 90 degrees without a tag), with
perspective, any rotation, blur, noise, lighting and JPEG quality 70-95.
Without ``--data`` (``wider-dev``) the KYC scenes become table scenes and the
no-document check is skipped.

Modes (``--modes``, one column each):

* ``documents``: ``minface.scrub_bytes(data, documents=True)``; ``text-all``: ``text="all"``
  (and ``documents=True``); ``faces``: a plain scrub (``documents=False`` where the
  option exists). A minface without the ``documents`` option is said so, and its
  ``documents``/``text-all`` columns are left out (``faces`` measures it).
* ``none`` and ``truth`` are sanity modes of the scoring, not results: ``none``
  returns the input (recall 0, OCR reads what it reads on the inputs); ``truth``
  paints every ground-truth field quadrilateral grown by max(6 px, 30% of its
  height) and every portrait, and re-encodes the JPEG with the input's tables
  (recall 1, OCR reads 0), reporting its regions in the record's format.

Scoring (all figures in pixels of the upright output):

* Every scrub paints with ``fill`` in ``--color`` (magenta), a colour no document
  uses. A pixel is *painted* when the output is within 60 of that colour (and the
  input was not), or when it changed by more than 96 in a channel (3x3 opening);
  this is the truth. The *reported* mask is the union of the record's regions
  (``faces[].region`` ellipses/rectangles, ``regions[].region`` polygons/rectangles).
* A field is destroyed when >= 90% of its quadrilateral's pixels are painted.
  Recall per kind: ``id_number``, ``bank_card``, ``mrz`` (each line), ``phone``,
  ``email``, ``document_text`` (labels, values, titles of ID documents and cards),
  ``text`` (other lines of forms: only ``--text all`` must paint them).
* Card portrait: destroyed when >= 90% of the face inside it is painted (``whole``:
  of the whole portrait photo).
* False paint: painted pixels outside every document (its outline grown by 6 px
  and 4% of its shorter side) and every face (photo faces and portraits' faces,
  grown by half their size per side), as % of the image; mean over photos (and max).
* OCR (Tesseract ``chi_sim+eng``, the ``tesseract`` program): each secret field
  (ID number, card number, MRZ line, phone, e-mail) is cut out of the input and
  the output *rectified* with the ground-truth homography, about 40 px high with
  a margin, and read as one line (``--psm 7``; MRZ lines with the MRZ alphabet as
  whitelist; ``--ocr full`` also reads each whole rectified document with
  ``--psm 6``). A number is *read* when the text, with spaces removed and common
  confusions mapped (O->0, I/l->1, ...), contains it whole (phones: the national
  digits; e-mails: the address); an MRZ line when the read line, with runs of
  ``<`` collapsed, is >= 90% similar (difflib) to it. The row counts photos with
  at least one such read, on outputs and (in brackets) inputs.
* ``wider-dev`` photos without documents (``--wider N``, evenly spaced): share of
  photos where the scrub reports any text region.
* Time (``--runs``): a child process pinned to one CPU (``OMP_NUM_THREADS=1``,
  a one-thread detector) scrubs 2 MP photos (3 rendered document photos and 3
  ``wider-dev`` photos without documents, enlarged to 2 MP) with and without
  ``documents=True`` (and ``text="all"``) in alternation; the extra time is the
  median of the paired differences, wall and CPU (``time.process_time``).
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import inspect
import io
import json
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "wider-dev"
sys.path.insert(0, str(ROOT / "tests"))

import document_samples as ds  # noqa: E402

FILL = (255, 0, 255)
NEAR_FILL = 60  # max channel distance to FILL for a painted pixel
CHANGED = 96  # or a change larger than this in a channel
DESTROYED = 0.9  # share of a field's pixels that must be painted
MRZ_SIMILAR = 0.9
RECALL_KINDS = ("id_number", "bank_card", "mrz", "phone", "email", "document_text", "text")
SECRET_KINDS = ("id_number", "bank_card", "mrz", "phone", "email")
MINFACE_MODES = ("faces", "documents", "text-all")
REFERENCE_MODES = ("none", "truth")
MRZ_WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "Q": "0", "D": "0", "I": "1", "l": "1", "|": "1", "i": "1", "Z": "2", "S": "5", "s": "5", "B": "8", "b": "6", "G": "6", "g": "9", "q": "9"})


# --------------------------------------------------------------------------- the set


@dataclass
class Item:
    """A rendered sample without its decoded pixels (the set stays small in memory)."""

    index: int
    scene: str
    jpeg: bytes
    width: int
    height: int
    fields: list[ds.Field]
    documents: list[ds.Placement]
    faces: list[np.ndarray]


def _render(args: tuple[int, int, str | None, bool]) -> Item:
    index, seed, data, astronaut_only = args
    photos, faces = _sources(data, astronaut_only)
    s = ds.make_sample(index, seed=seed, photos=photos, faces=faces)
    return Item(s.index, s.scene, s.jpeg, s.width, s.height, s.fields, s.documents, s.faces)


_SOURCES: dict = {}


def _sources(data: str | None, astronaut_only: bool):
    """KYC photos and portrait faces (the astronaut, and large ``wider-dev`` faces unless ``astronaut_only``)."""
    key = (data, astronaut_only)
    if key not in _SOURCES:
        photos = ds.kyc_photos(data) if data else []
        faces = ds.astronaut_faces() + ([] if astronaut_only else ds.photo_faces(photos, limit=24))
        _SOURCES[key] = (photos, faces)
    return _SOURCES[key]


def render_set(n: int, seed: int, data: Path | None, jobs: int, astronaut_only: bool) -> list[Item]:
    tasks = [(i, seed, str(data) if data else None, astronaut_only) for i in range(n)]
    if jobs > 1 and n > 8:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(jobs) as pool:
            return pool.map(_render, tasks, chunksize=4)
    return [_render(t) for t in tasks]


def decode(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


# --------------------------------------------------------------------------- the modes


def minface_options() -> set[str]:
    import minface

    return set(inspect.signature(minface.scrub_bytes).parameters)


def cli_supports(flag: str) -> bool:
    out = subprocess.run([sys.executable, "-m", "minface", "scrub", "--help"], capture_output=True, text=True, env=_env(), cwd=tempfile.gettempdir())
    return flag in out.stdout


def _env() -> dict:
    """The environment of the child processes: this one's (the same minface; they run outside the checkout)."""
    return dict(os.environ)


def mode_options(mode: str, supported: set[str]) -> dict:
    kw: dict = {}
    if mode == "faces" and "documents" in supported:
        kw["documents"] = False
    elif mode == "documents":
        kw["documents"] = True
    elif mode == "text-all":
        kw.update(documents=True, text="all")
    return kw


def paint_truth(item: Item, pixels: np.ndarray) -> tuple[bytes, dict]:
    """The ``truth`` mode: every field and portrait painted, the JPEG re-encoded with the input's tables."""
    import cv2
    from PIL import Image, JpegImagePlugin

    out = pixels.copy()
    regions = []
    for f in item.fields:
        q = ds.grow_quad(f.quad, 4.0 if f.kind == "document_portrait" else max(6.0, 0.3 * f.height()))
        pts = np.round((q - 0.5) * 16).astype(np.int32)
        cv2.fillPoly(out, [pts], FILL, lineType=cv2.LINE_8, shift=4)
        x0, y0 = q.min(0)
        x1, y1 = q.max(0)
        regions.append({"kind": f.kind, "region": {"shape": "polygon", "box": [float(x0), float(y0), float(x1), float(y1)], "points": q.round(2).tolist()}, "score": 1.0, "masked": None})
    with Image.open(io.BytesIO(item.jpeg)) as im:
        qtables, sampling = im.quantization, JpegImagePlugin.get_sampling(im)
    buf = io.BytesIO()
    kw = {"qtables": qtables}
    if sampling >= 0:
        kw["subsampling"] = sampling
    Image.fromarray(out).save(buf, "JPEG", **kw)
    return buf.getvalue(), {"status": "ok", "faces": [], "regions": regions}


class Runner:
    """Produces (output bytes, record) for each item in one mode."""

    def __init__(self, mode: str, args: argparse.Namespace, supported: set[str]):
        self.mode, self.args, self.supported = mode, args, supported
        self._cli: dict[int, tuple[bytes, dict]] | None = None
        self.seconds = 0.0

    def prepare(self, items: list[Item]) -> None:
        if self.mode in MINFACE_MODES and self.args.via == "cli":
            self._cli = self._run_cli(items)

    def __call__(self, item: Item, pixels: np.ndarray) -> tuple[bytes, dict]:
        if self.mode == "none":
            return item.jpeg, {"status": "ok", "faces": [], "regions": []}
        if self.mode == "truth":
            return paint_truth(item, pixels)
        if self._cli is not None:
            return self._cli[item.index]
        import minface

        start = time.perf_counter()
        out, result = minface.scrub_bytes(item.jpeg, preset=self.args.preset, color=FILL, **mode_options(self.mode, self.supported))
        self.seconds += time.perf_counter() - start
        return out, result.to_record()

    def _run_cli(self, items: list[Item]) -> dict[int, tuple[bytes, dict]]:
        flags = {"faces": ["--no-documents"] if cli_supports("--no-documents") else [], "documents": ["--documents"], "text-all": ["--documents", "--text", "all"]}[self.mode]
        with tempfile.TemporaryDirectory(prefix="minface-docs-") as tmp:
            src, dst, report = Path(tmp) / "in", Path(tmp) / "out", Path(tmp) / "report.jsonl"
            src.mkdir()
            for it in items:
                (src / f"{it.index:05d}.jpg").write_bytes(it.jpeg)
            cmd = [sys.executable, "-m", "minface", "scrub", str(src), "-o", str(dst), "--report", str(report), "--color", ",".join(map(str, FILL)), "--preset", self.args.preset, "-q", *flags]
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=tmp)
            self.seconds = time.perf_counter() - start
            if proc.returncode not in (0, 1):
                raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
            records = {}
            for line in report.read_text().splitlines():
                rec = json.loads(line)
                records[int(Path(rec["input"]).stem)] = rec
            out = {}
            for it in items:
                rec = records.get(it.index, {"status": "error", "error": "no record", "faces": [], "regions": []})
                path = dst / f"{it.index:05d}.jpg"
                out[it.index] = (path.read_bytes() if path.exists() else it.jpeg, rec)
            return out


# --------------------------------------------------------------------------- scoring


def painted_pixels(inp: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The truth: pixels painted in the fill colour, or changed beyond JPEG noise."""
    import cv2

    fill = np.asarray(FILL, np.int16)
    near_out = np.abs(out.astype(np.int16) - fill).max(axis=2) <= NEAR_FILL
    near_in = np.abs(inp.astype(np.int16) - fill).max(axis=2) <= NEAR_FILL
    changed = cv2.absdiff(out, inp).max(axis=2) > CHANGED
    changed = cv2.morphologyEx(changed.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    return (near_out & ~near_in) | changed


def reported_pixels(record: dict, width: int, height: int) -> np.ndarray:
    """Union of the record's painted regions (faces and text regions)."""
    import cv2

    mask = np.zeros((height, width), np.uint8)
    for entry in list(record.get("faces") or []) + list(record.get("regions") or []):
        region = entry.get("region") or {}
        shape, box, points = region.get("shape"), region.get("box"), region.get("points")
        if shape == "polygon" and points:
            pts = np.round((np.asarray(points, np.float64) - 0.5) * 16).astype(np.int32)
            cv2.fillPoly(mask, [pts], 1, lineType=cv2.LINE_8, shift=4)
        elif box:
            x0, y0, x1, y1 = (float(v) for v in box)
            if shape == "ellipse":
                c = (int(round((x0 + x1) / 2 * 16 - 8)), int(round((y0 + y1) / 2 * 16 - 8)))
                axes = (max(0, int(round((x1 - x0) / 2 * 16))), max(0, int(round((y1 - y0) / 2 * 16))))
                cv2.ellipse(mask, c, axes, 0, 0, 360, 1, thickness=-1, lineType=cv2.LINE_8, shift=4)
            else:
                cv2.fillPoly(mask, [np.round((ds.rect_quad((x0, y0, x1, y1)) - 0.5) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def covered(mask: np.ndarray, quad: np.ndarray) -> float:
    """Share of ``quad``'s pixels set in ``mask`` (computed in the quad's bounding window)."""
    h, w = mask.shape
    x0, y0 = np.floor(quad.min(0)).astype(int)
    x1, y1 = np.ceil(quad.max(0)).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    inside = ds.quad_mask(quad - [x0, y0], x1 - x0, y1 - y0)
    n = int(inside.sum())
    return float((mask[y0:y1, x0:x1] & inside).sum() / n) if n else 0.0


def exclusion(item: Item) -> np.ndarray:
    """Where painting is not false: the documents (grown a little) and the faces (grown by half their size)."""
    import cv2

    mask = np.zeros((item.height, item.width), np.uint8)
    quads = []
    for p in item.documents:
        side = min(p.size) * math.sqrt(ds.quad_area(p.quad) / (p.size[0] * p.size[1]))
        quads.append(ds.grow_quad(p.quad, 6 + 0.04 * side))
    for q in item.faces + [f.face for f in item.fields if f.face is not None]:
        size = max(np.ptp(q[:, 0]), np.ptp(q[:, 1]))
        quads.append(ds.grow_quad(q, 0.5 * size))
    for q in quads:
        cv2.fillPoly(mask, [np.round((q - 0.5) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


@dataclass
class Score:
    index: int
    scene: str
    fields: list[tuple[str, float, float]]  # kind, painted share (pixels), painted share (reported)
    portraits: list[tuple[float, float, float]]  # face share (pixels), whole share (pixels), face share (reported)
    false_paint: float
    status: str
    error: str | None = None
    #: the record holds a personal number's full text (it must never)
    text_in_record: bool = False


def score_item(item: Item, inp: np.ndarray, out: np.ndarray, record: dict) -> Score:
    if out.shape != inp.shape:
        return Score(item.index, item.scene, [], [], 0.0, "error", f"output {out.shape[1]}x{out.shape[0]} for input {inp.shape[1]}x{inp.shape[0]}")
    painted = painted_pixels(inp, out)
    reported = reported_pixels(record, item.width, item.height)
    fields, portraits = [], []
    for f in item.fields:
        if f.kind == "document_portrait":
            portraits.append((covered(painted, f.face), covered(painted, f.quad), covered(reported, f.face)))
        else:
            fields.append((f.kind, covered(painted, f.quad), covered(reported, f.quad)))
    false = float((painted & ~exclusion(item)).mean())
    return Score(item.index, item.scene, fields, portraits, false, record.get("status", "ok"), record.get("error"), text_in_record(item, record))


def text_in_record(item: Item, record: dict) -> bool:
    """Whether the record spells out a secret field (an ID, card or phone number, an MRZ line, an e-mail)."""
    text = json.dumps(record, ensure_ascii=False)
    flat = re.sub(r"[\s\-]", "", text).upper()
    digits = re.sub(r"[^0-9X]", "", flat)
    for f in item.fields:
        if not f.secret:
            continue
        if f.kind in ("id_number", "bank_card", "phone") and f.secret in digits:
            return True
        if f.kind in ("mrz", "email") and f.secret.upper() in flat:
            return True
    return False


# --------------------------------------------------------------------------- OCR


def field_band(pixels: np.ndarray, item: Item, f: ds.Field, height: int = 40) -> np.ndarray:
    """The field cut out and rectified with the ground-truth homography: ``height`` px of text, a margin around it."""
    p = item.documents[f.document]
    inv = np.linalg.inv(p.homography)
    q = ds.apply_h(inv, f.quad)
    x0, y0 = q.min(0)
    x1, y1 = q.max(0)
    h = max(1.0, y1 - y0)
    s = height / h
    m = 0.6 * h
    w_out, h_out = int((x1 - x0 + 2 * m) * s), int((y1 - y0 + 2 * m) * s)
    warp = np.diag([s, s, 1.0]) @ ds._shift(-(x0 - m), -(y0 - m)) @ inv
    return ds.warp(pixels, warp, (max(8, w_out), max(8, h_out)), border=(255, 255, 255))


def document_page(pixels: np.ndarray, item: Item, doc: int, width: int = 1400) -> np.ndarray:
    p = item.documents[doc]
    s = width / p.size[0]
    return ds.warp(pixels, np.diag([s, s, 1.0]) @ np.linalg.inv(p.homography), (width, int(p.size[1] * s)), border=(255, 255, 255))


def tesseract(pixels: np.ndarray, lang: str, psm: int, whitelist: str | None = None) -> str:
    import cv2

    ok, png = cv2.imencode(".png", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    cmd = ["tesseract", "stdin", "stdout", "-l", lang, "--psm", str(psm)]
    if whitelist:
        cmd += ["-c", f"tessedit_char_whitelist={whitelist}"]
    env = {"OMP_THREAD_LIMIT": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    proc = subprocess.run(cmd, input=png.tobytes(), capture_output=True, env=env, timeout=120)
    return proc.stdout.decode("utf-8", "replace")


def _collapse(mrz: str) -> str:
    return re.sub(r"<+", "<", mrz).strip("<")


def reads(text: str, kind: str, secret: str) -> bool:
    """Whether the OCR ``text`` holds ``secret`` (see the module's docstring)."""
    lines = [re.sub(r"\s+", "", t) for t in text.splitlines()] + [re.sub(r"\s+", "", text)]
    if kind in ("id_number", "bank_card", "phone"):
        return any(secret in re.sub(r"[^0-9X]", "", line.translate(_CONFUSIONS).upper()) for line in lines)
    if kind == "email":
        return any(secret in line.lower() for line in lines)
    target = _collapse(secret)
    for line in lines:
        line = _collapse(line.upper().replace("«", "<<"))
        if target in line or difflib.SequenceMatcher(None, line, target).ratio() >= MRZ_SIMILAR:
            return True
    return False


class Reader:
    """Tesseract on a thread pool: one call per secret field band (and per document with ``full``)."""

    def __init__(self, mode: str, jobs: int):
        self.mode = mode
        self.pool = ThreadPoolExecutor(max_workers=jobs) if mode != "off" else None
        self._done: dict[bytes, Future] = {}  # identical pixels are read once (an unchanged output)

    def _submit(self, fn, pixels: np.ndarray, *key) -> Future:
        digest = hashlib.blake2b(pixels.tobytes() + repr((pixels.shape, key)).encode(), digest_size=16).digest()
        if digest not in self._done:
            self._done[digest] = self.pool.submit(fn)
        return self._done[digest]

    def submit(self, pixels: np.ndarray, item: Item) -> dict[str, list[Future]]:
        """Futures of per-field reads, by kind."""
        out: dict[str, list[Future]] = defaultdict(list)
        if self.pool is None:
            return out
        secrets = [f for f in item.fields if f.secret]
        for f in secrets:
            band = field_band(pixels, item, f)
            if f.kind == "mrz":
                fut = self._submit(lambda b=band, f=f: reads(tesseract(b, "eng", 7, MRZ_WHITELIST), f.kind, f.secret), band, f.kind, f.secret)
            else:
                fut = self._submit(lambda b=band, f=f: reads(tesseract(b, "chi_sim+eng", 7), f.kind, f.secret), band, f.kind, f.secret)
            out[f.kind].append(fut)
        if self.mode == "full":
            for d in sorted({f.document for f in secrets}):
                page = document_page(pixels, item, d)
                mine = [f for f in secrets if f.document == d]
                fut = self._submit(lambda p=page, mine=mine: [(f.kind, reads(t, f.kind, f.secret)) for t in [tesseract(p, "chi_sim+eng", 6)] for f in mine], page, [f.secret for f in mine])
                out["_page"].append(fut)
        return out


def collect(futures: dict[str, list[Future]]) -> dict[str, bool]:
    """Per kind: whether any field of that kind was read."""
    got: dict[str, bool] = {}
    for kind, futs in futures.items():
        for fut in futs:
            if kind == "_page":
                for k, hit in fut.result():
                    got[k] = got.get(k, False) or hit
            else:
                got[kind] = got.get(kind, False) or fut.result()
    return got


# --------------------------------------------------------------------------- no-document photos and time


def wider_photos(data: Path, count: int) -> list[Path]:
    ann = data / "annotations.json"
    if count <= 0 or not ann.is_file():
        return []
    names = sorted(json.loads(ann.read_text()))
    step = max(1, len(names) // count)
    return [data / n for n in names[::step][:count]]


def text_on_photos(paths: list[Path], mode: str, args, supported: set[str]) -> dict:
    """Share of photos without documents where the scrub reports text regions (and how many of each kind)."""
    if mode in REFERENCE_MODES or mode == "faces" or not paths:
        return {"photos": len(paths), "with_text": 0, "kinds": {}}
    import minface

    hit, kinds = 0, defaultdict(int)
    for p in paths:
        _, result = minface.scrub_bytes(p.read_bytes(), preset=args.preset, color=FILL, **mode_options(mode, supported))
        regions = result.to_record().get("regions") or []
        hit += bool(regions)
        for r in regions:
            kinds[r.get("kind", "?")] += 1
    return {"photos": len(paths), "with_text": hit, "kinds": dict(kinds)}


def timing_photos(data: Path, seed: int) -> list[tuple[str, bytes]]:
    """Three rendered document photos and three photos without documents, all about 2 MP (JPEG q90)."""
    import cv2
    from PIL import Image

    def two_mp(pixels: np.ndarray) -> bytes:
        h, w = pixels.shape[:2]
        s = math.sqrt(2.0e6 / (w * h))
        big = cv2.resize(pixels, (int(w * s), int(h * s)), interpolation=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA)
        buf = io.BytesIO()
        Image.fromarray(big).save(buf, "JPEG", quality=90)
        return buf.getvalue()

    photos = ds.kyc_photos(data) if data and data.is_dir() else []
    out = []
    for i, (scene, docs) in enumerate([("table", ("id_front",)), ("kyc" if photos else "table", ("bank_card",)), ("alone", ("passport",))]):
        s = ds.make_sample(10_000 + i, seed=seed, scene=scene, documents=docs, photos=photos)
        out.append(("document", two_mp(s.image)))
    plain = wider_photos(data, 3) if data else []
    if not plain:
        from skimage import data as skd

        plain_pixels = [skd.astronaut(), skd.coffee(), skd.chelsea()]
    else:
        plain_pixels = [decode(p.read_bytes()) for p in plain]
    out += [("no document", two_mp(p)) for p in plain_pixels]
    return out


def time_child(mode: str, preset: str, runs: int, data: str, seed: int) -> dict:
    """In a child pinned to one CPU: paired scrubs without and with ``mode``'s options."""
    import minface

    supported = minface_options()
    detector = minface.Detector(preset, threads=1)
    photos = timing_photos(Path(data) if data else None, seed)
    base_kw = {"documents": False} if "documents" in supported else {}
    with_kw = mode_options(mode, supported)
    rows: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for kind, jpeg in photos:
        for kw in (base_kw, with_kw):  # warm-up: models loaded, caches filled
            minface.scrub_bytes(jpeg, detector=detector, color=FILL, **kw)
        for _ in range(runs):
            t = []
            for kw in (base_kw, with_kw):
                w0, c0 = time.perf_counter(), time.process_time()
                minface.scrub_bytes(jpeg, detector=detector, color=FILL, **kw)
                t.append((time.perf_counter() - w0, time.process_time() - c0))
            rows[kind]["base_wall"].append(t[0][0])
            rows[kind]["base_cpu"].append(t[0][1])
            rows[kind]["extra_wall"].append(t[1][0] - t[0][0])
            rows[kind]["extra_cpu"].append(t[1][1] - t[0][1])
    return {kind: {k: statistics.median(v) for k, v in r.items()} | {"n": len(r["extra_wall"])} for kind, r in rows.items()}


def time_mode(mode: str, args) -> dict | None:
    cpu = min(os.sched_getaffinity(0))
    cmd = [sys.executable, __file__, "--_time-child", mode, "--preset", args.preset, "--runs", str(args.runs), "--seed", str(args.seed), "--data", str(args.data or "")]
    env = _env() | {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run(["taskset", "-c", str(cpu), *cmd], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(f"timing {mode} failed: {proc.stderr[-1500:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- summary


def summarize(scores: list[Score], in_reads: list[dict[str, bool]], out_reads: list[dict[str, bool]], items: list[Item]) -> dict:
    def block(idx: list[int]) -> dict:
        res: dict = {"photos": len(idx)}
        for kind in RECALL_KINDS:
            vals = [(p, r) for i in idx for k, p, r in scores[i].fields if k == kind]
            res[kind] = {
                "fields": len(vals),
                "recall": sum(p >= DESTROYED for p, _ in vals) / len(vals) if vals else None,
                "recall_reported": sum(r >= DESTROYED for _, r in vals) / len(vals) if vals else None,
            }
        por = [x for i in idx for x in scores[i].portraits]
        res["document_portrait"] = {
            "fields": len(por),
            "recall": sum(f >= DESTROYED for f, _, _ in por) / len(por) if por else None,
            "recall_whole": sum(w >= DESTROYED for _, w, _ in por) / len(por) if por else None,
            "recall_reported": sum(r >= DESTROYED for _, _, r in por) / len(por) if por else None,
        }
        false = [scores[i].false_paint for i in idx]
        res["false_paint_pct"] = {"mean": 100 * float(np.mean(false)) if false else None, "max": 100 * float(np.max(false)) if false else None}
        ocr = {}
        for kind in SECRET_KINDS:
            having = [i for i in idx if any(f.kind == kind for f in items[i].fields)]
            if in_reads and having:
                ocr[kind] = {"photos": len(having), "outputs": sum(out_reads[i].get(kind, False) for i in having), "inputs": sum(in_reads[i].get(kind, False) for i in having)}
        res["ocr_reads"] = ocr
        res["errors"] = sum(scores[i].status != "ok" for i in idx)
        res["text_in_records"] = sum(scores[i].text_in_record for i in idx)
        return res

    everything = block(list(range(len(scores))))
    by_scene = {}
    for scene in ds.SCENES:
        idx = [i for i, s in enumerate(scores) if s.scene == scene]
        if idx:
            by_scene[scene] = block(idx)
    everything["scenes"] = by_scene
    return everything


def _fmt(v, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


MUST = {
    "id_number": "≥ 0.98", "bank_card": "≥ 0.98", "mrz": "≥ 0.98", "phone": "≥ 0.98", "email": "", "document_text": "",
    "text": "(text all)", "document_portrait": "≥ 0.95", "false": "≤ 3%", "ocr": "0", "wider": "≤ 5%", "time_documents": "≤ 1.0 s", "time_text-all": "≤ 0.3 s",
}


def table(results: dict[str, dict]) -> str:
    modes = list(results)
    lines = ["| what | must reach | " + " | ".join(modes) + " |", "|---|---|" + "---|" * len(modes)]

    def row(what: str, must: str, cells: list[str]) -> None:
        lines.append(f"| {what} | {must} | " + " | ".join(cells) + " |")

    first = next(iter(results.values()))
    for kind in RECALL_KINDS:
        n = first[kind]["fields"]
        row(f"{kind} recall ({n} fields): pixels (reported)", MUST[kind], [f"{_fmt(r[kind]['recall'])} ({_fmt(r[kind]['recall_reported'])})" for r in results.values()])
    n = first["document_portrait"]["fields"]
    row(f"card portrait recall ({n}): its face (whole photo; reported)", MUST["document_portrait"],
        [f"{_fmt(r['document_portrait']['recall'])} ({_fmt(r['document_portrait']['recall_whole'])}; {_fmt(r['document_portrait']['recall_reported'])})" for r in results.values()])
    row("false paint outside documents and faces, % of image: mean (max)", MUST["false"], [f"{_fmt(r['false_paint_pct']['mean'], 2)} ({_fmt(r['false_paint_pct']['max'], 1)})" for r in results.values()])
    for kind in SECRET_KINDS:
        if kind in first["ocr_reads"]:
            o = first["ocr_reads"][kind]
            row(f"Tesseract reads a full {kind}: outputs (inputs) of {o['photos']} photos", MUST["ocr"], [f"{r['ocr_reads'][kind]['outputs']} ({r['ocr_reads'][kind]['inputs']})" for r in results.values()])
    if any("wider" in r for r in results.values()):
        cells = []
        for r in results.values():
            w = r.get("wider")
            cells.append("-" if not w or not w["photos"] else f"{100 * w['with_text'] / w['photos']:.1f}% ({w['with_text']}/{w['photos']})")
        row("wider-dev photos without documents where text is painted", MUST["wider"], cells)
    for key in ("documents", "text-all"):
        if any(r.get("time") and r["time"].get("mode") == key for r in results.values()):
            cells = []
            for r in results.values():
                t = r.get("time")
                if not t or t.get("mode") != key:
                    cells.append("-")
                    continue
                d, p = t.get("document", {}), t.get("no document", {})
                cells.append(f"doc {_fmt(d.get('extra_wall'), 2)} s (CPU {_fmt(d.get('extra_cpu'), 2)}); no doc {_fmt(p.get('extra_wall'), 2)} s (CPU {_fmt(p.get('extra_cpu'), 2)}, +{_fmt(100 * p['extra_cpu'] / p['base_cpu'] if p.get('base_cpu') else None, 0)}%)")
            row(f"extra time of {'--documents' if key == 'documents' else '--text all'}, 2 MP, one core: median", MUST[f"time_{key}"], cells)
    row("records that spell out a secret field", "0", [str(r["text_in_records"]) for r in results.values()])
    row("errors", "0", [str(r["errors"]) for r in results.values()])
    return "\n".join(lines)


def scene_table(mode: str, r: dict) -> str:
    kinds = ["id_number", "bank_card", "mrz", "phone", "email", "document_text"]
    head = "| " + mode + " | photos | " + " | ".join(kinds) + " | portrait | false % | OCR reads (out/in) |"
    lines = [head, "|---|---|" + "---|" * (len(kinds) + 3)]
    for scene, b in r["scenes"].items():
        reads_out = sum(v["outputs"] for v in b["ocr_reads"].values())
        reads_in = sum(v["inputs"] for v in b["ocr_reads"].values())
        cells = [_fmt(b[k]["recall"]) for k in kinds] + [_fmt(b["document_portrait"]["recall"]), _fmt(b["false_paint_pct"]["mean"], 2), f"{reads_out}/{reads_in}" if b["ocr_reads"] else "-"]
        lines.append(f"| {scene} | {b['photos']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def keep_outputs(folder: Path, mode: str, item: Item, out: bytes, record: dict, score: Score) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{item.index:05d}"
    if not (folder / f"{stem}.jpg").exists():
        (folder / f"{stem}.jpg").write_bytes(item.jpeg)
        truth = {"index": item.index, "scene": item.scene, "documents": [{"kind": p.kind, "quad": p.quad.round(1).tolist()} for p in item.documents],
                 "fields": [{"kind": f.kind, "document": f.document, "quad": f.quad.round(1).tolist()} for f in item.fields]}
        (folder / f"{stem}.truth.json").write_text(json.dumps(truth))
    (folder / f"{stem}.{mode}.jpg").write_bytes(out)
    misses = [{"index": item.index, "scene": item.scene, "kind": k, "painted": round(p, 3), "reported": round(r, 3)} for k, p, r in score.fields if p < DESTROYED and k != "text"]
    misses += [{"index": item.index, "scene": item.scene, "kind": "document_portrait", "painted": round(f, 3), "reported": round(r, 3)} for f, _, r in score.portraits if f < DESTROYED]
    with open(folder / f"misses.{mode}.jsonl", "a") as fh:
        for m in misses:
            fh.write(json.dumps(m) + "\n")
    (folder / f"{stem}.{mode}.record.json").write_text(json.dumps(record))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="rendered photos (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", default="documents,text-all", help="comma list of documents, text-all, faces, none, truth (default documents,text-all)")
    parser.add_argument("--via", choices=("api", "cli"), default="api", help="run minface in-process (scrub_bytes) or through `minface scrub` on a folder")
    parser.add_argument("--preset", default="balanced")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="wider-dev folder: KYC photos, portraits, no-document photos (default: %(default)s)")
    parser.add_argument("--astronaut-only", action="store_true", help="card portraits from the astronaut only (default: also large wider-dev faces)")
    parser.add_argument("--ocr", choices=("fields", "full", "off"), default="fields", help="Tesseract on each secret field (full: and each whole document)")
    parser.add_argument("--wider", type=int, default=100, help="wider-dev photos without documents to scrub (0: skip)")
    parser.add_argument("--runs", type=int, default=3, help="timing rounds per 2 MP photo")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("-j", "--jobs", type=int, default=len(os.sched_getaffinity(0)), help="processes rendering, Tesseract threads")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--keep", type=Path, help="write inputs, outputs, records and misses.<mode>.jsonl here")
    parser.add_argument("--_time-child", dest="time_child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.time_child:
        print(json.dumps(time_child(args.time_child, args.preset, args.runs, str(args.data or ""), args.seed)))
        return 0

    if ds.missing_fonts():
        print(f"fonts missing: {', '.join(ds.missing_fonts())} (apt-get install fonts-wqy-microhei fonts-dejavu-core)")
        return 2
    data = args.data if args.data and (args.data / "annotations.json").is_file() else None
    if data is None:
        print(f"no wider-dev data at {args.data}: KYC scenes become table scenes; no-document photos skipped")
    args.data = data
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in MINFACE_MODES + REFERENCE_MODES]
    if bad:
        parser.error(f"unknown modes {bad}")
    supported: set[str] = set()
    if any(m in MINFACE_MODES for m in modes):
        supported = minface_options()
        cli_ok = args.via != "cli" or cli_supports("--documents")
        if "documents" not in supported or not cli_ok:
            dropped = [m for m in modes if m in ("documents", "text-all")]
            where = "minface.scrub_bytes" + (" / minface scrub --documents" if args.via == "cli" else "")
            if dropped:
                print(f"this minface has no `documents` option ({where}): documents are not supported; "
                      f"{', '.join(dropped)} left out" + (", faces measured instead" if "faces" not in modes else ""))
            else:
                print(f"this minface has no `documents` option ({where}): `faces` is its plain scrub")
            modes = [m for m in modes if m not in ("documents", "text-all")]
            if dropped and "faces" not in modes:
                modes.append("faces")
    if args.ocr != "off" and (not shutil.which("tesseract") or "chi_sim" not in subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout):
        print("tesseract with chi_sim is not installed (apt-get install tesseract-ocr tesseract-ocr-chi-sim): OCR rows skipped")
        args.ocr = "off"

    t0, c0, k0 = time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    items = render_set(args.n, args.seed, data, args.jobs, args.astronaut_only)
    render_s = time.perf_counter() - t0
    k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    render_cpu = time.process_time() - c0 + (k1.ru_utime - k0.ru_utime) + (k1.ru_stime - k0.ru_stime)
    kinds = defaultdict(int)
    for it in items:
        for f in it.fields:
            kinds[f.kind] += 1
    print(f"{len(items)} photos rendered in {render_s:.1f} s ({render_cpu:.1f} s CPU, {args.jobs if args.jobs > 1 and args.n > 8 else 1} processes): "
          + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items())) + "; scenes " + ", ".join(f"{s} {sum(it.scene == s for it in items)}" for s in ds.SCENES))

    reader = Reader(args.ocr, args.jobs)
    in_futures = [reader.submit(decode(it.jpeg), it) for it in items]
    results: dict[str, dict] = {}
    for mode in modes:
        runner = Runner(mode, args, supported)
        runner.prepare(items)
        scores, out_futures = [], []
        for it in items:
            inp = decode(it.jpeg)
            out_bytes, record = runner(it, inp)
            try:
                out = decode(out_bytes)
            except Exception as exc:  # noqa: BLE001 - an unreadable output is a result
                scores.append(Score(it.index, it.scene, [], [], 0.0, "error", f"unreadable output: {exc}"))
                out_futures.append({})
                continue
            sc = score_item(it, inp, out, record)
            scores.append(sc)
            out_futures.append(reader.submit(out, it) if out.shape == inp.shape else {})
            if args.keep:
                keep_outputs(args.keep, mode, it, out_bytes, record, sc)
            if (it.index + 1) % 50 == 0:
                print(f"{mode}: {it.index + 1}/{len(items)} scrubbed", file=sys.stderr, flush=True)
        in_reads = [collect(f) for f in in_futures] if args.ocr != "off" else []
        out_reads = [collect(f) for f in out_futures] if args.ocr != "off" else []
        res = summarize(scores, in_reads, out_reads, items)
        res["scrub_seconds"] = runner.seconds
        if data and args.wider:
            res["wider"] = text_on_photos(wider_photos(data, args.wider), mode, args, supported)
        if mode in ("documents", "text-all") and not args.no_timing:
            t = time_mode(mode, args)
            if t:
                res["time"] = {"mode": mode, **t}
        results[mode] = res
        print(f"{mode}: scored ({runner.seconds:.0f} s scrubbing)", flush=True)

    print(f"\n{args.n} photos (seed {args.seed}, preset {args.preset}, via {args.via}, OCR {args.ocr}); field destroyed when >= {DESTROYED:.0%} of it is painted\n")
    print(table(results))
    for mode, r in results.items():
        print()
        print(scene_table(mode, r))
    if args.json:
        args.json.write_text(json.dumps({"settings": {k: str(v) for k, v in vars(args).items()}, "modes": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
