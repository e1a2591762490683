"""``grad``: learnable gradient descent layer."""

from __future__ import annotations

import torch
from torch import nn

from .base import OpContext, Operation
from .cnn import small_cnn


class GradStep(Operation):
    """``x - tau A^T (A x - y) - tau F(x; theta)`` with one learnable scalar ``tau``."""

    def __init__(self, ctx: OpContext):
        super().__init__(ctx)
        self.tau = nn.Parameter(torch.tensor(float(ctx.tau_init)))
        self.net = small_cnn(ctx.channels, ctx.width, ctx.kernel_size, ctx.spatial_dims)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x - self.tau * (self.operator.normal(x, y) + self.net(x))
