"""Command line: ``minface <command> ...``. A thin layer over the Python API.

Exit codes: 0 success, 1 some inputs failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

EPILOG = """\
examples:
  minface detect photo.jpg                  faces as a table
  minface detect --json --preset fast *.jpg one JSON object per image
  minface presets                           what each preset costs and finds

exit codes: 0 all ok, 1 some inputs failed, 2 usage error
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits with 2 already; keep its message short
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _detector_options(p: argparse.ArgumentParser) -> None:
    from .detect import PRESETS

    g = p.add_argument_group("detection")
    g.add_argument(
        "--preset",
        choices=list(PRESETS),
        default="balanced",
        help="speed/recall trade-off (default: balanced; see `minface presets`)",
    )
    g.add_argument("--min-face", type=float, metavar="PX", help="smallest face to search for, in pixels")
    g.add_argument("--threshold", type=float, metavar="T", help="one score threshold (0-1) instead of the preset's")
    g.add_argument(
        "--backend",
        choices=["auto", "onnxruntime", "opencv"],
        default="auto",
        help="inference runtime (default: auto = ONNX Runtime if installed)",
    )
    g.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where to run the model (default: cpu)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="minface",
        description="Keep only the face data you need: find and destroy faces, crop ID photos, strip metadata.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"minface {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    d = sub.add_parser(
        "detect",
        help="find faces and print their boxes",
        description="Find faces in images (EXIF orientation applied) and print their boxes in upright pixels.",
    )
    d.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    d.add_argument("--json", action="store_true", help="print one JSON object per image instead of a table")
    _detector_options(d)
    d.set_defaults(func=_cmd_detect)

    pr = sub.add_parser("presets", help="list the detection presets", description="List the detection presets.")
    pr.set_defaults(func=_cmd_presets)
    return parser


def _make_detector(args: argparse.Namespace):
    from .detect import Detector

    return Detector(
        args.preset, min_face=args.min_face, threshold=args.threshold, backend=args.backend, device=args.device
    )


def _cmd_detect(args: argparse.Namespace) -> int:
    from .errors import MinfaceError
    from .images import load_image

    detector = _make_detector(args)
    status = EXIT_OK
    for name in args.images:
        try:
            faces = detector(load_image(Path(name)))
        except (MinfaceError, OSError) as exc:
            status = EXIT_FAILED
            if args.json:
                print(json.dumps({"input": name, "status": "error", "error": str(exc)}))
            else:
                print(f"{name}: error: {exc}", file=sys.stderr)
            continue
        if args.json:
            w, h = faces.image_size or (0, 0)
            record = {"input": name, "status": "ok", "width": w, "height": h, "detector": faces.detector}
            record["faces"] = faces.to_list()
            print(json.dumps(record))
        else:
            w, h = faces.image_size or (0, 0)
            print(f"{name}: {len(faces)} face(s) in {w}x{h}  [{faces.detector}]")
            for i, rec in enumerate(faces.to_list()):
                x1, y1, x2, y2 = rec["box"]
                print(f"  {i + 1:3d}  box {x1:7.1f} {y1:7.1f} {x2:7.1f} {y2:7.1f}  size {max(x2 - x1, y2 - y1):6.1f}  score {rec['score']:.2f}")
    return status


def _cmd_presets(args: argparse.Namespace) -> int:
    from .detect import PRESETS
    from .detect.multiscale import RELIABLE_MIN

    for p in PRESETS.values():
        top = min(p.max_scale, RELIABLE_MIN / p.min_face)
        print(f"{p.name:9s} faces from {p.min_face:g} px, largest scale {top:g}x, {p.model} weights: {p.summary}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, ImportError) as exc:  # bad option values, missing extras
        print(f"minface: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
