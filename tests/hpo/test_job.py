"""The job side of the bohb sweeper, in-process: what a trial reports to Optuna, on which step,
and what its record says when it is pruned."""

import math

import pandas as pd
import pytest

from dasip.hpo.job import OptunaPruning, outcome
from dasip.hpo.study import axis_length, report_axis
from dasip.methods import METHODS
from dasip.record import TrialRecord, read_record
from dasip.trial import run_trial

from ..conftest import compose_cfg


class FakeTrial:
    """Stands in for ``optuna.Trial``: records reports, prunes from step ``prune_at`` on."""

    def __init__(self, prune_at: int | None = None):
        self.reports: list[tuple[int, float]] = []
        self.prune_at = prune_at
        self.asked: list[int] = []

    def report(self, value: float, step: int) -> None:
        self.reports.append((step, value))

    def should_prune(self) -> bool:
        step = self.reports[-1][0]
        self.asked.append(step)
        return self.prune_at is not None and step >= self.prune_at


def _run(tmp_path, trial, objective, overrides, max_step=None):
    cfg = compose_cfg(overrides=["epochs=2", "retrain_epochs=2", *overrides])
    cb = OptunaPruning(trial, objective, METHODS[cfg.method.name].phases(cfg), max_step=max_step)
    rec = run_trial(cfg, tmp_path, callbacks=[cb])
    return rec, read_record(tmp_path)


def test_arch_objective_reports_search_then_retraining_on_one_step_axis(tmp_path):
    trial = FakeTrial()
    _, d = _run(tmp_path, trial, "arch_psnr", ["logger=csv"], max_step=4)
    assert [s for s, _ in trial.reports] == [1, 2, 3, 4]
    assert trial.asked == [1, 2, 3]  # the last step is the full budget: never pruned there
    # steps 1-2 are the supernet's per-epoch one-shot PSNR, steps 3-4 the retrained network's
    metrics = pd.read_csv(tmp_path / "csv" / "metrics.csv")
    search = metrics["search/val/psnr"].dropna().tolist()
    retrain = metrics["retrain/val/psnr"].dropna().tolist()
    assert [v for _, v in trial.reports] == pytest.approx(search + retrain)
    assert d["status"] == "ok" and (tmp_path / "model.pt").is_file()


def test_a_trial_pruned_in_retraining_keeps_its_search_result(tmp_path):
    trial = FakeTrial(prune_at=3)
    rec, d = _run(tmp_path, trial, "arch_psnr", [])
    assert [s for s, _ in trial.reports] == [1, 2, 3]
    assert d["status"] == "pruned"
    assert d["search_epochs"] == 2 and d["retrain_epochs"] == 1  # the epochs reached
    assert d["genotype"] and d["one_shot_psnr"] == pytest.approx(dict(trial.reports)[2])
    assert d["arch_psnr"] is None
    assert d["extra"]["pruned"]["step"] == 3 and d["extra"]["pruned"]["phase"] == "retrain"
    assert not (tmp_path / "model.pt").exists()


def test_a_trial_pruned_in_search_stops_there(tmp_path):
    trial = FakeTrial(prune_at=1)
    _, d = _run(tmp_path, trial, "arch_psnr", [])
    assert [s for s, _ in trial.reports] == [1]
    assert d["status"] == "pruned" and d["search_epochs"] == 1 and d["retrain_epochs"] is None
    assert (
        d["genotype"] is None and "pruned by Hyperband at step 1" in d["extra"]["pruned"]["reason"]
    )


def test_one_shot_objective_reports_the_search_only_and_skips_retraining(tmp_path):
    trial = FakeTrial(prune_at=2)  # the pruner would prune at 2, but 2 is the full budget
    rec, d = _run(tmp_path, trial, "one_shot_psnr", ["method.retrain=false"], max_step=2)
    assert [s for s, _ in trial.reports] == [1, 2] and trial.asked == [1]
    assert d["status"] == "ok" and math.isfinite(d["one_shot_psnr"])
    assert d["arch_psnr"] is None and d["retrain_epochs"] is None and d["train_time_s"] == 0.0
    assert not (tmp_path / "model.pt").exists()


def test_das_single_reports_on_the_axis_its_pretraining_does_not_shift(tmp_path):
    """Pre-training is off the axis: the search reports at 1..E, the retraining after it."""
    trial = FakeTrial()
    overrides = ["method=das_single", f"method.cache_dir={tmp_path / 'cache'}"]
    _, d = _run(tmp_path / "run", trial, "arch_psnr", overrides)
    assert [s for s, _ in trial.reports] == [1, 2, 3, 4]  # not 2 pre-trainings x 2 epochs later
    assert trial.asked == [1, 2, 3] and d["status"] == "ok"
    assert d["extra"]["pretrain"]["networks"]["grad"]["cache"] == "miss"


def test_random_search_reports_the_best_so_far_over_its_candidates(tmp_path):
    trial = FakeTrial()
    _, d = _run(tmp_path, trial, "arch_psnr", ["method=random_search", "method.k=3"])
    assert [s for s, _ in trial.reports] == [1, 2, 3, 4, 5, 6]  # 3 candidates x 2 epochs
    assert trial.asked == [1, 2, 3, 4, 5]
    values = [v for _, v in trial.reports]
    finals = [c["arch_psnr"] for c in d["extra"]["candidates"]]
    assert values[1] == pytest.approx(finals[0])
    assert values[5] == pytest.approx(max(finals)) == pytest.approx(d["arch_psnr"])
    assert values[3] >= finals[0] and values[5] >= values[3]  # the best so far never drops


def test_the_axis_is_the_declared_phases():
    cfg = compose_cfg(overrides=["method=random_search", "method.k=4", "retrain_epochs=3"])
    axis = report_axis(METHODS["random_search"].phases(cfg), "arch_psnr")
    assert axis == {"candidates": (0, 3, 4)} and axis_length(axis) == 12
    cfg = compose_cfg(overrides=["method=das_single", "epochs=5", "retrain_epochs=3"])
    phases = METHODS["das_single"].phases(cfg)
    assert [p.name for p in phases] == ["pretrain", "search", "retrain"]
    assert report_axis(phases, "arch_psnr") == {"search": (0, 5, 1), "retrain": (5, 3, 1)}
    assert report_axis(phases, "one_shot_psnr") == {"search": (0, 5, 1)}


def _record(**kw):
    base = dict(study="s", seed=0, method="das", data="blur", ops="all", space="sequential",
                hparams="H1")  # fmt: skip
    return TrialRecord(**{**base, **kw})


@pytest.mark.parametrize(
    ("record", "objective", "expected"),
    [
        (_record(one_shot_psnr=20.5), "one_shot_psnr", ("COMPLETE", 20.5)),
        (_record(one_shot_psnr=20.5, arch_psnr=25.0), "arch_psnr", ("COMPLETE", 25.0)),
        (_record(status="pruned", one_shot_psnr=20.5), "one_shot_psnr", ("PRUNED", None)),
        (_record(status="diverged", arch_psnr=math.nan), "arch_psnr", ("FAIL", None)),
        (_record(status="failed", error="boom"), "arch_psnr", ("FAIL", None)),
        (_record(one_shot_psnr=math.nan), "one_shot_psnr", ("FAIL", None)),
        (_record(arch_psnr=20.0), "one_shot_psnr", ("FAIL", None)),  # no one-shot score
    ],
)
def test_what_a_job_tells_optuna(record, objective, expected):
    state, value, why = outcome(record, objective)
    assert (state, value) == expected
    assert (why is None) == (state != "FAIL")


def test_a_job_whose_trial_was_failed_meanwhile_keeps_its_result_in_the_record_only():
    import optuna
    from optuna.trial import TrialState

    from dasip.hpo.job import _tell

    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    study.tell(trial, state=TrialState.FAIL)  # e.g. failed as stale by a sweeper
    _tell(study, trial, TrialState.COMPLETE, 21.0, {"status": "ok"})  # no error
    frozen = study.get_trials()[0]
    assert frozen.state == TrialState.FAIL and "status" not in frozen.user_attrs
    live = study.ask()
    _tell(study, live, TrialState.COMPLETE, 21.0, {"status": "ok", "error": None})
    done = study.get_trials()[1]
    assert done.state == TrialState.COMPLETE and done.value == 21.0
    assert done.user_attrs == {"status": "ok", "error": None}
