"""``das``: DARTS search over the space, derive the argmax architecture, retrain it."""

from __future__ import annotations

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
    result, genotype = ctx.search_result(body, module, search_time, order=module.order)
    if not cfg.method.get("retrain", True):
        # one-shot only (the HPO objective one_shot_psnr): no architecture validation, no model
        result.status = "diverged" if result.extra.get("search_diverged") else "ok"
        return result
    return ctx.retrain(result, genotype)
