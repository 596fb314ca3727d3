"""The faces of an ID photo's source: the subject by a quick look, the other faces where they matter.

An ID photo's subject is a large face: the smallest head any document accepts
measures about 200 source pixels (it may be enlarged 1.5 times at most), so it
is found reading the photo at its lowest scales only (:func:`find_subject`:
``Detector(..., at_least=QUICK_FACE)``, the scales that find faces of
:data:`QUICK_FACE` pixels and more; on a 1 MP selfie a fifth of the full
search's pixels). The quick look is taken when it is sure: the subject scores
at least :data:`UPRIGHT_SCORE`, lies within :data:`UPRIGHT_ROLL` degrees of
level, and is large enough that a face of similar size (which makes the choice
ambiguous) is one the quick look sees clearly too (:data:`QUICK_SUBJECT`). Otherwise, and when the face is
chosen by index, the detector searches the whole photo as it is set to (turned
photos included), and nothing below changes.

After a quick look, the other faces small enough to escape it are searched only
where they matter: in and around the crop window (:func:`window_faces`), a
face outside it being cut away anyway. The window is read at
:data:`WINDOW_DETAIL` times the photo's resolution (never above the source's),
with the detector's full search: a face of 8 pixels in the photo measures 16
in what is searched, more than enough for the detector's smallest faces. The
window is grown by :data:`WINDOW_MARGIN` source pixels on every side, so a face
too small for the quick look whose painted region reaches into the crop is seen
whole. Should the faces found there change the choice of the subject (a
larger face, or one of similar size: ambiguous), :func:`still_chosen` says
so, and the photo is made again from the full search.

Examples
--------
>>> import numpy as np
>>> from minface.faces import Faces
>>> quick = Faces([[100, 100, 300, 340]], [0.9], image_size=(800, 800))
>>> again = np.float32([[110, 105, 290, 330], [500, 120, 530, 160]])  # the subject, and a small face beside
>>> new = _new_faces(quick, 0, again)
>>> new.tolist()
[1]
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..errors import IdPhotoError
from ..faces import Faces
from .geometry import FaceChoice, _choose, head_geometry, quick_capable

if TYPE_CHECKING:
    from ..detect import Detector

__all__ = [
    "QUICK_FACE",
    "QUICK_SUBJECT",
    "WINDOW_DETAIL",
    "WINDOW_MARGIN",
    "UPRIGHT_SCORE",
    "UPRIGHT_ROLL",
    "find_subject",
    "window_faces",
    "still_chosen",
]

#: The quick look reads the photo at the scales that find faces of this many pixels (longer side) and more.
QUICK_FACE = 32.0
#: The window is searched at this many times the output photo's resolution (at most the source's).
WINDOW_DETAIL = 2.0
#: The window is grown by this many source pixels on each side (twice the quick look's smallest face).
WINDOW_MARGIN = 2 * QUICK_FACE
#: The quick look is taken for a subject face of at least this many pixels (square root of the box
#: area): the smallest head any document accepts, about 200 source pixels, has a face box of about
#: 130. A face of similar size (which makes the choice ambiguous) then measures 100 pixels or more,
#: 50 at the quick look's lowest scale; smaller subjects get the full search.
QUICK_SUBJECT = 120.0
#: A subject found upright this sure of itself, nearly level, tells the photo's orientation.
UPRIGHT_SCORE = 0.6
UPRIGHT_ROLL = 30.0
#: A face seen again in the window is the quick look's when their boxes overlap this much (intersection over union).
SAME_FACE_IOU = 0.5


def find_subject(detector: Detector, pixels: np.ndarray, face: FaceChoice) -> tuple[Faces, bool]:
    """The faces of ``pixels`` the subject is chosen from, and whether they come from the quick look only.

    The quick look (upright, the lowest scales) is taken when it is sure of the
    subject (see the module notes); its faces then hold the large ones only, and
    :func:`window_faces` adds the small ones near the crop. Otherwise (``False``)
    the faces are those of a full search: of the photo upright when the subject
    found there is sure and upright, else the detector's own (turned photos too).
    """
    size = (pixels.shape[1], pixels.shape[0])
    if not isinstance(face, str):
        return detector(pixels), False
    if quick_capable(detector):
        look = detector(pixels, turned=False, at_least=QUICK_FACE)
        if _sure(look, face, size, QUICK_SUBJECT):
            return look, True
    if not getattr(detector, "turned", False):
        return detector(pixels), False
    upright = detector(pixels, turned=False)
    return (upright if _sure(upright, face, size, 0.0) else detector(pixels)), False


def _sure(faces: Faces, face: FaceChoice, size: tuple[int, int], smallest: float) -> bool:
    """Whether the subject chosen from ``faces`` is sure, upright and at least ``smallest`` pixels (box area's root)."""
    try:
        i = _choose(faces, face, size)
        if faces.landmarks is None or faces.scores[i] < UPRIGHT_SCORE:
            return False
        if math.sqrt(faces.widths[i] * faces.heights[i]) < smallest:
            return False
        return abs(head_geometry(faces.landmarks[i]).roll) <= UPRIGHT_ROLL
    except (IdPhotoError, ValueError):
        return False


def window_faces(
    detector: Detector, pixels: np.ndarray, faces: Faces, subject: int, window: tuple[int, int, int, int], scale: float
) -> Faces:
    """``faces`` (a quick look's) and after them the faces found in and around ``window``, the subject left out.

    ``window`` is ``(x0, y0, x1, y1)`` in source pixels, ``scale`` the output
    photo's pixels per source pixel. The window, grown by :data:`WINDOW_MARGIN`,
    is read at :data:`WINDOW_DETAIL` times ``scale`` (at most 1), upright. A face
    found again whose centre lies in the subject's box is the subject; one whose
    box overlaps one of ``faces`` by :data:`SAME_FACE_IOU` is that face.
    """
    h, w = pixels.shape[:2]
    x0, y0 = max(0, math.floor(window[0] - WINDOW_MARGIN)), max(0, math.floor(window[1] - WINDOW_MARGIN))
    x1, y1 = min(w, math.ceil(window[2] + WINDOW_MARGIN)), min(h, math.ceil(window[3] + WINDOW_MARGIN))
    if x1 <= x0 or y1 <= y0:
        return faces
    region = pixels[y0:y1, x0:x1]
    f = min(1.0, WINDOW_DETAIL * scale)
    if f < 1.0:
        size = (max(1, round((x1 - x0) * f)), max(1, round((y1 - y0) * f)))
        region = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
    found = detector(region, turned=False)
    if not len(found):
        return faces
    sx, sy = (x1 - x0) / region.shape[1], (y1 - y0) / region.shape[0]
    boxes = found.xyxy * np.float32([sx, sy, sx, sy]) + np.float32([x0, y0, x0, y0])
    keep = _new_faces(faces, subject, boxes)
    if not keep.size:
        return faces
    if found.landmarks is not None:
        points = found.landmarks[keep] * np.float32([sx, sy]) + np.float32([x0, y0])
    else:  # a stand-in detector without landmarks: the box centre for every point
        points = np.repeat(((boxes[keep, :2] + boxes[keep, 2:]) / 2)[:, None], 5, axis=1)
    more = Faces(boxes[keep], found.scores[keep], points if faces.landmarks is not None else None, faces.image_size, faces.detector)
    return Faces.concat([faces, more])


def still_chosen(faces: Faces, face: FaceChoice, index: int) -> bool:
    """Whether ``faces`` (after :func:`window_faces`) still choose the subject ``index`` unambiguously."""
    size = faces.image_size or (0, 0)
    try:
        return _choose(faces, face, size) == index
    except IdPhotoError:
        return False


def _new_faces(faces: Faces, subject: int, boxes: np.ndarray) -> np.ndarray:
    """Indices of ``boxes`` that are neither the subject (centre in its box) nor one of ``faces`` (overlap)."""
    if not len(boxes):
        return np.zeros(0, np.intp)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    sx1, sy1, sx2, sy2 = faces.xyxy[subject]
    own = (centres[:, 0] >= sx1) & (centres[:, 0] <= sx2) & (centres[:, 1] >= sy1) & (centres[:, 1] <= sy2)
    known = faces.xyxy
    if len(known):
        ix = np.clip(np.minimum(boxes[:, None, 2], known[None, :, 2]) - np.maximum(boxes[:, None, 0], known[None, :, 0]), 0, None)
        iy = np.clip(np.minimum(boxes[:, None, 3], known[None, :, 3]) - np.maximum(boxes[:, None, 1], known[None, :, 1]), 0, None)
        inter = ix * iy
        area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
        iou = inter / np.maximum(area(boxes)[:, None] + area(known)[None, :] - inter, 1e-6)
        same = (iou >= SAME_FACE_IOU).any(axis=1)
    else:
        same = np.zeros(len(boxes), bool)
    return np.flatnonzero(~own & ~same)
