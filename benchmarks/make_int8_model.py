"""Build ``minface/models/centerface-int8.onnx`` from the bundled fp32 CenterFace.

The int8 model is the same network with weights and activations quantized to
8 bits (ONNX Runtime static quantization, QDQ format, per-channel weights). On a
CPU with VNNI it runs about twice as fast. Activation ranges are calibrated on
synthetic scenes made only from public-domain images shipped with scikit-image
(NASA's astronaut portrait pasted at 10-300 px onto coffee, cat, rocket, Hubble,
brick, grass, ... backgrounds, with brightness changes and noise), so the file
derives from no face dataset.

Needs the build-only packages ``onnx`` and ``scikit-image``:

    pip install onnx scikit-image onnxruntime
    python benchmarks/make_int8_model.py            # writes the model, prints its sha256

Validate with ``python benchmarks/accuracy.py`` before shipping a new one; then
update ``MODELS`` in ``minface/detect/runtimes.py`` and ``minface/models/NOTICE``.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def calibration_images(n: int = 32, seed: int = 0) -> list[np.ndarray]:
    import skimage.data as data

    rng = np.random.default_rng(seed)
    gray = [data.brick(), data.grass(), data.gravel(), data.camera()]
    backgrounds = [data.coffee(), data.chelsea(), data.rocket(), data.hubble_deep_field(), data.astronaut()]
    backgrounds += [np.dstack([g] * 3) for g in gray] + [data.retina(), data.immunohistochemistry()]
    face = data.astronaut()[30:250, 140:330]
    images = []
    for i in range(n):
        h, w = [(768, 1024), (1024, 768), (640, 960), (480, 640)][i % 4]
        im = cv2.resize(backgrounds[i % len(backgrounds)], (w, h)).astype(np.float32)
        for _ in range(int(rng.integers(3, 25))):
            size = float(np.exp(rng.uniform(np.log(10), np.log(300))))
            fw, fh = max(2, int(size * face.shape[1] / face.shape[0])), max(2, int(size))
            if fh >= h or fw >= w:
                continue
            patch = cv2.resize(face, (fw, fh), interpolation=cv2.INTER_AREA).astype(np.float32)
            y, x = int(rng.integers(0, h - fh)), int(rng.integers(0, w - fw))
            im[y : y + fh, x : x + fw] = patch * rng.uniform(0.5, 1.3)
        im = im * rng.uniform(0.6, 1.4) + rng.normal(0, rng.uniform(0, 8), im.shape)
        images.append(np.clip(im, 0, 255).astype(np.uint8))
    return images


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "minface" / "models" / "centerface-int8.onnx")
    args = parser.parse_args()

    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from minface.detect.centerface import to_blob
    from minface.detect.runtimes import MODELS, model_bytes

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(calibration_images())

        def get_next(self) -> dict[str, np.ndarray] | None:
            im = next(self._it, None)
            return None if im is None else {"input.1": to_blob([im])}

    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32-opset13.onnx"
        pre = Path(tmp) / "pre.onnx"
        model = onnx.load_from_string(model_bytes("fp32"))
        onnx.save(version_converter.convert_version(model, 13), fp32)  # per-channel QDQ needs opset >= 13
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        quantize_static(
            str(pre),
            str(args.out),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes) sha256 {digest}")
    if digest != MODELS["int8"].sha256:
        print("note: differs from the sha256 in minface/detect/runtimes.py; update it (and NOTICE) if you ship this file")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
