"""``roll`` (harmful): shifts the estimate along the batch and spatial dimensions."""

from __future__ import annotations

import torch

from .base import OpContext, Operation

ROLL_DIMS = ("batch_spatial", "spatial")


class Roll(Operation):
    """Rolls the input by ``roll_shift`` along every dimension named by ``roll_dims``.

    ``batch_spatial`` (default; docs/method.md, Operations): the batch dimension and every spatial dimension, so each
    sample receives a shifted copy of another sample's estimate. ``spatial``: the mild variant.
    A future engine that stacks several trials in one tensor must keep trials on their own axis:
    this op only ever rolls the batch axis of one trial.
    """

    def __init__(self, ctx: OpContext):
        super().__init__(ctx)
        if ctx.roll_dims not in ROLL_DIMS:
            raise ValueError(f"ops.roll.dims={ctx.roll_dims!r} is not one of {ROLL_DIMS}")
        self.shift = int(ctx.roll_shift)
        spatial = tuple(range(-ctx.spatial_dims, 0))
        self.dims = ((0,) if ctx.roll_dims == "batch_spatial" else ()) + spatial

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.roll(x, shifts=(self.shift,) * len(self.dims), dims=self.dims)

    def extra_repr(self) -> str:
        return f"shift={self.shift}, dims={self.dims}"
