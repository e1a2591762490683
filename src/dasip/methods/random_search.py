"""``random_search``: draw ``k`` architectures (``method.k``, default 5), train each from scratch
with the architecture-validation protocol, keep the best by validation PSNR.

The record's ``extra.candidates`` lists all ``k`` (genotype, PSNR, status, seconds) in draw
order and ``extra.best_index`` the one kept. With ``method.score=table`` the candidates' PSNRs
are read from the ground-truth table (:func:`~dasip.methods.sampling.score_architecture`).
Time: the kept candidate's training is the training time, the other ``k - 1`` trainings are
the search time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import schema as S
from .base import MethodResult, Phase, TrainedArchitecture
from .sampling import SCORES, check_score, draw_architectures, lookup_extra, score_architecture

if TYPE_CHECKING:
    from ..trial import TrialContext

check = check_score


def phases(cfg) -> list[Phase]:
    """``k`` candidate trainings; each one's validation PSNR is an architecture PSNR (none with
    ``method.score=table``: lookups)."""
    if cfg.method.get("score") == "table":
        return []
    return [
        Phase("candidates", int(cfg.retrain_epochs), fits=int(cfg.method.k), reports="arch_psnr")
    ]


def best_index(candidates: list[TrainedArchitecture]) -> int | None:
    """The candidate with the highest finite PSNR, preferring ``ok`` over ``diverged`` runs;
    the first one on ties; ``None`` when no PSNR is finite."""
    scored = [
        (c.status == "ok", c.psnr, -i)
        for i, c in enumerate(candidates)
        if c.psnr is not None and math.isfinite(c.psnr)
    ]
    return -max(scored)[2] if scored else None


def run(ctx: TrialContext) -> MethodResult:
    conf: RandomSearchConf = ctx.method_conf
    k = conf.k
    start = time.perf_counter()
    genotypes = draw_architectures(ctx, k)
    draw_time = time.perf_counter() - start
    trained: list[TrainedArchitecture] = []
    for i, genotype in enumerate(genotypes):
        trained.append(
            score_architecture(
                ctx, genotype, log_prefix=f"candidate/{i}/", phase="candidates", phase_index=i
            )
        )
    candidates = [
        {"genotype": str(t.genotype), "arch_psnr": t.psnr, "status": t.status, "seconds": t.seconds}
        for t in trained
    ]
    best = best_index(trained)
    extra = {
        "op_names": list(ctx.op_names), "k": k, "candidates": candidates, "best_index": best,
        **lookup_extra(ctx),
    }  # fmt: skip
    total = sum(t.seconds for t in trained)
    if best is None:  # every candidate diverged
        return MethodResult(
            status="diverged",
            search_time_s=draw_time + total,
            retrain_epochs=int(ctx.cfg.retrain_epochs),
            extra=extra,
        )
    kept = trained[best]
    return MethodResult(
        genotype=str(kept.genotype),
        arch_psnr=kept.psnr,
        status=kept.status,
        search_time_s=draw_time + total - kept.seconds,
        train_time_s=kept.seconds,
        retrain_epochs=int(ctx.cfg.retrain_epochs),
        extra=extra,
        network=None if kept.module is None else kept.module.net,
    )


# -- schema: ``dasip/conf/method/random_search.yaml`` -------------------------------------------------
@dataclass
class RandomSearchConf(S.Schema):
    """``method=random_search``'s keys (how many architectures, how the drawn architectures are scored)."""

    name: str = S.key("random_search", S.text())
    k: int = S.key(rule=S.integer(min=1))
    score: str = S.key(rule=SCORES)
    table: str | None = S.key(rule=S.text(nullable=True))


S.store("method", "base_random_search", RandomSearchConf)
