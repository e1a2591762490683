"""Forward operators ``A``, their exact adjoints ``A^T``, and measurement noise."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from .base import LinearOperator
from .blur import Blur1d, Downsample1d, Identity, gaussian_kernel1d

OPERATORS: dict[str, Callable[..., LinearOperator]] = {
    "blur": Blur1d,
    "downsampling": Downsample1d,
    "identity": Identity,
}


def build_operator(name: str, **kwargs: Any) -> LinearOperator:
    """Build an operator from its registry name and keyword arguments."""
    if name not in OPERATORS:
        raise ValueError(f"unknown operator {name!r}; allowed: {', '.join(sorted(OPERATORS))}")
    return OPERATORS[name](**kwargs)


def build_operator_from_config(
    cfg: Mapping[str, Any], signal_length: int, spacing: float
) -> LinearOperator:
    """Build the operator of a ``data`` config (its ``operator`` block).

    ``spacing`` (the grid step of the signal) is filled in unless the block sets it, so that the
    blur width ``sigma`` is in units of the signal's grid variable (SPEC 1).
    """
    params = {k: v for k, v in dict(cfg).items() if v is not None}
    name = params.pop("name")
    if name in ("blur", "downsampling"):
        params.setdefault("spacing", spacing)
    if name == "downsampling":
        params.setdefault("signal_length", signal_length)
    return build_operator(name, **params)


def add_noise(
    y: torch.Tensor, std: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``y + n`` with ``n ~ N(0, std^2 I)``, drawn from ``generator`` when given."""
    if std == 0:
        return y
    n = torch.randn(y.shape, generator=generator, dtype=y.dtype, device=y.device)
    return y + std * n


__all__ = [
    "OPERATORS",
    "Blur1d",
    "Downsample1d",
    "Identity",
    "LinearOperator",
    "add_noise",
    "build_operator",
    "build_operator_from_config",
    "gaussian_kernel1d",
]
