"""Search methods and baselines. A new method is one module with ``run(ctx) -> MethodResult``
plus one line in :data:`METHODS` and one ``conf/method/*.yaml``."""

from __future__ import annotations

from collections.abc import Callable

from . import das, das_single, fixed, random_sampling, random_search
from .base import MethodResult, TrainedArchitecture, TrialContext

METHODS: dict[str, Callable[[TrialContext], MethodResult]] = {
    "das": das.run,
    "das_single": das_single.run,
    "fixed": fixed.run,
    "grad_only": fixed.run,  # baseline "Learnable Grad. only": fixed with method.arch=grad*N
    "nets_only": fixed.run,  # baseline "Nets only": fixed with method.arch=net*N
    "random_sampling": random_sampling.run,
    "random_search": random_search.run,
}

__all__ = ["METHODS", "MethodResult", "TrainedArchitecture", "TrialContext"]
