"""Audit finished outputs: faces that still look intact, metadata that is still there.

``minface verify OUTDIR`` is what a privacy officer runs before an archive is
released. Every image is searched again (preset ``audit``: the enlarged scale
and the half scale, in all four orientations, with thresholds set for few false
alarms), and every file is inspected for metadata. A detected face counts as
*redacted* when

* it lies inside a region that the scrub report (``--report``) says was painted
  (at least half of its box), or
* its centre lies in such a region, or such a region covers a sixth of its box
  (a painted head's neck, hair line or shoulder, which the paint's dark oval
  makes look like a face; a face left intact beside a painted one is not
  excused), or
* the centre of its box (where eyes, nose and mouth would be) holds no
  face-scale detail: a solid fill has none, and a blur sized to the face leaves
  only the added noise, which a median filter removes; or a quarter of that
  centre is flat paint (the box straddles the edge of a filled region). A
  mosaic keeps edges between its blocks and is often reported as still looking
  like a face, which is the honest answer (see :mod:`minface.redact`).

Anything else of at least ``min_size`` pixels is an *alarm*: an intact face,
with its box and its confidence (the detector's score), the most confident
first. :func:`write_review` turns the alarms into a review page.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from .faces import Faces
from .images import decode_image
from .metadata import inspect
from .planes import searched_planes
from .redact import Regions, region_mask

__all__ = ["verify_file", "audit_faces", "VerifyResult", "load_regions", "face_detail", "painted_share", "DETAIL_THRESHOLD", "MIN_ALARM_SIZE"]

#: Below this :func:`face_detail` a detection is taken for a painted-over region.
DETAIL_THRESHOLD = 5.0
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


def load_regions(report: str | os.PathLike) -> dict[str, Regions]:
    """Painted regions per output file, from a scrub JSON-lines report."""
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
            key = os.path.abspath(target[len("file://") :] if target.startswith("file://") else target)
            for face in rec.get("faces") or []:
                reg = face.get("region") or {}
                if "box" in reg:
                    out.setdefault(key, []).append(reg["box"])
                    shapes[key] = reg.get("shape", "ellipse")
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
) -> VerifyResult:
    """Audit one file. ``regions``: what the scrub report says was painted in it.

    ``documents=True`` also reads the text left in the image and reports the
    personal numbers still readable (:func:`minface.documents.audit.numbers_left`).

    ``intact_faces`` of the result are the alarms, most confident first, each
    ``{"box", "score", "confidence", "detail"}``; faces smaller than ``min_size``
    pixels are not reported.
    """
    name = os.fspath(path)
    search = detector if detector is not None else _audit_search()
    image = decode_image(path, alpha=True).pixels
    painted = region_mask(image.shape[0], image.shape[1], regions) if regions is not None and len(regions) else None
    intact, redacted = [], 0
    for _, plane in searched_planes(image):  # the planes scrub searches: colour, and alpha (minface.planes)
        found, done = audit_faces(plane, search(plane), painted, min_size=min_size)
        intact, redacted = intact + found, redacted + done
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


def audit_faces(
    image: np.ndarray, faces: Any, painted: np.ndarray | None = None, *, min_size: float = MIN_ALARM_SIZE
) -> tuple[list[dict[str, Any]], int]:
    """Sort the candidates ``faces`` of ``image`` into alarms (intact faces, most confident first) and redacted ones.

    ``faces``: :class:`minface.Faces` or the candidates of
    :class:`minface.audit_search.AuditSearch`. ``painted``: a mask of what the
    scrub report says was painted (optional). Each candidate is measured on its
    own: the share of its box and of its eye region that is painted (by the
    report, or flat paint in the pixels), and the face-scale detail in its
    centre. It is redacted when its eyes are covered (less than
    :data:`EYES_SHOWING` of the eye region unpainted) or its centre holds no
    face-scale detail (a fill, a blur); anything else of at least ``min_size``
    pixels is an alarm: ``{"box", "score", "confidence", "detail", "painted",
    "eyes_painted", "detectors"}``. Returns the alarms and the number of
    redacted candidates.

    >>> from minface import Faces
    >>> audit_faces(np.zeros((40, 40, 3), np.uint8), Faces([[5, 5, 35, 35]], [0.9]))
    ([], 1)
    """
    from .audit_search import join

    if isinstance(faces, Faces):
        faces = join(faces, None, cf_alone=0.0)
    intact, redacted = [], 0
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
        if 1.0 - eyes_painted < EYES_SHOWING or detail < DETAIL_THRESHOLD:
            redacted += 1
        elif max(float(box[2] - box[0]), float(box[3] - box[1])) >= min_size:
            conf = round(float(cand["confidence"]), 4)
            intact.append(
                {
                    "box": [round(float(v), 1) for v in box],
                    "score": conf,
                    "confidence": conf,
                    "detail": round(detail, 1),
                    "painted": round(covered, 2),
                    "eyes_painted": round(eyes_painted, 2),
                    "detectors": list(cand.get("detectors") or ["centerface"]),
                }
            )
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
