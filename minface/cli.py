"""Command line: ``minface <command> ...``. A thin layer over the Python API.

Exit codes: 0 success, 1 some inputs failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

EPILOG = """\
examples:
  minface detect photo.jpg                  faces as a table
  minface detect --json --preset fast *.jpg one JSON object per image
  minface presets                           what each preset costs and finds
  minface inspect photo.jpg                 the metadata a file carries
  minface strip photos/ -o clean/           copies without metadata (tree mirrored)

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

    _add_metadata_commands(sub)
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


# ---------------------------------------------------------------------------
# inspect / strip (metadata)
# ---------------------------------------------------------------------------


def _add_metadata_commands(sub: argparse._SubParsersAction) -> None:
    i = sub.add_parser(
        "inspect",
        help="list the metadata of image files",
        description="List the metadata each file carries: EXIF (GPS, maker notes, serials, thumbnail), XMP "
        "(face regions, names), IPTC, ICC profile, comments, other segments and chunks, trailing data.",
    )
    i.add_argument("files", nargs="+", metavar="FILE", help="image files")
    i.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    i.set_defaults(func=_cmd_inspect)

    s = sub.add_parser(
        "strip",
        help="write copies of images without metadata",
        description="Write copies of images without metadata: lossless for JPEG, PNG, WebP and GIF, re-encoded "
        "for TIFF, BMP, HEIF and AVIF. A folder is walked recursively and its tree mirrored under OUTDIR; "
        "files in it that are not images are skipped. A file that fails leaves no output.",
    )
    s.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    s.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder (created if missing)")
    s.add_argument(
        "--apply-orientation",
        action="store_true",
        help="turn the pixels upright instead of keeping an orientation-only EXIF tag (re-encodes JPEG)",
    )
    s.add_argument(
        "--icc",
        choices=["clean", "drop"],
        default="clean",
        help="colour profiles: keep a clean copy (default; sRGB is dropped) or drop them all",
    )
    s.add_argument("--no-verify", action="store_true", help="do not decode the outputs to compare pixels")
    s.add_argument("--json", action="store_true", help="print one JSON document instead of a line per file")
    s.set_defaults(func=_cmd_strip)


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .errors import MinfaceError
    from .metadata import inspect

    status, records = EXIT_OK, []
    for name in args.files:
        try:
            report = inspect(Path(name))
        except (MinfaceError, OSError) as exc:
            status = EXIT_FAILED
            if args.json:
                records.append({"source": name, "status": "error", "error": str(exc)})
            else:
                print(f"{name}: error: {exc}", file=sys.stderr)
            continue
        if args.json:
            records.append({**report.to_dict(), "status": "ok"})
        else:
            print(report.to_text(), end="\n\n")
    if args.json:
        print(json.dumps(records, indent=1, ensure_ascii=False))
    return status


def _cmd_strip(args: argparse.Namespace) -> int:
    outdir = Path(args.output)
    if outdir.exists() and not outdir.is_dir():
        print(f"minface strip: error: {outdir} exists and is not a folder", file=sys.stderr)
        return EXIT_USAGE
    results = strip_many(
        args.inputs,
        outdir,
        keep_orientation=not args.apply_orientation,
        icc=args.icc,
        verify=not args.no_verify,
        echo=None if args.json else print,
    )
    counts = {k: sum(r["status"] == k for r in results) for k in ("ok", "failed", "skipped")}
    if args.json:
        print(json.dumps(results, indent=1, ensure_ascii=False))
    else:
        print(f"{counts['ok']} stripped, {counts['failed']} failed, {counts['skipped']} skipped")
    return EXIT_FAILED if counts["failed"] else EXIT_OK


def _strip_plan(inputs: Sequence[str | os.PathLike], outdir: Path) -> Iterator[tuple[Path, Path | None, bool]]:
    """(source, destination or None if missing, named explicitly) for every file under ``inputs``."""
    out_resolved = outdir.resolve()
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                here = Path(folder)
                dirs[:] = sorted(d for d in dirs if (here / d).resolve() != out_resolved)
                for name in sorted(files):
                    yield here / name, outdir / (here / name).relative_to(path), False
        else:
            yield path, (outdir / path.name) if path.exists() else None, True


def strip_many(
    inputs: Sequence[str | os.PathLike],
    outdir: str | os.PathLike,
    *,
    keep_orientation: bool = True,
    icc: str = "clean",
    verify: bool = True,
    echo: Callable[[str], object] | None = print,
) -> list[dict]:
    """Strip every image under ``inputs`` into ``outdir``, one result dict per file, errors included.

    Files are written to ``outdir/<name>``; folders are walked recursively and
    mirrored under ``outdir``. Files met while walking that are not images are
    ``"skipped"``; named files that are not images, and files that fail, are
    ``"failed"`` and leave no output. The per-file work is
    :func:`minface.metadata.strip`.
    """
    from .errors import MinfaceError
    from .metadata import sniff_format, strip

    outdir = Path(outdir)
    results: list[dict] = []
    used: dict[Path, str] = {}

    def record(result: dict) -> None:
        results.append(result)
        if echo is None:
            return
        if result["status"] == "ok":
            echo(f"ok    {result['source']} -> {result['destination']} ({result['method']}; removed "
                 f"{', '.join(result['removed']) or 'nothing'})")
        else:
            echo(f"{'skip' if result['status'] == 'skipped' else 'FAIL':5s} {result['source']}: {result['reason']}")

    for src, dst, explicit in _strip_plan(inputs, outdir):
        base = {"source": os.fspath(src), "destination": os.fspath(dst) if dst else None}
        if dst is None:
            record({**base, "status": "failed", "reason": "no such file or folder"})
            continue
        try:
            with open(src, "rb") as f:
                head = f.read(4096)
        except OSError as exc:
            record({**base, "status": "failed", "reason": f"cannot read ({exc.strerror or exc})"})
            continue
        if sniff_format(head) is None:
            status = "failed" if explicit else "skipped"
            record({**base, "status": status, "reason": "not an image file minface reads"})
            continue
        key = dst.resolve()
        if key in used:
            record({**base, "status": "failed", "reason": f"output name already taken by {used[key]}"})
            continue
        used[key] = os.fspath(src)
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            report = strip(src, dst, keep_orientation=keep_orientation, icc=icc, verify=verify)  # type: ignore[arg-type]
        except (MinfaceError, OSError, ValueError) as exc:
            record({**base, "status": "failed", "reason": str(exc)})
            continue
        except Exception as exc:  # one bad file must never stop the batch
            record({**base, "status": "failed", "reason": f"internal error: {type(exc).__name__}: {exc}"})
            continue
        sizes: dict[str, int] = {}
        for it in report.removed:
            sizes[it.kind] = sizes.get(it.kind, 0) + it.size
        removed = [f"{k} {v:,} B" if v else k for k, v in sizes.items()]
        record({**base, "status": "ok", "method": report.method, "removed": removed, "report": report.to_dict()})
    return results


if __name__ == "__main__":
    raise SystemExit(main())
