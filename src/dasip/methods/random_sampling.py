"""``random_sampling``: one architecture drawn uniformly from the op set (seeded), trained from
scratch with the architecture-validation protocol. No search, so no one-shot PSNR."""

from __future__ import annotations

import time

from .base import MethodResult, Phase, TrialContext
from .sampling import draw_architectures


def phases(cfg) -> list[Phase]:
    """One training of the architecture: its validation PSNR is the architecture PSNR."""
    return [Phase("retrain", int(cfg.retrain_epochs), reports="arch_psnr")]


def run(ctx: TrialContext) -> MethodResult:
    start = time.perf_counter()
    (genotype,) = draw_architectures(ctx, 1)
    draw_time = time.perf_counter() - start
    trained = ctx.train_architecture(genotype)
    return MethodResult(
        genotype=str(genotype),
        arch_psnr=trained.psnr,
        status=trained.status,
        search_time_s=draw_time,
        train_time_s=trained.seconds,
        retrain_epochs=int(ctx.cfg.retrain_epochs),
        extra={"op_names": list(ctx.op_names)},
        network=trained.module.net,
    )
