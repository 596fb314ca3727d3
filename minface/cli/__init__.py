"""Command line: ``minface <command> ...``. A thin layer over the Python API.

Exit codes: 0 success (skipped non-images are not failures), 1 some inputs
failed (or, for ``verify``, something remains), 2 usage error, 130 interrupted
(Ctrl-C), 141 output pipe closed early, 143 stopped by SIGTERM.

The argument tables live in :mod:`.tables`, each verb's action in its own module
(:mod:`.scrub`, :mod:`.strip`, :mod:`.verify`, :mod:`.inspect`, :mod:`.detect`,
:mod:`.presets`, :mod:`.crop_id`, :mod:`.specs`), what they share in :mod:`.common`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .._cli_conventions import Parser
from ..errors import MinfaceError
from .common import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE
from .tables import EPILOG, build_parser

__all__ = [
    "main", "build_parser", "EPILOG",
    "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED", "EXIT_BROKEN_PIPE", "EXIT_TERMINATED",
]


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
