"""``das``: DARTS search over the space, derive the argmax architecture, retrain it; with
``method.variant``, one of the DARTS stabilizers (:mod:`dasip.models.variants`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytorch_lightning as pl

from .. import schema as S
from ..models import SupernetModule
from ..models.variants import SECOND_ORDER_VARIANTS, Variant
from .base import MethodResult, Phase

if TYPE_CHECKING:
    from ..trial import TrialContext


def phases(cfg) -> list[Phase]:
    """The search (its supernet PSNR estimates the one-shot PSNR), then the retraining of the
    derived architecture unless ``method.retrain=false``."""
    out = [Phase("search", int(cfg.epochs), reports="one_shot_psnr")]
    if cfg.method.retrain:
        out.append(Phase("retrain", int(cfg.retrain_epochs), reports="arch_psnr"))
    return out


def run(ctx: TrialContext) -> MethodResult:
    cfg = ctx.cfg
    conf: DasConf = ctx.method_conf
    epochs = int(cfg.epochs)
    pl.seed_everything(ctx.seed, workers=True, verbose=False)
    body = ctx.space.supernet(ctx.op_context(), ctx.op_names)
    variant = Variant.from_config(vars(conf))
    hessian_batch = None
    if variant.tracks_hessian:  # a fixed slice of the validation set, the same every epoch
        x, y = ctx.validation_set()
        n = int(cfg.data.batch_size)
        hessian_batch = (x[:n], y[:n])
    module = SupernetModule(
        body,
        ctx.hparams,
        **ctx.search_module_kwargs(),
        order=conf.order,
        xi=conf.xi,
        eps=conf.eps,
        variant=variant,
        hessian_batch=hessian_batch,
    )
    start = time.perf_counter()
    ctx.fit(module, epochs)
    search_time = time.perf_counter() - start
    result, genotype = ctx.search_result(
        body, module, search_time, order=module.order, **module.search_extra()
    )
    if conf.rank_space:  # every architecture scored by the supernet (no training)
        from ..ground_truth.oneshot import rank_space

        result.extra.update(rank_space(ctx, body))
    if not conf.retrain:
        # one-shot only (the HPO objective one_shot_psnr): no architecture validation, no model
        result.status = "diverged" if result.extra.get("search_diverged") else "ok"
        return result
    return ctx.retrain(result, genotype)


# -- schema: ``dasip/conf/method/das.yaml`` ----------------------------------------------------
@dataclass
class DasConf(S.Schema):
    """``method=das``'s keys. The variant's name and the GDAS temperatures' order are checked by
    :class:`~dasip.models.variants.Variant`, which reads them."""

    name: str = S.key("das", S.text())
    order: int = S.key(rule=S.choice(1, 2))
    xi: float | None = S.key(rule=S.number(gt=0, nullable=True))
    eps: float = S.key(rule=S.number(gt=0))
    log_alphas: bool = S.key()
    retrain: bool = S.key()
    rank_space: bool = S.key()
    variant: str = S.key()
    hessian: bool = S.key()
    hessian_iters: int = S.key(rule=S.integer(min=1))
    es_window: int = S.key(rule=S.integer(min=1))
    es_ratio: float = S.key(rule=S.number(gt=1))
    sdarts_epsilon: float = S.key(rule=S.number(gt=0))
    fair_zero_one_weight: float = S.key(rule=S.number(ge=0))
    fair_threshold: float = S.key(rule=S.number(gt=0, lt=1))
    gdas_tau_max: float = S.key(rule=S.number(gt=0))
    gdas_tau_min: float = S.key(rule=S.number(gt=0))

    def check(self) -> None:
        try:
            Variant.from_config(vars(self))
        except ValueError as e:
            raise S.SchemaError(str(e)) from None
        if self.order == 2 and self.variant not in SECOND_ORDER_VARIANTS:
            raise S.SchemaError(
                f"{{p}}variant={self.variant!r} is not allowed with {{p}}order=2; allowed: "
                f"{', '.join(SECOND_ORDER_VARIANTS)} (or {{p}}order=1)"
            )


S.store("method", "base_das", DasConf)
