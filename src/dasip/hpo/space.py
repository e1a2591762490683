"""The search space of the BOHB stand-in: specs in the sweeper config -> Optuna distributions ->
the overrides that hand a sampled point to a job.

A space is a nested mapping that mirrors the job's config; a leaf is a spec with a ``type``::

    hparams:
      param_lr: {type: float, low: 1.0e-5, high: 1.0, log: true}
      alpha_optimizer: {type: categorical, choices: [adam, gd]}

so the dimension ``hparams.param_lr`` becomes the job override ``hparams.param_lr=<value>``.
Hydra's own sweep syntax on the command line adds dimensions too (:func:`from_override`):
``'hparams.alpha_lr=tag(log,interval(1e-5,0.1))'``, ``hparams.alpha_optimizer=adam,gd``,
``ops.width=range(8,65,8)``.

This module imports Optuna only inside functions: the Hydra plugin imports it at start-up.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from typing import Any

#: the paper's HPO search ranges (log scale for rates and decays): the shipped default space.
PAPER_SPACE: dict[str, Any] = {
    "hparams": {
        "param_lr": {"type": "float", "low": 1e-5, "high": 1.0, "log": True},
        "param_weight_decay": {"type": "float", "low": 1e-8, "high": 0.1, "log": True},
        "param_warmup": {"type": "categorical", "choices": [True, False]},
        "alpha_lr": {"type": "float", "low": 1e-5, "high": 0.1, "log": True},
        "alpha_weight_decay": {"type": "float", "low": 1e-5, "high": 0.1, "log": True},
        "alpha_warmup": {"type": "categorical", "choices": [True, False]},
        "alpha_scheduler": {"type": "categorical", "choices": ["none", "linear"]},
        "alpha_optimizer": {"type": "categorical", "choices": ["adam", "gd"]},
    }
}

SPEC_TYPES = ("float", "int", "categorical")
_SPEC_KEYS = {
    "float": {"type", "low", "high", "log", "step"},
    "int": {"type", "low", "high", "log", "step"},
    "categorical": {"type", "choices"},
}


class SpaceError(ValueError):
    """A search-space entry that cannot be sampled; the message names the dimension."""


def paper_space() -> dict[str, Any]:
    """A fresh copy of :data:`PAPER_SPACE` (a dataclass default needs a new one each time)."""
    return copy.deepcopy(PAPER_SPACE)


def flatten_space(space: Mapping[str, Any] | None, prefix: str = "") -> dict[str, dict[str, Any]]:
    """``{"hparams": {"param_lr": {"type": ...}}} -> {"hparams.param_lr": {"type": ...}}``.

    A mapping with a ``type`` key is a leaf; ``None`` entries (a dimension switched off with
    ``hydra.sweeper.space.hparams.param_warmup=null``) are dropped.
    """
    out: dict[str, dict[str, Any]] = {}
    for key, value in (space or {}).items():
        path = f"{prefix}{key}"
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise SpaceError(
                f"hydra.sweeper.space.{path}={value!r}: expected a spec such as "
                "{type: float, low: 1e-5, high: 1, log: true} or a mapping of specs"
            )
        if "type" in value:
            out[path] = dict(value)
        else:
            out.update(flatten_space(value, path + "."))
    return out


def to_distribution(key: str, spec: Mapping[str, Any]):
    """One spec -> an Optuna distribution; raises :class:`SpaceError` naming ``key``."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    kind = spec.get("type")
    if kind not in SPEC_TYPES:
        raise SpaceError(
            f"hydra.sweeper.space.{key}.type={kind!r} is not allowed; allowed: "
            f"{', '.join(SPEC_TYPES)}"
        )
    unknown = sorted(set(spec) - _SPEC_KEYS[kind])
    if unknown:
        raise SpaceError(
            f"hydra.sweeper.space.{key}: unknown keys {unknown} for type {kind}; allowed: "
            f"{sorted(_SPEC_KEYS[kind])}"
        )
    try:
        if kind == "categorical":
            choices = spec.get("choices")
            if not isinstance(choices, (list, tuple)) or not choices:
                raise SpaceError(f"hydra.sweeper.space.{key}.choices must be a non-empty list")
            return CategoricalDistribution(list(choices))
        low, high = spec.get("low"), spec.get("high")
        if low is None or high is None:
            raise SpaceError(f"hydra.sweeper.space.{key} needs low and high")
        log, step = bool(spec.get("log", False)), spec.get("step")
        if kind == "int":
            return IntDistribution(int(low), int(high), log=log, step=int(step or 1))
        return FloatDistribution(float(low), float(high), log=log, step=step)
    except ValueError as e:
        if isinstance(e, SpaceError):
            raise
        raise SpaceError(f"hydra.sweeper.space.{key}: {e}") from e


def distributions(space: Mapping[str, Any] | None) -> dict[str, Any]:
    """The whole space as ``{dotted key: optuna distribution}``, in a stable order."""
    return {k: to_distribution(k, spec) for k, spec in sorted(flatten_space(space).items())}


def from_override(override: Any):
    """A Hydra sweep override (choice, range or interval, optionally tagged ``log`` / ``int``)
    -> an Optuna distribution."""
    from hydra.core.override_parser.types import IntervalSweep, RangeSweep
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    key = override.get_key_element()
    value = override.value()
    tags = set(getattr(value, "tags", set()) or set())
    if override.is_interval_sweep():
        assert isinstance(value, IntervalSweep)
        low, high = value.start, value.end
        if "int" in tags or (
            isinstance(low, int) and isinstance(high, int) and "float" not in tags
        ):
            return IntDistribution(int(low), int(high), log="log" in tags)
        return FloatDistribution(float(low), float(high), log="log" in tags)
    if override.is_range_sweep():
        assert isinstance(value, RangeSweep)
        if (
            all(isinstance(v, int) for v in (value.start, value.stop, value.step))
            and value.step > 0
        ):
            return IntDistribution(value.start, value.stop - 1, step=value.step, log="log" in tags)
        return CategoricalDistribution(_elements(override))
    if override.is_choice_sweep():
        return CategoricalDistribution(_elements(override))
    raise SpaceError(f"{key}: the bohb sweeper cannot sample a {override.value_type} override")


def _elements(override: Any) -> list[Any]:
    """The values of a choice or range sweep, quoted strings as plain text."""
    return [getattr(v, "text", v) for v in override.sweep_iterator()]


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-./]*$")
_KEYWORDS = {"true", "false", "null", "nan", "inf"}


def override_value(value: Any) -> str:
    """A Python value as the value part of a Hydra override (quoted where the grammar needs)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, Mapping):
        inner = ",".join(f"{k}:{override_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(override_value(v) for v in value) + "]"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _KEYWORDS:
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def job_overrides(params: Mapping[str, Any]) -> list[str]:
    """A sampled point -> ``["hparams.param_lr=0.0012", ...]``."""
    return [f"{key}={override_value(value)}" for key, value in params.items()]


def fingerprint(dists: Mapping[str, Any]) -> dict[str, str]:
    """The space as JSON strings, stored in the study so a resumed sweep can check it."""
    from optuna.distributions import distribution_to_json

    return {k: distribution_to_json(d) for k, d in sorted(dists.items())}
