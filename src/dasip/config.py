"""The rules every config key obeys, and the builders that turn config blocks into objects.

Every check runs at start-up, before any training, and raises :class:`ConfigError` with a
one-line message that names the key, the bad value and what is allowed. :data:`RULES` has one
rule per key of the composed configs (``tests/test_config.py`` walks them all with wrong types
and ranges); keys that are handed to a library (the Lightning ``Trainer``, a logger) are checked
against that library's signature when the trial is built.
"""

from __future__ import annotations

import contextlib
import fnmatch
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from . import checks
from .metrics import LOSS_REDUCTIONS, PSNR_PEAKS
from .models.optim import ALPHA_OPTIMIZERS, ALPHA_SCHEDULERS, PARAM_OPTIMIZERS, HParams
from .models.variants import SECOND_ORDER_VARIANTS, VARIANTS
from .ops import NOISE_PLACEMENTS, OPS, ROLL_DIMS, OpContext
from .physics import (
    INITIAL_ESTIMATES,
    KERNEL_NORMALIZATIONS,
    PADDINGS,
    SIGMA_UNITS,
    LinearOperator,
)
from .spaces import SPACES

LOGGER_MODES = ("online", "offline", "disabled")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu")
PRECISIONS = (
    "64-true", "64", "32-true", "32", "16-mixed", "16", "bf16-mixed", "bf16",
    "16-true", "bf16-true", "transformer-engine", "transformer-engine-float16",
)  # fmt: skip
#: the largest seed: Lightning's and numpy's legacy seeding take unsigned 32-bit seeds
MAX_SEED = 2**32 - 1
#: Trainer arguments each fit sets itself: not config keys
TRAINER_OWN_KEYS = ("max_epochs", "logger", "callbacks", "default_root_dir")


class ConfigError(ValueError):
    """A config value that cannot work; raised before any training starts."""


# -- rules -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """What one key accepts. ``check`` raises :class:`ConfigError`; ``bad`` lists values that a
    rule must reject (the config walk in the tests feeds them to every key)."""

    check: Callable[[str, Any], None]
    bad: tuple[Any, ...]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fail(key: str, v: Any, allowed: str) -> None:
    raise ConfigError(f"{key}={_show(v)} is not allowed; allowed: {allowed}")


def _show(v: Any) -> str:
    if OmegaConf.is_config(v):
        v = OmegaConf.to_container(v)
    return repr(v)


def integer(
    min: int | None = None,
    nullable: bool = False,
    odd: bool = False,
    max: int | Callable[[], int] | None = None,
) -> Rule:
    """An integer ``>= min`` and ``<= max`` (a number, or a function of the machine, e.g. its
    cores, asked when a value is checked)."""

    def high() -> int | None:
        return max() if callable(max) else max

    def check(key: str, v: Any) -> None:
        if v is None and nullable:
            return
        try:
            checks.integer(key, v, min, odd, high())
        except ValueError as e:
            raise ConfigError(f"{e}{', or null' if nullable else ''}") from None

    bad: list[Any] = ["abc", 1.5, True, [1]]
    if min is not None:
        bad.append(min - 1)
    if max is not None:
        bad.append(high() + 1)
    if odd:
        bad.append(2 * (min if min is not None and min > 1 else 1))
    if not nullable:
        bad.append(None)
    return Rule(check, tuple(bad))


def number(
    gt: float | None = None,
    ge: float | None = None,
    nullable: bool = False,
    lt: float | None = None,
) -> Rule:
    allowed = (
        "a finite number"
        + (f" > {gt}" if gt is not None else "")
        + (f" >= {ge}" if ge is not None else "")
        + (f" and < {lt}" if lt is not None else "")
    )
    if nullable:
        allowed += ", or null"

    def check(key: str, v: Any) -> None:
        if v is None and nullable:
            return
        if (
            not _is_number(v)
            or v != v  # NaN
            or v in (float("inf"), float("-inf"))
            or (gt is not None and not v > gt)
            or (ge is not None and not v >= ge)
            or (lt is not None and not v < lt)
        ):
            _fail(key, v, allowed)

    bad: list[Any] = ["abc", True, float("nan"), float("inf"), [1.0]]
    if gt is not None:
        bad.append(gt)
    if ge is not None:
        bad.append(ge - 1)
    if lt is not None:
        bad.append(lt)
    if not nullable:
        bad.append(None)
    return Rule(check, tuple(bad))


def peak() -> Rule:
    """A PSNR peak: a number > 0 (the rule :func:`number` checks), or a per-signal convention
    (``max``, ``range``)."""
    positive = number(gt=0)

    def check(key: str, v: Any) -> None:
        if isinstance(v, str) and v in PSNR_PEAKS:
            return
        try:
            positive.check(key, v)
        except ConfigError:
            _fail(key, v, f"a number > 0, {', '.join(PSNR_PEAKS)}")

    return Rule(check, positive.bad)


def boolean() -> Rule:
    def check(key: str, v: Any) -> None:
        if not isinstance(v, bool):
            _fail(key, v, "true, false")

    return Rule(check, ("abc", 2, None, [True]))


def switch() -> Rule:
    """``true``, ``false`` or ``auto`` (the program decides; the docs say how)."""

    def check(key: str, v: Any) -> None:
        if not (isinstance(v, bool) or v == "auto"):
            _fail(key, v, "true, false, auto")

    return Rule(check, ("abc", 2, None, [True]))


def choice(*allowed: Any, nullable: bool = False) -> Rule:
    def check(key: str, v: Any) -> None:
        if v is None and nullable:
            return
        ok = isinstance(v, (str, int, float)) and not isinstance(v, bool) and v in allowed
        if not ok:
            _fail(key, v, ", ".join(map(str, allowed)) + (", null" if nullable else ""))

    return Rule(check, ("nonsense", True, [allowed[0]]) + (() if nullable else (None,)))


def string(nullable: bool = False) -> Rule:
    def check(key: str, v: Any) -> None:
        if v is None and nullable:
            return
        if not isinstance(v, str) or not v:
            _fail(key, v, "a non-empty string" + (", or null" if nullable else ""))

    return Rule(check, (5, "", [1, 2]) + (() if nullable else (None,)))


def names(allowed: Sequence[str], min_len: int = 1) -> Rule:
    """A list of distinct names from ``allowed``."""

    def check(key: str, v: Any) -> None:
        if not isinstance(v, (list, tuple, ListConfig)) or len(v) < min_len:
            _fail(key, v, f"a list of at least {min_len} of {', '.join(allowed)}")
        for item in v:
            if item not in allowed:
                _fail(key, v, f"a list of {', '.join(allowed)} (unknown: {item!r})")
        if len(set(v)) != len(v):
            _fail(key, v, "a list without repeats")

    return Rule(check, ("grad", [], ["conv"], ["grad", "grad"], 5))


def strings(nullable: bool = False) -> Rule:
    def check(key: str, v: Any) -> None:
        if v is None and nullable:
            return
        if not isinstance(v, (list, tuple, ListConfig)) or not all(isinstance(s, str) for s in v):
            _fail(key, v, "a list of strings")

    return Rule(check, ("abc", [1], 3))


def architecture(nullable: bool = True) -> Rule:
    """A genotype string or list; parsed by the space when the trial is built."""

    def check(key: str, v: Any) -> None:
        if v is None and nullable:
            return
        if isinstance(v, (list, tuple, ListConfig)):
            if v and all(isinstance(s, str) for s in v):
                return
        elif isinstance(v, str) and v:
            return
        _fail(key, v, "an architecture such as grad*10 or grad-net*9, or a list of op names")

    return Rule(check, (5, True, "", [1, 2]))


def target() -> Rule:
    """A ``_target_``: the dotted path of an importable class or function."""

    def check(key: str, v: Any) -> None:
        if not isinstance(v, str) or not v:
            _fail(key, v, "the dotted path of a class, e.g. pytorch_lightning.Trainer")
        try:
            locate(v)
        except Exception:
            _fail(key, v, "the dotted path of an importable class, e.g. pytorch_lightning.Trainer")

    return Rule(check, (5, "", "no.such.Thing"))


def locate(path: str) -> Any:
    """The object at the dotted ``path`` (``package.module.Name``)."""
    import importlib

    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(f"cannot import {path!r}")


def devices() -> Rule:
    def check(key: str, v: Any) -> None:
        if v == "auto" or (checks.is_int(v) and (v >= 1 or v == -1)):
            return
        if isinstance(v, (list, ListConfig)) and v and all(checks.is_int(d) and d >= 0 for d in v):
            return
        _fail(key, v, "auto, -1 (all), a number of devices >= 1, or a list of device indices")

    return Rule(check, ("abc", 0, 1.5, True, None))


def deterministic() -> Rule:
    def check(key: str, v: Any) -> None:
        if not (isinstance(v, bool) or v == "warn" or v is None):
            _fail(key, v, "true, false, warn, null")

    return Rule(check, ("abc", 2))


def precision() -> Rule:
    allowed = choice(*PRECISIONS)

    def check(key: str, v: Any) -> None:
        allowed.check(key, str(v) if checks.is_int(v) else v)

    return Rule(check, ("abc", 8, True, None))


#: one rule per key: a dotted path, ``*`` matching one level (``logger.*.mode``)
RULES: dict[str, Rule] = {
    "seed": integer(min=0, max=MAX_SEED),
    "study": string(),
    "epochs": integer(min=1),
    "retrain_epochs": integer(min=1),
    "arch": architecture(),
    "loss.reduction": choice(*LOSS_REDUCTIONS),
    "psnr.data_range": peak(),
    "space.initial": choice(*INITIAL_ESTIMATES),
    "num_threads": integer(min=1, nullable=True, max=checks.cores),
    "save_model": boolean(),
    "setup": string(),
    "compile.search": switch(),
    "compile.retrain": switch(),
    "compile.min_steps": integer(min=0),
    "raise_on_failure": boolean(),
    "resume": boolean(),
    "resume_from": strings(),
    "checkpoints.save": boolean(),
    "checkpoints.interval_s": number(ge=0),
    "checkpoints.keep": boolean(),
    # evaluate.py
    "record": string(nullable=True),
    "checkpoint": string(nullable=True),
    # data
    "data._target_": target(),
    "data.name": string(),
    "data.n": integer(min=2),
    "data.noise_std": number(ge=0),
    "data.batch_size": integer(min=1),
    "data.batches_per_epoch": integer(min=1),
    "data.val_size": integer(min=1),
    "data.val_seed": integer(min=0, nullable=True),
    "data.eval_batch_size": integer(min=1),
    "data.operator._target_": target(),
    "data.operator.kernel_size": integer(min=1, odd=True),
    "data.operator.sigma": number(gt=0),
    "data.operator.spacing": number(gt=0),
    "data.operator.factor": integer(min=1),
    "data.operator.signal_length": integer(min=1),
    "data.operator.normalize": choice(*KERNEL_NORMALIZATIONS),
    "data.operator.sigma_unit": choice(*SIGMA_UNITS),
    "data.operator.padding": choice(*PADDINGS),
    "data.operator.spatial_dims": choice(1, 2),
    # data: images (BSDS300)
    "data.root": string(),
    "data.patch_size": integer(min=1),
    "data.val_patch_size": integer(min=1),
    "data.cache_dir": string(nullable=True),
    "data.pictures": integer(min=0),
    # ops
    "ops.name": string(),
    "ops.names": names(tuple(OPS)),
    "ops.width": integer(min=1),
    "ops.kernel_size": integer(min=1, odd=True),
    "ops.tau_init": number(),
    "ops.noise_std": number(ge=0),
    "ops.noise_placement": choice(*NOISE_PLACEMENTS),
    "ops.noise_at_eval": boolean(),
    "ops.roll.dims": choice(*ROLL_DIMS),
    "ops.roll.shift": integer(),
    # space
    "space.name": choice(*SPACES),
    "space.n_layers": integer(min=1),
    "space.n_cells": integer(min=1),
    "space.n_states": integer(min=1),
    "space.merge_kernel_size": integer(min=1, odd=True),
    "space.share_alphas": boolean(),
    # hparams (the fields of HParams)
    "hparams.name": string(),
    "hparams.param_lr": number(gt=0),
    "hparams.param_weight_decay": number(ge=0),
    "hparams.param_warmup": boolean(),
    "hparams.param_optimizer": choice(*PARAM_OPTIMIZERS),
    "hparams.param_momentum": number(ge=0),
    "hparams.alpha_lr": number(gt=0),
    "hparams.alpha_weight_decay": number(ge=0),
    "hparams.alpha_warmup": boolean(),
    "hparams.alpha_scheduler": choice(*ALPHA_SCHEDULERS),
    "hparams.alpha_optimizer": choice(*ALPHA_OPTIMIZERS),
    "hparams.warmup_epochs": integer(min=0),
    # method (each method has some of these)
    "method.name": string(),  # checked against the registry of methods by the trial
    "method.order": choice(1, 2),
    "method.xi": number(gt=0, nullable=True),
    "method.eps": number(gt=0),
    "method.log_alphas": boolean(),
    "method.retrain": boolean(),
    "method.pretrain_epochs": integer(min=1),
    "method.cache": boolean(),
    "method.cache_dir": string(),
    "method.spaces": names(tuple(SPACES)),
    "method.requires_arch": boolean(),
    "method.arch": architecture(),
    "method.k": integer(min=1),
    # das: search variants
    "method.variant": choice(*VARIANTS),
    "method.hessian": boolean(),
    "method.hessian_iters": integer(min=1),
    "method.es_window": integer(min=1),
    "method.es_ratio": number(gt=1),
    "method.sdarts_epsilon": number(gt=0),
    "method.fair_zero_one_weight": number(ge=0),
    "method.fair_threshold": number(gt=0, lt=1),
    "method.gdas_tau_max": number(gt=0),
    "method.gdas_tau_min": number(gt=0),
    "method.depth": integer(min=2),
    "method.width": integer(min=1),
    # ground truth (docs/ground_truth.md): its chunks, lookups of the random methods, ranking
    "method.chunk": integer(min=0),
    "method.chunks": integer(min=1),
    "method.score": choice("train", "table"),
    "method.table": string(nullable=True),
    "method.rank_space": boolean(),
    # loggers: logger.<entry>.<key>
    "logger.*._target_": target(),
    "logger.*.mode": choice(*LOGGER_MODES),
    "logger.*.project": string(),
    "logger.*.entity": string(nullable=True),
    "logger.*.tags": strings(),
    "logger.*.name": string(nullable=True),
    "logger.*.group": string(nullable=True),
    "logger.*.job_type": string(nullable=True),
    "logger.*.version": choice("", nullable=True),
    # trainer: the Lightning Trainer's arguments
    "trainer._target_": target(),
    "trainer.accelerator": choice(*ACCELERATORS),
    "trainer.devices": devices(),
    "trainer.precision": precision(),
    "trainer.enable_progress_bar": boolean(),
    "trainer.enable_model_summary": boolean(),
    "trainer.enable_checkpointing": boolean(),
    "trainer.num_sanity_val_steps": integer(min=0),
    "trainer.check_val_every_n_epoch": integer(min=1),
    "trainer.log_every_n_steps": integer(min=1),
    "trainer.deterministic": deterministic(),
}
#: blocks whose other keys are arguments of a library class, checked against its signature
PASSTHROUGH = ("trainer", "logger")
#: top-level blocks added by tools, not by the user: the HPO job's ``optuna`` block
FOREIGN = ("optuna", "fault", "fail_seeds")


def rule_for(key: str) -> Rule | None:
    if key in RULES:
        return RULES[key]
    for pattern, rule in RULES.items():
        if (
            "*" in pattern
            and fnmatch.fnmatchcase(key, pattern)
            and key.count(".") == pattern.count(".")
        ):
            return rule
    return None


class Unresolved:
    """A leaf whose interpolation cannot resolve (e.g. because a key it reads is bad)."""

    def __init__(self, key: str, error: Exception):
        self.error = ConfigError(f"{key}: {error}".splitlines()[0])


def leaves(cfg: DictConfig, prefix: str = "", strict: bool = True) -> Iterator[tuple[str, Any]]:
    """``(dotted key, resolved value)`` of every leaf of ``cfg``; a list is a leaf. A leaf that
    cannot resolve raises (``strict``) or comes as an :class:`Unresolved`."""
    for k in cfg:
        key = f"{prefix}{k}"
        try:
            v = cfg[k]
        except Exception as e:  # an interpolation that cannot resolve (e.g. on a bad value)
            if strict:
                raise Unresolved(key, e).error from e
            v = Unresolved(key, e)
        if isinstance(v, DictConfig):
            yield from leaves(v, key + ".", strict)
        else:
            yield key, v


def check_keys(cfg: DictConfig) -> None:
    """Every key's type and range, and the keys a config may not have. Raises on the first."""
    for group in ("data", "ops", "space", "hparams", "method"):
        if not isinstance(cfg.get(group), DictConfig):
            raise ConfigError(f"{group} is not set; choose one, e.g. {group}=...")
    # the trial's own keys first, the library blocks (which interpolate them) last
    unresolved = []
    for key, value in sorted(leaves(cfg, strict=False), key=lambda kv: _check_order(kv[0])):
        top = key.split(".", 1)[0]
        if top in FOREIGN:
            continue
        if isinstance(value, Unresolved):
            unresolved.append(value)
            continue
        rule = rule_for(key)
        if rule is not None:
            rule.check(key, value)
        elif top not in PASSTHROUGH:
            raise ConfigError(f"{key} is not a known key; see README.md (configs) for the keys")
    if unresolved:  # only when the keys they read were fine
        raise unresolved[0].error
    _cross_checks(cfg)


def _check_order(key: str) -> int:
    if "." not in key:
        return 0
    return 2 if key.split(".", 1)[0] in PASSTHROUGH else 1


def _cross_checks(cfg: DictConfig) -> None:
    data, method = cfg.data, cfg.method
    k, factor = data.operator.get("kernel_size"), data.operator.get("factor")
    # the signal length (1D) or the patch and crop sides (images) against the operator
    for key in ("n", "patch_size", "val_patch_size"):
        size = data.get(key)
        for bound, what, name in (
            (k, "the blur kernel", "kernel_size"),
            (factor, "the downsampling factor", "factor"),
        ):
            if size is not None and bound is not None and size < bound:
                raise ConfigError(
                    f"data.{key}={size} is shorter than {what} "
                    f"(data.operator.{name}={bound}); allowed: data.{key} >= {bound}"
                )
    if method.get("spaces") is not None and cfg.space.name not in method.spaces:
        raise ConfigError(
            f"space.name={cfg.space.name!r} is not allowed with method={method.name}; "
            f"allowed: {', '.join(method.spaces)}"
        )
    if method.get("requires_arch") and cfg.get("arch") is None:
        example = "grad*15/grad*15" if cfg.space.name == "cell" else "grad*10"
        raise ConfigError(f"method={method.name} needs arch=..., e.g. arch={example}")
    if method.get("arch") is not None and cfg.get("arch") is not None:
        raise ConfigError(
            f"arch={cfg.arch!r} is not allowed with method={method.name}, which trains "
            f"method.arch={method.arch!r}; allowed: arch=null, or method=fixed arch=..."
        )
    _variant_checks(method)
    _device_checks(cfg.trainer)
    own = [key for key in TRAINER_OWN_KEYS if key in cfg.trainer]
    if own:
        raise ConfigError(
            f"trainer.{own[0]} is set by the trial itself (epochs, retrain_epochs, logger=, the "
            "run directory); remove it from the trainer config"
        )


def _device_checks(trainer: DictConfig) -> None:
    """``trainer.devices`` names devices this machine has: one CPU (a trial is one process), or
    GPUs that exist."""
    import torch

    accelerator, devices = trainer.get("accelerator"), trainer.get("devices")
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    on_gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and gpus > 0)
    if devices is None or devices == "auto" or accelerator not in ("cpu", "gpu", "cuda", "auto"):
        return
    if not on_gpu:
        if devices not in (1, -1):
            raise ConfigError(
                f"trainer.devices={_show(devices)} is not allowed on the CPU (trainer.accelerator="
                f"{accelerator}{', no GPU found' if accelerator == 'auto' else ''}); allowed: 1 "
                "or auto (a trial is one process; hydra/launcher=local runs trials side by side)"
            )
        return
    wanted = list(devices) if isinstance(devices, (list, ListConfig)) else None
    if wanted is None and devices > gpus:
        raise ConfigError(
            f"trainer.devices={devices} is not allowed: this machine has {gpus} GPU(s); "
            f"allowed: 1 ... {gpus}, -1 (all) or auto"
        )
    if wanted is not None and any(d >= gpus for d in wanted):
        raise ConfigError(
            f"trainer.devices={wanted} is not allowed: this machine has {gpus} GPU(s); "
            f"allowed: indices 0 ... {gpus - 1}"
        )


def _variant_checks(method: DictConfig) -> None:
    """The search variant's keys that only make sense together (``method=das``)."""
    variant = method.get("variant")
    if variant is None:
        return
    if method.get("order") == 2 and variant not in SECOND_ORDER_VARIANTS:
        raise ConfigError(
            f"method.variant={variant!r} is not allowed with method.order=2; allowed: "
            f"{', '.join(SECOND_ORDER_VARIANTS)} (or method.order=1)"
        )
    tau_max, tau_min = method.get("gdas_tau_max"), method.get("gdas_tau_min")
    if tau_max is not None and tau_min is not None and tau_min > tau_max:
        raise ConfigError(
            f"method.gdas_tau_min={tau_min} is above method.gdas_tau_max={tau_max}; allowed: "
            "gdas_tau_min <= gdas_tau_max"
        )


# -- builders ----------------------------------------------------------------------------------
@contextlib.contextmanager
def errors_name(key: str) -> Iterator[None]:
    """Turn the ``ValueError``/``TypeError`` of building ``key``'s block into a
    :class:`ConfigError` that names the block."""
    try:
        yield
    except ConfigError:
        raise
    except (ValueError, TypeError) as e:
        text = str(e)
        raise ConfigError(text if text.startswith(key) else f"{key}: {text}") from e


def check_signature(key: str, target: Any, kwargs: Mapping[str, Any]) -> None:
    """Unknown arguments of ``target`` in a config block are errors, not silently ignored."""
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    for name in kwargs:
        if name not in params:
            allowed = ", ".join(p for p in params if p not in ("self", *TRAINER_OWN_KEYS))
            raise ConfigError(
                f"{key}.{name} is not an argument of {getattr(target, '__name__', target)}; "
                f"allowed: {allowed}"
            )


def instantiate_block(key: str, block: DictConfig, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` of a config block, its errors naming the block."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    try:
        return instantiate(block, _convert_="all", **kwargs)
    except InstantiationException as e:
        cause = e.__cause__ or e
        raise ConfigError(f"{key}: {cause}") from e


def partial_of(key: str, block: DictConfig) -> Callable[..., Any]:
    """A factory for the config block's ``_target_`` with its arguments checked now."""
    target = locate(block._target_)
    kwargs = {k: v for k, v in block.items() if k != "_target_"}
    check_signature(key, target, kwargs)
    return instantiate_block(key, block, _partial_=True)


def arch_value(arch: Any) -> Any:
    """``arch=`` may be a string (``grad-net*9``) or a Hydra list (``[grad,net,...]``)."""
    if OmegaConf.is_config(arch):
        return list(OmegaConf.to_container(arch))
    return arch


def hparams(cfg: DictConfig) -> HParams:
    d = OmegaConf.to_container(cfg.hparams, resolve=True)
    with errors_name("hparams"):
        return HParams.from_config(d)


def build_space_from_config(cfg: DictConfig):
    from .spaces import build_space

    params = dict(OmegaConf.to_container(cfg.space, resolve=True))
    name = params.pop("name")
    with errors_name("space"):
        return build_space(name, **params)


def op_context(cfg: DictConfig, operator: LinearOperator) -> OpContext:
    ops = cfg.ops
    return OpContext(
        operator=operator,
        channels=1,
        spatial_dims=operator.spatial_dims,
        width=ops.width,
        kernel_size=ops.kernel_size,
        tau_init=ops.tau_init,
        noise_std=ops.noise_std,
        roll_dims=ops.roll.dims,
        roll_shift=ops.roll.shift,
        # keys added after the first release: configs saved before them keep the old behaviour
        noise_placement=ops.get("noise_placement", "outside"),
        noise_at_eval=ops.get("noise_at_eval", True),
        initial=cfg.space.initial,
    )


__all__ = [
    "RULES",
    "ConfigError",
    "Rule",
    "arch_value",
    "build_space_from_config",
    "check_keys",
    "hparams",
    "instantiate_block",
    "leaves",
    "op_context",
    "partial_of",
    "rule_for",
]
