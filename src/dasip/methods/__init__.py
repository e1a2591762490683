"""Search methods and baselines. A new method is one module that satisfies :class:`Method`
(``run(ctx) -> MethodResult`` and ``phases(cfg) -> list[Phase]``), plus one line in
:data:`METHODS` and one ``dasip/conf/method/*.yaml``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from omegaconf import DictConfig
from torch import nn

from . import das, das_single, dncnn, fixed, ground_truth, random_sampling, random_search
from .base import PHASES, MethodResult, Phase, TrainedArchitecture

if TYPE_CHECKING:
    from ..trial import TrialContext


@runtime_checkable
class Method(Protocol):
    """What the trial layer needs of a method (a module of this package, or any object with
    these two functions); the trial runner calls nothing else.

    Two hooks are optional: ``network(ctx) -> nn.Module`` for a method whose network is not an
    architecture of the search space (so a saved ``model.pt`` can load into it), and
    ``check(ctx)``, the method's own checks of the built trial (raising
    :class:`~dasip.config.ConfigError` before any work)."""

    def run(self, ctx: TrialContext) -> MethodResult:
        """Run the method in the built trial ``ctx`` and return what it found. The method's own
        keys are ``ctx.method_conf``: an instance of its schema (e.g. ``DasConf``), checked."""
        ...

    def phases(self, cfg: DictConfig) -> list[Phase]:
        """The training phases the method declares for ``cfg``, before it runs."""
        ...


@dataclass(frozen=True)
class RegisteredMethod:
    """A method of :data:`METHODS`: its two functions and its optional hooks (``None`` where
    the method has none)."""

    run: Callable[[TrialContext], MethodResult]
    phases: Callable[[DictConfig], list[Phase]]
    #: for a method whose network is not an architecture of the search space (its record has
    #: no genotype): builds that network untrained, so a saved ``model.pt`` can load into it
    network: Callable[[TrialContext], nn.Module] | None = None
    #: checks of the method's own that need the built trial (e.g. that a table it reads
    #: exists); raises :class:`~dasip.config.ConfigError` before any work
    check: Callable[[TrialContext], None] | None = None


def register(method: Method) -> RegisteredMethod:
    """``method`` (a module, or any object satisfying :class:`Method`) as a registry entry."""
    if not isinstance(method, Method):
        raise TypeError(f"{method!r} is not a method: it needs run(ctx) and phases(cfg)")
    return RegisteredMethod(
        run=method.run,
        phases=method.phases,
        network=getattr(method, "network", None),
        check=getattr(method, "check", None),
    )


METHODS: dict[str, RegisteredMethod] = {
    "das": register(das),
    "das_single": register(das_single),
    "dncnn": register(dncnn),  # external reference baseline: a standard DnCNN, no search space
    "fixed": register(fixed),
    "ground_truth": register(ground_truth),  # every architecture of a chunk of the space
    "grad_only": register(fixed),  # baseline "Learnable Grad. only": fixed with method.arch=grad*N
    "nets_only": register(fixed),  # baseline "Nets only": fixed with method.arch=net*N
    "random_sampling": register(random_sampling),
    "random_search": register(random_search),
}

__all__ = [
    "METHODS",
    "PHASES",
    "Method",
    "MethodResult",
    "Phase",
    "RegisteredMethod",
    "TrainedArchitecture",
    "register",
]
