"""``minface presets``: what each detection preset costs and finds."""

from __future__ import annotations

import argparse

from .common import EXIT_OK

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``minface presets``: one line per preset."""
    from ..detect import PRESETS
    from ..detect.multiscale import RELIABLE_MIN

    for p in PRESETS.values():
        top = min(p.max_scale, RELIABLE_MIN / p.min_face)
        print(f"{p.name:9s} faces from {p.min_face:g} px, largest scale {top:g}x, {p.model} weights: {p.summary}")
    print("Every preset also searches the image turned by 90, 180 and 270 degrees (--upright-only: as stored only).")
    return EXIT_OK
