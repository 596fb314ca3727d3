"""What a scrub report says was *not* done: the inputs an audit must list as not scrubbed.

``minface verify OUTDIR --report scrub.jsonl`` audits the outputs it finds; an
input that has no output (its scrub failed, it was a photo the scrub could not
read, a video left aside) would never be seen. :func:`not_scrubbed` reads the
whole report and returns one record per such input, so the audit's summary,
JSON lines and review page name them and its exit code is 1.

A line of the report that is not a JSON object (a run cut off mid-line, a
damaged file) stands for an input nobody can vouch for: it is listed too.
"""

from __future__ import annotations

import json
import os
from typing import Any

__all__ = ["not_scrubbed", "NOT_SCRUBBED"]

#: The ``status`` of an audit record for an input the scrub left without an output.
NOT_SCRUBBED = "not scrubbed"

#: Skip reasons of the scrub that still leave a scrubbed output (or have nothing to scrub).
_DONE = ("output exists", "already done (journal)")


def _local(target: str) -> str:
    return target[len("file://") :] if target.startswith("file://") else target


def report_paths(target: str, report: str | os.PathLike) -> set[str]:
    """Absolute paths a report's output name can mean.

    Reports name files as the scrub's command line did, so a relative name is relative to the
    folder the scrub ran in: usually the working folder, and usually where the report was
    written. Both are taken, so verify finds the painted regions from either place.
    """
    target = _local(target)
    if os.path.isabs(target):
        return {os.path.abspath(target)}
    return {os.path.abspath(target), os.path.abspath(os.path.join(os.path.dirname(os.fspath(report)), target))}


def _why(rec: dict[str, Any], report: str | os.PathLike) -> str | None:
    """Why ``rec`` (one scrub record) left its input without a scrubbed output, or None when it did not."""
    status = rec.get("status")
    if status == "error":
        return f"the scrub failed: {rec.get('error') or 'no reason given'}"
    if status == "skipped":
        reason = str(rec.get("reason") or "")
        if reason in _DONE:
            return None
        if rec.get("format"):  # a video (or a photo in a format the scrub does not read) was left aside
            return f"skipped by the scrub: {reason or 'no reason given'}"
        return None  # not an image: nothing to scrub
    if status == "ok":
        target = rec.get("output")
        if target and not any(os.path.exists(p) for p in report_paths(str(target), report)):
            return "the scrub wrote it, but the output is gone"
        return None
    return f"unknown status {status!r} in the scrub report"


def not_scrubbed(report: str | os.PathLike) -> list[dict[str, Any]]:
    """One audit record per input of the scrub ``report`` that has no scrubbed output, in report order.

    Each record is ``{"input", "output", "status": "not scrubbed", "error",
    "intact_faces": [], "metadata": []}``: ``input`` is the original's name (the
    scrub's ``input``), ``error`` says why. Unreadable lines are listed as
    ``"<report>:<line>"``. Of several records for one input (a resumed run),
    the last one counts.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.jsonl"
    >>> _ = p.write_text('{"input": "a.heic", "output": null, "status": "error", "error": "bad tile"}\\n{"inp')
    >>> [(r["input"].rsplit("/", 1)[-1], r["error"]) for r in not_scrubbed(p)]
    [('a.heic', 'the scrub failed: bad tile'), ('r.jsonl:2', 'this line of the scrub report cannot be read')]
    """
    last: dict[str, dict[str, Any] | None] = {}
    with open(report, "rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                rec = None
            if not isinstance(rec, dict) or not isinstance(rec.get("input"), str):
                name = f"{os.fspath(report)}:{number}"
                last[name] = _record(name, None, "this line of the scrub report cannot be read")
                continue
            why = _why(rec, report)
            name = rec["input"]
            last.pop(name, None)  # the latest record of an input decides (and keeps report order)
            output = rec.get("output")
            last[name] = None if why is None else _record(name, output if isinstance(output, str) else None, why)
    return [r for r in last.values() if r is not None]


def _record(name: str, output: str | None, why: str) -> dict[str, Any]:
    return {"input": name, "output": output, "status": NOT_SCRUBBED, "error": why, "intact_faces": [], "metadata": []}
