"""DAS-single (docs/method.md, Methods): the supernet's ops carry frozen, pre-trained weights and only ``alpha``
is optimised (single level: no weight step)."""

from __future__ import annotations

import torch
from torch import nn

from .optim import alpha_frozen, alpha_lr_factor, alpha_optimizer, set_lr
from .supernet import SupernetModule


class FrozenOp(nn.Module):
    """A pre-trained op used as is: no gradients, and always in eval mode (its batch norm uses
    the pre-trained running statistics and never updates them), whatever mode the network
    around it is switched to. Its forward is exactly the wrapped op's forward in eval mode."""

    def __init__(self, op: nn.Module):
        super().__init__()
        self.op = op
        op.requires_grad_(False)
        op.eval()

    def train(self, mode: bool = True) -> FrozenOp:
        self.training = mode  # the wrapped op stays in eval mode
        return self

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.op(x, y)


class SingleLevelSupernetModule(SupernetModule):
    """Every step is one alpha step on a batch of the alpha stream; the weights never change.

    The preset's alpha optimizer, alpha warm-up and alpha scheduler apply as in DAS; the weight
    optimizer is not created at all.
    """

    def configure_optimizers(self):
        return alpha_optimizer(self.net.arch_parameters(), self.hp)

    def training_step(self, batch, batch_idx: int) -> None:
        if self.diverged:
            return
        opt_a = self.optimizers()
        if not alpha_frozen(self.current_epoch, self.hp):
            set_lr(
                opt_a,
                self.hp.alpha_lr * alpha_lr_factor(self.steps_done, self.total_steps, self.hp),
            )
            loss = self.alpha_step(batch["alpha"], batch["train"], opt_a)
            self.log(f"{self.log_prefix}train/alpha_loss", loss, on_step=False, on_epoch=True)
        self.steps_done += 1
