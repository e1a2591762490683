"""Failures are visible to scripts and schedulers, and untrusted files cannot run code."""

import json
import subprocess
import sys

import pytest
import torch

from dasip.config import ConfigError
from dasip.methods import das_single
from dasip.record import RECORD_FILE, TrialRecord, read_record
from dasip.trial import evaluate_checkpoint

from ..conftest import FAST, ROOT, compose_cfg, job_dir

FAILING = ROOT / "tests" / "e2e" / "failing_search.py"


def _search(args, cwd):
    return subprocess.run(
        [sys.executable, str(FAILING), *[a for a in args if a == "-m"], *FAST, "retrain_epochs=1",
         "epochs=1", *[a for a in args if a != "-m"]],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )  # fmt: skip


def test_a_failed_trial_exits_non_zero_and_still_writes_its_record(tmp_path):
    proc = _search([f"hydra.run.dir={tmp_path}", "seed=1", "+fail_seeds=[1]"], tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert (
        "dasip: error: the trial failed: RuntimeError: injected failure for seed 1" in proc.stderr
    )
    rec = read_record(tmp_path)
    assert rec["status"] == "failed" and "injected failure" in rec["error"]
    ok = _search([f"hydra.run.dir={tmp_path / 'ok'}", "seed=0", "+fail_seeds=[1]"], tmp_path)
    assert ok.returncode == 0, ok.stderr[-2000:]


def test_a_multirun_with_a_failed_job_runs_all_jobs_then_exits_non_zero(tmp_path):
    sweep = tmp_path / "sweep"
    proc = _search(["-m", f"hydra.sweep.dir={sweep}", "seed=range(3)", "+fail_seeds=[1]"], tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    records = [read_record(p.parent) for p in sweep.glob(f"*/{RECORD_FILE}")]
    assert {r["seed"]: r["status"] for r in records} == {0: "ok", 1: "failed", 2: "ok"}  # all ran
    assert "1 job(s) of the multirun failed" in proc.stderr
    assert str(job_dir(sweep, seed=1)) in proc.stderr


class _Evil:
    def __reduce__(self):
        return (exec, ("open('PWNED', 'w').write('x')",))


def _crafted(path):
    torch.save({"state_dict": {}, "genotype": "grad*10", "config": {}, "x": _Evil()}, path)


def test_a_crafted_checkpoint_is_refused_without_running_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "model.pt"
    _crafted(path)
    with pytest.raises(ConfigError, match="loads as weights only"):
        evaluate_checkpoint(compose_cfg("evaluate"), path)
    assert not (tmp_path / "PWNED").exists()


def test_a_crafted_das_single_cache_file_is_a_miss_without_running_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "cache.pt"
    _crafted(path)
    assert das_single._load(path, {"genotype": "grad*10"}) is None
    assert not (tmp_path / "PWNED").exists()
    # the same file loaded the unsafe way would have run the code: the test can fail
    with open(path, "rb"):
        torch.load(path, weights_only=False)
    assert (tmp_path / "PWNED").exists()


def test_the_record_is_written_atomically(tmp_path, monkeypatch):
    """A kill during the write leaves the old record or none, never half of one."""
    rec = TrialRecord(study="s", seed=0, method="das", data="blur", ops="all", space="sequential",
                      hparams="H1")  # fmt: skip
    rec.write(tmp_path)
    before = (tmp_path / RECORD_FILE).read_text()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies between writing and renaming

    monkeypatch.setattr("pathlib.Path.replace", killed)
    rec.seed = 1
    with pytest.raises(KeyboardInterrupt):
        rec.write(tmp_path)
    assert (tmp_path / RECORD_FILE).read_text() == before
    assert json.loads(before)["seed"] == 0


@pytest.mark.parametrize(
    ("target", "reports"),
    [
        ("hydra_plugins.dasip_bohb_sweeper.bohb_sweeper.BOHBSweeper", True),
        ("hydra._internal.core_plugins.basic_sweeper.BasicSweeper", False),
        ("no.such.Sweeper", False),
        (None, False),
    ],
)
def test_failed_jobs_asks_the_sweeper_class_whether_it_reports_failures_itself(target, reports):
    from omegaconf import OmegaConf

    from dasip.cli import _sweeper_reports_failed_jobs

    config = OmegaConf.create({"hydra": {"sweeper": {"_target_": target}}})
    assert _sweeper_reports_failed_jobs(config) is reports
