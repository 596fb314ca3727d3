"""crop_id: one upright head at the spec's size, on a plain background, nobody else, no metadata."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable

import cv2
import numpy as np

from ..errors import BodyCutOffError, CropOutsideImageError, FaceCutOffError, FaceTooSmallError, IdPhotoError
from ..faces import Faces
from ..images import ImageSource, load_image
from . import checks as qc
from .background import INPUT_SIZE, Segmenter, extend_from_valid, refine_alpha, replace_background, shared_segmenter, subject_only
from .checks import Check, evaluate
from .geometry import (
    FaceChoice,
    HeadGeometry,
    _choose,
    _cv_matrix,
    _refine,
    _shared_detector,
    head_geometry,
)
from .bystanders import confirmed, in_body_zone, redact_others
from .search import find_subject, window_faces
from .output import photo_bytes, save_photo, save_sheet, sheet_pixels
from .specs import Spec, get_spec

if TYPE_CHECKING:
    from ..detect import Detector

__all__ = ["IdPhoto", "crop_id", "MAX_UPSCALE", "DEFAULT_EYE_LINE", "MIN_TOP_MARGIN", "MAX_INVENTED"]

#: Largest enlargement of the source pixels: the head must measure at least the
#: output's head height divided by this in the source photo.
MAX_UPSCALE = 1.5
#: Eye line (fraction of the height, from the bottom) aimed at when the authority
#: sets none: ISO/IEC 19794-5's 50-70%, used only where the margins allow it.
DEFAULT_EYE_LINE = (0.5, 0.7)
#: Smallest gap between the crown and the top edge, as a fraction of the photo
#: height, aimed at when the authority sets none.
MIN_TOP_MARGIN = qc.MIN_TOP_SPACE
#: How far (fraction of the photo height) the person may continue past the image
#: edge inside the photo, filled by repeating the edge pixels; beyond it the crop
#: would have to invent the person's outline and is refused.
MAX_INVENTED = 0.025
#: How far (fraction of the head height) the estimated crown may lie outside the
#: image before the head counts as cut off (the crown estimate's own uncertainty).
_CROWN_SLACK = 0.1
#: The top of the hair found on the person mask is used when it lies this many
#: eye-to-mouth distances above the eye centre (else the model's CROWN_ABOVE_EYES).
_HAIR_RANGE = (1.45, 3.2)


@dataclass(frozen=True, eq=False)
class IdPhoto:
    """An ID photo made by :func:`crop_id`, with its compliance report.

    Attributes
    ----------
    image : numpy.ndarray
        The photo: RGB ``uint8``, ``(spec.height_px, spec.width_px, 3)``.
    spec : Spec
        The specification it was made for.
    head_height_ratio : float
        Chin-to-crown height (the crown as the spec defines it) as a fraction of
        the photo height; the top of the hair is measured on the person mask, the
        chin and the skull estimated from the landmarks.
    eye_line_ratio : float
        Height of the eye line above the bottom edge, as a fraction of the photo height.
    roll : float
        Roll of the face in the source, in degrees (the photo is turned upright by it).
    face_size : float
        Head height (chin to crown as the spec defines it) in source pixels.
    scale : float
        Output pixels per source pixel (above 1: enlarged).
    checks : tuple of Check
        Each requirement, measured on the photo, and whether it is met (see :mod:`minface.idphoto.checks`).
    geometry : HeadGeometry
        The head in the output photo's pixels.
    source_geometry : HeadGeometry
        The head in the source image's pixels.
    source_box : (x1, y1, x2, y2)
        The detected face box in the source.
    window : numpy.ndarray, shape (4, 2)
        Corners of the crop in source pixels (top-left, top-right, bottom-right, bottom-left).
    redacted : int
        Other faces painted over because they reached into the crop.
    background : (r, g, b) or None
        The plain background colour painted behind the person; None when the
        original background was kept.
    extended : float
        Fraction of the photo that lies outside the source image (filled with
        the background colour, or with the person's edge pixels repeated over at
        most :data:`MAX_INVENTED` of the height).
    crown_from : {"mask", "model"}
        Where the top of the hair comes from: the person mask, or the landmark
        model (:data:`~minface.idphoto.CROWN_ABOVE_EYES`) when the mask gave none.
    alpha : numpy.ndarray
        The person mask of the photo (float32, 1 = person).

    Examples
    --------
    >>> import numpy as np
    >>> from minface.idphoto import SPECS, Check, head_geometry
    >>> g = head_geometry([[280, 260], [320, 260], [300, 280], [284, 300], [316, 300]])
    >>> checks = (Check.within("roll", 3.0, -8, 8, "deg"), Check.within("yaw", 12.0, -5, 5, "deg"))
    >>> photo = IdPhoto(np.full((600, 600, 3), 200, np.uint8), SPECS["us-passport"], 0.6, 0.6, 0.0, 300.0, 1.0,
    ...                 checks, g, g, (0.0, 0.0, 1.0, 1.0), np.zeros((4, 2)))
    >>> photo.ok, photo.failed, photo.check("roll").passed, photo.to_dict()["spec"]
    (False, ['yaw'], True, 'us-passport')
    """

    image: np.ndarray
    spec: Spec
    head_height_ratio: float
    eye_line_ratio: float
    roll: float
    face_size: float
    scale: float
    checks: tuple[Check, ...]
    geometry: HeadGeometry
    source_geometry: HeadGeometry
    source_box: tuple[float, float, float, float]
    window: np.ndarray = field(repr=False)
    redacted: int = 0
    background: tuple[int, int, int] | None = None
    extended: float = 0.0
    crown_from: str = "model"
    alpha: np.ndarray | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[str]:
        """Names of the checks that failed."""
        return [c.name for c in self.checks if not c.passed]

    def check(self, name: str) -> Check:
        """The check called ``name``."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def save(self, path: str | os.PathLike | BinaryIO, *, quality: int = 95, format: str | None = None) -> Path | None:
        """Write the photo to ``path`` (a path or a binary file object) with no metadata, ready to print or upload.

        JPEG files carry the spec's resolution in their JFIF header (``dpi``: a
        print shop prints them at the right size; it identifies no one). Where the
        spec limits the file size (``max_bytes``, e.g. 240 kB for the US visa and
        DV photos), the highest JPEG quality up to ``quality`` that fits is used.
        A path is written atomically, in the format of its extension unless
        ``format`` is given; a file object (``io.BytesIO``, an upload stream, a
        file opened ``"wb"``) gets JPEG unless ``format`` is given. A spec that
        requires JPEG refuses other formats.

        Returns
        -------
        pathlib.Path or None
            The path written; None for a file object.

        Raises
        ------
        ImageWriteError
            The format is not the one the spec requires, no quality fits the size
            limit, or the file object is not binary.
        """
        return save_photo(self.image, path, self.spec, quality=quality, format=format)

    def to_bytes(self, *, quality: int = 95, format: str = "JPEG") -> bytes:
        """The file :meth:`save` writes, as bytes (JPEG by default): the dpi header and size limit kept.

        Examples
        --------
        >>> import io, numpy as np
        >>> from minface.idphoto import SPECS, head_geometry
        >>> g = head_geometry([[280, 260], [320, 260], [300, 280], [284, 300], [316, 300]])
        >>> photo = IdPhoto(np.full((600, 600, 3), 200, np.uint8), SPECS["us-visa"], 0.6, 0.6, 0.0, 300.0, 1.0,
        ...                 (), g, g, (0.0, 0.0, 1.0, 1.0), np.zeros((4, 2)))
        >>> data = photo.to_bytes()
        >>> data[:2], data[13:18], len(data) <= SPECS["us-visa"].max_bytes  # JPEG, 300 dpi, within 240 kB
        (b'\\xff\\xd8', b'\\x01\\x01,\\x01,', True)
        >>> buf = io.BytesIO(); photo.save(buf); buf.getvalue() == data
        True
        """
        return photo_bytes(self.image, self.spec, quality=quality, format=format)

    def sheet(self, paper: str = "4x6in") -> np.ndarray:
        """A print sheet of copies of the photo with cut marks, at 300 dpi (see :func:`~minface.idphoto.sheet_pixels`)."""
        return sheet_pixels(self.image, self.spec, paper)

    def save_sheet(
        self, path: str | os.PathLike | BinaryIO, paper: str = "4x6in", *, quality: int = 95, format: str | None = None
    ) -> Path | None:
        """Write :meth:`sheet` to ``path`` (JPEG with 300 dpi in its JFIF header, or PNG), with no metadata.

        ``path`` may be a binary file object, as for :meth:`save`.
        """
        return save_sheet(self.sheet(paper), path, quality=quality, format=format)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready compliance report (no pixels)."""
        return {
            "spec": self.spec.name,
            "width": int(self.image.shape[1]),
            "height": int(self.image.shape[0]),
            "ok": self.ok,
            "failed": self.failed,
            "head_height_ratio": round(self.head_height_ratio, 4),
            "eye_line_ratio": round(self.eye_line_ratio, 4),
            "roll": round(self.roll, 2),
            "face_size": round(self.face_size, 1),
            "scale": round(self.scale, 4),
            "redacted": self.redacted,
            "background": None if self.background is None else list(self.background),
            "extended": round(self.extended, 4),
            "crown_from": self.crown_from,
            "source_box": [round(float(v), 2) for v in self.source_box],
            "window": [[round(float(x), 2), round(float(y), 2)] for x, y in self.window],
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_text(self) -> str:
        """A short human-readable report."""
        bg = "original background" if self.background is None else f"background {_colour_name(self.background)}"
        lines = [
            (
                f"{self.spec.name}: {self.image.shape[1]}x{self.image.shape[0]} px, "
                f"{'compliant' if self.ok else 'NOT compliant (' + ', '.join(self.failed) + ')'}; "
                f"roll {self.roll:+.1f} deg corrected, head {self.face_size:.0f} source px (scale {self.scale:.2f}), "
                f"{bg}{f', {self.extended:.0%} past the image edge' if self.extended > 0.0005 else ''}, "
                f"{self.redacted} other face(s) painted"
            )
        ]
        lines += [f"  {c}" for c in self.checks]
        return "\n".join(lines)


def _colour_name(c: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c)


def _check_colour(value: Any, name: str) -> tuple[int, int, int]:
    """``(r, g, b)`` from any colour minface takes (:func:`minface.colors.parse_color`: ``"white"``, ``"#eeeeee"``, ...)."""
    from ..colors import parse_color

    try:
        return parse_color(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


# ---------------------------------------------------------------------------
# Frames: source pixels p, face axes q = rot @ (p - eyes), output o = s * (q - q0)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """An upright frame of the face: pixel ``o = k * (rot @ (p - eyes) - origin)`` for source pixel ``p``."""

    eyes: np.ndarray
    rot: np.ndarray  # rows: the face's horizontal and downward axes
    k: float  # frame pixels per source pixel
    origin: np.ndarray  # top-left corner, face-axis coordinates (source pixel units)
    size: tuple[int, int]  # (width, height) in frame pixels

    @property
    def lin(self) -> np.ndarray:
        return self.k * self.rot

    @property
    def off(self) -> np.ndarray:
        return -self.lin @ self.eyes - self.k * self.origin

    def to_frame(self, p: np.ndarray) -> np.ndarray:
        return (np.asarray(p, np.float64) @ self.lin.T) + self.off

    def to_source(self, o: np.ndarray) -> np.ndarray:
        return (np.asarray(o, np.float64) - self.off) @ np.linalg.inv(self.lin).T

    def corners(self) -> np.ndarray:
        w, h = self.size
        return self.to_source(np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64))

    def valid(self, w_img: int, h_img: int) -> np.ndarray:
        """Frame pixels whose centre falls inside the source image."""
        w, h = self.size
        inv = np.linalg.inv(self.lin)
        t = -inv @ self.off
        xs = (np.arange(w, dtype=np.float64) + 0.5)[None, :]
        ys = (np.arange(h, dtype=np.float64) + 0.5)[:, None]
        px = inv[0, 0] * xs + inv[0, 1] * ys + t[0]
        py = inv[1, 0] * xs + inv[1, 1] * ys + t[1]
        return (px >= 0) & (px <= w_img) & (py >= 0) & (py <= h_img)

    def warp(self, pixels: np.ndarray, border: int = cv2.BORDER_REPLICATE, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
        """``pixels`` (a window of the source whose top-left is ``origin``) seen in this frame.

        Shrinking goes through a rotation at source resolution and an area resize,
        so no detail aliases; enlarging is one bicubic warp.
        """
        w, h = self.size
        lin, off = self.lin, self.off + self.lin @ np.asarray(origin, np.float64)
        if self.k >= 1:
            return cv2.warpAffine(pixels, _cv_matrix(lin, off), (w, h), flags=cv2.INTER_CUBIC, borderMode=border)
        wc, hc = max(1, math.ceil(w / self.k)), max(1, math.ceil(h / self.k))
        upright = cv2.warpAffine(pixels, _cv_matrix(lin / self.k, off / self.k), (wc, hc), flags=cv2.INTER_LINEAR, borderMode=border)
        full = upright[: max(1, round(h / self.k)), : max(1, round(w / self.k))]
        return cv2.resize(full, (w, h), interpolation=cv2.INTER_AREA)


def _map(a: _Frame, b: _Frame) -> tuple[np.ndarray, np.ndarray]:
    """The map from frame ``a``'s pixels to frame ``b``'s (same face axes)."""
    r = b.k / a.k
    return np.eye(2) * r, b.k * (a.origin - b.origin)


# ---------------------------------------------------------------------------
# crop_id
# ---------------------------------------------------------------------------


def crop_id(
    image: ImageSource,
    spec: str | Spec,
    *,
    face: FaceChoice = "largest",
    background: tuple[int, int, int] | str | None = None,
    keep_background: bool = False,
    detector: Detector | None = None,
    faces: Faces | None = None,
    segmenter: Segmenter | None = None,
    max_upscale: float = MAX_UPSCALE,
    refine: bool = True,
) -> IdPhoto:
    """Crop ``image`` to the ID photo ``spec`` asks for: one upright head on a plain background.

    The face is turned upright by its roll (one rotation of the source pixels),
    cropped so that the head height and eye line fall within the spec's ranges,
    as near their middle as the image allows, with the face centred, and brought
    to the spec's exact pixel size. The background is replaced by the plain colour the
    spec asks for: the person is found by a segmentation network on an upright
    head-and-shoulders crop, its edges refined on the photo, the old background's
    colour removed from the edge pixels (no halo), and other people dropped. The
    crop may therefore reach past the image edge at the top and sides: that part
    is plain background. It is refused only where the person would continue
    there, i.e. where the chin, the top of the head or the shoulders would have
    to be invented (of the placements the spec allows, the one nearest the middle
    that invents nothing is used). Every other face reaching into the crop is
    painted over too, except a weak detection on the subject's own body that a
    second look does not confirm (:mod:`minface.idphoto.bystanders`). The photo is then measured (:mod:`minface.idphoto.checks`).

    Parameters
    ----------
    image : path, bytes, file object, PIL.Image or RGB array
        Anything :func:`minface.load_image` reads (turned upright by its EXIF orientation).
    spec : str or Spec
        A name in :data:`~minface.idphoto.SPECS` (``"us-passport"``, ``"icao"``, ...) or a custom :class:`Spec`.
    face : "largest" or int
        Which face: the largest (refused when the second largest is at least
        :data:`~minface.idphoto.AMBIGUOUS_RATIO` of its size) or an index into the detections.
    background : (r, g, b) or str, optional
        The background colour (default: the spec's, ``spec.background``): ``(r, g, b)``,
        a name (``"white"``, ``"lightgrey"``), ``"#RRGGBB"`` or ``"R,G,B"``.
    keep_background : bool
        Keep the original background (then the crop must lie inside the image).
    detector : Detector, optional
        Detector to use (default: the shared ``"balanced"`` one).
    faces : Faces, optional
        Detections of ``image`` made already (with landmarks); skips detection.
    segmenter : Segmenter, optional
        Person segmentation (default: a shared one on the detector's backend).
    max_upscale : float
        Largest enlargement of the source pixels (default :data:`MAX_UPSCALE`).
    refine : bool
        Measure the landmarks again on upright crops of the face and their mirror
        images (as :func:`~minface.idphoto.measure_head` does), which makes the roll and the head
        size about four times more accurate, for about 0.2 s (default).

    Returns
    -------
    IdPhoto
        The photo and its compliance report (``ok``, ``checks``); :meth:`IdPhoto.save`
        writes it with no metadata.

    Raises
    ------
    NoFaceError, AmbiguousFaceError, FaceTooSmallError, FaceCutOffError, BodyCutOffError, CropOutsideImageError
        Subclasses of :class:`~minface.errors.IdPhotoError`: the photo could not be made.
    ValueError
        An unknown spec or a bad option.

    Examples
    --------
    >>> import numpy as np, minface
    >>> try:
    ...     minface.crop_id(np.full((300, 240, 3), 200, np.uint8), "us-passport")
    ... except minface.IdPhotoError as exc:
    ...     print(exc.reason, "-", exc)
    no_face - no face found in the 240x300 image
    """
    sp = get_spec(spec)
    if not max_upscale >= 1.0:
        raise ValueError(f"max_upscale must be at least 1, got {max_upscale!r}")
    colour = None if keep_background else _check_colour(sp.background if background is None else background, "background")
    pixels = load_image(image)
    h_img, w_img = pixels.shape[:2]
    det = detector
    quick = False  # only the large faces found so far: the small ones are searched near the crop
    if faces is None:
        det = det or _shared_detector()
        faces, quick = find_subject(det, pixels, face)
    elif faces.image_size is not None and faces.image_size != (w_img, h_img):
        raise ValueError(f"faces were found in a {faces.image_size} image, not in this {(w_img, h_img)} one")
    index = _choose(faces, face, (w_img, h_img))
    if faces.landmarks is None:
        raise IdPhotoError("the detections carry no landmarks; an ID photo needs them", reason="no_landmarks")
    try:
        landmarks = faces.landmarks[index].astype(np.float64)
        if refine:
            landmarks = _refine(pixels, landmarks, det or _shared_detector())
        geo = head_geometry(landmarks)
    except ValueError as exc:
        raise IdPhotoError(f"the face's landmarks are unusable ({exc})", reason="no_landmarks") from exc
    _check_head_inside(geo, faces.xyxy[index], w_img, h_img)
    if segmenter is None:
        segmenter = shared_segmenter(getattr(det, "backend", None) or "auto")

    # 1. place the head with the crown model, segment a head-and-shoulders square around the crop
    rot = np.stack(geo.axes)
    eyes = np.array(geo.eyes)
    out = _place(sp, geo, max_upscale, eyes, rot)
    seg = _seg_frame(out, geo)
    prob = extend_from_valid(segmenter(seg.warp(pixels)), seg.valid(w_img, h_img))
    # 2. the top of the hair, measured on the mask (the model's crown where the mask gives none)
    crown_from = "model"
    hair = _hair_top(prob, seg, geo)
    if hair is not None:
        geo = dataclasses.replace(geo, crown=tuple(round(float(v), 4) for v in eyes - hair * rot[1]))  # type: ignore[arg-type]
        crown_from = "mask"
    # 3. of the placements the spec allows, the one nearest the middle of its ranges that needs
    #    nothing outside the image (the original background kept) or no part of the person invented
    if keep_background:
        fits = lambda f: _outside(f.corners(), w_img, h_img) <= 0.5  # noqa: E731
    else:
        fits = _invention_test(prob, seg, geo, w_img, h_img)
    out = _place(sp, geo, max_upscale, eyes, rot, fits)
    if not _covers(seg, out):
        seg = _seg_frame(out, geo)
        prob = extend_from_valid(segmenter(seg.warp(pixels)), seg.valid(w_img, h_img))

    # 4. the photo: source pixels under the crop (other faces painted), turned and scaled once
    window = out.corners()
    outside = _outside(window, w_img, h_img)
    if keep_background and outside > 0.5:
        raise CropOutsideImageError(
            f"the {sp.name} crop reaches {outside:.0f} px past the edge of the {w_img}x{h_img} image; "
            "with the original background kept nothing can fill it (drop --keep-background to extend "
            "the crop with a plain background)"
        )
    x0 = max(0, math.floor(window[:, 0].min()) - 2)
    y0 = max(0, math.floor(window[:, 1].min()) - 2)
    x1 = min(w_img, math.ceil(window[:, 0].max()) + 2)
    y1 = min(h_img, math.ceil(window[:, 1].max()) + 2)
    if x1 <= x0 or y1 <= y0:
        x0, y0, x1, y1 = 0, 0, w_img, h_img
    if quick:
        faces = window_faces(det, pixels, faces, index, (x0, y0, x1, y1), out.k)
    others = _bystanders(pixels, faces, index, prob, seg, geo, det or _shared_detector())
    src, n_redacted = redact_others(pixels[y0:y1, x0:x1], faces, index, others, (x0, y0))
    photo = np.ascontiguousarray(out.warp(src, origin=(x0, y0)))
    valid = out.valid(w_img, h_img)

    # 5. the person mask of the photo: the network's, extended past the image edge, the subject's only
    lin, off = _map(seg, out)
    alpha = cv2.warpAffine(prob, _cv_matrix(lin, off), out.size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = extend_from_valid(alpha, valid)
    def to_out(p: tuple[float, float]) -> tuple[float, float]:
        o = out.to_frame(np.asarray(p))
        return (round(float(o[0]), 3), round(float(o[1]), 3))

    out_geo = HeadGeometry(
        roll=0.0,
        eyes=to_out(geo.eyes),
        mouth=to_out(geo.mouth),
        eye_mouth=round(geo.eye_mouth * out.k, 4),
        crown=to_out(geo.crown),
        skull=to_out(geo.skull),
        chin=to_out(geo.chin),
        centre=to_out(geo.centre),
    )
    alpha = subject_only(alpha, out_geo.centre)
    _check_invented(alpha, valid, out, out_geo, sp, (w_img, h_img))
    alpha = refine_alpha(alpha, photo, out.k / seg.k)
    if colour is not None:
        photo = replace_background(photo, alpha, colour)

    checks = evaluate(sp, photo, alpha, out_geo, landmarks, out.k, max_upscale, det or _shared_detector())
    return IdPhoto(
        image=photo,
        spec=sp,
        head_height_ratio=out_geo.height(sp.crown) / sp.height_px,
        eye_line_ratio=(sp.height_px - out_geo.eyes[1]) / sp.height_px,
        roll=geo.roll,
        face_size=geo.height(sp.crown),
        scale=out.k,
        checks=checks,
        geometry=out_geo,
        source_geometry=geo,
        source_box=tuple(float(v) for v in faces.xyxy[index]),  # type: ignore[arg-type]
        window=window,
        redacted=n_redacted,
        background=colour,
        extended=float(1.0 - valid.mean()),
        crown_from=crown_from,
        alpha=alpha,
    )


def _outside(corners: np.ndarray, w: int, h: int) -> float:
    """How far (source pixels) the crop's corners reach past the image edge."""
    return float(max(0.0, -corners[:, 0].min(), -corners[:, 1].min(), corners[:, 0].max() - w, corners[:, 1].max() - h))


def _frame(sp: Spec, geo: HeadGeometry, head_px: float, eye_y: float, eyes: np.ndarray, rot: np.ndarray) -> _Frame:
    """The output frame with the head ``head_px`` high, the eye line ``eye_y`` above the bottom, the face centred."""
    W, H = sp.width_px, sp.height_px
    s = head_px / geo.height(sp.crown)
    cx_q = float(np.dot(np.array(geo.centre) - eyes, rot[0]))
    origin = np.array([cx_q - W / 2 / s, -(H - eye_y) / s])
    return _Frame(eyes, rot, s, origin, (W, H))


def _place(
    sp: Spec,
    geo: HeadGeometry,
    max_upscale: float,
    eyes: np.ndarray,
    rot: np.ndarray,
    fits: Callable[[_Frame], bool] | None = None,
) -> _Frame:
    """The output frame: the first placement :func:`_placements` offers that ``fits`` (else the first)."""
    frames = [_frame(sp, geo, h, e, eyes, rot) for h, e in _placements(sp, geo, geo.height(sp.crown) * max_upscale)]
    if fits is not None:
        for f in frames:
            if fits(f):
                return f
    return frames[0]


def _invention_test(prob: np.ndarray, seg: _Frame, geo: HeadGeometry, w: int, h: int) -> Callable[[_Frame], bool]:
    """Whether a frame keeps within :data:`MAX_INVENTED` of the image, judged on the segmentation square.

    The same test as :func:`_check_invented`, done once on the network's square
    for every placement tried (the final photo is checked again at its own resolution).
    """
    valid = seg.valid(w, h)
    centre = seg.to_frame(np.array(geo.centre))
    person = subject_only(prob, (float(centre[0]), float(centre[1]))) > 0.5
    depth = cv2.distanceTransform((~valid).astype(np.uint8), cv2.DIST_L2, 3)
    depth = np.where(person & ~valid, depth, 0.0)

    def fits(f: _Frame) -> bool:
        a = (f.origin - seg.origin) * seg.k
        b = (f.origin + np.array(f.size) / f.k - seg.origin) * seg.k
        c0, r0 = (max(0, int(math.floor(v))) for v in a)
        c1, r1 = (min(INPUT_SIZE, int(math.ceil(v))) for v in b)
        worst = float(depth[r0:r1, c0:c1].max()) if r1 > r0 and c1 > c0 else 0.0
        return worst * f.k / seg.k <= MAX_INVENTED * f.size[1]

    return fits


def _seg_frame(out: _Frame, geo: HeadGeometry) -> _Frame:
    """A square around the crop, head and shoulders at least, for the segmentation network."""
    w, h = out.size
    size_q = np.array([w, h]) / out.k
    centre = out.origin + size_q / 2
    side = max(1.15 * float(size_q.max()), 7.0 * geo.eye_mouth)
    return _Frame(out.eyes, out.rot, INPUT_SIZE / side, centre - side / 2, (INPUT_SIZE, INPUT_SIZE))


def _covers(seg: _Frame, out: _Frame) -> bool:
    w, h = out.size
    lo, hi = seg.origin, seg.origin + np.array(seg.size) / seg.k
    a, b = out.origin, out.origin + np.array([w, h]) / out.k
    return bool((a >= lo).all() and (b <= hi).all())


def _hair_top(prob: np.ndarray, seg: _Frame, geo: HeadGeometry) -> float | None:
    """Top of the hair above the eye centre (source pixels along the face axis), from the mask; None if unusable."""
    d = geo.eye_mouth
    centre_q = float(np.dot(np.array(geo.centre) - np.array(geo.eyes), seg.rot[0]))
    cx = (centre_q - seg.origin[0]) * seg.k
    solid = subject_only(prob, ((centre_q - seg.origin[0]) * seg.k, (0.5 * d - seg.origin[1]) * seg.k))
    row = qc.top_of_head(solid, cx, 0.8 * d * seg.k)
    if row is None or row < 1:  # none, or up to the square's edge: the top is not seen
        return None
    above = -(row / seg.k + seg.origin[1]) / d  # in eye-to-mouth distances
    if not _HAIR_RANGE[0] <= above <= _HAIR_RANGE[1]:
        return None
    return above * d


def _placements(sp: Spec, geo: HeadGeometry, max_head: float) -> list[tuple[float, float]]:
    """Head heights (output px, the spec's crown) and eye lines (px above the bottom) the spec allows.

    Every pair keeps the head height in the spec's range (no more than
    ``max_head``), the eye line in its range (ISO/IEC 19794-5's 50-70% where the
    spec sets none, if the margins allow), the top of the hair and the chin
    within the spec's margins; the nearest to the middle of both ranges first.
    """
    H = sp.height_px
    head_src = geo.height(sp.crown)
    h_lo, h_hi = (r * H for r in sp.head_ratio)
    if max_head < h_lo:
        raise FaceTooSmallError(
            f"the head measures about {head_src:.0f} px in the source; {sp.name} needs at least "
            f"{h_lo:.0f} px in the photo: it would be enlarged {h_lo / head_src:.2f} times "
            f"(at most {max_head / head_src:.2f}); use a photo with a larger face"
        )
    eye_frac = geo.eye_to_chin / head_src  # eye line above the chin, fraction of the head
    hair = math.hypot(geo.crown[0] - geo.eyes[0], geo.crown[1] - geo.eyes[1])
    hair_frac = hair / head_src  # top of the hair above the eye line
    top_min = max(MIN_TOP_MARGIN * H, sp.top_margin_mm[0] / sp.height_mm * H if sp.top_margin_mm else 0.0)
    top_max = None
    if sp.top_margin_mm is not None and sp.top_margin_mm[1] is not None:
        top_max = sp.top_margin_mm[1] / sp.height_mm * H
    bottom_min = 0.0 if sp.bottom_margin_mm is None else sp.bottom_margin_mm / sp.height_mm * H
    aim = sp.eye_ratio or DEFAULT_EYE_LINE
    mid, span = (h_lo + h_hi) / 2, max(h_hi - h_lo, 1e-6)
    found = []
    for head in np.linspace(h_lo, min(h_hi, max_head), 21):
        below, above = eye_frac * head, hair_frac * head  # chin below and hair top above the eye line
        lo, hi = bottom_min + below, H - top_min - above
        if top_max is not None:
            lo = max(lo, H - top_max - above)
        a_lo, a_hi = max(lo, aim[0] * H), min(hi, aim[1] * H)
        if a_lo > a_hi and sp.eye_ratio is None:
            a_lo, a_hi = lo, hi  # no eye line set: the margins decide
        if a_lo > a_hi:
            continue
        centre = (a_lo + a_hi) / 2
        for eye in np.linspace(a_lo, a_hi, 7):
            key = abs(head - mid) / span + 0.5 * abs(eye - centre) / max(a_hi - a_lo, 1e-6) * (a_hi > a_lo)
            found.append((key, float(head), float(eye)))
    if not found:
        raise IdPhotoError(
            f"no head height in {sp.name}'s range puts the eye line and margins where the spec wants them "
            "for this face's proportions",
            reason="infeasible",
        )
    found.sort()
    return [(h, e) for _, h, e in found]


def _check_head_inside(geo: HeadGeometry, box: np.ndarray, w: int, h: int) -> None:
    """Refuse heads the image edge cuts: their missing part cannot be invented."""
    slack = _CROWN_SLACK * geo.head_height
    x1, y1, x2, y2 = (float(v) for v in box)
    problems = []
    if x1 < -0.5 or y1 < -0.5 or x2 > w + 0.5 or y2 > h + 0.5:
        problems.append("the face box")
    cx, cy = geo.skull
    if not (-slack <= cx <= w + slack and -slack <= cy <= h + slack):
        problems.append("the top of the head")
    cx, cy = geo.chin
    if not (-0.5 <= cx <= w + 0.5 and -0.5 <= cy <= h + 0.5):
        problems.append("the chin")
    if problems:
        raise FaceCutOffError(f"{' and '.join(problems)} lie(s) outside the {w}x{h} image: the head is cut off")


def _check_invented(
    alpha: np.ndarray, valid: np.ndarray, out: _Frame, geo: HeadGeometry, sp: Spec, size: tuple[int, int]
) -> None:
    """Refuse a photo whose person would continue past the image edge by more than :data:`MAX_INVENTED`."""
    invented = (alpha > 0.5) & ~valid
    if not invented.any():
        return
    depth = cv2.distanceTransform((~valid).astype(np.uint8), cv2.DIST_L2, 3)
    depth = np.where(invented, depth, 0.0)
    worst = float(depth.max())
    limit = MAX_INVENTED * sp.height_px
    if worst <= limit:
        return
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    p = out.to_source(np.array([x + 0.5, y + 0.5]))
    w, h = size
    edges = [n for n, o in (("left", p[0] < 0), ("right", p[0] > w), ("top", p[1] < 0), ("bottom", p[1] > h)) if o]
    where = " and ".join(edges) or "an"
    mm = worst / sp.height_px * sp.height_mm
    if y < geo.eyes[1]:
        raise FaceCutOffError(
            f"the top of the head is cut by the image's {where} edge: the {sp.name} photo would need "
            f"{mm:.1f} mm of hair the image does not have"
        )
    raise BodyCutOffError(
        f"the neck or shoulders are cut by the image's {where} edge: the {sp.name} photo would need {mm:.1f} mm "
        "of the person that the image does not have; use a photo that shows the shoulders"
    )


def _bystanders(
    pixels: np.ndarray, faces: Faces, subject: int, prob: np.ndarray, seg: _Frame, geo: HeadGeometry, detector: Detector
) -> list[int]:
    """The other faces to paint: all of them, except those on the subject's body that a second look does not confirm.

    See :mod:`minface.idphoto.bystanders`.
    """
    others = [i for i in range(len(faces)) if i != subject]
    if not others:
        return []
    centre = seg.to_frame(np.array(geo.centre))
    body = subject_only(prob, (float(centre[0]), float(centre[1]))) > 0.5

    def mask_at(p: np.ndarray) -> bool:
        x, y = seg.to_frame(p)
        return 0 <= x < INPUT_SIZE and 0 <= y < INPUT_SIZE and bool(body[int(y), int(x)])

    zone = {
        "eyes": np.array(geo.eyes),
        "rot": np.stack(geo.axes),
        "chin": np.array(geo.chin),
        "centre": np.array(geo.centre),
        "head": geo.head_height,
    }
    keep = []
    for i in others:
        box = faces.xyxy[i]
        point = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], np.float64)
        if not in_body_zone(point, mask_at=mask_at, **zone) or confirmed(pixels, box, detector):
            keep.append(i)
    return keep
