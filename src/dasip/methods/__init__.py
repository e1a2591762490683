"""Search methods and baselines. A new method is one module with ``run(ctx) -> MethodResult``
plus one line in :data:`METHODS` and one ``conf/method/*.yaml``."""

from __future__ import annotations

from collections.abc import Callable

from . import das, fixed
from .base import MethodResult, TrainedArchitecture, TrialContext

METHODS: dict[str, Callable[[TrialContext], MethodResult]] = {
    "das": das.run,
    "fixed": fixed.run,
}

__all__ = ["METHODS", "MethodResult", "TrainedArchitecture", "TrialContext"]
