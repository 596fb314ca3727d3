"""``minface verify``: audit outputs for faces that still look intact, metadata and numbers left."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .._cli_conventions import Console
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``minface verify``; the exit code (1 when anything remains)."""
    from ..batch import run_batch
    from ..detect.runtimes import default_threads
    from ..jobs import VerifyJob

    from .._cli_conventions import deprecated_verify_options

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
        from ..scrub_report import not_scrubbed

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
        from .._text import printable

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
        from ..review import write_review

        from .._text import printable

        write_review(records + missing, args.html)
        print(f"review page: {printable(args.html)}", file=sys.stderr)
    if summary.interrupted:
        return summary.exit_code
    return EXIT_FAILED if counts["leak"] or counts["error"] or missing else EXIT_OK
