"""What the photo and video pipelines share: the result of one file, and the destination rules.

Both :mod:`minface.pipeline` (photos) and :mod:`minface.video.scrub` build on this module, so
neither imports the other for them.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import MinfaceError

__all__ = ["OutputExistsError", "ScrubResult", "check_destination", "text_mode", "IN_PLACE_HINT"]


class OutputExistsError(MinfaceError, FileExistsError):
    """The destination exists and overwriting was not asked for."""


@dataclass
class ScrubResult:
    """What :func:`scrub` did to one file; ``to_record()`` is one line of the JSON report.

    ``faces`` holds, per face, its detected ``box`` and ``score`` and the
    ``region`` that was painted (``shape`` and the ``box`` it is inscribed in,
    which may extend past the image), all in pixels of the upright output image.
    Animated images (and the top-level images of a HEIF) add the ``frame``
    index to each face, and a face found in the alpha plane
    (:mod:`minface.planes`) says ``"plane": "alpha"``. ``notes`` says what the
    output does not keep (the secondary pictures of a multi-picture JPEG).
    """

    input: str
    output: str | None
    status: str  # "ok", "error" or "skipped"
    error: str | None = None
    width: int = 0
    height: int = 0
    faces: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    format: str | None = None
    frames: int = 0
    detector: str | None = None
    notes: list[str] = field(default_factory=list)
    #: text regions painted (``documents=True`` or ``text="all"``): kind, painted polygon, score,
    #: masked value; never the text (see :mod:`minface.documents`)
    regions: list[dict[str, Any]] = field(default_factory=list)

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


#: Why an output may not be its input, for a pipeline that can replace originals (photos).
IN_PLACE_HINT = "pass in_place=True to replace the original"


def check_destination(
    src: Any, dst: str | os.PathLike, overwrite: bool, in_place: bool, *, same_hint: str = IN_PLACE_HINT
) -> int | None:
    """Refuse an existing ``dst`` unless asked; return the permission bits to keep when replacing ``src`` itself.

    ``dst`` that is ``src`` itself is refused unless ``in_place`` (the error then says ``same_hint``:
    a video pipeline, which never replaces its input, says so); any other existing ``dst`` unless
    ``overwrite``. The one rule of the photo and the video pipelines.

    >>> import tempfile
    >>> f = tempfile.NamedTemporaryFile(suffix=".mp4")
    >>> check_destination(f.name, f.name, True, False, same_hint="a video is written to a new file")
    Traceback (most recent call last):
    ...
    minface.results.OutputExistsError: ...: is the input itself; a video is written to a new file
    """
    if isinstance(src, (str, os.PathLike)) and os.path.lexists(dst):
        same = os.path.exists(dst) and os.path.exists(src) and os.path.samefile(src, dst)
        if same and not in_place:
            raise OutputExistsError(f"{dst}: is the input itself; {same_hint}")
        if not same and not overwrite:
            raise OutputExistsError(f"{dst}: exists; pass overwrite=True to replace it")
        if same:
            return os.stat(src).st_mode & 0o7777
    elif os.path.lexists(dst) and not overwrite:
        raise OutputExistsError(f"{dst}: exists; pass overwrite=True to replace it")
    return None


def text_mode(documents: bool, text: str | None) -> str | None:
    """What text is searched: None (none), ``"documents"`` or ``"all"``."""
    if text is not None and text not in ("all", "documents"):
        raise ValueError(f"text must be None, 'documents' or 'all', got {text!r}")
    if text == "all":
        return "all"
    return "documents" if documents or text == "documents" else None
