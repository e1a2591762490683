"""``net``: a 2-layer CNN, ``F(x; theta)``."""

from __future__ import annotations

import torch

from .base import OpContext, Operation
from .cnn import small_cnn


class Net(Operation):
    def __init__(self, ctx: OpContext):
        super().__init__(ctx)
        self.net = small_cnn(ctx.channels, ctx.width, ctx.kernel_size, ctx.spatial_dims)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(x)
