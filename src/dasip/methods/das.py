"""``das``: DARTS search over the space, derive the argmax architecture, retrain it."""

from __future__ import annotations

import math
import time

import pytorch_lightning as pl

from ..models import SupernetModule
from .base import MethodResult, TrialContext


def run(ctx: TrialContext) -> MethodResult:
    cfg = ctx.cfg
    epochs = int(cfg.epochs)
    pl.seed_everything(ctx.seed, workers=True, verbose=False)
    body = ctx.space.supernet(ctx.op_context(), ctx.op_names)
    module = SupernetModule(
        body,
        ctx.hparams,
        **ctx.search_module_kwargs(),
        order=int(cfg.method.get("order", 1)),
        xi=cfg.method.get("xi"),
        eps=float(cfg.method.get("eps", 0.01)),
    )
    start = time.perf_counter()
    ctx.trainer(epochs).fit(module, datamodule=ctx.datamodule(with_alpha_stream=True))
    search_time = time.perf_counter() - start
    one_shot = ctx.psnr(module.net)
    genotype = body.derive()
    result = MethodResult(
        genotype=str(genotype),
        one_shot_psnr=one_shot,
        search_time_s=search_time,
        search_epochs=epochs,
        alpha_probs=body.alpha_probs().tolist(),
        extra={
            "op_names": list(body.op_names),  # the alpha_probs columns (cell: + zero)
            "alpha_steps": module.alpha_steps,
            "order": module.order,
        },
    )
    if module.diverged or not math.isfinite(one_shot):
        # the supernet diverged; the argmax of its alphas is still an architecture to score
        result.extra["search_diverged"] = True
    if not cfg.method.get("retrain", True):
        # one-shot only (the HPO objective one_shot_psnr): no architecture validation, no model
        result.status = "diverged" if result.extra.get("search_diverged") else "ok"
        return result
    return ctx.retrain(result, genotype)
