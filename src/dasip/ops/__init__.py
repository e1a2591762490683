"""Candidate operations and their registry.

A new op is one file with an :class:`Operation` subclass plus one line in :data:`OPS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

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


def build_op(name: str, ctx: OpContext) -> Operation:
    check_op_names([name], key="op")
    return OPS[name](ctx)


__all__ = [
    "NOISE_PLACEMENTS",
    "OPS",
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
