"""hydra/launcher=slurm_local: a study through submitit's real code path (pickled jobs in
their own processes, submitit folders, results collected by the launcher) on this machine,
as hydra/launcher=slurm runs it on a cluster. A rerun of the same command skips the finished
jobs and runs the one that was killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dasip.record import RECORD_FILE, read_record

from ..conftest import FAST, ROOT

pytest.importorskip("hydra_plugins.hydra_submitit_launcher")


def _records(sweep):
    return {p.parent.name: read_record(p.parent) for p in sweep.glob(f"*/{RECORD_FILE}")}


def _job_pids(sweep) -> list[int]:
    """The local executor names each job's submitit folder after the job's process id."""
    folder = sweep / ".submitit"
    return (
        sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder.is_dir() else []
    )


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


@pytest.mark.slow
def test_a_study_through_submitit_resumes_and_reruns_a_killed_job(tmp_path):
    sweep = tmp_path / "sweep"
    cmd = [sys.executable, str(ROOT / "search.py"), "-m", *FAST, "seed=range(2)", "epochs=150",
           "num_threads=1", "hydra/launcher=slurm_local", f"hydra.sweep.dir={sweep}"]  # fmt: skip

    # first run: kill one job's process while it trains; the launcher reports the lost job
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 240
    while len(_job_pids(sweep)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    pids = _job_pids(sweep)
    assert len(pids) == 2, "the local executor did not start two jobs"
    time.sleep(3)  # both are training now (a trial of 150 epochs takes well over 10 s)
    assert not _records(sweep), "a job finished before it could be killed: make it longer"
    # the job id is the pid of submitit's local controller; the trial runs in its child
    tasks = _children(pids[0])
    assert tasks, "no task process under the local controller"
    for pid in tasks:
        os.kill(pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0, out[-3000:]
    first = _records(sweep)
    assert len(first) == 1 and next(iter(first.values()))["status"] == "ok", out[-3000:]
    (survivor,) = first

    # the same command again: the finished job is skipped, the killed one runs
    again = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    records = _records(sweep)
    assert len(records) == 2 and records[survivor] == first[survivor]  # untouched
    (killed,) = set(records) - {survivor}
    assert records[killed]["status"] == "ok"
    assert sorted(r["seed"] for r in records.values()) == [0, 1]
    logs = "".join(p.read_text() for p in (sweep / ".submitit").rglob("*_log.out"))
    assert "already done" in logs  # the resume rule ran inside the submitit job
