"""Loss and PSNR, shared by search, retraining and evaluation."""

from __future__ import annotations

import torch
from torchmetrics.functional.image import peak_signal_noise_ratio

LOSS_REDUCTIONS = ("sum", "mean")
#: the seed of the random draws (``noise`` op) made while scoring on the validation set
VALIDATION_SEED = 0


def reconstruction_loss(
    x_hat: torch.Tensor, x: torch.Tensor, reduction: str = "sum"
) -> torch.Tensor:
    """Squared error. ``sum``: summed over the signal, averaged over the batch (the default; docs/method.md, Search (DAS));
    ``mean``: averaged over all elements (the alpha gradients are then ``N`` times smaller)."""
    sq = (x_hat - x).pow(2)
    if reduction == "sum":
        return sq.flatten(1).sum(1).mean()
    if reduction == "mean":
        return sq.mean()
    raise ValueError(f"loss.reduction={reduction!r}; allowed: {', '.join(LOSS_REDUCTIONS)}")


#: per-signal peak conventions of ``psnr.data_range`` (besides a fixed number)
PSNR_PEAKS = ("max", "range")


def psnr_per_sample(
    x_hat: torch.Tensor, x: torch.Tensor, data_range: float | str = 1.0
) -> torch.Tensor:
    """``10 log10(R^2 / MSE_i)`` for every sample ``i`` of the batch, reduced over each sample's
    channels and spatial dimensions (docs/method.md, Problems). The peak ``R`` is a fixed number
    (torchmetrics' PSNR), or per signal: ``"max"``, ``max |x_i|``; ``"range"``,
    ``max x_i - min x_i``."""
    dims = tuple(range(1, x.dim()))
    if not isinstance(data_range, str):
        return peak_signal_noise_ratio(x_hat, x, data_range=data_range, reduction="none", dim=dims)
    if data_range == "max":
        peak = x.abs().amax(dim=dims)
    elif data_range == "range":
        peak = x.amax(dim=dims) - x.amin(dim=dims)
    else:
        raise ValueError(f"psnr.data_range={data_range!r}; allowed: a number > 0, max, range")
    mse = (x_hat - x).pow(2).mean(dim=dims)
    return 10 * torch.log10(peak.pow(2) / mse)


@torch.no_grad()
def evaluate_psnr(
    net: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 128,
    data_range: float | str = 1.0,
    seed: int | None = VALIDATION_SEED,
) -> float:
    """Mean per-sample PSNR of ``net(y)`` against ``x`` with ``net`` in eval mode.

    Ops that draw random numbers (``noise``) draw them from a generator seeded with ``seed``
    inside a forked RNG, so a score is reproducible and scoring leaves the caller's random
    stream untouched. The network's train/eval mode is restored afterwards.
    """
    was_training = net.training
    net.eval()
    try:
        with torch.random.fork_rng(enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            total = torch.zeros((), dtype=torch.float64)
            for i in range(0, len(x), batch_size):
                xb, yb = x[i : i + batch_size], y[i : i + batch_size]
                total += psnr_per_sample(net(yb), xb, data_range).double().sum()
        return float(total / len(x))
    finally:
        net.train(was_training)
