"""The rules every plan keeps, local or in a store: tasks, the mirror, minface's own files, the filter, videos.

Light: no image library, no fsspec.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ... import media
from ..._temp import temporary_target
from ..records import error_entry, skip_record

__all__ = [
    "Task", "StoreTask", "Filter", "is_ours", "mirror", "route_other", "video_output",
    "JOURNAL_NAME", "VIDEO_SUFFIX", "VIDEO_MISSING",
]

#: The in-place journal's file name (in the inputs' common folder).
JOURNAL_NAME = ".minface-journal.jsonl"


@dataclass(frozen=True)
class Task:
    """One input file and where its output goes.

    ``root`` is the output folder the output lies in (None for read-only and
    in-place tasks): no folder between it and ``output`` may be a link.
    ``format`` is the image or video format the walk sniffed; ``kind`` is
    ``"image"`` or ``"video"``.
    """

    input: Path
    output: Path
    root: Path | None = None
    format: str | None = None
    kind: str = "image"

    def outputs(self) -> tuple[str, ...]:
        """Where this task's output may lie (its one output: the walk knew what the file is)."""
        return (os.fspath(self.output),)


class Filter:
    """``--include`` / ``--exclude`` glob patterns.

    A pattern without ``/`` is matched against the file or folder *name*, one
    with ``/`` against the path relative to the input folder it was found in
    (``2024/*.jpg``); ``fnmatch`` rules (``*`` also matches ``/``), without
    regard to case, since photo extensions come in both (``.JPG``, ``.jpg``).
    A folder that matches an exclude pattern is not walked at all. A file is
    processed when it matches no exclude pattern and, if include patterns are
    given, at least one of them.

    >>> f = Filter(include=["*.jpg"], exclude=["drafts", "*/private/*"])
    >>> f.why_not("2024/a.JPG", False), f.why_not("a.png", False), f.why_not("drafts", True)
    (None, 'not matched by --include', 'excluded by --exclude drafts')
    """

    def __init__(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
        self.include = [p for p in include if p]
        self.exclude = [p for p in exclude if p]

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    @staticmethod
    def _match(pattern: str, rel: str) -> bool:
        target = rel if "/" in pattern.strip("/") else rel.rsplit("/", 1)[-1]
        return fnmatch.fnmatch(target.lower(), pattern.strip("/").lower())

    def why_not_path(self, rel: str) -> str | None:
        """:meth:`why_not` for a file at ``rel``, checking its folders too (for walks that list files only).

        >>> Filter(exclude=["drafts"]).why_not_path("2024/drafts/a.jpg")
        'excluded by --exclude drafts'
        """
        parts = rel.split("/")
        for i in range(1, len(parts)):
            why = self.why_not("/".join(parts[:i]), True)
            if why:
                return why
        return self.why_not(rel, False)

    def why_not(self, rel: str, is_dir: bool) -> str | None:
        """Why the entry at ``rel`` (relative, ``/``-separated) is left out; None when it is kept."""
        for p in self.exclude:
            if self._match(p, rel):
                return f"excluded by --exclude {p}"
        if self.include and not is_dir and not any(self._match(p, rel) for p in self.include):
            return "not matched by --include"
        return None


def is_ours(name: str) -> bool:
    """minface's own files in a tree, local or in a store: the in-place journal and temporary files (never inputs).

    >>> is_ours(JOURNAL_NAME), is_ours("a.jpg")
    (True, False)
    """
    return name == JOURNAL_NAME or temporary_target(name) is not None


_ours = is_ours


def mirror(rel: str, out_root: str, suffix: str | None = None, sep: str = "/") -> str:
    """The output of the input at ``rel`` (relative to the inputs' common folder) under ``out_root``.

    ``suffix`` replaces the extension (another output format).

    >>> mirror("2024/a.png", "out", ".jpg"), mirror("a.jpg", "")
    ('out/2024/a.jpg', 'a.jpg')
    """
    if suffix:
        rel = os.path.splitext(rel)[0] + suffix
    base = out_root.rstrip(sep) if out_root != sep else sep
    if not base:
        return rel
    return f"{base}{rel}" if base.endswith(sep) else f"{base}{sep}{rel}"


#: The extension of a scrubbed video (an MP4 file, whatever the input's container).
VIDEO_SUFFIX = ".mp4"

#: The reason of a video's record when PyAV is not installed.
VIDEO_MISSING = "video: pip install 'minface[video]' to scrub videos (PyAV)"


def route_other(
    name: str | os.PathLike, kind: media.MediaKind, *, videos: bool = False, in_place: bool = False
) -> dict | str:
    """Where a file that is not an image goes: ``"video"`` (a video task) or its report record.

    Videos go to the video scrubber when the verb reads them (``videos``) and
    PyAV is installed; else they get a ``skipped`` record saying why (the
    install hint when PyAV is missing). ``--in-place`` never replaces a video:
    the scrubbed video is a new MP4 file.

    >>> k = media.MediaKind("video", "MOV", media.VIDEO_REASON)
    >>> route_other("a.mov", k)["reason"]
    'video (only scrub and verify read videos)'
    >>> route_other("a.mov", k, videos=True, in_place=True)["reason"]
    'video: --in-place does not replace videos (they are written as new MP4 files); give -o OUTDIR'
    """
    if kind.kind == "video":
        if not videos:
            return skip_record(name, kind.reason or media.VIDEO_REASON, format=kind.format)
        if in_place:
            return skip_record(
                name, "video: --in-place does not replace videos (they are written as new MP4 files); give -o OUTDIR",
                format=kind.format,
            )
        import importlib.util

        if importlib.util.find_spec("av") is None:
            return skip_record(name, VIDEO_MISSING, format=kind.format)
        return "video"
    if kind.error:
        return error_entry(name, kind.reason or "not an image")
    return skip_record(name, kind.reason or "not an image")


class StoreTask(NamedTuple):
    """One input file in a store: its path in the input store and its output's path in the output store.

    What the file is is told on the workers, which read it anyway: a file named like a
    video may be written as an MP4 file (:func:`video_output`) instead.
    """

    input: str
    output: str

    @property
    def root(self) -> None:
        """No output folder to make first: a store's commits make what they need."""
        return None

    def outputs(self) -> tuple[str, ...]:
        """Where this task's output may lie: its mirrored name, and the MP4 name of a file named like a video.

        >>> StoreTask("in/a.mov", "out/a.mov").outputs(), StoreTask("in/a.jpg", "out/a.jpg").outputs()
        (('out/a.mov', 'out/a.mp4'), ('out/a.jpg',))
        """
        if posixpath.splitext(self.input)[1].lower() in media.VIDEO_EXTENSIONS:
            return (self.output, video_output(self.output))
        return (self.output,)


def video_output(path: str) -> str:
    """The output path of a video: its name with the ``.mp4`` extension (videos are written as MP4).

    >>> video_output("out/2024/IMG_0001.MOV")
    'out/2024/IMG_0001.mp4'
    """
    return posixpath.splitext(path)[0] + VIDEO_SUFFIX
