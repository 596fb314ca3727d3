"""Text that is safe to print: control characters and bytes that are not UTF-8 shown as escapes.

File names on POSIX are bytes (Python keeps the undecodable ones as lone
surrogates) and metadata is whatever a file says. Printed as is, a NUL, an
escape sequence or a stray ``0xFF`` byte would corrupt a terminal or make the
output invalid UTF-8 (``inspect --json | jq`` fails). Here each becomes a
visible escape (``\\x00``, ``\\x1b``, ``\\xff``).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["printable", "printable_data"]

# C0 and C1 controls and DEL (newline and tab too: one field is one line), and lone surrogates
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    if 0xDC80 <= c <= 0xDCFF:  # a byte that was not UTF-8, as os.fsdecode keeps it
        return f"\\x{c - 0xDC00:02x}"
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def printable(text: str) -> str:
    """``text`` with control characters and undecodable bytes escaped.

    >>> printable("XMP\\0 chunk"), printable("caf\\udcff.jpg"), printable("plain é")
    ('XMP\\\\x00 chunk', 'caf\\\\xff.jpg', 'plain é')
    """
    return _UNSAFE.sub(_escape, text)


def printable_data(value: Any) -> Any:
    """Every string (keys too) of a JSON-ready value made :func:`printable`; the rest as is.

    >>> printable_data({"source": "a\\udcff.png", "items": [1, "\\x1b[31m"]})
    {'source': 'a\\\\xff.png', 'items': [1, '\\\\x1b[31m']}
    """
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_data(k): printable_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_data(v) for v in value]
    return value
