"""``minface crop-id``: the ID photo a document needs, from a photo or a folder of them."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .._cli_conventions import Console
from ..engine.records import skip_record
from ..errors import MinfaceError
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, is_walked_folder, make_detector, reason_of, walked

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``minface crop-id``; the exit code (0: every photo written and compliant)."""
    from ..errors import ImageError
    from ..idphoto import paper_size
    from ..images import _save_format

    prog = "minface crop-id"
    if not 1 <= args.quality <= 100:
        print(f"{prog}: error: --quality must be 1-100", file=sys.stderr)
        return EXIT_USAGE
    face: str | int = "largest"
    if args.face != "largest":
        try:
            face = int(args.face) - 1
        except ValueError:
            face = -1
        if face < 0:
            print(f"{prog}: error: --face must be 'largest' or a face number from 1, got {args.face!r}", file=sys.stderr)
            return EXIT_USAGE
    out = Path(args.output)
    several = len(args.inputs) > 1 or any(is_walked_folder(i) for i in args.inputs)
    try:
        if args.sheet is not None:
            paper_size(args.sheet)
        if not several:
            _save_format(None, args.output)
    except (ImageError, ValueError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if several:
        if out.exists() and not out.is_dir():
            print(f"{prog}: error: {out} is not a folder; a folder input or several inputs need -o a folder", file=sys.stderr)
            return EXIT_USAGE
        from ..media import format_of_extension

        if not out.exists() and format_of_extension(out) is not None:
            print(
                f"{prog}: error: -o {out} is named like a file, but a folder input or several inputs need an output "
                "folder: give -o a folder name",
                file=sys.stderr,
            )
            return EXIT_USAGE
        pairs = list(_crop_targets(args, out))
    else:
        if out.is_dir():
            print(f"{prog}: error: {out} is a folder; give the output file's name", file=sys.stderr)
            return EXIT_USAGE
        pairs = [(args.inputs[0], out, None)]
    detector = make_detector(args)
    console = Console(verbose=args.verbose, quiet=args.quiet)
    status, done, failed = EXIT_OK, 0, 0
    for name, target, rec in pairs:
        if rec is not None:  # not a photo: skipped with its reason, or an error
            if rec["status"] == "error":
                status, failed = EXIT_FAILED, failed + 1
                console.error(name, rec.get("error"))
            else:
                console.skipped(rec)
            if args.json:
                print(json.dumps(rec))
            continue
        if target.exists() and not args.overwrite:  # as scrub does: a skip, its reason grouped under the summary
            rec = skip_record(name, "output exists", target)
            console.skipped(rec)
            if args.json:
                print(json.dumps(rec))
            continue
        code = _crop_one(args, detector, name, target, face)
        done += code == EXIT_OK
        failed += code != EXIT_OK
        status = max(status, code)
    if several or console.skips:
        console.finish(f"{len(pairs)} file(s): {done} compliant, {failed} failed or not compliant, "
                       f"{len(pairs) - done - failed} skipped")
    return status


def _crop_targets(args: argparse.Namespace, out: Path):  # noqa: ANN202 - yields (input, output, record or None)
    """Each input photo and its ID photo under ``out`` (the tree below a folder input mirrored, named ``.jpg``)."""
    for raw in args.inputs:
        base = Path(os.path.abspath(raw))
        for name, rec in walked(args, [raw]):
            rel = Path(os.path.abspath(name)).relative_to(base) if is_walked_folder(raw) else Path(Path(name).name)
            yield name, (out / rel).with_suffix(".jpg"), rec


def _crop_one(args: argparse.Namespace, detector, name: str, out: Path, face: str | int) -> int:  # noqa: ANN001
    """Crop one photo to ``out``; the exit code of that file (0 compliant, 1 otherwise)."""
    from ..errors import IdPhotoError
    from ..idphoto import crop_id
    from ..images import load_image

    prog = "minface crop-id"
    try:
        pixels = load_image(Path(name), max_pixels=args.max_pixels)
        faces = detector(pixels)
        if isinstance(face, int) and face >= len(faces):
            raise IdPhotoError(f"no face number {face + 1}: {len(faces)} face(s) found", reason="no_face")
        photo = crop_id(
            pixels,
            args.spec,
            face=face,
            background=args.background,
            keep_background=args.keep_background,
            detector=detector,
            faces=faces,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.sheet is not None:
            photo.save_sheet(out, args.sheet, quality=args.quality)
        else:
            photo.save(out, quality=args.quality)
    except IdPhotoError as exc:
        if args.json:
            print(json.dumps({"input": name, "output": None, "status": "error", "reason": exc.reason, "error": str(exc)}))
        print(f"{prog}: {name}: {exc.reason}: {reason_of(exc, name)}", file=sys.stderr)
        return EXIT_FAILED
    except (MinfaceError, OSError) as exc:
        if args.json:
            print(json.dumps({"input": name, "output": None, "status": "error", "reason": "unreadable", "error": str(exc)}))
        print(f"{prog}: {name}: error: {reason_of(exc, name)}", file=sys.stderr)
        return EXIT_FAILED
    status = "ok" if photo.ok else "not_compliant"
    if args.json:
        record = {"input": name, "output": str(out), "status": status, "bytes": out.stat().st_size, **photo.to_dict()}
        if args.sheet is not None:
            record["sheet"] = args.sheet
        print(json.dumps(record))
    elif not args.quiet:
        print(f"{name} -> {out}{f' (print sheet, {args.sheet})' if args.sheet else ''}")
        print(photo.to_text())
    if not photo.ok:
        print(f"{prog}: {name}: not compliant: {', '.join(photo.failed)} failed", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
