"""The plan: from the files, folders and URLs a user names to the work to do, one task or one record per input.

:func:`plan` walks the local disk (the single-machine batch); :func:`plan_store` walks
any fsspec store (the Dask path). Both mirror the inputs' tree below their common
folder (:func:`mirror`), leave out minface's own files (:func:`is_ours`) and apply
``--include``/``--exclude`` (:class:`Filter`).

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

import fnmatch
import os
import posixpath
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import media
from .._temp import temporary_target
from .records import error_entry, skip_record

if TYPE_CHECKING:  # pragma: no cover
    from fsspec import AbstractFileSystem

__all__ = ["Task", "Plan", "Filter", "plan", "plan_store", "mirror", "is_ours", "JOURNAL_NAME", "skip_record", "error_entry", "route_other", "VIDEO_SUFFIX", "StoreTask", "video_output"]

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


# -- any fsspec store --------------------------------------------------------------


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


def _is_local(fs: AbstractFileSystem) -> bool:
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(fs, LocalFileSystem)


def _url_to_fs(url: str, options: dict[str, Any]) -> tuple[AbstractFileSystem, str]:
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError as exc:  # e.g. s3:// without s3fs
        from ..errors import MissingDependencyError

        raise MissingDependencyError(f"{url}: {exc}") from exc
    if _is_local(fs):
        return fs, posixpath.normpath(path)
    return fs, path.rstrip("/") or path


def _has_magic(path: str) -> bool:
    return any(c in path for c in "*?[")


def _parent(path: str) -> str:
    parent = posixpath.dirname(path)
    return parent if parent else ""


def _under(path: str, folder: str | None) -> bool:
    return folder is not None and (path == folder or path.startswith(folder.rstrip("/") + "/"))


def _walk_store(fs: AbstractFileSystem, root: str, exclude: str | None) -> list[str]:
    found = fs.find(root)
    return sorted(p for p in found if not _ours(posixpath.basename(p)) and not _under(p, exclude))


def _relative(path: str, base: str) -> str:
    if not base or base == "/":
        return path.lstrip("/")
    return path[len(base.rstrip("/")) + 1 :]


def plan_store(
    inputs: Sequence[str],
    output: str,
    storage_options: dict[str, Any],
    output_storage_options: dict[str, Any],
    select: Filter | None = None,
    suffix: str | None = None,
) -> tuple[list[StoreTask], list[dict[str, Any]], AbstractFileSystem, AbstractFileSystem, str]:
    """Expand URLs, globs and folders of one fsspec store into tasks; return ``(items, records, in_fs, out_fs, out_root)``.

    ``records``: an error for each input that matches nothing, a skip for each
    file ``select`` (``--include``/``--exclude``) leaves out. What each file is
    (image, video, other) is told on the workers, which read it anyway.
    """
    out_fs, out_root = _url_to_fs(output, output_storage_options)
    in_fs: AbstractFileSystem | None = None
    roots: list[str] = []
    files: list[tuple[str, str]] = []  # (path, path relative to the input it was found in)
    problems: list[tuple[str, str]] = []
    for url in inputs:
        fs, path = _url_to_fs(url, storage_options)
        if in_fs is None:
            in_fs = fs
        elif type(fs) is not type(in_fs) or fs.storage_options != in_fs.storage_options:
            raise ValueError(f"{url}: all inputs must be in one store (the first is {in_fs.unstrip_protocol('')})")
        exclude = out_root if type(fs) is type(out_fs) else None
        if _has_magic(path):
            matches = fs.glob(path, detail=True)
            if not matches:
                problems.append((url, "no file matches this pattern"))
            for name in sorted(matches):
                if _under(name, exclude):
                    continue
                if matches[name].get("type") == "directory":
                    roots.append(name)
                    files.extend((f, _relative(f, name)) for f in _walk_store(fs, name, exclude))
                elif not _ours(posixpath.basename(name)):
                    roots.append(_parent(name))
                    files.append((name, posixpath.basename(name)))
        elif fs.isdir(path):
            roots.append(path)
            files.extend((f, _relative(f, path)) for f in _walk_store(fs, path, exclude))
        elif fs.isfile(path):
            roots.append(_parent(path))
            files.append((path, posixpath.basename(path)))
        else:
            problems.append((url, "no such file or directory"))
    assert in_fs is not None
    base = posixpath.commonpath(roots) if roots else ""
    items: list[StoreTask] = []
    records = [error_entry(url, reason) for url, reason in problems]
    seen: set[str] = set()
    out_base = out_root.rstrip("/")
    for f, rel in files:
        if f in seen:
            continue
        seen.add(f)
        why = select.why_not_path(rel) if select else None
        if why:
            records.append(skip_record(in_fs.unstrip_protocol(f), why))
            continue
        items.append(StoreTask(f, mirror(_relative(f, base), out_base, suffix)))
    return items, records, in_fs, out_fs, out_root
