"""Byte-level helpers shared by the container parsers."""

from __future__ import annotations


class _Malformed(Exception):
    """A structure could not be parsed (internal; turned into warnings or errors)."""


def _u16be(d: bytes, p: int) -> int:
    return (d[p] << 8) | d[p + 1]


def _u32be(d: bytes, p: int) -> int:
    return int.from_bytes(d[p : p + 4], "big")


def _u32le(d: bytes, p: int) -> int:
    return int.from_bytes(d[p : p + 4], "little")
