"""The bohb sweeper's settings: checked before any job starts, and kept by a resumed study."""

import importlib.util

import pytest
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from omegaconf import OmegaConf

from dasip.hpo import space as S
from dasip.hpo.study import SETTINGS_ATTR, close_storage, redact, trials_for_iterations
from dasip.hpo.sweep import BOHBSweep, SweepError, default_study_name
from hydra_plugins.dasip_bohb_sweeper.config import BOHBSweeperConf

from ..conftest import compose_cfg


def test_hydra_discovers_the_sweeper_in_the_hydra_plugins_namespace():
    names = {cls.__name__ for cls in Plugins.instance().discover(Sweeper)}
    assert "BOHBSweeper" in names


def _sweep(tmp_path, overrides=(), **settings):
    cfg = compose_cfg(overrides=list(overrides))
    OmegaConf.set_struct(cfg, False)
    cfg.hydra = {"sweep": {"dir": str(tmp_path / "sweep")}}
    s = OmegaConf.merge(OmegaConf.structured(BOHBSweeperConf), {"min_budget": 1, **settings})
    return BOHBSweep(s, cfg, launcher=None, config_loader=None)


def test_defaults_name_the_study_after_the_setting_and_store_it_in_the_sweep_dir(tmp_path):
    sw = _sweep(tmp_path, ["data=downsampling", "ops=good"])
    assert sw.study_name == "one-shot-downsampling-good-sequential"
    assert sw.storage_url == f"sqlite:///{tmp_path / 'sweep' / 'optuna.db'}"
    # one-shot: the jobs skip retraining; the budget is the search epochs of the config
    assert sw.budget_overrides == ["method.retrain=false"] and sw.max_resource == 2
    arch = _sweep(tmp_path, objective="arch_psnr", max_budget=7)
    assert arch.study_name == "blur-all-sequential"
    assert arch.budget_overrides == ["epochs=7", "retrain_epochs=7"] and arch.max_resource == 14
    cfg = compose_cfg(overrides=["method=fixed", "arch=grad*10"])
    assert default_study_name("arch_psnr", cfg) == "fixed-blur-all-sequential"
    # a DAS search variant is named, so two variants' sweeps never share a study
    cfg = compose_cfg(overrides=["method.variant=gdas"])
    assert default_study_name("one_shot_psnr", cfg) == "one-shot-das-gdas-blur-all-sequential"
    cfg = compose_cfg(overrides=["method.variant=darts"])
    assert default_study_name("one_shot_psnr", cfg) == "one-shot-blur-all-sequential"


@pytest.mark.parametrize(
    ("settings", "overrides", "message"),
    [
        ({"objective": "psnr"}, [], "hydra.sweeper.objective='psnr' is not allowed"),
        ({"direction": "up"}, [], "hydra.sweeper.direction='up' is not allowed"),
        ({"n_trials": 0}, [], "hydra.sweeper.n_trials=0 is not allowed; allowed: an integer >= 1"),
        ({"reduction_factor": 1}, [], "reduction_factor=1 must be >= 2"),
        (
            {"budget_unit": "epochs"},
            [],
            "hydra.sweeper.budget_unit='epochs' is not allowed; allowed: trials, iterations",
        ),
        ({"min_budget": 3}, [], "min_budget=3 is above the max budget 2 epochs"),
        ({}, ["method=fixed", "arch=grad*10"], "objective=one_shot_psnr needs a method"),
        ({"storage": "optuna.db"}, [], "storage='optuna.db' is not a database URL"),
        ({"storage": "oracle2://u@h/db"}, [], "storage=oracle2://u@h/db: unknown database"),
        (
            {"storage": "mysql://u:secret@h/db"},
            [],
            "storage=mysql://u:***@h/db: the driver of 'mysql' is not installed",
        ),
    ],
)
def test_bad_settings_stop_before_any_job(tmp_path, settings, overrides, message):
    with pytest.raises(SweepError, match=message.replace("(", r"\(").replace("*", r"\*")):
        _sweep(tmp_path, overrides, **settings)


def test_a_resumed_study_must_keep_its_objective_budgets_and_space(tmp_path):
    sw = _sweep(tmp_path, min_budget=1)
    dists = S.distributions(S.paper_space())
    study, storage, n = sw.open_study(dists)
    assert n == 0 and study.user_attrs[SETTINGS_ATTR]["max_resource"] == 2
    close_storage(storage)
    _, storage, _ = _sweep(tmp_path, min_budget=1, n_trials=7).open_study(dists)  # n_trials may
    close_storage(storage)
    with pytest.raises(SweepError, match="min_resource: study has 1, this sweep 2"):
        _sweep(tmp_path, min_budget=2).open_study(dists)
    smaller = {k: v for k, v in dists.items() if k != "hparams.param_warmup"}
    with pytest.raises(SweepError, match="space: study has"):
        _sweep(tmp_path, min_budget=1).open_study(smaller)


def test_a_postgresql_url_gets_the_installed_driver_and_keeps_its_password_out_of_logs(tmp_path):
    pytest.importorskip("psycopg")
    sw = _sweep(tmp_path, storage="postgresql://me:secret@db.example:5432/optuna")
    driver = "postgresql" if importlib.util.find_spec("psycopg2") else "postgresql+psycopg"
    assert sw.storage_url == f"{driver}://me:secret@db.example:5432/optuna"
    assert sw.summary().storage_url == sw.storage_url  # the jobs get the same URL
    assert redact(sw.storage_url) == f"{driver}://me:***@db.example:5432/optuna"


def test_iterations_are_counted_as_bohb_counts_their_configurations():
    # 5..50 epochs, eta 3: brackets s = 2, 1, 0 of floor(3 / (s + 1)) * 3^s = 9, 3, 3 new
    # configurations, cycling from the most aggressive one (hpbandster's get_next_iteration)
    assert [trials_for_iterations(n, 5, 50, 3) for n in range(1, 5)] == [9, 12, 15, 24]
    assert trials_for_iterations(128, 5, 50, 3) == 42 * 15 + 9 + 3 == 642  # the paper's budget
    # 1..8, eta 2: 4 brackets of 8, floor(4/3) * 4 = 4, 2 * 2 = 4, 4 * 1 = 4
    assert trials_for_iterations(4, 1, 8, 2) == 20
    # one bracket (min = max budget): an iteration is one configuration
    assert trials_for_iterations(7, 5, 5, 3) == 7


def test_budget_unit_iterations_sets_the_trials_the_study_should_hold(tmp_path):
    assert _sweep(tmp_path, ["epochs=9"], n_trials=2).n_trials == 2
    sw = _sweep(tmp_path, ["epochs=9"], n_trials=2, budget_unit="iterations")
    assert sw.max_resource == 9 and sw.n_trials == 9 + 3  # Hyperband 1..9 epochs, eta 3
    assert sw.summary().n_trials == 12
