"""``zero`` (cell space): an absent edge."""

from __future__ import annotations

import torch

from .base import Operation


class Zero(Operation):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)
