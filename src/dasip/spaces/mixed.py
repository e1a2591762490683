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


class AlphaSupernet(nn.Module):
    """A supernet body whose architecture parameters are one tensor ``alpha``; everything else
    is a weight. Spaces subclass it and add ``op_names``, ``alpha_probs()`` and ``derive()``."""

    alpha: nn.Parameter

    def arch_parameters(self) -> list[nn.Parameter]:
        return [self.alpha]

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if name != "alpha"]
