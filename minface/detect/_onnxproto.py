"""A tiny ONNX protobuf editor, so the bundled model runs at any input size.

The CenterFace file is an old PyTorch export: its input and outputs declare a
fixed shape ``(10, 3, 32, 32)`` and every weight is also listed as a graph
input. ONNX Runtime refuses other input sizes and cannot constant-fold weights
that are graph inputs. The usual fix needs the ``onnx`` package (tens of MB)
only to rename a few dimensions; this module edits the protobuf wire format
directly instead, touching nothing but:

* graph inputs that are weights (initializers) are dropped from the input list;
* initializers no node reads (BatchNorm ``num_batches_tracked`` counters) are dropped;
* the image input and the four outputs get symbolic ``batch``/``height``/``width``
  dimensions, keeping their channel counts.

Every other byte (nodes, weights, opsets) is copied unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator

# protobuf wire types
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# field numbers from onnx.proto
_MODEL_GRAPH = 7
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT, _GRAPH_VALUE_INFO = 1, 5, 11, 12, 13
_NODE_INPUT = 1
_TENSOR_NAME = 8
_VALUEINFO_NAME, _VALUEINFO_TYPE = 1, 2
_TYPE_TENSOR = 1
_TENSORTYPE_ELEM, _TENSORTYPE_SHAPE = 1, 2
_SHAPE_DIM = 1
_DIM_VALUE, _DIM_PARAM = 1, 2


class ProtobufError(ValueError):
    """The bytes are not the protobuf message they were expected to be."""


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ProtobufError("truncated or overlong varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _fields(buf: bytes) -> Iterator[tuple[int, int, bytes | int]]:
    """Yield ``(field, wire_type, value)``; value is bytes for LEN/I32/I64, int for VARINT."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos)
            yield field, wire, value
        elif wire == _LEN:
            size, pos = _read_varint(buf, pos)
            if pos + size > len(buf):
                raise ProtobufError("length-delimited field runs past the end")
            yield field, wire, buf[pos : pos + size]
            pos += size
        elif wire in (_I64, _I32):
            size = 8 if wire == _I64 else 4
            yield field, wire, buf[pos : pos + size]
            pos += size
        else:
            raise ProtobufError(f"unsupported wire type {wire}")


def _encode(field: int, wire: int, value: bytes | int) -> bytes:
    key = _varint(field << 3 | wire)
    if wire == _VARINT:
        assert isinstance(value, int)
        return key + _varint(value)
    assert isinstance(value, bytes)
    if wire == _LEN:
        return key + _varint(len(value)) + value
    return key + value


def _first_string(msg: bytes, field: int) -> str:
    for f, w, v in _fields(msg):
        if f == field and w == _LEN:
            assert isinstance(v, bytes)
            return v.decode("utf-8")
    return ""


def _tensor_dims(value_info: bytes) -> tuple[int, list[int | str]]:
    """Element type and dims of a ValueInfoProto holding a tensor type."""
    elem, dims = 0, []
    for f, _, v in _fields(value_info):
        if f != _VALUEINFO_TYPE:
            continue
        for f2, _, v2 in _fields(v):  # TypeProto
            if f2 != _TYPE_TENSOR:
                continue
            for f3, _, v3 in _fields(v2):  # TypeProto.Tensor
                if f3 == _TENSORTYPE_ELEM:
                    elem = v3
                elif f3 == _TENSORTYPE_SHAPE:
                    for f4, _, v4 in _fields(v3):
                        if f4 == _SHAPE_DIM:
                            dim: int | str = 0
                            for f5, _, v5 in _fields(v4):
                                if f5 == _DIM_VALUE:
                                    dim = v5
                                elif f5 == _DIM_PARAM:
                                    dim = v5.decode("utf-8")
                            dims.append(dim)
    return elem, dims


def _value_info(name: str, elem_type: int, dims: list[int | str]) -> bytes:
    shape = b""
    for d in dims:
        dim = _encode(_DIM_PARAM, _LEN, d.encode()) if isinstance(d, str) else _encode(_DIM_VALUE, _VARINT, d)
        shape += _encode(_SHAPE_DIM, _LEN, dim)
    tensor = _encode(_TENSORTYPE_ELEM, _VARINT, elem_type) + _encode(_TENSORTYPE_SHAPE, _LEN, shape)
    type_proto = _encode(_TYPE_TENSOR, _LEN, tensor)
    return _encode(_VALUEINFO_NAME, _LEN, name.encode()) + _encode(_VALUEINFO_TYPE, _LEN, type_proto)


def make_dynamic(model: bytes) -> bytes:
    """Return ``model`` with dynamic ``(batch, C, height, width)`` image input and outputs.

    4-D inputs/outputs are made dynamic, keeping their channel dimension; 3-D outputs
    ``(1, anchors, channels)`` (YuNet's) get a dynamic number of anchors.

    >>> make_dynamic(b"")
    b''
    """
    out = bytearray()
    for field, wire, value in _fields(model):
        if field == _MODEL_GRAPH and wire == _LEN:
            assert isinstance(value, bytes)
            value = _dynamic_graph(value)
        out += _encode(field, wire, value)
    return bytes(out)


def _dynamic_graph(graph: bytes) -> bytes:
    fields = list(_fields(graph))
    used: set[str] = set()
    initializers: set[str] = set()
    for field, _, value in fields:
        if field == _GRAPH_NODE:
            used.update(v.decode("utf-8") for f, w, v in _fields(value) if f == _NODE_INPUT and w == _LEN)
        elif field == _GRAPH_INITIALIZER:
            initializers.add(_first_string(value, _TENSOR_NAME))
    out = bytearray()
    for field, wire, value in fields:
        if field == _GRAPH_INITIALIZER and _first_string(value, _TENSOR_NAME) not in used:
            continue
        if field == _GRAPH_INPUT:
            name = _first_string(value, _VALUEINFO_NAME)
            if name in initializers:
                continue
            value = _symbolic_4d(name, value, "height", "width")
        elif field == _GRAPH_OUTPUT:
            value = _symbolic_4d(_first_string(value, _VALUEINFO_NAME), value, "out_height", "out_width")
        elif field == _GRAPH_VALUE_INFO:
            continue  # intermediate shapes were traced at the fixed size; let the runtime infer them
        out += _encode(field, wire, value)
    return bytes(out)


def _symbolic_4d(name: str, value_info: bytes, height: str, width: str) -> bytes:
    elem, dims = _tensor_dims(value_info)
    if len(dims) == 3 and height.startswith("out"):  # (1, anchors, channels): anchors follow the input size
        return _value_info(name, elem, [dims[0], f"{name}_anchors", dims[2]])
    if len(dims) != 4:
        return value_info
    return _value_info(name, elem, ["batch", dims[1], height, width])


# NodeProto and AttributeProto fields
_NODE_OUTPUT, _NODE_NAME, _NODE_OP_TYPE, _NODE_ATTRIBUTE = 2, 3, 4, 5
_ATTR_NAME, _ATTR_I, _ATTR_INTS, _ATTR_TYPE = 1, 3, 8, 20
_ATTR_INT, _ATTR_INTS_TYPE = 2, 7
_FLOAT, _UINT8 = 1, 2  # TensorProto.DataType


def _node(op: str, inputs: list[str], outputs: list[str], name: str, attrs: list[bytes]) -> bytes:
    msg = b"".join(_encode(_NODE_INPUT, _LEN, i.encode()) for i in inputs)
    msg += b"".join(_encode(_NODE_OUTPUT, _LEN, o.encode()) for o in outputs)
    msg += _encode(_NODE_NAME, _LEN, name.encode()) + _encode(_NODE_OP_TYPE, _LEN, op.encode())
    return msg + b"".join(_encode(_NODE_ATTRIBUTE, _LEN, a) for a in attrs)


def _int_attr(name: str, value: int) -> bytes:
    return _encode(_ATTR_NAME, _LEN, name.encode()) + _encode(_ATTR_I, _VARINT, value) + _encode(_ATTR_TYPE, _VARINT, _ATTR_INT)


def _ints_attr(name: str, values: list[int]) -> bytes:
    body = b"".join(_encode(_ATTR_INTS, _VARINT, v) for v in values)
    return _encode(_ATTR_NAME, _LEN, name.encode()) + body + _encode(_ATTR_TYPE, _VARINT, _ATTR_INTS_TYPE)


def with_pixel_input(model: bytes, image_input: str, pixel_input: str = "pixels") -> bytes:
    """Return ``model`` taking ``uint8`` RGB pixels ``(batch, height, width, 3)`` instead of its float NCHW input.

    Two nodes are put in front of the graph: a ``Transpose`` to NCHW and a ``Cast``
    to float, feeding the old input's name, so every other node is unchanged and
    the network sees exactly the values it saw before. The runtime then does the
    layout change (on the GPU, for the CUDA provider), and the caller hands over a
    quarter of the bytes.

    >>> with_pixel_input(b"", "input.1")
    b''
    """
    out = bytearray()
    for field, wire, value in _fields(model):
        if field == _MODEL_GRAPH and wire == _LEN:
            assert isinstance(value, bytes)
            value = _pixel_graph(value, image_input, pixel_input)
        out += _encode(field, wire, value)
    return bytes(out)


def _pixel_graph(graph: bytes, image_input: str, pixel_input: str) -> bytes:
    nchw = f"{pixel_input}_nchw"
    prefix = _encode(
        _GRAPH_NODE, _LEN, _node("Transpose", [pixel_input], [nchw], "minface_pixels_to_nchw", [_ints_attr("perm", [0, 3, 1, 2])])
    ) + _encode(_GRAPH_NODE, _LEN, _node("Cast", [nchw], [image_input], "minface_pixels_to_float", [_int_attr("to", _FLOAT)]))
    out = bytearray()
    placed = found = False
    for field, wire, value in _fields(graph):
        if field == _GRAPH_NODE and not placed:
            out += prefix
            placed = True
        if field == _GRAPH_INPUT and _first_string(value, _VALUEINFO_NAME) == image_input:  # type: ignore[arg-type]
            value = _value_info(pixel_input, _UINT8, ["batch", "height", "width", 3])
            found = True
        out += _encode(field, wire, value)
    if not found:
        raise ProtobufError(f"the model has no input named {image_input!r}")
    return bytes(out)
