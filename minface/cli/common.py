"""What the verbs share: exit codes, the detector and the walk the options ask for, the batch runner."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .._cli_conventions import Console

if TYPE_CHECKING:  # pragma: no cover
    from ..detect import Detector

__all__ = [
    "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED", "EXIT_BROKEN_PIPE", "EXIT_TERMINATED",
    "make_detector", "walked", "reason_of", "is_walked_folder", "output_is_file", "is_video",
    "folder_output_named_like_file", "printer", "run_batch_verb",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE, EXIT_TERMINATED = 0, 1, 2, 130, 141, 143


def make_detector(args: argparse.Namespace) -> Detector:
    """The detector the detection options (:mod:`minface.cli.tables`) ask for."""
    from ..detect import Detector

    return Detector(
        args.preset,
        min_face=args.min_face,
        threshold=args.threshold,
        backend=args.backend,
        device=args.device,
        turned=not args.upright_only,
    )


def output_is_file(args: argparse.Namespace) -> bool:
    """``-o NAME.jpg`` with one input file: write that file (not a folder named NAME.jpg)."""
    from ..media import format_of_extension

    out = args.output
    if not (out and len(args.inputs) == 1 and os.path.isfile(args.inputs[0]) and not os.path.isdir(out)):
        return False
    if format_of_extension(out) is not None:
        return True
    return os.path.splitext(out)[1].lower() in (".mp4", ".m4v") and is_video(args.inputs[0])


def is_video(path: str) -> bool:
    """Whether the file at ``path`` is a video (by its content)."""
    from ..media import classify, read_head

    try:
        return classify(path, read_head(path)).kind == "video"
    except OSError:
        return False


def run_batch_verb(args: argparse.Namespace, job: Callable[[], Any], verb: str, *, suffix: str | None = None) -> int:
    """Run a batch verb's ``job`` (:mod:`minface.jobs`) over the inputs the batch options name; the exit code."""
    from ..batch import run_batch
    from ..detect.runtimes import default_threads

    to_file = output_is_file(args)
    if args.output and not to_file and os.path.lexists(args.output) and not os.path.isdir(args.output):
        print(f"minface {verb}: error: {args.output} exists and is not a folder", file=sys.stderr)
        return EXIT_USAGE
    problem = folder_output_named_like_file(args)
    if problem:
        print(f"minface {verb}: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    jobs = args.jobs or default_threads()
    console = Console(verbose=args.verbose, quiet=args.quiet)
    show, hook = printer(args.dry_run, console)
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


def is_walked_folder(path: str) -> bool:
    """A folder the walk goes into (a link to a folder is not followed)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def folder_output_named_like_file(args: argparse.Namespace) -> str | None:
    """Why ``-o`` cannot be the output folder of these inputs (a folder, or several inputs, and ``-o out.jpg``)."""
    from ..media import VIDEO_EXTENSIONS, format_of_extension

    out = args.output
    several = len(args.inputs) > 1 or any(is_walked_folder(i) for i in args.inputs)
    if not out or not several or os.path.isdir(out):
        return None
    ext = os.path.splitext(out)[1].lower()
    if format_of_extension(out) is None and ext not in VIDEO_EXTENSIONS:
        return None
    what = "a folder input needs" if any(is_walked_folder(i) for i in args.inputs) else f"{len(args.inputs)} inputs need"
    return f"-o {out} is named like a file, but {what} an output folder: give -o a folder name"


def printer(dry_run: bool, console: Console) -> tuple[Callable[[dict], None], Callable[[Callable[[str], None]], None]]:
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


def walked(args: argparse.Namespace, paths: Sequence[str]) -> Iterator[tuple[str, dict | None]]:
    """Files and folders (walked like ``exiftool -r``) as ``(name, None)`` for each image, ``(name, record)`` else."""
    from ..walk import Filter, Task, plan

    work = plan(paths, None, read_only=True, select=Filter(args.include, args.exclude))
    for item in work.items:  # named as the command line named them
        rec = work.shown({"input": os.fspath(item.input)} if isinstance(item, Task) else item)
        yield rec["input"], None if isinstance(item, Task) else rec


def reason_of(exc: BaseException, name: str) -> str:
    """An exception's message without the file name it starts with (the caller prints the name)."""
    from ..engine.records import _without_name

    return _without_name(str(exc) or type(exc).__name__, name)
