"""The quickstart notebook is executed, so it never rots."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"


def test_quickstart_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "1 ok, 0 failed, 1 skipped" in text and "notes.txt skipped" in text and "metadata left: none" in text
    audit = next(c for c in nb.cells if c.cell_type == "code" and "verify_file(" in c.source)
    assert audit.outputs[0]["data"]["text/plain"] == "('clean', [], [])"
    assert "us-passport: 600x600 px, compliant" in text and "1 other face(s) painted" in text
