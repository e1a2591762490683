"""The best preset of a sweep: the hparams preset, and for a DAS search variant the experiment
preset that sets the variant and loads the hparams (so using it reproduces the variant)."""

from pathlib import Path

import optuna
import pytest
import yaml
from omegaconf import OmegaConf

from dasip.hpo.export import SweepSummary, best_method, write_results

from ..conftest import CONF, compose_cfg

NAME = "BOHB-test"
H1 = OmegaConf.to_container(OmegaConf.load(CONF / "hparams/H1.yaml"))
DAS = OmegaConf.to_container(OmegaConf.load(CONF / "method/das.yaml"))


def _summary(sweep_dir: Path, method: dict, hparams_dir: Path | None = None) -> SweepSummary:
    return SweepSummary(
        study_name="s", storage_url="sqlite://", objective="one_shot_psnr",
        direction="maximize", n_trials=2, min_budget=1, max_resource=2, reduction_factor=3,
        sweep_dir=sweep_dir, hparams_name=NAME,
        hparams_dir=str(hparams_dir) if hparams_dir else None, hparams=dict(H1), method=method,
    )  # fmt: skip


def _study(params: list[dict], values: list[float]) -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    dists = {
        "hparams.alpha_lr": optuna.distributions.FloatDistribution(1e-5, 0.1, log=True),
        "method.sdarts_epsilon": optuna.distributions.FloatDistribution(0.1, 0.5),
    }
    for p, v in zip(params, values, strict=True):
        study.add_trial(
            optuna.trial.create_trial(params=p, distributions={k: dists[k] for k in p}, value=v)
        )
    return study


def _use(sweep_dir: Path, *overrides: str):
    return compose_cfg(overrides=[*overrides, f"hydra.searchpath=[file://{sweep_dir}]"])


def test_a_variant_sweep_exports_a_preset_that_runs_the_variant(tmp_path):
    sweep_dir, conf = tmp_path / "sweep", tmp_path / "conf" / "hparams"
    method = {**DAS, "variant": "sdarts_rs", "hessian": True, "hessian_iters": 5}
    params = [
        {"hparams.alpha_lr": 1e-3, "method.sdarts_epsilon": 0.2},
        {"hparams.alpha_lr": 2e-2, "method.sdarts_epsilon": 0.45},  # the best
    ]
    write_results(_summary(sweep_dir, method, conf), _study(params, [20.0, 21.0]))
    experiment = sweep_dir / "experiment" / f"{NAME}.yaml"
    text = experiment.read_text()
    assert text.startswith("# @package _global_\n")
    assert f"use: python search.py +experiment={NAME}" in text
    assert (tmp_path / "conf" / "experiment" / f"{NAME}.yaml").read_text() == text
    # the variant, its own key (swept: the best trial's value), the tracking it ran with
    assert yaml.safe_load(text)["method"] == {
        "variant": "sdarts_rs", "hessian": True, "hessian_iters": 5, "sdarts_epsilon": 0.45,
    }  # fmt: skip
    cfg = _use(sweep_dir, f"+experiment={NAME}")
    assert cfg.method.name == "das" and cfg.method.variant == "sdarts_rs"
    assert cfg.method.sdarts_epsilon == 0.45 and cfg.method.hessian_iters == 5
    assert cfg.hparams.name == NAME and cfg.hparams.alpha_lr == pytest.approx(2e-2)
    # the hparams preset alone is still a plain hparams preset (the paper's DAS)
    plain = _use(sweep_dir, f"hparams={NAME}")
    preset = yaml.safe_load((sweep_dir / "hparams" / f"{NAME}.yaml").read_text())
    assert preset.pop("defaults") == ["base_hparams", "_self_"]  # typed as the shipped presets
    assert plain.method.variant == "darts" and OmegaConf.to_container(plain.hparams) == preset
    results = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert (
        results["method"]["variant"] == "sdarts_rs"
        and str(experiment) in (results["hparams"]["files"])
    )


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        (DAS, {}, {}),  # the paper's DAS: the hparams preset is all there is
        ({**DAS, "variant": "gdas", "gdas_tau_min": 0.5}, {},
         {"variant": "gdas", "gdas_tau_max": 10.0, "gdas_tau_min": 0.5}),
        (DAS, {"method.variant": "fair"},
         {"variant": "fair", "fair_zero_one_weight": 10.0, "fair_threshold": 0.85}),
        ({"name": "fixed"}, {"method.variant": "fair"}, {}),  # no variants but DAS'
    ],
)  # fmt: skip
def test_the_method_keys_a_preset_carries(tmp_path, method, params, expected):
    trial = optuna.trial.FrozenTrial(
        number=0, state=optuna.trial.TrialState.COMPLETE, value=1.0, datetime_start=None,
        datetime_complete=None, params=params, distributions={}, user_attrs={},
        system_attrs={}, intermediate_values={}, trial_id=0,
    )  # fmt: skip
    assert best_method(_summary(tmp_path, method), trial) == expected


def test_a_plain_das_sweep_writes_no_experiment_preset(tmp_path):
    write_results(_summary(tmp_path, dict(DAS)), _study([{"hparams.alpha_lr": 1e-3}], [20.0]))
    assert (tmp_path / "hparams" / f"{NAME}.yaml").is_file()
    assert not (tmp_path / "experiment").exists()
    assert f"use: python search.py hparams={NAME}" in (
        (tmp_path / "hparams" / f"{NAME}.yaml").read_text()
    )
