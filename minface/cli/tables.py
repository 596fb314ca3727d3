"""The argument tables of every verb: options, their help, and which action runs (``func``).

One ``add_<verb>`` function per verb, called by :func:`build_parser` in the order ``--help``
lists them; the actions live in a module per verb (:mod:`minface.cli.scrub`, ...).
"""

from __future__ import annotations

import argparse

from .. import __version__
from .._cli_conventions import Parser, add_json, add_max_pixels, add_report, add_verbosity, positive_int
from . import crop_id, detect, inspect, presets, scrub, specs, strip, verify

__all__ = ["build_parser", "EPILOG"]

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
    from ..colors import parse_color

    try:
        return parse_color(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _glob(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty pattern")
    return text


def _detector_options(p: argparse.ArgumentParser, default_preset: str = "balanced", *, videos: bool = False) -> None:
    from .._defaults import DEFAULT_VIDEO_MIN_FACE
    from ..detect import PRESETS

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


def add_scrub(sub: argparse._SubParsersAction) -> None:
    """``minface scrub``: destroy faces, strip metadata."""
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
    s.set_defaults(func=scrub.run)


def add_verify(sub: argparse._SubParsersAction) -> None:
    """``minface verify``: audit outputs."""
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
    v.set_defaults(func=verify.run)


def add_strip(sub: argparse._SubParsersAction) -> None:
    """``minface strip``: metadata only."""
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
    st.set_defaults(func=strip.run)


def add_inspect(sub: argparse._SubParsersAction) -> None:
    """``minface inspect``: list metadata."""
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
    i.set_defaults(func=inspect.run)


def add_detect(sub: argparse._SubParsersAction) -> None:
    """``minface detect``: face boxes."""
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
    d.set_defaults(func=detect.run)


def add_presets(sub: argparse._SubParsersAction) -> None:
    """``minface presets``: the detection presets."""
    pr = sub.add_parser("presets", help="list the detection presets", description="List the detection presets.")
    pr.set_defaults(func=presets.run)


def add_crop_id(sub: argparse._SubParsersAction) -> None:
    """``minface crop-id``: ID photos."""
    from ..idphoto import SPECS

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
    c.add_argument("--overwrite", action="store_true", help="replace OUT if it exists (default: skip it)")
    add_json(c, "print one JSON line per file (the compliance report) on stdout instead of text")
    add_verbosity(c, quiet="no compliance reports, only errors (and the summary for folders)")
    add_max_pixels(c)
    _select_options(c)
    _detector_options(c)
    c.set_defaults(func=crop_id.run)


def add_specs(sub: argparse._SubParsersAction) -> None:
    """``minface specs``: the ID photo specifications."""
    sp = sub.add_parser(
        "specs",
        help="list the ID photo specifications",
        description="List the document specifications crop-id knows: size, pixels, head height (chin to crown), "
        "eye line and margins, background colour and file limits, with the authority each comes from.",
    )
    add_json(sp, "print one JSON line per specification on stdout instead of a table")
    sp.set_defaults(func=specs.run)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``minface``: every verb's table, in the order ``--help`` lists them."""
    parser = _Parser(
        prog="minface",
        description="Keep only the face data you need: destroy faces, strip metadata, audit the result.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"minface {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    add_scrub(sub)
    add_verify(sub)
    add_strip(sub)
    add_inspect(sub)
    add_detect(sub)
    add_presets(sub)
    add_crop_id(sub)
    add_specs(sub)
    return parser


def _wrap(text: str) -> str:
    import textwrap

    return textwrap.fill(text, 88)
