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
