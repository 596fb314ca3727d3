"""ID photos: crop a photo down to exactly what a document needs, and nothing else.

A passport or visa application needs a head-and-shoulders photo of one person at
a given size; it does not need the rest of the frame, the room behind, the
people around, or the camera's metadata. :func:`crop_id` keeps only the
compliant photo: it finds the face, turns it upright, crops and scales it so the
head height and eye line fall in the middle of the document's ranges, replaces
the background with the plain colour the document asks for, paints over every
other face, measures the result (pose, sharpness, exposure, background, space
above the head) and returns an :class:`IdPhoto` whose :meth:`~IdPhoto.save`
writes pixels only, with the print resolution in the JPEG header.

One module per concern:

* :mod:`.specs`: the documents' figures and their sources (:data:`SPECS`);
* :mod:`.geometry`: head geometry and pose from the face's five landmarks;
* :mod:`.background`: person segmentation, edge refinement, plain background;
* :mod:`.crop`: :func:`crop_id`, the steps in order;
* :mod:`.photo`: :class:`IdPhoto`, the photo made and its report;
* :mod:`.placement`: where the photo lies in the source (frames, placements a spec allows, refusals);
* :mod:`.search`: the subject by a quick look, the other faces in and around the crop window;
* :mod:`.bystanders`: which other faces are painted over (stronger evidence on the subject's body);
* :mod:`.checks`: what decides acceptance, with thresholds and sources;
* :mod:`.output`: files ready to print or upload (dpi, size limits, print sheets).

Examples
--------
>>> from minface.idphoto import SPECS, head_geometry
>>> us = SPECS["us-passport"]
>>> us.width_px, us.height_px, us.head_mm
(600, 600, (25.4, 34.925))
>>> g = head_geometry([[40, 50], [60, 50], [50, 60], [42, 70], [58, 70]])
>>> g.roll, g.eye_mouth, g.crown, g.chin, g.head_height
(0.0, 20.0, (50.0, 10.0), (50.0, 86.0), 76.0)
"""

from __future__ import annotations

from .background import Segmenter
from .checks import Check
from .crop import crop_id
from .geometry import (
    AMBIGUOUS_RATIO,
    CHIN_BELOW_MOUTH,
    CROWN_ABOVE_EYES,
    SKULL_ABOVE_EYES,
    HeadGeometry,
    head_geometry,
    head_pose,
    measure_head,
)
from .output import paper_size, sheet_layout, sheet_pixels
from .photo import IdPhoto
from .placement import DEFAULT_EYE_LINE, MAX_INVENTED, MAX_UPSCALE, MIN_TOP_MARGIN
from .specs import SPECS, Spec, get_spec

__all__ = [
    "Spec",
    "SPECS",
    "get_spec",
    "HeadGeometry",
    "head_geometry",
    "head_pose",
    "measure_head",
    "Check",
    "IdPhoto",
    "crop_id",
    "Segmenter",
    "paper_size",
    "sheet_layout",
    "sheet_pixels",
    "CROWN_ABOVE_EYES",
    "SKULL_ABOVE_EYES",
    "CHIN_BELOW_MOUTH",
    "MAX_UPSCALE",
    "MAX_INVENTED",
    "AMBIGUOUS_RATIO",
    "DEFAULT_EYE_LINE",
    "MIN_TOP_MARGIN",
]
