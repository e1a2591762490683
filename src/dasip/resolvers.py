"""OmegaConf resolvers the configs use, registered when :mod:`dasip` is imported."""

from __future__ import annotations

import math
from typing import Any

from omegaconf import OmegaConf


def grid_spacing(n: int) -> float:
    """The step of the signal grid: ``n`` points on ``[-pi/2, pi/2]``."""
    n = int(n)
    if n < 2:
        raise ValueError(f"data.n={n} must be >= 2")
    return math.pi / (n - 1)


def uniform_arch(op: str, space: Any) -> str:
    """The genotype string of the architecture with ``op`` everywhere in the space ``space`` (its
    config block): ``grad*10`` in the sequential space, ``grad*15/grad*15`` in the cell space
    (``method.arch`` of the baselines ``grad_only`` / ``nets_only``)."""
    from .spaces import build_space

    params = dict(
        OmegaConf.to_container(space, resolve=True) if OmegaConf.is_config(space) else space
    )
    return str(build_space(params.pop("name"), **params).uniform(str(op), key="method.arch"))


OmegaConf.register_new_resolver("dasip.grid_spacing", grid_spacing, replace=True)
OmegaConf.register_new_resolver("dasip.uniform_arch", uniform_arch, replace=True)
