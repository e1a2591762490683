"""The bohb sweeper's search space and the overrides that carry a sampled point to a job."""

import math

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from dasip.hpo import space as S
from dasip.models.optim import HParams


def test_the_default_space_is_the_papers_hpo_ranges():
    d = S.distributions(S.paper_space())
    assert set(d) == {
        f"hparams.{k}"
        for k in ("param_lr", "param_weight_decay", "param_warmup", "alpha_lr",
                  "alpha_weight_decay", "alpha_warmup", "alpha_scheduler", "alpha_optimizer")
    }  # fmt: skip
    ranges = {
        "param_lr": (1e-5, 1.0),
        "param_weight_decay": (1e-8, 0.1),
        "alpha_lr": (1e-5, 0.1),
        "alpha_weight_decay": (1e-5, 0.1),
    }
    for key, (low, high) in ranges.items():
        dist = d[f"hparams.{key}"]
        assert isinstance(dist, FloatDistribution) and dist.log
        assert (dist.low, dist.high) == (low, high)
    assert set(d["hparams.alpha_optimizer"].choices) == {"adam", "gd"}
    assert set(d["hparams.alpha_scheduler"].choices) == {"none", "linear"}
    assert set(d["hparams.param_warmup"].choices) == {True, False}
    # every sampled point is a valid preset
    for choice in ("adam", "gd"):
        HParams.from_config({"alpha_optimizer": choice, "alpha_scheduler": "none"})


def test_a_space_entry_can_be_switched_off_and_bad_entries_name_the_key():
    space = S.paper_space()
    space["hparams"]["param_warmup"] = None
    space["ops"] = {"width": {"type": "int", "low": 4, "high": 64, "log": True}}
    d = S.distributions(space)
    assert "hparams.param_warmup" not in d and isinstance(d["ops.width"], IntDistribution)
    with pytest.raises(S.SpaceError, match=r"hparams\.alpha_lr\.type='gauss'"):
        S.distributions({"hparams": {"alpha_lr": {"type": "gauss"}}})
    with pytest.raises(S.SpaceError, match=r"hparams\.alpha_lr: unknown keys \['hi'\]"):
        S.distributions({"hparams": {"alpha_lr": {"type": "float", "low": 0.1, "hi": 1}}})
    with pytest.raises(S.SpaceError, match=r"hparams\.alpha_lr"):
        S.distributions({"hparams": {"alpha_lr": {"type": "float", "low": 1.0, "high": 0.1}}})


def _parse(line: str):
    return OverridesParser.create().parse_overrides([line])[0]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("hparams.alpha_lr=tag(log,interval(1e-5,0.1))", FloatDistribution(1e-5, 0.1, log=True)),
        ("hparams.param_lr=interval(0.001,0.5)", FloatDistribution(0.001, 0.5)),
        ("ops.width=range(8,33,8)", IntDistribution(8, 32, step=8)),
        ("hparams.alpha_optimizer=adam,gd", CategoricalDistribution(["adam", "gd"])),
        ("data=blur,downsampling", CategoricalDistribution(["blur", "downsampling"])),
    ],
)
def test_hydra_sweep_syntax_on_the_command_line_adds_dimensions(line, expected):
    assert S.from_override(_parse(line)) == expected


@pytest.mark.parametrize(
    "value",
    [0.0014232405, 1e-05, 2.5e-12, 3, True, False, "adam", "none", "true", "1e-3",
     "sqlite:////tmp/a b/optuna.db", "it's", None],
)  # fmt: skip
def test_override_values_parse_back_to_the_same_value(value):
    parsed = _parse(f"key={S.override_value(value)}").value()
    assert parsed == value and type(parsed) is type(value)


def test_nested_override_values():
    value = {"pool_pre_ping": True, "connect_args": {"timeout": 30}}
    assert _parse(f"k={S.override_value(value)}").value() == value
    assert S.override_value(math.inf) == "inf"
