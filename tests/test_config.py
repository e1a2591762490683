"""Bad input is rejected before any training, naming the key, the value and what is allowed."""

import re
import subprocess
import sys

import pytest
from omegaconf import OmegaConf, open_dict

from dasip.config import PASSTHROUGH, ConfigError, leaves, rule_for
from dasip.trial import build, run_trial

from .conftest import CONF, ROOT, compose_cfg

#: every option of every config group, composed once each
GROUP_OPTIONS = [
    f"{group}={path.stem}"
    for group in ("data", "ops", "space", "hparams", "method", "logger")
    for path in sorted((CONF / group).glob("*.yaml"))
]


def test_default_config_is_valid():
    cfg = compose_cfg(fast=False)
    build(cfg, "unused")
    assert cfg.data.name == "blur" and cfg.ops.name == "all" and cfg.space.name == "sequential"
    assert cfg.method.name == "das" and cfg.hparams.name == "H1" and cfg.epochs == 50
    assert list(cfg.ops.names) == ["grad", "net", "roll", "noise"]
    assert list(cfg.logger) == ["wandb"] and cfg.logger.wandb.mode == "offline"


@pytest.mark.parametrize("option", GROUP_OPTIONS)
def test_every_group_option_builds(option):
    needs = {"method=fixed": ["arch=grad*10"], "method=ground_truth": ["ops=good"]}
    cfg = compose_cfg(overrides=[option, *needs.get(option, [])])
    assert build(cfg, "unused").phases


def test_every_key_of_every_composed_config_has_a_rule():
    """A new key cannot slip in unchecked: outside the library blocks (trainer, logger) every
    leaf of every composed config is covered by a rule."""
    for option in ["", *GROUP_OPTIONS, "+experiment=table1_quick", "+experiment=table2_quick"]:
        cfg = compose_cfg(overrides=[option] if option else [])
        for key, _ in leaves(cfg):
            if key.split(".")[0] in PASSTHROUGH:
                continue
            assert rule_for(key) is not None, f"{key} (from {option or 'defaults'}) has no rule"


@pytest.mark.parametrize("option", ["", *GROUP_OPTIONS])
def test_every_key_rejects_wrong_types_and_ranges(option):
    """Every key of the composed config, set to each value its rule must reject, is a one-line
    ConfigError that names the key, before any work."""
    logger = [] if option.startswith("logger=") else ["logger=[wandb,csv]"]
    base = compose_cfg(overrides=[o for o in [option, *logger] if o])
    group = option.split("=")[0]  # an option's walk covers its group; the default's, all keys
    keys = [
        key
        for key, _ in leaves(base)
        if rule_for(key) is not None and (not group or key.startswith(group + "."))
    ]
    assert len(keys) > (40 if not group else 0) or option == "logger=none"
    for key in keys:
        for bad in rule_for(key).bad:
            cfg = base.copy()
            with open_dict(cfg):
                OmegaConf.update(cfg, key, bad, merge=False)
            with pytest.raises(ConfigError) as info:
                build(cfg, "unused")
            message = str(info.value)
            assert "\n" not in message, message
            assert message.startswith(key) or f" {key}" in message, f"{key}={bad!r}: {message}"


@pytest.mark.parametrize(
    "override,match",
    [
        ("epochs=0", r"^epochs=0 is not allowed; allowed: an integer >= 1$"),
        ("retrain_epochs=-3", r"^retrain_epochs=-3 is not allowed; allowed: an integer >= 1$"),
        ("seed=abc", r"^seed='abc' is not allowed; allowed: an integer from 0 to 4294967295$"),
        (
            "seed=99999999999999999999",
            r"^seed=99999999999999999999 is not allowed; allowed: an integer from 0 to 4294967295$",
        ),
        (
            "num_threads=-2",
            r"^num_threads=-2 is not allowed; allowed: an integer from 1 to \d+, or null",
        ),
        (
            "num_threads=100000",
            r"^num_threads=100000 is not allowed; allowed: an integer from 1 to \d+, or null",
        ),
        (
            "hparams.param_lr=inf",
            r"^hparams.param_lr=inf is not allowed; allowed: a finite number > 0$",
        ),
        (
            "hparams.alpha_lr=-inf",
            r"^hparams.alpha_lr=-inf is not allowed; allowed: a finite number > 0$",
        ),
        ("data.batch_size=0", r"data.batch_size=0 is not allowed; allowed: an integer >= 1"),
        ("data.n=3", r"data.n=3 is shorter than the blur kernel \(data.operator.kernel_size=7\)"),
        (
            "hparams.param_lr=-0.1",
            r"hparams.param_lr=-0.1 is not allowed; allowed: a finite number > 0",
        ),
        (
            "hparams.alpha_optimizer=rmsprop",
            r"alpha_optimizer='rmsprop' is not allowed; allowed: adam, gd",
        ),
        ("ops.names=[grad,conv]", r"ops.names=\['grad', 'conv'\] is not allowed.*unknown: 'conv'"),
        ("ops.names=[grad,zero]", r"cannot be used in the sequential space"),
        ("arch=grad*9", r"has 9 layers, but space.n_layers=10"),
        ("arch=grad-nett*9", r"unknown op 'nett'"),
        ("arch=grad*x", r"cannot read token"),
        ("loss.reduction=median", r"loss.reduction='median' is not allowed; allowed: sum, mean"),
        ("logger.wandb.mode=cloud", r"logger.wandb.mode='cloud' is not allowed; allowed: online"),
        (
            "data.operator.sigma=0",
            r"data.operator.sigma=0 is not allowed; allowed: a finite number > 0",
        ),
        (
            "data.operator.padding=same",
            r"data.operator.padding='same' is not allowed; allowed: zero, reflect, circular, valid",
        ),
        (
            "space.initial=lsq",
            r"space.initial='lsq' is not allowed; allowed: adjoint, zero, scaled_adjoint",
        ),
        ("space.n_layers=0", r"space.n_layers=0 is not allowed; allowed: an integer >= 1"),
        ("method.name=darts", r"method.name='darts' is not allowed; allowed: das"),
        (
            "trainer.accelerator=abacus",
            r"trainer.accelerator='abacus' is not allowed; allowed: auto",
        ),
        ("+trainer.max_epochs=3", r"trainer.max_epochs is set by the trial itself"),
        (
            "+trainer.gradient_clipping=1",
            r"trainer.gradient_clipping is not an argument of Trainer",
        ),
        ("+data.foo=1", r"data.foo is not a known key"),
        ("+hparams.alpha_momentum=0.9", r"hparams.alpha_momentum is not a known key"),
        ("+logger.csv.flush=1", r"logger.csv.flush is not an argument of CSVLogger"),
    ],
)
def test_bad_values_rejected_with_key_and_allowed(override, match):
    logger = ["logger=[wandb,csv]"] if override.startswith(("logger", "+logger")) else []
    cfg = compose_cfg(overrides=[*logger, override])
    with pytest.raises(ConfigError, match=match):
        build(cfg, "unused")


def test_devices_must_exist():
    """A trial is one process: on the CPU one device; on GPUs only those the machine has."""
    import torch

    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        bad, match = [f"trainer.devices={n + 1}"], rf"this machine has {n} GPU\(s\)"
    else:
        bad, match = ["trainer.devices=5"], r"^trainer.devices=5 is not allowed on the CPU"
    with pytest.raises(ConfigError, match=match):
        build(compose_cfg(overrides=bad), "unused")
    with pytest.raises(
        ConfigError, match=r"trainer.devices=\[7\] is not allowed: this machine has"
    ):
        build(compose_cfg(overrides=["trainer.accelerator=gpu", "trainer.devices=[7]"]), "unused")
    for ok in (["trainer.devices=1"], ["trainer.devices=auto"], ["trainer.accelerator=cpu"]):
        build(compose_cfg(overrides=ok), "unused")


def test_library_blocks_accept_their_own_arguments():
    """Any Trainer argument works from the command line, e.g. a time limit or a precision."""
    cfg = compose_cfg(overrides=["+trainer.max_time=00:00:10:00", "trainer.precision=64-true"])
    ctx = build(cfg, "unused")
    trainer = ctx.trainer(1)
    assert trainer.precision == "64-true"
    assert trainer.max_epochs == 1 and trainer.logger is None
    cfg = compose_cfg(overrides=["logger=[wandb,csv]", "logger.wandb.mode=disabled"])
    assert list(build(cfg, "unused").logger_factories) == ["csv"]  # a disabled W&B is left out


def test_fixed_needs_arch():
    cfg = compose_cfg("train")
    with pytest.raises(ConfigError, match="method=fixed needs arch="):
        build(cfg, "unused")


def test_rejected_before_any_work(tmp_path):
    cfg = compose_cfg(overrides=["epochs=0"])
    with pytest.raises(ConfigError):
        run_trial(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "args,match",
    [
        (["data=deblur"], r"Could not find 'data/deblur'[\s\S]*blur[\s\S]*downsampling"),
        (["ops=some"], r"Could not find 'ops/some'[\s\S]*all[\s\S]*good"),
        (["hparams=H9"], r"Could not find 'hparams/H9'[\s\S]*H1"),
        (["space=tree"], r"Could not find 'space/tree'[\s\S]*sequential"),
        (["epochs=0"], r"^dasip: error: epochs=0 is not allowed; allowed: an integer >= 1\n$"),
        (["seed=abc"], r"^dasip: error: seed='abc' is not allowed"),
        (["num_threads=-2"], r"^dasip: error: num_threads=-2 is not allowed"),
        (["num_threads=100000"], r"^dasip: error: num_threads=100000 is not allowed"),
        (["seed=99999999999999999999"], r"^dasip: error: seed=99999999999999999999 is not allowed"),
        (["hparams.param_lr=inf"], r"^dasip: error: hparams.param_lr=inf is not allowed"),
    ],
)
def test_cli_rejects_bad_input_before_training(args, match, tmp_path):
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
    assert re.search(match, proc.stderr, re.MULTILINE), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr or "Could not find" in proc.stderr
    assert "Epoch" not in proc.stderr + proc.stdout
