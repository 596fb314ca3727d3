"""``minface scrub``: destroy every face and strip all metadata (on this machine, or on a Dask cluster)."""

from __future__ import annotations

import argparse
import os
import sys

from .common import EXIT_USAGE, output_is_file, run_batch_verb

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``minface scrub``; the exit code."""
    from .._defaults import DEFAULT_MAX_VIDEO_PIXELS, DEFAULT_MAX_VIDEO_SECONDS
    from ..detect.runtimes import cuda_jobs, default_threads
    from ..jobs import ScrubJob

    # the options every scrub shares (on this machine or on a cluster), spelled once
    options = dict(
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
        max_pixels=args.max_pixels,
        video_quality=args.video_quality,
        keep_audio=args.keep_audio,
        max_video_seconds=DEFAULT_MAX_VIDEO_SECONDS if args.max_video_seconds is None else (args.max_video_seconds or None),
        max_video_pixels=DEFAULT_MAX_VIDEO_PIXELS if args.max_video_pixels is None else (args.max_video_pixels or None),
    )
    # checked here, once, so a typo is a usage error and not N failed files (without loading the
    # model: only the workers need it)
    try:
        ScrubJob(**options).check()
    except ValueError as exc:
        print(f"minface scrub: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    fmt = None if args.format == "same" else args.format.upper()
    if args.scheduler or args.dask:
        if args.documents or args.text:
            print("minface scrub: error: --documents and --text do not run on a cluster yet", file=sys.stderr)
            return EXIT_USAGE
        if args.in_place:
            print("minface scrub: error: --in-place does not run on a cluster; give -o OUTDIR", file=sys.stderr)
            return EXIT_USAGE
        from ..distributed import scrub_from_cli

        return scrub_from_cli(
            args.inputs,
            args.output,
            scheduler=args.scheduler,
            workers=args.jobs,
            report=args.report,
            overwrite=args.overwrite,
            quiet=args.quiet,
            dry_run=args.dry_run,
            format=fmt,
            include=args.include,
            exclude=args.exclude,
            **options,
        )
    from ..media import FORMAT_EXTENSIONS

    suffix = FORMAT_EXTENSIONS[fmt][0] if fmt else None
    if output_is_file(args):
        from ..media import format_of_extension

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
        **options,
        threads=max(1, default_threads() // jobs),
        batch=args.batch if cuda else 0,
        format=fmt,
        overwrite=args.overwrite,
        in_place=args.in_place,
        documents=args.documents,
        text=args.text,
    )
    return run_batch_verb(args, job, "scrub", suffix=suffix)
