"""``noise`` (harmful): a gradient step plus fresh white Gaussian noise."""

from __future__ import annotations

import torch
from torch import nn

from .base import OpContext, Operation

#: where the noise op adds its noise (``ops.noise_placement``)
NOISE_PLACEMENTS = ("outside", "inside")


class NoisyGradStep(Operation):
    """``x - tau A^T (A x - y) + sigma_op eps`` (``noise_placement="outside"``, the default), or
    ``x - tau (A^T (A x - y) + sigma_op eps)`` (``"inside"``: the noise takes the place of the
    ``grad`` op's CNN and is scaled by ``tau``), ``eps ~ N(0, I)`` drawn anew every call. With
    ``noise_at_eval=False`` an op in eval mode (scoring) draws no noise and is a plain gradient
    step (docs/method.md, Operations)."""

    def __init__(self, ctx: OpContext):
        super().__init__(ctx)
        if ctx.noise_placement not in NOISE_PLACEMENTS:
            raise ValueError(
                f"ops.noise_placement={ctx.noise_placement!r}; allowed: {', '.join(NOISE_PLACEMENTS)}"
            )
        self.tau = nn.Parameter(torch.tensor(float(ctx.tau_init)))
        self.noise_std = float(ctx.noise_std)
        self.inside = ctx.noise_placement == "inside"
        self.at_eval = bool(ctx.noise_at_eval)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        step = self.operator.normal(x, y)
        if not (self.training or self.at_eval):
            return x - self.tau * step
        eps = self.noise_std * torch.randn_like(x)
        if self.inside:
            return x - self.tau * (step + eps)
        return x - self.tau * step + eps

    def extra_repr(self) -> str:
        where = "inside" if self.inside else "outside"
        return f"noise_std={self.noise_std}, placement={where}, at_eval={self.at_eval}"
