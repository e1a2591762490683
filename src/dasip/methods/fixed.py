"""``fixed``: train one given architecture (``arch=...``) from scratch and score it.

The paper's baselines "Learnable Grad. only" (``arch=grad*10``) and "Nets only" (``net*10``)
are the presets ``method=grad_only`` and ``method=nets_only``: this method with the
architecture in ``method.arch``, under their own method names so a study keeps them apart.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from .. import config as C
from .base import MethodResult, TrialContext


def architecture(cfg: DictConfig) -> Any:
    """``arch=``, or a baseline preset's ``method.arch``."""
    arch = cfg.get("arch")
    return cfg.method.get("arch") if arch is None else arch


def run(ctx: TrialContext) -> MethodResult:
    arch = architecture(ctx.cfg)
    if arch is None:
        raise C.ConfigError(f"method={ctx.cfg.method.name} needs arch=..., e.g. arch=grad*10")
    genotype = ctx.space.parse(C.arch_value(arch))
    trained = ctx.train_architecture(genotype)
    return MethodResult(
        genotype=str(genotype),
        arch_psnr=trained.psnr,
        status=trained.status,
        train_time_s=trained.seconds,
        retrain_epochs=int(ctx.cfg.retrain_epochs),
        network=trained.module.net,
    )
