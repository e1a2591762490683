"""The picture of an image trial: a few validation images as ground truth, measurement
``A^T y`` and reconstruction, each with its PSNR (docs/images.md)."""

from __future__ import annotations

from pathlib import Path

import torch

from ..metrics import VALIDATION_SEED, psnr_per_sample

PICTURE_FILE = "val_images.png"


@torch.no_grad()
def reconstruct(net: torch.nn.Module, y: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """``net(y)`` in eval mode on ``device``, its random draws seeded as in scoring."""
    was_training = net.training
    net.eval()
    try:
        with torch.random.fork_rng():
            torch.manual_seed(VALIDATION_SEED)
            return net.to(device)(y.to(device)).to(y.device)
    finally:
        net.train(was_training)


def validation_picture(
    net: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    operator: torch.nn.Module,
    path: str | Path,
    device: torch.device | str,
    data_range: float | str = 1.0,
) -> Path:
    """Write a PNG with one row per image of ``x`` (clean) / ``y`` (measured): ground truth,
    ``A^T y`` and ``net(y)``, with the PSNR of the last two against the first. ``operator`` is
    the data's own (where ``y`` lives); the network runs on ``device``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    x_hat = reconstruct(net, y, device).float()
    back = operator.adjoint(y).float()
    x = x.float()
    rows = len(x)
    fig, axes = plt.subplots(rows, 3, figsize=(7.5, 2.6 * rows), squeeze=False)
    for i in range(rows):
        panels = [
            ("ground truth", x[i]),
            ("measurement A^T y", back[i]),
            ("reconstruction", x_hat[i]),
        ]
        for j, (title, img) in enumerate(panels):
            ax = axes[i, j]
            top = data_range if not isinstance(data_range, str) else float(x[i].max())
            ax.imshow(img[0].clamp(0, top).numpy(), cmap="gray", vmin=0, vmax=top)
            if j:
                psnr = float(psnr_per_sample(img[None], x[i][None], data_range)[0])
                title = f"{title}\n{psnr:.2f} dB"
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
