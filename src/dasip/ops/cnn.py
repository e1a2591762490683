"""The small CNN ``F(x; theta)`` used by ``grad`` and ``net``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: the convolution and batch norm of each number of spatial dimensions (signals 1, images 2)
_LAYERS = {1: (nn.Conv1d, nn.BatchNorm1d), 2: (nn.Conv2d, nn.BatchNorm2d)}


def _layers(spatial_dims: int) -> tuple[type[nn.Module], type[nn.Module]]:
    if spatial_dims not in _LAYERS:
        raise ValueError(f"spatial_dims must be 1 or 2, got {spatial_dims}")
    return _LAYERS[spatial_dims]


def conv_class(spatial_dims: int) -> type[nn.Module]:
    """``nn.Conv1d`` for signals, ``nn.Conv2d`` for images."""
    return _layers(spatial_dims)[0]


def norm_class(spatial_dims: int) -> type[nn.Module]:
    """``nn.BatchNorm1d`` for signals, ``nn.BatchNorm2d`` for images."""
    return _layers(spatial_dims)[1]


class SmallCNN(nn.Sequential):
    """conv -> batch norm -> ReLU -> conv, hidden channels ``width`` (docs/method.md,
    Operations).

    The modules, parameters and state dict are those of the plain ``nn.Sequential``; for
    signals the forward pass computes the same function in a faster layout. A signal batch is
    short (``n`` = 50) and thin (1 channel), and oneDNN's 1D convolution spends its time on
    layout and call overhead there. Here each convolution is one matrix product over the
    ``batch * n`` positions (the first on the signal's sliding windows, the second followed by
    a shifted sum of its ``k`` taps), and batch norm and ReLU run on the
    ``(batch * n, width)`` activation, channels last (benchmarks/bench_trial.py times both).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3:
            return super().forward(x)
        conv1, bn, relu, conv2 = self
        batch, channels, n = x.shape
        k = conv1.kernel_size[0]
        pad = conv1.padding[0]
        # (batch, channels, n + 2 pad) -> windows (batch, n, channels * k)
        windows = F.pad(x, (pad, pad)).unfold(2, k, 1).permute(0, 2, 1, 3)
        windows = windows.reshape(batch * n, channels * k)
        h = torch.addmm(conv1.bias, windows, conv1.weight.reshape(conv1.out_channels, -1).t())
        h = relu(bn(h))
        # taps[p, o, j] = sum_c h[p, c] w2[o, c, j]; out[b, o, t] = sum_j taps[b, t + j - pad, o, j]
        out_channels = conv2.out_channels
        w2 = conv2.weight.permute(1, 0, 2).reshape(conv2.in_channels, out_channels * k)
        taps = (h @ w2).reshape(batch, n, out_channels, k)
        taps = F.pad(taps, (0, 0, 0, 0, pad, pad))
        out = conv2.bias + sum(taps[:, j : j + n, :, j] for j in range(k))
        return out.transpose(1, 2)


def small_cnn(channels: int, width: int, kernel_size: int, spatial_dims: int) -> SmallCNN:
    """conv -> batch norm -> ReLU -> conv, hidden channels ``width`` (docs/method.md,
    Operations)."""
    conv, bn = _layers(spatial_dims)
    pad = kernel_size // 2
    return SmallCNN(
        conv(channels, width, kernel_size, padding=pad),
        bn(width),
        nn.ReLU(),
        conv(width, channels, kernel_size, padding=pad),
    )
