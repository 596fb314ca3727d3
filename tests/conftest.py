"""Shared test fixtures: real faces pasted at known places, so ground truth is exact.

The face is NASA's astronaut portrait from ``skimage.data.astronaut()`` (public
domain). ``HEAD`` is the crop that gets pasted (face with hair and neck) and
``FACE_IN_HEAD`` the face box inside it, as the detector reports it on the
original photo.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

skimage_data = pytest.importorskip("skimage.data")

HEAD_BOX = (130, 10, 320, 230)  # x1, y1, x2, y2 in astronaut()
FACE_BOX = (178.0, 56.0, 272.0, 179.0)  # the face inside astronaut()
FACE_IN_HEAD = np.array(
    [FACE_BOX[0] - HEAD_BOX[0], FACE_BOX[1] - HEAD_BOX[1], FACE_BOX[2] - HEAD_BOX[0], FACE_BOX[3] - HEAD_BOX[1]]
)


@dataclass
class Scene:
    image: np.ndarray  # RGB uint8
    faces: np.ndarray  # (n, 4) ground-truth face boxes


def astronaut() -> np.ndarray:
    return skimage_data.astronaut()


def head() -> np.ndarray:
    x1, y1, x2, y2 = HEAD_BOX
    return astronaut()[y1:y2, x1:x2]


def background(name: str, width: int, height: int) -> np.ndarray:
    if name == "flat":
        return np.full((height, width, 3), 118, np.uint8)
    if name == "noise":
        return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    src = getattr(skimage_data, name)()
    if src.ndim == 2:
        src = np.dstack([src] * 3)
    return cv2.resize(src[..., :3], (width, height), interpolation=cv2.INTER_AREA)


def paste_faces(bg: np.ndarray, placements: list[tuple[int, int, int]]) -> Scene:
    """Paste the astronaut head so that its *face* box has top-left (x, y) and height h."""
    img = bg.copy()
    hd = head()
    face_h = FACE_IN_HEAD[3] - FACE_IN_HEAD[1]
    boxes = []
    for x, y, h in placements:
        s = h / face_h
        hw, hh = max(1, round(hd.shape[1] * s)), max(1, round(hd.shape[0] * s))
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
        patch = cv2.resize(hd, (hw, hh), interpolation=interp)
        ox, oy = round(x - FACE_IN_HEAD[0] * s), round(y - FACE_IN_HEAD[1] * s)
        y0, x0 = max(0, oy), max(0, ox)
        y1, x1 = min(img.shape[0], oy + hh), min(img.shape[1], ox + hw)
        img[y0:y1, x0:x1] = patch[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
        fx = hw / hd.shape[1]
        fy = hh / hd.shape[0]
        boxes.append([ox + FACE_IN_HEAD[0] * fx, oy + FACE_IN_HEAD[1] * fy, ox + FACE_IN_HEAD[2] * fx, oy + FACE_IN_HEAD[3] * fy])
    return Scene(img, np.array(boxes, np.float32).reshape(-1, 4))


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of boxes a (m,4) x b (n,4)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def matched(truth: np.ndarray, found: np.ndarray, min_iou: float = 0.4) -> np.ndarray:
    """For each true box, whether some found box overlaps it by ``min_iou``."""
    if len(found) == 0:
        return np.zeros(len(truth), bool)
    return iou(truth, found).max(axis=1) >= min_iou


def jpeg_bytes(pixels: np.ndarray, *, orientation: int | None = None, quality: int = 95) -> bytes:
    im = Image.fromarray(pixels)
    buf = io.BytesIO()
    kwargs = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif.tobytes()
    im.save(buf, "JPEG", quality=quality, **kwargs)
    return buf.getvalue()


# stored pixels for each EXIF orientation, given the upright (displayed) image
STORE_FOR_ORIENTATION = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, 1),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, -1),
}


@pytest.fixture(scope="session")
def crowd_scene() -> Scene:
    """Faces 20-140 px high on a natural background."""
    bg = background("coffee", 1100, 760)
    return paste_faces(bg, [(40, 40, 20), (150, 60, 32), (300, 80, 48), (480, 90, 80), (700, 120, 140), (120, 420, 60), (420, 430, 24)])


@pytest.fixture(scope="session")
def big_face_scene() -> Scene:
    """One 400 px face."""
    return paste_faces(background("rocket", 820, 860), [(200, 180, 400)])


@pytest.fixture
def tmp_image(tmp_path: Path):
    def write(name: str, data: bytes) -> Path:
        p = tmp_path / name
        p.write_bytes(data)
        return p

    return write


def dead_temporary(target: str) -> str:
    """A temporary name for ``target`` as a killed minface process leaves it: its owner is gone.

    The owner is this process's id with another start time (the id given to a
    new process since): gone for certain, on every run.
    """
    from minface._temp import Owner, temporary_name, this_process

    me = this_process()
    return temporary_name(target, Owner(me.host, me.pid, me.start + 1))
