"""Command line: ``minface <command> ...``. A thin layer over the Python API.

Exit codes: 0 success (skipped non-images are not failures), 1 some inputs
failed (or, for ``verify``, something remains), 2 usage error, 130 interrupted
(Ctrl-C), 141 output pipe closed early, 143 stopped by SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from ._cli_conventions import Console, Parser, add_json, add_max_pixels, add_report, add_verbosity, positive_int
from .errors import MinfaceError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE, EXIT_TERMINATED = 0, 1, 2, 130, 141, 143

EPILOG = """\
examples:
  minface scrub photos/ -o clean/           destroy every face, strip all metadata (tree mirrored)
  minface scrub photos/ -o clean/ --report scrub.jsonl -j 4 --preset fast
  minface verify clean/ --scrub-report scrub.jsonl   audit: faces still intact? metadata left?
  minface strip photos/ -o clean/           metadata only, lossless for JPEG/PNG/WebP/GIF/HEIC/AVIF
  minface inspect photo.jpg                 the metadata a file carries
  minface detect photo.jpg                  face boxes as a table (--json for machines)
  minface presets                           what each detection preset costs and finds
  minface crop-id selfie.jpg -o id.jpg --spec us-passport   the ID photo a document needs, plain background
  minface specs                             the ID photo specifications crop-id knows

exit codes: 0 all ok (files that are not images are skipped, not failed), 1 some files failed
  (verify: something remains), 2 usage error, 130 interrupted (Ctrl-C), 141 output pipe closed,
  143 stopped by SIGTERM (finished files are kept; run again to finish)
"""


_Parser = Parser
_positive_int = positive_int


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def _color(text: str) -> tuple[int, int, int]:
    from .colors import parse_color

    try:
        return parse_color(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _glob(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty pattern")
    return text


def _detector_options(p: argparse.ArgumentParser, default_preset: str = "balanced", *, videos: bool = False) -> None:
    from ._defaults import DEFAULT_VIDEO_MIN_FACE
    from .detect import PRESETS

    g = p.add_argument_group("detection")
    g.add_argument(
        "--preset",
        choices=list(PRESETS),
        default=default_preset,
        help=f"speed/recall trade-off (default: {default_preset}; see `minface presets`)",
    )
    g.add_argument(
        "--min-face", type=float, metavar="PX",
        help="smallest face to search for, in pixels (default: the preset's"
        + (f"; videos: {DEFAULT_VIDEO_MIN_FACE:g})" if videos else ")"),
    )
    g.add_argument("--threshold", type=_fraction, metavar="T", help="one score threshold (0-1) instead of the preset's")
    g.add_argument(
        "--backend",
        choices=["auto", "openvino", "onnxruntime", "opencv"],
        default="auto",
        help="inference runtime (default: auto = ONNX Runtime if installed, else OpenVINO, else OpenCV)",
    )
    g.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where to run the model (default: cpu)")
    g.add_argument(
        "--upright-only",
        action="store_true",
        help=(
            "search images and video frames only as shown (default: also turned by 90, 180 and 270 degrees, for "
            "photos that lost their orientation tag and videos whose display matrix is lost or wrong)"
            if videos
            else "search images only as shown (default: also turned by 90, 180 and 270 degrees, for photos that "
            "lost their orientation tag)"
        ),
    )


def _select_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("which files (matched without regard to case; a pattern with / against the path below the input folder)")
    g.add_argument(
        "--include", action="append", default=[], type=_glob, metavar="GLOB",
        help="only files whose name matches GLOB (repeatable: any of them), e.g. --include '*.jpg'",
    )
    g.add_argument(
        "--exclude", action="append", default=[], type=_glob, metavar="GLOB",
        help="leave out files and folders that match GLOB (repeatable), e.g. --exclude '.git' --exclude '*/private/*'",
    )


def _detector(args: argparse.Namespace):  # noqa: ANN202 - a minface.Detector
    """The detector the options of :func:`_detector_options` ask for."""
    from .detect import Detector

    return Detector(
        args.preset,
        min_face=args.min_face,
        threshold=args.threshold,
        backend=args.backend,
        device=args.device,
        turned=not args.upright_only,
    )


def _batch_options(p: argparse.ArgumentParser, verb: str) -> None:
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT",
        help="image files or folders (walked recursively; files that are not images are skipped and never copied)",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "-o", "--output", metavar="OUT",
        help="output folder, the input tree mirrored in it (or, for one input file, an output file name such as out.jpg)",
    )
    where.add_argument(
        "--in-place",
        action="store_true",
        help="replace the originals (each only once its new version is complete; a journal lets a rerun resume)",
    )
    g = p.add_argument_group("batch")
    g.add_argument(
        "-j", "--jobs", type=_positive_int, metavar="N",
        help="worker processes (default: all CPUs" + ("; with --device cuda, half of them, at most 8)" if verb == "scrubbed" else ")"),
    )
    g.add_argument("--overwrite", action="store_true", help="replace existing outputs (default: skip them)")
    add_report(p, g)
    g.add_argument("--dry-run", action="store_true", help=f"list what would be {verb}, do nothing")
    add_verbosity(g)
    add_max_pixels(g)
    _select_options(p)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="minface",
        description="Keep only the face data you need: destroy faces, strip metadata, audit the result.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"minface {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser(
        "scrub",
        help="destroy every face and strip all metadata (files and folders)",
        description="Write copies of images with every detected face destroyed and no metadata, in the same format. "
        "Folders are walked recursively and mirrored under OUTDIR. Outputs appear only when complete; a rerun "
        "skips finished files; a file that fails leaves no output and is named in the report.",
    )
    _batch_options(s, "scrubbed")
    c = s.add_argument_group(
        "cluster (pip install 'minface[dask]'; INPUT and OUTDIR may then be URLs: s3://, gs://, az://, ...)"
    )
    on = c.add_mutually_exclusive_group()
    on.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786)"
    )
    on.add_argument("--dask", action="store_true", help="run on a local Dask cluster of -j single-threaded worker processes")
    r = s.add_argument_group("redaction")
    r.add_argument("--method", choices=["fill", "pixelate", "blur"], default="fill", help="default fill: the only irreversible one")
    r.add_argument("--shape", choices=["ellipse", "rect"], default="ellipse", help="region painted (default ellipse)")
    r.add_argument("--pad", type=float, default=0.3, help="growth of each face box per side, fraction of its size (default 0.3)")
    r.add_argument(
        "--color", type=_color, default=(0, 0, 0), metavar="COLOR",
        help="fill colour: a name (black, white, grey, ...), #RRGGBB or R,G,B (default black)",
    )
    r.add_argument("--blocks", type=int, default=6, metavar="N", help="pixelate: blocks across a face (default 6)")
    r.add_argument("--strength", type=float, default=0.25, metavar="S", help="blur: sigma as a fraction of the face size (default 0.25)")
    r.add_argument(
        "--quality", type=int, metavar="Q",
        help="1-100 for lossy outputs (default: a JPEG keeps its own tables; HEIC, AVIF and WebP come out about "
        "as large as their input)",
    )
    r.add_argument(
        "--format", choices=["same", "jpeg", "png", "webp"], default="same",
        help="output format (default same: the input's, HEIC stays HEIC); another format changes the output's "
        "extension (IMG_1.HEIC -> IMG_1.jpg)",
    )
    _detector_options(s, videos=True)
    dg = s.add_argument_group("documents in photos (ID cards, bank cards, passports, forms; needs ONNX Runtime)")
    dg.add_argument(
        "--documents", action=argparse.BooleanOptionalAction, default=False,
        help="also destroy ID numbers, card numbers, MRZ lines, phones, e-mails, every line of a card or "
        "passport page that one of them proves, and its portrait (default: off; photos only)",
    )
    dg.add_argument(
        "--text", choices=["all"], default=None,
        help="all: destroy every text region found (licence plates, badges, screens, signs), without reading it",
    )
    s.add_argument(
        "--batch",
        type=_positive_int,
        default=8,
        metavar="N",
        help="--device cuda: images per model call; each worker process decodes, prepares and encodes its own files (default 8)",
    )
    vg = s.add_argument_group(
        "videos (pip install 'minface[video]'; written as H.264 MP4 files, clip.mov -> clip.mp4, without metadata)"
    )
    vg.add_argument(
        "--video-quality", type=int, metavar="CRF",
        help="H.264 constant rate factor, 0 (lossless) to 51 (worst); 18-23 look like the input (default 20)",
    )
    vg.add_argument("--keep-audio", action="store_true", help="keep the sound (default: dropped, since voices identify people)")
    vg.add_argument(
        "--max-video-seconds", type=float, metavar="S",
        help="longest video scrubbed (default 14400, four hours; 0: no limit)",
    )
    vg.add_argument(
        "--max-video-pixels", type=int, metavar="PX",
        help="largest frame scrubbed, in pixels (default 35651584, 8K; 0: no limit)",
    )
    s.set_defaults(func=_cmd_scrub)

    v = sub.add_parser(
        "verify",
        help="audit outputs: faces that still look intact, metadata left",
        description="Search every image again, harder than any scrub preset (faces from 8 px, four orientations, "
        "CenterFace and BlazeFace together), and inspect its metadata. Reports every face that still looks intact "
        "(its eyes not painted over), every file that still carries metadata and, with --scrub-report, every input the "
        "scrub left without output. Exit code 1 when anything remains.",
    )
    v.add_argument("inputs", nargs="*", metavar="PATH", help="files or folders to audit")
    v.add_argument(
        "--scrub-report", metavar="FILE", help="the scrub's --report: faces inside its painted regions are redacted"
    )
    v.add_argument("--report", dest="old_report", metavar="FILE", help=argparse.SUPPRESS)  # deprecated: --scrub-report
    v.add_argument(
        "--json", nargs="?", const="-", metavar="FILE",
        help="print one JSON line per file on stdout (the old --json FILE still appends to FILE, deprecated)",
    )
    v.add_argument("-j", "--jobs", type=_positive_int, metavar="N", help="worker processes (default: all CPUs)")
    add_verbosity(v, quiet="no progress, only the findings and the summary")
    v.add_argument("--no-metadata", action="store_true", help="only look for faces")
    v.add_argument(
        "--no-blazeface", action="store_true", help="search with CenterFace alone (quicker; sees fewer faces)"
    )
    v.add_argument(
        "--documents", action="store_true",
        help="also read the text left and report readable ID numbers, card numbers, MRZ lines, phones and e-mails "
        "(kind, count, masked; needs ONNX Runtime)",
    )
    _select_options(v)
    v.add_argument(
        "--html",
        metavar="FILE",
        help="write a review page: the flagged files as a contact sheet, each intact face outlined with its "
        "confidence, the most confident first (self-contained, no network; it shows the faces: delete it after review)",
    )
    v.add_argument(
        "--min-size", type=float, default=10.0, metavar="PX", help="report intact faces of at least PX pixels (default 10)"
    )
    add_max_pixels(v)
    _detector_options(v, default_preset="audit", videos=True)
    v.set_defaults(func=_cmd_verify)

    st = sub.add_parser(
        "strip",
        help="write copies without metadata (lossless where possible)",
        description="Write copies of images without metadata: lossless for JPEG, PNG, WebP, GIF, HEIF and AVIF "
        "(decoded pixels identical; HEIF and AVIF keep their coded images, only the metadata goes), re-encoded for "
        "TIFF and BMP. Same batch behaviour as scrub.",
    )
    _batch_options(st, "stripped")
    st.add_argument(
        "--apply-orientation",
        action="store_true",
        help="turn the pixels upright instead of keeping an orientation-only EXIF tag (re-encodes JPEG)",
    )
    st.add_argument(
        "--icc", choices=["clean", "drop"], default="clean", help="colour profiles: clean copy (default) or drop them"
    )
    st.add_argument("--no-verify", action="store_true", help="do not decode outputs to compare their pixels")
    st.set_defaults(func=_cmd_strip)

    i = sub.add_parser(
        "inspect",
        help="list the metadata of image files",
        description="List the metadata each file carries: EXIF (GPS, maker notes, serials, thumbnail), XMP "
        "(face regions, names), IPTC, ICC profile, comments, other segments and chunks, trailing data.",
    )
    i.add_argument("files", nargs="+", metavar="PATH", help="image files or folders (walked recursively)")
    add_json(i, "print one JSON line per file on stdout instead of tables")
    i.add_argument(
        "--documents", action="store_true",
        help="also say whether each photo shows a document (ID card, bank card, passport page; needs ONNX Runtime)",
    )
    _select_options(i)
    i.set_defaults(func=_cmd_inspect)

    d = sub.add_parser(
        "detect",
        help="find faces and print their boxes",
        description="Find faces in images (EXIF orientation applied) and print their boxes in upright pixels.",
    )
    d.add_argument("images", nargs="+", metavar="PATH", help="image files or folders (walked recursively)")
    add_json(d, "print one JSON line per file on stdout instead of a table")
    add_max_pixels(d)
    _select_options(d)
    _detector_options(d)
    d.set_defaults(func=_cmd_detect)

    pr = sub.add_parser("presets", help="list the detection presets", description="List the detection presets.")
    pr.set_defaults(func=_cmd_presets)

    from .idphoto import SPECS

    c = sub.add_parser(
        "crop-id",
        help="crop a photo to the ID photo a document needs",
        description=_wrap(
        "Crop a photo down to the head-and-shoulders photo a document specification asks for: the face "
        "turned upright, head height and eye line within the spec's ranges (nearest their middle), exact pixel size, the "
        "background replaced by the plain colour the spec asks for (the crop may reach past the image edge there), "
        "every other face painted over, no metadata, the spec's dpi in the JPEG header. The photo is then checked: "
        "geometry, head pose, sharpness, exposure, background, space above the head. Exit code 0: written and "
        "compliant; 1: written but some check failed (listed), or refused with the reason (no face, several faces "
        "of similar size, a face too small, the head or the shoulders cut by the image edge)."
        ),
        epilog="examples:\n"
        "  minface crop-id selfie.jpg -o id.jpg --spec us-passport\n"
        "  minface crop-id selfie.jpg -o id.jpg --spec schengen --background 235,235,235\n"
        "  minface crop-id selfie.jpg -o sheet.jpg --spec us-passport --sheet 4x6in   copies to print, cut marks\n"
        "  minface crop-id selfies/ -o ids/ --spec us-passport -q   every photo of a folder, the tree mirrored",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument(
        "inputs", nargs="+", metavar="INPUT",
        help="photo files or folders (walked recursively; files that are not photos are skipped)",
    )
    c.add_argument(
        "-o", "--output", required=True, metavar="OUT",
        help="output file, its extension picking the format; for a folder or several inputs, an output folder "
        "(the tree mirrored, each ID photo named NAME.jpg)",
    )
    c.add_argument("--spec", required=True, choices=list(SPECS), metavar="SPEC", help="document spec (see `minface specs`)")
    bg = c.add_mutually_exclusive_group()
    bg.add_argument(
        "--background", type=_color, metavar="COLOR", help="plain background colour: a name (white, lightgrey, "
        "grey, lightblue, ...), #RRGGBB or R,G,B; default: the one the spec asks for (`minface specs`)"
    )
    bg.add_argument(
        "--keep-background", action="store_true", help="keep the original background (the crop must then lie "
        "inside the image)"
    )
    c.add_argument(
        "--sheet", metavar="PAPER", help="write a print sheet instead: copies of the photo with cut marks at "
        "300 dpi on PAPER (4x6in, 10x15cm, or any WxH in in, cm or mm)"
    )
    c.add_argument(
        "--face",
        default="largest",
        metavar="N",
        help="which face: 'largest' (default) or its number as listed by `minface detect` with the same options",
    )
    c.add_argument(
        "--quality", type=int, default=95, metavar="Q", help="1-100 for JPEG (default 95; lowered where the spec "
        "limits the file size)"
    )
    c.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    add_json(c, "print one JSON line per file (the compliance report) on stdout instead of text")
    add_verbosity(c, quiet="no compliance reports, only errors (and the summary for folders)")
    add_max_pixels(c)
    _select_options(c)
    _detector_options(c)
    c.set_defaults(func=_cmd_crop_id)

    sp = sub.add_parser(
        "specs",
        help="list the ID photo specifications",
        description="List the document specifications crop-id knows: size, pixels, head height (chin to crown), "
        "eye line and margins, background colour and file limits, with the authority each comes from.",
    )
    sp.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    sp.set_defaults(func=_cmd_specs)
    return parser


# -- batch commands --------------------------------------------------------------


def _output_is_file(args: argparse.Namespace) -> bool:
    """``-o NAME.jpg`` with one input file: write that file (not a folder named NAME.jpg)."""
    from .media import format_of_extension

    out = args.output
    if not (out and len(args.inputs) == 1 and os.path.isfile(args.inputs[0]) and not os.path.isdir(out)):
        return False
    if format_of_extension(out) is not None:
        return True
    return os.path.splitext(out)[1].lower() in (".mp4", ".m4v") and _is_video(args.inputs[0])


def _is_video(path: str) -> bool:
    from .media import classify, read_head

    try:
        return classify(path, read_head(path)).kind == "video"
    except OSError:
        return False


def _run(args: argparse.Namespace, job, verb: str, *, suffix: str | None = None) -> int:  # noqa: ANN001
    from .batch import run_batch
    from .detect.runtimes import default_threads

    to_file = _output_is_file(args)
    if args.output and not to_file and os.path.lexists(args.output) and not os.path.isdir(args.output):
        print(f"minface {verb}: error: {args.output} exists and is not a folder", file=sys.stderr)
        return EXIT_USAGE
    problem = _folder_output_named_like_file(args)
    if problem:
        print(f"minface {verb}: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    jobs = args.jobs or default_threads()
    console = Console(verbose=args.verbose, quiet=args.quiet)
    show, hook = _printer(args.dry_run, console)
    summary = run_batch(
        args.inputs,
        args.output,
        job,
        in_place=args.in_place,
        overwrite=args.overwrite,
        jobs=jobs,
        report=args.report,
        progress=not args.quiet,
        dry_run=args.dry_run,
        desc=verb,
        on_record=show,
        on_message=hook,
        include=args.include,
        exclude=args.exclude,
        output_is_file=to_file,
        suffix=suffix,
    )
    console.finish(summary.to_text(faces=verb != "strip"))
    return summary.exit_code


def _walked_folder(path: str) -> bool:
    """A folder the walk goes into (a link to a folder is not followed)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _folder_output_named_like_file(args: argparse.Namespace) -> str | None:
    """Why ``-o`` cannot be the output folder of these inputs (a folder, or several inputs, and ``-o out.jpg``)."""
    from .media import VIDEO_EXTENSIONS, format_of_extension

    out = args.output
    several = len(args.inputs) > 1 or any(_walked_folder(i) for i in args.inputs)
    if not out or not several or os.path.isdir(out):
        return None
    ext = os.path.splitext(out)[1].lower()
    if format_of_extension(out) is None and ext not in VIDEO_EXTENSIONS:
        return None
    what = "a folder input needs" if any(_walked_folder(i) for i in args.inputs) else f"{len(args.inputs)} inputs need"
    return f"-o {out} is named like a file, but {what} an output folder: give -o a folder name"


def _printer(dry_run: bool, console: Console):  # noqa: ANN202
    """A record printer, and the hook through which it learns to print above the progress bar."""

    def show(rec: dict) -> None:
        status = rec.get("status")
        if status == "error":
            console.error(rec.get("input"), rec.get("error"))
        elif dry_run and rec.get("reason") == "dry run":
            print(f"{rec.get('input')} -> {rec.get('output')}")
        elif status == "skipped":
            console.skipped(rec)

    return show, console.hook


def _cmd_scrub(args: argparse.Namespace) -> int:
    from .detect import check_options
    from .detect.runtimes import cuda_jobs, default_threads
    from .jobs import ScrubJob

    if args.quality is not None and not 1 <= args.quality <= 100:
        print("minface scrub: error: --quality must be 1-100", file=sys.stderr)
        return EXIT_USAGE
    if args.blocks < 2 or args.strength <= 0:
        print("minface scrub: error: --blocks must be at least 2 and --strength positive", file=sys.stderr)
        return EXIT_USAGE
    if args.video_quality is not None and not 0 <= args.video_quality <= 51:
        print("minface scrub: error: --video-quality must be 0-51 (an H.264 CRF)", file=sys.stderr)
        return EXIT_USAGE
    from ._defaults import DEFAULT_MAX_VIDEO_PIXELS, DEFAULT_MAX_VIDEO_SECONDS

    docs = dict(documents=args.documents, text=args.text)
    video = dict(
        video_quality=args.video_quality,
        keep_audio=args.keep_audio,
        max_video_seconds=DEFAULT_MAX_VIDEO_SECONDS if args.max_video_seconds is None else (args.max_video_seconds or None),
        max_video_pixels=DEFAULT_MAX_VIDEO_PIXELS if args.max_video_pixels is None else (args.max_video_pixels or None),
    )
    # check the detector options here, once, so a typo is a usage error and not N failed files
    # (without loading the model: only the workers need it)
    check_options(args.preset, args.min_face, args.threshold, args.backend, args.device)
    if args.scheduler or args.dask:
        if args.documents or args.text:
            print("minface scrub: error: --documents and --text do not run on a cluster yet", file=sys.stderr)
            return EXIT_USAGE
        if args.in_place:
            print("minface scrub: error: --in-place does not run on a cluster; give -o OUTDIR", file=sys.stderr)
            return EXIT_USAGE
        from .distributed import scrub_from_cli

        return scrub_from_cli(
            args.inputs,
            args.output,
            scheduler=args.scheduler,
            workers=args.jobs,
            report=args.report,
            overwrite=args.overwrite,
            quiet=args.quiet,
            dry_run=args.dry_run,
            preset=args.preset,
            min_face=args.min_face,
            threshold=args.threshold,
            backend=args.backend,
            device=args.device,
            turned=not args.upright_only,
            method=args.method,
            shape=args.shape,
            pad=args.pad,
            color=args.color,
            blocks=args.blocks,
            strength=args.strength,
            quality=args.quality,
            format=None if args.format == "same" else args.format.upper(),
            include=args.include,
            exclude=args.exclude,
            max_pixels=args.max_pixels,
            **video,
        )
    from .media import FORMAT_EXTENSIONS

    fmt = None if args.format == "same" else args.format.upper()
    suffix = FORMAT_EXTENSIONS[fmt][0] if fmt else None
    if _output_is_file(args):
        from .media import format_of_extension

        named = format_of_extension(args.output)
        if fmt is not None and named != fmt:
            print(f"minface scrub: error: --format {args.format} but the output is named {args.output}", file=sys.stderr)
            return EXIT_USAGE
        fmt, suffix = named, None
    elif args.in_place and fmt is not None:
        print("minface scrub: error: --in-place keeps each file's format; --format needs -o OUTDIR", file=sys.stderr)
        return EXIT_USAGE
    cuda = args.device == "cuda"
    if cuda and args.jobs is None:
        args.jobs = cuda_jobs()
    if args.jobs is None and len(args.inputs) == 1 and os.path.isfile(args.inputs[0]):
        args.jobs = 1  # one file (a video, say): one worker process with every thread
    jobs = args.jobs or default_threads()
    job = ScrubJob(
        preset=args.preset,
        min_face=args.min_face,
        threshold=args.threshold,
        backend=args.backend,
        device=args.device,
        threads=max(1, default_threads() // jobs),
        batch=args.batch if cuda else 0,
        turned=not args.upright_only,
        method=args.method,
        shape=args.shape,
        pad=args.pad,
        color=args.color,
        blocks=args.blocks,
        strength=args.strength,
        quality=args.quality,
        format=fmt,
        overwrite=args.overwrite,
        in_place=args.in_place,
        max_pixels=args.max_pixels,
        **video,
        **docs,
    )
    return _run(args, job, "scrub", suffix=suffix)


def _cmd_strip(args: argparse.Namespace) -> int:
    from .jobs import StripJob

    if _output_is_file(args):
        from .media import HEAD_BYTES, format_of_extension, image_format, read_head

        try:
            found = image_format(read_head(args.inputs[0], HEAD_BYTES))
        except OSError:
            found = None
        named = format_of_extension(args.output)
        if found is not None and named != found:
            print(
                f"minface strip: error: strip keeps the format ({found}); name the output with its extension, "
                f"not {Path(args.output).suffix}",
                file=sys.stderr,
            )
            return EXIT_USAGE
    job = StripJob(
        keep_orientation=not args.apply_orientation,
        icc=args.icc,
        verify=not args.no_verify,
        overwrite=args.overwrite,
        in_place=args.in_place,
        max_pixels=args.max_pixels,
    )
    return _run(args, job, "strip")


def _cmd_verify(args: argparse.Namespace) -> int:
    from .batch import run_batch
    from .detect.runtimes import default_threads
    from .jobs import VerifyJob

    from ._cli_conventions import deprecated_verify_options

    deprecated_verify_options(args)
    if not args.inputs:
        print("minface verify: error: give the files or folders to audit", file=sys.stderr)
        return EXIT_USAGE
    if args.scrub_report and not os.path.isfile(args.scrub_report):
        print(f"minface verify: error: the scrub report {args.scrub_report} is not a file", file=sys.stderr)
        return EXIT_USAGE
    jobs = args.jobs or default_threads()
    job = VerifyJob(
        preset=args.preset,
        min_face=args.min_face,
        threshold=args.threshold,
        threads=max(1, default_threads() // jobs),
        backend=args.backend,
        device=args.device,
        turned=not args.upright_only,
        report=os.path.abspath(args.scrub_report) if args.scrub_report else None,
        check_metadata=not args.no_metadata,
        min_size=args.min_size,
        blazeface=not args.no_blazeface,
        documents=args.documents,
        max_pixels=args.max_pixels,
    )
    counts = {"clean": 0, "leak": 0, "error": 0, "faces": 0, "metadata": 0}
    records: list[dict] = []
    console = Console(verbose=args.verbose, quiet=args.quiet)
    to_stdout = args.json == "-"
    missing: list[dict] = []
    if args.scrub_report:
        from .scrub_report import not_scrubbed

        try:
            missing = not_scrubbed(args.scrub_report)
        except OSError as exc:
            print(f"error: cannot read the scrub report {args.scrub_report}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE

    def show(rec: dict) -> None:
        if to_stdout:
            print(json.dumps(rec), flush=True)
        if rec.get("status") == "skipped":  # not an image: nothing to audit
            console.skipped(rec)
            return
        if args.html:
            records.append(rec)
        name = rec.get("input")
        if rec.get("status") == "error":
            counts["error"] += 1
            console.error(name, rec.get("error"))
            return
        faces, meta, numbers = rec.get("intact_faces") or [], rec.get("metadata") or [], rec.get("documents") or []
        if faces or meta or numbers:
            counts["leak"] += 1
            counts["faces"] += len(faces)
            counts["metadata"] += bool(meta)
            say = (lambda line: print(line, file=sys.stderr)) if to_stdout else print
            for f in faces:
                x1, y1, x2, y2 = f["box"]
                where = f" in frame {f['frame']}" if "frame" in f else ""
                say(f"{name}: intact face{where} at {x1:.0f},{y1:.0f}-{x2:.0f},{y2:.0f} (confidence {f['confidence']:.2f})")
            if meta:
                say(f"{name}: metadata left: {', '.join(meta)}")
            for n in numbers:
                say(f"{name}: readable {n['kind']} left: {n['count']} ({', '.join(n['masked']) or 'masked'})")
        else:
            counts["clean"] += 1

    summary = run_batch(
        args.inputs,
        None,
        job,
        read_only=True,
        jobs=jobs,
        report=None if to_stdout else args.json,
        progress=not args.quiet,
        desc="verify",
        on_record=show,
        on_message=console.hook,
        include=args.include,
        exclude=args.exclude,
    )
    if missing:
        from ._text import printable

        for rec in missing:
            print(printable(f"not scrubbed: {rec['input']}: {rec['error']}"), file=sys.stderr)
            if to_stdout:
                print(json.dumps(rec, ensure_ascii=False))
        if args.json and not to_stdout:
            with open(args.json, "a", encoding="utf-8") as fh:
                fh.writelines(json.dumps(rec, ensure_ascii=False) + "\n" for rec in missing)
    console.finish(
        f"{summary.total} file(s): {counts['clean']} clean, {counts['leak']} with something left "
        f"({counts['faces']} intact face(s), {counts['metadata']} file(s) with metadata), {counts['error']} unreadable"
        + (f", {summary.skipped} skipped" if summary.skipped else "")
        + (f"; {len(missing)} input(s) of the scrub report not scrubbed (no output)" if missing else ""),
    )
    if args.html:
        from .review import write_review

        from ._text import printable

        write_review(records + missing, args.html)
        print(f"review page: {printable(args.html)}", file=sys.stderr)
    if summary.interrupted:
        return summary.exit_code
    return EXIT_FAILED if counts["leak"] or counts["error"] or missing else EXIT_OK


# -- single-file commands --------------------------------------------------------


def _walked(args: argparse.Namespace, paths: Sequence[str]):  # noqa: ANN202 - yields (name, record or None)
    """Files and folders (walked like ``exiftool -r``) as ``(name, None)`` for each image, ``(name, record)`` else."""
    from .walk import Filter, Task, plan

    work = plan(paths, None, read_only=True, select=Filter(args.include, args.exclude))
    for item in work.items:  # named as the command line named them
        rec = work.shown({"input": os.fspath(item.input)} if isinstance(item, Task) else item)
        yield rec["input"], None if isinstance(item, Task) else rec


def _reason(exc: BaseException, name: str) -> str:
    """An exception's message without the file name it starts with (the caller prints the name)."""
    from .engine.records import _without_name

    return _without_name(str(exc) or type(exc).__name__, name)


def _cmd_inspect(args: argparse.Namespace) -> int:
    from ._text import printable, printable_data
    from .errors import MinfaceError
    from .metadata import inspect

    status = EXIT_OK

    def line(record: dict) -> None:  # valid UTF-8 whatever the names and the metadata hold
        print(json.dumps(printable_data(record), ensure_ascii=False), flush=True)
    for name, rec in _walked(args, args.files):
        if rec is not None:
            if rec["status"] == "error":
                status = EXIT_FAILED
            if args.json:
                line({"source": name, "status": rec["status"], "error": rec.get("error"), "reason": rec.get("reason")})
            elif rec["status"] == "error":
                print(printable(f"{name}: error: {rec['error']}"), file=sys.stderr)
            continue
        try:
            report = inspect(Path(name))
        except (MinfaceError, OSError) as exc:
            status = EXIT_FAILED
            if args.json:
                line({"source": name, "status": "error", "error": _reason(exc, name)})
            else:
                print(printable(f"{name}: error: {_reason(exc, name)}"), file=sys.stderr)
            continue
        shown = _shows_document(name) if args.documents else None
        if args.json:
            line({**report.to_dict(), "source": name, "status": "ok", **({"documents": shown} if shown is not None else {})})
        else:  # what a file says, and its name, never reach the terminal raw
            text = report.to_text()
            if shown is not None:
                kinds = ", ".join(f"{k} {n}" for k, n in sorted(shown["kinds"].items()))
                text += f"\n  shows {shown['documents']} document(s)" + (f": {kinds}" if kinds else "")
            print("\n".join(printable(line) for line in text.split("\n")), end="\n\n", flush=True)
    return status


def _shows_document(name: str) -> dict | None:
    """``inspect --documents``: documents the photo shows (None: it could not be decoded)."""
    from .documents.audit import shows_document
    from .errors import MinfaceError
    from .images import load_image

    try:
        return shows_document(load_image(name))
    except (MinfaceError, OSError):
        return None


def _cmd_detect(args: argparse.Namespace) -> int:
    from .errors import MinfaceError
    from .images import load_image

    detector = _detector(args)
    status = EXIT_OK
    for name, rec in _walked(args, args.images):
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
                print(json.dumps({"input": name, "status": "error", "error": _reason(exc, name)}))
            else:
                print(f"{name}: error: {_reason(exc, name)}", file=sys.stderr)
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


def _cmd_presets(args: argparse.Namespace) -> int:
    from .detect import PRESETS
    from .detect.multiscale import RELIABLE_MIN

    for p in PRESETS.values():
        top = min(p.max_scale, RELIABLE_MIN / p.min_face)
        print(f"{p.name:9s} faces from {p.min_face:g} px, largest scale {top:g}x, {p.model} weights: {p.summary}")
    print("Every preset also searches the image turned by 90, 180 and 270 degrees (--upright-only: as stored only).")
    return EXIT_OK


def _wrap(text: str) -> str:
    import textwrap

    return textwrap.fill(text, 88)


def _cmd_crop_id(args: argparse.Namespace) -> int:
    from .errors import ImageError
    from .idphoto import paper_size
    from .images import _save_format

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
    several = len(args.inputs) > 1 or any(_walked_folder(i) for i in args.inputs)
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
        from .media import format_of_extension

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
    detector = _detector(args)
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
        code = _crop_one(args, detector, name, target, face)
        done += code == EXIT_OK
        failed += code != EXIT_OK
        status = max(status, code)
    if several:
        console.finish(f"{len(pairs)} file(s): {done} compliant, {failed} failed or not compliant, "
                       f"{len(pairs) - done - failed} skipped")
    return status


def _crop_targets(args: argparse.Namespace, out: Path):  # noqa: ANN202 - yields (input, output, record or None)
    """Each input photo and its ID photo under ``out`` (the tree below a folder input mirrored, named ``.jpg``)."""
    for raw in args.inputs:
        base = Path(os.path.abspath(raw))
        for name, rec in _walked(args, [raw]):
            rel = Path(os.path.abspath(name)).relative_to(base) if _walked_folder(raw) else Path(Path(name).name)
            yield name, (out / rel).with_suffix(".jpg"), rec


def _crop_one(args: argparse.Namespace, detector, name: str, out: Path, face: str | int) -> int:  # noqa: ANN001
    """Crop one photo to ``out``; the exit code of that file (0 compliant, 1 otherwise)."""
    from .errors import IdPhotoError
    from .idphoto import crop_id
    from .images import load_image

    prog = "minface crop-id"
    if out.exists() and not args.overwrite:
        if args.json:
            print(json.dumps({"input": name, "output": None, "status": "error", "reason": "output_exists",
                              "error": f"{out} exists (pass --overwrite to replace it)"}))
        print(f"{prog}: error: {out} exists (pass --overwrite to replace it)", file=sys.stderr)
        return EXIT_FAILED
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
        print(f"{prog}: {name}: {exc.reason}: {_reason(exc, name)}", file=sys.stderr)
        return EXIT_FAILED
    except (MinfaceError, OSError) as exc:
        if args.json:
            print(json.dumps({"input": name, "output": None, "status": "error", "reason": "unreadable", "error": str(exc)}))
        print(f"{prog}: {name}: error: {_reason(exc, name)}", file=sys.stderr)
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


def _cmd_specs(args: argparse.Namespace) -> int:
    from .idphoto import SPECS

    if args.json:
        print(json.dumps([s.to_dict() for s in SPECS.values()], indent=1, ensure_ascii=False))
        return EXIT_OK

    def rng(mm: tuple[float, float] | None, height: float) -> str:
        if mm is None:
            return "-"
        return f"{mm[0]:.4g}-{mm[1]:.4g} mm ({mm[0] / height:.0%}-{mm[1] / height:.0%})"

    rows = [("NAME", "SIZE", "PIXELS", "HEAD (CHIN-CROWN)", "EYE LINE (FROM BOTTOM)", "BACKGROUND", "OTHER")]
    for s in SPECS.values():
        other = []
        if s.top_margin_mm is not None:
            lo, hi = s.top_margin_mm
            other.append(f"above head {lo:g}-{hi:g} mm" if hi is not None else f"above head >= {lo:g} mm")
        if s.bottom_margin_mm is not None:
            other.append(f"below chin >= {s.bottom_margin_mm:g} mm")
        if s.max_bytes is not None:
            other.append(f"file <= {s.max_bytes / 1000:g} kB")
        if s.file_format is not None:
            other.append(s.file_format)
        rows.append(
            (
                s.name,
                f"{s.width_mm:.3g}x{s.height_mm:.3g} mm",
                f"{s.width_px}x{s.height_px} @{s.dpi}",
                rng(s.head_mm, s.height_mm),
                rng(s.eye_mm, s.height_mm),
                "#{:02x}{:02x}{:02x}".format(*s.background),
                ", ".join(other) or "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    print("\nsources:")
    for s in SPECS.values():
        print(f"  {s.name}: {s.authority}" + (f"; background: {s.background_rule}" if s.background_rule else ""))
    return EXIT_OK


def _options_named_like_files(argv: Sequence[str]) -> list[str]:
    """Options (before ``--``) that are also names of files here: a glob such as ``*`` may have expanded to them.

    >>> _options_named_like_files(["scrub", "-o", "out", "--", "--overwrite"])
    []
    """
    words = list(argv)
    if "--" in words:
        words = words[: words.index("--")]
    return [w for w in words if w.startswith("-") and len(w) > 1 and os.path.lexists(w)]


def _subparser(parser: argparse.ArgumentParser, verb: str) -> Parser | None:
    """The parser of the subcommand ``verb``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(verb)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = sys.argv[1:] if argv is None else list(argv)
    suspect = _options_named_like_files(words)
    if suspect:  # `minface scrub * -o out` beside a file named --overwrite must not turn overwriting on
        print(
            f"minface: error: {suspect[0]!r} is an option and also a file here (did a glob such as * expand "
            "to it?); put the files after --, as in: minface scrub -o out -- *",
            file=sys.stderr,
        )
        return EXIT_USAGE
    args, unknown = parser.parse_known_args(words)
    if unknown:  # the verb's own usage, and the option a typo is nearest
        verb = getattr(args, "command", None)
        sub = _subparser(parser, verb) if verb else None
        (sub or parser).unknown(unknown)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `minface inspect --json f | head`: the reader has seen enough
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        except (OSError, ValueError):
            pass
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, ImportError, MinfaceError) as exc:  # bad option values, missing extras, no CUDA
        print(f"minface: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
