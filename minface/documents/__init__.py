"""Documents in photos: find ID numbers, card numbers, MRZ lines, phones, e-mails and card portraits.

``minface.scrub(..., documents=True)`` (``minface scrub --documents``) destroys
them with the face redaction methods; :func:`find_text` is the search alone.
The validators (:mod:`minface.documents.validators`) need no model.
"""

from __future__ import annotations

from typing import Any

from . import validators
from .classify import KINDS, PROOF_KINDS, classify

__all__ = ["find_text", "TextFinder", "TextRegion", "TextResult", "classify", "validators", "KINDS", "PROOF_KINDS"]


def __getattr__(name: str) -> Any:
    if name in ("find_text", "TextFinder", "TextRegion", "TextResult", "shared_finder"):
        from . import finder

        return getattr(finder, name)
    raise AttributeError(name)
