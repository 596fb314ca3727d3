"""Audit finished outputs: faces that still look intact, metadata that is still there.

``minface verify OUTDIR`` is what a privacy officer runs before an archive is
released. Every image is searched again, harder than any scrub preset
(:mod:`minface.audit_search`: CenterFace from 8 px and BlazeFace, a second,
independent network, joined by agreement), and every file is inspected for
metadata. Each candidate face is measured on its own:

* how much of its box, and of its *eye region* (discs around the eye landmarks),
  the scrub report (``--report``) says was painted, or the pixels show as flat
  paint; a face is redacted when less than :data:`EYES_SHOWING` of its eye
  region is left: a face half covered by a neighbour's paint with both eyes
  showing is a face;
* the face-scale detail at the centre of its box: a solid fill has none, and a
  blur sized to the face leaves only the added noise, which a median filter
  removes. A mosaic keeps edges between its blocks and is often reported as
  still looking like a face, which is the honest answer (see :mod:`minface.redact`)
  unless the report says it was painted on purpose.

Anything else of at least ``min_size`` pixels is an *alarm*: an intact face,
with its box, its confidence and the detectors that saw it, the most confident
first. :func:`minface.review.write_review` turns the alarms into a review page;
:func:`minface.scrub_report.not_scrubbed` lists what the scrub left undone.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from ._defaults import DEFAULT_MAX_PIXELS
from .faces import Faces
from .images import decode_image
from .scrub_report import report_paths
from .metadata import inspect
from .planes import searched_planes
from .redact import SHAPES, Regions, region_mask

__all__ = [
    "verify_file", "audit_faces", "eye_region", "VerifyResult", "load_regions", "face_detail", "painted_share",
    "DETAIL_THRESHOLD", "MIN_ALARM_SIZE", "EYES_SHOWING",
]

#: Below this :func:`face_detail` a detection is taken for a painted-over region (without the scrub report).
DETAIL_THRESHOLD = 5.0
#: ... if it measures at least this many pixels: smaller faces have little detail at any rate.
DETAIL_MIN_SIZE = 24.0
#: From this :func:`painted_share` on, a detection is taken for the edge of a painted region.
PAINTED_SHARE = 0.25


def _centre_crop(image: np.ndarray, box: np.ndarray, centre: float) -> np.ndarray | None:
    h, w = image.shape[:2]
    bx1, by1, bx2, by2 = (float(v) for v in box)
    mx, my = (bx2 - bx1) * (1 - centre) / 2, (by2 - by1) * (1 - centre) / 2
    x1, y1, x2, y2 = (int(round(v)) for v in (bx1 + mx, by1 + my, bx2 - mx, by2 - my))
    x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
    if x2 - x1 < 3 or y2 - y1 < 3:
        return None
    crop = np.ascontiguousarray(image[y1:y2, x1:x2])
    return cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop


def face_detail(image: np.ndarray, box: np.ndarray, *, centre: float = 0.6) -> float:
    """Face-scale detail in the centre of ``box``: grey levels of band-passed structure, noise removed.

    Only the central ``centre`` fraction of the box is read (eyes, nose and
    mouth; not the edge of a painted region the box may straddle). The crop is
    median-filtered (drops the noise minface adds to blurs), resized to 24x24 and
    high-passed. An intact face scores about 8 or more, a filled region 0, a face
    blurred by minface about 3.

    >>> face_detail(np.full((50, 50, 3), 90, np.uint8), np.array([5, 5, 45, 45]))
    0.0
    """
    grey = _centre_crop(image, box, centre)
    if grey is None:
        return 0.0
    grey = cv2.medianBlur(grey, 3).astype(np.float32)
    small = cv2.resize(grey, (24, 24), interpolation=cv2.INTER_AREA)
    return float((small - cv2.GaussianBlur(small, (0, 0), 2.0)).std())


def painted_share(image: np.ndarray, box: np.ndarray, *, centre: float = 0.6) -> float:
    """Share of the centre of ``box`` that is flat paint: neighbourhoods a quarter of the box wide without texture.

    A solid fill is flat even after JPEG compression; the centre of a real face
    never is, nor is a mosaic of blocks smaller than a quarter of the face. A
    detection whose centre is partly paint sits on the edge of a redacted region
    (hair above a filled face, say), not on an intact face.

    >>> painted_share(np.zeros((40, 40), np.uint8), np.array([0, 0, 40, 40]))
    1.0
    """
    grey = _centre_crop(image, box, centre)
    if grey is None:
        return 0.0
    g = grey.astype(np.float32)
    k = max(5, int(round(max(float(box[2] - box[0]), float(box[3] - box[1])) / 4)))
    mean = cv2.blur(g, (k, k))
    var = cv2.blur(g * g, (k, k)) - mean * mean
    return float((var < 1.5**2).mean())


@dataclass
class VerifyResult:
    """One audited file; ``to_record()`` is one line of the JSON report."""

    input: str
    status: str  # "clean", "leak" or "error"
    error: str | None = None
    intact_faces: list[dict[str, Any]] = field(default_factory=list)
    redacted_faces: int = 0
    metadata: list[str] = field(default_factory=list)
    #: readable personal numbers left (``documents=True``): kind, count, masked values
    documents: list[dict[str, Any]] = field(default_factory=list)

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


def _box(value: Any) -> list[float] | None:
    """``value`` as a box of four finite numbers, or None (a malformed report line).

    >>> _box([1, 2, 3, 4]), _box([1, 2]), _box("1234"), _box([1, 2, 3, float("nan")])
    ([1.0, 2.0, 3.0, 4.0], None, None, None)
    """
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return None
    try:
        box = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    return box if all(np.isfinite(box)) else None


def load_regions(report: str | os.PathLike) -> dict[str, Regions]:
    """Painted regions per output file, from a scrub JSON-lines report (keys: absolute paths).

    >>> import json, os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> report = os.path.join(folder, "scrub.jsonl")
    >>> face = {"region": {"shape": "ellipse", "box": [1, 2, 3, 4]}}
    >>> with open(report, "w") as f:
    ...     _ = f.write(json.dumps({"status": "ok", "output": "clean/a.jpg", "faces": [face]}))
    >>> load_regions(report)[os.path.join(folder, "clean", "a.jpg")].boxes.tolist()
    [[1.0, 2.0, 3.0, 4.0]]
    """
    out: dict[str, list[list[float]]] = {}
    shapes: dict[str, str] = {}
    with open(report, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if not isinstance(rec, dict) or rec.get("status") != "ok" or not rec.get("output"):
                continue
            target = str(rec["output"])
            faces = rec.get("faces")
            for key in report_paths(target, report):
                for face in faces if isinstance(faces, list) else []:
                    reg = face.get("region") if isinstance(face, dict) else None
                    box = _box(reg.get("box")) if isinstance(reg, dict) else None
                    if box is not None:  # a malformed box excuses nothing: a face there stays an alarm
                        out.setdefault(key, []).append(box)
                        shape = reg.get("shape", "ellipse")
                        shapes[key] = shape if shape in SHAPES else "ellipse"
    return {k: Regions(np.asarray(v, np.float64).reshape(-1, 4), shapes[k]) for k, v in out.items()}


#: Alarms are raised for faces of at least this many pixels (longer side of the box).
MIN_ALARM_SIZE = 10.0
#: A face whose eye region is unpainted for at least this share is intact (a face with its eyes showing is a face).
EYES_SHOWING = 0.25


def verify_file(
    path: str | os.PathLike,
    *,
    detector: Any = None,
    regions: Regions | None = None,
    check_metadata: bool = True,
    min_size: float = MIN_ALARM_SIZE,
    documents: bool = False,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> VerifyResult:
    """Audit one file. ``regions``: what the scrub report says was painted in it.

    ``intact_faces`` of the result are the alarms, most confident first (see
    :func:`audit_faces`); faces smaller than ``min_size`` pixels are not reported.
    ``detector``: what searches each plane, a :class:`minface.audit_search.AuditSearch`
    (the default) or a :class:`minface.detect.Detector` (CenterFace alone).
    ``documents=True`` also reads the text left in the image and reports the
    personal numbers still readable (:func:`minface.documents.audit.numbers_left`).
    ``max_pixels``: the decompression-bomb limit, as in :func:`minface.scrub`
    (all frames together; ``None``: no limit, for trusted files); a larger file
    raises :class:`minface.errors.DecompressionBombError`.
    """
    name = os.fspath(path)
    search = detector if detector is not None else _audit_search()
    frames = _frames(path, name, max_pixels)
    intact, redacted = [], 0
    for index, image in enumerate(frames):  # every frame of an animation (GIF, WebP, APNG, AVIF)
        painted = region_mask(image.shape[0], image.shape[1], regions) if regions is not None and len(regions) else None
        for _, plane in searched_planes(image):  # the planes scrub searches: colour, and alpha (minface.planes)
            found, done = audit_faces(plane, search(plane), painted, min_size=min_size)
            intact, redacted = intact + ([{**f, "frame": index} for f in found] if len(frames) > 1 else found), redacted + done
    intact.sort(key=lambda a: -a["confidence"])
    leftovers: list[str] = []
    if check_metadata:
        report = inspect(path)
        leftovers = sorted({item.kind for item in report.sensitive})
    numbers: list[dict[str, Any]] = []
    if documents:
        from .documents.audit import numbers_left

        numbers = numbers_left(image)
    status = "leak" if intact or leftovers or numbers else "clean"
    return VerifyResult(name, status, None, intact, redacted, leftovers, numbers)


def _frames(path: str | os.PathLike, name: str, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> list[np.ndarray]:
    """Every frame of ``path`` as scrub reads it (upright, alpha kept): one for a still image."""
    decoded = decode_image(path, alpha=True, max_pixels=max_pixels)
    if decoded.n_frames <= 1:
        return [decoded.pixels]
    del decoded
    from .pipeline import _read_source

    return _read_source(path, name, max_pixels, "PNG").frames  # PNG: a format that keeps alpha


def eye_region(box: np.ndarray, landmarks: np.ndarray | None, height: int, width: int) -> np.ndarray:
    """A mask (``height`` x ``width``) of the eyes of the face in ``box``: discs around its eye landmarks.

    Without landmarks the eyes are placed where they sit in a frontal face's box
    (a third and two thirds across, 40% down).

    >>> int(eye_region(np.array([0, 0, 40, 40]), None, 40, 40).sum())  # two discs of radius 4.8
    144
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    bw, bh = x2 - x1, y2 - y1
    if landmarks is not None and np.isfinite(landmarks[:2]).all():
        eyes = np.asarray(landmarks[:2], np.float64)
    else:
        eyes = np.array([[x1 + bw / 3, y1 + 0.4 * bh], [x1 + 2 * bw / 3, y1 + 0.4 * bh]])
    r = max(1.5, 0.12 * max(bw, bh))
    mask = np.zeros((height, width), bool)
    for ex, ey in eyes:
        cx0, cy0 = max(0, int(ex - r)), max(0, int(ey - r))
        cx1, cy1 = min(width, int(ex + r) + 1), min(height, int(ey + r) + 1)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        yy, xx = np.mgrid[cy0:cy1, cx0:cx1]
        mask[cy0:cy1, cx0:cx1] |= (xx + 0.5 - ex) ** 2 + (yy + 0.5 - ey) ** 2 <= r * r
    return mask


def _flat(image: np.ndarray, box: np.ndarray, where: np.ndarray) -> float:
    """Share of ``where`` (a mask) that is flat paint at the face's scale (see :func:`painted_share`)."""
    ys, xs = np.nonzero(where)
    if not len(ys):
        return 0.0
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    grey = (cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop).astype(np.float32)
    k = max(3, int(round(max(float(box[2] - box[0]), float(box[3] - box[1])) / 6)))
    mean = cv2.blur(grey, (k, k))
    var = cv2.blur(grey * grey, (k, k)) - mean * mean
    return float((var < 1.5**2)[where[y0:y1, x0:x1]].mean())


def flat_paint(image: np.ndarray, min_side: int = 20) -> np.ndarray | None:
    """A mask of the flat fills in ``image`` (what a ``fill`` scrub paints), or None when there is none.

    For files audited without a scrub report's regions (a video's frames): a
    region at least ``min_side`` pixels across whose pixels vary by less than
    1.5 grey levels at that scale, not touching the image's border (letterbox
    bars and flat skies at the edge are not paint). The rim of a painted head then
    counts as near paint, as it does with the report.

    >>> img = np.random.default_rng(0).integers(0, 255, (80, 80, 3), dtype=np.uint8)
    >>> img[20:60, 20:60] = 0
    >>> int(flat_paint(img).sum()) > 500, flat_paint(img[:20, :20]) is None
    (True, True)
    """
    grey = (cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image).astype(np.float32)
    k = max(3, min_side // 2)
    mean = cv2.blur(grey, (k, k))
    flat = ((cv2.blur(grey * grey, (k, k)) - mean * mean) < 1.5**2).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(flat, connectivity=4)
    h, w = flat.shape
    x, y, bw, bh = (stats[:, i] for i in range(4))
    inside = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h)
    keep = inside & (bw >= min_side) & (bh >= min_side)
    keep[0] = False  # the background label: what is not flat
    if not keep.any():
        return None
    return keep[labels]


def audit_faces(
    image: np.ndarray,
    faces: Any,
    painted: np.ndarray | None = None,
    *,
    min_size: float = MIN_ALARM_SIZE,
    reported: bool = True,
) -> tuple[list[dict[str, Any]], int]:
    """Sort the candidates ``faces`` of ``image`` into alarms (intact faces, most confident first) and redacted ones.

    ``faces``: :class:`minface.Faces` or the candidates of
    :class:`minface.audit_search.AuditSearch`. ``painted``: a mask of what the
    scrub report says was painted (optional; ``reported=False``: a mask only
    guessed from the pixels, :func:`flat_paint`, which raises the bars near it alone). Each candidate is measured on its
    own: the share of its box and of its eye region that is painted (by the
    report, or flat paint in the pixels), and the face-scale detail in its
    centre. It is redacted when its eyes are covered (less than
    :data:`EYES_SHOWING` of the eye region unpainted) or, without the report,
    when a face of :data:`DETAIL_MIN_SIZE` pixels or more holds no face-scale
    detail in its centre (a fill, a blur); anything else of at least ``min_size``
    pixels is an alarm: ``{"box", "score", "confidence", "detail", "painted",
    "eyes_painted", "detectors"}``. Returns the alarms and the number of
    redacted candidates. Candidates with per-detector ``scores`` must clear the
    bars of :mod:`minface.audit_search` (strict where the report shows paint);
    where nothing is painted and no candidate clears the bars,
    :data:`minface.audit_search.CROWD_COUNT` or more candidates clearing the
    crowd's lower bars (away from paint) are all alarms, marked ``"crowd": True``.

    >>> from minface import Faces
    >>> audit_faces(np.zeros((40, 40, 3), np.uint8), Faces([[5, 5, 35, 35]], [0.9]))
    ([], 1)
    """
    from .audit_search import CROWD, CROWD_COUNT, LAX, NEAR_PAINT, NEAR_PAINT_RAISE, STRICT, join

    if isinstance(faces, Faces):  # one detector's faces (a quicker --preset): its own thresholds decide
        faces = [{**c, "scores": None} for c in join(faces, None, cf_alone=0.0)]
    # ``reported=False``: ``painted`` is only guessed from the pixels (flat_paint), not said by a report:
    # it raises the bars near paint but neither makes the whole file strict nor turns off the blur rule
    bars = STRICT if reported and painted is not None and painted.any() else LAX
    intact, redacted = [], 0
    crowd: list[dict[str, Any]] = []  # below the bars, but one of a crowd (a file with nothing painted)
    moderate = 0
    h, w = image.shape[:2]
    for cand in faces:
        box = np.asarray(cand["box"], np.float64)
        x1, y1, x2, y2 = (int(round(float(v))) for v in box)
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
        eyes = eye_region(box, cand.get("landmarks"), h, w)
        covered = eyes_painted = 0.0
        if painted is not None and x2 > x1 and y2 > y1:
            covered = float(painted[y1:y2, x1:x2].mean())
            eyes_painted = float(painted[eyes].mean()) if eyes.any() else covered
        if eyes.any():
            eyes_painted = max(eyes_painted, _flat(image, box, eyes))
        detail = face_detail(image, box)
        size = max(float(box[2] - box[0]), float(box[3] - box[1]))
        # without the report, a face without face-scale detail is taken for a blur; a small face never has
        # much (and with the report, paint is where it says: a blurry face it does not cover is intact)
        blurred = (painted is None or not reported) and size >= DETAIL_MIN_SIZE and detail < DETAIL_THRESHOLD
        if 1.0 - eyes_painted < EYES_SHOWING or blurred:
            redacted += 1
            continue
        scores = cand.get("scores")
        raise_by = NEAR_PAINT_RAISE if covered >= NEAR_PAINT else 0.0
        # a crowd counts in a file with nothing painted, away from any paint guessed from the pixels
        in_crowd = bool(scores) and bars is LAX and covered < NEAR_PAINT and size >= min_size and CROWD.passes(scores)
        moderate += in_crowd
        if scores and not bars.passes(scores, raise_by) and not in_crowd:
            continue  # below the bars: not a face the audit reports
        if size >= min_size:
            conf = round(float(cand["confidence"]), 4)
            alarm = {
                "box": [round(float(v), 1) for v in box],
                "score": conf,
                "confidence": conf,
                "detail": round(detail, 1),
                "painted": round(covered, 2),
                "eyes_painted": round(eyes_painted, 2),
                "detectors": list(cand.get("detectors") or ["centerface"]),
            }
            if scores and not bars.passes(scores, raise_by):
                crowd.append({**alarm, "crowd": True})
            else:
                intact.append(alarm)
    if moderate >= CROWD_COUNT and not intact:  # many faces each a little low: a crowd no scrub painted
        intact = crowd  # (only where no face clears the bars: the alarms above them are the surer ones)
    intact.sort(key=lambda a: -a["confidence"])
    return intact, redacted


_audit: Any = None


def _audit_search() -> Any:
    """The search ``verify`` runs by default (:class:`minface.audit_search.AuditSearch`), made once per process."""
    global _audit
    if _audit is None:
        from .audit_search import AuditSearch

        _audit = AuditSearch()
    return _audit
