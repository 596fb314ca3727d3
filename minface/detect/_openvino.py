"""The OpenVINO runtime (``backend="openvino"``, ``pip install 'minface[openvino]'``).

It runs the same checksum-verified model bytes as the other runtimes, read from
memory by OpenVINO's ONNX reader (no file, no cache directory). ``import
openvino`` sends usage telemetry from the model converter it imports; minface
imports OpenVINO without it (see :func:`minface._privacy.import_openvino`). Every input shape first runs on one model compiled for any
shape; a shape seen :data:`STATIC_AFTER` times gets a model compiled for that
shape alone (about 1.5x faster per call on this CPU, 0.3 s to 1 s to compile),
and at most :data:`MAX_SHAPES` such models are kept, the least recently used
dropped first. On photos of many sizes (WIDER FACE) the model for any shape
runs at about half ONNX Runtime's speed and each image's compiles cost more than
they save, so ``backend="auto"`` prefers ONNX Runtime. On CPUs with int8 instructions, the int8 model's convolutions run
on int8 kernels (see :meth:`OpenVinoRuntime.layer_precisions`).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from typing import TYPE_CHECKING, Any

from ..errors import BackendError, MissingDependencyError
from ._onnxproto import with_pixel_input

if TYPE_CHECKING:
    import numpy as np

#: compiled models for single input shapes kept per runtime (least recently used dropped first)
MAX_SHAPES = 16
#: calls with one input shape before it gets a model compiled for that shape
STATIC_AFTER = 3


class OpenVinoRuntime:
    """One model on OpenVINO's CPU plugin, one inference thread by default (see the module's doc)."""

    name = "openvino"
    device = "cpu"
    layout = "pixels"  # uint8 NHWC in, as for ONNX Runtime (see _onnxproto.with_pixel_input)
    shape_step = 32
    fixed_batch = False

    def __init__(self, spec: Any, onnx: bytes, pixel_input: str, threads: int) -> None:
        """``spec``: the model's :class:`~minface.detect.runtimes.ModelFile`; ``onnx``: its verified bytes.

        They are handed in by :func:`minface.detect.runtimes.get_runtime` (this module sits below it).
        """
        from .. import _privacy

        try:
            ov = _privacy.import_openvino()
        except ImportError as exc:
            raise MissingDependencyError("backend 'openvino' needs OpenVINO: pip install 'minface[openvino]'") from exc
        if _privacy.OPENVINO_LOADED_BEFORE and not getattr(ov, "_minface_warned", False):
            import warnings

            warnings.warn(
                "openvino was imported before minface, and its import sends usage telemetry (network); "
                "import minface first",
                RuntimeWarning,
                stacklevel=3,
            )
            ov._minface_warned = True
        self._bgr = spec.channels == "bgr"
        self._input = pixel_input
        self._core = ov.Core()
        self._config = {
            "INFERENCE_NUM_THREADS": int(threads),
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            # full precision everywhere (no bf16/f16 on CPUs that have them): the same faces as ONNX Runtime
            "INFERENCE_PRECISION_HINT": "f32",
        }
        try:
            self._model = self._core.read_model(with_pixel_input(onnx, spec.input, pixel_input), b"")
            self._names = list(spec.outputs)
            self._dynamic = self._compile(self._model)
        except Exception as exc:
            raise BackendError(f"OpenVINO could not compile {spec.file}: {exc}") from exc
        self._static: OrderedDict[tuple[int, ...], tuple[object, list[int]]] = OrderedDict()
        self._seen: Counter[tuple[int, ...]] = Counter()
        self._lock = threading.Lock()  # an infer request is not safe to share between threads
        self.description = f"openvino:{ov.__version__.split('-')[0]}:CPU"

    def _compile(self, model: object) -> tuple[object, list[int]]:
        """An infer request for ``model`` and the indices of the outputs to return, in order."""
        compiled = self._core.compile_model(model, "CPU", self._config)
        names = [port.get_names() for port in compiled.outputs]
        return compiled.create_infer_request(), [next(i for i, s in enumerate(names) if n in s) for n in self._names]

    def _compiled_for(self, shape: tuple[int, ...]) -> tuple[object, list[int]]:
        """The infer request for ``shape`` and its output indices (called under the lock)."""
        hit = self._static.get(shape)
        if hit is not None:
            self._static.move_to_end(shape)
            return hit
        self._seen[shape] += 1
        if self._seen[shape] < STATIC_AFTER:
            if len(self._seen) > 64 * MAX_SHAPES:  # bounded: forget the counts of shapes met once
                self._seen = Counter({k: v for k, v in self._seen.items() if v > 1})
            return self._dynamic
        model = self._model.clone()
        model.reshape({self._input: list(shape)})
        hit = self._static[shape] = self._compile(model)
        del self._seen[shape]
        while len(self._static) > MAX_SHAPES:
            self._static.popitem(last=False)
        return hit

    def __call__(self, blob: np.ndarray) -> tuple[np.ndarray, ...]:
        """Run on uint8 RGB pixels (N, H, W, 3); return the model's outputs (copies)."""
        import numpy as np

        if self._bgr:
            blob = blob[..., ::-1]
        blob = np.ascontiguousarray(blob)
        with self._lock:
            request, order = self._compiled_for(tuple(blob.shape))
            request.infer({self._input: blob})  # type: ignore[attr-defined]
            return tuple(request.get_output_tensor(i).data.copy() for i in order)  # type: ignore[attr-defined]

    def shapes(self) -> list[tuple[int, ...]]:
        """Input shapes that have a model compiled for them alone, least recently used first."""
        with self._lock:
            return list(self._static)

    def layer_precisions(self, shape: tuple[int, ...] = (1, 96, 96, 3)) -> Counter[tuple[str, str]]:
        """How many convolutions run at which precision: ``(layer type, precision)`` -> count.

        With the int8 model on a CPU with int8 instructions, every convolution but the first
        (which takes the float pixels) runs at ``u8``/``i8``, not dequantized to ``f32``.
        """
        model = self._model.clone()
        model.reshape({self._input: list(shape)})
        compiled = self._core.compile_model(model, "CPU", self._config)
        out: Counter[tuple[str, str]] = Counter()
        for op in compiled.get_runtime_model().get_ordered_ops():
            info = op.get_rt_info()
            kind = info["layerType"].astype(str)
            if kind in ("Convolution", "Deconvolution", "FullyConnected"):
                out[(kind, info["runtimePrecision"].astype(str))] += 1
        return out
