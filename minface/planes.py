"""Which planes of a decoded frame are searched for faces, and how each is painted.

An alpha channel is image content: a picture whose colour planes are plain
and whose alpha plane holds a face shows that face to anybody who looks at
the alpha (or composites the picture over a dark or a light background). So
the rule, the one :func:`minface.scrub` and :func:`minface.verify.verify_file`
both follow:

* the colour planes are always searched, as stored: also where the alpha makes
  them transparent (a face hidden under alpha 0 is still in the file);
* an alpha plane (RGBA, LA, a palette's transparency, every frame of an
  animation) is searched too, as a grey image, unless it holds one value
  everywhere (an opaque picture saved with alpha: no cost);
* a face found in either is painted in both: the colour planes get the
  method's paint, the alpha plane inside the region gets the same method as a
  grey image, and ``fill`` makes it opaque (the paint shows).

The detector also finds a face whose alpha is the negative of a face (dark
skin values, bright background): what the picture looks like composited on
white.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .faces import Faces

__all__ = ["searched_planes", "alpha_plane", "merge_planes", "paint_alpha"]

#: A face found in the alpha plane that overlaps one found in the colour planes this much is the same face.
SAME_FACE_IOU = 0.5


def alpha_plane(frame: np.ndarray) -> np.ndarray | None:
    """The alpha plane of ``frame`` (a view) when it must be searched: present and not one value everywhere.

    >>> rgba = np.zeros((4, 4, 4), np.uint8); rgba[..., 3] = 255
    >>> alpha_plane(rgba) is None
    True
    >>> rgba[0, 0, 3] = 0
    >>> alpha_plane(rgba).shape
    (4, 4)
    """
    if frame.ndim != 3 or frame.shape[2] not in (2, 4):
        return None
    alpha = frame[:, :, -1]
    first = alpha[0, 0]
    rows = max(1, (1 << 22) // max(1, alpha.shape[1]))
    for y in range(0, alpha.shape[0], rows):  # in bands: a large plane is never copied whole
        if (alpha[y : y + rows] != first).any():
            return alpha
    return None


def _as_rgb(plane: np.ndarray) -> np.ndarray:
    if plane.ndim == 2:
        return np.repeat(plane[:, :, None], 3, axis=2)
    if plane.shape[2] == 2:
        return np.repeat(plane[:, :, :1], 3, axis=2)
    if plane.shape[2] == 3:
        return plane
    return np.ascontiguousarray(plane[:, :, :3])


def searched_planes(frame: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """``("colour", rgb)`` and, when :func:`alpha_plane` says so, ``("alpha", rgb)``: what the detector is given.

    Each plane is an RGB ``uint8`` image made when it is asked for (one copy
    of the frame at a time; the frame itself when it already is RGB).

    >>> rgba = np.zeros((4, 4, 4), np.uint8); rgba[0, 0, 3] = 200
    >>> [(name, plane.shape) for name, plane in searched_planes(rgba)]
    [('colour', (4, 4, 3)), ('alpha', (4, 4, 3))]
    >>> [name for name, _ in searched_planes(np.zeros((4, 4), np.uint8))]
    ['colour']
    """
    yield "colour", _as_rgb(frame)
    alpha = alpha_plane(frame)
    if alpha is not None:
        yield "alpha", _as_rgb(alpha)


def merge_planes(found: list[tuple[str, Faces]]) -> tuple[Faces, list[str]]:
    """One record of the faces found in a frame's planes, and the plane of each.

    A face found in the alpha plane where the colour planes had one already
    (intersection over union of at least :data:`SAME_FACE_IOU`) is that face.

    >>> colour = Faces([[0, 0, 10, 10]], [0.9]); alpha = Faces([[1, 1, 10, 10], [20, 20, 30, 30]], [0.8, 0.7])
    >>> faces, planes = merge_planes([("colour", colour), ("alpha", alpha)])
    >>> faces.xyxy.tolist(), planes
    ([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]], ['colour', 'alpha'])
    """
    from .detect.centerface import iou_matrix

    if len(found) == 1:
        return found[0][1], [found[0][0]] * len(found[0][1])
    parts: list[Faces] = []
    planes: list[str] = []
    for name, faces in found:
        if parts and len(faces):
            kept = Faces.concat(parts)
            if len(kept):
                overlap = iou_matrix(faces.xyxy, kept.xyxy).max(axis=1) >= SAME_FACE_IOU
                faces = faces[~overlap]
        parts.append(faces)
        planes += [name] * len(faces)
    return Faces.concat(parts), planes


def paint_alpha(frame: np.ndarray, faces: Faces, **style: Any) -> np.ndarray:
    """Paint the regions of ``faces`` in the alpha plane of ``frame`` (in place): opaque for ``fill``,
    else the method applied to the alpha as a grey image. ``style``: the options of :func:`minface.redact.redact`.

    >>> rgba = np.zeros((20, 20, 4), np.uint8)
    >>> int(paint_alpha(rgba, Faces([[5, 5, 15, 15]], [0.9]), pad=0)[10, 10, 3])
    255
    """
    from .redact import redact

    if frame.ndim != 3 or frame.shape[2] not in (2, 4) or not len(faces):
        return frame
    style = dict(style)
    if style.get("method", "fill") == "fill":
        style["color"] = (255, 255, 255)
    alpha = np.ascontiguousarray(frame[:, :, -1])
    frame[:, :, -1] = redact(alpha, faces, copy=False, **style)
    return frame
