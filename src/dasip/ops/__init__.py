"""Candidate operations and their registry.

A new op is one file with an :class:`Operation` subclass plus one line in :data:`OPS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .. import schema as S
from .base import OpContext, Operation
from .cnn import conv_class, norm_class
from .grad import GradStep
from .net import Net
from .noise import NOISE_PLACEMENTS, NoisyGradStep
from .roll import ROLL_DIMS, Roll
from .zero import Zero

OPS: dict[str, Callable[[OpContext], Operation]] = {
    "grad": GradStep,
    "net": Net,
    "roll": Roll,
    "noise": NoisyGradStep,
    "zero": Zero,
}


def check_op_names(names: Iterable[str], key: str = "ops.names") -> list[str]:
    """Return ``names`` as a list, or raise naming the unknown op and the allowed ones."""
    names = list(names)
    if not names:
        raise ValueError(f"{key} is empty; allowed ops: {', '.join(OPS)}")
    for name in names:
        if name not in OPS:
            raise ValueError(f"{key}: unknown op {name!r}; allowed: {', '.join(OPS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"{key}={names} lists an op twice")
    return names


@dataclass
class RollConf(S.Schema):
    """``ops.roll``: the roll op's dimensions and shift (:class:`Roll`)."""

    dims: str = S.key(rule=S.choice(*ROLL_DIMS))
    shift: int = S.key()


@dataclass
class OpsConf(S.Schema):
    """An op set (``dasip/conf/ops/*.yaml``): the candidate ops and their hyperparameters, the
    fields of :class:`OpContext` that come from config."""

    name: str = S.key(rule=S.text())
    names: list[str] = S.key(rule=S.names(tuple(OPS)))
    width: int = S.key(rule=S.integer(min=1))
    kernel_size: int = S.key(rule=S.integer(min=1, odd=True))
    tau_init: float = S.key(rule=S.number())
    noise_std: float = S.key(rule=S.number(ge=0))
    #: the noise op's noise: outside (x - tau A^T(Ax-y) + sigma eps) or inside tau (...); the
    #: defaults of these two keys are also those of configs saved before they existed
    noise_placement: str = S.key("outside", S.choice(*NOISE_PLACEMENTS))
    #: the noise op draws noise when scoring too (from a fixed seed); false: a plain step then
    noise_at_eval: bool = True
    roll: RollConf = S.key()


S.store("ops", "base_ops", OpsConf)


def build_op(name: str, ctx: OpContext) -> Operation:
    check_op_names([name], key="op")
    return OPS[name](ctx)


__all__ = [
    "NOISE_PLACEMENTS",
    "OPS",
    "OpsConf",
    "ROLL_DIMS",
    "GradStep",
    "Net",
    "NoisyGradStep",
    "OpContext",
    "Operation",
    "Roll",
    "Zero",
    "build_op",
    "check_op_names",
    "conv_class",
    "norm_class",
]
