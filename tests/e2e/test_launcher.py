"""hydra/launcher=local: the trials of a study side by side, one share of the cores each."""

import subprocess
import sys

from dasip.record import RECORD_FILE, read_record

from ..conftest import FAST, ROOT


def test_the_local_launcher_runs_a_study_in_parallel_with_one_thread_per_trial(tmp_path):
    sweep = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "search.py"), "-m", *FAST, "num_threads=null", "seed=range(3)",
         "hydra/launcher=local", f"hydra.sweep.dir={sweep}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Joblib.Parallel(n_jobs=-1" in proc.stdout + proc.stderr
    records = [read_record(p.parent) for p in sorted(sweep.glob(f"*/{RECORD_FILE}"))]
    assert [r["seed"] for r in records] == [0, 1, 2] and all(r["status"] == "ok" for r in records)
    # each trial got its share of the cores: all of them divided among one job per core
    assert {r["extra"]["threads"] for r in records} == {1}
