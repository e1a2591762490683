"""The checks of a composed config at start-up, and the builders that turn config blocks into
objects.

Every check runs at start-up, before any training, and raises :class:`ConfigError` with a
one-line message that names the key, the bad value and what is allowed.

Every config has schemas (:mod:`dasip.schema`): dataclasses registered in Hydra's ConfigStore
and named in the YAML ``defaults``. The primary configs' (:class:`SearchConf`,
:class:`EvaluateConf`) hold the trial's own keys (seed, epochs, ...); the groups ``data`` (with
its operator), ``ops``, ``space``, ``hparams`` and ``method`` (each method its own) have theirs
next to the code that reads them (:data:`SCHEMA_GROUPS`). The library blocks ``trainer`` and
``logger`` are arguments of a library class (the Lightning ``Trainer``, a logger): their keys
are checked against its signature when the trial is built, and the few the configs set have a
rule (:data:`RULES`) so that a bad value is an error before any work.
``tests/test_config.py`` walks every key with bad values.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import inspect
import re
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.utils import get_object
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf, open_dict

from . import checks
from . import schema as S
from .data import SignalDataModule  # noqa: F401 - the data and operator schemas
from .metrics import LOSS_REDUCTIONS, PSNR_PEAKS
from .models.optim import HParams
from .ops import OpContext
from .physics import LinearOperator
from .schema import ConfigError

LOGGER_MODES = ("online", "offline", "disabled")


def _lightning_accelerators() -> tuple[str, ...]:
    """``trainer.accelerator``: Lightning's registered accelerators and its two aliases."""
    from pytorch_lightning.accelerators import AcceleratorRegistry

    return ("auto", "gpu", *sorted(AcceleratorRegistry.available_accelerators()))


def _lightning_precisions() -> tuple[str, ...]:
    """``trainer.precision``: the values Lightning's own type of the argument allows."""
    from lightning_fabric.connector import _PRECISION_INPUT

    def flat(t: Any) -> list[Any]:
        args = typing.get_args(t)
        return [v for a in args for v in flat(a)] if args else [t]

    return tuple(dict.fromkeys(str(v) for v in flat(_PRECISION_INPUT)))


ACCELERATORS = _lightning_accelerators()
PRECISIONS = _lightning_precisions()
#: the largest seed: Lightning's and numpy's legacy seeding take unsigned 32-bit seeds
MAX_SEED = 2**32 - 1
#: Trainer arguments each fit sets itself: not config keys
TRAINER_OWN_KEYS = ("max_epochs", "logger", "callbacks", "default_root_dir")


# -- rules of the library blocks' keys ----------------------------------------------------------
def _importable(v: Any) -> bool:
    if not isinstance(v, str) or not v:
        return False
    try:
        get_object(v)  # Hydra's own lookup of a _target_
    except Exception:
        return False
    return True


def _devices(v: Any) -> bool:
    if v == "auto" or (checks.is_int(v) and (v >= 1 or v == -1)):
        return True
    return (
        isinstance(v, (list, ListConfig))
        and bool(v)
        and all(checks.is_int(d) and d >= 0 for d in v)
    )


BOOLEAN = S.Rule(lambda v: isinstance(v, bool), "true, false")
#: a ``_target_``: the dotted path of an importable class or function
TARGET = S.Rule(
    _importable, "the dotted path of an importable class, e.g. pytorch_lightning.Trainer"
)
STRINGS = S.Rule(
    lambda v: isinstance(v, (list, tuple, ListConfig)) and all(isinstance(s, str) for s in v),
    "a list of strings",
)


# -- the trial's own keys (``search.yaml``, ``evaluate.yaml``): the primary configs' schemas ---
def _peak(v: Any) -> bool:
    return (isinstance(v, str) and v in PSNR_PEAKS) or S.number(gt=0).ok(v)


#: ``true``, ``false`` or ``auto`` (the program decides; the docs say how)
SWITCH = S.Rule(lambda v: isinstance(v, bool) or v == "auto", "true, false, auto")


@dataclass
class LossConf(S.Schema):
    reduction: str = S.key(rule=S.choice(*LOSS_REDUCTIONS))


@dataclass
class PsnrConf(S.Schema):
    #: a number, or a per-signal convention (max, range)
    data_range: Any = S.key(rule=S.Rule(_peak, f"a number > 0, {', '.join(PSNR_PEAKS)}"))


@dataclass
class CompileConf(S.Schema):
    search: Any = S.key(rule=SWITCH)
    retrain: Any = S.key(rule=SWITCH)
    min_steps: int = S.key(rule=S.integer(min=0))


@dataclass
class CheckpointsConf(S.Schema):
    save: bool = S.key()
    interval_s: float = S.key(rule=S.number(ge=0))
    keep: bool = S.key()


@dataclass
class TrialKeys(S.Schema):
    """The trial's own keys, the top level of ``search.yaml`` but the groups'."""

    seed: int = S.key(rule=S.integer(min=0, max=MAX_SEED))
    study: str = S.key(rule=S.text())
    epochs: int = S.key(rule=S.integer(min=1))
    retrain_epochs: int = S.key(rule=S.integer(min=1))
    #: a genotype string or list; parsed by the space when the trial is built
    arch: Any = S.key(rule=S.or_null(S.ARCH))
    loss: LossConf = S.key()
    psnr: PsnrConf = S.key()
    #: at most the cores this process may use (more only oversubscribes them)
    num_threads: int | None = S.key(rule=S.integer(min=1, max=checks.cores(), nullable=True))
    compile: CompileConf = S.key()
    save_model: bool = S.key()
    raise_on_failure: bool = S.key()
    resume: bool = S.key()
    #: the defaults of these two keys are also those of configs saved before they existed
    checkpoints: CheckpointsConf = S.key(
        factory=lambda: CheckpointsConf(save=True, interval_s=60.0, keep=False)
    )
    resume_from: list[str] = S.key(factory=list)
    setup: str = S.key(rule=S.text())


@dataclass
class EvaluateKeys(TrialKeys):
    """``evaluate.py``'s keys besides the trial's."""

    record: str | None = S.key(None, S.text(nullable=True))
    checkpoint: str | None = S.key(None, S.text(nullable=True))


@dataclass
class _Groups:
    """The config groups of a primary config, each checked by its own option's schema."""

    data: Any = MISSING
    ops: Any = MISSING
    space: Any = MISSING
    hparams: Any = MISSING
    method: Any = MISSING
    logger: Any = MISSING
    trainer: Any = MISSING


@dataclass
class SearchConf(TrialKeys, _Groups):
    """``search.yaml`` and ``train.yaml`` (named first in their ``defaults``)."""


@dataclass
class EvaluateConf(EvaluateKeys, SearchConf):
    """``evaluate.yaml`` (named in its ``defaults`` after ``search``, whose schema it extends)."""


ConfigStore.instance().store(name="base_search", node=SearchConf)
ConfigStore.instance().store(name="base_evaluate", node=EvaluateConf)


#: the rules of the library blocks' keys: a dotted path, ``*`` matching one level
#: (``logger.*.mode``)
RULES: dict[str, S.Rule] = {
    # loggers: logger.<entry>.<key>
    "logger.*._target_": TARGET,
    "logger.*.mode": S.choice(*LOGGER_MODES),
    "logger.*.project": S.text(),
    "logger.*.entity": S.text(nullable=True),
    "logger.*.tags": STRINGS,
    "logger.*.name": S.text(nullable=True),
    "logger.*.group": S.text(nullable=True),
    "logger.*.job_type": S.text(nullable=True),
    "logger.*.version": S.Rule(lambda v: v in ("", None), "'' (no version folder), or null"),
    # trainer: the Lightning Trainer's arguments
    "trainer._target_": TARGET,
    "trainer.accelerator": S.choice(*ACCELERATORS),
    "trainer.devices": S.Rule(
        _devices, "auto, -1 (all), a number of devices >= 1, or a list of device indices"
    ),
    "trainer.precision": S.Rule(
        lambda v: not isinstance(v, bool) and str(v) in PRECISIONS and isinstance(v, (str, int)),
        ", ".join(PRECISIONS),
    ),
    "trainer.enable_progress_bar": BOOLEAN,
    "trainer.enable_model_summary": BOOLEAN,
    "trainer.enable_checkpointing": BOOLEAN,
    "trainer.num_sanity_val_steps": S.integer(min=0),
    "trainer.check_val_every_n_epoch": S.integer(min=1),
    "trainer.log_every_n_steps": S.integer(min=1),
    "trainer.deterministic": S.Rule(
        lambda v: isinstance(v, bool) or v in ("warn", None), "true, false, warn, null"
    ),
}
#: the groups with schemas (:mod:`dasip.schema`): checked by building their schema objects
SCHEMA_GROUPS = ("data", "ops", "space", "hparams", "method")
#: blocks whose other keys are arguments of a library class, checked against its signature
PASSTHROUGH = ("trainer", "logger")
#: top-level blocks added by tools, not by the user: the HPO job's ``optuna`` block
FOREIGN = ("optuna",)


def by_key(table: Mapping[str, Any], key: str) -> Any:
    """The entry of ``table`` for the dotted ``key``: its own, else the first pattern (``*``
    matching one level, ``logger.*.mode``) that matches it; ``None`` when none does."""
    if key in table:
        return table[key]
    for pattern, entry in table.items():
        if (
            "*" in pattern
            and fnmatch.fnmatchcase(key, pattern)
            and key.count(".") == pattern.count(".")
        ):
            return entry
    return None


def rule_for(key: str) -> S.Rule | None:
    return by_key(RULES, key)


def is_checked(key: str) -> bool:
    """Whether ``key`` has a check: it is in a group with a schema (whose fields are the keys
    it may hold), it is one of the trial's own keys (:class:`EvaluateKeys`), or it has a rule."""
    top = key.split(".", 1)[0]
    own = {f.name for f in dataclasses.fields(EvaluateKeys)}
    return top in SCHEMA_GROUPS or top in own or rule_for(key) is not None


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
    schema = own_keys(cfg)
    checked["trial"] = _validate_own(cfg, schema)
    own = {f.name for f in dataclasses.fields(schema)}
    # the library blocks (which interpolate the trial's keys) last
    unresolved = []
    for key, value in leaves(cfg, strict=False):
        top = key.split(".", 1)[0]
        if top in FOREIGN or top in SCHEMA_GROUPS or top in own:
            continue
        if isinstance(value, Unresolved):
            unresolved.append(value)
            continue
        rule = rule_for(key)
        if rule is None:
            if top not in PASSTHROUGH:  # pragma: no cover - the top level's schema has them all
                raise ConfigError(f"{key} is not a known key; see README.md for the keys")
        elif not rule.ok(value):
            raise ConfigError(f"{key}={S.show(value)} is not allowed; allowed: {rule.allowed}")
    if unresolved:  # only when the keys they read were fine
        raise unresolved[0].error
    _cross_checks(cfg)
    return checked


def own_keys(cfg: DictConfig) -> type[TrialKeys]:
    """The schema of the trial's own keys of ``cfg``: a composed config's (its primary
    schema's), or for a saved one (a record's, a model.pt's) :class:`EvaluateKeys` when it
    holds ``evaluate.py``'s keys, else :class:`TrialKeys`."""
    schema = OmegaConf.get_type(cfg)
    if isinstance(schema, type) and issubclass(schema, EvaluateKeys):
        return EvaluateKeys
    if isinstance(schema, type) and issubclass(schema, TrialKeys):
        return TrialKeys
    return EvaluateKeys if "record" in cfg or "checkpoint" in cfg else TrialKeys


def _validate_own(cfg: DictConfig, schema: type[TrialKeys]) -> TrialKeys:
    """The trial's own keys of ``cfg`` (every top-level key but the groups and the tools'
    blocks), resolved, as a ``schema`` object: unknown keys, types, ranges."""
    values = {}
    for key in cfg:
        if key in SCHEMA_GROUPS or key in PASSTHROUGH or key in FOREIGN:
            continue
        try:
            value = cfg[key]
        except Exception as e:  # an interpolation that cannot resolve
            raise Unresolved(str(key), e).error from e
        values[key] = (
            OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
        )
    node = OmegaConf.structured(schema)
    OmegaConf.set_struct(node, False)  # an unknown key is validate's one line, not a merge error
    try:
        node = OmegaConf.merge(node, values)
    except Exception as e:
        raise S.compose_error(e) or ConfigError(str(e).splitlines()[0]) from e
    return S.validate(node, "")


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
                f"trainer.devices={S.show(devices)} is not allowed on the CPU (trainer.accelerator="
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
    target = get_object(block._target_)
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
    "arch_value",
    "build_space_from_config",
    "by_key",
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
