"""The checks of a composed config at start-up, and the builders that turn config blocks into
objects.

Every check runs at start-up, before any training, and raises :class:`ConfigError` with a
one-line message that names the key, the bad value and what is allowed.

The groups ``data`` (with its operator), ``ops``, ``space``, ``hparams`` and ``method`` (each
method its own) have schemas (:mod:`dasip.schema`): dataclasses next to the code that reads
them, named in each option's YAML ``defaults``; :data:`SCHEMA_GROUPS`. Not migrated yet (issue
21, part 1): the top-level keys, ``trainer`` and ``logger``, which keep their :data:`RULES`; keys handed to
a library (the Lightning ``Trainer``, a logger) are checked against that library's signature
when the trial is built. ``tests/test_config.py`` walks every key with bad values.
"""

from __future__ import annotations

import contextlib
import fnmatch
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict

from . import checks
from . import schema as S
from .data import SignalDataModule  # noqa: F401 - the data and operator schemas
from .metrics import LOSS_REDUCTIONS, PSNR_PEAKS
from .models.optim import HParams
from .ops import OpContext
from .physics import LinearOperator
from .schema import ConfigError

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


# -- rules -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """What one key accepts: ``check`` raises :class:`ConfigError`."""

    check: Callable[[str, Any], None]


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

    return Rule(check)


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

    return Rule(check)


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

    return Rule(check)


def boolean() -> Rule:
    def check(key: str, v: Any) -> None:
        if not isinstance(v, bool):
            _fail(key, v, "true, false")

    return Rule(check)


def switch() -> Rule:
    """``true``, ``false`` or ``auto`` (the program decides; the docs say how)."""

    def check(key: str, v: Any) -> None:
        if not (isinstance(v, bool) or v == "auto"):
            _fail(key, v, "true, false, auto")

    return Rule(check)


def choice(*allowed: Any, nullable: bool = False) -> Rule:
    def check(key: str, v: Any) -> None:
        if v is None and nullable:
            return
        ok = isinstance(v, (str, int, float)) and not isinstance(v, bool) and v in allowed
        if not ok:
            _fail(key, v, ", ".join(map(str, allowed)) + (", null" if nullable else ""))

    return Rule(check)


def string(nullable: bool = False) -> Rule:
    def check(key: str, v: Any) -> None:
        if v is None and nullable:
            return
        if not isinstance(v, str) or not v:
            _fail(key, v, "a non-empty string" + (", or null" if nullable else ""))

    return Rule(check)


def strings(nullable: bool = False) -> Rule:
    def check(key: str, v: Any) -> None:
        if v is None and nullable:
            return
        if not isinstance(v, (list, tuple, ListConfig)) or not all(isinstance(s, str) for s in v):
            _fail(key, v, "a list of strings")

    return Rule(check)


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

    return Rule(check)


def target() -> Rule:
    """A ``_target_``: the dotted path of an importable class or function."""

    def check(key: str, v: Any) -> None:
        if not isinstance(v, str) or not v:
            _fail(key, v, "the dotted path of a class, e.g. pytorch_lightning.Trainer")
        try:
            locate(v)
        except Exception:
            _fail(key, v, "the dotted path of an importable class, e.g. pytorch_lightning.Trainer")

    return Rule(check)


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

    return Rule(check)


def deterministic() -> Rule:
    def check(key: str, v: Any) -> None:
        if not (isinstance(v, bool) or v == "warn" or v is None):
            _fail(key, v, "true, false, warn, null")

    return Rule(check)


def precision() -> Rule:
    allowed = choice(*PRECISIONS)

    def check(key: str, v: Any) -> None:
        allowed.check(key, str(v) if checks.is_int(v) else v)

    return Rule(check)


#: one rule per key: a dotted path, ``*`` matching one level (``logger.*.mode``)
RULES: dict[str, Rule] = {
    "seed": integer(min=0, max=MAX_SEED),
    "study": string(),
    "epochs": integer(min=1),
    "retrain_epochs": integer(min=1),
    "arch": architecture(),
    "loss.reduction": choice(*LOSS_REDUCTIONS),
    "psnr.data_range": peak(),
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
#: the groups with schemas (:mod:`dasip.schema`): checked by building their schema objects
SCHEMA_GROUPS = ("data", "ops", "space", "hparams", "method")
#: blocks whose other keys are arguments of a library class, checked against its signature
PASSTHROUGH = ("trainer", "logger")
#: top-level blocks added by tools, not by the user: the HPO job's ``optuna`` block
FOREIGN = ("optuna",)


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


def is_checked(key: str) -> bool:
    """Whether ``key`` has a check: it is in a group with a schema (whose fields are the keys
    it may hold), or it has a rule."""
    return key.split(".", 1)[0] in SCHEMA_GROUPS or rule_for(key) is not None


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


def check_keys(cfg: DictConfig) -> dict[str, Any]:
    """Every key's type and range, and the keys a config may not have. Raises on the first.
    Returns the schema objects of :data:`SCHEMA_GROUPS` (e.g. ``hparams``: :class:`HParams`)."""
    for group in ("data", "ops", "space", "hparams", "method"):
        if not isinstance(cfg.get(group), DictConfig):
            raise ConfigError(f"{group} is not set; choose one, e.g. {group}=...")
    checked = {}
    for group in SCHEMA_GROUPS:
        block = cfg[group]
        if S.schema_of(block) is None:  # a saved config (a record's, a model.pt's): untyped
            try:
                block = S.typed(group, block)
            except Exception as e:
                raise S.compose_error(e) or ConfigError(f"{group}: {e}".splitlines()[0]) from e
            if S.schema_of(block) is None:
                raise ConfigError(
                    f"{group}: no schema matches this option; name one first in its defaults "
                    f"(one of {', '.join(S.stored(group))}), see src/dasip/conf/{group}/*.yaml"
                )
            with contextlib.ExitStack() as stack:
                if OmegaConf.is_struct(cfg):
                    stack.enter_context(open_dict(cfg))
                cfg[group] = block
        checked[group] = S.validate(cfg[group], group)
    # the trial's own keys first, the library blocks (which interpolate them) last
    unresolved = []
    for key, value in sorted(leaves(cfg, strict=False), key=lambda kv: _check_order(kv[0])):
        top = key.split(".", 1)[0]
        if top in FOREIGN or top in SCHEMA_GROUPS:
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
    return checked


def _check_order(key: str) -> int:
    if "." not in key:
        return 0
    return 2 if key.split(".", 1)[0] in PASSTHROUGH else 1


def _cross_checks(cfg: DictConfig) -> None:
    method = cfg.method
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
        text = str(e)
        where = re.search(r"full_key: (\S+)", text)
        if text.startswith("Error locating target"):  # Hydra's own lookup of ``_target_``
            path = where.group(1) if where else key
            raise ConfigError(f"{path}._target_: {text.splitlines()[0]}") from e
        cause = e.__cause__ or e
        raise ConfigError(f"{key}: {cause}".splitlines()[0]) from e


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
    """The hyperparameter preset of ``cfg`` (its schema object, checked)."""
    return S.validate(S.typed("hparams", cfg.hparams), "hparams")


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
        noise_placement=ops.noise_placement,
        noise_at_eval=ops.noise_at_eval,
        initial=cfg.space.initial,
    )


__all__ = [
    "RULES",
    "SCHEMA_GROUPS",
    "ConfigError",
    "Rule",
    "arch_value",
    "build_space_from_config",
    "check_keys",
    "hparams",
    "instantiate_block",
    "is_checked",
    "leaves",
    "op_context",
    "partial_of",
    "rule_for",
]

# the methods' schemas (each method's module): registered with the rest, before any compose
from . import methods  # noqa: E402, F401
