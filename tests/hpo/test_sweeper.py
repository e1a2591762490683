"""The bohb sweeper end to end: real ``search.py -m hydra/sweeper=bohb`` sweeps in a subprocess,
at a few epochs, checked through the Optuna study they leave behind and the trial records."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml

from dasip.record import RECORD_FILE, read_record
from dasip.trial import run_trial

from ..conftest import CONF, FAST, ROOT, compose_cfg

FAULTY = Path(__file__).with_name("faulty_search.py")
STUDY = "one-shot-blur-all-sequential"
DONE = ("COMPLETE", "PRUNED")
SWEEP = [
    "-m",
    "hydra/sweeper=bohb",
    *FAST,
    "epochs=3",
    "num_threads=1",
    "hydra.sweeper.min_budget=1",
    "hydra.sweeper.seed=0",
    "hydra.sweeper.sampler.n_startup_trials=3",
    "hydra.sweeper.heartbeat.interval=1",
    "hydra.sweeper.heartbeat.grace_period=2",
]


def sweep(sweep_dir: Path, *overrides: str, script: Path = ROOT / "search.py", rc: int = 0):
    env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, str(script), *SWEEP, f"hydra.sweep.dir={sweep_dir}", *overrides],
        capture_output=True, text=True, cwd=sweep_dir.parent, env=env, timeout=300,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == rc, out[-6000:]
    return out


def trials(sweep_dir: Path, study: str = STUDY) -> list[optuna.trial.FrozenTrial]:
    storage = optuna.storages.RDBStorage(f"sqlite:///{sweep_dir / 'optuna.db'}")
    try:
        return optuna.load_study(study_name=study, storage=storage).get_trials()
    finally:
        storage.engine.dispose()


def assert_killed_trial_retried_once(ts, killed_params) -> list[optuna.trial.FrozenTrial]:
    """Trial 1 of a 3-trial study was killed: it is FAIL, one copy with its parameters ran, the
    study holds 3 finished trials and none RUNNING. Returns the copies."""
    assert ts[1].state.name == "FAIL"
    retries = [t for t in ts if t.system_attrs.get("failed_trial") == 1]
    assert len(retries) == 1 and retries[0].params == killed_params
    assert retries[0].state.name in DONE
    assert sum(t.state.name in DONE for t in ts) == 3
    assert not any(t.state.name == "RUNNING" for t in ts)
    return retries


def record(sweep_dir: Path, number: int) -> dict:
    return read_record(sweep_dir / f"trial_{number:04d}")


@pytest.fixture(scope="module")
def first_sweep(tmp_path_factory):
    sweep_dir = tmp_path_factory.mktemp("bohb") / "sweep"
    sweep_dir.parent.mkdir(exist_ok=True)
    sweep(sweep_dir, "hydra.sweeper.n_trials=6")
    return sweep_dir, trials(sweep_dir)


def test_a_tiny_sweep_prunes_with_hyperband_and_writes_the_study(first_sweep):
    sweep_dir, ts = first_sweep
    assert (sweep_dir / "optuna.db").is_file()
    states = [t.state.name for t in ts]
    assert len(ts) == 6 and all(s in DONE for s in states), states
    assert "PRUNED" in states and "COMPLETE" in states, states
    for t in ts:
        rec = record(sweep_dir, t.number)
        assert rec["extra"]["hpo"]["trial_number"] == t.number
        assert rec["extra"]["hpo"]["state"] == t.state.name
        assert rec["hparams"] == f"{STUDY}-trial-{t.number}" and rec["study"] == STUDY
        for key, value in t.params.items():  # the job ran the sampled point
            assert rec["config"]["hparams"][key.removeprefix("hparams.")] == value
        assert rec["arch_psnr"] is None and rec["retrain_epochs"] is None  # one-shot objective
        if t.state.name == "PRUNED":
            assert rec["status"] == "pruned" and rec["search_epochs"] < 3
            assert t.last_step == rec["search_epochs"]
        else:
            assert rec["status"] == "ok" and t.value == pytest.approx(rec["one_shot_psnr"])
            assert sorted(t.intermediate_values) == [1, 2, 3]
    results = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    best = max((t for t in ts if t.state.name == "COMPLETE"), key=lambda t: t.value)
    assert results["best"]["trial"] == best.number and results["best"]["params"] == best.params


def test_rerunning_the_command_resumes_the_study(first_sweep):
    sweep_dir, before = first_sweep
    out = sweep(sweep_dir, "hydra.sweeper.n_trials=8")
    assert f"{STUDY!r} in sqlite:///" in out and "(6 trials so far)" in out
    after = trials(sweep_dir)
    assert len(after) == 8 and sum(t.state.name in DONE for t in after) == 8
    assert [t.number for t in after] == list(range(8))
    for old, new in zip(before, after[:6], strict=True):  # finished trials are left alone
        assert (old.state, old.value, old.params) == (new.state, new.value, new.params)
    old_points = [t.params for t in before]
    assert all(t.params not in old_points for t in after[6:])  # no trial is repeated
    assert all((sweep_dir / f"trial_{n:04d}" / RECORD_FILE).is_file() for n in range(8))


def test_the_best_preset_loads_as_hparams_and_runs(first_sweep, tmp_path):
    sweep_dir, _ = first_sweep
    name = f"BOHB-{STUDY}"
    preset = yaml.safe_load((sweep_dir / "hparams" / f"{name}.yaml").read_text())
    best = max((t for t in trials(sweep_dir) if t.state.name == "COMPLETE"), key=lambda t: t.value)
    assert preset["name"] == name
    assert {f"hparams.{k}": v for k, v in preset.items() if f"hparams.{k}" in best.params} == (
        best.params
    )
    assert set(preset) == set(yaml.safe_load((CONF / "hparams/H1.yaml").read_text()))
    cfg = compose_cfg(
        overrides=[f"hparams={name}", f"hydra.searchpath=[file://{sweep_dir}]", "epochs=1"]
    )
    rec = run_trial(cfg, tmp_path)
    assert rec.status == "ok" and rec.hparams == name
    assert rec.config["hparams"] == {k: v for k, v in preset.items() if k != "defaults"}


def test_records_of_the_study_are_read_by_the_study_reader(first_sweep):
    records = pytest.importorskip("dasip.study.records")
    sweep_dir, _ = first_sweep
    df = records.load_records(sweep_dir)
    assert len(df) == len(trials(sweep_dir))
    assert set(df["status"]) <= {"ok", "pruned", "failed"} and "pruned" in set(df["status"])


def test_failed_and_nan_trials_are_told_as_failed_and_the_sweep_goes_on(tmp_path):
    sweep_dir = tmp_path / "sweep"
    out = sweep(sweep_dir, "hydra.sweeper.n_trials=3", "+fault.raise_trials=[1]",
                "+fault.nan_trials=[2]", script=FAULTY)  # fmt: skip
    # failed trials are outcomes of an HPO sweep (told to Optuna), not failures of the sweep
    assert "job(s) of the multirun failed" not in out
    ts = trials(sweep_dir)
    assert [t.state.name for t in ts[:3]][1:] == ["FAIL", "FAIL"]
    assert sum(t.state.name in DONE for t in ts) == 3 and len(ts) == 5
    raised, nan = record(sweep_dir, 1), record(sweep_dir, 2)
    assert raised["status"] == "failed" and "injected failure in trial 1" in raised["error"]
    assert nan["status"] == "failed" and nan["one_shot_psnr"] is None
    assert "one_shot_psnr is nan" in nan["error"]
    assert ts[2].user_attrs["error"] == "one_shot_psnr is nan"
    # a failure is not re-queued: its parameters are not tried again
    assert all(t.params != ts[1].params for t in ts if t.number != 1)


@pytest.mark.slow  # a long run; the default suite stays under 10 minutes on 2 cores
def test_a_budget_in_iterations_runs_the_configurations_of_those_iterations(tmp_path):
    # Hyperband over 1..3 epochs, eta 3: brackets s = 1, 0; the first iteration is bracket
    # s = 1 with floor(2 / 2) * 3 = 3 configurations, one trial each
    sweep_dir = tmp_path / "sweep"
    out = sweep(sweep_dir, "hydra.sweeper.n_trials=1", "hydra.sweeper.budget_unit=iterations")
    assert "3 trials (1 Hyperband iterations)" in out
    ts = trials(sweep_dir)
    assert len(ts) == 3 and all(t.state.name in DONE for t in ts), [t.state.name for t in ts]
    results = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert results["n_trials"] == 3


def test_too_many_failures_stop_the_sweep(tmp_path):
    sweep_dir = tmp_path / "sweep"
    out = sweep(sweep_dir, "hydra.sweeper.n_trials=5", "+fault.raise_trials=[0,1,2,3,4,5]",
                "hydra.sweeper.min_trials_for_failure_rate=2", script=FAULTY, rc=1)  # fmt: skip
    assert "2 of 2 finished trials failed" in out
    assert [t.state.name for t in trials(sweep_dir)] == ["FAIL", "FAIL"]


def test_a_sigkilled_job_is_failed_after_the_grace_period_and_retried(tmp_path):
    sweep_dir = tmp_path / "sweep"
    args = ["hydra.sweeper.n_trials=3", "+fault.kill_trial=1"]
    sweep(sweep_dir, *args, script=FAULTY, rc=-signal.SIGKILL)
    ts = trials(sweep_dir)
    assert [t.state.name for t in ts] == ["COMPLETE", "RUNNING"]  # left RUNNING by the kill
    killed_params = ts[1].params

    sweep(sweep_dir, *args, script=FAULTY)  # the same command: resumes
    ts = trials(sweep_dir)
    retries = assert_killed_trial_retried_once(ts, killed_params)
    killed = record(sweep_dir, 1)  # the sweeper wrote the killed job's record
    assert killed["status"] == "failed" and "killed" in killed["error"]
    assert killed["extra"]["hpo"]["params"] == killed_params
    assert record(sweep_dir, retries[0].number)["extra"]["hpo"]["retry_of"] == 1


@pytest.mark.slow  # a long run; the default suite stays under 10 minutes on 2 cores
def test_arch_objective_with_the_joblib_launcher_and_a_search_variant(tmp_path):
    """An ``arch_psnr`` sweep of two parallel jobs over ``method.variant=sdarts_rs``: its jobs
    run the variant, the study is named after it, and its preset reproduces it."""
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    sweep_dir = tmp_path / "sweep"
    out = sweep(sweep_dir, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                "hydra.sweeper.objective=arch_psnr", "hydra.sweeper.max_budget=1",
                "hydra.sweeper.n_trials=2", "hydra.sweeper.batch_size=2",
                "method.variant=sdarts_rs", "method.sdarts_epsilon=0.2")  # fmt: skip
    assert "Joblib.Parallel(n_jobs=2" in out
    study = "das-sdarts_rs-blur-all-sequential"
    ts = trials(sweep_dir, study=study)
    assert len(ts) == 2 and all(t.state.name in DONE for t in ts)
    for t in ts:
        rec = record(sweep_dir, t.number)
        assert rec["config"]["epochs"] == 1 and rec["config"]["retrain_epochs"] == 1
        assert rec["config"]["method"]["variant"] == "sdarts_rs"
        assert rec["config"]["method"]["sdarts_epsilon"] == 0.2
        if t.state.name == "COMPLETE":  # the search epoch at step 1, the retraining at step 2
            assert rec["extra"]["variant"] == "sdarts_rs"  # (a pruned search has no result)
            assert sorted(t.intermediate_values) == [1, 2]
            assert t.value == pytest.approx(rec["arch_psnr"])
    # the first trial to reach a rung is always promoted, and the full budget is never pruned
    assert any(t.state.name == "COMPLETE" for t in ts)
    name = f"BOHB-{study}"
    assert (sweep_dir / "hparams" / f"{name}.yaml").is_file()
    preset = yaml.safe_load((sweep_dir / "experiment" / f"{name}.yaml").read_text())
    assert preset["method"] == {"variant": "sdarts_rs", "sdarts_epsilon": 0.2}
    cfg = compose_cfg(overrides=[f"+experiment={name}", f"hydra.searchpath=[file://{sweep_dir}]"])
    assert (cfg.method.name, cfg.method.variant, cfg.method.sdarts_epsilon, cfg.hparams.name) == (
        "das", "sdarts_rs", 0.2, name
    )  # fmt: skip
