"""No network, ever: the switches third-party libraries read when they are loaded.

Imported first by ``minface/__init__.py``, so it runs before any library minface
uses is imported, in the planning process and in every worker process (they
inherit the environment).

ONNX Runtime (1.2x on Linux) sends usage telemetry to Microsoft: DNS lookups and
HTTPS uploads from its native code, and a device ID kept under ``~/.cache``.
``onnxruntime.disable_telemetry_events()`` does not stop it;
``ORT_DISABLE_TELEMETRY=1`` in the environment, read when the library loads, does.
"""

from __future__ import annotations

import os
import sys

os.environ["ORT_DISABLE_TELEMETRY"] = "1"

#: ONNX Runtime was loaded before minface: too late for the switch (the detector then warns).
ORT_LOADED_BEFORE = "onnxruntime" in sys.modules

#: OpenVINO was loaded before minface: its import already sent telemetry (the runtime then warns).
OPENVINO_LOADED_BEFORE = "openvino" in sys.modules


def import_openvino():  # noqa: ANN201 - the openvino module
    """``import openvino`` without its usage telemetry.

    ``import openvino`` imports its model converter (``openvino.tools.ovc``, for
    ``openvino.convert_model``), and that import sends an event to Google
    Analytics, in a thread, unless a consent file under ``~/intel`` says no.
    minface never converts a model, so the converter's import is refused while
    ``openvino`` loads (``openvino/__init__.py`` tolerates its absence), then
    allowed again: importing ``openvino.tools.ovc`` later, on purpose, works
    as before.
    """
    if "openvino" in sys.modules:
        loaded = sys.modules["openvino"]
        if loaded is None:  # imports of it are refused
            raise ImportError("import of openvino halted; None in sys.modules")
        return loaded
    blocked = [name for name in ("openvino.tools.ovc", "openvino_telemetry") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # "import name" raises ImportError
    try:
        import openvino
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return openvino
