"""minface: keep only the face data you need.

Find faces, destroy them beyond recovery, crop to the ID photo a document needs,
and strip every piece of metadata, for one image in an app or whole archives.

>>> import numpy as np, minface
>>> faces = minface.detect(np.zeros((48, 64, 3), np.uint8), preset="fast")
>>> len(faces)
0
"""

import sys
import types
from typing import TYPE_CHECKING, Any

from . import _privacy  # noqa: F401  (first: switches read when libraries load, e.g. no ONNX Runtime telemetry)
from ._version import __version__
from .errors import (
    BackendError,
    CorruptImageError,
    DecompressionBombError,
    IdPhotoError,
    ImageError,
    ImageWriteError,
    InvalidBoxesError,
    MetadataError,
    MinfaceError,
    MissingDependencyError,
    ModelIntegrityError,
    UnsupportedImageError,
)

# Public names load on first use (PEP 562): `import minface` stays cheap, and a
# process that only plans work (the command line's parent) never loads OpenCV,
# Pillow's plugins or a model.
_LAZY = {
    "detect": "detect.detector",
    "Detector": "detect.detector",
    "PRESETS": "detect.presets",
    "available_backends": "detect.runtimes",
    "Faces": "faces",
    "crop_id": "idphoto",
    "IdPhoto": "idphoto",
    "SPECS": "idphoto",
    "DEFAULT_MAX_PIXELS": "images",
    "load_image": "images",
    "save_image": "images",
    "MetadataReport": "metadata",
    "StripReport": "metadata",
    "inspect": "metadata",
    "strip": "metadata",
    "strip_bytes": "metadata",
    "ScrubResult": "pipeline",
    "scrub": "pipeline",
    "scrub_batch": "jobs",
    "scrub_bytes": "pipeline",
    "redact": "redact",
    "regions": "redact",
}

if TYPE_CHECKING:
    from .detect.detector import Detector, detect
    from .detect.presets import PRESETS
    from .detect.runtimes import available_backends
    from .faces import Faces
    from .idphoto import SPECS, IdPhoto, crop_id
    from .images import DEFAULT_MAX_PIXELS, load_image, save_image
    from .jobs import scrub_batch
    from .metadata import MetadataReport, StripReport, inspect, strip, strip_bytes
    from .pipeline import ScrubResult, scrub, scrub_bytes
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
    "strip_bytes",
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
    "InvalidBoxesError",
    "crop_id",
    "IdPhoto",
    "SPECS",
    "IdPhotoError",
    "distributed",
    "media",
    "video",
]


def __getattr__(name: str) -> Any:
    import importlib

    if name in ("distributed", "media", "video"):  # submodules, imported on first use (distributed needs Dask)
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps ``minface.detect`` and ``minface.redact`` the functions.

    Importing the submodules of the same names (``minface/detect/``,
    ``minface/redact.py``) makes Python set them as attributes of the package,
    which would hide the functions; those module objects stay reachable through
    ``import minface.redact`` / ``from minface.detect import PRESETS``.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("detect", "redact") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
