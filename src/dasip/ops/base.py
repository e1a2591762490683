"""What every candidate operation sees: the physics and the op hyperparameters."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..physics import LinearOperator


@dataclass
class OpContext:
    """Construction arguments shared by all ops of one network.

    ``operator`` is shared (not copied) between ops; it holds no learnable parameters.
    """

    operator: LinearOperator
    channels: int = 1
    spatial_dims: int = 1
    width: int = 32
    kernel_size: int = 3
    tau_init: float = 0.5
    noise_std: float = 0.10
    roll_dims: str = "batch_spatial"
    roll_shift: int = 1
    #: the noise op's noise: added after the step (``outside``) or inside ``tau (...)``
    noise_placement: str = "outside"
    #: whether the noise op draws noise in eval mode (scoring)
    noise_at_eval: bool = True
    #: the network's initial estimate ``x0``: ``adjoint`` (``A^T y``) or ``zero``
    initial: str = "adjoint"


class Operation(nn.Module):
    """One candidate operation: maps the estimate ``x`` (and the measurement ``y``) to a new
    estimate of the same shape."""

    def __init__(self, ctx: OpContext):
        super().__init__()
        # a plain attribute, not a submodule: the operator is shared and has no parameters
        object.__setattr__(self, "operator", ctx.operator)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError
