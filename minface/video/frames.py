"""Frames in flight as I420 (planar YUV 4:2:0), half the bytes of RGB, and byte-bounded queues between the threads.

The video pipeline holds a window of frames until the detections after them are
known (:mod:`minface.video.scrub`). Held as RGB, an 8192 x 4352 frame is 107 MB,
and a window, a batch and two queues of them several gigabytes. So a decoded
frame is kept as the encoder wants it: I420 at an even size (1.5 bytes a pixel),
turned as shown; it is converted to RGB only to be searched, and to be painted
when it has faces. The queues between the threads are bounded by bytes
(:class:`ByteQueue`), not by frame count, so large frames wait in fewer places.

>>> rgb = np.zeros((4, 6, 3), np.uint8)
>>> yuv = rgb_to_i420(rgb)
>>> yuv.shape, i420_size(yuv), i420_to_rgb(yuv).shape
((6, 6), (6, 4), (4, 6, 3))
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Callable

import cv2
import numpy as np

from .container import CorruptVideoError, Display

__all__ = ["decoded_i420", "i420_to_rgb", "rgb_to_i420", "i420_size", "ByteQueue", "STOPPED"]


def i420_size(yuv: np.ndarray) -> tuple[int, int]:
    """``(width, height)`` of the picture an I420 array ``(height * 3 / 2, width)`` holds."""
    return int(yuv.shape[1]), int(yuv.shape[0] * 2 // 3)


def i420_to_rgb(yuv: np.ndarray) -> np.ndarray:
    """RGB of an I420 picture (BT.601, limited range, as FFmpeg converts by default)."""
    return cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420)


def rgb_to_i420(rgb: np.ndarray) -> np.ndarray:
    """I420 of an RGB picture of even width and height."""
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420)


def _planes(yuv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w, h = i420_size(yuv)
    flat = yuv.reshape(-1)
    y = flat[: w * h].reshape(h, w)
    u = flat[w * h : w * h * 5 // 4].reshape(h // 2, w // 2)
    v = flat[w * h * 5 // 4 :].reshape(h // 2, w // 2)
    return y, u, v


def _shown(yuv: np.ndarray, display: Display) -> np.ndarray:
    """An I420 picture turned and mirrored as ``display`` shows it (each plane alike)."""
    if not display:
        return yuv
    y, u, v = (display.apply(p) for p in _planes(yuv))
    h, w = y.shape
    return np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(h * 3 // 2, w)


def decoded_i420(frame: Any, display: Display, name: str) -> np.ndarray:
    """A decoded PyAV frame as shown (``display``), I420, at an even size (an odd last row or column dropped).

    Raises :class:`CorruptVideoError` for a frame narrower or lower than 2 pixels
    (4:2:0 video cannot hold it).
    """
    w, h = int(frame.width), int(frame.height)
    if w < 2 or h < 2:
        raise CorruptVideoError(f"{name}: frames of {w}x{h} pixels are too small to encode (at least 2x2)")
    if w % 2 == 0 and h % 2 == 0:
        yuv = frame.to_ndarray(format="yuv420p")
    else:
        yuv = rgb_to_i420(frame.to_ndarray(format="rgb24")[: h - h % 2, : w - w % 2])
    return _shown(yuv, display)


class _Stopped:
    """What :meth:`ByteQueue.get` returns when the pipeline stops with the queue empty."""


#: Returned by :meth:`ByteQueue.get` when the pipeline stopped (or the producer died) with nothing left.
STOPPED = _Stopped()


class ByteQueue:
    """A FIFO between two threads holding at most ``budget`` bytes and ``most`` items (always one).

    ``size(item)`` gives an item's bytes. :meth:`put` waits while the queue is
    full, :meth:`get` while it is empty; both give up once ``stop`` is set.

    >>> q = ByteQueue(100, 8, lambda it: it)
    >>> stop = threading.Event()
    >>> q.put(60, stop), q.get(stop), q.get(threading.Event(), producer=threading.Thread()) is STOPPED
    (True, 60, True)
    """

    def __init__(self, budget: int, most: int, size: Callable[[Any], int]) -> None:
        self.budget, self.most, self.size = int(budget), max(1, int(most)), size
        self._items: deque = deque()
        self._bytes = 0
        self._cv = threading.Condition()

    def put(self, item: Any, stop: threading.Event) -> bool:
        """Add ``item`` once there is room; False (not added) if ``stop`` is set first."""
        n = self.size(item)
        with self._cv:
            while self._items and (self._bytes + n > self.budget or len(self._items) >= self.most):
                if stop.is_set():
                    return False
                self._cv.wait(0.2)
            if stop.is_set():
                return False
            self._items.append(item)
            self._bytes += n
            self._cv.notify_all()
            return True

    def get(self, stop: threading.Event, producer: threading.Thread | None = None) -> Any:
        """The next item; :data:`STOPPED` when empty and ``stop`` is set or ``producer`` is no longer alive."""
        with self._cv:
            while not self._items:
                if stop.is_set() or (producer is not None and not producer.is_alive()):
                    return STOPPED
                self._cv.wait(0.2)
            item = self._items.popleft()
            self._bytes -= self.size(item)
            self._cv.notify_all()
            return item
