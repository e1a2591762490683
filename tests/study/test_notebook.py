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
    cwd = tmp_path / "cwd"  # where the kernel runs
    cwd.mkdir()
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    # the PSNR per setting, one scatter (das) and best/worst pictures of three settings
    assert len(images) == 1 + 1 + 6
    text = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    rows = [row[:7] for row in markdown_rows(text)]
    assert ["das", "sequential", "all", "blur", "H1", "27.00", "21.90"] in rows
    # every best and worst trial listed, the first MAX_PICTURES (8) of them drawn
    assert ["das", "sequential", "all", "blur", "H1", "best", "1", "27.0"] in [
        row[:8] for row in markdown_rows(text)
    ]
    # the code is dasip.study's: the notebook calls it and copies none of it
    source = "".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import dasip.study as ds" in source and "def " not in source
    assert list(cwd.iterdir()) == []  # it wrote nothing where it ran


def test_the_committed_notebook_shows_the_committed_study():
    """It is committed run, on the results file it reads by default, and small."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = "".join(c.source for c in nb.cells if c.cell_type == "code")
    assert '"../results/table1_paper.jsonl"' in source
    assert (NOTEBOOK.parent / "../results/table1_paper.jsonl").is_file()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "run it: jupyter execute --inplace"
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 3
    assert NOTEBOOK.stat().st_size < 600_000
