"""One vocabulary for colours, wherever minface takes one (fill colour, ID photo background).

A colour is a name (``white``, ``black``, ``grey``/``gray``, ``lightgrey``,
``red``, ...), ``#RRGGBB``, ``#RGB``, ``R,G,B`` (0-255 each) or an ``(r, g, b)``
sequence. :func:`parse_color` turns any of them into an ``(r, g, b)`` tuple of
ints, or raises ``ValueError`` saying what it accepts. Light: the command
line's parent process uses it.

>>> parse_color("white"), parse_color("#0a0b0c"), parse_color("10, 20, 30"), parse_color((1, 2, 3))
((255, 255, 255), (10, 11, 12), (10, 20, 30), (1, 2, 3))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

__all__ = ["NAMED_COLORS", "Color", "parse_color"]

#: A colour as minface accepts it.
Color = Union[str, Sequence[int]]

#: Colour names (lower case; spaces, hyphens and underscores are ignored).
NAMED_COLORS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "grey": (128, 128, 128),
    "gray": (128, 128, 128),
    "lightgrey": (225, 225, 225),  # the light grey of passport photo backgrounds (minface.idphoto.LIGHT_GREY)
    "lightgray": (225, 225, 225),
    "darkgrey": (64, 64, 64),
    "darkgray": (64, 64, 64),
    "red": (255, 0, 0),
    "green": (0, 128, 0),
    "blue": (0, 0, 255),
    "lightblue": (173, 216, 230),
    "offwhite": (245, 245, 240),
}

_HELP = "a colour name (white, black, grey, ...), #RRGGBB, #RGB or R,G,B with 0-255 each"


def parse_color(value: Color) -> tuple[int, int, int]:
    """``(r, g, b)`` for a colour name, ``#RRGGBB``, ``#RGB``, ``R,G,B`` or a sequence of three ints.

    Raises
    ------
    ValueError
        Anything else, with a message listing what is accepted.

    >>> parse_color("Light Grey")
    (225, 225, 225)
    >>> parse_color("purple-ish")
    Traceback (most recent call last):
    ...
    ValueError: unknown colour 'purple-ish': give a colour name (white, black, grey, ...), #RRGGBB, #RGB or R,G,B with 0-255 each
    """
    if isinstance(value, str):
        text = value.strip()
        key = text.lower().replace(" ", "").replace("-", "").replace("_", "")
        if key in NAMED_COLORS:
            return NAMED_COLORS[key]
        digits = text[1:] if text.startswith("#") else text
        try:
            if "," in digits:
                parts = [int(v) for v in digits.split(",")]
            elif len(digits) == 6 and text.startswith("#") or (len(digits) == 6 and _is_hex(digits)):
                parts = [int(digits[i : i + 2], 16) for i in (0, 2, 4)]
            elif len(digits) == 3 and text.startswith("#"):
                parts = [int(c * 2, 16) for c in digits]
            else:
                raise ValueError
        except ValueError:
            raise ValueError(f"unknown colour {value!r}: give {_HELP}") from None
    else:
        try:
            parts = [int(v) for v in value]
        except (TypeError, ValueError):
            raise ValueError(f"unknown colour {value!r}: give {_HELP}") from None
    if len(parts) != 3 or not all(0 <= v <= 255 for v in parts):
        raise ValueError(f"unknown colour {value!r}: give {_HELP}")
    return parts[0], parts[1], parts[2]


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)
