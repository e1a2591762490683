"""Does the supernet rank architectures? Score every architecture of the space with a trained
supernet's shared weights, no retraining: its alphas fixed to the architecture's one-hot path,
scored like the one-shot PSNR (the validation set, :meth:`TrialContext.psnr`). Compared with the
ground-truth table by :func:`dasip.ground_truth.rank_agreement`."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import torch

log = logging.getLogger(__name__)

#: the alpha of a path's op (its negative for the others): softmax and sigmoid of +-1e4 are
#: exactly 1 and 0 in float32, so every mixing (softmax, Fair DARTS, GDAS) weights the path alone
ONE_HOT = 1e4


def one_hot_alpha(body: Any, genotype: Any) -> torch.Tensor:
    """The alphas of ``body`` (a sequential supernet) that select ``genotype``'s op in every
    layer: ``+ONE_HOT`` there, ``-ONE_HOT`` elsewhere."""
    index = {name: i for i, name in enumerate(body.op_names)}
    alpha = torch.full_like(body.alpha, -ONE_HOT)
    for layer, op in enumerate(genotype.ops):
        alpha[layer, index[op]] = ONE_HOT
    return alpha


def one_shot_scores(
    ctx: Any, body: Any, genotypes: Iterable[Any] | None = None
) -> dict[str, float]:
    """The PSNR of every architecture (``genotypes``, default the whole space over the trial's op
    set) evaluated with ``body``'s shared weights on its one-hot path, by genotype string. The
    supernet's alphas are restored afterwards."""
    genotypes = list(ctx.space.genotypes(ctx.op_names) if genotypes is None else genotypes)
    saved = body.alpha.detach().clone()
    scores: dict[str, float] = {}
    start = time.perf_counter()
    try:
        for i, genotype in enumerate(genotypes):
            with torch.no_grad():
                body.alpha.copy_(one_hot_alpha(body, genotype))
            scores[str(genotype)] = ctx.psnr(body)
            if (i + 1) % 128 == 0 or i + 1 == len(genotypes):
                print(
                    f"[dasip] one-shot scores {i + 1}/{len(genotypes)} "
                    f"({time.perf_counter() - start:.0f}s)",
                    flush=True,
                )
    finally:
        with torch.no_grad():
            body.alpha.copy_(saved)
    return scores


def rank_space(ctx: Any, body: Any) -> dict[str, Any]:
    """The record's ``extra`` of ``method.rank_space=true``: the one-shot score of every
    architecture and, where the ground-truth table of the trial's config exists, their
    agreement with it (else why not)."""
    from omegaconf import OmegaConf

    from . import GroundTruthError, rank_agreement, table_for_config

    start = time.perf_counter()
    scores = one_shot_scores(ctx, body)
    out: dict[str, Any] = {
        "one_shot_scores": scores,
        "one_shot_scores_time_s": time.perf_counter() - start,
    }
    try:
        table = table_for_config(OmegaConf.to_container(ctx.cfg, resolve=True))
    except GroundTruthError as e:
        out["ground_truth_rank"] = {"error": str(e).splitlines()[0]}
        return out
    out["ground_truth_rank"] = {"table": table.attrs["path"], **rank_agreement(scores, table)}
    return out
