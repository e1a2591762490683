"""Hyperparameters of a search (docs/method.md, Hyperparameters) and the optimizers and schedules they define."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch

from .. import schema as S

ALPHA_OPTIMIZERS = ("adam", "gd")
#: the weight optimizer: Adam (dasip's reading of the paper), or SGD (momentum 0: plain GD)
PARAM_OPTIMIZERS = ("adam", "sgd")
ALPHA_SCHEDULERS = ("linear", "none")


@dataclass
class HParams(S.Schema):
    """One hyperparameter preset (``dasip/conf/hparams/*.yaml``), and their schema: the presets
    name ``base_hparams`` in their defaults."""

    name: str = S.key("H1", S.text())
    param_lr: float = S.key(1e-3, S.number(gt=0))
    param_weight_decay: float = S.key(1e-8, S.number(ge=0))
    param_warmup: bool = False
    param_optimizer: str = S.key("adam", S.choice(*PARAM_OPTIMIZERS))
    #: SGD's momentum (``param_optimizer: sgd``); 0 is plain gradient descent
    param_momentum: float = S.key(0.0, S.number(ge=0))
    alpha_lr: float = S.key(1e-3, S.number(gt=0))
    alpha_weight_decay: float = S.key(1e-3, S.number(ge=0))
    alpha_warmup: bool = True
    alpha_scheduler: str = S.key("linear", S.choice(*ALPHA_SCHEDULERS))
    alpha_optimizer: str = S.key("gd", S.choice(*ALPHA_OPTIMIZERS))
    #: epochs of the linear param lr warm-up and of the alpha freeze
    warmup_epochs: int = S.key(10, S.integer(min=0))

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> HParams:
        """The preset of a plain mapping (e.g. a record's config): its keys, checked."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(cfg) - known)
        if unknown:
            raise ValueError(f"hparams: unknown keys {unknown}; allowed: {sorted(known)}")
        return cls(**{k: v for k, v in cfg.items()})

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


S.store("hparams", "base_hparams", HParams)
