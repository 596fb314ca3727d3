"""``minface inspect``: the metadata each file carries."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import EXIT_FAILED, EXIT_OK, reason_of, walked

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``minface inspect``; the exit code."""
    from .._text import printable, printable_data
    from ..errors import MinfaceError
    from ..metadata import inspect

    status = EXIT_OK

    def line(record: dict) -> None:  # valid UTF-8 whatever the names and the metadata hold
        print(json.dumps(printable_data(record), ensure_ascii=False), flush=True)
    for name, rec in walked(args, args.files):
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
                line({"source": name, "status": "error", "error": reason_of(exc, name)})
            else:
                print(printable(f"{name}: error: {reason_of(exc, name)}"), file=sys.stderr)
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
    from ..documents.audit import shows_document
    from ..errors import MinfaceError
    from ..images import load_image

    try:
        return shows_document(load_image(name))
    except (MinfaceError, OSError):
        return None
