"""crop_id: one upright head at the spec's size, on a plain background, nobody else, no metadata."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ..errors import CropOutsideImageError, IdPhotoError
from ..faces import Faces
from ..images import ImageSource, load_image
from .background import INPUT_SIZE, Segmenter, extend_from_valid, refine_alpha, replace_background, shared_segmenter, subject_only
from .bystanders import RECHECK_SCORE, confirmed, in_body_zone, redact_others
from .checks import evaluate
from .geometry import FaceChoice, HeadGeometry, _choose, _cv_matrix, _refine, _shared_detector, head_geometry
from .photo import IdPhoto
from .placement import (
    MAX_UPSCALE,
    _check_head_inside,
    _check_invented,
    _covers,
    _Frame,
    _hair_top,
    _invention_test,
    _map,
    _outside,
    _place,
    _seg_frame,
)
from .search import find_subject, still_chosen, window_faces
from .specs import Spec, get_spec

if TYPE_CHECKING:
    from ..detect import Detector

__all__ = ["crop_id"]


def _check_colour(value: Any, name: str) -> tuple[int, int, int]:
    """``(r, g, b)`` from any colour minface takes (:func:`minface.colors.parse_color`: ``"white"``, ``"#eeeeee"``, ...)."""
    from ..colors import parse_color

    try:
        return parse_color(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


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
    second look does not confirm (:mod:`minface.idphoto.bystanders`); the
    subject is found by a quick look at the photo's lowest scales, the other
    faces in and around the crop window at twice the photo's resolution
    (:mod:`minface.idphoto.search`). The photo is then measured (:mod:`minface.idphoto.checks`).

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
        if not still_chosen(faces, face, index):  # a face the quick look missed changes the choice: search it all
            return crop_id(
                pixels, sp, face=face, background=background, keep_background=keep_background, detector=det,
                faces=det(pixels), segmenter=segmenter, max_upscale=max_upscale, refine=refine,
            )
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


def _bystanders(
    pixels: np.ndarray, faces: Faces, subject: int, prob: np.ndarray, seg: _Frame, geo: HeadGeometry, detector: Detector
) -> list[int]:
    """The other faces to paint: all of them, except those on the subject's body that a second look does not confirm.

    See :mod:`minface.idphoto.bystanders`. The subject's body is trusted only
    when the subject is a sure face (a score of at least
    :data:`~minface.idphoto.bystanders.RECHECK_SCORE`): the head, chin and axes
    of a doubtful one may be anywhere, and every other face is painted then.
    """
    others = [i for i in range(len(faces)) if i != subject]
    if not others:
        return []
    if float(faces.scores[subject]) < RECHECK_SCORE:
        return others
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
