"""``fixed``: train one given architecture (``arch=...``) from scratch and score it.

The paper's baselines "Learnable Grad. only" (``arch=grad*10``) and "Nets only" (``net*10``)
are the presets ``method=grad_only`` and ``method=nets_only``: this method with the
architecture in ``method.arch``, under their own method names so a study keeps them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import schema as S
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


# -- schemas: ``dasip/conf/method/{fixed,grad_only,nets_only}.yaml`` ---------------------------
@dataclass
class FixedConf(S.Schema):
    """``method=fixed``'s keys: it trains ``arch=``."""

    name: str = S.key("fixed", S.text())
    requires_arch: bool = S.key()


@dataclass
class GradOnlyConf(S.Schema):
    """``method=grad_only``'s keys: the uniform architecture it trains."""

    name: str = S.key("grad_only", S.text())
    arch: Any = S.key(rule=S.ARCH)


@dataclass
class NetsOnlyConf(GradOnlyConf):
    """``method=nets_only``'s keys (as :class:`GradOnlyConf`)."""

    name: str = S.key("nets_only", S.text())


S.store("method", "base_fixed", FixedConf)
S.store("method", "base_grad_only", GradOnlyConf)
S.store("method", "base_nets_only", NetsOnlyConf)
