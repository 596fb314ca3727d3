"""Greedy CTC decoding of the recogniser's output (NumPy)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["ctc_greedy"]


def ctc_greedy(probs: np.ndarray, chars: Sequence[str]) -> list[tuple[str, float]]:
    """Best path of each item of ``probs`` ``(N, T, C)``: repeats merged, blanks (class 0) dropped.

    Returns the text and the mean probability of its characters (0 when empty).

    >>> p = np.zeros((1, 5, 3), np.float32)
    >>> p[0, [0, 1, 3, 4], [1, 1, 2, 0]] = 0.9; p[0, 2, 0] = 0.8
    >>> ctc_greedy(p, ["", "a", "b"])
    [('ab', 0.9)]
    """
    best = probs.argmax(axis=2)
    conf = probs.max(axis=2)
    out = []
    for k in range(best.shape[0]):
        idx = best[k]
        keep = idx != 0
        keep[1:] &= idx[1:] != idx[:-1]
        text = "".join(chars[i] if i < len(chars) else "" for i in idx[keep])
        out.append((text, round(float(conf[k][keep].mean()), 4) if keep.any() else 0.0))
    return out
