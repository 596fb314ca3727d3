"""Do OpenVINO and ONNX Runtime find the same faces? The same photos through both, face by face.

    python benchmarks/runtime_parity.py                          # wider-dev, balanced, preset weights
    python benchmarks/runtime_parity.py --presets fast,balanced --model fp32 --limit 50

Both runtimes run the same model bytes on the CPU with one thread; they do not
round the same way (int8 least of all), so faces are compared, not scores. An
OpenVINO face *matches* an ONNX Runtime face when their boxes overlap with
IoU >= 0.5 (greedy, best score first). Reported per preset: faces found by each,
the share of each side's faces matched by the other, coverage recall
(``benchmarks/accuracy.py``'s metric) overall and per size bin for both and the
largest per-bin difference, and the detector's seconds per image for both. The
targets: >= 99.5% of faces matched both ways, every bin's recall within 0.005.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from accuracy import DEFAULT_DATA, SIZE_BINS, load_items, score_image, summarize  # noqa: E402
from gpu_parity import match  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with annotations.json (default: %(default)s)")
    parser.add_argument("--presets", default="balanced", help="comma-separated presets (default: balanced)")
    parser.add_argument("--model", choices=["fp32", "int8"], default=None, help="weights (default: the preset's)")
    parser.add_argument("--limit", type=int, default=None, help="first N images by name (default: all)")
    parser.add_argument("--threads", type=int, default=1, help="inference threads (default 1)")
    args = parser.parse_args()
    if not (args.data / "annotations.json").is_file():
        print(f"no annotations.json in {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    import minface

    items = load_items(args.data, args.limit)
    bins = [name for name, _, _ in SIZE_BINS]
    print(f"{len(items)} images, {args.threads} thread(s)\n")
    print("| preset | model | faces ORT | faces OV | ORT matched | OV matched | recall ORT | recall OV "
          "| max bin diff | s/img ORT | s/img OV |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    failed = False
    for preset in filter(None, args.presets.split(",")):
        ort = minface.Detector(preset, backend="onnxruntime", model=args.model, threads=args.threads)
        ov = minface.Detector(preset, backend="openvino", model=args.model, threads=args.threads)
        found: dict[str, list] = {"ort": [], "ov": []}
        secs = {"ort": 0.0, "ov": 0.0}
        n_ort = n_ov = n_match = 0
        for name, _ in items:
            im = minface.load_image(args.data / name)
            faces = {}
            for key, det in (("ort", ort), ("ov", ov)):
                t = time.perf_counter()
                faces[key] = det(im)
                secs[key] += time.perf_counter() - t
                found[key].append(faces[key].xyxy)
            pairs = match(faces["ort"].xyxy, faces["ov"].xyxy)
            n_ort, n_ov, n_match = n_ort + len(faces["ort"]), n_ov + len(faces["ov"]), n_match + len(pairs)
        rows = {k: summarize([score_image(ann, b, 0.3) for (_, ann), b in zip(items, v)], []) for k, v in found.items()}
        diff = max(abs(rows["ort"][b] - rows["ov"][b]) for b in bins)
        m_ort, m_ov = n_match / max(n_ort, 1), n_match / max(n_ov, 1)
        failed |= min(m_ort, m_ov) < 0.995 or diff > 0.005
        print(
            f"| {preset} | {ort.model} | {n_ort} | {n_ov} | {m_ort:.4f} | {m_ov:.4f} | {rows['ort']['recall']:.4f} "
            f"| {rows['ov']['recall']:.4f} | {diff:.4f} | {secs['ort'] / len(items):.3f} | {secs['ov'] / len(items):.3f} |"
        )
        print("\n| bin | " + " | ".join(bins) + " |\n|---|" + "---|" * len(bins))
        for key, label in (("ort", "ONNX Runtime"), ("ov", "OpenVINO")):
            print(f"| {label} | " + " | ".join(f"{rows[key][b]:.4f}" for b in bins) + " |")
        print()
    print("parity: " + ("FAILED" if failed else "ok (>= 99.5% matched both ways, every bin within 0.005)"))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
