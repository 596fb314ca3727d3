"""Head geometry from five landmarks: roll, crown, chin, eye line, pose.

The detector's box stops near the hair line and its bottom near the chin, so
the head is modelled from the five landmarks instead (:func:`head_geometry`):
the *roll* is the angle of the line from the subject's right eye to the left
eye; along the face's vertical axis (perpendicular to it) the unit is ``d``,
the distance from the eye centre (midpoint of the eyes) to the mouth centre
(midpoint of the mouth corners). The *crown* (top of the hair) lies
:data:`CROWN_ABOVE_EYES` = 2.0 ``d`` above the eye centre, the top of the
*skull* :data:`SKULL_ABOVE_EYES` = 1.7 ``d``, and the *chin*
:data:`CHIN_BELOW_MOUTH` = 0.8 ``d`` below the mouth centre: the head is 3.8
``d`` high with the hair and 3.5 ``d`` without.

The constants were measured with the landmarks :func:`measure_head` finds, on
NASA's astronaut portrait (``skimage.data.astronaut()``: eye centre at y =
103.6, mouth centre 145.2, ``d`` = 41.7 px; top of the hair at y = 16 and chin
at 177.5 located by eye, i.e. 2.1 ``d`` and 0.77 ``d``) and on some twenty
frontal faces of public news and event photos (top of the hair 1.4 to 2.7
``d``, median 1.9, 80% of them within 1.5-2.4; two bald heads 1.64; chin 0.7
to 0.9 ``d``, median 0.8). The astronaut's full hair is above the median, so
the hair constant lies between the two, and the skull constant at the bald
heads (and the anthropometric eyes-to-vertex distance). Expected error of the
head height from the model alone: about +-10% for an arbitrary frontal face
(mostly the hair: +-0.3 ``d`` at the crown, +-0.1 ``d`` at the chin), more when
the head is tilted up or down, which changes ``d``; on the astronaut the
estimate is 2% short (crown 4 px low, chin 1 px low). :func:`~minface.crop_id`
measures the top of the hair on the person mask instead where it can, and uses
the crown model only where the mask gives none.

One detection's landmarks are noisy (roll about +-2.5 degrees, ``d`` +-4%), so
:func:`crop_id` measures them again on upright crops of the face at two sizes
(``d`` = 40 and 64 pixels) and their mirror images and averages the four
(:func:`measure_head`); the photo made, measured again the same way, has its
eyes level within 2 degrees. Each crop is read at the one scale that sees its
face (the detector's ``at_least``). The two sizes replace the six measurements
at 48, 64 and 80 used before, with less than half their pixels and as
consistent: on 20 faces of ``wider-dev`` and the astronaut, each at 6 random
rotations (up to 20 degrees) and scales (0.75-1.35), the median spread
(standard deviation) of the roll was 1.11 against 1.03 degrees, of ``d`` 1.9%
against 1.9% (root mean square 3.8 against 3.7 degrees, 8.8% against 9.0%,
both dominated by a few faces turned away), and ``d`` itself the same to 1% in
the median (the constants above were measured with the earlier six). The
network's ``d`` depends on the face's size in its input by up to 6% (at
``d`` = 40, 48, 56, 64, 80: 1.045, 1.009, 1.0, 1.031, 1.058 times the value at
56, medians over 25 faces), so sizes are chosen in pairs whose mean matches.

Pose
----
:func:`head_pose` estimates yaw and pitch from the same five points with a
weak-perspective model of an average adult face: the nose tip stands
:data:`NOSE_DEPTH` (0.7) half inter-eye distances in front of the plane of the
eyes and mouth corners, so turning the head by ``yaw`` moves the nose sideways
from the eye-mouth midline by ``0.7 * tan(yaw)`` observed half eye distances;
and, frontal, it lies :data:`NOSE_HEIGHT` of the way from the eye line down to
the mouth, so nodding by ``pitch`` moves it by ``0.7 * tan(pitch)`` half eye
distances per eye-to-mouth distance (anthropometric means: inter-pupil 63 mm,
nose tip about 22 mm in front of the eyes and mouth corners; the nose height is
the median measured on frontal news photos, see the README). The person-to-
person spread of these proportions makes the estimates good to about +-25% of
the angle, plus a few degrees of pitch: enough to tell a frontal face from a
three-quarter view or a raised chin, not to measure small angles.

Examples
--------
>>> g = head_geometry([[40, 50], [60, 50], [50, 60], [42, 70], [58, 70]])
>>> g.roll, g.eye_mouth, g.crown, g.chin, g.head_height
(0.0, 20.0, (50.0, 10.0), (50.0, 86.0), 76.0)
"""

from __future__ import annotations

import inspect
import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

import cv2
import numpy as np
import numpy.typing as npt

from ..errors import AmbiguousFaceError, IdPhotoError, NoFaceError
from ..faces import Faces
from ..images import ImageSource, load_image

if TYPE_CHECKING:
    from ..detect import Detector

__all__ = [
    "HeadGeometry",
    "head_geometry",
    "head_pose",
    "measure_head",
    "CROWN_ABOVE_EYES",
    "SKULL_ABOVE_EYES",
    "CHIN_BELOW_MOUTH",
    "NOSE_DEPTH",
    "NOSE_HEIGHT",
    "AMBIGUOUS_RATIO",
]

#: Crown (top of the hair) above the eye centre, in eye-to-mouth distances.
CROWN_ABOVE_EYES = 2.0
#: Top of the skull (the crown "as if there were no hair") above the eye centre, in
#: eye-to-mouth distances.
SKULL_ABOVE_EYES = 1.7
#: Chin below the mouth centre, in eye-to-mouth distances.
CHIN_BELOW_MOUTH = 0.8
#: Nose tip in front of the plane of the eyes and mouth corners, in half inter-eye
#: distances (anthropometric means: 22 mm over 31.5 mm).
NOSE_DEPTH = 0.7
#: Where the nose tip lies between the eye line (0) and the mouth line (1) on a
#: frontal face, as the detector's landmarks place it (median of frontal news photos).
NOSE_HEIGHT = 0.54
#: With ``face="largest"``, the second largest face must be smaller than this
#: fraction of the largest (by the square root of the box area), or the choice is ambiguous.
AMBIGUOUS_RATIO = 0.85

FaceChoice = Union[str, int]


@dataclass(frozen=True)
class HeadGeometry:
    """Where a head is, estimated from the five landmarks (pixels of the image they came from).

    Attributes
    ----------
    roll : float
        Degrees from the right eye to the left eye (the image's left to right);
        positive when the face is turned clockwise (its left eye lower).
    eyes, mouth : (float, float)
        Eye centre (midpoint of the eyes) and mouth centre (midpoint of the mouth corners).
    eye_mouth : float
        ``d``: their distance along the face's vertical axis, the model's unit.
    crown, skull, chin : (float, float)
        Estimated top of the hair, top of the skull and bottom of the chin.
    centre : (float, float)
        Face centre: midway between the eye centre and the mouth centre.
    """

    roll: float
    eyes: tuple[float, float]
    mouth: tuple[float, float]
    eye_mouth: float
    crown: tuple[float, float]
    skull: tuple[float, float]
    chin: tuple[float, float]
    centre: tuple[float, float]

    @property
    def head_height(self) -> float:
        """Chin to crown (top of the hair), in pixels."""
        return float(math.hypot(self.chin[0] - self.crown[0], self.chin[1] - self.crown[1]))

    def height(self, crown: str = "hair") -> float:
        """Chin to the top of the hair (``crown="hair"``) or of the skull (``"skull"``), in pixels."""
        top = self.skull if crown == "skull" else self.crown
        return float(math.hypot(self.chin[0] - top[0], self.chin[1] - top[1]))

    @property
    def eye_to_chin(self) -> float:
        """Eye line to chin along the face's axis, in pixels."""
        return (1.0 + CHIN_BELOW_MOUTH) * self.eye_mouth

    @property
    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors of the face's horizontal (towards its left eye) and downward axes."""
        t = math.radians(self.roll)
        return np.array([math.cos(t), math.sin(t)]), np.array([-math.sin(t), math.cos(t)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (pixels, degrees), with ``head_height``."""
        r = lambda p: [round(float(v), 2) for v in p]  # noqa: E731
        return {
            "roll": round(self.roll, 2),
            "eyes": r(self.eyes),
            "mouth": r(self.mouth),
            "eye_mouth": round(self.eye_mouth, 2),
            "crown": r(self.crown),
            "skull": r(self.skull),
            "chin": r(self.chin),
            "centre": r(self.centre),
            "head_height": round(self.head_height, 2),
        }


def head_geometry(landmarks: npt.ArrayLike) -> HeadGeometry:
    """Roll, crown, chin and centre of a face from its five landmarks.

    Parameters
    ----------
    landmarks : array_like, shape (5, 2)
        ``(x, y)`` of the right eye, left eye, nose, right and left mouth corner
        (as in :class:`minface.Faces`).

    Returns
    -------
    HeadGeometry
        The crown (top of the hair) lies :data:`CROWN_ABOVE_EYES` eye-to-mouth
        distances above the eye centre, the top of the skull
        :data:`SKULL_ABOVE_EYES`, and the chin :data:`CHIN_BELOW_MOUTH` below the
        mouth centre, along the face's axis (perpendicular to the eye line).

    Raises
    ------
    ValueError
        Landmarks of the wrong shape, or with the mouth not below the eyes.

    Examples
    --------
    >>> g = head_geometry([[40, 50], [60, 50], [50, 60], [42, 70], [58, 70]])
    >>> g.roll, g.head_height, g.eye_to_chin
    (0.0, 76.0, 36.0)
    >>> turned = head_geometry([[50, 40], [50, 60], [40, 50], [30, 42], [30, 58]])  # 90 deg clockwise
    >>> turned.roll, turned.crown, turned.chin
    (90.0, (90.0, 50.0), (14.0, 50.0))
    """
    lm = np.asarray(landmarks, np.float64)
    if lm.shape != (5, 2) or not np.isfinite(lm).all():
        raise ValueError(f"landmarks must be 5 finite (x, y) points, got shape {lm.shape}")
    eyes = (lm[0] + lm[1]) / 2
    mouth = (lm[3] + lm[4]) / 2
    across = lm[1] - lm[0]
    if not np.hypot(*across) > 0:
        raise ValueError("the two eye landmarks coincide")
    roll = math.degrees(math.atan2(across[1], across[0]))
    t = math.radians(roll)
    down = np.array([-math.sin(t), math.cos(t)])
    d = float(np.dot(mouth - eyes, down))
    if not d > 0:
        raise ValueError("the mouth landmarks are not below the eyes along the face's axis")
    crown = eyes - CROWN_ABOVE_EYES * d * down
    skull = eyes - SKULL_ABOVE_EYES * d * down
    chin = mouth + CHIN_BELOW_MOUTH * d * down
    tup = lambda p: (round(float(p[0]), 4), round(float(p[1]), 4))  # noqa: E731
    return HeadGeometry(
        roll=round(roll, 4) + 0.0,
        eyes=tup(eyes),
        mouth=tup(mouth),
        eye_mouth=round(d, 4),
        crown=tup(crown),
        skull=tup(skull),
        chin=tup(chin),
        centre=tup((eyes + mouth) / 2),
    )


def head_pose(landmarks: npt.ArrayLike) -> tuple[float, float]:
    """Yaw and pitch of a face, in degrees, from its five landmarks.

    Parameters
    ----------
    landmarks : array_like, shape (5, 2)
        As for :func:`head_geometry` (any roll).

    Returns
    -------
    yaw, pitch : float
        ``yaw`` is positive when the face turns towards the image's right (the
        subject's left), ``pitch`` when the chin goes down; both are 0 for a
        frontal face. See the module notes for the model and its accuracy.

    Examples
    --------
    >>> head_pose([[40, 50], [60, 50], [50, 60.8], [42, 70], [58, 70]])  # nose centred, 0.54 of the way down
    (0.0, 0.0)
    >>> yaw, pitch = head_pose([[40, 50], [60, 50], [56, 60.8], [42, 70], [58, 70]])
    >>> round(yaw), round(pitch)
    (41, 0)
    """
    lm = np.asarray(landmarks, np.float64)
    geo = head_geometry(lm)
    ux, uy = geo.axes
    q = (lm - np.array(geo.eyes)) @ np.stack([ux, uy]).T  # face axes, origin at the eye centre
    half_eyes = (q[1, 0] - q[0, 0]) / 2
    mouth = (q[3] + q[4]) / 2
    nose = q[2]
    t = nose[1] / mouth[1]  # nose height between the eye line and the mouth line
    across = nose[0] - t * mouth[0]  # sideways from the eye-mouth midline at the nose's height
    yaw = math.degrees(math.atan2(across / half_eyes, NOSE_DEPTH))
    pitch = math.degrees(math.atan2((t - NOSE_HEIGHT) * mouth[1] / half_eyes, NOSE_DEPTH))
    return round(yaw, 2) + 0.0, round(pitch, 2) + 0.0


_detector: Detector | None = None
_detector_lock = threading.Lock()


def _shared_detector() -> Detector:
    """The default detector (preset ``"balanced"``), loaded on first use and reused."""
    global _detector
    with _detector_lock:
        if _detector is None:
            from ..detect import Detector

            _detector = Detector("balanced")
        return _detector


def _cv_matrix(lin: np.ndarray, off: np.ndarray) -> np.ndarray:
    """OpenCV matrix of the map ``w = lin @ p + off`` between corner-origin coordinates.

    OpenCV puts pixel centres at integers, minface (and :class:`Faces`) at half-integers.
    """
    return np.hstack([lin, (lin @ np.array([0.5, 0.5]) + off - 0.5)[:, None]])


#: Eye-to-mouth distances (pixels) of the upright crops the landmarks are measured again on;
#: each crop is six of them wide and high.
_REFINE_UNITS = (40.0, 64.0)


def quick_capable(detector: Detector) -> bool:
    """Whether ``detector`` takes ``at_least=`` (a :class:`~minface.Detector` does; a stand-in may not)."""
    try:
        params = inspect.signature(detector).parameters
    except (TypeError, ValueError):
        return False
    return "at_least" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _mirror_landmarks(pixels: np.ndarray, detector: Detector, near: np.ndarray, face: float | None = None) -> np.ndarray | None:
    """Landmarks of the face nearest ``near``, averaged with those found on the mirror image.

    The landmark network's left/right bias cancels in the average, which halves
    the noise of the roll angle.
    """
    width = pixels.shape[1]
    found = []
    for mirrored in (False, True):
        img = np.ascontiguousarray(pixels[:, ::-1]) if mirrored else pixels
        target = np.array([width - near[0], near[1]]) if mirrored else near
        lm = _landmarks_near(img, detector, target, face)  # the crop was made upright
        if lm is None:
            return None
        if mirrored:  # back to the original's coordinates; the subject's right and left swap sides
            lm = lm[[1, 0, 2, 4, 3]]
            lm[:, 0] = width - lm[:, 0]
        found.append(lm)
    return (found[0] + found[1]) / 2


def _refine(pixels: np.ndarray, landmarks: np.ndarray, detector: Detector) -> np.ndarray:
    """Landmarks measured again on upright crops of the face at two sizes, each with its mirror image.

    The average of the four measurements (each crop read at one scale) has about
    a third of the noise of one detection's landmarks (see the module notes).
    """
    geo = head_geometry(landmarks)
    found = [lm for unit in _REFINE_UNITS if (lm := upright_landmarks(pixels, geo, unit, detector)) is not None]
    return np.mean(found, axis=0) if found else landmarks


def upright_landmarks(
    pixels: np.ndarray, geo: HeadGeometry, unit: float, detector: Detector, *, mirrored: bool = True
) -> np.ndarray | None:
    """The face's landmarks measured on an upright crop of it (eye-to-mouth ``unit`` pixels, six units wide).

    In ``pixels``' coordinates; averaged with the mirror image's unless
    ``mirrored=False``; None when the detector finds no face at the crop's centre.
    """
    size = int(6 * unit)
    k = unit / geo.eye_mouth
    lin = k * np.stack(geo.axes)
    off = size / 2 - lin @ np.array(geo.centre)
    crop = cv2.warpAffine(
        pixels,
        _cv_matrix(lin, off),
        (size, size),
        flags=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    centre = np.array([size / 2, size / 2])
    face = 2 * unit  # the face box measures about 2.5 units: only the scale that sees it is read
    lm = _mirror_landmarks(crop, detector, centre, face) if mirrored else _landmarks_near(crop, detector, centre, face)
    return None if lm is None else (lm - off) @ np.linalg.inv(lin).T


def _landmarks_near(pixels: np.ndarray, detector: Detector, near: np.ndarray, face: float | None = None) -> np.ndarray | None:
    """Landmarks of the face whose box holds ``near`` (the one nearest it), on an upright image.

    ``face`` (pixels), when the detector takes ``at_least``, reads the image only
    at the scales that find a face that large.
    """
    if face is not None and quick_capable(detector):
        faces = detector(pixels, turned=False, at_least=face)
    else:
        faces = detector(pixels, turned=False)
    if not len(faces) or faces.landmarks is None:
        return None
    i = int(np.argmin(np.hypot(*(faces.centers - near).T)))
    x1, y1, x2, y2 = faces.xyxy[i]
    if not (x1 <= near[0] <= x2 and y1 <= near[1] <= y2):
        return None
    return faces.landmarks[i].astype(np.float64)


def measure_head(image: ImageSource, *, detector: Detector | None = None, face: FaceChoice = "largest") -> HeadGeometry:
    """Locate a head as :func:`crop_id` does: detect, then measure again upright, at two sizes, mirrored.

    Use it to check a photo made elsewhere (or by :func:`crop_id`) against a spec:
    ``head_height / height`` and ``(height - eyes[1]) / height`` are the
    head-height and eye-line ratios of an upright photo.

    Raises
    ------
    NoFaceError, AmbiguousFaceError
        As :func:`crop_id`.

    Examples
    --------
    >>> import numpy as np
    >>> try:
    ...     measure_head(np.zeros((64, 64, 3), np.uint8))
    ... except NoFaceError as exc:
    ...     print(exc)
    no face found in the 64x64 image
    """
    pixels = load_image(image)
    det = detector or _shared_detector()
    faces = det(pixels)
    index = _choose(faces, face, (pixels.shape[1], pixels.shape[0]))
    if faces.landmarks is None:
        raise IdPhotoError("the detections carry no landmarks", reason="no_landmarks")
    return head_geometry(_refine(pixels, faces.landmarks[index].astype(np.float64), det))


def _choose(faces: Faces, face: FaceChoice, size: tuple[int, int]) -> int:
    n = len(faces)
    if n == 0:
        raise NoFaceError(f"no face found in the {size[0]}x{size[1]} image")
    if isinstance(face, (int, np.integer)) and not isinstance(face, bool):
        if not -n <= face < n:
            raise ValueError(f"face index {face} out of range: {n} face(s) found")
        return int(face) % n
    if face != "largest":
        raise ValueError(f"face must be 'largest' or an index, got {face!r}")
    sizes = np.sqrt(faces.widths * faces.heights)
    order = np.argsort(-sizes, kind="stable")
    if n > 1 and sizes[order[1]] >= AMBIGUOUS_RATIO * sizes[order[0]]:
        raise AmbiguousFaceError(
            f"{n} faces found and the two largest are of similar size ({sizes[order[0]]:.0f} and "
            f"{sizes[order[1]]:.0f} px); choose one by index (face=, --face)"
        )
    return int(order[0])


