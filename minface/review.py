"""The review page of an audit: a contact sheet of the flagged outputs, each alarm outlined.

``minface verify OUTDIR --html review.html`` writes it. One self-contained HTML
file: every picture is embedded (a downscaled JPEG written from pixels, so no
metadata), there are no scripts, and a content security policy forbids the
page to load anything, so opening it makes no network request. Only the audited
files appear, never the originals they were made from. Files are ordered by
their most confident alarm; each alarm is outlined and numbered with its
confidence, and metadata left in a file is listed under its picture.

The page shows the faces that were found intact: treat it as the sensitive
material it is, and delete it once the review is done.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Iterable
from typing import Any

__all__ = ["write_review", "review_html", "step_lists", "NEXT_STEPS"]

#: Longest side, in pixels, of a picture on the page.
THUMB = 360

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;background:#f4f4f4;color:#222}
h1{font-size:20px;margin:0 0 4px}
.summary{margin:0 0 20px;color:#555}
.sheet{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px}
.card{background:#fff;border:1px solid #ccc;border-radius:6px;padding:6px;min-width:0}
table.counts{border-collapse:collapse;margin:0 0 12px}
table.counts td,table.counts th{border:1px solid #ccc;padding:2px 8px;text-align:right;background:#fff}
table.counts th:first-child,table.counts td:first-child{text-align:left}
.step{background:#fff;border-left:4px solid #d80;padding:6px 10px;margin:0 0 10px}
.step pre{white-space:pre-wrap;word-break:break-all;margin:4px 0 0;font-size:12px;max-height:8em;overflow:auto}
.card svg{display:block;width:100%;height:auto;background:#ddd}
.name{font-weight:600;word-break:break-all;margin:6px 0 2px}
.alarms{margin:0;padding-left:20px}
.meta{color:#a33}
rect.alarm{fill:none;stroke:#ff1f1f;stroke-width:3;vector-effect:non-scaling-stroke}
text.label{fill:#fff;font:bold 14px system-ui,sans-serif;paint-order:stroke;stroke:#000;stroke-width:3px}
"""


def _thumbnail(path: str) -> tuple[str, int, int, float] | None:
    """A JPEG data URI of the file's upright pixels, its size, and the scale from image to picture."""
    import numpy as np
    from PIL import Image

    from .images import load_image

    try:
        pixels = load_image(path)
    except Exception:  # noqa: BLE001 - an unreadable file gets a card without a picture
        return None
    h, w = pixels.shape[:2]
    k = min(1.0, THUMB / max(h, w))
    image = Image.fromarray(np.ascontiguousarray(pixels))
    if k < 1:
        image = image.resize((max(1, round(w * k)), max(1, round(h * k))), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), image.width, image.height, k


def _card(rec: dict[str, Any]) -> str:
    name = html.escape(os.fspath(rec.get("input", "")))
    alarms = rec.get("intact_faces") or []
    meta = rec.get("metadata") or []
    parts = [f'<div class="card"><div class="name">{name}</div>']
    thumb = _thumbnail(os.fspath(rec.get("input", "")))
    if thumb is not None:
        uri, tw, th, k = thumb
        shapes = []
        for i, a in enumerate(alarms, 1):
            x1, y1, x2, y2 = (float(v) * k for v in a["box"])
            conf = float(a.get("confidence", a.get("score", 0.0)))
            shapes.append(
                f'<rect class="alarm" x="{x1:.1f}" y="{y1:.1f}" width="{max(1.0, x2 - x1):.1f}" height="{max(1.0, y2 - y1):.1f}"/>'
                f'<text class="label" x="{x1:.1f}" y="{max(14.0, y1 - 4):.1f}">{i}: {conf:.2f}</text>'
            )
        parts.append(
            f'<svg viewBox="0 0 {tw} {th}" width="{tw}" height="{th}" role="img" aria-label="{name}">'
            f'<image href="{uri}" width="{tw}" height="{th}"/>{"".join(shapes)}</svg>'
        )
    if alarms:
        items = "".join(
            f"<li>confidence {float(a.get('confidence', a.get('score', 0.0))):.2f}, box "
            + ", ".join(f"{float(v):.0f}" for v in a["box"])
            + (" (one of a crowd of faces each scored low)" if a.get("crowd") else "")
            + "</li>"
            for i, a in enumerate(alarms, 1)
        )
        parts.append(f'<ol class="alarms">{items}</ol>')
    if meta:
        parts.append(f'<div class="meta">metadata left: {html.escape(", ".join(meta))}</div>')
    parts.append("</div>")
    return "".join(parts)


def _rank(rec: dict[str, Any]) -> tuple[float, str]:
    alarms = rec.get("intact_faces") or []
    top = max((float(a.get("confidence", a.get("score", 0.0))) for a in alarms), default=-1.0)
    return -top, os.fspath(rec.get("input", ""))


def _kind(rec: dict[str, Any]) -> str:
    if rec.get("status") == "not scrubbed":
        return "not scrubbed"
    if rec.get("status") == "error":
        return "unreadable"
    if rec.get("intact_faces"):
        return "face left"
    if rec.get("metadata"):
        return "metadata left"
    return "clean"


#: Per kind of finding: the file the list is saved to (beside the page) and the next step.
NEXT_STEPS = {
    "face left": ("faces", "Rerun these from their originals with `minface scrub --preset thorough --overwrite`, "
                  "then verify again; or paint the outlined faces by hand."),
    "metadata left": ("metadata", "Strip them: `minface strip` on these files (or rerun the scrub)."),
    "unreadable": ("unreadable", "These outputs cannot be decoded: scrub their originals again."),
    "not scrubbed": ("not-scrubbed", "These inputs of the scrub report have no output: fix the reason given "
                     "and scrub them (they are not in the audited folder)."),
}


def _counts(records: list[dict[str, Any]]) -> str:
    kinds = ["clean", "face left", "metadata left", "unreadable", "not scrubbed"]
    folders: dict[str, dict[str, int]] = {}
    for r in records:
        folder = os.path.dirname(os.fspath(r.get("input", ""))) or "."
        row = folders.setdefault(folder, dict.fromkeys(kinds, 0))
        row[_kind(r)] += 1
        if _kind(r) == "face left" and r.get("metadata"):
            row["metadata left"] += 1  # a file with both is counted under each
    total = {k: sum(row[k] for row in folders.values()) for k in kinds}
    head = "".join(f"<th>{k}</th>" for k in kinds)
    body = "".join(
        f"<tr><td>{html.escape(f)}</td>" + "".join(f"<td>{row[k]}</td>" for k in kinds) + "</tr>"
        for f, row in sorted(folders.items())
    )
    foot = "<tr><th>all</th>" + "".join(f"<th>{total[k]}</th>" for k in kinds) + "</tr>"
    return f'<table class="counts"><tr><th>folder</th>{head}</tr>{body}{foot}</table>'


def step_lists(records: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """The files of each kind of finding (keys of :data:`NEXT_STEPS`), most confident face first."""
    out: dict[str, list[str]] = {k: [] for k in NEXT_STEPS}
    for r in sorted(records, key=_rank):
        kind = _kind(r)
        if kind in out:
            out[kind].append(os.fspath(r.get("input", "")))
        if kind == "face left" and r.get("metadata"):
            out["metadata left"].append(os.fspath(r.get("input", "")))
    return out


def review_html(
    records: Iterable[dict[str, Any]], *, title: str = "minface verify: review", lists: dict[str, str] | None = None
) -> str:
    """The page for ``records`` (``minface verify``'s JSON lines): the flagged files, most confident alarm first.

    ``lists``: per kind of finding, the name of the file its list was saved to (shown with the next step).

    >>> page = review_html([{"input": "clean.jpg", "status": "ok", "intact_faces": [], "metadata": []}])
    >>> "1 file(s) audited, 0 flagged" in page and "<script" not in page
    True
    """
    records = list(records)
    missing = [r for r in records if r.get("status") == "not scrubbed"]
    audited = [r for r in records if r.get("status") != "not scrubbed"]
    flagged = [r for r in audited if r.get("intact_faces") or r.get("metadata")]
    flagged.sort(key=_rank)
    n_alarms = sum(len(r.get("intact_faces") or []) for r in flagged)
    n_meta = sum(bool(r.get("metadata")) for r in flagged)
    errors = sum(r.get("status") == "error" for r in audited)
    summary = (
        f"{len(audited)} file(s) audited, {len(flagged)} flagged: {n_alarms} face(s) that look intact, "
        f"{n_meta} file(s) with metadata left; {errors} unreadable; {len(missing)} input(s) not scrubbed."
    )
    steps = []
    for kind, files in step_lists(records).items():
        if not files:
            continue
        saved = (lists or {}).get(kind)
        where = f" The list is saved beside this page as <code>{html.escape(saved)}</code>." if saved else ""
        steps.append(
            f'<div class="step"><b>{html.escape(kind)} ({len(files)})</b>: {html.escape(NEXT_STEPS[kind][1])}{where}'
            f"<pre>{html.escape(chr(10).join(files))}</pre></div>"
        )
    unscrubbed = ""
    if missing:
        items = "".join(f"<li>{html.escape(os.fspath(r.get('input', '')))}: {html.escape(str(r.get('error') or ''))}</li>" for r in missing)
        unscrubbed = f'<h2>Not scrubbed ({len(missing)}): inputs of the scrub report with no output</h2><ul class="missing">{items}</ul>'
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        "<meta name=\"referrer\" content=\"no-referrer\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class=\"summary\">{html.escape(summary)} "
        "This page shows the faces found intact: delete it once the review is done.</p>"
        f"{_counts(records)}{''.join(steps)}{unscrubbed}"
        f"<div class=\"sheet\">{''.join(_card(r) for r in flagged)}</div></body></html>\n"
    )


def write_review(records: Iterable[dict[str, Any]], path: str | os.PathLike, **options: Any) -> None:
    """Write :func:`review_html` to ``path`` (atomically: a complete page or none), each step's file list beside it.

    The lists are ``<page>.<kind>.txt`` (one file name a line), ready to paste.
    """
    from .images import atomic_write

    records = list(records)
    base = os.fspath(path)
    stem = base[:-5] if base.lower().endswith(".html") else base
    lists = {}
    for kind, files in step_lists(records).items():
        if files:
            target = f"{stem}.{NEXT_STEPS[kind][0]}.txt"
            atomic_write(target, ("\n".join(files) + "\n").encode("utf-8", "surrogateescape"))
            lists[kind] = os.path.basename(target)
    atomic_write(path, review_html(records, lists=lists, **options).encode("utf-8"))
