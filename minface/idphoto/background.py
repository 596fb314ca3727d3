"""The person and the background: segmentation, edge refinement, plain colour.

A background tells where a person lives and who was around; an ID photo needs a
plain one. :class:`Segmenter` runs MediaPipe's selfie segmentation (Apache-2.0,
shipped as ``minface/models/selfie_segmentation.onnx``, checksum verified on
load; built by ``benchmarks/make_selfie_onnx.py``) on a head-and-shoulders crop
turned upright, never on the whole frame: the network takes 256 x 256 pixels,
and squashing a tall frame into them would blur the outline.

The network's mask is coarse (256 pixels across the crop) and soft. It is
brought to the photo's resolution and refined there:

* a guided filter (He, Sun and Tang, "Guided Image Filtering", 2010) with the
  photo's colours as guide snaps the soft edge to the real edges of hair and
  shoulders;
* the alpha is then stretched so that what the network is unsure of goes to the
  background side (:data:`ALPHA_RANGE`): a faint ring of the old background
  is worse in an ID photo than a lost wisp of hair;
* only the subject's own silhouette is kept (the connected region under the
  face): other people behind or beside become background;
* the colour of edge pixels is decontaminated: where a pixel mixes the person
  (alpha) and the old background ``B``, the old background's share is replaced
  by the new colour ``C``: ``out = I + (1 - alpha) (C - B)``, with ``B``
  estimated from the nearby pure background. This removes the halo that a
  plain ``alpha * I + (1 - alpha) * C`` leaves around hair.

Examples
--------
>>> import numpy as np
>>> seg = Segmenter(backend="opencv")
>>> mask = seg(np.full((256, 256, 3), 128, np.uint8))  # a plain grey square: nobody
>>> mask.shape, mask.dtype, float(mask.max()) < 0.5
((256, 256), dtype('float32'), True)
"""

from __future__ import annotations

import threading
from typing import Any

import cv2
import numpy as np

from ..detect.runtimes import bundled_model, default_threads, resolve_backend
from ..errors import MissingDependencyError

__all__ = ["Segmenter", "MODEL_FILE", "MODEL_SHA256", "INPUT_SIZE", "ALPHA_RANGE", "replace_background"]

#: The bundled segmentation model and its sha256 (see ``minface/models/NOTICE``).
MODEL_FILE = "selfie_segmentation.onnx"
MODEL_SHA256 = "a40d4ebba1f3152f47f97741ec5916be8dee1072d93171e2a35cc0d2a78db300"
#: The network's input side, pixels.
INPUT_SIZE = 256
#: Refined alpha values at or below the first become background, at or above the second person.
ALPHA_RANGE = (0.25, 0.75)


class Segmenter:
    """Person segmentation: an RGB ``uint8`` image of 256 x 256 in, person probability out.

    Parameters
    ----------
    backend : {"auto", "onnxruntime", "opencv"}
        ONNX Runtime when installed (``"auto"``), else OpenCV's DNN module, as for
        the detector; naming one never falls back to the other.
    threads : int, optional
        Threads for one inference (default: the CPUs this process may use).

    Attributes
    ----------
    description : str
        Model and runtime, e.g. ``"selfie-segmentation/onnxruntime"``.
    """

    def __init__(self, backend: str = "auto", threads: int | None = None) -> None:
        self.backend = resolve_backend(backend)
        data = bundled_model(MODEL_FILE, MODEL_SHA256)
        n = threads or default_threads()
        self._lock = threading.Lock()
        if self.backend == "onnxruntime":
            try:
                import onnxruntime as ort
            except ImportError as exc:
                raise MissingDependencyError("backend 'onnxruntime' needs ONNX Runtime: pip install 'minface[ort]'") from exc
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = n
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            self._session: Any = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        else:
            self._net = cv2.dnn.readNetFromONNX(np.frombuffer(data, np.uint8))
            self._threads = n
        self.description = f"selfie-segmentation/{self.backend}"

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Probability (0-1) that each pixel shows a person; ``rgb`` is (256, 256, 3) ``uint8``."""
        if rgb.shape != (INPUT_SIZE, INPUT_SIZE, 3) or rgb.dtype != np.uint8:
            raise ValueError(f"the segmenter takes ({INPUT_SIZE}, {INPUT_SIZE}, 3) uint8 RGB, got {rgb.shape} {rgb.dtype}")
        blob = (rgb.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        if self.backend == "onnxruntime":
            out = self._session.run(["mask"], {"input": blob})[0]
        else:
            with self._lock:  # a cv2.dnn.Net is not safe to share between threads
                previous = cv2.getNumThreads()
                cv2.setNumThreads(self._threads)
                try:
                    self._net.setInput(blob)
                    out = self._net.forward()
                finally:
                    cv2.setNumThreads(previous)
        return np.ascontiguousarray(out[0, 0], np.float32)


_segmenters: dict[str, Segmenter] = {}
_segmenters_lock = threading.Lock()


def shared_segmenter(backend: str = "auto") -> Segmenter:
    """One :class:`Segmenter` per backend and process, loaded on first use."""
    name = resolve_backend(backend)
    with _segmenters_lock:
        seg = _segmenters.get(name)
        if seg is None:
            seg = _segmenters[name] = Segmenter(name)
        return seg


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float, subsample: int = 1) -> np.ndarray:
    """Edge-preserving smoothing of ``src`` along the edges of the colour image ``guide``.

    He, Sun and Tang's guided filter with a colour guide (float32, (H, W, 3), 0-1):
    in every window the output is a linear function of the guide's three
    channels, so its edges follow colour edges, also between colours of equal
    brightness (brown hair before a magenta wall). With ``subsample`` the linear
    coefficients are found on copies reduced that many times (and a window
    reduced as much) and applied to the full-resolution guide (He and Sun, "Fast
    Guided Filter", 2015): the edges still follow the full-resolution colours.
    """
    if subsample > 1:
        h, w = src.shape
        small = (max(1, w // subsample), max(1, h // subsample))
        g = cv2.resize(guide, small, interpolation=cv2.INTER_AREA)
        a, b = _guided_coefficients(g, cv2.resize(src, small, interpolation=cv2.INTER_AREA), max(1, radius // subsample), eps)
        a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
        return (a * guide).sum(axis=2) + b
    a, b = _guided_coefficients(guide, src, radius, eps)
    return (a * guide).sum(axis=2) + b


def _guided_coefficients(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """The guided filter's per-pixel linear coefficients, averaged over the windows (``a``: (H, W, 3), ``b``)."""
    k = (2 * radius + 1, 2 * radius + 1)
    mean = lambda x: cv2.boxFilter(x, cv2.CV_32F, k, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    m_i = mean(guide)  # (H, W, 3)
    m_p = mean(src)
    cov = mean(guide * src[..., None]) - m_i * m_p[..., None]
    var = {}
    for i in range(3):
        for j in range(i, 3):
            var[i, j] = var[j, i] = mean(guide[..., i] * guide[..., j]) - m_i[..., i] * m_i[..., j] + (eps if i == j else 0.0)
    # a = inverse(covariance + eps) @ cov, the 3x3 inverse written out (cofactors)
    c00 = var[1, 1] * var[2, 2] - var[1, 2] * var[2, 1]
    c01 = var[0, 2] * var[2, 1] - var[0, 1] * var[2, 2]
    c02 = var[0, 1] * var[1, 2] - var[0, 2] * var[1, 1]
    c11 = var[0, 0] * var[2, 2] - var[0, 2] * var[2, 0]
    c12 = var[0, 2] * var[1, 0] - var[0, 0] * var[1, 2]
    c22 = var[0, 0] * var[1, 1] - var[0, 1] * var[1, 0]
    det = var[0, 0] * c00 + var[0, 1] * (var[1, 2] * var[2, 0] - var[1, 0] * var[2, 2]) + var[0, 2] * (var[1, 0] * var[2, 1] - var[1, 1] * var[2, 0])
    det = np.where(np.abs(det) < 1e-12, 1e-12, det)
    x, y, z = cov[..., 0], cov[..., 1], cov[..., 2]
    a = np.stack([c00 * x + c01 * y + c02 * z, c01 * x + c11 * y + c12 * z, c02 * x + c12 * y + c22 * z], axis=2) / det[..., None]
    b = m_p - (a * m_i).sum(axis=2)
    return mean(a), mean(b)


def refine_alpha(alpha: np.ndarray, image: np.ndarray, scale: float) -> np.ndarray:
    """The network's alpha, brought to the photo's edges (see the module notes).

    Parameters
    ----------
    alpha : float32 (H, W)
        The network's probability resampled to the photo.
    image : uint8 (H, W, 3)
        The photo (guide).
    scale : float
        Photo pixels per network pixel: the guided filter's window is a little
        larger than the network's blur.
    """
    guide = image.astype(np.float32) / 255.0
    radius = max(2, int(round(1.5 * scale)))
    # coefficients at half resolution where the window is wide enough (about 4x faster)
    out = guided_filter(guide, alpha.astype(np.float32), radius, 1e-3, subsample=2 if radius >= 4 else 1)
    lo, hi = ALPHA_RANGE
    return np.clip((out - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def subject_only(alpha: np.ndarray, seed: tuple[float, float]) -> np.ndarray:
    """``alpha`` with everything but the person at ``seed`` (the face) set to 0.

    The person is the region the network is sure of (alpha above 0.5) that holds
    the seed; the in-between values it leaves around other things (patches of a
    busy background it could not decide on, other people) go too: only those
    within a narrow band around the person (1% of the image) are kept, as its soft edge.
    """
    solid = (alpha > 0.5).astype(np.uint8)
    n, labels = cv2.connectedComponents(solid, connectivity=8)
    if n <= 1:
        return np.zeros_like(alpha)
    x = int(np.clip(round(seed[0]), 0, alpha.shape[1] - 1))
    y = int(np.clip(round(seed[1]), 0, alpha.shape[0] - 1))
    keep = labels[y, x]
    if keep == 0:  # the face centre itself is not person: keep the largest region
        keep = 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
    r = max(1, int(round(0.01 * max(alpha.shape))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    region = cv2.dilate((labels == keep).astype(np.uint8), kernel) > 0
    return np.where(region, alpha, 0.0).astype(np.float32)


def extend_from_valid(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``values`` where ``valid``; elsewhere the value of the nearest valid pixel."""
    if valid.all() or not valid.any():
        return values
    _, labels = cv2.distanceTransformWithLabels(
        (~valid).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    # labels number the valid (zero) pixels in scan order, from 1
    flat_valid = np.flatnonzero(valid.ravel())
    out = values.copy()
    inv = ~valid
    out[inv] = values.ravel()[flat_valid[labels[inv] - 1]]
    return out


def _spread(image: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Colour of the weighted pixels around each pixel (normalized Gaussian blur); the pixel's own where none.

    A wide blur is computed on a copy reduced so that ``sigma`` is 3 of its pixels
    (the result varies slowly; the reduction's own smoothing is a small part of it).
    """
    img = image.astype(np.float32)
    h, w = weight.shape
    f = int(sigma // 3)
    if f >= 2 and min(h, w) >= 8 * f:
        small = (max(1, w // f), max(1, h // f))
        num = cv2.GaussianBlur(cv2.resize(img * weight[..., None], small, interpolation=cv2.INTER_AREA), (0, 0), sigma / f)
        den = cv2.GaussianBlur(cv2.resize(weight, small, interpolation=cv2.INTER_AREA), (0, 0), sigma / f)
        num = cv2.resize(num, (w, h), interpolation=cv2.INTER_LINEAR)
        den = cv2.resize(den, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    else:
        num = cv2.GaussianBlur(img * weight[..., None], (0, 0), sigma)
        den = cv2.GaussianBlur(weight, (0, 0), sigma)[..., None]
    return np.where(den > 1e-4, num / np.maximum(den, 1e-4), img)


def local_background(image: np.ndarray, alpha: np.ndarray, sigma: float) -> np.ndarray:
    """The old background's colour around each pixel: pure-background pixels spread into the edge band."""
    weight = (alpha <= 0.02).astype(np.float32)
    return np.where(weight[..., None] > 0, image.astype(np.float32), _spread(image, weight, sigma))


def replace_background(image: np.ndarray, alpha: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """The person of ``image`` (``alpha``: 1 person, 0 background) on a plain ``colour``, edges decontaminated.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((4, 4, 3), np.uint8); img[:, :2] = 200       # left: person, right: old background (black)
    >>> alpha = np.zeros((4, 4), np.float32); alpha[:, :2] = 1; alpha[:, 2] = 0.5
    >>> img[:, 2] = 100                                               # the edge: half person, half black
    >>> replace_background(img, alpha, (255, 255, 255))[0, :, 0].tolist()
    [200, 200, 228, 255]
    """
    c = np.asarray(colour, np.float32)
    bg = local_background(image, alpha, sigma=max(2.0, 0.02 * max(image.shape[:2])))
    out = image.astype(np.float32) + (1.0 - alpha[..., None]) * (c - bg)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)
