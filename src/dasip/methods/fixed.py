"""``fixed``: train one given architecture (``arch=...``) from scratch and score it.

The paper's baselines "Learnable Grad. only" (``arch=grad*10``) and "Nets only" (``net*10``).
"""

from __future__ import annotations

from .. import config as C
from .base import MethodResult, TrialContext


def run(ctx: TrialContext) -> MethodResult:
    arch = ctx.cfg.get("arch")
    if arch is None:
        raise C.ConfigError("method=fixed needs arch=..., e.g. arch=grad*10")
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
