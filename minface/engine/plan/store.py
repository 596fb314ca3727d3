"""The plan of any fsspec store (the Dask path): URLs, globs and folders of one store.

What each file is (image, video, other) is told on the workers, which read it anyway.
fsspec is imported only when a store is planned.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..records import error_entry, skip_record
from .rules import Filter, StoreTask, _ours, mirror

if TYPE_CHECKING:  # pragma: no cover
    from fsspec import AbstractFileSystem

__all__ = ["plan_store"]


def _is_local(fs: AbstractFileSystem) -> bool:
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(fs, LocalFileSystem)


def _url_to_fs(url: str, options: dict[str, Any]) -> tuple[AbstractFileSystem, str]:
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError as exc:  # e.g. s3:// without s3fs
        from ...errors import MissingDependencyError

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
