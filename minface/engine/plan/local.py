"""The plan of the local disk (the single-machine batch): a walk of files and folders.

:func:`plan` walks folders (sorted, never through a link to a folder) and
decides, for every entry it meets, either a :class:`Task` (an image to
process, and where its output goes) or a report record:

* a video :class:`Task` (``kind="video"``) for each video when the verb reads
  videos (``videos=True``: scrub, verify); scrub outputs of videos are MP4 files
  (``clip.mov`` -> ``clip.mp4``), see :func:`route_other`;
* ``skipped`` for what is not a photo (:func:`minface.media.classify`: text,
  PDFs, ``.DS_Store``, ``Thumbs.db``; videos for the verbs that read photos
  only, or when PyAV is missing), for what is not a
  regular file (FIFOs, sockets, devices: they are never opened for reading,
  so they cannot block), for links to folders, broken links, links under
  ``--in-place``, and for what ``--include``/``--exclude`` leave out;
* ``error`` for what cannot be read: a folder that cannot be listed, a path
  longer than the system allows, a file named like a photo whose content is
  none, an image format minface does not read, two inputs whose outputs would
  collide.

So every input gets a record, and nothing but images and videos ever reaches a worker.
This module is light (no image libraries): the planning process uses it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import media
from ..records import error_entry, skip_record
from .rules import VIDEO_SUFFIX, Filter, Task, _ours, mirror, route_other

__all__ = ["Plan", "plan"]


@dataclass
class Plan:
    """What :func:`plan` found, in walk order: a :class:`Task` per image, a record for everything else."""

    items: list[Task | dict[str, Any]] = field(default_factory=list)
    base: Path | None = None  # the inputs' common folder (as given, made absolute)
    #: (absolute path, as given) of each input and of the output: how report records name files
    given: list[tuple[str, str]] = field(default_factory=list)

    def as_given(self, path: str | None) -> str | None:
        """``path`` (absolute, as the work uses it) as the command line named it.

        >>> p = Plan(given=[(os.path.abspath("photos"), "photos/")])
        >>> p.as_given(os.path.join(os.path.abspath("photos"), "a", "b.jpg")) == os.path.join("photos/", "a", "b.jpg")
        True
        """
        if not isinstance(path, str):
            return path
        for full, shown in sorted(self.given, key=lambda g: -len(g[0])):
            if path == full:
                return shown
            if path.startswith(full.rstrip(os.sep) + os.sep):
                return os.path.join(shown, path[len(full.rstrip(os.sep)) + 1 :])
        return path

    def shown(self, rec: dict[str, Any]) -> dict[str, Any]:
        """A report record with its ``input`` and ``output`` named as given (see :meth:`as_given`)."""
        if not self.given:
            return rec
        return {**rec, **{k: self.as_given(rec[k]) for k in ("input", "output") if k in rec}}

    @property
    def tasks(self) -> list[Task]:
        return [i for i in self.items if isinstance(i, Task)]

    @property
    def records(self) -> list[dict[str, Any]]:
        return [i for i in self.items if not isinstance(i, Task)]


def _walk_error(path: str, exc: OSError) -> dict:
    import errno

    if exc.errno == errno.ENAMETOOLONG:
        return error_entry(path, f"path too long for this system ({len(os.fsencode(path))} bytes): not read")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return error_entry(path, f"cannot read this folder: permission denied ({exc.strerror})")
    return error_entry(path, f"cannot read this folder ({exc.strerror or exc})")


@dataclass
class _Entry:
    path: str
    rel: str  # relative to the input it was found in, "/"-separated
    explicit: bool  # named by the user (not found by walking)


def _walk(top: str, exclude: str | None, select: Filter, out: list) -> None:
    """Depth-first, sorted walk of ``top``: an :class:`_Entry` per file, a record for everything else."""
    stack = [(top, "")]
    while stack:
        folder, rel = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            out.append(_walk_error(folder, exc))
            continue
        subfolders = []
        for e in entries:
            path = os.path.join(folder, e.name)
            erel = f"{rel}/{e.name}" if rel else e.name
            try:
                is_link = e.is_symlink()
                is_dir = e.is_dir(follow_symlinks=False)
            except OSError as exc:
                out.append(_walk_error(path, exc))
                continue
            if is_dir:
                if exclude is not None and os.path.abspath(path) == exclude:
                    continue  # the output folder inside the input
                why = select.why_not(erel, True)
                if why:
                    out.append(skip_record(path, why))
                else:
                    subfolders.append((path, erel))
                continue
            if _ours(e.name):
                continue
            if is_link and os.path.isdir(path):
                out.append(skip_record(path, "symbolic link to a folder (not followed)"))
                continue
            why = select.why_not(erel, False)
            if why:
                out.append(skip_record(path, why))
                continue
            out.append(_Entry(path, erel, False))
        stack.extend(reversed(subfolders))


def plan(
    inputs: Sequence[str | os.PathLike],
    output: str | os.PathLike | None,
    *,
    in_place: bool = False,
    read_only: bool = False,
    output_is_file: bool = False,
    suffix: str | None = None,
    select: Filter | None = None,
    videos: bool = False,
) -> Plan:
    """Expand files and folders into tasks and records (see the module documentation).

    Outputs mirror the inputs' layout below their common folder: ``photos``
    with ``-o out`` writes ``photos/a/b.jpg`` to ``out/a/b.jpg``, and the files
    ``x/a.jpg x/y/b.jpg`` go to ``out/a.jpg`` and ``out/y/b.jpg``.

    Parameters
    ----------
    inputs : paths
        Files and folders.
    output : path or None
        The output folder (or, with ``output_is_file``, the output file of the
        one input file); None for in-place and read-only work.
    in_place, read_only : bool
        Tasks replace their input (links are then skipped), or write nothing.
    suffix : str, optional
        Replace each output's extension (``".jpg"`` for ``--format jpeg``).
    select : Filter, optional
        ``--include`` / ``--exclude`` patterns.
    videos : bool
        The verb reads videos: they become tasks (see :func:`route_other`).

    Raises
    ------
    ValueError
        Both or neither of an output and ``in_place``, or an output folder that
        is an input folder (its files would be replaced).

    >>> p = plan(["no/such/file.jpg"], "out")
    >>> p.tasks, [(r["status"], r["error"]) for r in p.records]
    ([], [('error', 'no such file or directory')])
    """
    if not read_only and (output is None) != in_place:
        raise ValueError("give an output folder, or in_place=True (not both)")
    select = select or Filter()
    out_root = None if output is None else Path(os.path.abspath(output))
    exclude = None if out_root is None or output_is_file else os.path.realpath(out_root)
    result = Plan()
    found: list[_Entry | dict] = []
    roots: list[str] = []
    own = [raw for raw in inputs if exclude is not None and _is_folder(raw) and os.path.realpath(raw) == exclude]
    if own and len(own) < len(inputs):  # `minface scrub * -o out` once out exists: its outputs are no inputs
        found += [skip_record(os.path.abspath(raw), "the output folder (-o) is never an input") for raw in own]
        inputs = [raw for raw in inputs if raw not in own]
    if out_root is not None and output is not None:
        result.given.append((os.fspath(out_root), os.fspath(output)))
    for raw in inputs:
        p = os.path.abspath(raw)
        if not os.path.isabs(os.fspath(raw)):
            result.given.append((p, os.fspath(raw)))
        try:
            st = os.lstat(p)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                found.append(error_entry(os.fspath(raw), "no such file or directory"))
            else:
                found.append(error_entry(os.fspath(raw), _walk_error(p, exc)["error"]))
            continue
        if stat.S_ISDIR(st.st_mode):
            roots.append(p)
            _walk(p, exclude, select, found)
        else:
            roots.append(os.path.dirname(p))
            name = os.path.basename(p)
            why = select.why_not(name, False)
            found.append(skip_record(p, why) if why else _Entry(p, name, True))
    base = os.path.commonpath(roots) if roots else os.getcwd()
    result.base = Path(base)
    if out_root is not None and not output_is_file and os.path.realpath(out_root) == os.path.realpath(base):
        raise ValueError(
            f"the output folder {output} is the input folder: its files would be replaced; "
            "give another folder, or --in-place to replace the originals"
        )
    seen: dict[str, str] = {}
    for entry in found:
        if isinstance(entry, dict):
            result.items.append(entry)
            continue
        task, record = _decide(entry, base, out_root, in_place, read_only, output_is_file, suffix, videos)
        if task is not None and not read_only:
            key = os.path.normcase(os.fspath(task.output))
            if key in seen:
                task, record = None, error_entry(
                    entry.path, f"its output {task.output} would replace that of {seen[key]}; rename one of them"
                )
            else:
                seen[key] = entry.path
        result.items.append(task if task is not None else record)  # type: ignore[arg-type]
    return result


def _is_folder(path: str | os.PathLike) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _decide(
    entry: _Entry,
    base: str,
    out_root: Path | None,
    in_place: bool,
    read_only: bool,
    output_is_file: bool,
    suffix: str | None,
    videos: bool = False,
) -> tuple[Task | None, dict | None]:
    """The task for one file, or the record that says why there is none."""
    path = entry.path
    try:
        st = os.lstat(path)
    except OSError as exc:
        return None, _walk_error(path, exc) if not isinstance(exc, FileNotFoundError) else error_entry(
            path, "no such file or directory (removed while walking)"
        )
    if stat.S_ISLNK(st.st_mode):
        if in_place:
            return None, skip_record(path, "symbolic link: --in-place never replaces links (give its target instead)")
        try:
            st = os.stat(path)
        except OSError:
            return None, skip_record(path, "broken symbolic link")
    what = media.entry_type(st.st_mode)
    if what is not None:
        return None, skip_record(path, f"not a regular file ({what})")
    try:
        head = media.read_head(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if reason.startswith("not a regular file"):
            return None, skip_record(path, reason)
        return None, error_entry(path, f"cannot read file ({reason})")
    kind = media.classify(path, head)
    if not kind.is_image:
        routed = route_other(path, kind, videos=videos, in_place=in_place)
        if isinstance(routed, dict):
            return None, routed
        if read_only:
            return Task(Path(path), Path(path), None, kind.format, "video"), None
        assert out_root is not None
        if output_is_file:
            if out_root.suffix.lower() not in (".mp4", ".m4v"):
                return None, error_entry(path, f"a video is written as an MP4 file: name the output {out_root.stem}.mp4")
            return Task(Path(path), out_root, out_root.parent, kind.format, "video"), None
        rel = os.path.splitext(os.path.relpath(path, base))[0] + VIDEO_SUFFIX
        return Task(Path(path), out_root / rel, out_root, kind.format, "video"), None
    if read_only or in_place:
        return Task(Path(path), Path(path), None, kind.format), None
    assert out_root is not None
    if output_is_file:
        return Task(Path(path), out_root, out_root.parent, kind.format), None
    return Task(Path(path), Path(mirror(os.path.relpath(path, base), os.fspath(out_root), suffix, os.sep)), out_root, kind.format), None
