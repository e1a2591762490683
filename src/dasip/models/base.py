"""What the search and the retraining LightningModules share: validation PSNR and divergence."""

from __future__ import annotations

import math
from typing import Any

import pytorch_lightning as pl
import torch

from ..checkpoints import set_torch_rng_state, torch_rng_state
from ..metrics import VALIDATION_SEED, psnr_per_sample, reconstruction_loss


class InverseProblemModule(pl.LightningModule):
    """Holds a network ``net: y -> x_hat`` and scores it by mean per-sample PSNR.

    A non-finite training loss marks the run ``diverged`` and stops training; the caller still
    writes the trial's record.
    """

    def __init__(
        self,
        net: torch.nn.Module,
        loss_reduction: str = "sum",
        data_range: float = 1.0,
        log_prefix: str = "",
        phase: str = "",
        phase_index: int = 0,
    ):
        super().__init__()
        self.log_prefix = log_prefix
        #: the method's phase this module is trained in (``search``, ``retrain``, ...) and the
        #: fit's number within it: what the HPO step axis and logging read
        self.phase = phase
        self.phase_index = phase_index
        self.net = net
        self.loss_reduction = loss_reduction
        self.data_range = data_range
        self.diverged = False
        self.last_val_psnr = math.nan
        self._psnr_sum = torch.zeros((), dtype=torch.float64)
        self._psnr_count = 0

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.net(y)

    # -- what a checkpoint keeps beyond the weights, optimizers and loop (dasip.checkpoints) ----
    def resume_state(self) -> dict[str, Any]:
        """The module's own counters and flags that a resumed fit needs."""
        return {"diverged": self.diverged, "last_val_psnr": self.last_val_psnr}

    def load_resume_state(self, state: dict[str, Any]) -> None:
        self.diverged = bool(state["diverged"])
        self.last_val_psnr = float(state["last_val_psnr"])

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["dasip_module"] = self.resume_state()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if "dasip_module" in checkpoint:
            self.load_resume_state(checkpoint["dasip_module"])

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        return reconstruction_loss(self.net(y), x, self.loss_reduction)

    def check_finite(self, loss: torch.Tensor) -> bool:
        if torch.isfinite(loss):
            return True
        self.diverged = True
        self.trainer.should_stop = True
        return False

    def on_validation_epoch_start(self) -> None:
        self._psnr_sum = torch.zeros((), dtype=torch.float64)
        self._psnr_count = 0
        # score as evaluate_psnr does: ops that draw noise draw it from a generator seeded with
        # 0, and training's random streams (CPU and, where used, CUDA) continue untouched after
        # validation
        self._rng_state = torch_rng_state()
        torch.manual_seed(VALIDATION_SEED)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        psnr = psnr_per_sample(self.net(y), x, self.data_range)
        self._psnr_sum = self._psnr_sum + psnr.double().sum().cpu()  # cpu: float64 sum
        self._psnr_count += len(x)

    def on_validation_epoch_end(self) -> None:
        if getattr(self, "_rng_state", None) is not None:
            set_torch_rng_state(self._rng_state)
            self._rng_state = None
        if self._psnr_count == 0:
            return
        self.last_val_psnr = float(self._psnr_sum / self._psnr_count)
        self.log(f"{self.log_prefix}val/psnr", self.last_val_psnr, prog_bar=True)
