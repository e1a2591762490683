"""``noise`` (harmful): a gradient step plus fresh white Gaussian noise."""

from __future__ import annotations

import torch
from torch import nn

from .base import OpContext, Operation


class NoisyGradStep(Operation):
    """``x - tau A^T (A x - y) + sigma_op eps``, ``eps ~ N(0, I)`` drawn anew every call."""

    def __init__(self, ctx: OpContext):
        super().__init__(ctx)
        self.tau = nn.Parameter(torch.tensor(float(ctx.tau_init)))
        self.noise_std = float(ctx.noise_std)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x - self.tau * self.operator.normal(x, y) + self.noise_std * torch.randn_like(x)

    def extra_repr(self) -> str:
        return f"noise_std={self.noise_std}"
