"""minface: keep only the face data you need.

Find faces, destroy them beyond recovery, crop to the ID photo a document needs,
and strip every piece of metadata, for one image in an app or whole archives.

>>> import numpy as np, minface
>>> faces = minface.detect(np.zeros((48, 64, 3), np.uint8), preset="fast")
>>> len(faces)
0
"""

from ._version import __version__
from .detect import PRESETS, Detector, available_backends, detect
from .errors import (
    BackendError,
    CorruptImageError,
    DecompressionBombError,
    IdPhotoError,
    ImageError,
    ImageWriteError,
    MetadataError,
    MinfaceError,
    MissingDependencyError,
    ModelIntegrityError,
    UnsupportedImageError,
)
from .faces import Faces
from .idphoto import SPECS, IdPhoto, crop_id
from .images import DEFAULT_MAX_PIXELS, load_image, save_image
from .metadata import MetadataReport, StripReport, inspect, strip
from .pipeline import ScrubResult, scrub, scrub_batch, scrub_bytes
from .redact import redact, regions

__all__ = [
    "__version__",
    "detect",
    "Detector",
    "PRESETS",
    "available_backends",
    "Faces",
    "load_image",
    "save_image",
    "DEFAULT_MAX_PIXELS",
    "scrub",
    "scrub_batch",
    "scrub_bytes",
    "ScrubResult",
    "redact",
    "regions",
    "inspect",
    "strip",
    "MetadataReport",
    "StripReport",
    "MinfaceError",
    "ImageError",
    "UnsupportedImageError",
    "CorruptImageError",
    "DecompressionBombError",
    "MissingDependencyError",
    "ModelIntegrityError",
    "BackendError",
    "MetadataError",
    "ImageWriteError",
    "crop_id",
    "IdPhoto",
    "SPECS",
    "IdPhotoError",
    "distributed",
]


def __getattr__(name: str):  # noqa: ANN202 - the lazily imported submodules
    """``minface.distributed`` is imported on first use, so ``import minface`` never imports Dask."""
    if name == "distributed":
        import importlib

        return importlib.import_module(f"{__name__}.distributed")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
