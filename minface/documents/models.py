"""The bundled PP-OCR text models: files, pinned checksums, ONNX Runtime sessions.

Three networks from PaddleOCR (Apache-2.0), shipped byte-identical to the PyPI
wheels they come from (see ``minface/documents/models/NOTICE``), each checked
against its sha256 every time it is loaded:

* ``det``: the PP-OCRv4 DB text detector (``rapidocr_onnxruntime==1.4.4``): a
  probability map of text pixels, decoded by :mod:`minface.documents.db`;
* ``rec``: the PP-OCRv6 small CTC recogniser (``rapidocr==3.10.0``), Chinese,
  Latin and digits; its dictionary is the model's metadata key ``character``;
* ``cls``: the PP-OCR mobile v2.0 line-direction classifier (0 or 180 degrees).

They run on ONNX Runtime (``pip install 'minface[ort]'``).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import BackendError, MissingDependencyError, ModelIntegrityError

__all__ = ["TextModel", "TEXT_MODELS", "text_model_bytes", "text_session", "charset"]


@dataclass(frozen=True)
class TextModel:
    """A bundled text network: its file and checksum."""

    name: str
    file: str
    sha256: str
    size: int


#: The bundled text models (``minface/documents/models/``).
TEXT_MODELS = {
    "det": TextModel(
        "PP-OCRv4-det", "ch_PP-OCRv4_det_infer.onnx", "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9", 4745517
    ),
    "rec": TextModel(
        "PP-OCRv6-rec-small", "PP-OCRv6_rec_small.onnx", "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884", 21234383
    ),
    "cls": TextModel(
        "PP-OCR-cls-mobile-v2.0",
        "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
        "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
        585532,
    ),
}


def _read(file: str) -> bytes:
    ref = resources.files("minface.documents") / "models" / file
    try:
        return ref.read_bytes()
    except OSError as exc:
        raise ModelIntegrityError(f"bundled text model {file} is missing from the minface package: {exc}") from exc


@lru_cache(maxsize=None)
def text_model_bytes(which: str) -> bytes:
    """The bytes of a bundled text model (``"det"``, ``"rec"`` or ``"cls"``), refused unless the checksum matches.

    Raises
    ------
    ModelIntegrityError
        The file is missing or is not the one minface was built with.
    """
    if which not in TEXT_MODELS:
        raise ValueError(f"unknown text model {which!r}; choose one of {', '.join(TEXT_MODELS)}")
    spec = TEXT_MODELS[which]
    data = _read(spec.file)
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise ModelIntegrityError(
            f"bundled text model {spec.file} has sha256 {digest}, expected {spec.sha256}; reinstall minface"
        )
    return data


_lock = threading.Lock()
_sessions: dict[tuple[str, int], Any] = {}


def text_session(which: str, threads: int | None = None) -> Any:
    """A shared ONNX Runtime CPU session of a text model (loaded once per process and thread count).

    Raises
    ------
    MissingDependencyError
        ONNX Runtime is not installed.
    ModelIntegrityError
        The model file's checksum does not match.
    """
    from ..detect.runtimes import _no_telemetry, default_threads

    n = threads or default_threads()
    key = (which, n)
    with _lock:
        session = _sessions.get(key)
        if session is not None:
            return session
        data = text_model_bytes(which)
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise MissingDependencyError(
                "finding text in photos (documents=True, --documents, --text all) needs ONNX Runtime: "
                "pip install 'minface[ort]'"
            ) from exc
        _no_telemetry(ort)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = n
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        opts.enable_mem_pattern = False
        try:
            session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - reported as a backend failure
            raise BackendError(f"ONNX Runtime could not load the text model {which}: {exc}") from exc
        _sessions[key] = session
        return session


@lru_cache(maxsize=None)
def charset() -> tuple[str, ...]:
    """The recogniser's classes: CTC blank (index 0), the dictionary, then a space."""
    meta = text_session("rec").get_modelmeta().custom_metadata_map
    return ("",) + tuple(meta["character"].split("\n")) + (" ",)
