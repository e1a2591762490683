"""The ground-truth command as a user runs it: a Hydra multirun of the quick preset's chunks
(one job per core), collected into a table; the same command again resumes (skips done jobs)."""

import subprocess
import sys

import pytest

from dasip import ground_truth as GT
from dasip.record import read_record

from ..conftest import FAST, ROOT, job_dir


@pytest.mark.slow
def test_the_quick_ground_truth_sweep_collects_into_a_table_and_resumes(tmp_path):
    sweep = tmp_path / "sweep"
    cmd = [sys.executable, str(ROOT / "search.py"), "-m", "+experiment=ground_truth_quick", *FAST,
           "hydra/launcher=local", f"hydra.sweep.dir={sweep}"]  # fmt: skip
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "ground truth chunk 0/2: 4 architectures, 0 already done" in first.stdout
    records = [read_record(job_dir(sweep, method__chunk=i)) for i in (0, 1)]
    assert [r["extra"]["ground_truth"]["chunk"] for r in records] == [0, 1]
    assert all(r["method"] == "ground_truth" and r["status"] == "ok" for r in records)
    collect = subprocess.run(
        [sys.executable, "-m", "dasip.ground_truth", "collect", str(sweep), "--out",
         str(tmp_path / "t.csv.gz")], capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert collect.returncode == 0, collect.stderr
    assert "8 of 8 architectures" in collect.stdout
    table = GT.read_table(tmp_path / "t.csv.gz")
    assert len(table) == 8 and table.attrs["provenance"]["command"].endswith("t.csv.gz")
    rows = (job_dir(sweep, method__chunk=0) / GT.ROWS_FILE).read_text()
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("already done in") == 2 and "to train" not in again.stdout
    assert (job_dir(sweep, method__chunk=0) / GT.ROWS_FILE).read_text() == rows
