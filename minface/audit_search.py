"""The audit's search: CenterFace and BlazeFace together, harder than any scrub preset.

``minface verify`` must not share the blind spots of the scrub it checks. So it
searches every plane with CenterFace (preset ``audit``: faces from 8 px, the
enlarged scale where something small was seen, every orientation searched in
full) *and* with BlazeFace full-range (:mod:`minface.detect.blazeface`, a
different network trained on different data) in all four orientations, and
joins their candidates:

* a candidate both detectors see (overlapping boxes) is kept at any score the
  two searches let through;
* a candidate only one sees must reach that detector's own bar:
  :data:`CENTERFACE_ALONE` or :data:`BLAZEFACE_ALONE` (set on the benchmark
  ``benchmarks/verify_audit.py``, see the README).

The candidate's confidence is the highest of its scores; alarms are ranked by it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .detect.centerface import iou_matrix, nms
from .detect.orientation import boxes_to_stored, to_stored
from .faces import Faces

__all__ = ["AuditSearch", "join", "CENTERFACE_ALONE", "BLAZEFACE_ALONE"]

#: Smallest CenterFace score of a candidate BlazeFace does not confirm.
CENTERFACE_ALONE = 0.3
#: Smallest BlazeFace score of a candidate CenterFace does not confirm.
BLAZEFACE_ALONE = 0.75
#: Boxes overlapping this much (intersection over union) are one face seen by both detectors.
SAME_FACE = 0.3


def join(cf: Faces, bf: Faces | None, *, cf_alone: float = CENTERFACE_ALONE, bf_alone: float = BLAZEFACE_ALONE) -> list[dict[str, Any]]:
    """Candidates of one plane from CenterFace's ``cf`` and BlazeFace's ``bf`` faces, most confident first.

    Each is ``{"box", "confidence", "detectors", "landmarks"}``.

    >>> cf = Faces([[0, 0, 20, 20], [50, 50, 70, 70]], [0.2, 0.5])
    >>> bf = Faces([[1, 1, 21, 21]], [0.4])
    >>> [(c["confidence"], c["detectors"]) for c in join(cf, bf)]
    [(0.5, ['centerface']), (0.4, ['centerface', 'blazeface'])]
    """
    bf = bf if bf is not None else Faces.empty(cf.image_size)
    overlap = iou_matrix(cf.xyxy, bf.xyxy) if len(cf) and len(bf) else np.zeros((len(cf), len(bf)))
    out = []
    used = np.zeros(len(bf), bool)
    for i in range(len(cf)):
        j = int(np.argmax(overlap[i])) if len(bf) else -1
        s = float(cf.scores[i])
        lms = None if cf.landmarks is None else cf.landmarks[i]
        if j >= 0 and overlap[i, j] >= SAME_FACE:
            used[j] = True
            conf, dets = max(s, float(bf.scores[j])), ["centerface", "blazeface"]
        elif s >= cf_alone:
            conf, dets = s, ["centerface"]
        else:
            continue
        out.append({"box": cf.xyxy[i], "confidence": conf, "detectors": dets, "landmarks": lms})
    for j in np.flatnonzero(~used):
        if (overlap[:, j] >= SAME_FACE).any() or float(bf.scores[j]) < bf_alone:
            continue
        lms = None if bf.landmarks is None else bf.landmarks[j]
        out.append({"box": bf.xyxy[j], "confidence": float(bf.scores[j]), "detectors": ["blazeface"], "landmarks": lms})
    out.sort(key=lambda c: -c["confidence"])
    return out


class AuditSearch:
    """Both detectors over one plane: ``AuditSearch()(plane)`` gives :func:`join`'s candidates.

    ``detector``: the CenterFace :class:`minface.detect.Detector` (preset
    ``audit`` by default); ``blazeface=False`` leaves the second detector out
    (a quicker pass, as ``--preset`` gives).
    """

    def __init__(self, detector: Any = None, *, blazeface: bool = True, min_face: float = 10.0, threads: int | None = None) -> None:
        from .detect import Detector

        self.detector = detector if detector is not None else Detector("audit", threads=threads)
        self.blazeface = None
        if blazeface:
            from .detect.blazeface import BlazeFace

            self.blazeface = BlazeFace(min_face=min_face, threshold=0.3, threads=threads)

    def _blaze(self, plane: np.ndarray) -> Faces:
        h, w = plane.shape[:2]
        rgb = plane if plane.ndim == 3 else np.repeat(plane[..., None], 3, axis=2)
        parts = []
        for k in range(4):  # the four orientations: a face on its side is found in the image turned upright
            found = self.blazeface(np.ascontiguousarray(np.rot90(rgb, k)))  # type: ignore[misc]
            if not len(found):
                continue
            boxes = boxes_to_stored(found.xyxy, k, w, h)
            lms = to_stored(found.landmarks, k, w, h) if found.landmarks is not None else None
            parts.append(Faces(boxes, found.scores, lms, (w, h)))
        if not parts:
            return Faces.empty((w, h))
        every = Faces.concat(parts)
        keep = nms(every.xyxy, every.scores, SAME_FACE)  # a face seen in two orientations is one face
        return every[keep]

    def __call__(self, plane: np.ndarray) -> list[dict[str, Any]]:
        cf = self.detector(plane)
        bf = self._blaze(plane) if self.blazeface is not None else None
        return join(cf, bf)
