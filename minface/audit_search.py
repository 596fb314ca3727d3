"""The audit's search: CenterFace and BlazeFace together, harder than any scrub preset.

``minface verify`` must not share the blind spots of the scrub it checks. So it
searches every plane with CenterFace (preset ``audit``: faces from 8 px, the
enlarged scale where something small was seen, every orientation searched in
full where the four-orientation vote points) *and* with BlazeFace full-range
(:mod:`minface.detect.blazeface`, a different network trained on different
data: faces from 10 px upright, from 40 px in the three other orientations),
and joins their candidates:

* a candidate both detectors see (overlapping boxes) must reach both
  detectors' lower bars, or (where the bars have a ``both_sum``) scores that
  add up to it, each above what either detector reports at all: strong
  evidence from one network makes up for weak evidence from the other; a
  candidate only one sees must reach that detector's own, higher bar
  (:class:`Bars`);
* the bars are :data:`STRICT` in a file the scrub report says was painted, and
  :data:`LAX` in a file where nothing was painted (never scrubbed, or the
  scrub saw nothing there, or no report given): there every face is one no
  scrub painted. A candidate touching paint must clear bars raised by
  :data:`NEAR_PAINT_RAISE` (the rim of a painted head looks like a face).
  The bars were set on ``benchmarks/verify_audit.py`` (see the README).
* in a file where nothing was painted, *many* candidates below the bars are
  evidence too: a crowd of small faces each scored a little low. When no
  candidate clears the bars but at least :data:`CROWD_COUNT` clear :data:`CROWD`
  (away from paint), those are all alarms (:func:`minface.verify.audit_faces`).

The candidate's confidence is the highest of its scores; alarms are ranked by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .detect.centerface import iou_matrix, nms
from .detect.orientation import boxes_to_stored, to_stored
from .faces import Faces

__all__ = ["AuditSearch", "Bars", "join", "STRICT", "LAX", "CROWD", "CROWD_COUNT", "NEAR_PAINT", "NEAR_PAINT_RAISE"]

@dataclass(frozen=True)
class Bars:
    """The scores a candidate must reach: alone (one detector saw it) or with both detectors' agreement."""

    cf_alone: float
    bf_alone: float
    cf_both: float
    bf_both: float
    #: a candidate both see also passes when its two scores add up to this (each at least the floor
    #: of its detector, :data:`CF_FLOOR` and :data:`BF_FLOOR`); None: only ``cf_both`` and ``bf_both``
    both_sum: float | None = None

    def passes(self, scores: dict[str, float], raise_by: float = 0.0) -> bool:
        """Whether a candidate with ``scores`` (per detector) clears these bars raised by ``raise_by``.

        >>> LAX.passes({"centerface": 0.19, "blazeface": 0.56}), STRICT.passes({"centerface": 0.19, "blazeface": 0.56})
        (True, False)
        """
        cf, bf = scores.get("centerface"), scores.get("blazeface")
        if cf is not None and bf is not None:
            if cf >= self.cf_both + raise_by and bf >= self.bf_both + raise_by:
                return True
            if (
                self.both_sum is not None
                and cf >= CF_FLOOR + raise_by
                and bf >= BF_FLOOR + raise_by
                and cf + bf >= self.both_sum + 2 * raise_by
            ):
                return True
        return (cf is not None and cf >= self.cf_alone + raise_by) or (bf is not None and bf >= self.bf_alone + raise_by)


#: What each detector reports at all in the audit: CenterFace's lowest threshold (preset ``audit``,
#: large faces) and BlazeFace's threshold in :class:`AuditSearch`.
CF_FLOOR = 0.12
BF_FLOOR = 0.3

#: The bars in a file the scrub report says was painted (set on ``benchmarks/verify_audit.py``:
#: at most a few percent of the photos a ``balanced`` scrub leaves are flagged).
STRICT = Bars(cf_alone=0.5, bf_alone=0.9, cf_both=0.4, bf_both=0.6)
#: The bars in a file with nothing painted (never scrubbed, or the scrub saw no face, or no
#: report given): every face there is one no scrub painted, so the audit looks harder.
#: ``both_sum``: the two networks' scores together (set on wider-dev's originals and checked on the
#: camera photos of metadata-dev, most without a face: no photo without a face more flagged).
LAX = Bars(cf_alone=0.4, bf_alone=0.7, cf_both=0.2, bf_both=0.3, both_sum=0.65)
#: In a file with nothing painted, CROWD_COUNT candidates that each clear CROWD (but maybe not LAX)
#: are a crowd of faces scored a little low, all alarms (a parade photo of small faces).
CROWD = Bars(cf_alone=0.3, bf_alone=0.6, cf_both=0.15, bf_both=0.35)
CROWD_COUNT = 4
#: A candidate touching paint (this share of its box) must clear the bars raised by NEAR_PAINT_RAISE:
#: the rim of a painted head (chin, neck, hair line) looks like a face to both detectors.
NEAR_PAINT = 0.05
NEAR_PAINT_RAISE = 0.2
#: Kept by the search (the lowest of all bars); the final bars are applied knowing the paint.
CENTERFACE_ALONE = min(STRICT.cf_alone, LAX.cf_alone, CROWD.cf_alone)
BLAZEFACE_ALONE = min(STRICT.bf_alone, LAX.bf_alone, CROWD.bf_alone)
CF_BOTH = min(STRICT.cf_both, LAX.cf_both, CROWD.cf_both, CF_FLOOR)
BF_BOTH = min(STRICT.bf_both, LAX.bf_both, CROWD.bf_both, BF_FLOOR)
#: In the image turned (a quarter, a half, three quarters), BlazeFace reads faces from this many
#: times ``min_face`` (a photo stored turned is rarer; the time goes to the upright search).
TURNED_MIN_FACE = 4.0
#: Boxes overlapping this much (intersection over union) are one face seen by both detectors.
SAME_FACE = 0.3


def join(
    cf: Faces,
    bf: Faces | None,
    *,
    cf_alone: float = CENTERFACE_ALONE,
    bf_alone: float = BLAZEFACE_ALONE,
    cf_both: float = 0.0,
    bf_both: float = 0.0,
) -> list[dict[str, Any]]:
    """Candidates of one plane from CenterFace's ``cf`` and BlazeFace's ``bf`` faces, most confident first.

    Each is ``{"box", "confidence", "detectors", "scores", "landmarks"}``; a
    candidate both see is kept when its scores reach ``cf_both`` and ``bf_both``
    (or either detector's bar for a lone face).

    >>> cf = Faces([[0, 0, 20, 20], [50, 50, 70, 70]], [0.2, 0.5])
    >>> bf = Faces([[1, 1, 21, 21]], [0.4])
    >>> [(round(c["confidence"], 2), c["detectors"]) for c in join(cf, bf)]
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
            b = float(bf.scores[j])
            if not ((s >= cf_both and b >= bf_both) or s >= cf_alone or b >= bf_alone):
                continue
            conf, dets, scores = max(s, b), ["centerface", "blazeface"], {"centerface": s, "blazeface": b}
        elif s >= cf_alone:
            conf, dets, scores = s, ["centerface"], {"centerface": s}
        else:
            continue
        out.append({"box": cf.xyxy[i], "confidence": conf, "detectors": dets, "scores": scores, "landmarks": lms})
    for j in np.flatnonzero(~used):
        if (overlap[:, j] >= SAME_FACE).any() or float(bf.scores[j]) < bf_alone:
            continue
        lms = None if bf.landmarks is None else bf.landmarks[j]
        b = float(bf.scores[j])
        out.append({"box": bf.xyxy[j], "confidence": b, "detectors": ["blazeface"], "scores": {"blazeface": b}, "landmarks": lms})
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
        #: :func:`join`'s thresholds
        self.bars: dict[str, float] = {"cf_both": CF_BOTH, "bf_both": BF_BOTH}
        if blazeface:
            from .detect.blazeface import BlazeFace

            self.blazeface = BlazeFace(min_face=min_face, threshold=0.3, threads=threads)
        self.min_face = float(min_face)

    def _blaze(self, plane: np.ndarray) -> Faces:
        h, w = plane.shape[:2]
        rgb = plane if plane.ndim == 3 else np.repeat(plane[..., None], 3, axis=2)
        parts = []
        for k in range(4):  # the four orientations: a face on its side is found in the image turned upright
            smallest = self.min_face if k == 0 else self.min_face * TURNED_MIN_FACE
            found = self.blazeface(np.ascontiguousarray(np.rot90(rgb, k)), min_face=smallest)  # type: ignore[misc]
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

    def __call__(self, plane: np.ndarray, **bars: float) -> list[dict[str, Any]]:
        """The candidates of ``plane``; ``bars``: :func:`join`'s thresholds, if not the defaults."""
        cf = self.detector(plane)
        bf = self._blaze(plane) if self.blazeface is not None else None
        return join(cf, bf, **{**self.bars, **bars})
