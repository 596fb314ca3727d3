"""Strip every file of a folder of real photos and check the outputs with exiftool.

Usage::

    python benchmarks/metadata_corpus.py [--data DIR] [--keep-outputs DIR]

``DIR`` defaults to ``../shared/data/metadata-dev`` next to the repository; when
it is absent the benchmark says so and exits 0. Outputs go to a temporary folder
(nothing is copied into the repository). Files that are not images (README,
licence, inventory) are skipped.

For each file: :func:`minface.metadata.strip` (with pixel verification), then one
``exiftool -j -a -G1 -n`` over all originals and all outputs. A tag counts as
metadata unless :data:`minface.metadata.EXIFTOOL_ALLOWED` allows it:

* groups that describe the file or are computed: ``File``, ``System``,
  ``Composite``, and ``ExifTool:ExifToolVersion`` (an exiftool ``Warning`` counts);
* image structure: ``JFIF`` version/density, ``Adobe`` APP14 (colour transform),
  PNG ``IHDR``/colour chunks, ``RIFF`` (WebP) canvas and animation, ``GIF`` screen
  and animation, TIFF ``IFD0`` layout tags, ``QuickTime``/``Meta`` item structure
  of HEIF/AVIF;
* what strip keeps on purpose: ``IFD0:Orientation`` and a clean ICC profile
  (``ICC_Profile`` colour tags with a generic description and ``ICC-header``
  fields whose date, platform, device maker/model, creator and ID are blank).

The table lists, per exiftool group, the metadata tags in the originals and what
is left in the outputs (should be 0), then failures and pixel checks.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "metadata-dev"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of images (default: %(default)s)")
    parser.add_argument("--keep-outputs", type=Path, help="write the stripped files here instead of a temporary folder")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from minface.metadata import exiftool_residue, sniff_format, strip

    if not args.data.is_dir():
        print(f"metadata corpus not found at {args.data}; nothing to do (pass --data DIR)")
        return 0
    if not shutil.which("exiftool"):
        print("exiftool is not installed (apt-get install libimage-exiftool-perl); cannot check outputs")
        return 0

    files = sorted(p for p in args.data.rglob("*") if p.is_file())
    images = [p for p in files if sniff_format(p.read_bytes()[:4096])]
    skipped = len(files) - len(images)

    with tempfile.TemporaryDirectory() as tmp:
        outdir = args.keep_outputs or Path(tmp)
        ok: dict[Path, Path] = {}
        failed: list[tuple[str, str]] = []
        stats = collections.Counter()
        per_format = collections.defaultdict(collections.Counter)
        t0 = time.perf_counter()
        for src in images:
            rel = src.relative_to(args.data)
            dst = outdir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            fmt = sniff_format(src.read_bytes()[:4096]) or "?"
            per_format[fmt]["files"] += 1
            t = time.perf_counter()
            try:
                report = strip(src, dst)
            except Exception as exc:  # report every failure, whatever it is
                failed.append((str(rel), f"{type(exc).__name__}: {exc}".replace(str(src), "<file>")))
                per_format[fmt]["failed"] += 1
                continue
            per_format[fmt]["seconds"] += time.perf_counter() - t
            per_format[fmt][report.method] += 1
            if report.method == "lossless":
                per_format[fmt]["identical"] += bool(report.pixels_identical)
            per_format[fmt]["removed_bytes"] += report.removed_bytes
            ok[src] = dst
        elapsed = time.perf_counter() - t0

        before = exiftool_residue(list(ok), timeout=1800)
        after = exiftool_residue(list(ok.values()), timeout=1800)
        group_before, group_after = collections.Counter(), collections.Counter()
        dirty: list[tuple[str, list[str]]] = []
        for src, dst in ok.items():
            for tag in before.get(os.fspath(src), []):
                group_before[tag.split(":", 1)[0]] += 1
            left = after.get(os.fspath(dst), [])
            for tag in left:
                group_after[tag.split(":", 1)[0]] += 1
            if left:
                dirty.append((str(src.relative_to(args.data)), left))
            stats["clean"] += not left

    n_ok = len(ok)
    print(f"metadata corpus: {args.data}")
    print(f"{len(images)} images ({skipped} other files skipped), {n_ok} stripped, {len(failed)} failed, "
          f"{stats['clean']}/{n_ok} with no metadata left per exiftool, {elapsed:.1f} s\n")
    print(f"{'format':<7} {'files':>5} {'failed':>6} {'lossless':>8} {'identical':>9} {'re-encoded':>10} "
          f"{'removed KB':>10} {'s/file':>7}")
    for fmt, c in sorted(per_format.items()):
        done = c["files"] - c["failed"]
        print(f"{fmt:<7} {c['files']:>5} {c['failed']:>6} {c['lossless']:>8} "
              f"{c['identical']:>4}/{c['lossless']:<4} {c['reencoded']:>10} {c['removed_bytes'] / 1024:>10.1f} "
              f"{c['seconds'] / max(done, 1):>7.2f}")
    print(f"\n{'exiftool group':<22} {'tags before':>11} {'left after':>10}")
    for group in sorted(set(group_before) | set(group_after), key=lambda g: (-group_before[g], g)):
        print(f"{group:<22} {group_before[group]:>11} {group_after[group]:>10}")
    print(f"{'total':<22} {sum(group_before.values()):>11} {sum(group_after.values()):>10}")
    if dirty:
        print("\nmetadata left:")
        for rel, left in dirty:
            print(f"  {rel}: {', '.join(left[:8])}")
    if failed:
        print("\nfailed (no output written):")
        for rel, reason in failed:
            print(f"  {rel}: {reason[:160]}")
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main())
