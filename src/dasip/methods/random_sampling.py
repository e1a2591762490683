"""``random_sampling``: one architecture drawn uniformly from the op set (seeded), trained from
scratch with the architecture-validation protocol (``method.score=table``: its PSNR read from
the ground-truth table instead). No search, so no one-shot PSNR."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import schema as S
from .base import MethodResult, Phase
from .sampling import SCORES, check_score, draw_architectures, lookup_extra, score_architecture

if TYPE_CHECKING:
    from ..trial import TrialContext

check = check_score


def phases(cfg) -> list[Phase]:
    """One training of the architecture: its validation PSNR is the architecture PSNR (none
    with ``method.score=table``: a lookup)."""
    if cfg.method.get("score") == "table":
        return []
    return [Phase("retrain", int(cfg.retrain_epochs), reports="arch_psnr")]


def run(ctx: TrialContext) -> MethodResult:
    start = time.perf_counter()
    (genotype,) = draw_architectures(ctx, 1)
    draw_time = time.perf_counter() - start
    trained = score_architecture(ctx, genotype)
    return MethodResult(
        genotype=str(genotype),
        arch_psnr=trained.psnr,
        status=trained.status,
        search_time_s=draw_time,
        train_time_s=trained.seconds,
        retrain_epochs=int(ctx.cfg.retrain_epochs),
        extra={"op_names": list(ctx.op_names), **lookup_extra(ctx)},
        network=None if trained.module is None else trained.module.net,
    )


# -- schema: ``dasip/conf/method/random_sampling.yaml`` -------------------------------------------------
@dataclass
class RandomSamplingConf(S.Schema):
    """``method=random_sampling``'s keys (how the drawn architectures are scored)."""

    name: str = S.key("random_sampling", S.text())
    score: str = S.key(rule=SCORES)
    table: str | None = S.key(rule=S.text(nullable=True))


S.store("method", "base_random_sampling", RandomSamplingConf)
