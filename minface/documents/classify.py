"""What a recognised line is: a personal number, an identity-document field, or nothing that matters."""

from __future__ import annotations

import re

from . import validators as v

__all__ = ["classify", "PROOF_KINDS", "KINDS"]

#: Region kinds minface reports (``document``: the whole card or page of a proved document;
#: ``text``: a region painted by ``text="all"`` only).
KINDS = ("id_number", "bank_card", "mrz", "phone", "email", "document_text", "document_portrait", "document", "text")
#: Kinds that prove the line lies on an identity document or a card: its other lines and its portrait go too.
PROOF_KINDS = frozenset({"id_number", "bank_card", "mrz"})

_DIGITISH = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "L": "1",
                           "Z": "2", "S": "5", "B": "8", "b": "6", "G": "6", "g": "9", "q": "9", "T": "7"})
_RUN = re.compile(r"[0-9OoDQIl|LZSBbGgqT][0-9OoDQIl|LZSBbGgqT \-]{10,26}[0-9OoDQIl|LZSBbGgqTXx]")


def _id_like(s: str) -> bool:
    """18 characters shaped as a resident ID number (valid check, or a real date in the right place)."""
    if v.is_id_number(s):
        return True
    if len(s) != 18 or not s[:17].isdigit() or s[17] not in "0123456789X":
        return False
    y, m, d = int(s[6:10]), int(s[10:12]), int(s[12:14])
    return 1900 <= y <= 2100 and 1 <= m <= 12 and 1 <= d <= 31


def classify(text: str) -> tuple[str, str | None] | None:
    """The kind of a recognised line and its masked value, or None when it is nothing personal.

    >>> classify("公民身份号码 11010519491231002X")
    ('id_number', '1101**********002X')
    >>> classify("6222 0212 3456 7897")[0], classify("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<")[0]
    ('bank_card', 'mrz')
    >>> classify("住址 北京市东城区"), classify("OPEN 24 HOURS")
    (('document_text', None), None)
    """
    t = text.strip()
    if not t:
        return None
    compact = re.sub(r"\s+", "", t)
    if v.mrz_shape(compact):
        return "mrz", v.mask(compact, 2, 0)[:6] + "…"
    for m in _RUN.finditer(t):
        run = m.group(0).strip()
        digits = re.sub(r"[ \-]", "", run).translate(_DIGITISH).upper()
        for i in range(0, max(1, len(digits) - 17)):
            if _id_like(digits[i : i + 18]):
                return "id_number", v.mask(digits[i : i + 18])
        spaced = run.translate(_DIGITISH)
        if v.is_card_number(spaced) or v.is_card_number(digits) or re.fullmatch(r"(\d{4} ){3,4}\d{3,4}", spaced):
            return "bank_card", v.mask(digits, 4, 4)
    if v.is_email(t) or v.email_cut(t):
        m = re.search(r"[A-Za-z0-9._%+-]+@", t)
        return "email", (m.group(0)[:1] + "***@***") if m else None
    if v.is_phone(t):
        digits = re.sub(r"\D", "", t)
        return "phone", v.mask(digits, 3, 2)
    if v.labelled_field(t):
        return "document_text", None
    return None
