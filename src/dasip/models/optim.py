"""Hyperparameters of a search (docs/method.md, Hyperparameters) and the optimizers and schedules they define."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch

ALPHA_OPTIMIZERS = ("adam", "gd")
#: the weight optimizer: Adam (dasip's reading of the paper), or SGD (momentum 0: plain GD)
PARAM_OPTIMIZERS = ("adam", "sgd")
ALPHA_SCHEDULERS = ("linear", "none")


@dataclass(frozen=True)
class HParams:
    """One hyperparameter preset (``dasip/conf/hparams/*.yaml``)."""

    name: str = "H1"
    param_lr: float = 1e-3
    param_weight_decay: float = 1e-8
    param_warmup: bool = False
    param_optimizer: str = "adam"
    #: SGD's momentum (``param_optimizer: sgd``); 0 is plain gradient descent
    param_momentum: float = 0.0
    alpha_lr: float = 1e-3
    alpha_weight_decay: float = 1e-3
    alpha_warmup: bool = True
    alpha_scheduler: str = "linear"
    alpha_optimizer: str = "gd"
    #: epochs of the linear param lr warm-up and of the alpha freeze
    warmup_epochs: int = 10

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> HParams:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(cfg) - known)
        if unknown:
            raise ValueError(f"hparams: unknown keys {unknown}; allowed: {sorted(known)}")
        hp = cls(**{k: v for k, v in cfg.items()})
        hp.validate()
        return hp

    def validate(self) -> None:
        for key in ("param_lr", "alpha_lr"):
            v = getattr(self, key)
            if not v > 0:
                raise ValueError(f"hparams.{key}={v} must be a positive learning rate")
        for key in ("param_weight_decay", "alpha_weight_decay"):
            v = getattr(self, key)
            if not v >= 0:
                raise ValueError(f"hparams.{key}={v} must be >= 0")
        if str(self.param_optimizer).lower() not in PARAM_OPTIMIZERS:
            raise ValueError(
                f"hparams.param_optimizer={self.param_optimizer!r}; allowed: "
                f"{', '.join(PARAM_OPTIMIZERS)}"
            )
        if not self.param_momentum >= 0:
            raise ValueError(f"hparams.param_momentum={self.param_momentum} must be >= 0")
        if str(self.alpha_optimizer).lower() not in ALPHA_OPTIMIZERS:
            raise ValueError(
                f"hparams.alpha_optimizer={self.alpha_optimizer!r}; allowed: "
                f"{', '.join(ALPHA_OPTIMIZERS)}"
            )
        if str(self.alpha_scheduler).lower() not in ALPHA_SCHEDULERS:
            raise ValueError(
                f"hparams.alpha_scheduler={self.alpha_scheduler!r}; allowed: "
                f"{', '.join(ALPHA_SCHEDULERS)}"
            )
        if self.warmup_epochs < 0:
            raise ValueError(f"hparams.warmup_epochs={self.warmup_epochs} must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def weight_optimizer(params: Iterable[torch.nn.Parameter], hp: HParams) -> torch.optim.Optimizer:
    """The network weights' optimizer, with L2 weight decay: Adam (a choice, docs/method.md,
    Hyperparameters) or SGD with ``param_momentum`` (0: plain gradient descent)."""
    if hp.param_optimizer.lower() == "sgd":
        return torch.optim.SGD(
            params, lr=hp.param_lr, momentum=hp.param_momentum, weight_decay=hp.param_weight_decay
        )
    return torch.optim.Adam(params, lr=hp.param_lr, weight_decay=hp.param_weight_decay)


def alpha_optimizer(params: Iterable[torch.nn.Parameter], hp: HParams) -> torch.optim.Optimizer:
    """Adam (DARTS betas) or GD = plain SGD without momentum."""
    if hp.alpha_optimizer.lower() == "adam":
        return torch.optim.Adam(
            params, lr=hp.alpha_lr, betas=(0.5, 0.999), weight_decay=hp.alpha_weight_decay
        )
    return torch.optim.SGD(params, lr=hp.alpha_lr, momentum=0.0, weight_decay=hp.alpha_weight_decay)


def param_lr_factor(step: int, steps_per_epoch: int, hp: HParams) -> float:
    """Linear warm-up over the first ``warmup_epochs`` epochs when ``param_warmup``."""
    if not hp.param_warmup or hp.warmup_epochs == 0:
        return 1.0
    warm = hp.warmup_epochs * steps_per_epoch
    return min(1.0, (step + 1) / warm)


def alpha_lr_factor(step: int, total_steps: int, hp: HParams) -> float:
    """Linear decay from 1 at the first step to 0 at the end of training (``linear``)."""
    if hp.alpha_scheduler.lower() == "none":
        return 1.0
    return max(0.0, 1.0 - step / max(1, total_steps))


def alpha_frozen(epoch: int, hp: HParams) -> bool:
    """Alpha warm-up: ``alpha`` is not updated during the first ``warmup_epochs`` epochs."""
    return hp.alpha_warmup and epoch < hp.warmup_epochs


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
