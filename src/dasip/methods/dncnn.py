"""``dncnn``: a standard DnCNN (Zhang et al., "Beyond a Gaussian Denoiser", 2017) trained on
the trial's data, an external reference baseline outside the search space (docs/images.md).

Conv + ReLU, ``depth - 2`` times conv + batch norm + ReLU, conv; 3x3 kernels, ``width``
channels; residual learning: the network estimates what to remove from ``x0 = A^T y``, so
``x_hat = x0 - D(x0)``. With ``A = I`` this is DnCNN-S exactly; with a blur it is DnCNN applied
to the back-projected measurement. A user can check the data pipeline against the published
DnCNN-S figure on BSD68 (29.23 dB at sigma 25, 17 layers, 64 channels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from .. import schema as S
from ..ops import conv_class, norm_class
from ..physics import LinearOperator
from .base import MethodResult, Phase

if TYPE_CHECKING:
    from ..trial import TrialContext


class DnCNN(nn.Module):
    """``y -> x0 - D(x0)`` with ``x0 = A^T y`` and ``D`` the DnCNN of ``depth`` conv layers."""

    def __init__(self, operator: LinearOperator, depth: int = 17, width: int = 64):
        super().__init__()
        if depth < 2:
            raise ValueError(f"method.depth={depth} is not allowed; allowed: an integer >= 2")
        conv, norm = conv_class(operator.spatial_dims), norm_class(operator.spatial_dims)
        layers: list[nn.Module] = [conv(1, width, 3, padding=1), nn.ReLU()]
        for _ in range(depth - 2):
            layers += [conv(width, width, 3, padding=1, bias=False), norm(width), nn.ReLU()]
        layers.append(conv(width, 1, 3, padding=1))
        self.operator = operator
        self.residual = nn.Sequential(*layers)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        x0 = self.operator.adjoint(y)
        return x0 - self.residual(x0)


def phases(cfg) -> list[Phase]:
    """One training of the network: its validation PSNR is the architecture PSNR."""
    return [Phase("retrain", int(cfg.retrain_epochs), reports="arch_psnr")]


def network(ctx: TrialContext) -> DnCNN:
    """The untrained network of ``ctx``'s config (also what a saved ``model.pt`` loads into)."""
    conf: DncnnConf = ctx.method_conf
    return DnCNN(ctx.operator, conf.depth, conf.width)


def run(ctx: TrialContext) -> MethodResult:
    import pytorch_lightning as pl

    pl.seed_everything(ctx.seed, workers=True, verbose=False)
    depth, width = ctx.method_conf.depth, ctx.method_conf.width
    net = network(ctx)
    trained = ctx.train_network(net)
    return MethodResult(
        genotype=None,  # not an architecture of the search space
        arch_psnr=trained.psnr,
        status=trained.status,
        train_time_s=trained.seconds,
        retrain_epochs=int(ctx.cfg.retrain_epochs),
        extra={
            "network": "dncnn",
            "depth": depth,
            "width": width,
            "parameters": sum(p.numel() for p in net.parameters()),
        },
        network=trained.module.net,
    )


# -- schema: ``dasip/conf/method/dncnn.yaml`` --------------------------------------------------
@dataclass
class DncnnConf(S.Schema):
    """``method=dncnn``'s keys."""

    name: str = S.key("dncnn", S.text())
    depth: int = S.key(rule=S.integer(min=2))
    width: int = S.key(rule=S.integer(min=1))


S.store("method", "base_dncnn", DncnnConf)
