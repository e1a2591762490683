"""How a trial scores a network: its PSNR on the study's fixed validation set."""

from __future__ import annotations

import torch

from ..metrics import evaluate_psnr


def validation_psnr(
    net: torch.nn.Module,
    validation_set: tuple[torch.Tensor, torch.Tensor],
    device: torch.device,
    batch_size: int,
    data_range: str | float,
) -> float:
    """Mean per-sample PSNR of ``net`` on ``validation_set`` (``x, y``), computed on ``device``
    in batches of ``batch_size`` under the ``psnr.data_range`` convention. ``net`` moves to
    ``device``; the validation tensors are copied there, the data's own stay where they are."""
    x, y = validation_set
    net = net.to(device)
    return evaluate_psnr(net, x.to(device), y.to(device), batch_size, data_range)
