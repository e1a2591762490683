"""notebooks/study.ipynb runs top to bottom on a small fixture study and shows its figures."""

from __future__ import annotations

import pytest

from ..conftest import ROOT
from .conftest import markdown_rows

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = ROOT / "notebooks" / "study.ipynb"


def test_study_notebook_executes(hand_study, tmp_path, monkeypatch):
    monkeypatch.setenv("DASIP_STUDY", str(hand_study))
    monkeypatch.setenv("DASIP_STUDY_N_BOOT", "100")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    # one scatter (das) and best/worst pictures of three settings
    assert len(images) == 1 + 6
    text = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    rows = [row[:7] for row in markdown_rows(text)]
    assert ["das", "sequential", "all", "blur", "H1", "27.00", "21.90"] in rows
    # the code is dasip.study's: the notebook calls it and copies none of it
    source = "".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import dasip.study as ds" in source and "def " not in source
