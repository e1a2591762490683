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


class GlobalResidual(nn.Module):
    """Every network of every space: ``x0 = A^T y``, the space's layers or cells map ``x0`` (and
    ``y``) to ``x_L``, and ``x_hat = x0 + x_L`` (the global residual of DnCNN-like networks;
    docs/method.md, Search spaces). Subclasses set ``operator`` and implement :meth:`body`."""

    operator: nn.Module

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        x0 = self.operator.adjoint(y)
        return x0 + self.body(x0, y)

    def body(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


class AlphaSupernet(GlobalResidual):
    """A supernet body whose architecture parameters are one tensor ``alpha``; everything else
    is a weight. Spaces subclass it and add ``op_names``, ``alpha_probs()`` and ``derive()``."""

    alpha: nn.Parameter

    def arch_parameters(self) -> list[nn.Parameter]:
        return [self.alpha]

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if name != "alpha"]
