"""Atomic writes: a complete new file under its final name, or nothing.

The bottom of minface's writers: photos, videos, reports and metadata rewrites all commit
through :func:`atomic_write`.
"""
from __future__ import annotations

import os
from pathlib import Path


from .._temp import temporary_name
__all__ = ["atomic_write"]


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()

# folders can be walked without following links (POSIX; not Windows)
_DIR_FD = {os.open, os.rename, os.mkdir, os.stat, os.unlink} <= os.supports_dir_fd


def _link_error(path: str | os.PathLike, inside: bool) -> Exception:
    from ..errors import ImageWriteError

    where = " inside the output folder" if inside else ""
    return ImageWriteError(f"{path}: is a symbolic link{where}; minface never writes through or replaces links")


def atomic_write(
    dst: str | os.PathLike,
    data: bytes | bytearray | memoryview,
    *,
    mode: int | None = None,
    root: str | os.PathLike | None = None,
) -> None:
    """Write ``data`` to ``dst`` so that ``dst`` is either the old file or the whole new one.

    The bytes go to a temporary file in the same folder, named as :mod:`minface._temp` says
    (``.<name>.<owner>-<random>.minface-tmp``),
    are flushed and synced to disk, and the temporary file is renamed over ``dst``.
    On any failure the temporary file is removed and ``dst`` is untouched.

    Nothing is ever written through a symbolic link: ``dst`` must not be one (it
    would be replaced, or written through), and with ``root`` neither may any
    folder between ``root`` and ``dst``, which are created when missing. The
    folders are opened one by one without following links, so a link swapped
    in while writing is refused too.

    Parameters
    ----------
    dst : path
        The file to write. Without ``root``, its folder must exist.
    data : bytes
    mode : int, optional
        Permission bits of the new file (default: ``0o666`` less the umask).
    root : path, optional
        The output folder ``dst`` lies in (itself may be a link: the caller chose it).

    Raises
    ------
    ImageWriteError
        The file cannot be written, or a link is in the way.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> atomic_write(os.path.join(d, "sub", "x.bin"), b"abc", root=d)
    >>> open(os.path.join(d, "sub", "x.bin"), "rb").read(), os.listdir(os.path.join(d, "sub"))
    (b'abc', ['x.bin'])
    """
    import stat as stat_

    from ..errors import ImageWriteError

    path = Path(os.fspath(dst))
    if root is None:
        base, parts = path.parent, ()
    else:
        rel = os.path.relpath(os.path.abspath(path.parent), os.path.abspath(root))
        if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
            raise ImageWriteError(f"{path}: lies outside the output folder {root}")
        base, parts = Path(root), () if rel == os.curdir else Path(rel).parts
    if not _DIR_FD:  # pragma: no cover - Windows
        _atomic_write_by_path(path, data, mode, base, parts)
        return
    o_dir = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        dir_fd = os.open(base, o_dir)
    except OSError as exc:
        raise ImageWriteError(f"{path}: cannot write in {base} ({exc.strerror or exc})") from exc
    here = base
    try:
        for part in parts:
            here = here / part
            try:
                os.mkdir(part, 0o777, dir_fd=dir_fd)
            except FileExistsError:
                pass
            except OSError as exc:
                raise ImageWriteError(f"{path}: cannot create the folder {here} ({exc.strerror or exc})") from exc
            try:
                nxt = os.open(part, o_dir | os.O_NOFOLLOW, dir_fd=dir_fd)
            except OSError as exc:
                if stat_.S_ISLNK(os.stat(part, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                    raise _link_error(here, True) from exc
                raise ImageWriteError(f"{path}: cannot write in {here} ({exc.strerror or exc})") from exc
            os.close(dir_fd)
            dir_fd = nxt
        try:
            if stat_.S_ISLNK(os.stat(path.name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                raise _link_error(path, root is not None)
        except FileNotFoundError:
            pass
        except OSError as exc:  # a name too long for the file system, a component that is not a folder
            raise ImageWriteError(f"{path}: cannot write ({exc.strerror or exc})") from exc
        for _ in range(100):
            tmp = temporary_name(path.name)
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise ImageWriteError(f"{path}: cannot write in {path.parent} ({exc.strerror or exc})") from exc
        else:  # pragma: no cover
            raise ImageWriteError(f"{path}: cannot find a free temporary name in {path.parent}")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fchmod(f.fileno(), (0o666 & ~_UMASK) if mode is None else mode)
                os.fsync(f.fileno())
            os.rename(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)  # replaces dst, as os.replace
        except BaseException as exc:
            try:
                os.unlink(tmp, dir_fd=dir_fd)
            except OSError:
                pass
            if isinstance(exc, OSError) and not isinstance(exc, ImageWriteError):
                raise ImageWriteError(f"{path}: cannot write ({exc.strerror or exc})") from exc
            raise
        try:  # make the rename itself durable
            os.fsync(dir_fd)
        except OSError:
            pass
    finally:
        os.close(dir_fd)


def _atomic_write_by_path(
    path: Path, data: bytes | bytearray | memoryview, mode: int | None, base: Path, parts: tuple[str, ...]
) -> None:  # pragma: no cover - systems without dir_fd support
    from ..errors import ImageWriteError

    here = base
    for part in parts:
        here = here / part
        if here.is_symlink():
            raise _link_error(here, True)
        here.mkdir(exist_ok=True)
    if path.is_symlink():
        raise _link_error(path, bool(parts))
    for _ in range(100):
        tmp = path.parent / temporary_name(path.name)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise ImageWriteError(f"{path}: cannot write in {path.parent} ({exc.strerror or exc})") from exc
    else:
        raise ImageWriteError(f"{path}: cannot find a free temporary name in {path.parent}")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, (0o666 & ~_UMASK) if mode is None else mode)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, ImageWriteError):
            raise ImageWriteError(f"{path}: cannot write ({exc.strerror or exc})") from exc
        raise

