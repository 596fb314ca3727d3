"""The conventions every command-line verb shares.

* ``--json``: JSON lines (one object per file) on stdout, in every verb that has it;
* ``--report FILE``: an *output*, one JSON line per input appended to FILE;
* ``-q``/``--quiet`` (no progress) and ``-v``/``--verbose`` (every skip as it happens);
* ``--max-pixels N``: the decompression-bomb limit, as ``max_pixels=`` in the API;
* a mistyped option shows the verb's own usage and the nearest option ("did you mean");
* :class:`Console`: a skip's reason always reaches the terminal, grouped at the end
  ("2 videos skipped: pip install 'minface[video]' ...", "1 output exists: add --overwrite").
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Sequence

from ._defaults import DEFAULT_MAX_PIXELS

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors exit with :data:`EXIT_USAGE` and suggest the nearest option."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def options(self) -> list[str]:
        """Every option string this parser takes (``--overwrite``, ``-o``, ...)."""
        return [s for a in self._actions for s in a.option_strings]

    def unknown(self, words: Sequence[str]) -> None:
        """Exit with this parser's usage, naming the unknown ``words`` and the options they look like."""
        parts = []
        for w in words:
            flag = w.split("=", 1)[0]
            near = difflib.get_close_matches(flag, self.options(), n=1, cutoff=0.6) if flag.startswith("-") else []
            parts.append(f"{w} (did you mean {near[0]}?)" if near else w)
        self.error(f"unrecognized arguments: {' '.join(parts)}")


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def pixel_limit(text: str) -> int | None:
    """An argparse type for ``--max-pixels``: a pixel count (``200000000``, ``200M``), 0 for no limit."""
    t = text.strip().upper().replace("_", "").replace(",", "")
    scale = 1
    if t.endswith("MP"):
        t, scale = t[:-2], 1_000_000
    elif t.endswith("M"):
        t, scale = t[:-1], 1_000_000
    try:
        value = round(float(t) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a pixel count such as 250000000 or 250M, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
    return value or None


def add_max_pixels(p: argparse.ArgumentParser) -> None:
    """``--max-pixels N``: the largest image decoded (``args.max_pixels``; None: no limit)."""
    p.add_argument(
        "--max-pixels", type=pixel_limit, default=DEFAULT_MAX_PIXELS, metavar="N",
        help=f"largest image decoded, in pixels, e.g. 250M (default {DEFAULT_MAX_PIXELS:,}, about "
        f"{DEFAULT_MAX_PIXELS / 1e6:.0f} MP; 0: no limit): larger files are refused as possible decompression bombs",
    )


def add_verbosity(p: argparse.ArgumentParser, *, quiet: str = "no progress, only the summary and errors") -> None:
    """``-q``/``--quiet`` and ``-v``/``--verbose`` (mutually exclusive)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("-q", "--quiet", action="store_true", help=quiet)
    g.add_argument("-v", "--verbose", action="store_true", help="also name every skipped file with its reason as it happens")


def add_json(p: argparse.ArgumentParser, what: str = "one JSON line per file on stdout instead of text") -> None:
    """``--json``: JSON lines on stdout."""
    p.add_argument("--json", action="store_true", help=what)


def add_report(p: argparse.ArgumentParser, group: argparse._ArgumentGroup | None = None) -> None:
    """``--report FILE``: the output report, one JSON line per input appended to FILE."""
    (group or p).add_argument("--report", metavar="FILE", help="append one JSON line per input to FILE")


def skip_group(reason: str) -> tuple[str, str]:
    """The group a skip reason falls in, as ``(what, why)`` for the end-of-run line ``N what: why``.

    >>> skip_group("video: pip install 'minface[video]' to scrub videos (PyAV)")
    ('video(s) skipped', "pip install 'minface[video]' to scrub videos (PyAV)")
    >>> skip_group("output exists")
    ('output(s) exist', 'add --overwrite to replace them')
    >>> skip_group("not an image")
    ('skipped', 'not an image')
    """
    if reason == "output exists":
        return "output(s) exist", "add --overwrite to replace them"
    if reason == "already done (journal)":
        return "already done", "the in-place journal says so"
    if reason.startswith("video: "):
        return "video(s) skipped", reason[len("video: ") :]
    if reason.startswith("video ("):
        return "video(s) skipped", reason[len("video (") :].rstrip(")")
    return "skipped", reason


class Console:
    """What a verb prints on stderr: errors as they come, skips grouped by reason at the end.

    ``write`` prints one line (the batch engine replaces it to print above its progress bar).
    """

    def __init__(self, *, verbose: bool = False, quiet: bool = False) -> None:
        self.verbose = verbose
        self.quiet = quiet
        self.skips: dict[tuple[str, str], int] = {}
        self.write: Callable[[str], None] = lambda line: print(line, file=sys.stderr)

    def hook(self, fn: Callable[[str], None]) -> None:
        """Print through ``fn`` from now on (the batch engine's ``on_message``)."""
        self.write = fn

    def skipped(self, rec: dict) -> None:
        """Count a ``skipped`` record (``dry run`` ones are listed, not counted)."""
        reason = str(rec.get("reason") or "no reason given")
        if reason == "dry run":
            return
        key = skip_group(reason)
        self.skips[key] = self.skips.get(key, 0) + 1
        if self.verbose:
            self.write(f"skipped: {rec.get('input')}: {reason}")

    def error(self, name: object, reason: object) -> None:
        self.write(f"error: {name}: {reason}")

    def skip_lines(self) -> list[str]:
        """The grouped reasons, most frequent first: ``2 video(s) skipped: pip install ...``."""
        out = []
        for (what, why), n in sorted(self.skips.items(), key=lambda kv: (-kv[1], kv[0])):
            if n == 1:
                what = what.replace("(s) exist", " exists").replace("(s)", "")
            else:
                what = what.replace("(s)", "s")
            out.append(f"{n} {what}: {why}")
        return out

    def finish(self, summary_line: str) -> None:
        """Print the summary line and, under it, why files were skipped."""
        print(summary_line, file=sys.stderr)
        for line in self.skip_lines():
            print(f"  {line}", file=sys.stderr)


def deprecated_verify_options(args: argparse.Namespace) -> None:
    """verify's old spellings: ``--report FILE`` (now ``--scrub-report``) and ``--json FILE`` (now JSON lines on stdout).

    Each still works, with a deprecation warning on stderr. ``--json PATH`` where PATH is
    a folder, or a file that is not ``.json``/``.jsonl``, is the new ``--json`` followed by
    an input.
    """
    import os

    if getattr(args, "old_report", None):
        print("minface verify: warning: --report FILE is deprecated here; use --scrub-report FILE", file=sys.stderr)
        if not args.scrub_report:
            args.scrub_report = args.old_report
    value = getattr(args, "json", None)
    if value in (None, "-"):
        return
    if os.path.isdir(value) or (os.path.isfile(value) and not value.lower().endswith((".json", ".jsonl"))):
        args.inputs.insert(0, value)
        args.json = "-"
        return
    print(
        f"minface verify: warning: --json FILE is deprecated; --json prints JSON lines on stdout "
        f"(--json > {value}); appending to {value} this time",
        file=sys.stderr,
    )
