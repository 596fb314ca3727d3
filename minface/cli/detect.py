"""``minface detect``: face boxes of images, as a table or JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import EXIT_FAILED, EXIT_OK, make_detector, reason_of, walked

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``minface detect``; the exit code."""
    from ..errors import MinfaceError
    from ..images import load_image

    detector = make_detector(args)
    status = EXIT_OK
    for name, rec in walked(args, args.images):
        if rec is not None:
            if rec["status"] == "error":
                status = EXIT_FAILED
            if args.json:
                print(json.dumps(rec))
            elif rec["status"] == "error":
                print(f"{name}: error: {rec['error']}", file=sys.stderr)
            continue
        try:
            faces = detector(load_image(Path(name), max_pixels=args.max_pixels))
        except (MinfaceError, OSError) as exc:
            status = EXIT_FAILED
            if args.json:
                print(json.dumps({"input": name, "status": "error", "error": reason_of(exc, name)}))
            else:
                print(f"{name}: error: {reason_of(exc, name)}", file=sys.stderr)
            continue
        w, h = faces.image_size or (0, 0)
        if args.json:
            record = {"input": name, "status": "ok", "width": w, "height": h, "detector": faces.detector}
            record["faces"] = faces.to_list()
            print(json.dumps(record), flush=True)
            continue
        print(f"{name}: {len(faces)} face(s) in {w}x{h}  [{faces.detector}]")
        for i, rec in enumerate(faces.to_list()):
            x1, y1, x2, y2 = rec["box"]
            size = max(x2 - x1, y2 - y1)
            print(f"  {i + 1:3d}  box {x1:7.1f} {y1:7.1f} {x2:7.1f} {y2:7.1f}  size {size:6.1f}  score {rec['score']:.2f}")
        sys.stdout.flush()
    return status
