"""Search methods and baselines. A new method is one module with ``run(ctx) -> MethodResult``
and ``phases(cfg) -> list[Phase]``, plus one line in :data:`METHODS` and one
``dasip/conf/method/*.yaml``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from omegaconf import DictConfig
from torch import nn

from . import das, das_single, dncnn, fixed, ground_truth, random_sampling, random_search
from .base import PHASES, MethodResult, Phase, TrainedArchitecture, TrialContext


@dataclass(frozen=True)
class Method:
    """A method: what it runs, and the training phases it declares for a config."""

    run: Callable[[TrialContext], MethodResult]
    phases: Callable[[DictConfig], list[Phase]]
    #: for a method whose network is not an architecture of the search space (its record has
    #: no genotype): builds that network untrained, so a saved ``model.pt`` can load into it
    network: Callable[[TrialContext], nn.Module] | None = None
    #: checks of the method's own that need the built trial (e.g. that a table it reads
    #: exists); raises :class:`~dasip.config.ConfigError` before any work
    check: Callable[[TrialContext], None] | None = None


def _method(module) -> Method:
    return Method(
        run=module.run,
        phases=module.phases,
        network=getattr(module, "network", None),
        check=getattr(module, "check", None),
    )


METHODS: dict[str, Method] = {
    "das": _method(das),
    "das_single": _method(das_single),
    "dncnn": _method(dncnn),  # external reference baseline: a standard DnCNN, no search space
    "fixed": _method(fixed),
    "ground_truth": _method(ground_truth),  # every architecture of a chunk of the space
    "grad_only": _method(fixed),  # baseline "Learnable Grad. only": fixed with method.arch=grad*N
    "nets_only": _method(fixed),  # baseline "Nets only": fixed with method.arch=net*N
    "random_sampling": _method(random_sampling),
    "random_search": _method(random_search),
}

__all__ = [
    "METHODS",
    "PHASES",
    "Method",
    "MethodResult",
    "Phase",
    "TrainedArchitecture",
    "TrialContext",
]
