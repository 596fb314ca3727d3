"""Stores: the local disk or any fsspec location, behind one small interface.

A store answers four questions of the engine, as fsspec's ``AbstractFileSystem``
does for files in general:

* :meth:`Store.survey`: which of the planned outputs are already there, and
  minface's temporaries of them (a local disk looks next to each output, a
  store lists its output tree once);
* :meth:`Store.read`: an input's bytes (on a local disk only a regular file is
  read: a FIFO would block);
* :meth:`Store.commit` / :meth:`Store.commit_file`: an output written under a
  temporary name next to its final one (:mod:`minface._temp`'s owner-named
  temporaries) and moved into place only when complete, so a file under its
  final name is always whole;
* :meth:`Store.remove_temporaries`: the temporaries of the outputs whose owner
  is gone (:func:`minface._temp.is_stale`), never those of a run still at work.

A remote input a tool needs as a local file (the video scrubber) is spooled by
:func:`spool` into a temporary the engine owns and always removes; one left by a
killed process carries its owner's name and is removed by the next clean-up of
the system temporary folder (:func:`remove_stale_spools`).

Light: no image library, and fsspec only for an fsspec store.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import tempfile

from collections.abc import Collection, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .._temp import Owner, is_stale, is_temporary_of, sweep_spools, temporary_folder, temporary_name, temporary_target

if TYPE_CHECKING:  # pragma: no cover
    from fsspec import AbstractFileSystem

__all__ = [
    "Store",
    "LocalStore",
    "FsspecStore",
    "store_for",
    "temporary_key",
    "spool",
    "spool_folder",
    "remove_stale_spools",
    "Temporary",
]

#: A temporary found by :meth:`Store.scan`: (its path, its target's path, when modified or None).
Temporary = tuple[str, str, "float | None"]


def temporary_key(path: str) -> str:
    """A temporary key next to ``path`` (``/``-separated), named for this process (:mod:`minface._temp`).

    >>> temporary_key("out/a.jpg").startswith("out/.a.jpg.")
    True
    """
    folder, _, name = path.rpartition("/")
    return f"{folder}/{temporary_name(name)}" if folder or path.startswith("/") else temporary_name(name)


def _write_error(url: str, exc: BaseException) -> BaseException:
    from ..errors import ImageWriteError, MinfaceError

    if isinstance(exc, Exception) and not isinstance(exc, MinfaceError):
        return ImageWriteError(f"{url}: cannot write ({exc or type(exc).__name__})")
    return exc


class Store:
    """The interface of a store (paths are the store's own: ``/``-separated, no protocol)."""

    #: whether paths are paths of this machine's file system (outputs can be written in place)
    local: bool = False

    def url(self, path: str) -> str:
        """The path as records name it (with the store's protocol)."""
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        """Whether something (a file, a link) is at ``path``."""
        raise NotImplementedError

    def read(self, path: str) -> bytes:
        """The bytes of the file at ``path``."""
        raise NotImplementedError

    def commit(self, path: str, data: bytes, *, root: str | None = None) -> None:
        """Write ``data`` at ``path`` atomically: the whole new file under its final name, or nothing."""
        raise NotImplementedError

    def commit_file(self, local: str, path: str, *, root: str | None = None) -> None:
        """Copy the local file ``local`` to ``path`` atomically."""
        raise NotImplementedError

    def scan(self, root: str) -> tuple[set[str], list[Temporary]]:
        """One listing of the tree at ``root``: ``(existing files, [(temporary, its target, modified)])``."""
        raise NotImplementedError

    def survey(
        self, targets: Collection[str], root: str | None, *, existing: bool = True
    ) -> tuple[set[str], list[Temporary]]:
        """Which of the planned outputs ``targets`` exist, and the temporaries of them (``root``: the output tree).

        By default one listing of ``root`` (:meth:`scan`); ``existing=False`` when only the
        temporaries are wanted (the existing set is then empty).
        """
        if root is None:
            return set(), []
        found, temporaries = self.scan(root)
        wanted = set(targets)
        return (found & wanted if existing else set()), [tmp for tmp in temporaries if tmp[1] in wanted]

    def make_folder(self, path: str) -> None:
        """Create the output folder ``path`` (a store without folders: nothing to do)."""

    def remove(self, path: str) -> None:
        """Delete the file at ``path``."""
        raise NotImplementedError

    def remove_temporaries(self, temporaries: Iterable[Temporary], targets: set[str], gone: Iterable[Owner] = ()) -> int:
        """Delete those ``temporaries`` of ``targets`` whose writer is gone; return how many were removed."""
        gone = set(gone)
        removed = 0
        for tmp, target, modified in temporaries:
            if target in targets and is_stale(posixpath.basename(tmp), modified, gone=gone):
                try:
                    self.remove(tmp)
                    removed += 1
                except (OSError, ValueError):
                    pass
        return removed

    @contextlib.contextmanager
    def local_copy(self, path: str, data: bytes | None = None) -> Iterator[str]:
        """The input at ``path`` as a local file: itself on a local disk, else a :func:`spool` of it."""
        if self.local:
            yield path
            return
        with spool(self.read(path) if data is None else data, posixpath.basename(path)) as local:
            yield local


class LocalStore(Store):
    """The local disk, without fsspec (the single-machine batch).

    Commits go through :func:`minface.io.atomic.atomic_write` (temporary file,
    fsync, rename; never through a link below ``root``).
    """

    local = True

    def url(self, path: str) -> str:
        return path

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def read(self, path: str) -> bytes:
        from ..media import open_regular

        with os.fdopen(open_regular(path), "rb") as f:
            return f.read()

    def commit(self, path: str, data: bytes, *, root: str | None = None) -> None:
        from ..io.atomic import atomic_write

        if root is None:
            folder = os.path.dirname(path)
            if folder:
                try:
                    os.makedirs(folder, exist_ok=True)
                except OSError as exc:
                    from ..errors import ImageWriteError

                    raise ImageWriteError(f"{self.url(path)}: cannot create its folder ({exc.strerror or exc})") from exc
        atomic_write(path, data, root=root)

    def commit_file(self, local: str, path: str, *, root: str | None = None) -> None:
        with open(local, "rb") as f:
            self.commit(path, f.read(), root=root)

    def scan(self, root: str) -> tuple[set[str], list[Temporary]]:
        existing: set[str] = set()
        temporaries: list[Temporary] = []
        for folder, dirs, files in os.walk(root):  # never through links to folders
            for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
                path = os.path.join(folder, name)
                target = temporary_target(name)
                if target is None:
                    existing.add(path)
                    continue
                try:
                    modified: float | None = os.lstat(path).st_mtime
                except OSError:
                    modified = None
                temporaries.append((path, os.path.join(folder, target), modified))
        return existing, temporaries

    def remove(self, path: str) -> None:
        os.unlink(path)

    def survey(
        self, targets: Collection[str], root: str | None, *, existing: bool = True
    ) -> tuple[set[str], list[Temporary]]:
        """Outputs that exist (``lexists``: a link counts) and their temporaries, one listing per folder.

        Only the folders the outputs lie in are listed, never the whole tree (an
        output folder may hold much else); ``root`` is not needed.
        """
        by_dir: dict[str, set[str]] = {}
        for out in targets:
            folder, name = os.path.split(os.fspath(out))
            by_dir.setdefault(folder, set()).add(name)
        found = {os.fspath(o) for o in targets if os.path.lexists(o)} if existing else set()
        temporaries: list[Temporary] = []
        for folder, names in by_dir.items():
            try:
                entries = os.listdir(folder or os.curdir)
            except OSError:
                continue
            long = [n for n in names if len(os.fsencode(n)) >= 150]  # cut in temporary names: matched by prefix
            for entry in entries:
                target = temporary_target(entry)
                if target is None:
                    continue
                if target not in names:
                    target = next((n for n in long if is_temporary_of(entry, n)), None)
                    if target is None:
                        continue
                path = os.path.join(folder, entry)
                try:
                    modified: float | None = os.lstat(path).st_mtime
                except OSError:
                    continue
                temporaries.append((path, os.path.join(folder, target), modified))
        return found, temporaries

    def make_folder(self, path: str) -> None:
        """Create the output folder (the folders below it are made as files are written, never through links)."""
        os.makedirs(path, exist_ok=True)


class FsspecStore(Store):
    """Any fsspec file system (``s3://``, ``gs://``, ``memory://``, ``file://``).

    Other stores than a local disk get the bytes under a temporary key next to
    the final one, then ``fs.mv`` to the final key: on object stores the final
    object appears only through a completed copy, whole or not at all. A local
    fsspec file system commits as :class:`LocalStore` does.
    """

    def __init__(self, fs: AbstractFileSystem) -> None:
        from fsspec.implementations.local import LocalFileSystem

        self.fs = fs
        self.local = isinstance(fs, LocalFileSystem)
        self._disk = LocalStore() if self.local else None

    def __reduce__(self) -> tuple[Any, ...]:
        return (FsspecStore, (self.fs,))

    def url(self, path: str) -> str:
        return self.fs.unstrip_protocol(path)

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(path))

    def read(self, path: str) -> bytes:
        if self._disk is not None:
            return self._disk.read(path)
        return self.fs.cat_file(path)

    def commit(self, path: str, data: bytes, *, root: str | None = None) -> None:
        if self._disk is not None:
            try:
                self._disk.commit(path, data, root=root)
            except Exception as exc:
                raise _write_error(self.url(path), exc) from exc
            return
        self._through_temporary(path, lambda tmp: self.fs.pipe_file(tmp, data))

    def commit_file(self, local: str, path: str, *, root: str | None = None) -> None:
        if self._disk is not None:
            self._disk.commit_file(local, path, root=root)
            return
        self._through_temporary(path, lambda tmp: self.fs.put_file(local, tmp))

    def _through_temporary(self, path: str, write: Any) -> None:
        tmp = temporary_key(path)
        try:
            write(tmp)
            self.fs.mv(tmp, path)
        except BaseException as exc:
            try:
                self.fs.rm_file(tmp)
            except Exception:  # best effort: the driver removes stale temporaries too
                pass
            raise _write_error(self.url(path), exc) from exc

    def scan(self, root: str) -> tuple[set[str], list[Temporary]]:
        try:
            found = self.fs.find(root, detail=True)
        except FileNotFoundError:
            found = {}
        existing: set[str] = set()
        temporaries: list[Temporary] = []
        for p, info in found.items():
            folder, _, name = p.rpartition("/")
            target = temporary_target(name)
            if target is not None:
                temporaries.append((p, f"{folder}/{target}", modified_time(info)))
            else:
                existing.add(p)
        return existing, temporaries

    def remove(self, path: str) -> None:
        self.fs.rm_file(path)


def store_for(fs: AbstractFileSystem | None) -> Store:
    """The store of an fsspec file system (None: the local disk, without fsspec)."""
    return LocalStore() if fs is None else FsspecStore(fs)


def modified_time(info: dict[str, Any]) -> float | None:
    """When a store says an object was last written (epoch seconds), or None.

    >>> modified_time({"mtime": 12.5}), modified_time({"LastModified": "2024-01-01T00:00:00Z"})
    (12.5, 1704067200.0)
    """
    import datetime

    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, datetime.datetime):
            return value.timestamp() if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc).timestamp()
        if isinstance(value, str):
            try:
                return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None


# -- spooling ----------------------------------------------------------------------


@contextlib.contextmanager
def spool_folder() -> Iterator[str]:
    """A private owner-named folder in the system temporary folder (``TMPDIR``), removed on leaving.

    Named as :mod:`minface._temp` says (:func:`minface._temp.temporary_folder`),
    so a folder a killed process leaves (holding a byte-identical copy of a
    user's video) is removed by :func:`remove_stale_spools` once its owner is
    gone; that sweep runs first, each time a spool folder is made.
    """
    import shutil

    remove_stale_spools()
    work = temporary_folder(tempfile.gettempdir())
    try:
        yield os.fspath(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def spool(data: bytes | None, name: str) -> Iterator[str]:
    """A local file named ``name`` (holding ``data`` when given) in a :func:`spool_folder`, always removed.

    >>> with spool(b"abc", "clip.mov") as p:
    ...     open(p, "rb").read(), os.path.basename(p)
    (b'abc', 'clip.mov')
    >>> os.path.exists(p)
    False
    """
    with spool_folder() as work:
        path = os.path.join(work, os.path.basename(name) or "input")
        with open(path, "wb") as f:
            if data is not None:
                f.write(data)
        yield path


def remove_stale_spools(parent: str | None = None) -> int:
    """Delete the spool folders in ``parent`` (default: the system temporary folder) whose owner is gone."""
    return sweep_spools(parent)
