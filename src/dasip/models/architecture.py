"""The derived network as a LightningModule, trained from scratch."""

from __future__ import annotations

import torch

from .base import InverseProblemModule
from .optim import HParams, param_lr_factor, weight_optimizer


class ArchitectureModule(InverseProblemModule):
    """Trains a fixed architecture with the preset's weight optimizer and warm-up."""

    def __init__(
        self,
        net: torch.nn.Module,
        hparams: HParams,
        steps_per_epoch: int,
        loss_reduction: str = "sum",
        data_range: float = 1.0,
        log_prefix: str = "retrain/",
        phase: str = "retrain",
        phase_index: int = 0,
    ):
        super().__init__(net, loss_reduction, data_range, log_prefix, phase, phase_index)
        self.hp = hparams
        self.steps_per_epoch = steps_per_epoch

    def configure_optimizers(self):
        opt = weight_optimizer(self.net.parameters(), self.hp)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: param_lr_factor(step, self.steps_per_epoch, self.hp)
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def training_step(self, batch, batch_idx: int):
        loss = self.loss(batch["train"])
        if not self.check_finite(loss):
            return None
        self.log(f"{self.log_prefix}train/loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        return loss
