"""Architectures drawn uniformly from a space, reproducibly from the trial's seed.

The draws come from their own random stream of the seed (``ARCH_STREAM``), independent of the
data streams and of the weight initialisation, so ``random_sampling`` with seed ``s`` trains
the first of the architectures that ``random_search`` with seed ``s`` draws.
"""

from __future__ import annotations

from typing import Any

from ..data import make_generator
from .base import TrialContext

#: stream id of the architecture draws (the data use 0: train, 1: alpha, 2: validation)
ARCH_STREAM = 3


def draw_architectures(ctx: TrialContext, k: int) -> list[Any]:
    """``k`` genotypes drawn uniformly (with replacement) from ``ctx.space`` over the trial's
    op set, via the space's own ``sample``: each draw is uniform over the space's genotypes."""
    generator = make_generator(ctx.seed, ARCH_STREAM)
    return [ctx.space.sample(ctx.op_names, generator) for _ in range(k)]
