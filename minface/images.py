"""Read any image input into an upright RGB ``uint8`` array, and write pixels back to files.

The public face of :mod:`minface.io`, kept so that ``minface.images`` names stay importable:

* :mod:`minface.io.decode`: :func:`load_image` (paths, bytes, file objects, PIL images, arrays;
  the format sniffed from the bytes, the EXIF orientation applied, the pixel count checked
  before any pixel is decoded);
* :mod:`minface.io.encode`: :func:`save_image` / :func:`encode_image` (pixels in, one file out,
  nothing else);
* :mod:`minface.io.atomic`: :func:`atomic_write` (a complete new file under its final name, or
  nothing).

>>> import numpy as np
>>> from minface.images import encode_image, load_image
>>> load_image(encode_image(np.zeros((4, 6, 3), np.uint8), "png")).shape
(4, 6, 3)
"""

from __future__ import annotations

from ._temp import TEMP_SUFFIX, temporary_target
from .io.atomic import atomic_write
from .io.decode import (
    DEFAULT_MAX_PIXELS,
    SUPPORTED_FORMATS,
    DecodedImage,
    ImageSource,
    apply_orientation,
    decode_image,
    identify,
    load_image,
    open_file,
    pil_array,
    read_orientation,
    require_avif,
    require_heif,
)
from .io.encode import SAVE_FORMATS, Pixels, _save_format, encode_image, save_image

__all__ = [
    "ImageSource",
    "load_image",
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_FORMATS",
    "apply_orientation",
    "save_image",
    "encode_image",
    "atomic_write",
    "TEMP_SUFFIX",
    "temporary_target",
    "SAVE_FORMATS",
    "require_heif",
    "require_avif",
    "identify",
]

# importable as before, not in __all__
_ = (DecodedImage, Pixels, decode_image, open_file, pil_array, read_orientation, _save_format)
