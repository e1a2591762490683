"""Config validation and the builders that turn a composed Hydra config into objects.

Every check runs at start-up, before any training, and names the key, the bad value and what
is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from .metrics import LOSS_REDUCTIONS
from .models.optim import HParams
from .ops import OpContext, check_op_names
from .physics import OPERATORS, LinearOperator, build_operator_from_config
from .spaces import SPACES, GenotypeError, build_space

LOGGER_MODES = ("online", "offline", "disabled")
LOGGERS = ("wandb", "csv", "none")


class ConfigError(ValueError):
    """A config value that cannot work; raised before any training starts."""


def _get(cfg: Any, key: str) -> Any:
    return OmegaConf.select(cfg, key, throw_on_missing=True)


def _positive_int(cfg: DictConfig, key: str) -> None:
    v = _get(cfg, key)
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ConfigError(f"{key}={v!r} must be a positive integer")


def _positive(cfg: DictConfig, key: str, allow_zero: bool = False) -> None:
    v = _get(cfg, key)
    ok = isinstance(v, (int, float)) and not isinstance(v, bool)
    if not ok or not (v >= 0 if allow_zero else v > 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{key}={v!r} must be a number {bound}")


def _choice(cfg: DictConfig, key: str, allowed: Any) -> None:
    v = _get(cfg, key)
    if v not in allowed:
        raise ConfigError(f"{key}={v!r} is not allowed; allowed: {', '.join(map(str, allowed))}")


def validate(cfg: DictConfig, methods: Mapping[str, Any] | None = None) -> None:
    """Check everything a trial will use; raise :class:`ConfigError` on the first problem."""
    for key in ("data", "ops", "space", "hparams", "method"):
        if _get(cfg, key) is None:
            raise ConfigError(f"{key} is not set")
    _choice(cfg, "data.operator.name", OPERATORS)
    for key in ("data.n", "data.batch_size", "data.batches_per_epoch", "data.val_size"):
        _positive_int(cfg, key)
    _positive_int(cfg, "data.eval_batch_size")
    _positive(cfg, "data.noise_std", allow_zero=True)
    _choice(cfg, "space.name", SPACES)
    for key in ("epochs", "retrain_epochs"):
        _positive_int(cfg, key)
    _choice(cfg, "loss.reduction", LOSS_REDUCTIONS)
    _positive(cfg, "psnr.data_range")
    _positive_int(cfg, "ops.width")
    _positive_int(cfg, "ops.kernel_size")
    _positive(cfg, "ops.noise_std", allow_zero=True)
    if methods is not None:
        _choice(cfg, "method.name", methods)
    if cfg.method.get("requires_arch") and cfg.get("arch") is None:
        example = "grad*15/grad*15" if cfg.space.name == "cell" else "grad*10"
        raise ConfigError(f"method={cfg.method.name} needs arch=..., e.g. arch={example}")
    _method_keys(cfg)
    _choice(cfg, "logger.name", LOGGERS)
    if cfg.logger.name == "wandb":
        _choice(cfg, "logger.mode", LOGGER_MODES)
    try:
        check_op_names(cfg.ops.names)
        space = build_space_from_config(cfg)
        space.candidate_ops(cfg.ops.names)
        hparams(cfg)
        if cfg.get("arch") is not None:
            space.parse(arch_value(cfg.arch))
        if cfg.method.get("arch") is not None:
            space.parse(arch_value(cfg.method.arch), key="method.arch")
        build_operator(cfg)
    except (GenotypeError, ValueError, TypeError) as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(str(e)) from e


def _method_keys(cfg: DictConfig) -> None:
    """The method's own keys (``conf/method/*.yaml``), checked where a method has them."""
    m = cfg.method
    name = m.name
    if m.get("spaces") is not None and cfg.space.name not in m.spaces:
        raise ConfigError(
            f"space.name={cfg.space.name!r} is not allowed with method={name}; "
            f"allowed: {', '.join(m.spaces)}"
        )
    if "order" in m and (isinstance(m.order, bool) or m.order not in (1, 2)):
        raise ConfigError(f"method.order={m.order!r} is not allowed; allowed: 1, 2")
    if m.get("xi") is not None:
        _positive(cfg, "method.xi")
    if "eps" in m:
        _positive(cfg, "method.eps")
    for key in ("k", "pretrain_epochs"):
        if key in m:
            _positive_int(cfg, f"method.{key}")
    if "cache" in m and not isinstance(m.cache, bool):
        raise ConfigError(f"method.cache={m.cache!r} is not allowed; allowed: true, false")
    if m.get("arch") is not None and cfg.get("arch") is not None:
        raise ConfigError(
            f"arch={cfg.arch!r} is not allowed with method={name}, which trains "
            f"method.arch={m.arch!r}; allowed: arch=null, or method=fixed arch=..."
        )


def arch_value(arch: Any) -> Any:
    """``arch=`` may be a string (``grad-net*9``) or a Hydra list (``[grad,net,...]``)."""
    if OmegaConf.is_config(arch):
        return list(OmegaConf.to_container(arch))
    return arch


def hparams(cfg: DictConfig) -> HParams:
    d = OmegaConf.to_container(cfg.hparams, resolve=True)
    try:
        return HParams.from_config(d)
    except TypeError as e:
        raise ConfigError(f"hparams: {e}") from e
    except ValueError as e:
        raise ConfigError(str(e)) from e


def build_operator(cfg: DictConfig) -> LinearOperator:
    from .data import grid_spacing

    op_cfg = OmegaConf.to_container(cfg.data.operator, resolve=True)
    try:
        return build_operator_from_config(op_cfg, cfg.data.n, grid_spacing(cfg.data.n))
    except (TypeError, ValueError) as e:
        raise ConfigError(f"data.operator: {e}") from e


def build_space_from_config(cfg: DictConfig):
    params = {k: v for k, v in OmegaConf.to_container(cfg.space, resolve=True).items()}
    name = params.pop("name")
    try:
        return build_space(name, **params)
    except TypeError as e:
        raise ConfigError(f"space: {e}") from e


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
    )
