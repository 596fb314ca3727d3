"""`Faces`: the detections of one image, as parallel NumPy arrays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Faces"]


def _frozen(a: npt.ArrayLike, dtype: type, shape_tail: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.array(a, dtype=dtype, copy=True)
    if arr.size == 0:
        arr = arr.reshape((0, *shape_tail))
    if arr.ndim != 1 + len(shape_tail) or arr.shape[1:] != shape_tail:
        want = "(n, " + ", ".join(map(str, shape_tail)) + ")" if shape_tail else "(n,)"
        raise ValueError(f"Faces.{name} must have shape {want}, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"Faces.{name} contains NaN or infinity")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Faces:
    """Faces found in one image: an immutable record of parallel arrays.

    Coordinates are pixels of the upright image (EXIF orientation applied), with
    the origin at the top-left corner of the top-left pixel; a box ``[x1, y1, x2,
    y2]`` covers ``x1 <= x < x2``. Empty is a valid value.

    Parameters
    ----------
    xyxy : array_like, shape (n, 4)
        Boxes as ``x1, y1, x2, y2``; stored as float32 with ``x2 >= x1, y2 >= y1``.
    scores : array_like, shape (n,)
        Detector confidence in ``[0, 1]``.
    landmarks : array_like, shape (n, 5, 2), optional
        ``(x, y)`` of right eye, left eye, nose, right and left mouth corner (the
        subject's right and left, i.e. image left and right for a frontal face).
    image_size : (width, height), optional
        Size of the image the boxes refer to.
    detector : str, optional
        What produced the record, e.g. ``"centerface/onnxruntime:CPUExecutionProvider"``.

    Examples
    --------
    >>> faces = Faces([[10, 20, 50, 70], [0, 0, 8, 8]], [0.9, 0.4], image_size=(100, 80))
    >>> len(faces)
    2
    >>> faces[faces.scores > 0.5].xyxy.tolist()
    [[10.0, 20.0, 50.0, 70.0]]
    >>> faces.pad(0.5).clip().xyxy[0].tolist()
    [0.0, 0.0, 70.0, 80.0]
    >>> len(Faces.empty((100, 80)))
    0
    """

    xyxy: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray | None = None
    image_size: tuple[int, int] | None = None
    detector: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        xyxy = _frozen(self.xyxy, np.float32, (4,), "xyxy")
        scores = _frozen(self.scores, np.float32, (), "scores")
        if len(scores) != len(xyxy):
            raise ValueError(f"Faces has {len(xyxy)} boxes but {len(scores)} scores")
        if (xyxy[:, 2] < xyxy[:, 0]).any() or (xyxy[:, 3] < xyxy[:, 1]).any():
            raise ValueError("Faces.xyxy needs x2 >= x1 and y2 >= y1 for every box")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "scores", scores)
        if self.landmarks is not None:
            lms = _frozen(self.landmarks, np.float32, (5, 2), "landmarks")
            if len(lms) != len(xyxy):
                raise ValueError(f"Faces has {len(xyxy)} boxes but {len(lms)} landmark sets")
            object.__setattr__(self, "landmarks", lms)
        if self.image_size is not None:
            w, h = (int(v) for v in self.image_size)
            if w <= 0 or h <= 0:
                raise ValueError(f"Faces.image_size must be positive (width, height), got {self.image_size}")
            object.__setattr__(self, "image_size", (w, h))

    # -- construction ---------------------------------------------------------
    @classmethod
    def empty(cls, image_size: tuple[int, int] | None = None, *, landmarks: bool = True) -> Faces:
        """No faces (with a ``(0, 5, 2)`` landmarks array unless ``landmarks=False``)."""
        lms = np.zeros((0, 5, 2), np.float32) if landmarks else None
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), lms, image_size)

    @classmethod
    def concat(cls, parts: Sequence[Faces]) -> Faces:
        """Join records of the same image, in order."""
        if not parts:
            return cls.empty()
        sizes = {p.image_size for p in parts}
        if len(sizes) > 1:
            raise ValueError(f"cannot concatenate Faces of different image sizes {sizes}")
        has_lms = [p.landmarks is not None for p in parts]
        lms = np.concatenate([p.landmarks for p in parts]) if all(has_lms) else None  # type: ignore[misc]
        return cls(
            np.concatenate([p.xyxy for p in parts]),
            np.concatenate([p.scores for p in parts]),
            lms,
            parts[0].image_size,
            parts[0].detector,
        )

    def _replace(self, **changes: Any) -> Faces:
        values = {
            "xyxy": self.xyxy,
            "scores": self.scores,
            "landmarks": self.landmarks,
            "image_size": self.image_size,
            "detector": self.detector,
        }
        values.update(changes)
        return Faces(**values)

    # -- container protocol -----------------------------------------------------
    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: int | slice | npt.ArrayLike) -> Faces:
        """A new `Faces` holding the selected faces (an int keeps one face)."""
        if isinstance(index, (int, np.integer)):
            n = len(self)
            if not -n <= index < n:
                raise IndexError(f"face index {index} out of range for {n} faces")
            index = slice(int(index), int(index) + 1 or None)
        elif not isinstance(index, slice):
            index = np.asarray(index)
            if index.dtype == bool and index.shape != (len(self),):
                raise IndexError(f"boolean index of shape {index.shape} for {len(self)} faces")
        lms = None if self.landmarks is None else self.landmarks[index]
        return self._replace(xyxy=self.xyxy[index], scores=self.scores[index], landmarks=lms)

    def __repr__(self) -> str:
        extra = f", image_size={self.image_size}" if self.image_size else ""
        extra += f", detector={self.detector!r}" if self.detector else ""
        return f"Faces(n={len(self)}{extra})"

    # -- derived values ---------------------------------------------------------
    @property
    def widths(self) -> np.ndarray:
        """Box widths, shape (n,)."""
        return self.xyxy[:, 2] - self.xyxy[:, 0]

    @property
    def heights(self) -> np.ndarray:
        """Box heights, shape (n,)."""
        return self.xyxy[:, 3] - self.xyxy[:, 1]

    @property
    def sizes(self) -> np.ndarray:
        """``max(width, height)`` per box, the size used by ``min_face``."""
        return np.maximum(self.widths, self.heights)

    @property
    def centers(self) -> np.ndarray:
        """Box centres ``(x, y)``, shape (n, 2)."""
        return (self.xyxy[:, :2] + self.xyxy[:, 2:]) / 2

    # -- geometry helpers (all return new records) ------------------------------
    def scale(self, sx: float, sy: float | None = None) -> Faces:
        """Multiply coordinates by ``sx`` (and ``sy``, default ``sx``), e.g. after a resize.

        The image size is scaled and rounded too.
        """
        sy = sx if sy is None else sy
        f = np.array([sx, sy, sx, sy], np.float32)
        lms = None if self.landmarks is None else self.landmarks * f[:2]
        size = None
        if self.image_size is not None:
            size = (max(1, round(self.image_size[0] * sx)), max(1, round(self.image_size[1] * sy)))
        return self._replace(xyxy=self.xyxy * f, landmarks=lms, image_size=size)

    def pad(self, ratio: float | tuple[float, float] = 0.0, pixels: float = 0.0) -> Faces:
        """Grow each box by ``ratio`` of its own width/height on every side, plus ``pixels``.

        ``ratio`` may be ``(rx, ry)``. Negative values shrink (never below zero size).
        Boxes may leave the image; follow with :meth:`clip` if needed.
        """
        rx, ry = (ratio, ratio) if np.isscalar(ratio) else ratio  # type: ignore[misc]
        dx = self.widths * rx + pixels
        dy = self.heights * ry + pixels
        b = self.xyxy.copy()
        cx, cy = self.centers.T
        b[:, 0] = np.minimum(b[:, 0] - dx, cx)
        b[:, 2] = np.maximum(b[:, 2] + dx, cx)
        b[:, 1] = np.minimum(b[:, 1] - dy, cy)
        b[:, 3] = np.maximum(b[:, 3] + dy, cy)
        return self._replace(xyxy=b)

    def clip(self, image_size: tuple[int, int] | None = None) -> Faces:
        """Clip boxes (not landmarks) to ``[0, width] x [0, height]`` of ``image_size``."""
        size = image_size or self.image_size
        if size is None:
            raise ValueError("clip() needs an image_size (none stored in this Faces)")
        w, h = size
        b = self.xyxy.copy()
        b[:, 0::2] = b[:, 0::2].clip(0, w)
        b[:, 1::2] = b[:, 1::2].clip(0, h)
        return self._replace(xyxy=b, image_size=(int(w), int(h)))

    def to_list(self) -> list[dict[str, Any]]:
        """Plain Python records (JSON-ready), one per face.

        >>> Faces([[1, 2, 3, 4]], [0.5], image_size=(10, 10)).to_list()
        [{'box': [1.0, 2.0, 3.0, 4.0], 'score': 0.5}]
        """
        out = []
        for i in range(len(self)):
            rec: dict[str, Any] = {
                "box": [round(float(v), 2) for v in self.xyxy[i]],
                "score": round(float(self.scores[i]), 4),
            }
            if self.landmarks is not None:
                rec["landmarks"] = [[round(float(x), 2), round(float(y), 2)] for x, y in self.landmarks[i]]
            out.append(rec)
        return out
