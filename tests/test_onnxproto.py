from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from minface.detect import _onnxproto as proto
from minface.detect.runtimes import MODELS, model_bytes

HAS_ORT = importlib.util.find_spec("onnxruntime") is not None


def test_varint_round_trip():
    for v in (0, 1, 127, 128, 300, 2**31, 2**63 - 1):
        enc = proto._varint(v)
        assert proto._read_varint(enc, 0) == (v, len(enc))


def test_garbage_is_rejected():
    with pytest.raises(proto.ProtobufError):
        proto.make_dynamic(b"\x3a\xff\xff\xff\x0f")  # graph field claiming 4 GB
    with pytest.raises(proto.ProtobufError):
        proto.make_dynamic(b"\x3f")  # wire type 7


def test_dynamic_model_keeps_every_node_and_weight():
    from importlib import resources

    raw = (resources.files("minface") / "models" / MODELS["fp32"].file).read_bytes()
    dyn = model_bytes("fp32")
    graph = lambda m: next(v for f, _, v in proto._fields(m) if f == proto._MODEL_GRAPH)  # noqa: E731
    fields = lambda m, n: [v for f, _, v in proto._fields(graph(m)) if f == n]  # noqa: E731
    assert fields(raw, proto._GRAPH_NODE) == fields(dyn, proto._GRAPH_NODE)
    inputs = [proto._first_string(v, 1) for v in fields(dyn, proto._GRAPH_INPUT)]
    assert inputs == ["input.1"]
    assert proto._tensor_dims(fields(dyn, proto._GRAPH_INPUT)[0]) == (1, ["batch", 3, "height", "width"])
    outs = [proto._tensor_dims(v)[1] for v in fields(dyn, proto._GRAPH_OUTPUT)]
    assert [o[1] for o in outs] == [1, 2, 2, 10] and all(o[2] == "out_height" for o in outs)
    # only unused initializers (BatchNorm counters) were dropped
    dropped = {proto._first_string(v, 8) for v in fields(raw, proto._GRAPH_INITIALIZER)} - {
        proto._first_string(v, 8) for v in fields(dyn, proto._GRAPH_INITIALIZER)
    }
    assert dropped and all(name.endswith("num_batches_tracked") for name in dropped)


@pytest.mark.skipif(not HAS_ORT, reason="onnxruntime not installed")
def test_runs_at_any_size_and_batch():
    import onnxruntime as ort

    sess = ort.InferenceSession(model_bytes("fp32"), providers=["CPUExecutionProvider"])
    for shape in [(1, 3, 32, 32), (2, 3, 96, 160), (1, 3, 480, 64)]:
        hm = sess.run(["537"], {"input.1": np.zeros(shape, np.float32)})[0]
        assert hm.shape == (shape[0], 1, shape[2] // 4, shape[3] // 4)


@pytest.mark.skipif(not HAS_ORT, reason="onnxruntime not installed")
@pytest.mark.parametrize("model", ["fp32", "int8"])
def test_pixel_input_gives_the_same_outputs(model):
    """The uint8 NHWC input the ONNX Runtime backend feeds: transposed and cast inside the model, same maps."""
    import onnxruntime as ort

    from minface.detect.centerface import to_blob

    plain = ort.InferenceSession(model_bytes(model), providers=["CPUExecutionProvider"])
    pixels = ort.InferenceSession(proto.with_pixel_input(model_bytes(model), "input.1"), providers=["CPUExecutionProvider"])
    assert [(i.name, i.type, i.shape) for i in pixels.get_inputs()] == [("pixels", "tensor(uint8)", ["batch", "height", "width", 3])]
    rng = np.random.default_rng(0)
    tiles = [rng.integers(0, 256, (70, 90, 3), dtype=np.uint8), rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)]
    want = plain.run(None, {"input.1": to_blob(tiles)})
    got = pixels.run(None, {"pixels": to_blob(tiles, "pixels")})
    for w, g in zip(want, got):
        np.testing.assert_array_equal(w, g)
    with pytest.raises(proto.ProtobufError, match="no input named"):
        proto.with_pixel_input(model_bytes(model), "missing")
