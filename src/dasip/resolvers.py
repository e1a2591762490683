"""OmegaConf resolvers the configs use, registered when :mod:`dasip` is imported."""

from __future__ import annotations

import math

from omegaconf import OmegaConf


def grid_spacing(n: int) -> float:
    """The step of the signal grid: ``n`` points on ``[-pi/2, pi/2]``."""
    n = int(n)
    if n < 2:
        raise ValueError(f"data.n={n} must be >= 2")
    return math.pi / (n - 1)


OmegaConf.register_new_resolver("dasip.grid_spacing", grid_spacing, replace=True)
