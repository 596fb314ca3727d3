"""The other faces of an ID photo's source: which ones to paint over, and painting them.

Every other face that reaches into the crop is painted over. A detection where
the subject's own body is (inside the subject's person mask, or below the chin
within the shoulders) is more likely a pattern on a shirt, a badge or a fold of
a collar than a face: a real head there would have to be in front of the
subject. Such a detection is painted only with far stronger evidence: the
detector, looking again at an upright crop of just that spot with the face
:data:`RECHECK_FACE` pixels large, finds a face there again with a score of at
least :data:`RECHECK_SCORE`. A real face (a child held in the arms, a face on a
badge) passes that look easily; the texture that fooled one pass at one scale
rarely does. Detections elsewhere are painted as they are.

Examples
--------
>>> import numpy as np
>>> in_body_zone(np.array([50.0, 150.0]), eyes=np.array([50.0, 50.0]), rot=np.eye(2),
...              chin=np.array([50.0, 100.0]), centre=np.array([50.0, 70.0]), head=80.0, mask_at=lambda p: False)
True
>>> in_body_zone(np.array([200.0, 150.0]), eyes=np.array([50.0, 50.0]), rot=np.eye(2),
...              chin=np.array([50.0, 100.0]), centre=np.array([50.0, 70.0]), head=80.0, mask_at=lambda p: False)
False
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import cv2
import numpy as np

from ..faces import Faces
from ..redact import DEFAULT_PAD, redact, region_mask, regions
from .geometry import _cv_matrix

if TYPE_CHECKING:
    from ..detect import Detector

__all__ = ["RECHECK_SCORE", "RECHECK_FACE", "SHOULDERS", "in_body_zone", "confirmed", "redact_others"]

#: Smallest score of the second look at a detection on the subject's body (the
#: presets keep faces from about 0.1-0.25; real faces of 60 px and more score 0.6-0.95).
RECHECK_SCORE = 0.5
#: Size (pixels, longer side) the face is brought to for the second look.
RECHECK_FACE = 80
#: Half-width of the body below the chin, as a fraction of the head height (chin to crown).
SHOULDERS = 0.75


def in_body_zone(
    point: np.ndarray,
    *,
    eyes: np.ndarray,
    rot: np.ndarray,
    chin: np.ndarray,
    centre: np.ndarray,
    head: float,
    mask_at: Callable[[np.ndarray], bool],
) -> bool:
    """Whether ``point`` (source pixels) lies on the subject's body.

    That is inside the subject's person mask (``mask_at``), or below the chin
    (along the face's downward axis ``rot[1]``) and within :data:`SHOULDERS`
    head heights of the face centre across.
    """
    q = rot @ (np.asarray(point, np.float64) - eyes)
    below = q[1] > float(rot[1] @ (chin - eyes))
    across = abs(q[0] - float(rot[0] @ (centre - eyes)))
    return bool(mask_at(point)) or bool(below and across <= SHOULDERS * head)


def confirmed(pixels: np.ndarray, box: np.ndarray, detector: Detector) -> bool:
    """Whether ``detector`` finds the face of ``box`` again on an upright crop around it, with a high score."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1, 1.0)
    k = RECHECK_FACE / side
    size = int(3 * RECHECK_FACE)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    lin = np.eye(2) * k
    crop = cv2.warpAffine(
        pixels,
        _cv_matrix(lin, size / 2 - lin @ np.array([cx, cy])),
        (size, size), flags=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(127, 127, 127)
    )
    found = detector(crop, turned=False)
    if not len(found):
        return False
    c = found.centers
    near = (np.abs(c - size / 2) <= RECHECK_FACE / 2).all(axis=1)
    sizes = np.maximum(found.widths, found.heights)
    similar = (sizes >= RECHECK_FACE / 2) & (sizes <= 2 * RECHECK_FACE)
    return bool((near & similar & (found.scores >= RECHECK_SCORE)).any())


def redact_others(src: np.ndarray, faces: Faces, subject: int, others: list[int], origin: tuple[int, int]) -> tuple[np.ndarray, int]:
    """Paint the faces ``others`` whose region reaches into ``src`` (a window of the image at ``origin``)."""
    if not others:
        return src, 0
    shift = np.array([origin[0], origin[1], origin[0], origin[1]], np.float32)
    boxes = faces.xyxy[others] - shift
    regs = regions(boxes, pad=DEFAULT_PAD).boxes
    h, w = src.shape[:2]
    inside = (regs[:, 2] > 0) & (regs[:, 0] < w) & (regs[:, 3] > 0) & (regs[:, 1] < h)
    if not inside.any():
        return src, 0
    painted = redact(src, boxes[inside])
    # never paint the subject's own face (a bystander's region may reach into it)
    own = region_mask(h, w, regions(faces.xyxy[[subject]] - shift, pad=0.0, shape="rect"))
    painted[own] = src[own]
    return painted, int(inside.sum())
