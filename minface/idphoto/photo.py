"""The ID photo :func:`~minface.idphoto.crop_id` makes: the pixels, where the head is, and the compliance report."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .checks import Check
from .geometry import HeadGeometry
from .output import photo_bytes, save_photo, save_sheet, sheet_pixels
from .specs import Spec

__all__ = ["IdPhoto"]


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
