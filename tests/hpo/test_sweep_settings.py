"""The bohb sweeper's settings: checked before any job starts, and kept by a resumed study."""

import importlib.util

import optuna
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.plugins import Plugins
from hydra.errors import ConfigCompositionException
from hydra.plugins.sweeper import Sweeper
from omegaconf import OmegaConf

from dasip.hpo import space as S
from dasip.hpo.study import (
    SETTINGS_ATTR,
    close_storage,
    make_pruner,
    redact,
    trials_for_iterations,
)
from dasip.hpo.sweep import BOHBSweep, SweepError, default_study_name

from ..conftest import CONF, FAST, compose_cfg


def test_hydra_discovers_the_sweeper_in_the_hydra_plugins_namespace():
    names = {cls.__name__ for cls in Plugins.instance().discover(Sweeper)}
    assert "BOHBSweeper" in names


def _compose(overrides=()):
    """The composed config of ``search.py -m hydra/sweeper=bohb <overrides>``, Hydra's node too."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(
            config_name="search",
            overrides=[*FAST, "hydra/sweeper=bohb", *overrides],
            return_hydra_config=True,
        )


def _sweep(tmp_path, overrides=(), **settings):
    """The sweep of ``overrides`` (the job config and Hydra's, e.g. a sampler option) with the
    sweeper's ``settings`` (default ``min_budget=1``), as the plugin makes it."""
    cfg = _compose([f"hydra.sweep.dir={tmp_path / 'sweep'}", *overrides])
    # untyped, as Hydra hands the node to the plugin: the sweeper's schema types it
    node = OmegaConf.create(OmegaConf.to_container(cfg.hydra.sweeper, enum_to_str=True))
    node = OmegaConf.merge(node, {"min_budget": 1, **settings})
    return BOHBSweep(node, cfg, launcher=None, config_loader=None)


def test_defaults_name_the_study_after_the_setting_and_store_it_in_the_sweep_dir(tmp_path):
    sw = _sweep(tmp_path, ["data=downsampling", "ops=good"])
    assert sw.study_name == "one-shot-downsampling-good-sequential"
    assert sw.storage_url == f"sqlite:///{tmp_path / 'sweep' / 'optuna.db'}"
    # one-shot: the jobs skip retraining; the budget is the search epochs of the config
    assert sw.axis.overrides == ["method.retrain=false"] and sw.max_resource == 2
    arch = _sweep(tmp_path, objective="arch_psnr", max_budget=7)
    assert arch.study_name == "blur-all-sequential"
    assert arch.axis.overrides == ["epochs=7", "retrain_epochs=7"] and arch.max_resource == 14
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
        ({"n_trials": 0}, [], "hydra.sweeper.n_trials=0 is not allowed; allowed: an integer >= 1"),
        (
            {"reduction_factor": 1},
            [],
            "hydra.sweeper.reduction_factor=1 is not allowed; allowed: an integer >= 2",
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
    with pytest.raises(SweepError, match=message.replace("(", r"\(").replace("*", r"\*")) as e:
        _sweep(tmp_path, overrides, **settings)
    assert len(str(e.value).splitlines()) == 1 and str(e.value).startswith("dasip: error: ")
    assert not (tmp_path / "sweep").exists()  # no study, no trial


@pytest.mark.parametrize(
    ("override", "allowed"),
    [
        ("hydra.sweeper.objective=psnr", "[one_shot_psnr, arch_psnr]"),
        ("hydra.sweeper.direction=up", "[minimize, maximize]"),
        ("hydra.sweeper.budget_unit=epochs", "[trials, iterations]"),
        ("hydra.sweeper.sampler.n_startup_trials=many", "Integer"),
        ("hydra.sweeper.pruner.bootstrap_count=some", "Integer"),
        ("hydra/sweeper/sampler=grid", "random"),
        ("hydra/sweeper/pruner=median", "hyperband"),
    ],
)
def test_a_bad_choice_or_type_fails_when_the_config_is_composed(override, allowed):
    """The schema's enums and types: OmegaConf and Hydra reject them before the sweeper exists
    (the entry points print the error naming the key and what is allowed)."""
    with pytest.raises(ConfigCompositionException) as e:
        _compose([override])
    text = f"{e.value} {e.value.__cause__}"
    assert override.split("=")[0].split("/")[-1] in text and allowed in text


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"direction": "up"}, "hydra.sweeper.direction: Invalid value 'up', expected one of"),
        ({"objective": "psnr"}, "hydra.sweeper.objective: Invalid value 'psnr', expected one of"),
        ({"sampler": {"_target_": "optuna.samplers.NoSuchSampler"}}, "hydra.sweeper.sampler="),
        (
            {"pruner": {"_target_": "optuna.pruners.HyperbandPruner", "max_resource": "many"}},
            "hydra.sweeper.pruner=.*The 'max_resource' should be integer or 'auto'",
        ),
        ({"pruner": {"_target_": "optuna.pruners.NopPruner", "patience": 3}}, "takes no arguments"),
    ],
)
def test_bad_sampler_pruner_and_direction_values_are_one_line_naming_the_key(
    tmp_path, settings, message
):
    """A node not checked by Hydra's composition (the sweeper's API, a sampler's arguments that
    only Optuna knows): one line naming the key, before any study or trial."""
    with pytest.raises(SweepError, match=message) as e:
        sw = _sweep(tmp_path, **settings)
        sw.open_study(S.distributions(S.paper_space()))  # the sampler is built with its seed
    assert len(str(e.value).splitlines()) == 1 and str(e.value).startswith("dasip: error: ")
    db = tmp_path / "sweep" / "optuna.db"
    if db.exists():  # the storage was opened (to count the trials), but no study was made
        assert optuna.get_all_study_names(f"sqlite:///{db}") == []


def test_the_sampler_and_pruner_groups_choose_what_optuna_runs(tmp_path):
    sw = _sweep(tmp_path / "tpe", seed=3)
    study, storage, _ = sw.open_study(S.distributions(S.paper_space()))
    assert type(study.sampler) is optuna.samplers.TPESampler
    assert type(study.pruner) is optuna.pruners.HyperbandPruner
    close_storage(storage)

    sw = _sweep(tmp_path / "rs", ["hydra/sweeper/sampler=random", "hydra/sweeper/pruner=nop"])
    dists = S.distributions(S.paper_space())
    study, storage, _ = sw.open_study(dists)
    assert type(study.sampler) is optuna.samplers.RandomSampler
    assert type(study.pruner) is optuna.pruners.NopPruner
    # the jobs build the pruner the study keeps
    assert type(make_pruner(study.user_attrs[SETTINGS_ATTR])) is optuna.pruners.NopPruner
    close_storage(storage)


def test_the_sampler_is_seeded_and_a_resumed_study_offsets_the_seed(tmp_path):
    """The same seed draws the same points; a resumed study draws new ones."""
    dists = S.distributions(S.paper_space())

    def first_points(sub: str, n: int = 2) -> list[dict]:
        sw = _sweep(tmp_path / sub, ["hydra/sweeper/sampler=random"], seed=7)
        study, storage, _ = sw.open_study(dists)
        points = []
        for _ in range(n):
            trial = study.ask(dict(dists))
            points.append(trial.params)
            study.tell(trial, 1.0)
        close_storage(storage)
        return points

    a, b = first_points("a"), first_points("b")
    assert a == b
    assert first_points("a") != a  # resumed: seed 7 + 2 trials


def test_the_hyperband_pruner_gets_the_budget_axis(tmp_path):
    sw = _sweep(tmp_path, ["epochs=9"], reduction_factor=2)
    assert sw.pruner_conf == {
        "_target_": "optuna.pruners.HyperbandPruner",
        "min_resource": 1,
        "max_resource": 9,
        "reduction_factor": 2,
        "bootstrap_count": 0,
    }
    study, storage, _ = sw.open_study(S.distributions(S.paper_space()))
    assert study.user_attrs[SETTINGS_ATTR]["pruner"] == sw.pruner_conf
    close_storage(storage)


def test_a_study_made_before_the_pruner_group_resumes_and_its_jobs_get_hyperband(tmp_path):
    sw = _sweep(tmp_path)
    dists = S.distributions(S.paper_space())
    study, storage, _ = sw.open_study(dists)
    old = {k: v for k, v in study.user_attrs[SETTINGS_ATTR].items() if k != "pruner"}
    study.set_user_attr(SETTINGS_ATTR, old)  # as an older sweeper left it
    close_storage(storage)
    pruner = make_pruner(old)
    assert type(pruner) is optuna.pruners.HyperbandPruner
    _, storage, _ = _sweep(tmp_path).open_study(dists)  # same settings: resumes
    close_storage(storage)
    study.set_user_attr(SETTINGS_ATTR, old)
    with pytest.raises(SweepError, match="pruner: study has"):
        _sweep(tmp_path, ["hydra/sweeper/pruner=nop"]).open_study(dists)


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
