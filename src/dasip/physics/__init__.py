"""Forward operators ``A``, their exact adjoints ``A^T``, and measurement noise."""

from __future__ import annotations

import torch

from .base import INITIAL_ESTIMATES, LinearOperator
from .blur import (
    KERNEL_NORMALIZATIONS,
    PADDINGS,
    SIGMA_UNITS,
    Blur1d,
    Downsample1d,
    Identity,
    gaussian_kernel1d,
)
from .blur2d import Blur2d


def add_noise(
    y: torch.Tensor, std: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``y + n`` with ``n ~ N(0, std^2 I)``, drawn from ``generator`` when given."""
    if std == 0:
        return y
    n = torch.randn(y.shape, generator=generator, dtype=y.dtype, device=y.device)
    return y + std * n


__all__ = [
    "INITIAL_ESTIMATES",
    "KERNEL_NORMALIZATIONS",
    "PADDINGS",
    "SIGMA_UNITS",
    "Blur1d",
    "Blur2d",
    "Downsample1d",
    "Identity",
    "LinearOperator",
    "add_noise",
    "gaussian_kernel1d",
]
