"""The checks that decide whether an ID photo is acceptable, measured on the photo itself.

Geometry is not enough: a three-quarter profile, enlarged and blurry, with the
hair touching the top edge, can have its head height and eye line exactly right.
Each :class:`Check` holds the value measured, the allowed range and whether it
passed; :attr:`IdPhoto.ok <minface.IdPhoto.ok>` is true only when all pass.

========================  ==========================================  ==============================================
check                     passes when                                 source of the limit
========================  ==========================================  ==============================================
``head_height``           chin to crown within the spec's range       the spec's authority (:mod:`.specs`)
``eye_line``              eye line within the spec's range            the spec's authority, where it sets one
``top_margin``            gap above the head within the spec's range  the spec's authority, where it sets one
``bottom_margin``         gap below the chin at least the spec's      the spec's authority, where it sets one
``centred``               face centre within 1% of the middle        ICAO Doc 9303 Part 3: the face centred
``upscale``               source pixels enlarged at most 1.5 times    minface (a print needs real detail)
``yaw``, ``pitch``        within +-5 degrees of frontal               ICAO Portrait Quality TR (2018) / ISO/IEC
                                                                      39794-5: pose within +-5 degrees yaw, pitch
``roll``                  within +-8 degrees, measured again on the   same sources: +-8 degrees roll
                          photo made
``sharpness``             edge blur at most 2% of the eye distance    ICAO Doc 9303 Part 3 and ISO/IEC 19794-5
                                                                      ask for a sharp, in-focus face and 90 px
                                                                      between the eyes; minface's limit (below)
``exposure``              face's median luminance 25-90%              ISO/IEC 19794-5 / ICAO: no under- or
                                                                      over-exposure; minface's limit (below)
``clipping``              at most 5% of the face black or white       same; minface's limit
``contrast``              face spans at least 128 grey levels         ISO/IEC 19794-5 (7.3.2): at least 7 bits
                                                                      of intensity variation in the face
``background``            the background's luminance varies by at     ICAO Doc 9303 Part 3: plain, uniform
                          most 8 levels (standard deviation)          background; minface's limit
``matte``                 at most 1% of the photo undecided            minface: no patch of the old background
                          between person and background               left half-painted
``top_space``             hair at least 2% of the height below the    the whole head in the photo (all
                          top edge (the spec's gap where it sets one) authorities); measured on the person mask
========================  ==========================================  ==============================================

How the quality values are measured (all on the photo as made):

* *sharpness*: the blur of the face's edges (eyes, brows, nose, lips), as the
  standard deviation ``sigma`` of a Gaussian blur, estimated from how much the
  gradient drops when the image is blurred again by known amounts (Hu and de
  Haan, "Low cost robust blur estimator", ICIP 2006), at the strongest edges of
  the inner face, median; reported as a fraction of the distance between the
  eyes. A sharp photo of a face with 100 pixels between the eyes has ``sigma``
  of about 0.8-1.2 pixels (0.8-1.2%); enlarging it 1.5 times gives about 1.5%;
  a defocused face 3% and more.
* *exposure*, *clipping*, *contrast*: the luminance (Rec. 601 luma) of the inner
  face region (between the eyebrows and the chin, the width of the eyes).
* *background*: the luminance of every pixel the person mask calls
  background, a few pixels away from the person;
* *matte*: the fraction of the photo where the person mask stays undecided
  (alpha between 0.05 and 0.95) over patches wider than 1.6% of the photo: a
  hair edge is narrower, a half-removed patch of the old background is not.
* *top_space*: from the person mask, the highest point of the head (hair
  included) over the face's width.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from .geometry import HeadGeometry, head_geometry, head_pose, upright_landmarks

if TYPE_CHECKING:
    from ..detect import Detector
    from .specs import Spec

__all__ = [
    "Check",
    "MAX_YAW",
    "MAX_PITCH",
    "MAX_ROLL",
    "MAX_BLUR",
    "EXPOSURE_RANGE",
    "MAX_CLIPPED",
    "MIN_CONTRAST",
    "MAX_BACKGROUND_STD",
    "MAX_UNSURE",
    "MIN_TOP_SPACE",
    "blur_sigma",
    "face_region",
    "face_luminance",
    "top_of_head",
    "evaluate",
]

#: Largest yaw and pitch, degrees (ICAO Portrait Quality TR, ISO/IEC 39794-5).
MAX_YAW = 5.0
MAX_PITCH = 5.0
#: Largest roll left in the photo, degrees (same sources).
MAX_ROLL = 8.0
#: Eye-to-mouth distance (pixels) of the crop of the photo's face the roll is measured again on.
ROLL_UNIT = 48.0
#: Largest edge blur (Gaussian sigma) of the face, as a fraction of the eye distance.
MAX_BLUR = 0.02
#: Allowed median luminance of the face, fraction of full scale.
EXPOSURE_RANGE = (0.25, 0.9)
#: Largest fraction of the face's pixels at black (<= 3) or white (>= 252).
MAX_CLIPPED = 0.05
#: Smallest spread of the face's luminance (0.5th to 99.5th percentile), grey levels (ISO/IEC 19794-5: 7 bits).
MIN_CONTRAST = 128
#: Largest standard deviation of the background's luminance, grey levels.
MAX_BACKGROUND_STD = 8.0
#: Largest fraction of the photo the person mask leaves undecided over wide patches.
MAX_UNSURE = 0.01
#: Smallest gap between the top of the hair and the top edge, fraction of the height,
#: where the authority sets none.
MIN_TOP_SPACE = 0.02


@dataclass(frozen=True)
class Check:
    """One requirement: the value reached and the allowed range (``None``: open).

    Examples
    --------
    >>> print(Check("yaw", False, 23.5, -5.0, 5.0, "deg"))
    yaw: 23.5 in [-5, 5] deg -> FAIL
    """

    name: str
    passed: bool
    value: float
    low: float | None
    high: float | None
    unit: str = "ratio"

    @classmethod
    def within(cls, name: str, value: float, low: float | None, high: float | None, unit: str = "ratio") -> Check:
        """The check that ``value`` lies in ``[low, high]`` (with a rounding tolerance)."""
        tol = 1e-6
        ok = bool(np.isfinite(value)) and (low is None or value >= low - tol) and (high is None or value <= high + tol)
        return cls(name, ok, float(value), low, high, unit)

    def to_dict(self) -> dict[str, Any]:
        rnd = lambda v: None if v is None or not np.isfinite(v) else round(float(v), 4)  # noqa: E731
        return {
            "name": self.name,
            "passed": self.passed,
            "value": rnd(self.value),
            "low": rnd(self.low),
            "high": rnd(self.high),
            "unit": self.unit,
        }

    def __str__(self) -> str:
        lo = "" if self.low is None else f"{self.low:.3g}"
        hi = "" if self.high is None else f"{self.high:.3g}"
        return f"{self.name}: {self.value:.3g} in [{lo}, {hi}] {self.unit} -> {'pass' if self.passed else 'FAIL'}"


def face_region(eyes: tuple[float, float], eye_distance: float, eye_mouth: float, shape: tuple[int, ...]) -> tuple[slice, slice]:
    """Rows and columns of the inner face of an upright face: brows to chin, the width of the eyes.

    ``eyes`` is the eye centre, ``eye_distance`` the distance between the eyes,
    ``eye_mouth`` the eye-to-mouth distance, all in pixels of the image of ``shape``.
    """
    x, y = eyes
    half = 0.75 * eye_distance
    top, bottom = y - 0.45 * eye_mouth, y + 1.45 * eye_mouth
    h, w = shape[:2]
    r0, r1 = max(0, int(round(top))), min(h, int(round(bottom)))
    c0, c1 = max(0, int(round(x - half))), min(w, int(round(x + half)))
    return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))


def _luma(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def blur_sigma(gray: np.ndarray) -> float:
    """Gaussian blur (sigma, pixels) of the strongest edges of ``gray`` (a face region).

    Two blurs of known size, ``a`` and ``b``, lower an edge's gradient in the ratio
    ``r = sqrt(s^2 + b^2) / sqrt(s^2 + a^2)`` for an edge already blurred by ``s``;
    solved for ``s`` at the strongest 5% of edge pixels, median.

    Examples
    --------
    >>> import numpy as np, cv2
    >>> step = np.zeros((64, 64), np.float32); step[:, 32:] = 200
    >>> rows = [cv2.GaussianBlur(step, (0, 0), s) for s in (1.5, 2.0, 4.0)]
    >>> [round(blur_sigma(r), 1) for r in rows]
    [1.5, 2.0, 4.0]
    """
    g = gray.astype(np.float32)
    if min(g.shape) < 8:
        return float("nan")
    a, b = 1.0, 2.0

    def grad(img: np.ndarray) -> np.ndarray:
        gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=1)
        gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=1)
        return np.hypot(gx, gy)

    ga = grad(cv2.GaussianBlur(g, (0, 0), a))
    gb = grad(cv2.GaussianBlur(g, (0, 0), b))
    inner = (slice(3, -3), slice(3, -3))  # away from the region's border
    ga, gb = ga[inner], gb[inner]
    strong = ga >= max(np.percentile(ga, 95), 1e-3)
    r = ga[strong] / np.maximum(gb[strong], 1e-6)
    r = r[r > 1.0 + 1e-4]
    if r.size == 0:
        return float("inf")
    s2 = (b * b - r * r * a * a) / (r * r - 1.0)
    # the discrete gradient itself blurs by about half a pixel: remove it (calibrated on ideal steps)
    s2 = s2 - _GRADIENT_BLUR**2
    return float(np.sqrt(max(float(np.median(s2)), 0.0)))


_GRADIENT_BLUR = 0.65


def face_luminance(image: np.ndarray, region: tuple[slice, slice]) -> tuple[float, float, float]:
    """Median luminance (0-1), clipped fraction and spread (grey levels) of the face region."""
    y = _luma(image[region]).ravel()
    if y.size == 0:
        return float("nan"), float("nan"), float("nan")
    median = float(np.median(y)) / 255.0
    clipped = float(np.mean((y <= 3) | (y >= 252)))
    lo, hi = np.percentile(y, [0.5, 99.5])
    return median, clipped, float(hi - lo)


def background_std(image: np.ndarray, alpha: np.ndarray) -> float:
    """Standard deviation of the luminance over the background (alpha 0), a few pixels away from the person."""
    person = (alpha > 0.02).astype(np.uint8)
    r = max(2, int(round(0.01 * max(alpha.shape))))
    near = cv2.dilate(person, np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0
    y = _luma(image)[~near]
    return float(np.std(y.astype(np.float32))) if y.size >= 100 else 0.0


def unsure_fraction(alpha: np.ndarray) -> float:
    """Fraction of the photo where the person mask is neither person nor background over a wide patch.

    The edge of hair or shoulders is a band a few pixels wide; a wider stretch
    of in-between values is a patch of the old background the network could
    not decide on, left half-painted beside the person.
    """
    soft = ((alpha > 0.05) & (alpha < 0.95)).astype(np.uint8)
    r = max(2, int(round(0.008 * max(alpha.shape))))
    deep = cv2.erode(soft, np.ones((2 * r + 1, 2 * r + 1), np.uint8))
    return float(deep.mean())


def top_of_head(alpha: np.ndarray, centre_x: float, half_width: float) -> float | None:
    """Row of the highest person pixel (alpha > 0.5) within ``half_width`` of column ``centre_x``, or None."""
    h, w = alpha.shape
    c0, c1 = max(0, int(round(centre_x - half_width))), min(w, int(round(centre_x + half_width)) + 1)
    if c1 <= c0:
        return None
    rows = np.flatnonzero((alpha[:, c0:c1] > 0.5).any(axis=1))
    return float(rows[0]) if rows.size else None


def evaluate(
    sp: Spec,
    photo: np.ndarray,
    alpha: np.ndarray,
    geo: HeadGeometry,
    landmarks: np.ndarray,
    s: float,
    max_upscale: float,
    detector: Detector,
) -> tuple[Check, ...]:
    """Every check of a photo made for ``sp`` (see the table above).

    ``geo`` is the head in the photo's pixels, ``landmarks`` the refined source
    landmarks (for the pose), ``s`` the enlargement, ``alpha`` the person mask;
    ``detector`` measures the roll again on the photo.
    """
    H, W = sp.height_px, sp.width_px
    within = Check.within
    head = geo.height(sp.crown) / H
    checks = [within("head_height", head, *sp.head_ratio)]
    eye = (H - geo.eyes[1]) / H
    if sp.eye_ratio is not None:
        checks.append(within("eye_line", eye, *sp.eye_ratio))
    # the top of the hair, measured on the photo's mask
    d = geo.eye_mouth
    top_row = top_of_head(alpha, geo.centre[0], 0.8 * d)
    top = (top_row if top_row is not None else geo.crown[1]) / H
    if sp.top_margin_mm is not None:
        lo, hi = sp.top_margin_mm
        checks.append(within("top_margin", top, lo / sp.height_mm, None if hi is None else hi / sp.height_mm))
    else:
        checks.append(within("top_space", top, MIN_TOP_SPACE, None))
    if sp.bottom_margin_mm is not None:
        checks.append(within("bottom_margin", (H - geo.chin[1]) / H, sp.bottom_margin_mm / sp.height_mm, None))
    checks.append(within("centred", (geo.centre[0] - W / 2) / W, -0.01, 0.01))
    checks.append(within("upscale", s, None, max_upscale, "x"))
    # pose: yaw and pitch from the (refined) landmarks, roll measured again on the photo
    yaw, pitch = head_pose(landmarks)
    checks.append(within("yaw", yaw, -MAX_YAW, MAX_YAW, "deg"))
    checks.append(within("pitch", pitch, -MAX_PITCH, MAX_PITCH, "deg"))
    # the ID photo is upright by construction: one new detection on a crop of just the face (the
    # face at one of the landmarks' measuring sizes), independent of the source's measurements
    again = upright_landmarks(photo, geo, ROLL_UNIT, detector, mirrored=False)
    roll = float("nan") if again is None else head_geometry(again).roll
    checks.append(within("roll", roll, -MAX_ROLL, MAX_ROLL, "deg"))
    # the face's image quality
    eye_distance = float(np.hypot(*(landmarks[1] - landmarks[0]))) * s
    region = face_region(geo.eyes, eye_distance, d, photo.shape)
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    blur = blur_sigma(gray[region]) / eye_distance
    checks.append(within("sharpness", blur, None, MAX_BLUR, "blur/eye distance"))
    median, clipped, spread = face_luminance(photo, region)
    checks.append(within("exposure", median, *EXPOSURE_RANGE))
    checks.append(within("clipping", clipped, None, MAX_CLIPPED))
    checks.append(within("contrast", spread, MIN_CONTRAST, None, "levels"))
    checks.append(within("background", background_std(photo, alpha), None, MAX_BACKGROUND_STD, "levels"))
    checks.append(within("matte", unsure_fraction(alpha), None, MAX_UNSURE))
    return tuple(checks)
