"""A trial killed mid-search (SIGKILL: no chance to clean up) and started again with the same
command finishes from its search checkpoint, with the result of a trial never stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from dasip.checkpoints import CHECKPOINT_DIR, PhaseCheckpoint, checkpoint_path
from dasip.record import RECORD_FILE, read_record

from ..conftest import FAST, ROOT

EPOCHS = 60


def _command(run_dir) -> list[str]:
    return [
        sys.executable, str(ROOT / "search.py"), *FAST, f"epochs={EPOCHS}", "retrain_epochs=2",
        "hparams=BOHB-one-shot-Blur", "checkpoints.interval_s=0", "compile.search=false",
        "num_threads=1", f"hydra.run.dir={run_dir}",
    ]  # fmt: skip


@pytest.mark.slow
def test_a_search_killed_mid_search_resumes_to_the_uninterrupted_result(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen(
        _command(run), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    ckpt = checkpoint_path(run, "search")
    deadline = time.monotonic() + 600
    while not ckpt.is_file() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the trial and anything it started
    proc.wait(timeout=60)
    assert ckpt.is_file(), "no search checkpoint was written"
    assert not (run / RECORD_FILE).exists(), "the trial finished before it could be killed"
    state = torch.load(ckpt, weights_only=True)["callbacks"][PhaseCheckpoint.__qualname__]
    killed_at = state["epochs_done"]
    assert 1 <= killed_at < EPOCHS

    again = subprocess.run(_command(run), cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    whole = subprocess.run(
        _command(tmp_path / "whole"), cwd=tmp_path, capture_output=True, text=True, timeout=900
    )
    assert whole.returncode == 0, whole.stderr[-3000:]

    resumed, reference = read_record(run), read_record(tmp_path / "whole")
    assert resumed["status"] == "ok"
    assert resumed["extra"]["resumed_from"]["search"]["epochs_done"] == killed_at
    assert "resumed_from" not in reference["extra"]
    for key in ("genotype", "one_shot_psnr", "arch_psnr", "alpha_probs"):
        assert resumed[key] == reference[key], key
    assert not (run / CHECKPOINT_DIR).exists()  # finished: checkpoints deleted
