"""``minface strip``: copies without metadata, lossless where possible."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import EXIT_USAGE, output_is_file, run_batch_verb

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``minface strip``; the exit code."""
    from ..jobs import StripJob

    if output_is_file(args):
        from ..media import HEAD_BYTES, format_of_extension, image_format, read_head

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
    return run_batch_verb(args, job, "strip")
