"""Bad input is rejected before any training, naming the key, the value and what is allowed."""

import subprocess
import sys

import pytest
from omegaconf import open_dict

from dasip.config import ConfigError, validate
from dasip.methods import METHODS
from dasip.trial import run_trial

from .conftest import ROOT, compose_cfg


def test_default_config_is_valid():
    cfg = compose_cfg(fast=False)
    validate(cfg, METHODS)
    assert cfg.data.name == "blur" and cfg.ops.name == "all" and cfg.space.name == "sequential"
    assert cfg.method.name == "das" and cfg.hparams.name == "H1" and cfg.epochs == 50
    assert list(cfg.ops.names) == ["grad", "net", "roll", "noise"]
    assert cfg.logger.name == "wandb" and cfg.logger.mode == "offline"


@pytest.mark.parametrize(
    "override,match",
    [
        ("epochs=0", r"epochs=0 must be a positive integer"),
        ("retrain_epochs=-3", r"retrain_epochs=-3 must be a positive integer"),
        ("data.batch_size=0", r"data.batch_size=0 must be a positive integer"),
        ("data.batches_per_epoch=0", r"data.batches_per_epoch=0"),
        ("hparams.param_lr=-0.1", r"hparams.param_lr=-0.1 must be a positive learning rate"),
        ("hparams.alpha_lr=-1e-3", r"hparams.alpha_lr=-0.001"),
        ("hparams.alpha_optimizer=rmsprop", r"alpha_optimizer='rmsprop'; allowed: adam, gd"),
        ("ops.names=[grad,conv]", r"unknown op 'conv'; allowed: grad, net, roll, noise, zero"),
        ("ops.names=[grad,zero]", r"cannot be used in the sequential space"),
        ("arch=grad*9", r"has 9 layers, but space.n_layers=10"),
        ("arch=grad-nett*9", r"unknown op 'nett'"),
        ("arch=grad*x", r"cannot read token"),
        ("loss.reduction=median", r"loss.reduction='median' is not allowed; allowed: sum, mean"),
        (
            "logger.mode=cloud",
            r"logger.mode='cloud' is not allowed; allowed: online, offline, disabled",
        ),
        ("data.operator.name=deblur", r"data.operator.name='deblur' is not allowed"),
        ("space.n_layers=0", r"space.n_layers must be >= 1"),
        ("method.name=darts", r"method.name='darts' is not allowed; allowed: das"),
    ],
)
def test_bad_values_rejected_with_key_and_allowed(override, match):
    cfg = compose_cfg(
        overrides=[override] if "logger" not in override else ["logger=wandb", override]
    )
    with pytest.raises(ConfigError, match=match):
        validate(cfg, METHODS)


def test_fixed_needs_arch():
    cfg = compose_cfg("train")
    with pytest.raises(ConfigError, match="method=fixed needs arch="):
        validate(cfg, METHODS)


def test_rejected_before_any_work(tmp_path):
    cfg = compose_cfg(overrides=["epochs=0"])
    with pytest.raises(ConfigError):
        run_trial(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_unknown_hparams_key_rejected():
    cfg = compose_cfg()
    with open_dict(cfg):
        cfg.hparams.alpha_momentum = 0.9
    with pytest.raises(ConfigError, match="unknown keys \\['alpha_momentum'\\]"):
        validate(cfg, METHODS)


@pytest.mark.parametrize(
    "args,match",
    [
        (["data=deblur"], r"Could not find 'data/deblur'[\s\S]*blur[\s\S]*downsampling"),
        (["ops=some"], r"Could not find 'ops/some'[\s\S]*all[\s\S]*good"),
        (["hparams=H9"], r"Could not find 'hparams/H9'[\s\S]*H1"),
        (["space=tree"], r"Could not find 'space/tree'[\s\S]*sequential"),
        (["epochs=0"], r"dasip: error: epochs=0 must be a positive integer"),
    ],
)
def test_cli_rejects_bad_names_before_training(args, match, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "search.py"),
            "logger=none",
            f"hydra.run.dir={tmp_path}",
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode != 0
    import re

    assert re.search(match, proc.stderr + proc.stdout), proc.stderr[-2000:]
    assert "Epoch" not in proc.stderr + proc.stdout
