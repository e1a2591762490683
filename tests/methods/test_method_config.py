"""Method keys are checked at start-up; baseline presets; second-order DAS as a trial."""

import math
import re

import pytest

from dasip.config import ConfigError
from dasip.methods import METHODS
from dasip.trial import build, run_trial

from ..conftest import compose_cfg


@pytest.mark.parametrize(
    "overrides,match",
    [
        (["method.order=3"], r"method.order=3 is not allowed; allowed: 1, 2"),
        (["method.order=true"], r"method.order=true is not allowed; allowed: 1, 2"),
        (
            ["method.xi=-0.1"],
            r"method.xi=-0.1 is not allowed; allowed: a finite number > 0, or null",
        ),
        (["method.xi=0"], r"method.xi=0.0 is not allowed; allowed: a finite number > 0"),
        (["method.eps=0"], r"method.eps=0.0 is not allowed; allowed: a finite number > 0"),
        (
            ["method=random_search", "method.k=0"],
            r"method.k=0 is not allowed; allowed: an integer >= 1",
        ),
        (
            ["method=random_search", "method.k=2.5"],
            r"method.k=2.5 is not allowed; allowed: an integer >= 1",
        ),
        (
            ["method=das_single", "method.pretrain_epochs=0"],
            r"method.pretrain_epochs=0 is not allowed",
        ),
        (["method=das_single", "method.cache=maybe"], r"method.cache=maybe is not allowed"),
        (
            ["method=das_single", "method.spaces=[cell]"],
            r"space.name='sequential' is not allowed with method=das_single; allowed: cell",
        ),
        (
            ["method=grad_only", "arch=net*10"],
            r"arch='net\*10' is not allowed with method=grad_only, which trains "
            r"method.arch='grad\*10'",
        ),
        (["method=nets_only", "method.arch=net*9"], r"method.arch=net\*9 has 9 layers"),
        (
            ["method=grad_only", "space=cell", "arch=grad*30"],
            r"arch='grad\*30' is not allowed with method=grad_only, which trains "
            r"method.arch='grad\*15/grad\*15'",
        ),
        (
            ["method=nets_only", "space=cell", "space.n_states=0"],
            r"space.n_states=0 is not allowed",
        ),
    ],
)
def test_bad_method_keys_rejected_before_training(overrides, match, tmp_path):
    try:  # a schema's wrong type is rejected when the config is composed
        cfg = compose_cfg(overrides=overrides)
    except ConfigError as e:
        assert re.search(match, str(e)), str(e)
        return
    with pytest.raises(ConfigError, match=match):
        build(cfg, "unused")
    with pytest.raises(ConfigError):
        run_trial(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "overrides",
    [
        ["method.order=2", "method.xi=0.01", "method.eps=1e-3"],
        ["method=random_search", "method.k=1"],
        ["method=random_sampling", "ops=good"],
        ["method=das_single", "method.cache=false"],
        ["method=grad_only"],
        ["method=fixed", "arch=grad-net*9"],
    ],
)
def test_good_method_keys_accepted(overrides):
    build(compose_cfg(overrides=overrides), "unused")


def test_every_registered_method_has_a_config():
    for name in METHODS:
        needs = {"fixed": ["arch=grad*10"], "ground_truth": ["ops=good"]}  # 4^10: too many
        cfg = compose_cfg(overrides=[f"method={name}", *needs.get(name, [])])
        assert cfg.method.name == name
        build(cfg, "unused")


def test_baseline_presets_follow_the_number_of_layers():
    assert str(build(compose_cfg(overrides=["method=grad_only"]), "unused").arch) == "grad*10"
    cfg = compose_cfg(overrides=["method=nets_only", "space.n_layers=4"])
    assert str(build(cfg, "unused").arch) == "net*4"
    # the cell space: every edge of every cell (space.n_cells x edges of space.n_states)
    cfg = compose_cfg(overrides=["method=grad_only", "space=cell"])
    assert cfg.method.arch == str(build(cfg, "unused").arch) == "grad*15/grad*15"
    cfg = compose_cfg(
        overrides=["method=nets_only", "space=cell", "space.n_cells=3", "space.n_states=2"]
    )
    assert str(build(cfg, "unused").arch) == "net*3/net*3/net*3"
    assert compose_cfg(overrides=["method=random_search"]).method.k == 5
    das = compose_cfg().method
    assert das.order == 1 and das.xi is None and das.eps == 0.01  # first order is the default


@pytest.mark.parametrize("name,genotype", [("grad_only", "grad*10"), ("nets_only", "net*10")])
def test_baseline_presets_write_their_own_method_name(name, genotype, tmp_path):
    rec = run_trial(compose_cfg(overrides=[f"method={name}"]), tmp_path)
    assert rec.method == name and rec.genotype == genotype and rec.status == "ok"
    assert rec.one_shot_psnr is None and math.isfinite(rec.arch_psnr)
    assert rec.search_time_s == 0 and rec.train_time_s > 0


def test_second_order_das_trial(tmp_path):
    cfg = compose_cfg(overrides=["method.order=2", "hparams.alpha_warmup=false", "seed=2"])
    rec = run_trial(cfg, tmp_path / "o2")
    first = run_trial(compose_cfg(overrides=["hparams.alpha_warmup=false", "seed=2"]), tmp_path)
    assert rec.status == "ok" and rec.extra["order"] == 2 and first.extra["order"] == 1
    assert rec.extra["alpha_steps"] == first.extra["alpha_steps"] == 6
    assert math.isfinite(rec.one_shot_psnr) and math.isfinite(rec.arch_psnr)
    assert rec.alpha_probs != first.alpha_probs
