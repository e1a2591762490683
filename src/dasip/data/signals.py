"""On-the-fly 1D cosine signals (docs/method.md, Problems): no fixed training set, every batch
is new."""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import resolvers

#: stream ids: independent random streams derived from one seed
TRAIN_STREAM = 0
ALPHA_STREAM = 1
VAL_STREAM = 2


def make_generator(seed: int, stream: int) -> torch.Generator:
    """A torch generator for stream ``stream`` of ``seed``; streams never overlap."""
    state = np.random.SeedSequence([int(seed), int(stream)]).generate_state(2, dtype=np.uint32)
    g = torch.Generator()
    g.manual_seed(int(state[0]) << 32 | int(state[1]))
    return g


def signal_grid(n: int = 50) -> torch.Tensor:
    """``n`` equally spaced points ``w_i`` on ``[-pi/2, pi/2]``."""
    return torch.linspace(-math.pi / 2, math.pi / 2, n, dtype=torch.float64)


def grid_spacing(n: int = 50) -> float:
    """The step of the grid ``w`` of :func:`signal_grid` (also the configs' resolver)."""
    return resolvers.grid_spacing(n)


def cosine_signals(
    batch_size: int,
    n: int = 50,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``x_i = cos(f w_i + O_x) + O_y`` with ``f ~ U[0, 2 pi]``, ``O_x, O_y ~ N(0, 1)``.

    Returns a tensor of shape ``(batch_size, 1, n)``.
    """
    w = signal_grid(n)
    f = torch.rand(batch_size, 1, generator=generator, dtype=torch.float64) * 2 * math.pi
    ox = torch.randn(batch_size, 1, generator=generator, dtype=torch.float64)
    oy = torch.randn(batch_size, 1, generator=generator, dtype=torch.float64)
    x = torch.cos(f * w + ox) + oy
    return x.unsqueeze(1).to(dtype)
