"""Build ``minface/models/selfie_segmentation.onnx`` from MediaPipe's selfie segmentation model.

The source is ``mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite``
from the PyPI wheel ``mediapipe==0.10.21`` (the last release that ships it;
Apache-2.0), 249,505 bytes, sha256 ``9ee168ec...``. Get it with::

    pip download --no-deps --only-binary=:all: --python-version 3.12 \\
        --platform manylinux_2_28_x86_64 mediapipe==0.10.21
    unzip mediapipe-0.10.21-*.whl mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite

Generic converters fail on this file: ``tflite2onnx`` stops at HARD_SWISH and at
MediaPipe's custom op ``Convolution2DTransposeBias``, and ``tf2onnx`` leaves the
custom op in the graph (ONNX Runtime then refuses the file). This script reads
the flatbuffer with the ``tflite`` package and writes the same graph with
``onnx.helper``, op by op, in NCHW layout:

* fp16 weights (``DEQUANTIZE`` of a constant) become fp32 initializers;
* ``CONV_2D`` / ``DEPTHWISE_CONV_2D`` become ``Conv`` (TFLite's SAME padding made
  explicit, fused activations appended), ``AVERAGE_POOL_2D`` ``AveragePool``
  (padding excluded from the mean, as TFLite does), ``RESIZE_BILINEAR`` ``Resize``
  (TFLite's align_corners / half_pixel_centers mapped to ONNX's coordinate modes),
  ``HARD_SWISH`` ``x * HardSigmoid(x)`` (which OpenCV's DNN module also runs),
  ``LOGISTIC`` ``Sigmoid``, ``ADD``/``MUL`` with per-channel constants reshaped
  for NCHW broadcasting;
* ``Convolution2DTransposeBias`` (its custom options are TFLite's transpose-conv
  parameters: padding, stride width, stride height, int32 each) becomes a
  ``ConvTranspose`` with bias, SAME padding cropped as TFLite does.

The ONNX model takes ``input`` (1, 3, 256, 256), RGB in [0, 1], and gives
``mask`` (1, 1, 256, 256), the probability that each pixel shows a person.

Build-only packages (never runtime dependencies of minface)::

    pip install tflite onnx onnxruntime opencv-python-headless
    python benchmarks/make_selfie_onnx.py path/to/selfie_segmentation.tflite

It checks the source's sha256, writes the model, compares ONNX Runtime and
OpenCV DNN against a pure NumPy run of the TFLite graph (and, with
``--reference FILE.npz`` made by ``--mediapipe-reference`` under a Python that
has ``mediapipe==0.10.21``, against MediaPipe itself) and prints the sha256 to
pin in ``minface/idphoto/background.py`` and ``minface/models/NOTICE``.
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE_SHA256 = "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"
SOURCE_SIZE = 249_505
OPSET = 13


def _builtin_names() -> dict[int, str]:
    import tflite

    return {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


class Converter:
    """TFLite flatbuffer -> ONNX graph, NHWC activations turned into NCHW."""

    def __init__(self, data: bytes) -> None:
        import tflite

        self.tfl = tflite
        self.model = tflite.Model.GetRootAsModel(data, 0)
        self.graph = self.model.Subgraphs(0)
        self.names = _builtin_names()
        self.nodes: list = []
        self.inits: dict[str, np.ndarray] = {}
        self.consts: dict[int, np.ndarray] = {}  # tensor index -> constant value (NHWC, fp32)
        self.counter = 0

    # -- tensors --------------------------------------------------------------------------------
    def tensor(self, i: int):
        return self.graph.Tensors(i)

    def tname(self, i: int) -> str:
        return f"t{i}_" + self.tensor(i).Name().decode()

    def shape(self, i: int) -> tuple[int, ...]:
        return tuple(int(v) for v in self.tensor(i).ShapeAsNumpy())

    def buffer(self, i: int) -> np.ndarray | None:
        t = self.tensor(i)
        buf = self.model.Buffers(t.Buffer())
        if buf is None or buf.DataLength() == 0:
            return None
        raw = buf.DataAsNumpy().tobytes()
        dtype = {
            self.tfl.TensorType.FLOAT32: np.float32,
            self.tfl.TensorType.FLOAT16: np.float16,
            self.tfl.TensorType.INT32: np.int32,
        }[t.Type()]
        return np.frombuffer(raw, dtype).reshape(self.shape(i))

    def const(self, i: int) -> np.ndarray | None:
        if i in self.consts:
            return self.consts[i]
        value = self.buffer(i)
        return None if value is None else value.astype(np.float32) if value.dtype == np.float16 else value

    def init(self, value: np.ndarray, hint: str) -> str:
        self.counter += 1
        name = f"c{self.counter}_{hint}"
        self.inits[name] = np.ascontiguousarray(value)
        return name

    def node(self, op: str, inputs: list[str], outputs: list[str], **attrs) -> None:
        from onnx import helper

        self.counter += 1
        self.nodes.append(helper.make_node(op, inputs, outputs, name=f"n{self.counter}_{op}", **attrs))

    def operand(self, i: int) -> str:
        """Name of an elementwise operand: an activation, or a constant reshaped for NCHW broadcasting."""
        value = self.const(i)
        if value is None:
            return self.tname(i)
        if value.ndim == 4:
            value = value.transpose(0, 3, 1, 2)
        elif value.ndim == 1 and value.size > 1:
            value = value.reshape(1, -1, 1, 1)
        return self.init(value.astype(np.float32), "k")

    def activation(self, out: str, fused: int) -> str:
        """Append a fused activation after ``out``; returns the name to compute into."""
        A = self.tfl.ActivationFunctionType
        if fused == A.NONE:
            return out
        pre = out + "_pre"
        if fused == A.RELU:
            self.node("Relu", [pre], [out])
        elif fused == A.RELU6:
            self.node("Clip", [pre, self.init(np.float32(0), "lo"), self.init(np.float32(6), "hi")], [out])
        else:
            raise NotImplementedError(f"fused activation {fused}")
        return pre

    @staticmethod
    def same_pads(size: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        return total // 2, total - total // 2

    # -- ops ------------------------------------------------------------------------------------
    def convert(
        self,
        name: str = "selfie_segmentation",
        outputs: tuple[str, ...] = ("mask",),
        producer: str = "minface benchmarks/make_selfie_onnx.py",
        doc: str = "MediaPipe selfie segmentation (Apache-2.0), from mediapipe==0.10.21's "
        f"selfie_segmentation.tflite (sha256 {SOURCE_SHA256}); see minface/models/NOTICE",
    ):
        """The ONNX model: input ``input`` (NCHW), the graph's outputs named ``outputs`` (4-D ones NCHW)."""
        from onnx import TensorProto, helper, numpy_helper

        g = self.graph
        codes = []
        for i in range(self.model.OperatorCodesLength()):
            oc = self.model.OperatorCodes(i)
            codes.append((max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode()), oc.CustomCode()))
        for k in range(g.OperatorsLength()):
            op = g.Operators(k)
            code, custom = codes[op.OpcodeIndex()]
            name = "CUSTOM:" + custom.decode() if custom else self.names[code]
            ins = [int(v) for v in op.InputsAsNumpy()]
            outs = [int(v) for v in op.OutputsAsNumpy()]
            getattr(self, "op_" + name.replace(":", "_"))(op, ins, outs)

        (inp,) = [int(v) for v in g.InputsAsNumpy()]
        outps = [int(v) for v in g.OutputsAsNumpy()]
        _, h, w, c = self.shape(inp)
        # the graph's own input/output names, NCHW
        self.nodes.insert(0, helper.make_node("Identity", ["input"], [self.tname(inp)], name="n0_input"))
        infos = []
        for outp, out_name in zip(outps, outputs, strict=True):
            shape = list(self.shape(outp))
            if len(shape) == 4:
                shape = [shape[0], shape[3], shape[1], shape[2]]
            self.node("Identity", [self.tname(outp)], [out_name])
            infos.append(helper.make_tensor_value_info(out_name, TensorProto.FLOAT, shape))
        graph = helper.make_graph(
            _topological(self.nodes, {"input", *self.inits}),
            name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, c, h, w])],
            infos,
            [numpy_helper.from_array(v, k) for k, v in self.inits.items()],
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=producer, doc_string=doc
        )
        model.ir_version = 8
        return model

    def op_DEQUANTIZE(self, op, ins, outs) -> None:
        value = self.buffer(ins[0])
        if value is None:
            raise NotImplementedError("DEQUANTIZE of an activation")
        self.consts[outs[0]] = value.astype(np.float32)

    def _conv(self, op, ins, outs, depthwise: bool) -> None:
        T = self.tfl
        opts = (T.DepthwiseConv2DOptions if depthwise else T.Conv2DOptions)()
        t = op.BuiltinOptions()
        opts.Init(t.Bytes, t.Pos)
        weight = self.const(ins[1])  # (O, kh, kw, I) or depthwise (1, kh, kw, C*m)
        _, h, w, c = self.shape(ins[0])
        if depthwise:
            kernel = weight.transpose(3, 0, 1, 2)  # (C*m, 1, kh, kw)
            group = c
        else:
            kernel = weight.transpose(0, 3, 1, 2)
            group = 1
        kh, kw = kernel.shape[2:]
        sh, sw = opts.StrideH(), opts.StrideW()
        dh, dw = opts.DilationHFactor(), opts.DilationWFactor()
        if opts.Padding() == T.Padding.SAME:
            pt, pb = self.same_pads(h, kh, sh, dh)
            pl, pr = self.same_pads(w, kw, sw, dw)
        else:
            pt = pb = pl = pr = 0
        inputs = [self.tname(ins[0]), self.init(kernel, "w")]
        if len(ins) > 2 and ins[2] >= 0:
            inputs.append(self.init(self.const(ins[2]).reshape(-1), "b"))
        out = self.activation(self.tname(outs[0]), opts.FusedActivationFunction())
        self.node(
            "Conv",
            inputs,
            [out],
            kernel_shape=[kh, kw],
            strides=[sh, sw],
            dilations=[dh, dw],
            pads=[pt, pl, pb, pr],
            group=group,
        )

    def op_CONV_2D(self, op, ins, outs) -> None:
        self._conv(op, ins, outs, depthwise=False)

    def op_DEPTHWISE_CONV_2D(self, op, ins, outs) -> None:
        self._conv(op, ins, outs, depthwise=True)

    def op_AVERAGE_POOL_2D(self, op, ins, outs) -> None:
        T = self.tfl
        opts = T.Pool2DOptions()
        t = op.BuiltinOptions()
        opts.Init(t.Bytes, t.Pos)
        _, h, w, _ = self.shape(ins[0])
        kh, kw = opts.FilterHeight(), opts.FilterWidth()
        sh, sw = opts.StrideH(), opts.StrideW()
        out = self.activation(self.tname(outs[0]), opts.FusedActivationFunction())
        if (kh, kw) == (h, w):  # the whole map: a global mean (the squeeze-and-excitation blocks)
            self.node("GlobalAveragePool", [self.tname(ins[0])], [out])
            return
        pads = [0, 0, 0, 0]
        if opts.Padding() == T.Padding.SAME:
            pt, pb = self.same_pads(h, kh, sh)
            pl, pr = self.same_pads(w, kw, sw)
            pads = [pt, pl, pb, pr]
        self.node(
            "AveragePool",
            [self.tname(ins[0])],
            [out],
            kernel_shape=[kh, kw],
            strides=[sh, sw],
            pads=pads,
            count_include_pad=0,
        )

    def _binary(self, op, ins, outs, onnx_op: str, options) -> None:
        opts = options()
        t = op.BuiltinOptions()
        fused = self.tfl.ActivationFunctionType.NONE
        if t is not None:
            opts.Init(t.Bytes, t.Pos)
            fused = opts.FusedActivationFunction()
        out = self.activation(self.tname(outs[0]), fused)
        self.node(onnx_op, [self.operand(ins[0]), self.operand(ins[1])], [out])

    def op_ADD(self, op, ins, outs) -> None:
        self._binary(op, ins, outs, "Add", self.tfl.AddOptions)

    def op_MUL(self, op, ins, outs) -> None:
        self._binary(op, ins, outs, "Mul", self.tfl.MulOptions)

    def op_RELU(self, op, ins, outs) -> None:
        self.node("Relu", [self.tname(ins[0])], [self.tname(outs[0])])

    def op_LOGISTIC(self, op, ins, outs) -> None:
        self.node("Sigmoid", [self.tname(ins[0])], [self.tname(outs[0])])

    def op_HARD_SWISH(self, op, ins, outs) -> None:
        x = self.tname(ins[0])
        gate = self.tname(outs[0]) + "_gate"
        self.node("HardSigmoid", [x], [gate], alpha=1.0 / 6.0, beta=0.5)
        self.node("Mul", [x, gate], [self.tname(outs[0])])

    def op_RESIZE_BILINEAR(self, op, ins, outs) -> None:
        T = self.tfl
        opts = T.ResizeBilinearOptions()
        t = op.BuiltinOptions()
        opts.Init(t.Bytes, t.Pos)
        if opts.AlignCorners():
            mode = "align_corners"
        elif opts.HalfPixelCenters():
            mode = "half_pixel"
        else:
            mode = "asymmetric"
        oh, ow = (int(v) for v in self.const(ins[1]))
        n, _, _, c = self.shape(ins[0])
        sizes = self.init(np.array([n, c, oh, ow], np.int64), "sizes")
        roi = self.init(np.zeros(0, np.float32), "roi")
        scales = self.init(np.zeros(0, np.float32), "scales")
        self.node(
            "Resize",
            [self.tname(ins[0]), roi, scales, sizes],
            [self.tname(outs[0])],
            mode="linear",
            coordinate_transformation_mode=mode,
        )

    def op_CUSTOM_Convolution2DTransposeBias(self, op, ins, outs) -> None:
        raw = op.CustomOptionsAsNumpy().tobytes()
        padding, stride_w, stride_h = struct.unpack("<3i", raw[:12])
        weight = self.const(ins[1])  # (O, kh, kw, I)
        bias = self.const(ins[2])
        kernel = weight.transpose(3, 0, 1, 2)  # ONNX ConvTranspose: (I, O, kh, kw)
        kh, kw = kernel.shape[2:]
        _, h, w, _ = self.shape(ins[0])
        _, oh, ow, _ = self.shape(outs[0])
        if padding == self.tfl.Padding.SAME:
            th = max((h - 1) * stride_h + kh - oh, 0)
            tw = max((w - 1) * stride_w + kw - ow, 0)
            pads = [th // 2, tw // 2, th - th // 2, tw - tw // 2]
        else:
            pads = [0, 0, 0, 0]
        self.node(
            "ConvTranspose",
            [self.tname(ins[0]), self.init(kernel, "w"), self.init(bias.reshape(-1), "b")],
            [self.tname(outs[0])],
            kernel_shape=[kh, kw],
            strides=[stride_h, stride_w],
            pads=pads,
        )


def _topological(nodes: list, known: set[str]) -> list:
    """``nodes`` reordered so that each comes after the nodes computing its inputs (a fused activation is
    emitted before the op feeding it)."""
    known, pending, done = set(known), list(nodes), []
    while pending:
        ready = [n for n in pending if all(i in known for i in n.input if i)]
        if not ready:
            raise ValueError(f"the graph has a cycle or an undefined input near {pending[0].name}")
        for n in ready:
            known.update(n.output)
            done.append(n)
        pending = [n for n in pending if n not in ready]
    return done


def test_images(n: int = 6) -> list[np.ndarray]:
    """256x256 RGB test inputs in [0, 1]: smooth gradients, noise and a synthetic head-and-shoulders shape."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:256, 0:256] / 255.0
    images = [np.dstack([xx, yy, 1 - xx]), rng.random((256, 256, 3))]
    for i in range(n - 2):
        bg = rng.random(3) * np.ones((256, 256, 3))
        head = ((xx - 0.5) / 0.18) ** 2 + ((yy - 0.42) / 0.24) ** 2 < 1
        body = ((xx - 0.5) / (0.45 + 0.05 * i)) ** 2 + ((yy - 1.05) / 0.4) ** 2 < 1
        img = bg.copy()
        img[head] = (0.85, 0.65, 0.55)
        img[body] = rng.random(3)
        images.append(np.clip(img + rng.normal(0, 0.02 * i, img.shape), 0, 1))
    try:  # a real head-and-shoulders portrait: NASA's astronaut (public domain), whole and its upper part
        import cv2
        import skimage.data

        portrait = skimage.data.astronaut()
        for crop in (portrait, portrait[:300, 60:360]):
            images.append(cv2.resize(crop, (256, 256), interpolation=cv2.INTER_AREA) / 255.0)
    except ImportError:
        print("scikit-image is not installed: comparing on synthetic images only")
    return [(np.round(im * 255) / 255).astype(np.float32) for im in images]  # exact 8-bit values


def mediapipe_reference(out: Path) -> None:
    """Run MediaPipe's own graph on the test images (a Python with mediapipe==0.10.21) and save its masks."""
    import mediapipe as mp

    masks = []
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        for im in test_images():
            rgb = np.ascontiguousarray((im * 255).round().astype(np.uint8))
            masks.append(seg.process(rgb).segmentation_mask.astype(np.float32))
    np.savez(out, masks=np.stack(masks), version=mp.__version__)
    print(f"MediaPipe {mp.__version__}: {len(masks)} masks written to {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tflite", type=Path, nargs="?", help="selfie_segmentation.tflite from mediapipe==0.10.21")
    parser.add_argument("--out", type=Path, default=ROOT / "minface" / "models" / "selfie_segmentation.onnx")
    parser.add_argument("--reference", type=Path, help="masks saved by --mediapipe-reference, to compare against")
    parser.add_argument("--mediapipe-reference", type=Path, metavar="NPZ", help="only save MediaPipe's masks to NPZ")
    args = parser.parse_args()
    if args.mediapipe_reference:
        mediapipe_reference(args.mediapipe_reference)
        return 0
    if args.tflite is None:
        parser.error("give the .tflite file")
    data = args.tflite.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != SOURCE_SIZE or digest != SOURCE_SHA256:
        print(f"{args.tflite}: {len(data)} bytes, sha256 {digest}; expected {SOURCE_SIZE} bytes, {SOURCE_SHA256}")
        return 1

    import onnx

    model = Converter(data).convert()
    onnx.checker.check_model(model, full_check=True)
    blob = model.SerializeToString()
    args.out.write_bytes(blob)
    print(f"wrote {args.out} ({len(blob):,} bytes), sha256 {hashlib.sha256(blob).hexdigest()}")

    import cv2
    import onnxruntime as ort

    sess = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    net = cv2.dnn.readNetFromONNX(np.frombuffer(blob, np.uint8))
    images = test_images()
    worst = {"opencv-vs-onnxruntime": 0.0}
    ort_masks = []
    for im in images:
        x = im.transpose(2, 0, 1)[None]
        m_ort = sess.run(["mask"], {"input": x})[0][0, 0]
        net.setInput(x)
        m_cv = net.forward()[0, 0]
        ort_masks.append(m_ort)
        worst["opencv-vs-onnxruntime"] = max(worst["opencv-vs-onnxruntime"], float(np.abs(m_ort - m_cv).max()))
    if args.reference:
        ref = np.load(args.reference)
        worst[f"onnxruntime-vs-mediapipe-{ref['version']}"] = float(np.abs(np.stack(ort_masks) - ref["masks"]).max())
    for k, v in worst.items():
        print(f"max |difference| {k}: {v:.2e}")
    return 0 if all(v < 1e-3 for v in worst.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
