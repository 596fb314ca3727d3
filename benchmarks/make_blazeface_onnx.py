"""Build ``minface/models/blazeface_full_range.onnx`` from MediaPipe's full-range face detector.

The source is ``mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite``
from the PyPI wheel ``mediapipe==0.10.21`` (Apache-2.0), 676,746 bytes, sha256
``2c3728e6...``. Get it with::

    pip download --no-deps --only-binary=:all: --python-version 3.11 \\
        --platform manylinux_2_28_x86_64 mediapipe==0.10.21
    unzip mediapipe-0.10.21-*.whl mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite

The graph is read with the converter of ``make_selfie_onnx.py`` (same flatbuffer
reader, same NCHW op mapping) plus what this model adds:

* ``DENSIFY``: 46 weights are stored sparse in fp16, dense in their first three
  dimensions and CSR (segments and indices) in the last; they are expanded to
  dense arrays, and the ``DEQUANTIZE`` after them gives fp32 initializers;
* ``PAD`` (NHWC paddings reordered for NCHW), ``DEPTH_TO_SPACE`` (TFLite's
  order is ONNX's ``DCR``), ``RESHAPE`` (the activation turned back to NHWC
  first, so the flattened order is TFLite's).

The ONNX model takes ``input`` (1, 3, 192, 192), RGB in [-1, 1], and gives
``regressors`` (1, 2304, 16) and ``scores`` (1, 2304, 1) (logits), as the
TFLite model does.

Build-only packages (never runtime dependencies of minface)::

    pip install tflite onnx onnxruntime ai-edge-litert
    python benchmarks/make_blazeface_onnx.py path/to/face_detection_full_range_sparse.tflite

It checks the source's sha256, writes the model, compares ONNX Runtime and
OpenCV DNN against the TFLite runtime (``ai-edge-litert``) on test images and
prints the sha256 to pin in ``minface/detect/blazeface.py`` and the NOTICE.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_selfie_onnx import Converter  # noqa: E402 - the shared TFLite reader

ROOT = Path(__file__).resolve().parents[1]
SOURCE_SHA256 = "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1"
SOURCE_SIZE = 676_746


class BlazeConverter(Converter):
    """The selfie converter plus the ops of the full-range face detector."""

    def _vector(self, table, kind: int) -> np.ndarray:
        T = self.tfl
        cls = {T.SparseIndexVector.Int32Vector: T.Int32Vector, T.SparseIndexVector.Uint16Vector: T.Uint16Vector,
               T.SparseIndexVector.Uint8Vector: T.Uint8Vector}[kind]  # fmt: skip
        vec = cls()
        vec.Init(table.Bytes, table.Pos)
        return vec.ValuesAsNumpy().astype(np.int64)

    def densify(self, i: int) -> np.ndarray:
        """The dense value of the sparse constant tensor ``i`` (dense leading dimensions, CSR last)."""
        T = self.tfl
        t = self.tensor(i)
        sp = t.Sparsity()
        shape = self.shape(i)
        order = [int(v) for v in sp.TraversalOrderAsNumpy()]
        if order != list(range(len(shape))) or sp.BlockMapLength():
            raise NotImplementedError(f"sparse tensor {i}: traversal {order}, {sp.BlockMapLength()} block dims")
        buf = self.model.Buffers(t.Buffer())
        dtype = {T.TensorType.FLOAT32: np.float32, T.TensorType.FLOAT16: np.float16}[t.Type()]
        values = np.frombuffer(buf.DataAsNumpy().tobytes(), dtype)
        dims = [sp.DimMetadata(d) for d in range(sp.DimMetadataLength())]
        if any(d.Format() != T.DimensionType.DENSE for d in dims[:-1]) or dims[-1].Format() != T.DimensionType.SPARSE_CSR:
            raise NotImplementedError(f"sparse tensor {i}: formats {[d.Format() for d in dims]}")
        lead = [d.DenseSize() for d in dims[:-1]]
        if tuple(lead) != shape[:-1]:
            raise NotImplementedError(f"sparse tensor {i}: dense sizes {lead} for shape {shape}")
        last = dims[-1]
        segments = self._vector(last.ArraySegments(), last.ArraySegmentsType())
        indices = self._vector(last.ArrayIndices(), last.ArrayIndicesType())
        rows = int(np.prod(lead))
        if len(segments) != rows + 1 or segments[-1] != len(indices) or len(indices) != len(values):
            raise ValueError(f"sparse tensor {i}: {len(segments)} segments, {len(indices)} indices, {len(values)} values")
        dense = np.zeros((rows, shape[-1]), dtype)
        row_of = np.repeat(np.arange(rows), np.diff(segments))
        dense[row_of, indices] = values
        return dense.reshape(shape)

    def op_DENSIFY(self, op, ins, outs) -> None:
        self.consts[outs[0]] = self.densify(ins[0])

    def op_DEQUANTIZE(self, op, ins, outs) -> None:
        value = self.consts.get(ins[0])
        if value is None:
            value = self.buffer(ins[0])
        if value is None:
            raise NotImplementedError("DEQUANTIZE of an activation")
        self.consts[outs[0]] = value.astype(np.float32)

    def op_PAD(self, op, ins, outs) -> None:
        pads = np.asarray(self.const(ins[1]), np.int64).reshape(-1, 2)
        if len(pads) == 4:
            pads = pads[[0, 3, 1, 2]]  # NHWC -> NCHW
        onnx_pads = np.concatenate([pads[:, 0], pads[:, 1]])
        self.node("Pad", [self.tname(ins[0]), self.init(onnx_pads, "pads")], [self.tname(outs[0])], mode="constant")

    def op_DEPTH_TO_SPACE(self, op, ins, outs) -> None:
        opts = self.tfl.DepthToSpaceOptions()
        t = op.BuiltinOptions()
        opts.Init(t.Bytes, t.Pos)
        self.node("DepthToSpace", [self.tname(ins[0])], [self.tname(outs[0])], blocksize=opts.BlockSize(), mode="DCR")

    def op_RESHAPE(self, op, ins, outs) -> None:
        shape = self.shape(outs[0])
        if len(shape) == 4 or len(self.shape(ins[0])) != 4:
            raise NotImplementedError("RESHAPE other than a 4-D activation flattened")
        nhwc = self.tname(outs[0]) + "_nhwc"
        self.node("Transpose", [self.tname(ins[0])], [nhwc], perm=[0, 2, 3, 1])
        self.node("Reshape", [nhwc, self.init(np.asarray(shape, np.int64), "shape")], [self.tname(outs[0])])


def test_images() -> list[np.ndarray]:
    """192x192 RGB inputs in [-1, 1]: noise, a gradient, and real faces at several sizes (scikit-image's astronaut)."""
    import cv2

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:192, 0:192] / 191.0
    images = [rng.random((192, 192, 3)), np.dstack([xx, yy, 1 - xx])]
    try:
        import skimage.data

        portrait = skimage.data.astronaut() / 255.0
        for side in (192, 96, 40, 20):  # the whole portrait shrunk onto a grey canvas: faces from large to tiny
            canvas = np.full((192, 192, 3), 0.5)
            small = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_AREA)
            canvas[20 : 20 + side, 30 : 30 + side] = small[: 172, : 162] if side > 160 else small
            images.append(canvas)
    except ImportError:
        print("scikit-image is not installed: comparing on synthetic images only")
    return [((np.round(im * 255) / 255) * 2 - 1).astype(np.float32) for im in images]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tflite", type=Path, help="face_detection_full_range_sparse.tflite from mediapipe==0.10.21")
    parser.add_argument("--out", type=Path, default=ROOT / "minface" / "models" / "blazeface_full_range.onnx")
    args = parser.parse_args()
    data = args.tflite.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != SOURCE_SIZE or digest != SOURCE_SHA256:
        print(f"{args.tflite}: {len(data)} bytes, sha256 {digest}; expected {SOURCE_SIZE} bytes, {SOURCE_SHA256}")
        return 1

    import onnx

    model = BlazeConverter(data).convert(
        "blazeface_full_range",
        ("regressors", "scores"),
        producer="minface benchmarks/make_blazeface_onnx.py",
        doc="MediaPipe BlazeFace full-range face detector (Apache-2.0), from mediapipe==0.10.21's "
        f"face_detection_full_range_sparse.tflite (sha256 {SOURCE_SHA256}); see minface/models/NOTICE",
    )
    onnx.checker.check_model(model, full_check=True)
    blob = model.SerializeToString()
    args.out.write_bytes(blob)
    print(f"wrote {args.out} ({len(blob):,} bytes), sha256 {hashlib.sha256(blob).hexdigest()}")

    import cv2
    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter

    oracle = Interpreter(model_content=data)
    oracle.allocate_tensors()
    (inp,) = oracle.get_input_details()
    outs = sorted(oracle.get_output_details(), key=lambda d: -int(d["shape"][-1]))  # regressors, then scores
    sess = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    net = cv2.dnn.readNetFromONNX(np.frombuffer(blob, np.uint8))
    worst = {"onnxruntime-vs-tflite": 0.0, "opencv-vs-tflite": 0.0}
    top = []
    for im in test_images():
        oracle.set_tensor(inp["index"], im[None])
        oracle.invoke()
        ref = [oracle.get_tensor(d["index"]) for d in outs]
        x = im.transpose(2, 0, 1)[None]
        got = sess.run(["regressors", "scores"], {"input": x})
        net.setInput(x)
        cv = net.forward(["regressors", "scores"])
        for r, o, c in zip(ref, got, cv):
            worst["onnxruntime-vs-tflite"] = max(worst["onnxruntime-vs-tflite"], float(np.abs(r - o).max()))
            worst["opencv-vs-tflite"] = max(worst["opencv-vs-tflite"], float(np.abs(r - c.reshape(r.shape)).max()))
        top.append(float(ref[1].max()))
    print("top score logit per test image (tflite):", ", ".join(f"{v:.2f}" for v in top))
    for k, v in worst.items():
        print(f"max |difference| {k}: {v:.2e}")
    limits = {"onnxruntime-vs-tflite": 1e-3, "opencv-vs-tflite": 1e-2}  # regressors are pixels of the 192 px input
    return 0 if all(worst[k] < limits[k] for k in worst) else 1


if __name__ == "__main__":
    sys.exit(main())
