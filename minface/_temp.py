"""Names of the temporary files minface writes outputs to, and how to recognise them (and only them).

Light: the planning process uses it to skip minface's own temporaries while
walking and to remove those an interrupted run left, never a user's file.
"""

from __future__ import annotations

import re

#: Suffix of the temporary files outputs are written to before they are renamed into place.
TEMP_SUFFIX = ".minface-tmp"

# ``.<target>.<8 chars>.minface-tmp`` (atomic_write) or ``.<target>.<32 hex>.minface-tmp``
# (minface.distributed on object stores): only files minface itself creates match.
_TEMP_RE = re.compile(r"^\.(?P<target>.+)\.(?:[0-9a-f]{32}|[a-z0-9_]{8})" + re.escape(TEMP_SUFFIX) + "$")

# longest part of the target's name kept in a temporary name (file names are limited to 255 bytes)
_TEMP_NAME_PART = 180


def temporary_name(target: str, token: str) -> str:
    """The name of a temporary file for ``target`` (a file name, not a path).

    >>> temporary_name("a.jpg", "k3j4h5g6")
    '.a.jpg.k3j4h5g6.minface-tmp'
    """
    return f".{target[:_TEMP_NAME_PART]}.{token}{TEMP_SUFFIX}"


def temporary_target(name: str) -> str | None:
    """The target of a temporary file name made by minface (cut to 180 characters), or None.

    >>> temporary_target(".a.jpg.k3j4h5g6.minface-tmp"), temporary_target(".a.jpg.notes.tmp")
    ('a.jpg', None)
    """
    m = _TEMP_RE.match(name)
    return m["target"] if m else None


def is_temporary_of(name: str, target: str) -> bool:
    """Whether ``name`` is a temporary file minface made for the file named ``target``."""
    return temporary_target(name) == target[:_TEMP_NAME_PART]
