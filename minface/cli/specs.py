"""``minface specs``: the ID photo specifications crop-id knows."""

from __future__ import annotations

import argparse
import json

from .common import EXIT_OK

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``minface specs``: a table, or JSON lines."""
    from ..idphoto import SPECS

    if args.json:
        for s in SPECS.values():  # JSON lines, one object per spec, as every verb's --json
            print(json.dumps(s.to_dict(), ensure_ascii=False))
        return EXIT_OK

    def rng(mm: tuple[float, float] | None, height: float) -> str:
        if mm is None:
            return "-"
        return f"{mm[0]:.4g}-{mm[1]:.4g} mm ({mm[0] / height:.0%}-{mm[1] / height:.0%})"

    rows = [("NAME", "SIZE", "PIXELS", "HEAD (CHIN-CROWN)", "EYE LINE (FROM BOTTOM)", "BACKGROUND", "OTHER")]
    for s in SPECS.values():
        other = []
        if s.top_margin_mm is not None:
            lo, hi = s.top_margin_mm
            other.append(f"above head {lo:g}-{hi:g} mm" if hi is not None else f"above head >= {lo:g} mm")
        if s.bottom_margin_mm is not None:
            other.append(f"below chin >= {s.bottom_margin_mm:g} mm")
        if s.max_bytes is not None:
            other.append(f"file <= {s.max_bytes / 1000:g} kB")
        if s.file_format is not None:
            other.append(s.file_format)
        rows.append(
            (
                s.name,
                f"{s.width_mm:.3g}x{s.height_mm:.3g} mm",
                f"{s.width_px}x{s.height_px} @{s.dpi}",
                rng(s.head_mm, s.height_mm),
                rng(s.eye_mm, s.height_mm),
                "#{:02x}{:02x}{:02x}".format(*s.background),
                ", ".join(other) or "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    print("\nsources:")
    for s in SPECS.values():
        print(f"  {s.name}: {s.authority}" + (f"; background: {s.background_rule}" if s.background_rule else ""))
    return EXIT_OK
