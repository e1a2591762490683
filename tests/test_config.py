"""Bad input is rejected before any training, naming the key, the value and what is allowed."""

import os
import re
import subprocess
import sys

import pytest
from omegaconf import OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from dasip.checks import cores
from dasip.config import PASSTHROUGH, ConfigError, by_key, is_checked, leaves, rule_for
from dasip.schema import compose_error
from dasip.trial import build, run_trial

from .conftest import CONF, ROOT, compose_cfg

#: every option of every config group, composed once each
GROUP_OPTIONS = [
    f"{group}={path.stem}"
    for group in ("data", "ops", "space", "hparams", "method", "logger")
    for path in sorted((CONF / group).glob("*.yaml"))
]
NAN, INF = float("nan"), float("inf")
MORE_THAN_CORES = cores() + 1
#: values each key must reject (``*`` matches one level): a wrong type, out of range, a
#: choice that does not exist. Values that OmegaConf converts for a schema's typed key are
#: not here (``2`` is ``true`` for a boolean, ``5`` the string ``'5'``): its own check, reused.
BAD = {
    "seed": ("abc", 1.5, True, [1], -1, 4294967296, None),
    "study": ("", [1, 2], None),
    "epochs": ("abc", 1.5, True, [1], 0, None),
    "retrain_epochs": ("abc", 1.5, True, [1], 0, None),
    "arch": (5, True, "", [1, 2]),
    "loss.reduction": ("nonsense", True, ["sum"], None),
    "psnr.data_range": ("abc", True, NAN, INF, [1.0], 0, None),
    "space.initial": ("nonsense", True, ["adjoint"], None),
    "num_threads": ("abc", 1.5, True, [1], 0, MORE_THAN_CORES),
    "save_model": ("abc", None, [True]),
    "setup": ("", [1, 2], None),
    "compile.search": ("abc", 2, None, [True]),
    "compile.retrain": ("abc", 2, None, [True]),
    "compile.min_steps": ("abc", 1.5, True, [1], -1, None),
    "raise_on_failure": ("abc", None, [True]),
    "resume": ("abc", None, [True]),
    "resume_from": ("abc", 3, None),
    "checkpoints.save": ("abc", None, [True]),
    "checkpoints.interval_s": ("abc", True, NAN, INF, [1.0], -1, None),
    "checkpoints.keep": ("abc", None, [True]),
    "record": ("", [1, 2]),
    "checkpoint": ("", [1, 2]),
    "data._target_": ("", "no.such.Thing"),
    "data.name": ("", [1, 2], None),
    "data.n": ("abc", 1.5, True, [1], 1, None),
    "data.noise_std": ("abc", True, NAN, INF, [1.0], -1, None),
    "data.batch_size": ("abc", 1.5, True, [1], 0, None),
    "data.batches_per_epoch": ("abc", 1.5, True, [1], 0, None),
    "data.val_size": ("abc", 1.5, True, [1], 0, None),
    "data.val_seed": ("abc", 1.5, True, [1], -1),
    "data.eval_batch_size": ("abc", 1.5, True, [1], 0, None),
    "data.operator._target_": ("", "no.such.Thing"),
    "data.operator.kernel_size": ("abc", 1.5, True, [1], 0, 2, None),
    "data.operator.sigma": ("abc", True, NAN, INF, [1.0], 0, None),
    "data.operator.spacing": ("abc", True, NAN, INF, [1.0], 0, None),
    "data.operator.factor": ("abc", 1.5, True, [1], 0, None),
    "data.operator.signal_length": ("abc", 1.5, True, [1], 0, None),
    "data.operator.normalize": ("nonsense", True, ["sum"], None),
    "data.operator.sigma_unit": ("nonsense", True, ["grid"], None),
    "data.operator.padding": ("nonsense", True, ["zero"], None),
    "data.operator.spatial_dims": ("nonsense", True, [1], None, 3),
    "data.root": ("", [1, 2], None),
    "data.patch_size": ("abc", 1.5, True, [1], 0, None),
    "data.val_patch_size": ("abc", 1.5, True, [1], 0, None),
    "data.cache_dir": ("", [1, 2]),
    "data.pictures": ("abc", 1.5, True, [1], -1, None),
    "ops.name": ("", [1, 2], None),
    "ops.names": ("grad", [], ["conv"], ["grad", "grad"], 5),
    "ops.width": ("abc", 1.5, True, [1], 0, None),
    "ops.kernel_size": ("abc", 1.5, True, [1], 0, 2, None),
    "ops.tau_init": ("abc", True, NAN, INF, [1.0], None),
    "ops.noise_std": ("abc", True, NAN, INF, [1.0], -1, None),
    "ops.noise_placement": ("nonsense", True, ["outside"], None),
    "ops.noise_at_eval": ("abc", None, [True]),
    "ops.roll.dims": ("nonsense", True, ["batch_spatial"], None),
    "ops.roll.shift": ("abc", 1.5, True, [1], None),
    "space.name": ("nonsense", True, ["sequential"], None),
    "space.n_layers": ("abc", 1.5, True, [1], 0, None),
    "space.n_cells": ("abc", 1.5, True, [1], 0, None),
    "space.n_states": ("abc", 1.5, True, [1], 0, None),
    "space.merge_kernel_size": ("abc", 1.5, True, [1], 0, 2, None),
    "space.share_alphas": ("abc", None, [True]),
    "hparams.name": ("", [1, 2], None),
    "hparams.param_lr": ("abc", True, NAN, INF, [1.0], 0, None),
    "hparams.param_weight_decay": ("abc", True, NAN, INF, [1.0], -1, None),
    "hparams.param_warmup": ("abc", None, [True]),
    "hparams.param_optimizer": ("nonsense", True, ["adam"], None),
    "hparams.param_momentum": ("abc", True, NAN, INF, [1.0], -1, None),
    "hparams.alpha_lr": ("abc", True, NAN, INF, [1.0], 0, None),
    "hparams.alpha_weight_decay": ("abc", True, NAN, INF, [1.0], -1, None),
    "hparams.alpha_warmup": ("abc", None, [True]),
    "hparams.alpha_scheduler": ("nonsense", True, ["linear"], None),
    "hparams.alpha_optimizer": ("nonsense", True, ["adam"], None),
    "hparams.warmup_epochs": ("abc", 1.5, True, [1], -1, None),
    "method.name": ("", [1, 2], None),
    "method.order": ("nonsense", True, [1], None),
    "method.xi": ("abc", True, NAN, INF, [1.0], 0),
    "method.eps": ("abc", True, NAN, INF, [1.0], 0, None),
    "method.log_alphas": ("abc", None, [True]),
    "method.retrain": ("abc", None, [True]),
    "method.pretrain_epochs": ("abc", 1.5, True, [1], 0, None),
    "method.cache": ("abc", None, [True]),
    "method.cache_dir": ("", [1, 2], None),
    "method.spaces": ("grad", [], ["conv"], ["grad", "grad"], 5),
    "method.requires_arch": ("abc", None, [True]),
    "method.arch": (5, True, "", [1, 2]),
    "method.k": ("abc", 1.5, True, [1], 0, None),
    "method.genotypes": ("grad*3", [], 5, True),
    "method.variant": ("nonsense", True, ["darts"], None),
    "method.hessian": ("abc", None, [True]),
    "method.hessian_iters": ("abc", 1.5, True, [1], 0, None),
    "method.es_window": ("abc", 1.5, True, [1], 0, None),
    "method.es_ratio": ("abc", True, NAN, INF, [1.0], 1, None),
    "method.sdarts_epsilon": ("abc", True, NAN, INF, [1.0], 0, None),
    "method.fair_zero_one_weight": ("abc", True, NAN, INF, [1.0], -1, None),
    "method.fair_threshold": ("abc", True, NAN, INF, [1.0], 0, 1, None),
    "method.gdas_tau_max": ("abc", True, NAN, INF, [1.0], 0, None),
    "method.gdas_tau_min": ("abc", True, NAN, INF, [1.0], 0, None),
    "method.depth": ("abc", 1.5, True, [1], 1, None),
    "method.width": ("abc", 1.5, True, [1], 0, None),
    "method.chunk": ("abc", 1.5, True, [1], -1, None),
    "method.chunks": ("abc", 1.5, True, [1], 0, None),
    "method.score": ("nonsense", True, ["train"], None),
    "method.table": ("", [1, 2]),
    "method.rank_space": ("abc", None, [True]),
    "logger.*._target_": (5, "", "no.such.Thing"),
    "logger.*.mode": ("nonsense", True, ["online"], None),
    "logger.*.project": (5, "", [1, 2], None),
    "logger.*.entity": (5, "", [1, 2]),
    "logger.*.tags": ("abc", [1], 3),
    "logger.*.name": (5, "", [1, 2]),
    "logger.*.group": (5, "", [1, 2]),
    "logger.*.job_type": (5, "", [1, 2]),
    "logger.*.version": ("nonsense", True, [""]),
    "trainer._target_": (5, "", "no.such.Thing"),
    "trainer.accelerator": ("nonsense", True, ["auto"], None),
    "trainer.devices": ("abc", 0, 1.5, True, None),
    "trainer.precision": ("abc", 8, True, None),
    "trainer.enable_progress_bar": ("abc", 2, None, [True]),
    "trainer.enable_model_summary": ("abc", 2, None, [True]),
    "trainer.enable_checkpointing": ("abc", 2, None, [True]),
    "trainer.num_sanity_val_steps": ("abc", 1.5, True, [1], -1, None),
    "trainer.check_val_every_n_epoch": ("abc", 1.5, True, [1], 0, None),
    "trainer.log_every_n_steps": ("abc", 1.5, True, [1], 0, None),
    "trainer.deterministic": ("abc", 2),
}


def bad_values(key: str) -> tuple:
    values = by_key(BAD, key)
    assert values is not None, f"{key} has no bad values in tests/test_config.py: BAD"
    return values


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


def test_every_key_of_every_composed_config_is_checked():
    """A new key cannot slip in unchecked: outside the library blocks (trainer, logger) every
    leaf of every composed config is a schema's field or has a rule, and has bad values here."""
    for option in ["", *GROUP_OPTIONS, "+experiment=table1_quick", "+experiment=table2_quick"]:
        cfg = compose_cfg(overrides=[option] if option else [])
        for key, _ in leaves(cfg):
            if key.split(".")[0] in PASSTHROUGH and rule_for(key) is None:
                continue
            assert is_checked(key), f"{key} (from {option or 'defaults'}) has no check"
            assert bad_values(key)


def _rejection(base, key: str, bad) -> str:
    """The message of setting ``key`` to ``bad`` in ``base`` and building the trial: OmegaConf
    rejects a schema's wrong type when the value is set (as when an override is composed),
    the rest when the trial is built."""
    cfg = base.copy()
    try:
        with open_dict(cfg):
            OmegaConf.update(cfg, key, bad, merge=False)
        build(cfg, "unused")
    except ConfigError as e:
        return str(e)
    except OmegaConfBaseException as e:
        error = compose_error(e)
        assert error is not None, f"{key}={bad!r}: {e}"
        return str(error)
    raise AssertionError(f"{key}={bad!r} was accepted")


@pytest.mark.parametrize("option", ["", *GROUP_OPTIONS])
def test_every_key_rejects_wrong_types_and_ranges(option):
    """Every key of the composed config, set to each of its bad values, is a one-line
    ConfigError that names the key, before any work."""
    logger = [] if option.startswith("logger=") else ["logger=[wandb,csv]"]
    base = compose_cfg(overrides=[o for o in [option, *logger] if o])
    group = option.split("=")[0]  # an option's walk covers its group; the default's, all keys
    keys = [
        key
        for key, _ in leaves(base)
        if (not group or key.startswith(group + "."))
        and (key.split(".")[0] not in PASSTHROUGH or rule_for(key) is not None)
    ]
    assert len(keys) > (40 if not group else 0) or option == "logger=none"
    for key in keys:
        for bad in bad_values(key):
            message = _rejection(base, key, bad)
            assert "\n" not in message, message
            assert message.startswith(key) or f" {key}" in message, f"{key}={bad!r}: {message}"


@pytest.mark.parametrize(
    "override,match",
    [
        ("epochs=0", r"^epochs=0 is not allowed; allowed: an integer >= 1$"),
        ("retrain_epochs=-3", r"^retrain_epochs=-3 is not allowed; allowed: an integer >= 1$"),
        ("seed=abc", r"^seed=abc is not allowed; allowed: an integer from 0 to 4294967295$"),
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
        ("ops.names=[grad,conv]", r"ops.names=\['grad', 'conv'\] is not allowed; allowed: a list"),
        ("data.n=abc", r"^data.n=abc is not allowed; allowed: an integer >= 2$"),
        ("space.share_alphas=true", r"^space.share_alphas is not a known key; allowed: name, n_l"),
        ("ops.names=[grad,zero]", r"cannot be used in the sequential space"),
        ("arch=grad*9", r"has 9 layers, but space.n_layers=10"),
        ("arch=grad-nett*9", r"unknown op 'nett'"),
        ("arch=grad*x", r"cannot read token"),
        ("loss.reduction=median", r"loss.reduction='median' is not allowed; allowed: sum, mean"),
        ("logger.wandb.mode=cloud", r"logger.wandb.mode='cloud' is not allowed; allowed: online"),
        (
            "data.operator.sigma=0",
            r"data.operator.sigma=0.0 is not allowed; allowed: a finite number > 0",
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
        ("method.k=3", r"^method.k is not a known key; allowed: name, order, xi"),  # das has none
        ("method.gdas_tau_min=20", r"^method.gdas_tau_min=20.0 is above method.gdas_tau_max=10.0"),
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
        ("+foo=1", r"^foo is not a known key; allowed: seed, study, epochs"),
        ("resume_from=3", r"^resume_from=3 is not allowed; allowed: a list of strings$"),
        ("checkpoints.interval_s=-1", r"^checkpoints.interval_s=-1.0 is not allowed; allowed: a"),
        ("compile.search=maybe", r"^compile.search='maybe' is not allowed; allowed: true, false"),
        ("+hparams.alpha_momentum=0.9", r"hparams.alpha_momentum is not a known key"),
        ("+logger.csv.flush=1", r"logger.csv.flush is not an argument of CSVLogger"),
    ],
)
def test_bad_values_rejected_with_key_and_allowed(override, match):
    logger = ["logger=[wandb,csv]"] if override.startswith(("logger", "+logger")) else []
    with pytest.raises(ConfigError, match=match):  # a type: when composed; the rest: when built
        build(compose_cfg(overrides=[*logger, override]), "unused")


def test_saved_config_is_checked_and_may_predate_keys():
    """A saved config (a model.pt's, a record's) has lost its types: its keys are checked by the
    same schemas; ``checkpoints`` and ``resume_from`` may be missing (saved before they existed)."""
    saved = OmegaConf.create(OmegaConf.to_container(compose_cfg(), resolve=True))
    del saved["checkpoints"], saved["resume_from"]
    build(saved, "unused")
    saved.epochs = 0
    with pytest.raises(ConfigError, match=r"^epochs=0 is not allowed; allowed: an integer >= 1$"):
        build(saved, "unused")


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


def test_entry_point_reports_composition_errors_in_one_line(monkeypatch, capsys, tmp_path):
    """Hydra composes before the task function and reports its errors itself; with its
    documented switch ``HYDRA_FULL_ERROR=1`` it raises them to dasip's entry point instead,
    which prints a key's bad value as one line (exit 2) and Hydra's other errors as Hydra does
    (exit 1). This fails if Hydra stops raising under that switch."""
    from hydra.core.global_hydra import GlobalHydra

    from dasip.entry.search import main

    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    cases = [
        ("data.n=abc", 2, "dasip: error: data.n=abc is not allowed; allowed: an integer >= 2\n"),
        ("data=deblur", 1, "Could not find 'data/deblur'"),
    ]
    try:
        for override, code, message in cases:
            argv = ["search.py", "logger=none", f"hydra.run.dir={tmp_path}", override]
            monkeypatch.setattr(sys, "argv", argv)
            with pytest.raises(SystemExit) as exit:
                main()
            err = capsys.readouterr().err
            assert exit.value.code == code, err
            assert err == message if code == 2 else message in err, err
            assert "HYDRA_FULL_ERROR" not in os.environ  # the switch is dasip's only meanwhile
            GlobalHydra.instance().clear()
    finally:
        GlobalHydra.instance().clear()


@pytest.mark.slow
@pytest.mark.parametrize(
    "args,match",
    [
        (["data=deblur"], r"Could not find 'data/deblur'[\s\S]*blur[\s\S]*downsampling"),
        (["ops=some"], r"Could not find 'ops/some'[\s\S]*all[\s\S]*good"),
        (["hparams=H9"], r"Could not find 'hparams/H9'[\s\S]*H1"),
        (["space=tree"], r"Could not find 'space/tree'[\s\S]*sequential"),
        (["epochs=0"], r"^dasip: error: epochs=0 is not allowed; allowed: an integer >= 1\n$"),
        (["seed=abc"], r"^dasip: error: seed=abc is not allowed; allowed: an integer from 0"),
        (["num_threads=-2"], r"^dasip: error: num_threads=-2 is not allowed"),
        (["num_threads=100000"], r"^dasip: error: num_threads=100000 is not allowed"),
        (["seed=99999999999999999999"], r"^dasip: error: seed=99999999999999999999 is not allowed"),
        (["hparams.param_lr=inf"], r"^dasip: error: hparams.param_lr=inf is not allowed"),
        # a schema's type, when the config is composed: the same one line, not Hydra's report
        (["data.n=abc"], r"^dasip: error: data.n=abc is not allowed; allowed: an integer >= 2\n$"),
        (["method.k=3"], r"^dasip: error: method.k is not a known key; allowed: name, order"),
        (["+data.foo=1"], r"^dasip: error: data.foo is not a known key; allowed: _target_, name"),
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
