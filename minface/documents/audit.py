"""Audit an output for readable personal numbers (``minface verify --documents``)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["numbers_left", "shows_document", "SECRET_KINDS"]

#: Kinds that are personal numbers or addresses in themselves.
SECRET_KINDS = ("id_number", "bank_card", "mrz", "phone", "email")


def numbers_left(image: np.ndarray) -> list[dict[str, Any]]:
    """Readable personal numbers in ``image`` (RGB or grey uint8): per kind, the count and masked values.

    >>> numbers_left(np.full((64, 64, 3), 255, np.uint8))
    []
    """
    from .finder import shared_finder

    rgb = image if image.ndim == 3 and image.shape[2] == 3 else None
    if rgb is None:
        import cv2

        rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else np.ascontiguousarray(image[:, :, :3])
    found = shared_finder().find(rgb, "documents")
    out: dict[str, dict[str, Any]] = {}
    for r in found.regions:
        if r.kind in SECRET_KINDS:
            entry = out.setdefault(r.kind, {"kind": r.kind, "count": 0, "masked": []})
            entry["count"] += 1
            if r.masked and r.masked not in entry["masked"]:
                entry["masked"].append(r.masked)
    return list(out.values())


def shows_document(image: np.ndarray) -> dict[str, Any]:
    """Whether ``image`` (RGB uint8) shows a document: how many were proved, and the regions per kind.

    >>> shows_document(np.full((64, 64, 3), 255, np.uint8))
    {'documents': 0, 'kinds': {}}
    """
    from .finder import shared_finder

    found = shared_finder().find(np.ascontiguousarray(image[:, :, :3]), "documents")
    return {"documents": found.documents, "kinds": found.kinds()}
