"""The DARTS mixed operation: a softmax-weighted sum of all candidates."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from ..ops import Operation


class MixedOp(nn.Module):
    """``o(x) = sum_t w_t o_t(x)``; the weights ``w`` are passed in (the space owns alpha)."""

    def __init__(self, ops: Iterable[Operation]):
        super().__init__()
        self.ops = nn.ModuleList(ops)

    def forward(self, x: torch.Tensor, y: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        out = torch.stack([op(x, y) for op in self.ops])
        return (weights.view(-1, *([1] * x.dim())) * out).sum(0)
