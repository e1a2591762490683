"""``fixed``: train one given architecture (``arch=...``) from scratch and score it.

The paper's baselines "Learnable Grad. only" (``arch=grad*10``) and "Nets only" (``net*10``)
are the presets ``method=grad_only`` and ``method=nets_only``: this method with the
architecture in ``method.arch``, under their own method names so a study keeps them apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import MethodResult, Phase

if TYPE_CHECKING:
    from ..trial import TrialContext


def phases(cfg) -> list[Phase]:
    """One training of the architecture: its validation PSNR is the architecture PSNR."""
    return [Phase("retrain", int(cfg.retrain_epochs), reports="arch_psnr")]


def run(ctx: TrialContext) -> MethodResult:
    # ``arch=``, or a baseline preset's ``method.arch``: parsed (and required) when the trial
    # was built
    genotype = ctx.arch
    trained = ctx.train_architecture(genotype)
    return MethodResult(
        genotype=str(genotype),
        arch_psnr=trained.psnr,
        status=trained.status,
        train_time_s=trained.seconds,
        retrain_epochs=int(ctx.cfg.retrain_epochs),
        network=trained.module.net,
    )
