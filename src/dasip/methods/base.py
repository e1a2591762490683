"""What a method declares (its phases) and returns (its result, its trained architectures).

What it receives is the trial's context, :class:`dasip.trial.TrialContext`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from ..models import ArchitectureModule

#: the phases a method may declare, in the order they run
PHASES = ("pretrain", "search", "candidates", "retrain")
#: what a phase's per-epoch validation PSNR estimates: the one-shot or the architecture PSNR
PHASE_REPORTS = ("one_shot_psnr", "arch_psnr")


@dataclass(frozen=True)
class Phase:
    """One training phase of a method, declared before it runs.

    ``fits`` trainings of ``epochs`` epochs each (random search: one per candidate); every
    LightningModule trained in it carries ``phase=name`` and ``phase_index`` (its fit number).
    ``reports`` says which record field the phase's per-epoch validation PSNR estimates
    (``None``: a phase off the study's budget axis, e.g. pre-training cached networks). The HPO
    step axis and the epoch counts read these declarations, never log-name strings.
    """

    name: str
    epochs: int
    fits: int = 1
    reports: str | None = None

    def __post_init__(self) -> None:
        if self.name not in PHASES:
            raise ValueError(f"phase {self.name!r}; allowed: {', '.join(PHASES)}")
        if self.reports is not None and self.reports not in PHASE_REPORTS:
            raise ValueError(f"phase reports {self.reports!r}; allowed: {PHASE_REPORTS}")


@dataclass
class MethodResult:
    """What a method found; the trial runner turns it into a record."""

    genotype: str | None = None
    one_shot_psnr: float | None = None
    arch_psnr: float | None = None
    status: str = "ok"
    search_time_s: float = 0.0
    train_time_s: float = 0.0
    search_epochs: int | None = None
    retrain_epochs: int | None = None
    alpha_probs: list[list[float]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: the final trained network (saved by the runner, not part of the record)
    network: torch.nn.Module | None = None


@dataclass
class TrainedArchitecture:
    genotype: Any
    psnr: float
    status: str
    seconds: float
    module: ArchitectureModule
