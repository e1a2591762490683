"""``roll`` (harmful): shifts the estimate along the batch and spatial dimensions."""

from __future__ import annotations

import torch

from .base import OpContext, Operation

ROLL_DIMS = ("batch_spatial", "spatial", "flat")


class Roll(Operation):
    """Rolls the input by ``roll_shift`` along every dimension named by ``roll_dims``.

    ``batch_spatial`` (default; docs/method.md, Operations): the batch dimension and every spatial dimension, so each
    sample receives a shifted copy of another sample's estimate. ``spatial``: the mild variant.
    ``flat``: the tensor rolled as one flat sequence (``torch.roll`` without ``dims``): each
    sample moves by ``roll_shift`` samples and the last of each signal wraps into the next.
    A future engine that stacks several trials in one tensor must keep trials on their own axis:
    this op only ever rolls the batch axis of one trial.
    """

    def __init__(self, ctx: OpContext):
        super().__init__(ctx)
        if ctx.roll_dims not in ROLL_DIMS:
            raise ValueError(f"ops.roll.dims={ctx.roll_dims!r} is not one of {ROLL_DIMS}")
        self.shift = int(ctx.roll_shift)
        spatial = tuple(range(-ctx.spatial_dims, 0))
        self.flat = ctx.roll_dims == "flat"
        self.dims = (
            () if self.flat else ((0,) if ctx.roll_dims == "batch_spatial" else ()) + spatial
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.flat:
            return torch.roll(x, shifts=self.shift)
        return torch.roll(x, shifts=(self.shift,) * len(self.dims), dims=self.dims)

    def extra_repr(self) -> str:
        return f"shift={self.shift}, dims={'flat' if self.flat else self.dims}"
