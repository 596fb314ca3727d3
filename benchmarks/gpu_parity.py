"""Do the GPU's detections match the CPU's? The same photos through both, face by face.

    python benchmarks/gpu_parity.py                       # 100 WIDER images, balanced
    python benchmarks/gpu_parity.py --presets fast,balanced --limit 50

Both runs use the fp32 weights (what ``device="cuda"`` runs), so any difference
comes from the kernels' rounding (cuDNN against ONNX Runtime's CPU kernels). A
GPU face *matches* a CPU face when their boxes overlap with IoU >= 0.5
(greedy, best score first). Reported per preset: faces found by each, the share
of each side's faces matched by the other, the largest box-corner difference and
score difference among matched faces, and coverage recall on the annotated faces
(``benchmarks/accuracy.py``'s metric) for both, plus the CPU's preset weights
(int8 for ``fast`` and ``balanced``) for reference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from accuracy import DEFAULT_DATA, load_items, score_image, summarize  # noqa: E402


def match(a: np.ndarray, b: np.ndarray, iou: float = 0.5) -> list[tuple[int, int]]:
    """Greedy pairs ``(i, j)`` of boxes in ``a`` and ``b`` (both best first) with IoU >= ``iou``."""
    from minface.detect.centerface import iou_matrix

    if len(a) == 0 or len(b) == 0:
        return []
    m = iou_matrix(a, b)
    pairs, used = [], set()
    for i in range(len(a)):
        order = [j for j in np.argsort(-m[i]) if j not in used and m[i, j] >= iou]
        if order:
            pairs.append((i, int(order[0])))
            used.add(int(order[0]))
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with annotations.json (default: %(default)s)")
    parser.add_argument("--presets", default="balanced", help="comma-separated presets (default: balanced)")
    parser.add_argument("--limit", type=int, default=100, help="first N images by name (default 100)")
    parser.add_argument("--device", default="cuda", help="the device compared with the CPU (default cuda)")
    args = parser.parse_args()
    if not (args.data / "annotations.json").is_file():
        print(f"no annotations.json in {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    import minface

    items = load_items(args.data, args.limit)
    images = [minface.load_image(args.data / name) for name, _ in items]
    print(f"{len(items)} images\n")
    print("| preset | faces CPU fp32 | faces GPU | CPU matched | GPU matched | max box diff px | max score diff "
          "| recall CPU fp32 | recall GPU | recall CPU preset weights |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for preset in filter(None, args.presets.split(",")):
        gpu = minface.Detector(preset, device=args.device)
        cpu = minface.Detector(preset, device="cpu", model="fp32")
        ref = minface.Detector(preset, device="cpu")
        found = {"cpu": [], "gpu": [], "ref": []}
        n_cpu = n_gpu = n_match = 0
        box_diff = score_diff = 0.0
        for im in images:
            fc, fg = cpu(im), gpu(im)
            found["cpu"].append(fc.xyxy)
            found["gpu"].append(fg.xyxy)
            found["ref"].append(ref(im).xyxy)
            pairs = match(fc.xyxy, fg.xyxy)
            n_cpu, n_gpu, n_match = n_cpu + len(fc), n_gpu + len(fg), n_match + len(pairs)
            for i, j in pairs:
                box_diff = max(box_diff, float(np.abs(fc.xyxy[i] - fg.xyxy[j]).max()))
                score_diff = max(score_diff, float(abs(fc.scores[i] - fg.scores[j])))
        recall = {
            k: summarize([score_image(ann, b, 0.3) for (_, ann), b in zip(items, v)], [])["recall"] for k, v in found.items()
        }
        print(
            f"| {preset} | {n_cpu} | {n_gpu} | {n_match / max(n_cpu, 1):.4f} | {n_match / max(n_gpu, 1):.4f} "
            f"| {box_diff:.2f} | {score_diff:.4f} | {recall['cpu']:.4f} | {recall['gpu']:.4f} | {recall['ref']:.4f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
